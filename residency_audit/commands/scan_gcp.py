"""`residency-audit scan gcp`: Application Default Credentials, key files, impersonation, endpoints."""

from __future__ import annotations

import argparse

from ..model import ScanRequest
from .common import add_gcp_scope_options, add_output_options, add_rule_options, parse_list


def _ids(values: list[str] | None, prefix: str) -> list[str]:
    """Repeatable and comma-separated; `organizations/123` and `123` both accepted."""
    out: list[str] = []
    for value in values or []:
        for item in parse_list(value) or []:
            ident = item.removeprefix(f"{prefix}/")
            if ident not in out:
                out.append(ident)
    return out


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ..adapters.gcp import ALL_SERVICES, INVENTORY_MODES

    p = sub.add_parser(
        "gcp",
        help="scan Google Cloud projects",
        description="Scan Google Cloud projects, read-only. Credentials: Application Default Credentials "
        "(GOOGLE_APPLICATION_CREDENTIALS, 'gcloud auth application-default login', the metadata server), "
        "--credentials FILE, or --impersonate-service-account. Without a scope: every project the "
        "credentials can see.",
    )
    add_gcp_scope_options(p)
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


def parse_endpoints(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values or []:
        service, sep, url = value.partition("=")
        if not sep or "://" in service:
            service, url = "*", value
        out[service.strip()] = url.strip()
    return out


def run(args: argparse.Namespace) -> int:
    from ..providers import require

    require("gcp", "scan gcp")
    from ..adapters.gcp import ALL_SERVICES, GcpAdapter, check_endpoints
    from ..errors import UserError
    from .scan import execute

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
    orgs = _ids(args.organization, "organizations")
    folders = _ids(args.folder, "folders")
    projects = _ids(args.project, "projects")
    scopes = [f"organizations/{o}" for o in orgs] + [f"folders/{f}" for f in folders]
    scopes += [f"projects/{p}" for p in projects]
    request = ScanRequest(
        "gcp",
        scopes=tuple(scopes),
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
