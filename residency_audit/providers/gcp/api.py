"""The gcp provider's API for the rest of the tool (see `providers.ProviderApi`).

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
    info: ProviderInfo = info("gcp")

    def kinds(self) -> tuple[Kind, ...]:
        from .kinds import KINDS

        return KINDS

    def read_operations(self) -> tuple[ReadOperation, ...]:
        from .kinds import read_operations

        return read_operations()

    def register_scan(self, sub: Any) -> None:
        from ...commands.scan_gcp import register

        register(sub)

    def register_guardrails(self, sub: Any) -> None:
        from ...commands.guardrails import register_gcp

        register_gcp(sub)

    def permissions(self, args: argparse.Namespace) -> str:
        from ...commands.permissions import document_gcp

        return document_gcp(args)

    def demo_part(self) -> DemoPart:
        from ...commands.demo import gcp_part

        return gcp_part

    def check_catalog(self, args: argparse.Namespace, catalog: Catalog) -> tuple[Drift, str]:
        from ...errors import UserError

        raise UserError(
            "regions --check: Google Cloud publishes no location list to compare with offline or through a "
            "read-only location API the tool uses; the catalog is checked against Google's pages by the test suite"
        )


PROVIDER = _Api()
