"""`residency-audit permissions PROVIDER`: the least-privilege policy, derived, not written.

Each provider derives its policy from its read operations (`providers/<name>/kinds.py`:
every kind's reads, plus the organisation and guardrail reads), the same list its guard
enforces before sending anything, so the permissions a user grants and the calls the tool
can make cannot drift apart.
"""

from __future__ import annotations

import argparse
import re

from ..errors import UserError


class UnmappedOperation(UserError):
    """A read operation without a well-formed permission name: a bug, caught by the tests."""


def permissions_of(provider: str, pattern: re.Pattern[str]) -> list[str]:
    from ..providers import api

    out = set()
    for op in api(provider).read_operations():
        if not pattern.match(op.permission):
            raise UnmappedOperation(
                f"{provider}: {op.service}:{op.operation} has no valid permission ({op.permission!r})"
            )
        out.add(op.permission)
    return sorted(out)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ..cli import COMMANDS
    from ..providers import names

    p = sub.add_parser(
        "permissions",
        help=COMMANDS["permissions"],
        description="Print the minimal policy for a provider, derived from its read operations (scans, "
        "organisation scans and guardrail audits): an AWS IAM policy (JSON), a Google Cloud custom role "
        "(YAML for 'gcloud iam roles create --file') or an Azure custom role (JSON for "
        "'az role definition create').",
    )
    p.add_argument("provider", choices=names())
    p.add_argument(
        "--scope",
        default="/subscriptions/00000000-0000-0000-0000-000000000000",
        help="Azure only: assignable scope of the role (a subscription or management group id)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..providers import api

    print(api(args.provider).permissions(args), end="")
    return 0
