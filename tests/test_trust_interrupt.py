"""Ctrl-C, for every provider: a real `residency-audit scan <provider>` process, SIGINT mid-scan, partial output kept.

Each emulator answers in 150 ms and holds one long listing (60 extra resources:
AWS DynamoDB tables in one region, Google Cloud buckets in one project, Azure
VMs in one subscription); the signal lands inside it. What was answered before
the signal must be in the output, the scan marked interrupted, the exit code 1
(findings) or 3 (never 0), and at most one request per worker may slip out after
the signal. Speed is benchmarks/interrupt_bench.py's to measure, not a bound here.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import read_json
from .trust_support import Harness


def _interrupt(
    args: list[str],
    env: dict[str, str],
    out: Path,
    ready: Callable[[], bool],
    requests: Callable[[], int],
    settle: float,
) -> dict[str, Any]:
    """Start the scan, wait for `ready` (then `settle`), send SIGINT; what happened around the signal."""
    cmd = [sys.executable, "-m", "residency_audit", *args, "-f", "json", "-o", str(out), "-q"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not ready():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the scan never reached the long listing"
            time.sleep(0.02)
        time.sleep(settle)
        signalled = time.monotonic()
        proc.send_signal(signal.SIGINT)
        at_signal = requests()
        stdout, stderr = proc.communicate(timeout=30)
        return {
            "signalled": signalled,
            "requests_after": requests() - at_signal,
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
    assert run["stdout"] == ""  # -f json -o FILE -q: nothing on stdout
    # It stopped instead of finishing its work: running tasks stop at their next call, so at most one
    # request per worker slips out after the signal (and it never waits for a stalled read:
    # tests/test_hostile_interrupt.py).
    assert run["requests_after"] <= workers, run["requests_after"]
    report: dict[str, Any] = read_json(out)
    scan = report["scan"]
    assert scan["interrupted"] is True and scan["complete"] is False
    assert any("interrupted" in n for n in scan["notes"])
    assert "scan incomplete: interrupted, results are partial" in run["stderr"]
    # Exit code: 1 if what was collected already fails the rules, else 3; never 0.
    active = [f for f in report["findings"] if not f["suppressed_by"]]
    assert run["code"] == (1 if active else 3)
    return report


def test_sigint_writes_the_partial_scan_marked_interrupted(trust: Harness, tmp_path: Path) -> None:
    slow = trust.interruptible()
    out = tmp_path / "partial.json"
    state: dict[str, Any] = {}

    def ready() -> bool:
        if not slow.ready():
            return False
        state["not_asked"] = slow.not_asked()
        return True

    try:
        run = _interrupt(slow.args, slow.env, out, ready, slow.requests, slow.settle)
    finally:
        slow.cleanup()
    # answers the client had time to collect before the signal
    before = slow.answered(run["signalled"] - 0.3)
    report = _check(run, out, slow.workers)
    assert 0 < len(before) < len(slow.extras) - slow.margin, "the signal must land inside the long listing"
    names = {r["name"] for r in report["resources"]}
    # Everything answered before the signal is in the output; the rest of the listing is not.
    collected = names & set(slow.extras)
    assert before <= collected and len(collected) <= len(before) + slow.slack
    assert slow.kept <= names
    # A part the scan had not reached at the signal is missing.
    assert state["not_asked"]
    assert not [r["name"] for r in report["resources"] if slow.unreached(r)]


def test_sigint_during_a_server_requested_wait_stops_at_once(trust: Harness, tmp_path: Path) -> None:
    """A worker waiting out `Retry-After: 30` must not hold the exit: Ctrl-C ends the wait."""
    waiting = trust.waiting()
    if waiting is None:
        pytest.skip(f"{trust.name}: {trust.no_waiting}")
    out = tmp_path / "partial.json"
    run = _interrupt(waiting.args, waiting.env, out, lambda: waiting.waits() >= 1, waiting.requests, 0.2)
    report = _check(run, out, waiting.workers)
    assert waiting.waits() == 1  # the one throttled answer; the retry never went out
    assert not {r["name"] for r in report["resources"]} & set(waiting.extras)
