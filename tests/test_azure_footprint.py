"""Azure Key Vault's footprint by region: the pair where Microsoft documents one, the region itself
where it documents none (or keeps vaults there), unknown where nothing is documented."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from residency_audit.core import run_scan
from residency_audit.engine import load_rules
from residency_audit.geography import default_catalog
from residency_audit.model import ScanRequest, ScanResult
from residency_audit.providers.azure import readers
from residency_emulator.azure import SUB_LEGACY, FakeArm, key_vault

from .cloud_support import point_at_azure

MODES = ("arm", "graph")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeArm]:
    server = FakeArm().start()
    yield server
    server.stop()


@pytest.fixture
def azure(fake: FakeArm, monkeypatch: pytest.MonkeyPatch) -> FakeArm:
    point_at_azure(fake, monkeypatch)
    return fake


def _scan(fake: FakeArm, mode: str, subscriptions: list[str] | None = None) -> ScanResult:
    from residency_audit.providers.azure.scan import AzureAdapter

    fake.clear_log()
    adapter = AzureAdapter.from_environment(endpoint=fake.url, inventory=mode, subscriptions=subscriptions)
    return run_scan(adapter, ScanRequest("azure"), load_rules(), default_catalog())


# --------------------------------------------------------------------------- Key Vault and pairs


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("westeurope", ("northeurope", "secondary")),
        ("uksouth", ("ukwest", "secondary")),
        ("italynorth", None),  # documented as unpaired: zone-redundant in the region
        ("polandcentral", None),
        ("brazilsouth", None),  # paired, but Key Vault keeps them in the region
        ("westus3", None),
        ("jioindiawest", (None, "secondary")),  # no pair documented either way: fails closed
        ("centraluseuap", (None, "secondary")),
        ("belgiumcentral", (None, "secondary")),  # not (yet) transcribed as unpaired
        ("atlantis1", (None, "secondary")),  # not in the catalog
    ],
)
def test_key_vault_replica_by_region(region: str, expected: tuple[str | None, str] | None) -> None:
    replica = readers.key_vault_replica(default_catalog(), region)
    assert (None if replica is None else (replica.region, replica.role)) == expected


@pytest.mark.parametrize("mode", MODES)
def test_a_vault_in_a_region_without_a_documented_pair_fails_closed(azure: FakeArm, mode: str) -> None:
    azure.resources[SUB_LEGACY] = [key_vault(SUB_LEGACY, "rg-old", "kv-lab-jio", "jioindiawest")]
    result = _scan(azure, mode, subscriptions=[SUB_LEGACY])
    assert {(f.rule_id, f.location.location.role if f.location else "") for f in result.findings} == {
        ("RA-EU-OUTSIDE", "primary"),
        ("RA-EU-UNKNOWN", "secondary"),
    }
