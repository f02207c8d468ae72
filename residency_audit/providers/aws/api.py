"""The aws provider's API for the rest of the tool (see `providers.ProviderApi`).

Light at import: the SDK is imported by the functions that talk to the cloud.
"""

from __future__ import annotations

import argparse
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
        from ...commands.scan_aws import register

        register(sub)

    def register_guardrails(self, sub: Any) -> None:
        from ...commands.guardrails import register_aws

        register_aws(sub)

    def permissions(self, args: argparse.Namespace) -> str:
        from ...commands.permissions import document_aws

        return document_aws(args)

    def demo_part(self) -> DemoPart:
        from ...commands.demo import aws_part

        return aws_part

    def check_catalog(self, args: argparse.Namespace, catalog: Catalog) -> tuple[Drift, str]:
        from ...geography.drift import check_aws

        _only_azure_options(args)
        return check_aws(catalog), ""


def _only_azure_options(args: argparse.Namespace) -> None:
    if (
        getattr(args, "subscription", None)
        or getattr(args, "endpoint", None)
        or getattr(args, "cloud", "public") != "public"
    ):
        from ...errors import UserError

        raise UserError("--subscription, --cloud and --endpoint only go with --check --provider azure")


PROVIDER = _Api()
