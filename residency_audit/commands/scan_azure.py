"""`residency-audit scan azure`: DefaultAzureCredential, sovereign clouds, an endpoint override."""

from __future__ import annotations

import argparse
import re

from ..model import ScanRequest
from .common import add_output_options, add_rule_options

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ..adapters.azure import CLOUDS, GRAPH_THRESHOLD, INVENTORY_MODES

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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..providers import require

    require("azure", "scan azure")
    from ..adapters.azure import AzureAdapter
    from ..errors import UserError
    from .scan import execute

    subscriptions: list[str] | None = None
    if args.subscription:
        subscriptions = [s.strip() for value in args.subscription for s in value.split(",") if s.strip()]
        bad = [s for s in subscriptions if not _GUID.match(s)]
        if bad:
            raise UserError(f"not a subscription id (expected a GUID): {', '.join(bad)}")
    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    scopes = subscriptions or ([f"mg:{args.management_group}"] if args.management_group else [])
    request = ScanRequest(
        "azure",
        scopes=tuple(scopes),
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
