"""The AWS provider's API for the rest of the tool (see `providers.ProviderApi`).

Light at import: boto3 is imported by the functions that talk to AWS.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import TYPE_CHECKING, Any

from .. import DemoPart, ProviderInfo, info
from ..base import Kind, ReadOperation, TargetWords, and_list

if TYPE_CHECKING:
    from ...geography import Catalog
    from ...geography.drift import Drift
    from ...model import ScanRequest

#: An IAM action: service prefix and operation.
IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")


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
        return TargetWords(what, tuple(scope))


PROVIDER = _Api()
