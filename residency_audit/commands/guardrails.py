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

from .common import add_output_options, add_rule_options

if TYPE_CHECKING:
    from ..model import Resource


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ..cli import COMMANDS

    p = sub.add_parser(
        "guardrails",
        help=COMMANDS["guardrails"],
        description="Audit whether the organisation's preventive controls (AWS service control policies, "
        "Azure Policy 'Allowed locations', the GCP gcp.resourceLocations organisation policy) actually "
        "restrict new resources to the EU, and which scope to fix where they do not.",
    )
    prov = p.add_subparsers(dest="provider", metavar="PROVIDER", required=True, parser_class=type(p))
    from ..providers import api, names

    for name in names():
        api(name).register_guardrails(prov)


def register_azure(prov: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ..adapters.azure import CLOUDS

    z = prov.add_parser(
        "azure",
        help="evaluate Azure Policy 'Allowed locations' (live, read-only; or --from-file)",
        description="Read Azure Policy assignments, exemptions and the custom definitions they name at "
        "management-group, subscription and resource-group scope (read-only, DefaultAzureCredential) and "
        "compute the locations each subscription still allows. With no --subscription or --management-group: "
        "every subscription the credential can list.",
    )
    zs = z.add_mutually_exclusive_group()
    zs.add_argument(
        "--subscription", action="append", metavar="ID", help="subscription id (repeatable, or comma-separated)"
    )
    zs.add_argument("--management-group", metavar="ID", help="every subscription under this management group")
    zs.add_argument("--from-file", metavar="JSON", help=f"evaluate an export instead: {_AZURE_EXPORT}")
    z.add_argument("--cloud", choices=tuple(CLOUDS), default="public", help="which Azure cloud")
    z.add_argument("--endpoint", metavar="URL", help="ARM base URL override (a private endpoint or a test server)")
    add_output_options(z)
    add_rule_options(z)
    z.set_defaults(func=run_azure)


_AZURE_EXPORT = (
    "a JSON file with policyAssignments, policyExemptions, policyDefinitions, managementGroups, "
    "subscriptions (ARM list shapes)"
)


def read_json(path: Path) -> Any:
    from ..errors import UserError

    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None


def run_from_file(args: argparse.Namespace, evaluate: Callable[[dict[str, Any]], list[Resource]] | None = None) -> int:
    """`guardrails PROVIDER --from-file`: the provider's evaluator over an exported JSON document."""
    from ..errors import UserError
    from ..guardrails import GuardrailAdapter
    from ..model import ScanRequest
    from .scan import execute

    path = Path(args.from_file)
    doc = read_json(path)
    if not isinstance(doc, dict):
        raise UserError(f"{path}: expected a JSON object")
    from ..guardrails import InputError

    if evaluate is None:  # Azure, until it is a provider package
        from ..guardrails.azure_policy import resources_from_export

        evaluate = resources_from_export
    try:
        resources = evaluate(doc)  # validate before the scan path starts
    except InputError as exc:
        raise UserError(f"{path}: {exc}") from None
    except (AttributeError, TypeError, KeyError) as exc:  # a field of the wrong JSON type
        raise UserError(f"{path}: unexpected shape in the export ({type(exc).__name__}: {exc})") from None
    request = ScanRequest(args.provider, scopes=(str(path),), options={"audit": "guardrails", "from_file": True})
    return execute(args, request, lambda: GuardrailAdapter(args.provider, lambda _c: resources))[1]


def run_azure(args: argparse.Namespace) -> int:
    from ..errors import UserError
    from ..model import ScanRequest
    from .scan import execute
    from .scan_azure import _GUID

    if args.from_file:
        if args.endpoint or args.cloud != "public":
            raise UserError("--from-file cannot be combined with --endpoint or --cloud")
        return run_from_file(args)
    from ..providers import require

    require("azure", "guardrails azure")
    from ..adapters.azure import AzureAdapter
    from ..guardrails.azure_live import live_adapter

    subscriptions = [s.strip() for v in args.subscription or [] for s in v.split(",") if s.strip()] or None
    bad = [s for s in subscriptions or [] if not _GUID.match(s)]
    if bad:
        raise UserError(f"not a subscription id (expected a GUID): {', '.join(bad)}")
    scopes = subscriptions or ([f"mg:{args.management_group}"] if args.management_group else [])
    request = ScanRequest(
        "azure",
        scopes=tuple(scopes),
        options={"audit": "guardrails", "cloud": args.cloud, **({"endpoint": args.endpoint} if args.endpoint else {})},
    )

    def make() -> Any:
        adapter = AzureAdapter.from_environment(
            cloud=args.cloud,
            endpoint=args.endpoint,
            subscriptions=subscriptions,
            management_group=args.management_group,
            inventory="arm",
        )
        return live_adapter(adapter)

    return execute(args, request, make)[1]
