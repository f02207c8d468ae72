"""`residency-audit scan aws`: the standard boto3 credential chain, AWS_ENDPOINT_URL honoured."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from ...commands.common import add_output_options, add_rule_options, check_regions, parse_list
from ...model import ScanRequest


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from .scan import ALL_SERVICES

    p = sub.add_parser(
        "aws",
        help="scan an AWS account",
        description="Scan an AWS account with the standard credential chain (profiles, SSO, environment, "
        "instance roles). AWS_ENDPOINT_URL points it at an emulator or a private endpoint.",
    )
    p.add_argument("--profile", help="named profile from the AWS config")
    p.add_argument("--regions", help="comma-separated regions (default: every region enabled for the account)")
    p.add_argument("--services", help=f"comma-separated services (default: {','.join(ALL_SERVICES)})")
    p.add_argument("--workers", type=int, default=16, help="parallel API workers (default: 16)")
    p.add_argument(
        "--inventory",
        choices=("auto", "explorer", "config", "tagging", "services"),
        default="auto",
        help="how every resource of every type is listed: Resource Explorer's aggregator index, AWS Config, the "
        "Tagging API, or the per-service readers alone (default: auto, the first usable in that order); the "
        "path used per account and region is in the report, and what it cannot see is a coverage gap",
    )
    add_organization_options(p)
    add_output_options(p)
    add_rule_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import require

    require("aws", "scan aws")
    from ...commands.scan import execute
    from ...errors import UserError
    from .scan import ALL_SERVICES, AwsAdapter

    regions = parse_list(args.regions)
    services = tuple(parse_list(args.services) or ALL_SERVICES)
    unknown = sorted(set(services) - set(ALL_SERVICES))
    if unknown:
        raise UserError(f"unknown AWS service(s) {', '.join(unknown)} (known: {', '.join(ALL_SERVICES)})")
    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    check_regions("aws", regions, also_known=botocore_regions() if regions else ())
    if regions:
        regions = [r.lower() for r in regions]  # AWS region codes are lower-case; EU-WEST-1 means eu-west-1
    request = ScanRequest(
        "aws",
        scopes=(args.profile,) if args.profile else (),
        regions=tuple(regions) if regions is not None else None,
        options={
            "services": list(services),
            **({"inventory_mode": args.inventory} if args.inventory != "auto" else {}),
        },
    )
    if args.organization or any(getattr(args, o) for o in _ORG_ONLY):
        return run_organization(args, request, regions, services)
    _, code = execute(
        args,
        request,
        lambda: AwsAdapter.from_profile(
            args.profile, regions=regions, services=services, max_workers=args.workers, inventory=args.inventory
        ),
    )
    return code


def botocore_regions() -> set[str]:
    """Every region of every partition botocore knows (its bundled endpoints.json): a region
    newer than the catalog but known to the installed SDK is scanned, and fails closed in the rules."""
    import botocore.loaders

    # The loader alone, not a session: a session would read the AWS config file here,
    # before the scan gets to report a broken one properly.
    data = botocore.loaders.create_loader().load_data("endpoints")
    return {code for part in data.get("partitions", []) for code in part.get("regions", {})}


# ------------------------------------------------------------------ --organization

_ORG_ONLY = ("accounts", "exclude_accounts", "shard", "shard_group", "external_id")


def add_organization_options(p: argparse.ArgumentParser) -> None:
    from .org import DEFAULT_ROLE

    g = p.add_argument_group("organisation")
    g.add_argument(
        "--organization",
        action="store_true",
        help="scan every account of the AWS Organization (run from the management account or a delegated "
        "administrator; member accounts through --role-name)",
    )
    g.add_argument(
        "--role-name", default=DEFAULT_ROLE, help=f"role assumed in each member account (default: {DEFAULT_ROLE})"
    )
    g.add_argument("--external-id", help="external id for the role assumption")
    g.add_argument("--accounts", help="comma-separated account ids or names to scan (default: all)")
    g.add_argument("--exclude-accounts", help="comma-separated account ids or names to leave out")
    g.add_argument(
        "--shard",
        metavar="I/N",
        help="scan only shard I of N (1-based, round-robin over the sorted, filtered account list)",
    )
    g.add_argument(
        "--shard-group",
        metavar="ID",
        help="id shared by all shards of one run, for merging (default: derived from organisation, N and filters; "
        "pass a run id to tell scheduled runs apart)",
    )


def run_organization(
    args: argparse.Namespace, request: ScanRequest, regions: list[str] | None, services: tuple[str, ...]
) -> int:
    from ...commands.scan import execute
    from ...errors import UserError
    from .org import OrganizationAdapter, Shard
    from .scan import AwsAdapter

    if not args.organization:
        given = [f"--{o.replace('_', '-')}" for o in _ORG_ONLY if getattr(args, o)]
        raise UserError(f"{', '.join(given)} needs --organization")
    shard = Shard.parse(args.shard) if args.shard else None
    if args.shard_group and not shard:
        raise UserError("--shard-group needs --shard")
    if not args.role_name.strip():
        raise UserError("--role-name must not be empty")
    options = {**request.options, "role_name": args.role_name}
    if args.accounts:
        options["accounts"] = parse_list(args.accounts)
    if args.exclude_accounts:
        options["exclude_accounts"] = parse_list(args.exclude_accounts)
    if shard:
        options.update(shard=str(shard), shard_index=shard.index, shard_count=shard.count)
        if args.shard_group:
            options["shard_group"] = args.shard_group
    request = dataclasses.replace(request, options=options)

    def make() -> OrganizationAdapter:
        base = AwsAdapter.from_profile(args.profile, regions=regions, services=services, max_workers=args.workers)
        return OrganizationAdapter(
            targets=base.targets,
            regions=regions,
            services=services,
            max_workers=args.workers,
            role_name=args.role_name,
            external_id=args.external_id,
            include=parse_list(args.accounts),
            exclude=parse_list(args.exclude_accounts),
            shard=shard,
            shard_group=args.shard_group,
            inventory=args.inventory,
        )

    _, code = execute(args, request, make)
    return code


# ------------------------------------------------------------------ guardrails aws


def register_guardrails(prov: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    a.set_defaults(func=run_guardrails)


def _estate_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("estate")
    g.add_argument(
        "--estate",
        metavar="REPORT",
        help="a scan's JSON report: says which exempted global services the estate actually uses",
    )
    g.add_argument("--estate-kinds", metavar="KINDS", help="comma-separated resource kinds the estate uses")


def estate_kinds(args: argparse.Namespace) -> list[str] | None:
    from ...commands.guardrails import read_json
    from ...errors import UserError

    kinds: list[str] | None = None
    if getattr(args, "estate", None):
        doc = read_json(Path(args.estate))
        resources = doc.get("resources") if isinstance(doc, dict) else None
        if not isinstance(resources, list):
            raise UserError(f"{args.estate}: not a residency-audit JSON report (no 'resources' list)")
        kinds = sorted({str(r.get("kind")) for r in resources if isinstance(r, dict) and r.get("kind")})
    if getattr(args, "estate_kinds", None):
        kinds = sorted(set(kinds or []) | set(parse_list(args.estate_kinds) or []))
    return kinds


def run_guardrails(args: argparse.Namespace) -> int:
    from .. import require

    require("aws", "guardrails aws")
    from ...commands.scan import execute
    from .guardrails import live_adapter

    kinds = estate_kinds(args)
    request = ScanRequest(
        "aws",
        scopes=(args.profile,) if args.profile else (),
        options={"audit": "guardrails", "estate_kinds": kinds},
    )
    _, code = execute(args, request, lambda: live_adapter(args.profile, kinds))
    return code
