"""The AWS provider's API for the rest of the tool (see `providers.ProviderApi`).

Light at import: boto3 is imported by the functions that talk to AWS.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from .. import DemoPart, ProviderInfo, info
from ..base import Kind, ReadOperation

if TYPE_CHECKING:
    from ...geography import Catalog
    from ...geography.drift import Drift


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
        from ...commands.permissions import IAM_ACTION, permissions_of

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

    def check_catalog(self, args: argparse.Namespace, catalog: Catalog) -> tuple[Drift, str]:
        from ...errors import UserError
        from ...geography.drift import check_aws
        from .. import require

        require("aws", "regions --check (it reads the installed botocore's region lists)")
        if getattr(args, "subscription", None) or getattr(args, "endpoint", None) or args.cloud != "public":
            raise UserError("--subscription, --cloud and --endpoint only go with --check --provider azure")
        return check_aws(catalog), ""


PROVIDER = _Api()
