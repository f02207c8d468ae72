"""Faults for Google Cloud and Azure: throttling, 5xx and connection resets injected into the fakes.

Google Cloud: the fault-injecting `Front` the GCP fake already answers behind.
Azure: its fake speaks TLS and the `Front` only plain HTTP, so the fake injects
the same `Faults` in its own handler (`FakeArm.faults`).

When retries suffice, the scan must see exactly what a fault-free scan sees;
when a project or subscription keeps failing, exactly that part becomes gaps
and everything else still lands.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from residency_emulator.azure import SUB_ANALYTICS, FakeArm
from residency_emulator.front import Faults, Request
from residency_emulator.gcp import GcpEmulator

from .cloud_support import inventory, owners, point_at_azure, reseed_gcp, scan_azure, scan_gcp

ALL_KINDS = ("429", "500", "503", "reset")

# --------------------------------------------------------------------------- Google Cloud


@pytest.fixture(scope="module")
def gcp_server() -> Iterator[GcpEmulator]:
    emu = GcpEmulator(page_size=2)
    yield emu
    emu.stop()


@pytest.fixture
def gcp(gcp_server: GcpEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[GcpEmulator]:
    reseed_gcp(gcp_server, monkeypatch)
    yield gcp_server
    gcp_server.front.faults = None


@pytest.fixture(scope="module")
def gcp_baseline(gcp_server: GcpEmulator) -> dict[str, Any]:
    mp = pytest.MonkeyPatch()
    try:
        reseed_gcp(gcp_server, mp)
        result = scan_gcp(gcp_server)
        assert result.scan.complete and result.resources
        return {"inventory": inventory(result), "owners": owners(result), "requests": len(gcp_server.log)}
    finally:
        mp.undo()


def test_gcp_transient_faults_are_retried_and_nothing_is_lost(gcp: GcpEmulator, gcp_baseline: dict[str, Any]) -> None:
    """A third of the requests throttled, failing or reset, 12 in all: the same inventory, no gap."""
    faults = Faults(rate=0.35, kinds=ALL_KINDS, budget=12, seed=11)
    gcp.front.faults = faults
    started = time.monotonic()
    result = scan_gcp(gcp)
    elapsed = time.monotonic() - started
    assert len(faults.injected) == 12 and set(faults.injected) == set(ALL_KINDS)
    assert [(g.scope, g.service, g.code, g.error[:120]) for g in result.scan.gaps] == []
    assert result.scan.complete
    assert inventory(result) == gcp_baseline["inventory"]
    # Each fault cost exactly one more request, and the call counter counts every attempt.
    assert len(gcp.log) == gcp_baseline["requests"] + 12
    assert sum(result.scan.api_calls.values()) == len(gcp.log)
    assert elapsed < 60, "backoff is bounded"


def _project(project: str) -> Any:
    """Every resource request of one project (each API names it in the path, Cloud Storage in the query)."""

    def match(req: Request) -> bool:
        return (
            f"/projects/{project}/" in req.path
            or f"project={project}" in req.path
            or (f"/namespaces/{project}/" in req.path)
        )

    return match


@pytest.mark.parametrize(("kind", "code"), [("503", "503"), ("429", "429"), ("reset", "ConnectionError")])
def test_gcp_a_project_that_keeps_failing_is_exactly_its_gaps(
    gcp: GcpEmulator, gcp_baseline: dict[str, Any], kind: str, code: str
) -> None:
    from residency_audit.providers.gcp.client import MAX_ATTEMPTS
    from residency_audit.providers.gcp.scan import ALL_SERVICES

    faults = Faults(rate=1.0, kinds=(kind,), budget=10_000, only=_project("data-platform"))
    gcp.front.faults = faults
    result = scan_gcp(gcp)
    assert sorted((g.scope, g.service, g.code) for g in result.scan.gaps) == sorted(
        ("data-platform", service, code) for service in ALL_SERVICES
    )
    assert all("\n" not in g.error for g in result.scan.gaps)
    # Bounded: every service's first request tried MAX_ATTEMPTS times, then a gap.
    assert len(faults.injected) == len(ALL_SERVICES) * MAX_ATTEMPTS
    assert not result.scan.complete
    lost = {rid for rid, owner in gcp_baseline["owners"].items() if owner == "data-platform"}
    assert lost, "the failing project must have held resources"
    assert inventory(result) == {rid: locs for rid, locs in gcp_baseline["inventory"].items() if rid not in lost}


# --------------------------------------------------------------------------- Azure


@pytest.fixture(scope="module")
def azure_server() -> Iterator[FakeArm]:
    fake = FakeArm().start()
    yield fake
    fake.stop()


@pytest.fixture
def azure(azure_server: FakeArm, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArm]:
    point_at_azure(azure_server, monkeypatch)
    yield azure_server
    azure_server.faults = None


@pytest.fixture(scope="module")
def azure_baseline(azure_server: FakeArm) -> dict[str, dict[str, Any]]:
    mp = pytest.MonkeyPatch()
    try:
        out = {}
        for mode in ("arm", "graph"):
            point_at_azure(azure_server, mp)
            result = scan_azure(azure_server, inventory=mode)
            assert result.scan.complete and result.resources, result.scan.gaps
            out[mode] = {"inventory": inventory(result), "owners": owners(result)}
        return out
    finally:
        mp.undo()


def _arm_requests(fake: FakeArm) -> list[Any]:
    return [e for e in fake.log if "/oauth2/" not in e.path and "/.well-known/" not in e.path]


@pytest.mark.parametrize("mode", ["arm", "graph"])
def test_azure_transient_faults_are_retried_and_nothing_is_lost(
    azure: FakeArm, azure_baseline: dict[str, dict[str, Any]], mode: str
) -> None:
    """Throttling, 5xx and resets on half the ARM requests, 8 in all (Resource Graph POSTs included)."""
    faults = Faults(rate=0.5, kinds=ALL_KINDS, budget=8, seed=14)
    azure.faults = faults
    started = time.monotonic()
    result = scan_azure(azure, inventory=mode)
    elapsed = time.monotonic() - started
    assert len(faults.injected) == 8 and set(faults.injected) == set(ALL_KINDS)
    assert [(g.scope, g.service, g.code, g.error[:120]) for g in result.scan.gaps] == []
    assert result.scan.complete
    assert inventory(result) == azure_baseline[mode]["inventory"]
    assert owners(result) == azure_baseline[mode]["owners"]
    assert not [n for n in result.scan.notes if "not readable" in n], result.scan.notes
    assert elapsed < 60, "backoff is bounded"


def _subscription(sub: str) -> Any:
    def match(req: Request) -> bool:
        return req.path.lower().startswith(f"/subscriptions/{sub}/".lower())

    return match


@pytest.mark.parametrize(
    ("kind", "code"), [("503", "InternalServerError"), ("429", "TooManyRequests"), ("reset", "ServiceResponseError")]
)
def test_azure_a_subscription_that_keeps_failing_is_exactly_its_gap(
    azure: FakeArm, azure_baseline: dict[str, dict[str, Any]], kind: str, code: str
) -> None:
    faults = Faults(rate=1.0, kinds=(kind,), budget=10_000, only=_subscription(SUB_ANALYTICS))
    azure.faults = faults
    started = time.monotonic()
    result = scan_azure(azure, inventory="arm")
    assert time.monotonic() - started < 30
    assert [(g.scope, g.service, g.code) for g in result.scan.gaps] == [(SUB_ANALYTICS, "Microsoft.Resources", code)]
    assert "\n" not in result.scan.gaps[0].error
    assert 2 <= len(faults.injected) <= 8, "bounded retries, then a gap"
    assert not result.scan.complete
    baseline = azure_baseline["arm"]
    lost = {rid for rid, owner in baseline["owners"].items() if owner == SUB_ANALYTICS}
    assert lost, "the failing subscription must have held resources"
    kept = {rid: locs for rid, locs in baseline["inventory"].items() if rid not in lost}
    # Copies that the failing subscription's account holds (stmediade's object replication and
    # stinvoiceswe's blob logs, both to stanalyticsfr) cannot be placed any more: they fail closed.
    held = [rid for rid in kept if rid.endswith(("/stmediade", "/stinvoiceswe"))]
    assert len(held) == 2
    for rid in held:
        assert ("francecentral", "replica") in kept[rid]
        kept[rid] = sorted(
            (
                (None, role) if (region, role) == ("francecentral", "replica") else (region, role)
                for region, role in kept[rid]
            ),
            key=lambda loc: (loc[0] is not None, loc[0] or "", loc[1]),
        )
    assert inventory(result) == kept


def test_azure_a_reset_resource_graph_query_is_retried(
    azure: FakeArm, azure_baseline: dict[str, dict[str, Any]]
) -> None:
    """A Graph query is a POST, which azure-core does not repeat after a reset; it is a read, so we do."""
    faults = Faults(rate=1.0, kinds=("reset",), budget=2, only=lambda r: r.method == "POST")
    azure.faults = faults
    result = scan_azure(azure, inventory="graph")
    assert faults.injected == ["reset", "reset"]
    assert result.scan.gaps == [] and result.scan.complete
    assert inventory(result) == azure_baseline["graph"]["inventory"]
    assert owners(result) == azure_baseline["graph"]["owners"]


def test_gcp_answers_that_never_come_are_retried_then_a_gap(gcp: GcpEmulator, gcp_baseline: dict[str, Any]) -> None:
    """Stalls longer than the read timeout on one project's BigQuery: retried, then one gap; no hang."""
    from residency_audit.providers.gcp.client import MAX_ATTEMPTS

    stall = Faults(
        rate=1.0, kinds=("slow",), budget=100, slow_seconds=1.5, only=_path("/bigquery/v2/projects/data-platform/")
    )
    gcp.front.faults = stall
    started = time.monotonic()
    result = scan_gcp(gcp, read_timeout=0.5)
    elapsed = time.monotonic() - started
    assert [(g.scope, g.service, g.code) for g in result.scan.gaps] == [("data-platform", "bigquery", "ReadTimeout")]
    assert len(stall.injected) == MAX_ATTEMPTS
    lost = {
        rid for rid in gcp_baseline["inventory"] if rid.startswith("//bigquery.googleapis.com/projects/data-platform/")
    }
    expected = {k: v for k, v in gcp_baseline["inventory"].items() if k not in lost}
    # The log sink that routes to one of those datasets cannot be placed any more: unknown (fail closed).
    sink = "//logging.googleapis.com/projects/data-platform/sinks/audit-to-bigquery"
    assert expected[sink] != [(None, "replica")]
    expected[sink] = [(None, "replica")]
    assert lost and inventory(result) == expected
    assert elapsed < 30


