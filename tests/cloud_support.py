"""Shared by the Google Cloud / Azure trust tests: point the SDKs at the fakes, scan, compare inventories."""

from __future__ import annotations

from typing import Any

import pytest

from residency_audit.core import run_scan
from residency_audit.engine import load_rules
from residency_audit.geography import default_catalog
from residency_audit.model import ScanRequest, ScanResult
from residency_emulator.azure import FakeArm, seed_azure
from residency_emulator.gcp import GcpEmulator, seed_gcp

#: azure-identity reads these before the client-secret variables: none may leak in from the machine.
AZURE_IDENTITY_VARS = (
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_TOKEN_CREDENTIALS",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "MSI_ENDPOINT",
    "MSI_SECRET",
)
GOOGLE_VARS = ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CONFIG")


def point_at_azure(fake: FakeArm, mp: pytest.MonkeyPatch) -> None:
    """The sample estate, every subscription readable, and azure-identity's variables pointing at the fake."""
    fake.reset()
    seed_azure(fake)
    for key in AZURE_IDENTITY_VARS:
        mp.delenv(key, raising=False)
    for key, value in fake.env().items():
        mp.setenv(key, value)


def reseed_gcp(emu: GcpEmulator, mp: pytest.MonkeyPatch) -> None:
    emu.reset()
    seed_gcp(emu)
    emu.front.faults = None
    emu.front.clear_log()
    for key in GOOGLE_VARS:
        mp.delenv(key, raising=False)


def scan_gcp(emu: GcpEmulator, **options: Any) -> ScanResult:
    from residency_audit.providers.gcp.scan import GcpAdapter

    options.setdefault("inventory", "services")
    adapter = GcpAdapter.create(anonymous=True, endpoints={"*": emu.url}, **options)
    return run_scan(adapter, ScanRequest("gcp"), load_rules(), default_catalog())


def scan_azure(fake: FakeArm, inventory: str = "arm", max_workers: int = 8) -> ScanResult:
    from residency_audit.providers.azure.scan import AzureAdapter

    adapter = AzureAdapter.from_environment(endpoint=fake.url, inventory=inventory, max_workers=max_workers)
    return run_scan(adapter, ScanRequest("azure"), load_rules(), default_catalog())


def inventory(result: ScanResult) -> dict[str, list[tuple[str | None, str]]]:
    """Resource id -> its locations: what 'nothing lost' compares."""
    return {r.id: sorted(((loc.region, loc.role) for loc in r.locations), key=_unknown_first) for r in result.resources}


def _unknown_first(location: tuple[str | None, str]) -> tuple[bool, str, str]:
    return (location[0] is not None, location[0] or "", location[1])


def owners(result: ScanResult) -> dict[str, str]:
    return {r.id: r.owner.id for r in result.resources}
