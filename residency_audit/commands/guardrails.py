"""`residency-audit guardrails aws|azure|gcp`: would the organisation's own controls stop
the next resource outside the EU?

All three are read live, read-only, through their scan adapter's credentials and
allow-list; Azure and Google Cloud also evaluate exported API JSON (`--from-file`).
All go through the normal scan path: outputs, rules (rules/guardrails.yaml) and
exit codes are those of `scan` (an unreadable scope is a gap: exit 3).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import add_gcp_scope_options, add_output_options, add_rule_options, parse_list

if TYPE_CHECKING:
    from ..model import Resource


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "guardrails",
        help="audit the preventive controls (SCPs, Azure Policy, GCP org policy) for EU-only",
        description="Audit whether the organisation's preventive controls (AWS service control policies, "
        "Azure Policy 'Allowed locations', the GCP gcp.resourceLocations organisation policy) actually "
        "restrict new resources to the EU, and which scope to fix where they do not.",
    )
    prov = p.add_subparsers(dest="provider", metavar="PROVIDER", required=True, parser_class=type(p))
    from ..providers import api, names

    for name in names():
        api(name).register_guardrails(prov)


def register_aws(prov: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    a = prov.add_parser(
        "aws",
        help="evaluate the Organization's SCPs (live, read-only)",
        description="Read the AWS Organization's tree and service control policies (read-only; run from the "
        "management account or a delegated administrator) and compute, per account, the regions the "
        "SCPs still allow.",
    )
    a.add_argument("--profile", help="named profile from the AWS config")
    _estate_options(a)
    add_output_options(a)
    add_rule_options(a)
    a.set_defaults(func=run_aws)


def register_gcp(prov: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    g = prov.add_parser(
        "gcp",
        help="evaluate the gcp.resourceLocations organisation policy (live, read-only; or --from-file)",
        description="Read the gcp.resourceLocations policy set on the organisation, every folder and every "
        "project in scope (Org Policy v2, read-only) and compute the locations each project still allows. "
        "Without a scope: every project the credentials can see.",
    )
    add_gcp_scope_options(g)
    g.add_argument("--from-file", metavar="JSON", help=f"evaluate an export instead: {_GCP_EXPORT}")
    ga = g.add_argument_group("credentials and endpoints")
    ga.add_argument("--credentials", metavar="FILE", help="service-account key or ADC file (default: ADC)")
    ga.add_argument(
        "--endpoint", action="append", metavar="[SERVICE=]URL", help="API base URL for every service, or for one"
    )
    ga.add_argument("--anonymous", action="store_true", help="send no credentials (emulators; needs --endpoint)")
    add_output_options(g)
    add_rule_options(g)
    g.set_defaults(func=run_gcp)


_GCP_EXPORT = (
    "a JSON file with organizations, folders, projects (Resource Manager v3 shapes) and policies (Org Policy v2 shapes)"
)


def _estate_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("estate")
    g.add_argument(
        "--estate",
        metavar="REPORT",
        help="a scan's JSON report: says which exempted global services the estate actually uses",
    )
    g.add_argument("--estate-kinds", metavar="KINDS", help="comma-separated resource kinds the estate uses")


def estate_kinds(args: argparse.Namespace) -> list[str] | None:
    from ..errors import UserError

    kinds: list[str] | None = None
    if getattr(args, "estate", None):
        doc = _read_json(Path(args.estate))
        resources = doc.get("resources") if isinstance(doc, dict) else None
        if not isinstance(resources, list):
            raise UserError(f"{args.estate}: not a residency-audit JSON report (no 'resources' list)")
        kinds = sorted({str(r.get("kind")) for r in resources if isinstance(r, dict) and r.get("kind")})
    if getattr(args, "estate_kinds", None):
        kinds = sorted(set(kinds or []) | set(parse_list(args.estate_kinds) or []))
    return kinds


def _read_json(path: Path) -> Any:
    from ..errors import UserError

    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None


def run_aws(args: argparse.Namespace) -> int:
    from ..providers import require

    require("aws", "guardrails aws")
    from ..guardrails.aws import live_adapter
    from ..model import ScanRequest
    from .scan import execute

    kinds = estate_kinds(args)
    request = ScanRequest(
        "aws",
        scopes=(args.profile,) if args.profile else (),
        options={"audit": "guardrails", "estate_kinds": kinds},
    )
    _, code = execute(args, request, lambda: live_adapter(args.profile, kinds))
    return code


def run_from_file(args: argparse.Namespace, evaluate: Callable[[dict[str, Any]], list[Resource]] | None = None) -> int:
    """`guardrails PROVIDER --from-file JSON`: `evaluate` turns the provider's export into guardrail records."""
    from ..errors import UserError
    from ..guardrails import GuardrailAdapter
    from ..model import ScanRequest
    from .scan import execute

    path = Path(args.from_file)
    doc = _read_json(path)
    if not isinstance(doc, dict):
        raise UserError(f"{path}: expected a JSON object")
    from ..guardrails import InputError

    if evaluate is None:
        from ..guardrails.gcp_orgpolicy import resources_from_export

        evaluate = resources_from_export
    try:
        resources = evaluate(doc)  # validate before the scan path starts
    except InputError as exc:
        raise UserError(f"{path}: {exc}") from None
    except (AttributeError, TypeError, KeyError) as exc:  # a field of the wrong JSON type
        raise UserError(f"{path}: unexpected shape in the export ({type(exc).__name__}: {exc})") from None
    request = ScanRequest(args.provider, scopes=(str(path),), options={"audit": "guardrails", "from_file": True})
    return execute(args, request, lambda: GuardrailAdapter(args.provider, lambda _c: resources))[1]


def run_gcp(args: argparse.Namespace) -> int:
    from ..errors import UserError
    from ..model import ScanRequest
    from .scan import execute
    from .scan_gcp import _ids, parse_endpoints

    if args.from_file:
        if args.organization or args.folder or args.project or args.endpoint or args.anonymous or args.credentials:
            raise UserError("--from-file cannot be combined with a scope, --endpoint, --anonymous or --credentials")
        return run_from_file(args)
    from ..providers import require

    require("gcp", "guardrails gcp")
    from ..adapters.gcp import GcpAdapter, check_endpoints
    from ..guardrails.gcp_live import live_adapter

    endpoints = parse_endpoints(args.endpoint)
    if args.anonymous and not endpoints:
        raise UserError("--anonymous needs --endpoint (Google's own APIs do not answer anonymous calls)")
    if args.anonymous and args.credentials:
        raise UserError("--anonymous cannot be combined with --credentials")
    check_endpoints(endpoints, args.anonymous)
    orgs, folders = _ids(args.organization, "organizations"), _ids(args.folder, "folders")
    projects = _ids(args.project, "projects")
    scopes = [f"organizations/{o}" for o in orgs] + [f"folders/{f}" for f in folders]
    scopes += [f"projects/{p}" for p in projects]
    request = ScanRequest(
        "gcp",
        scopes=tuple(scopes),
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
