"""Faults: throttling, 5xx, resets and timeouts from the fault-injecting front in front of moto.

When retries suffice, the scan must see exactly what a fault-free scan sees;
when they cannot (a region/service that keeps failing), exactly that part
becomes a gap and everything else still lands.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from residency_audit.core import run_scan
from residency_audit.engine import load_rules
from residency_audit.geography import default_catalog
from residency_audit.model import ScanRequest, ScanResult
from residency_audit.providers.aws.scan import AccountTarget, AwsAdapter
from residency_emulator.aws import AwsEmulator, signed_scope
from residency_emulator.estate import REGIONS, seed_aws
from residency_emulator.front import Faults, Request


@pytest.fixture(scope="module")
def estate(aws_emu: AwsEmulator) -> Iterator[AwsEmulator]:
    """The sample estate, seeded once for this module; faults are reset after each test."""
    mp = pytest.MonkeyPatch()
    aws_emu.reset()
    for key, value in aws_emu.env().items():
        mp.setenv(key, value)
    mp.delenv("AWS_PROFILE", raising=False)
    seed_aws(aws_emu)
    try:
        yield aws_emu
    finally:
        aws_emu.front.faults = None
        mp.undo()


@pytest.fixture
def front(estate: AwsEmulator) -> Iterator[AwsEmulator]:
    estate.front.clear_log()
    yield estate
    estate.front.faults = None


def scan(**options: Any) -> ScanResult:
    adapter = AwsAdapter(targets=[AccountTarget(boto3.Session())], regions=REGIONS, **options)
    return run_scan(adapter, ScanRequest("aws"), load_rules(), default_catalog())


def inventory(result: ScanResult) -> dict[str, list[tuple[str | None, str]]]:
    """Resource id -> its locations: what 'nothing lost' compares."""
    return {r.id: sorted((loc.region or "", loc.role) for loc in r.locations) for r in result.resources}


def region_of(resource_id: str) -> str:
    return resource_id.split(":")[3]


@pytest.fixture(scope="module")
def baseline(estate: AwsEmulator) -> dict[str, list[tuple[str | None, str]]]:
    estate.front.faults = None
    result = scan()
    assert result.scan.complete
    return inventory(result)


def test_transient_faults_are_retried_and_nothing_is_lost(front: AwsEmulator, baseline: dict[str, Any]) -> None:
    """A third of the requests throttled (429), failing (500/503) or reset, 40 in all: same inventory."""
    faults = Faults(rate=0.35, kinds=("429", "500", "503", "reset"), budget=40, seed=11)
    front.front.faults = faults
    started = time.monotonic()
    result = scan(max_attempts=10)
    elapsed = time.monotonic() - started
    assert len(faults.injected) == 40 and set(faults.injected) == {"429", "500", "503", "reset"}
    assert [(g.region, g.service, g.code, g.error[:150]) for g in result.scan.gaps] == []
    assert result.scan.complete
    assert inventory(result) == baseline
    # Retries were real: more requests reached the front than the scan made calls.
    assert len(front.front.log) == sum(result.scan.api_calls.values()) + 40
    assert elapsed < 60, "backoff is bounded"


def _only(region: str, service: str) -> Any:
    def match(req: Request) -> bool:
        return signed_scope(req) == (region, service)

    return match


@pytest.mark.parametrize(
    ("kind", "region", "service", "code"),
    [
        ("503", "eu-west-2", "rds", "ServiceUnavailable"),
        ("429", "eu-central-2", "ec2", "RequestLimitExceeded"),
        ("reset", "eu-central-1", "dynamodb", "ConnectionClosedError"),
    ],
)
def test_a_service_that_keeps_failing_becomes_exactly_one_gap(
    front: AwsEmulator, baseline: dict[str, Any], kind: str, region: str, service: str, code: str
) -> None:
    faults = Faults(rate=1.0, kinds=(kind,), budget=1000, only=_only(region, service))
    front.front.faults = faults
    result = scan(max_attempts=3)
    assert [(g.region, g.service, g.code) for g in result.scan.gaps] == [(region, service, code)]
    assert "max retries" in result.scan.gaps[0].error or kind == "reset"
    assert len(faults.injected) == 3, "bounded: exactly max_attempts tries, then a gap"
    assert not result.scan.complete
    prefix = {"rds": ":rds:", "ec2": ":ec2:", "dynamodb": ":dynamodb:"}[service]
    lost = {rid for rid in baseline if prefix in rid and region_of(rid) == region}
    assert lost, "the failing part must have held resources"
    assert inventory(result) == primary_only(baseline, lost)
    assert {r.judged for r in result.resources if r.id in lost} == {"primary"}


def primary_only(baseline: dict[str, Any], lost: set[str]) -> dict[str, Any]:
    """What a scan whose reader failed still holds: what the inventory listed of that reader's part,
    judged at its ARN's region only (its copies are unknown: the gap says so); the rest unchanged."""
    return {rid: ([(region_of(rid), "primary")] if rid in lost else locs) for rid, locs in baseline.items()}


def test_timeouts_become_a_gap_within_bounded_time(front: AwsEmulator, baseline: dict[str, Any]) -> None:
    """Answers slower than the read timeout: retried, then a gap; the scan does not hang."""
    faults = Faults(rate=1.0, kinds=("slow",), budget=1000, slow_seconds=3.0, only=_only("us-east-2", "ec2"))
    front.front.faults = faults
    started = time.monotonic()
    result = scan(max_attempts=2, read_timeout=1.5)
    elapsed = time.monotonic() - started
    assert [(g.region, g.service, g.code) for g in result.scan.gaps] == [("us-east-2", "ec2", "ReadTimeoutError")]
    assert len(faults.injected) == 2
    lost = {rid for rid in baseline if ":ec2:" in rid and region_of(rid) == "us-east-2"}
    assert lost and inventory(result) == primary_only(baseline, lost)
    assert elapsed < 20
