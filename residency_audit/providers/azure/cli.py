"""`scan azure`, `guardrails azure` and `regions --check --provider azure`.

Registration is light (no SDK): `--help` and the gate must not pay for azure-identity.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

from ...commands.common import add_output_options, add_rule_options
from ...errors import UserError
from ...model import ScanRequest

if TYPE_CHECKING:
    from ...geography import Catalog
    from ...geography.drift import Drift

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

_EXPORT = (
    "a JSON file with policyAssignments, policyExemptions, policyDefinitions, managementGroups, "
    "subscriptions (ARM list shapes)"
)


def _subscriptions(values: list[str] | None) -> list[str] | None:
    """`--subscription` values (repeatable, or comma-separated), each a GUID."""
    subscriptions = [s.strip() for v in values or [] for s in v.split(",") if s.strip()] or None
    bad = [s for s in subscriptions or [] if not _GUID.match(s)]
    if bad:
        raise UserError(f"not a subscription id (expected a GUID): {', '.join(bad)}")
    return subscriptions


def _scopes(subscriptions: list[str] | None, management_group: str | None) -> tuple[str, ...]:
    return tuple(subscriptions or ([f"mg:{management_group}"] if management_group else []))


# ------------------------------------------------------------------------------ scan azure


def register_scan(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from .client import CLOUDS
    from .scan import GRAPH_THRESHOLD, INVENTORY_MODES

    p = sub.add_parser(
        "azure",
        help="scan Azure subscriptions",
        description="Scan Azure subscriptions with DefaultAzureCredential (environment variables, workload "
        "identity, managed identity, Azure CLI login). With no --subscription or --management-group, every "
        "subscription the credential can list is scanned. TLS verification stays on: trust a private CA "
        "with REQUESTS_CA_BUNDLE.",
    )
    scope = p.add_mutually_exclusive_group()
    scope.add_argument(
        "--subscription",
        action="append",
        metavar="ID",
        help="subscription id to scan (repeatable, or comma-separated)",
    )
    scope.add_argument("--management-group", metavar="ID", help="scan every subscription under this management group")
    p.add_argument(
        "--cloud", choices=tuple(CLOUDS), default="public", help="which Azure cloud (ARM endpoint and login authority)"
    )
    p.add_argument("--endpoint", metavar="URL", help="ARM base URL override (a private endpoint or a test server)")
    p.add_argument(
        "--inventory",
        choices=INVENTORY_MODES,
        default="auto",
        help=f"arm: list every subscription; graph: one Resource Graph query; auto (default): graph for more than "
        f"{GRAPH_THRESHOLD} subscriptions",
    )
    p.add_argument("--workers", type=int, default=8, help="parallel API workers (default: 8)")
    add_output_options(p)
    add_rule_options(p)
    p.set_defaults(func=run_scan)


def run_scan(args: argparse.Namespace) -> int:
    from .. import require

    require("azure", "scan azure")
    from ...commands.scan import execute
    from .scan import AzureAdapter

    subscriptions = _subscriptions(args.subscription)
    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    request = ScanRequest(
        "azure",
        scopes=_scopes(subscriptions, args.management_group),
        options={
            "cloud": args.cloud,
            "inventory": args.inventory,
            **({"endpoint": args.endpoint} if args.endpoint else {}),
        },
    )
    _, code = execute(
        args,
        request,
        lambda: AzureAdapter.from_environment(
            cloud=args.cloud,
            endpoint=args.endpoint,
            subscriptions=subscriptions,
            management_group=args.management_group,
            inventory=args.inventory,
            max_workers=args.workers,
        ),
    )
    return code


# ------------------------------------------------------------------------------ guardrails azure


def register_guardrails(prov: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from .client import CLOUDS

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
    zs.add_argument("--from-file", metavar="JSON", help=f"evaluate an export instead: {_EXPORT}")
    z.add_argument("--cloud", choices=tuple(CLOUDS), default="public", help="which Azure cloud")
    z.add_argument("--endpoint", metavar="URL", help="ARM base URL override (a private endpoint or a test server)")
    add_output_options(z)
    add_rule_options(z)
    z.set_defaults(func=run_guardrails)


def run_guardrails(args: argparse.Namespace) -> int:
    from ...commands.scan import execute

    if args.from_file:
        from ...commands.guardrails import run_from_file
        from .policy import resources_from_export

        if args.endpoint or args.cloud != "public":
            raise UserError("--from-file cannot be combined with --endpoint or --cloud")
        return run_from_file(args, resources_from_export)
    from .. import require

    require("azure", "guardrails azure")
    from .guardrails import live_adapter
    from .scan import AzureAdapter

    subscriptions = _subscriptions(args.subscription)
    request = ScanRequest(
        "azure",
        scopes=_scopes(subscriptions, args.management_group),
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


# ------------------------------------------------------------------------------ regions --check


def check_catalog(args: argparse.Namespace, catalog: Catalog) -> tuple[Drift, str]:
    """list-locations through the scan's own Azure adapter (credentials, read-only guard, endpoint)."""
    from ...core import Collector
    from ...model import Scan
    from .catalog import check_azure
    from .scan import AzureAdapter

    subscriptions = None
    if args.subscription:
        if not _GUID.match(args.subscription.strip()):
            raise UserError(f"not a subscription id (expected a GUID): {args.subscription}")
        subscriptions = [args.subscription.strip()]
    adapter = AzureAdapter.from_environment(cloud=args.cloud, endpoint=args.endpoint, subscriptions=subscriptions)
    collector = Collector(Scan(ScanRequest("azure", options={"check": "locations"})))
    locations = adapter.list_locations(collector)
    drift = check_azure(catalog, locations, cloud=args.cloud)
    if locations:
        return drift, ""
    why = "; ".join([*(g.error for g in collector.scan.gaps), *collector.scan.notes]) or "no location listed"
    return drift, f"azure: no subscription's list-locations could be read ({why})"
