"""Ctrl-C for Google Cloud and Azure: a real `scan gcp|azure` process, SIGINT mid-scan, partial output kept.

Each fake answers in 150 ms and holds one long listing (60 extra resources in
pages of two); the signal lands inside it. What was answered before the signal
must be in the output, the scan marked interrupted, the process gone within
seconds, and at most one request per worker may slip out after the signal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from residency_emulator.azure import SUB_ANALYTICS, FakeArm, arm_resource
from residency_emulator.front import Request, Response
from residency_emulator.gcp import GcpEmulator

from .cloud_support import point_at_azure, reseed_gcp
from .conftest import read_json

EXTRA = [f"bulk-{i:02d}" for i in range(60)]
LATENCY = 0.15


def _interrupt(
    cmd: list[str],
    env: dict[str, str],
    ready: Callable[[], bool],
    requests: Callable[[], int],
    answered_before: Callable[[float], set[str]],
) -> dict[str, Any]:
    """Start the scan, wait for `ready`, send SIGINT; what happened around the signal."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not ready():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the scan never reached the long listing"
            time.sleep(0.02)
        time.sleep(0.2)
        before = answered_before(time.monotonic() - 0.3)  # answers the client had time to collect
        proc.send_signal(signal.SIGINT)
        at_signal = requests()
        stdout, stderr = proc.communicate(timeout=30)
        return {
            "requests_after": requests() - at_signal,
            "before": before,
            "stdout": stdout,
            "stderr": stderr,
            "code": proc.returncode,
        }
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _check(run: dict[str, Any], out: Path, workers: int) -> dict[str, Any]:
    assert "Traceback" not in run["stderr"], run["stderr"]
    assert run["stdout"] == ""
    # Speed is benchmarks/interrupt_bench.py's to measure; here: it stopped instead of finishing its work.
    assert run["requests_after"] <= workers, run["requests_after"]
    report: dict[str, Any] = read_json(out)
    scan = report["scan"]
    assert scan["interrupted"] is True and scan["complete"] is False
    assert any("interrupted" in n for n in scan["notes"])
    assert "scan incomplete: interrupted, results are partial" in run["stderr"]
    active = [f for f in report["findings"] if not f["suppressed_by"]]
    assert run["code"] == (1 if active else 3)
    return report


# --------------------------------------------------------------------------- Google Cloud


@pytest.fixture
def slow_gcp(monkeypatch: pytest.MonkeyPatch) -> Iterator[GcpEmulator]:
    """The sample estate plus 60 buckets in shop-prod (its storage listing: 32 pages), answering in 150 ms."""
    emu = GcpEmulator(page_size=2)
    reseed_gcp(emu, monkeypatch)
    shop = emu.projects["shop-prod"]
    for name in EXTRA:
        emu.bucket(shop, name, "EUROPE-WEST4")
    emu.front.latency = LATENCY
    yield emu
    emu.stop()


def test_gcp_sigint_writes_the_partial_scan_marked_interrupted(slow_gcp: GcpEmulator, tmp_path: Path) -> None:
    answered: dict[str, float] = {}  # bucket -> when the page naming it left the fake
    lock = threading.Lock()

    def record(req: Request, resp: Response) -> Response:
        if resp.status == 200 and urlsplit(req.path).path == "/storage/v1/b":
            with lock:
                for item in json.loads(resp.body).get("items") or []:
                    answered[item["name"]] = time.monotonic()
        return resp

    slow_gcp.front.response_hooks.append(record)

    def before(cutoff: float) -> set[str]:
        with lock:
            return {b for b, when in answered.items() if when < cutoff and b in EXTRA}

    out = tmp_path / "partial.json"
    cmd = [sys.executable, "-m", "residency_audit", "scan", "gcp", "--endpoint", slow_gcp.url, "--anonymous"]
    cmd += ["--inventory", "services", "--workers", "2", "-f", "json", "-o", str(out), "-q"]
    run = _interrupt(
        cmd,
        dict(os.environ),
        ready=lambda: len(before(time.monotonic())) >= 16,
        requests=lambda: len(slow_gcp.log),
        answered_before=before,
    )
    report = _check(run, out, workers=2)
    assert 0 < len(run["before"]) < len(EXTRA) - 10, "the signal must land inside the long bucket listing"
    buckets = {r["name"] for r in report["resources"] if r["kind"] == "storage.bucket"} & set(EXTRA)
    assert run["before"] <= buckets and len(buckets) <= len(run["before"]) + 4
    # The last project's services were never reached.
    assert not {r["owner"]["id"] for r in report["resources"]} & {"ledger-nl"}


