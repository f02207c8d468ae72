"""The azure provider's API for the rest of the tool (see `providers.ProviderApi`).

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
    info: ProviderInfo = info("azure")

    def kinds(self) -> tuple[Kind, ...]:
        from .kinds import KINDS

        return KINDS

    def read_operations(self) -> tuple[ReadOperation, ...]:
        from .kinds import read_operations

        return read_operations()

    def register_scan(self, sub: Any) -> None:
        from ...commands.scan_azure import register

        register(sub)

    def register_guardrails(self, sub: Any) -> None:
        from ...commands.guardrails import register_azure

        register_azure(sub)

    def permissions(self, args: argparse.Namespace) -> str:
        from ...commands.permissions import document_azure

        return document_azure(args)

    def demo_part(self) -> DemoPart:
        from ...commands.demo import azure_part

        return azure_part

    def check_catalog(self, args: argparse.Namespace, catalog: Catalog) -> tuple[Drift, str]:
        from ...commands.regions import check_azure_catalog

        return check_azure_catalog(args, catalog)


PROVIDER = _Api()
