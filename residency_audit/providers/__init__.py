"""The provider registry: the one list of clouds, and what each offers.

The CLI, `permissions`, `regions`, `demo`, the gate and the geography catalog ask this
registry; nothing else names the providers. Each provider is a package
(`providers/<name>/`) whose `api` module implements `ProviderApi`; it is imported only
when a command needs that provider, and it imports no cloud SDK at module level (the
SDK is the provider's pip extra: `residency-audit[aws]`).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .base import ProviderName

if TYPE_CHECKING:
    from ..core import Adapter
    from ..geography import Catalog
    from ..geography.drift import Drift
    from ..model import ScanRequest
    from .base import Kind, ReadOperation, TargetWords

#: A demo part: a context manager that starts an emulator, seeds it, and yields a factory for
#: the adapter that scans it (called inside the context).
DemoPart = Callable[[], AbstractContextManager[Callable[[], "Adapter"]]]


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    name: ProviderName
    title: str
    #: The pip extra that brings its SDK, and modules whose absence means it is not installed.
    extra: str
    sdk: tuple[str, ...]
    #: Terraform provider local names (resource type prefixes) judged as this provider.
    terraform: tuple[str, ...]


REGISTRY: tuple[ProviderInfo, ...] = (
    ProviderInfo("aws", "AWS", "aws", ("boto3", "botocore"), ("aws", "awscc")),
    ProviderInfo("gcp", "Google Cloud", "gcp", ("google.auth", "google.cloud.resourcemanager_v3"), ("google",)),
    ProviderInfo("azure", "Azure", "azure", ("azure.identity", "azure.mgmt.resource"), ("azurerm", "azapi")),
)
_BY_NAME: dict[str, ProviderInfo] = {p.name: p for p in REGISTRY}


class ProviderApi(Protocol):
    """What a provider package offers the rest of the tool (its `api.PROVIDER`)."""

    info: ProviderInfo

    def kinds(self) -> tuple[Kind, ...]:
        """The kinds its live scan reads, each declared once (`providers/<name>/kinds.py`)."""
        ...

    def read_operations(self) -> tuple[ReadOperation, ...]:
        """Every operation it may send (scan, organisation, guardrails): the allow-list and the policy."""
        ...

    def register_scan(self, sub: Any) -> None:
        """Add `scan <name>` to the `scan` subcommands."""
        ...

    def register_guardrails(self, sub: Any) -> None:
        """Add `guardrails <name>`."""
        ...

    def permissions(self, args: argparse.Namespace) -> str:
        """The least-privilege policy document, in the provider's own format."""
        ...

    def demo_part(self) -> DemoPart:
        """Its part of `residency-audit demo` (needs the [demo] extra)."""
        ...

    def register_check_options(self, group: Any) -> None:
        """Its own options of `regions --check` (added to the command's argument group)."""
        ...

    def check_catalog(self, args: argparse.Namespace, catalog: Catalog) -> tuple[Drift, str]:
        """`regions --check`: the catalog against what the provider publishes; (drift, why incomplete)."""
        ...

    def describe(self, request: ScanRequest) -> TargetWords:
        """Its scan's target and scope in words, for a report's reader."""
        ...


def names() -> tuple[str, ...]:
    return tuple(p.name for p in REGISTRY)


def info(name: str) -> ProviderInfo:
    return _BY_NAME[name]


def find(name: str) -> ProviderInfo | None:
    """The provider of that name, or None (a name recorded by another version, or `terraform`)."""
    return _BY_NAME.get(name)


def api(name: str) -> ProviderApi:
    """The provider's API, imported on first use (light: no cloud SDK)."""
    module = importlib.import_module(f"{__name__}.{name}.api")
    provider: ProviderApi = module.PROVIDER
    return provider


def by_terraform_prefix() -> dict[str, str]:
    """Terraform provider local name (`aws`, `awscc`, `google`, `azurerm`, `azapi`) -> provider."""
    return {prefix: p.name for p in REGISTRY for prefix in p.terraform}


def installed(name: str) -> bool:
    """Whether the provider's SDK is importable (its pip extra is installed)."""
    from ..extras import installed as modules_installed

    return modules_installed(info(name).sdk)


def require(name: str, what: str) -> None:
    """One line, exit 2, when a command needs a provider SDK that is not installed."""
    from ..extras import require as require_modules

    p = info(name)
    require_modules(p.sdk, p.extra, what)
