"""`residency-audit scan gcp` and `guardrails gcp`: Application Default Credentials, key
files, impersonation, endpoints, and the organisation / folder / project scope."""

from __future__ import annotations

import argparse
from typing import Any

from ...commands.common import add_output_options, add_rule_options, parse_list
from ...model import ScanRequest


def add_scope_options(p: argparse.ArgumentParser) -> None:
    """The Google Cloud scope flags, the same for a scan and a guardrail audit."""
    g = p.add_argument_group("scope (repeatable, comma-separated; default: every visible project)")
    g.add_argument("--organization", action="append", metavar="ID", help="every project under an organisation")
    g.add_argument("--folder", action="append", metavar="ID", help="every project under a folder (at any depth)")
    g.add_argument("--project", action="append", metavar="ID", help="a project id")


def _ids(values: list[str] | None, prefix: str) -> list[str]:
    """Repeatable and comma-separated; `organizations/123` and `123` both accepted."""
    out: list[str] = []
    for value in values or []:
        for item in parse_list(value) or []:
            ident = item.removeprefix(f"{prefix}/")
            if ident not in out:
                out.append(ident)
    return out


def _scope(args: argparse.Namespace) -> tuple[list[str], list[str], list[str], tuple[str, ...]]:
    """(organisations, folders, projects, the request's scopes)."""
    orgs, folders = _ids(args.organization, "organizations"), _ids(args.folder, "folders")
    projects = _ids(args.project, "projects")
    scopes = [f"organizations/{o}" for o in orgs] + [f"folders/{f}" for f in folders]
    scopes += [f"projects/{p}" for p in projects]
    return orgs, folders, projects, tuple(scopes)


