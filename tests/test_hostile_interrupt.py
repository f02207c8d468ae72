"""Ctrl-C and --deadline with a request stalled in the network: a real `scan aws` process.

The front holds one region's DescribeInstances until the test ends (far longer than the
client's read timeout). What is asserted is behaviour: the output is written and marked,
the process exits without waiting for the stalled read (the bound is the read timeout it
must not wait for, which holds on a loaded machine), a second Ctrl-C exits at once, and a
deadline turns what was not read into gaps (exit 3).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from residency_audit.adapters.aws import AwsAdapter
from residency_audit.emulator.aws import AwsEmulator, operation_of, signed_scope
from residency_audit.emulator.front import Request, Response
from residency_audit.interrupts import parse_duration

from .conftest import read_json

STALLED = "eu-north-1"


@pytest.fixture
def stalled(aws_env: AwsEmulator) -> Iterator[dict[str, Any]]:
    """DescribeInstances in eu-north-1 is held until the test ends; `state["stalled"]` is set when one arrives."""
    release = threading.Event()
    state: dict[str, Any] = {"stalled": threading.Event(), "answered": threading.Event()}

    def hold(req: Request) -> Response | None:
        if operation_of(req)[1] == "DescribeInstances":
            if signed_scope(req)[0] == STALLED:
                state["stalled"].set()
                release.wait(300)
            else:
                state["answered"].set()
        return None

    aws_env.front.request_hooks.append(hold)
    try:
        yield state
    finally:
        release.set()
        aws_env.front.request_hooks.remove(hold)


def _scan(out: Path, *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "residency_audit", "scan", "aws", "--regions", f"eu-west-1,{STALLED}"]
    cmd += ["--services", "ec2", "--workers", "2", "-f", "json", "-o", str(out), "-q", "--no-store", *extra]
    return subprocess.Popen(cmd, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(proc: subprocess.Popen[str], event: threading.Event) -> None:
    for _ in range(1200):  # up to 120 s on a loaded machine; normally well under a second
        if event.wait(0.1):
            return
        assert proc.poll() is None, proc.communicate()
    pytest.fail("the scan never reached the stalled request")


def test_repro_ctrl_c_exits_without_waiting_for_a_stalled_read(stalled: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "partial.json"
    proc = _scan(out)
    try:
        _wait_for(proc, stalled["stalled"])
        _wait_for(proc, stalled["answered"])
        time.sleep(0.3)  # let the client collect eu-west-1's answer
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        _, stderr = proc.communicate(timeout=300)
        after = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # Before the fix the process exited only when the stalled read timed out (26-28 s after the signal).
    assert after < AwsAdapter.read_timeout / 2, f"exited {after:.1f}s after Ctrl-C: it waited for the stalled read"
    assert "Traceback" not in stderr
    report = read_json(out)
    assert report["scan"]["interrupted"] is True and report["scan"]["complete"] is False
    assert proc.returncode == 3


def test_second_ctrl_c_exits_at_once(stalled: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "partial.json"
    proc = _scan(out)
    try:
        _wait_for(proc, stalled["stalled"])
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in stderr
    # Either the second signal cut the first one's handling short (130), or the scan had already
    # written its partial output and left (3): never a hang, never a traceback.
    assert proc.returncode in (130, 3), stderr
    if proc.returncode == 130:
        assert "interrupted again: exiting now" in stderr


def test_repro_deadline_ends_the_scan_with_gaps(stalled: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "deadline.json"
    proc = _scan(out, "--deadline", "3s")
    try:
        _, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert stalled["stalled"].is_set()
    assert proc.returncode == 3, stderr
    report = read_json(out)
    scan = report["scan"]
    assert scan["complete"] is False and scan["interrupted"] is False
    codes = {(g["scope"], g["service"], g["code"]) for g in scan["gaps"]}
    assert ("", "*", "Deadline") in codes  # the scan as a whole
    assert any(code == "Deadline" and scope for scope, _, code in codes), codes  # the account with work left
    assert "scan incomplete" in stderr


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("1h30m", 5400), ("0.5s", 0.5)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-5s", "0", "1d"])
def test_bad_durations_are_input_errors(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    from .conftest import run_cli

    code, _, err = run_cli(["scan", "aws", f"--deadline={text}", "--no-store", "-q"], capsys)
    assert code == 2 and "--deadline" in err and err.count("\n") == 1
