"""`residency-audit scan aws`: the standard boto3 credential chain, AWS_ENDPOINT_URL honoured."""

from __future__ import annotations

import argparse
import re

from ..model import ScanRequest
from .common import add_output_options, add_rule_options, parse_list

#: The shape of an AWS region code (eu-central-1, us-gov-west-1, eusc-de-east-1); unknown
#: but well-formed codes are scanned and fail closed in the rules (RA-EU-UNKNOWN).
_REGION_CODE = re.compile(r"[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ..adapters.aws import ALL_SERVICES

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
    add_output_options(p)
    add_rule_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..adapters.aws import ALL_SERVICES, AwsAdapter
    from ..errors import UserError
    from .scan import execute

    regions = parse_list(args.regions)
    services = tuple(parse_list(args.services) or ALL_SERVICES)
    unknown = sorted(set(services) - set(ALL_SERVICES))
    if unknown:
        raise UserError(f"unknown AWS service(s) {', '.join(unknown)} (known: {', '.join(ALL_SERVICES)})")
    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    bad = [r for r in regions or [] if not _REGION_CODE.fullmatch(r)]
    if bad:
        raise UserError(f"--regions: {bad[0]!r} is not an AWS region code (like eu-central-1)")
    request = ScanRequest(
        "aws", scopes=[args.profile] if args.profile else [], regions=regions, options={"services": list(services)}
    )
    _, code = execute(
        args,
        request,
        lambda: AwsAdapter.from_profile(args.profile, regions=regions, services=services, max_workers=args.workers),
    )
    return code
