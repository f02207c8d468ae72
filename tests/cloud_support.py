"""Shared by the cloud tests: point the Azure SDK at the fake, compare inventories (see also trust_support/)."""

from __future__ import annotations

import pytest

from residency_audit.model import ScanResult
from residency_emulator.azure import FakeArm, seed_azure

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


def inventory(result: ScanResult) -> dict[str, list[tuple[str | None, str]]]:
    """Resource id -> its locations: what 'nothing lost' compares."""
    return {r.id: sorted(((loc.region, loc.role) for loc in r.locations), key=_unknown_first) for r in result.resources}


def _unknown_first(location: tuple[str | None, str]) -> tuple[bool, str, str]:
    return (location[0] is not None, location[0] or "", location[1])


def owners(result: ScanResult) -> dict[str, str]:
    return {r.id: r.owner.id for r in result.resources}