# --------------------------------------------------------------------------- Azure


@pytest.fixture
def slow_azure(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArm]:
    """The sample estate plus 60 VMs in the analytics subscription (31 pages of resources), 150 ms per answer."""
    fake = FakeArm().start()
    point_at_azure(fake, monkeypatch)
    for name in EXTRA:
        vm = arm_resource(SUB_ANALYTICS, "rg-analytics", "Microsoft.Compute/virtualMachines", name, "francecentral")
        fake.resources[SUB_ANALYTICS].append(vm)
    fake.latency = LATENCY
    yield fake
    fake.stop()


def test_azure_sigint_writes_the_partial_scan_marked_interrupted(slow_azure: FakeArm, tmp_path: Path) -> None:
    names = [r["name"] for r in slow_azure.resources[SUB_ANALYTICS]]
    listing = f"/subscriptions/{SUB_ANALYTICS}/resources".lower()

    def before(cutoff: float) -> set[str]:
        """Resources on the analytics listing pages answered (arrival + latency) before `cutoff`."""
        seen: set[str] = set()
        for entry in list(slow_azure.log):
            url = urlsplit(entry.path)
            if url.path.lower() != listing or entry.status != 200 or entry.at + LATENCY >= cutoff:
                continue
            start = int(parse_qs(url.query).get("$skiptoken", ["0"])[0])
            seen.update(names[start : start + slow_azure.page_size])
        return seen & set(EXTRA)

    out = tmp_path / "partial.json"
    cmd = [sys.executable, "-m", "residency_audit", "scan", "azure", "--endpoint", slow_azure.url]
    cmd += ["--inventory", "arm", "--workers", "2", "-f", "json", "-o", str(out), "-q"]
    run = _interrupt(
        cmd,
        dict(os.environ),
        ready=lambda: len(before(time.monotonic())) >= 14,
        requests=lambda: len(slow_azure.log),
        answered_before=before,
    )
    report = _check(run, out, workers=2)
    assert 0 < len(run["before"]) < len(EXTRA) - 10, "the signal must land inside the long resource listing"
    vms = {r["name"] for r in report["resources"]} & set(EXTRA)
    assert run["before"] <= vms and len(vms) <= len(run["before"]) + 4
    # The detail reads come after every listing: never reached (the Cosmos DB account needs one).
    assert "cosmos-orders" not in {r["name"] for r in report["resources"]}


def test_azure_sigint_during_a_long_retry_after_wait_stops_at_once(slow_azure: FakeArm, tmp_path: Path) -> None:
    """A worker waiting out `Retry-After: 30` must not hold the exit: Ctrl-C ends the wait."""
    listing = f"/subscriptions/{SUB_ANALYTICS}/resources".lower()
    slow_azure.latency = 0.0
    slow_azure.throttle[listing] = 1000  # throttled for good
    slow_azure.retry_after = "30"
    out = tmp_path / "partial.json"
    cmd = [sys.executable, "-m", "residency_audit", "scan", "azure", "--endpoint", slow_azure.url]
    cmd += ["--inventory", "arm", "--workers", "2", "-f", "json", "-o", str(out), "-q"]

    def throttled() -> int:
        return sum(1 for e in list(slow_azure.log) if e.status == 429 and urlsplit(e.path).path.lower() == listing)

    run = _interrupt(
        cmd,
        dict(os.environ),
        ready=lambda: throttled() >= 1,
        requests=lambda: len(slow_azure.log),
        answered_before=lambda cutoff: set(),
    )
    report = _check(run, out, workers=2)
    assert throttled() == 1  # the one throttled answer; the retry never went out
    assert not {r["name"] for r in report["resources"]} & set(EXTRA)
