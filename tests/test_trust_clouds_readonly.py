"""Read-only, proven for Google Cloud and Azure: every allow-list entry is exercised, nothing else is sent.

The adapter tests already check that each request of one scan matches the
allow-list. Here the union over the scans that reach every code path (per
service and Asset Inventory; named projects; a folder missing from search;
ARM and Resource Graph) must be exactly the allow-list: an entry no scan
uses is a permission nobody needs, and is removed rather than kept "in case".
The guardrail audit's reads (Org Policy, Azure Policy) share the allow-lists;
its own tests exercise them, so they are the one documented exception here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from residency_emulator.azure import FakeArm
from residency_emulator.gcp import GcpEmulator

from .cloud_support import point_at_azure, reseed_gcp, scan_azure, scan_gcp


@pytest.fixture
def gcp(monkeypatch: pytest.MonkeyPatch) -> Iterator[GcpEmulator]:
    emu = GcpEmulator(page_size=2)
    reseed_gcp(emu, monkeypatch)
    yield emu
    emu.stop()


def test_gcp_scans_use_exactly_the_allow_list(gcp: GcpEmulator) -> None:
    from residency_audit.providers.gcp.client import READ_OPERATIONS, host_service, route_of

    def scenario(**options: Any) -> set[tuple[str, str]]:
        gcp.front.clear_log()
        result = scan_gcp(gcp, **options)
        assert result.resources and result.scan.gaps == [], result.scan.gaps
        assert {r.method for r in gcp.log} == {"GET"}
        # Paths repeat across APIs (Spanner and Cloud SQL): each request is attributed by its Host.
        routes = [route_of(r.method, urlsplit(r.path).path, host_service(r.headers)) for r in gcp.log]
        assert None not in routes, [r.path for r, rt in zip(gcp.log, routes, strict=True) if rt is None]
        assert sum(result.scan.api_calls.values()) == len(gcp.log)
        # Organisation policy: a scan reads only the Pub/Sub persistence constraint (topics without a
        # storage policy); gcp.resourceLocations is the guardrail audit's alone.
        policies = {urlsplit(r.path).path.rsplit("/", 1)[-1] for r in gcp.log if "/policies/" in r.path}
        assert policies <= {"pubsub.allowedPersistenceRegions"}, policies
        return {(rt.service, rt.method) for rt in routes if rt}

    used = scenario(inventory="services")
    used |= scenario(inventory="services", projects=["ledger-nl"])  # projects.get
    gcp.unsearchable_folders.add("200000000002")
    used |= scenario(inventory="services", projects=["shop-prod"])  # folders.get
    gcp.unsearchable_folders.clear()
    gcp.asset_enabled.add("organizations/100000000001")
    used |= scenario(inventory="asset")
    guardrail_audit = {op for op in READ_OPERATIONS if op[0] == "orgpolicy"}  # tests/test_guardrails_live_clouds.py
    assert used & guardrail_audit == guardrail_audit  # the Pub/Sub constraint only (checked per scenario)
    assert used == set(READ_OPERATIONS)


@pytest.fixture
def azure(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArm]:
    fake = FakeArm().start()
    point_at_azure(fake, monkeypatch)
    yield fake
    fake.stop()


def test_azure_scans_use_exactly_the_allow_list(azure: FakeArm) -> None:
    from residency_audit.providers.azure.client import operation_for
    from residency_audit.providers.azure.kinds import read_operations

    allowed = read_operations()

    used = set()
    for mode in ("arm", "graph"):
        azure.clear_log()
        result = scan_azure(azure, inventory=mode)
        assert result.resources and result.scan.gaps == [], result.scan.gaps
        wire = [e for e in azure.log if "/oauth2/" not in e.path and "/.well-known/" not in e.path]
        ops = [operation_for(e.method, urlsplit(e.path).path) for e in wire]
        assert None not in ops, [e.path for e, op in zip(wire, ops, strict=True) if op is None]
        assert sum(result.scan.api_calls.values()) == len(wire)
        used |= {op for op in ops if op}
    guardrail_audit = {op for op in allowed if "guardrail audit" in op.operation}
    assert not used & guardrail_audit, "a resource scan never reads Azure Policy"
    assert used | guardrail_audit == set(allowed)
    # the role `permissions azure` prints holds exactly the RBAC actions of those requests
    from residency_audit.providers.azure.api import role

    assert sorted(role("/subscriptions/x")["Actions"]) == sorted({op.permission for op in used | guardrail_audit})
    footprint_reads = {
        op.permission for op in used if op.permission.startswith(("Microsoft.Insights", "Microsoft.Web"))
    }
    assert footprint_reads == {"Microsoft.Insights/diagnosticSettings/read", "Microsoft.Web/sites/backups/read"}
