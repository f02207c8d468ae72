"""`residency-audit guardrails aws|azure|gcp`: would the organisation's own controls stop
the next resource outside the EU?

AWS is read live (read-only). Azure and Google Cloud evaluate exported API JSON
(`--from-file`) until their live adapters land. All go through the normal scan
path: outputs, rules (rules/guardrails.yaml) and exit codes are those of `scan`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .common import add_output_options, add_rule_options, parse_list


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "guardrails",
        help="audit the preventive controls (SCPs, Azure Policy, GCP org policy) for EU-only",
        description="Audit whether the organisation's preventive controls (AWS service control policies, "
        "Azure Policy 'Allowed locations', the GCP gcp.resourceLocations organisation policy) actually "
        "restrict new resources to the EU, and which scope to fix where they do not.",
    )
    prov = p.add_subparsers(dest="provider", metavar="PROVIDER", required=True, parser_class=type(p))

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

    for name, what in (
        (
            "azure",
            "a JSON file with policyAssignments, policyExemptions, policyDefinitions, managementGroups, "
            "subscriptions (ARM list shapes)",
        ),
        (
            "gcp",
            "a JSON file with organizations, folders, projects (Resource Manager v3 shapes) and policies "
            "(Org Policy v2 shapes)",
        ),
    ):
        q = prov.add_parser(
            name,
            help=f"evaluate exported {name} policy JSON (--from-file)",
            description=f"Evaluate exported API JSON: {what}. Live reads follow when the {name} adapter lands.",
        )
        q.add_argument("--from-file", required=True, metavar="JSON", help=what)
        add_output_options(q)
        add_rule_options(q)
        q.set_defaults(func=run_from_file)


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
    from ..guardrails.aws import live_adapter
    from ..model import ScanRequest
    from .scan import execute

    kinds = estate_kinds(args)
    request = ScanRequest(
        "aws",
        scopes=[args.profile] if args.profile else [],
        options={"audit": "guardrails", "estate_kinds": kinds},
    )
    _, code = execute(args, request, lambda: live_adapter(args.profile, kinds))
    return code


def run_from_file(args: argparse.Namespace) -> int:
    from ..errors import UserError
    from ..guardrails import GuardrailAdapter
    from ..model import ScanRequest
    from .scan import execute

    path = Path(args.from_file)
    doc = _read_json(path)
    if not isinstance(doc, dict):
        raise UserError(f"{path}: expected a JSON object")
    from ..guardrails import InputError

    if args.provider == "azure":
        from ..guardrails import azure_policy as evaluator
    else:
        from ..guardrails import gcp_orgpolicy as evaluator  # type: ignore[no-redef]
    try:
        resources = evaluator.resources_from_export(doc)  # validate before the scan path starts
    except InputError as exc:
        raise UserError(f"{path}: {exc}") from None
    except (AttributeError, TypeError, KeyError) as exc:  # a field of the wrong JSON type
        raise UserError(f"{path}: unexpected shape in the export ({type(exc).__name__}: {exc})") from None
    request = ScanRequest(args.provider, scopes=[str(path)], options={"audit": "guardrails", "from_file": True})
    return execute(args, request, lambda: GuardrailAdapter(args.provider, lambda _c: resources))[1]
