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

from residency_audit.interrupts import parse_duration
from residency_audit.providers.aws.scan import AwsAdapter
from residency_emulator.aws import AwsEmulator, operation_of, signed_scope
from residency_emulator.front import Request, Response

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


# --------------------------------------------------------------------------- Google Cloud and Azure


def test_gcp_deadline_turns_the_stalled_project_into_a_gap(gcp: Any) -> None:
    """One project's Cloud Storage listing never answers: at the deadline that project is a gap,
    the projects that answered are in the results."""
    from residency_audit.core import run_scan
    from residency_audit.engine import load_rules
    from residency_audit.geography import default_catalog
    from residency_audit.model import ScanRequest
    from residency_audit.providers.gcp.scan import GcpAdapter

    release = threading.Event()

    def hold(req: Request) -> Response | None:
        if req.path.startswith("/storage/v1/b") and "project=shop-prod" in req.path:
            release.wait(120)
        return None

    gcp.front.request_hooks.insert(0, hold)  # before the fake, which answers everything itself
    try:
        adapter = GcpAdapter.create(anonymous=True, endpoints={"*": gcp.url}, inventory="services")
        result = run_scan(adapter, ScanRequest("gcp"), load_rules(), default_catalog(), deadline=3)
    finally:
        release.set()
        gcp.front.request_hooks.remove(hold)
    gaps = {(g.provider, g.scope, g.code) for g in result.scan.gaps}
    assert ("gcp", "shop-prod", "Deadline") in gaps and ("gcp", "", "Deadline") in gaps, gaps
    assert not result.scan.complete and not result.scan.interrupted
    assert {r.owner.id for r in result.resources} - {"shop-prod"}, "what answered before the deadline is kept"


def test_azure_deadline_turns_the_stalled_subscription_into_gaps(azure_fake: Any) -> None:
    from residency_audit.core import run_scan
    from residency_audit.engine import load_rules
    from residency_audit.geography import default_catalog
    from residency_audit.model import ScanRequest
    from residency_audit.providers.azure.scan import AzureAdapter
    from residency_emulator.azure import SUB_ANALYTICS
    from residency_emulator.front import Faults

    azure_fake.faults = Faults(
        rate=1.0,
        kinds=("slow",),
        budget=100,
        slow_seconds=20,
        only=lambda req: req.path.lower().startswith(f"/subscriptions/{SUB_ANALYTICS}/".lower()),
    )
    adapter = AzureAdapter.from_environment(endpoint=azure_fake.url, inventory="arm")
    result = run_scan(adapter, ScanRequest("azure"), load_rules(), default_catalog(), deadline=3)
    assert not result.scan.complete and not result.scan.interrupted
    assert any(g.code == "Deadline" and g.scope == "" for g in result.scan.gaps)
    assert any(g.code == "Deadline" and g.scope == SUB_ANALYTICS for g in result.scan.gaps), result.scan.gaps
    assert all(g.code in ("Deadline",) for g in result.scan.gaps), result.scan.gaps
    assert result.resources, "the subscriptions that answered are kept"


@pytest.fixture
def azure_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from residency_emulator.azure import FakeArm

    from .cloud_support import point_at_azure

    fake = FakeArm().start()
    point_at_azure(fake, monkeypatch)
    try:
        yield fake
    finally:
        fake.faults = None
        fake.stop()


def test_progress_rows_show_hostile_account_names_inert() -> None:
    """Account names (from AWS Organizations) and task descriptions reach the progress display as text."""
    import io

    from rich.console import Console

    from residency_audit.commands.common import RichProgress

    buf = io.StringIO()
    console = Console(file=buf, width=200, color_system=None, force_terminal=False)
    progress = RichProgress(console, "Scanning aws")
    progress.event(
        "account_started",
        {"provider": "aws", "account": "1", "name": "prod\x1b[2J\x1b]52;c;eA==\x07[bold red]ALL CLEAR"},
    )
    progress.add_work("aws:1", 2)
    progress.done("aws:1", "ec2 eu-west-1\r\x1b[32mdone")
    console.print(progress._progress.get_renderable())
    text = buf.getvalue()
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "[bold red]ALL CLEAR" in text and "\\x1b[2J" in text
