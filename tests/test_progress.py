"""The progress display: it counts only work that was announced, so it never passes 100%.

Issue 19 saw `239/229`: the AWS adapter spawned one task per S3 bucket and reported each as
done without announcing it first, and the Google Cloud adapter submitted a project's tasks
before announcing them. The adapters are held to "announce, then do" over real scans of the
demo estates (real SDKs, real HTTP, the local emulators).
"""

from __future__ import annotations

import io
import threading
from collections import Counter
from typing import Any

import pytest
from rich.console import Console

from residency_audit.commands.common import RichProgress
from residency_audit.core import run_scan
from residency_audit.engine import load_rules
from residency_audit.geography import default_catalog
from residency_audit.model import ScanRequest
from residency_audit.providers import api, names


class StrictProgress:
    """Records every report; a `done` beyond what its label announced is a violation."""

    def __init__(self) -> None:
        self.announced: Counter[str] = Counter()
        self.finished: Counter[str] = Counter()
        self.violations: list[str] = []
        self._lock = threading.Lock()

    def add_work(self, label: str, count: int) -> None:
        with self._lock:
            self.announced[label] += count

    def done(self, label: str, description: str) -> None:
        with self._lock:
            self.finished[label] += 1
            if self.finished[label] > self.announced[label]:
                self.violations.append(
                    f"{label} {description}: {self.finished[label]}/{self.announced[label]} (not announced)"
                )


@pytest.mark.parametrize("part", names())
def test_adapters_announce_work_before_reporting_it_done(part: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each demo estate scanned with its real adapter: every `done` was announced before, and
    a complete scan finishes exactly what it announced (100%, not 97% or 104%)."""
    monkeypatch.setenv("RESIDENCY_AUDIT_STORE", "unused")  # nothing here records
    progress = StrictProgress()
    with api(part).demo_part()() as make_adapter:
        result = run_scan(make_adapter(), ScanRequest(part), load_rules(None), default_catalog(), progress)
    assert result.scan.complete, result.scan.gaps
    assert result.resources, "the estate was scanned"
    assert progress.violations == []
    assert progress.announced and progress.finished == progress.announced


def _rich(console: Console) -> tuple[RichProgress, Any]:
    progress = RichProgress(console, "Scanning")
    return progress, progress._progress


def test_the_display_never_counts_unannounced_work() -> None:
    """Belt and braces for a future adapter that forgets to announce: the bar stops at its total."""
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    progress, bars = _rich(console)
    with progress:
        progress.add_work("aws:1", 2)
        for i in range(4):
            progress.done("aws:1", f"s3 bucket-{i}")
        progress.done("gcp:p", "storage")  # a label that never announced anything
        tasks = {t.description.strip(): (t.completed, t.total) for t in bars.tasks}
    assert tasks["Scanning"] == (2, 2)
    assert tasks["aws:1"] == (2, 2)
    assert tasks["gcp:p"] == (0, 0)


def test_no_live_display_without_a_terminal() -> None:
    """In a pipe or a CI log the display draws nothing, and leaves nothing behind (it left an
    empty line, which then stood before a credential error)."""
    out = io.StringIO()
    progress, _ = _rich(Console(file=out, force_terminal=False, width=100))
    with progress:
        progress.add_work("aws:1", 1)
        progress.done("aws:1", "ec2 eu-west-1")
    assert out.getvalue() == ""
    tty = io.StringIO()
    progress, _ = _rich(Console(file=tty, force_terminal=True, width=100))
    with progress:
        progress.add_work("aws:1", 1)
        progress.done("aws:1", "ec2 eu-west-1")
    assert "Scanning" in tty.getvalue(), "the negative control: a terminal does get the display"