def parse_endpoints(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values or []:
        service, sep, url = value.partition("=")
        if not sep or "://" in service:
            service, url = "*", value
        out[service.strip()] = url.strip()
    return out


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from .scan import ALL_SERVICES, INVENTORY_MODES

    p = sub.add_parser(
        "gcp",
        help="scan Google Cloud projects",
        description="Scan Google Cloud projects, read-only. Credentials: Application Default Credentials "
        "(GOOGLE_APPLICATION_CREDENTIALS, 'gcloud auth application-default login', the metadata server), "
        "--credentials FILE, or --impersonate-service-account. Without a scope: every project the "
        "credentials can see.",
    )
    add_scope_options(p)
    auth = p.add_argument_group("credentials and endpoints")
    auth.add_argument("--credentials", metavar="FILE", help="service-account key or ADC file (default: ADC)")
    auth.add_argument("--impersonate-service-account", metavar="EMAIL", help="scan as this service account")
    auth.add_argument("--quota-project", metavar="ID", help="project billed for API quota (user credentials)")
    auth.add_argument(
        "--endpoint",
        action="append",
        metavar="[SERVICE=]URL",
        help="API base URL for every service, or for one (e.g. storage=https://storage-psc.p.googleapis.com); "
        "private service connect and emulators",
    )
    auth.add_argument("--anonymous", action="store_true", help="send no credentials (emulators; needs --endpoint)")
    p.add_argument(
        "--inventory",
        choices=INVENTORY_MODES,
        default="auto",
        help="auto: Cloud Asset Inventory per scope where enabled, else per-service listing (default); "
        "asset: Asset Inventory only; services: per-service listing only",
    )
    p.add_argument("--services", help=f"comma-separated services (default: {','.join(ALL_SERVICES)})")
    p.add_argument("--workers", type=int, default=8, help="parallel API workers (default: 8)")
    add_output_options(p)
    add_rule_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import require

    require("gcp", "scan gcp")
    from ...commands.scan import execute
    from ...errors import UserError
    from .client import check_endpoints
    from .scan import ALL_SERVICES, GcpAdapter

    services = tuple(parse_list(args.services) or ALL_SERVICES)
    unknown = sorted(set(services) - set(ALL_SERVICES))
    if unknown:
        raise UserError(f"unknown Google Cloud service(s) {', '.join(unknown)} (known: {', '.join(ALL_SERVICES)})")
    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    endpoints = parse_endpoints(args.endpoint)
    if args.anonymous and not endpoints:
        raise UserError("--anonymous needs --endpoint (Google's own APIs do not answer anonymous list calls)")
    if args.anonymous and (args.credentials or args.impersonate_service_account):
        raise UserError("--anonymous cannot be combined with --credentials or --impersonate-service-account")
    check_endpoints(endpoints, args.anonymous)
    orgs, folders, projects, scopes = _scope(args)
    request = ScanRequest(
        "gcp",
        scopes=scopes,
        options={
            "services": list(services),
            "inventory_mode": args.inventory,
            "anonymous": bool(args.anonymous),
            "endpoints": dict(endpoints),
        },
    )

    def make() -> GcpAdapter:
        return GcpAdapter.create(
            credentials_file=args.credentials,
            impersonate=args.impersonate_service_account,
            anonymous=args.anonymous,
            organizations=orgs,
            folders=folders,
            projects=projects,
            services=services,
            inventory=args.inventory,
            endpoints=endpoints,
            max_workers=args.workers,
            quota_project=args.quota_project,
        )

    _, code = execute(args, request, make)
    return code


# ------------------------------------------------------------------ guardrails gcp

_EXPORT = (
    "a JSON file with organizations, folders, projects (Resource Manager v3 shapes) and policies (Org Policy v2 shapes)"
)


def register_guardrails(prov: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    g = prov.add_parser(
        "gcp",
        help="evaluate the gcp.resourceLocations organisation policy (live, read-only; or --from-file)",
        description="Read the gcp.resourceLocations policy set on the organisation, every folder and every "
        "project in scope (Org Policy v2, read-only) and compute the locations each project still allows. "
        "Without a scope: every project the credentials can see.",
    )
    add_scope_options(g)
    g.add_argument("--from-file", metavar="JSON", help=f"evaluate an export instead: {_EXPORT}")
    ga = g.add_argument_group("credentials and endpoints")
    ga.add_argument("--credentials", metavar="FILE", help="service-account key or ADC file (default: ADC)")
    ga.add_argument(
        "--endpoint", action="append", metavar="[SERVICE=]URL", help="API base URL for every service, or for one"
    )
    ga.add_argument("--anonymous", action="store_true", help="send no credentials (emulators; needs --endpoint)")
    add_output_options(g)
    add_rule_options(g)
    g.set_defaults(func=run_guardrails)


def run_guardrails(args: argparse.Namespace) -> int:
    from ...commands.guardrails import run_from_file
    from ...commands.scan import execute
    from ...errors import UserError

    if args.from_file:
        if args.organization or args.folder or args.project or args.endpoint or args.anonymous or args.credentials:
            raise UserError("--from-file cannot be combined with a scope, --endpoint, --anonymous or --credentials")
        from .orgpolicy import resources_from_export

        return run_from_file(args, resources_from_export)
    from .. import require

    require("gcp", "guardrails gcp")
    from .client import check_endpoints
    from .guardrails import live_adapter
    from .scan import GcpAdapter

    endpoints = parse_endpoints(args.endpoint)
    if args.anonymous and not endpoints:
        raise UserError("--anonymous needs --endpoint (Google's own APIs do not answer anonymous calls)")
    if args.anonymous and args.credentials:
        raise UserError("--anonymous cannot be combined with --credentials")
    check_endpoints(endpoints, args.anonymous)
    orgs, folders, projects, scopes = _scope(args)
    request = ScanRequest(
        "gcp",
        scopes=scopes,
        options={"audit": "guardrails", "anonymous": bool(args.anonymous), "endpoints": dict(endpoints)},
    )

    def make() -> Any:
        adapter = GcpAdapter.create(
            credentials_file=args.credentials,
            anonymous=args.anonymous,
            organizations=orgs,
            folders=folders,
            projects=projects,
            endpoints=endpoints,
        )
        return live_adapter(adapter)

    return execute(args, request, make)[1]