def test_azure_answers_that_never_come_are_retried_then_a_gap(
    azure: FakeArm, azure_baseline: dict[str, dict[str, Any]]
) -> None:
    """Stalls longer than the read timeout on one subscription: azure-core retries, then one gap; no hang."""
    from residency_audit.core import run_scan
    from residency_audit.engine import load_rules
    from residency_audit.geography import default_catalog
    from residency_audit.model import ScanRequest
    from residency_audit.providers.azure.scan import AzureAdapter

    stall = Faults(rate=1.0, kinds=("slow",), budget=100, slow_seconds=1.5, only=_subscription(SUB_ANALYTICS))
    azure.faults = stall
    adapter = AzureAdapter.from_environment(endpoint=azure.url, inventory="arm")
    adapter.read_timeout = 0.5
    started = time.monotonic()
    result = run_scan(adapter, ScanRequest("azure"), load_rules(), default_catalog())
    elapsed = time.monotonic() - started
    assert [(g.scope, g.service) for g in result.scan.gaps] == [(SUB_ANALYTICS, "Microsoft.Resources")]
    assert result.scan.gaps[0].code in ("ServiceResponseError", "ServiceResponseTimeoutError")
    assert 2 <= len(stall.injected) <= 7
    baseline = azure_baseline["arm"]
    lost = {rid for rid, owner in baseline["owners"].items() if owner == SUB_ANALYTICS}
    kept = {rid: locs for rid, locs in baseline["inventory"].items() if rid not in lost}
    # Copies that the failing subscription's account holds (stmediade's object replication and
    # stinvoiceswe's blob logs, both to stanalyticsfr) cannot be placed any more: they fail closed.
    held = [rid for rid in kept if rid.endswith(("/stmediade", "/stinvoiceswe"))]
    assert len(held) == 2
    for rid in held:
        assert ("francecentral", "replica") in kept[rid]
        kept[rid] = sorted(
            (
                (None, role) if (region, role) == ("francecentral", "replica") else (region, role)
                for region, role in kept[rid]
            ),
            key=lambda loc: (loc[0] is not None, loc[0] or "", loc[1]),
        )
    assert inventory(result) == kept
    assert elapsed < 30


def _path(prefix: str) -> Any:
    def match(req: Request) -> bool:
        return req.path.startswith(prefix)

    return match
