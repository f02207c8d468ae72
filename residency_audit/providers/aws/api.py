"""The AWS provider's API for the rest of the tool (see `providers.ProviderApi`).

Light at import: boto3 is imported by the functions that talk to AWS.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import TYPE_CHECKING, Any

from .. import DemoPart, ProviderInfo, info
from ..base import Kind, ReadOperation, TargetWords, and_list, listed

if TYPE_CHECKING:
    from ...geography import Catalog
    from ...geography.drift import Drift
    from ...model import ScanRequest

#: An IAM action: service prefix and operation.
IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")

_INVENTORY_WORDS = {
    "explorer": "AWS Resource Explorer",
    "config": "AWS Config",
    "tagging": "the Tagging API",
    "services": "per-service listing",
}


def _path_words(path: str) -> str:
    if path.endswith(" (failed)"):
        return f"{_INVENTORY_WORDS.get(path[:-9], path[:-9])} (failed: a coverage gap)"
    return _INVENTORY_WORDS.get(path, path)


def inventory_words(inventory: dict[str, Any]) -> str:
    """The inventory path per account and region (`ACCOUNT/REGION` -> path), in words:
    "inventory: AWS Resource Explorer for account 1111 in 30 regions; per-service listing for
    account 1111 in 1 region (eu-south-2)"."""
    by_path: dict[str, dict[str, list[str]]] = {}
    for where, path in sorted(inventory.items()):
        account, _, region = str(where).partition("/")
        by_path.setdefault(_path_words(str(path)), {}).setdefault(account, []).append(region)
    parts = []
    for path, accounts in by_path.items():
        regions = sorted({r for rs in accounts.values() for r in rs})
        shown = f" ({listed(regions, 3)})" if len(regions) <= 3 else ""
        plural = "s" if len(regions) != 1 else ""
        if len(accounts) == 1:
            (account,) = accounts
            parts.append(f"{path} for account {account} in {len(regions)} region{plural}{shown}")
        else:
            pairs = sum(len(rs) for rs in accounts.values())
            parts.append(f"{path} for {len(accounts)} accounts ({pairs} account-regions)")
    return "inventory: " + "; ".join(parts)


class _Api:
    info: ProviderInfo = info("aws")

    def kinds(self) -> tuple[Kind, ...]:
        from .kinds import KINDS

        return KINDS

    def read_operations(self) -> tuple[ReadOperation, ...]:
        from .kinds import read_operations

        return read_operations()

    def register_scan(self, sub: Any) -> None:
        from .cli import register

        register(sub)

    def register_guardrails(self, sub: Any) -> None:
        from .cli import register_guardrails

        register_guardrails(sub)

    def permissions(self, args: argparse.Namespace) -> str:
        """An IAM identity policy allowing exactly the read operations of scans, organisation scans and
        guardrail audits, for the scanning role."""
        from ...commands.permissions import permissions_of

        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ResidencyAuditReadOnly",
                    "Effect": "Allow",
                    "Action": permissions_of("aws", IAM_ACTION),
                    "Resource": "*",
                }
            ],
        }
        return json.dumps(policy, indent=2) + "\n"

    def demo_part(self) -> DemoPart:
        from .demo import part

        return part

    def register_check_options(self, group: Any) -> None:
        """`regions --check` needs nothing of its own here."""

    def check_catalog(self, args: argparse.Namespace, catalog: Catalog) -> tuple[Drift, str]:
        from .. import require
        from .catalog import check_aws

        require("aws", "regions --check (it reads the installed botocore's region lists)")
        return check_aws(catalog), ""

    def describe(self, request: ScanRequest) -> TargetWords:
        opts = request.options
        if opts.get("organization"):
            total = opts.get("accounts_in_organization")
            of = f" of {total}" if total else ""
            what = f"organisation {opts['organization']} ({len(request.scopes)}{of} accounts"
            what += f", shard {opts['shard']})" if opts.get("shard") else ")"
        else:
            what = f"the account of {f'profile {request.scopes[0]}' if request.scopes else 'the default credentials'}"
        scope: list[str] = []
        if opts.get("audit") != "guardrails":
            regions = list(request.regions or ())
            scope.append(f"regions {and_list(regions)}" if regions else "every region enabled for the account")
            if opts.get("services"):
                scope.append("services " + ", ".join(opts["services"]))
        inventory = opts.get("inventory")
        if isinstance(inventory, dict) and inventory:
            scope.append(inventory_words(inventory))
        return TargetWords(what, tuple(scope))


PROVIDER = _Api()
