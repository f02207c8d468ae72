"""`residency-audit demo` as a new user runs it: twice, then `report`, as real processes.

Issue 19: the demo printed to stderr (`demo > out.txt` left an empty file), invented changes on
every run (moto gives EC2 instances, volumes, snapshots, backup plans and file systems new
random ids: `report` said 7 new, 7 resolved), and offered options that did nothing.

The demo's terminal snapshots (tests/snapshots/demo-*.txt) are its recorded result rendered at
60, 80, 120 and 200 columns; the 80- and 120-column runs' own stdout must match them too.
Regenerate after an intended change (and review the diff of tests/snapshots/):

    RESIDENCY_AUDIT_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_terminal_output.py tests/test_demo.py -q
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from residency_audit.model import ScanResult
from residency_audit.outputs.table import print_result
from residency_audit.store import open_store

from .snapshot_support import assert_snapshot, normalise, width_of

#: The demo's own closing lines on stdout, after the findings.
TAIL = 3


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class Demo:
    cwd: Path
    runs: list[Run]
    report: Run


def _env(**extra: str) -> dict[str, str]:
    """The user's environment, less the test session's store (the demo records into ./reports)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RESIDENCY_AUDIT_", "AWS_", "AZURE_", "GOOGLE_"))}
    for key in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TERM"):
        env.pop(key, None)
    return {**env, **extra}


def _run(args: list[str], cwd: Path, **env: str) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "residency_audit", *args],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """`demo` at 80 columns, `demo` at 120, then `report -f json`, in one fresh directory."""
    cwd = tmp_path_factory.mktemp("new-user")
    runs = [_run(["demo"], cwd, COLUMNS=str(width)) for width in (80, 120)]
    return Demo(cwd, runs, _run(["report", "-f", "json"], cwd))


def test_the_demo_twice_reports_no_change(demo: Demo) -> None:
    """The same estate, the same ids: the second demo is 0 new, 0 resolved, through the store."""
    assert [r.code for r in demo.runs] == [0, 0], [r.err for r in demo.runs]
    assert demo.report.code == 0, demo.report.err
    assert re.fullmatch(
        r"wrote reports/residency-report-\d{8}T\d{6}Z\.json: 33 findings \(0 new, 0 resolved\), 0 moved, "
        r"0 gaps appeared\n",
        demo.report.out,
    ), demo.report.out
    (path,) = (demo.cwd / "reports").glob("residency-report-*.json")
    report = json.loads(path.read_text("utf-8"))
    diff = report["diff"]
    assert diff["new_findings"] == diff["resolved_findings"] == diff["moved_resources"] == []
    assert diff["added_resources"] == diff["removed_resources"] == []
    assert report["baseline_scan_id"] and report["current_scan_id"] != report["baseline_scan_id"]

    first, second = sorted((demo.cwd / "reports").glob("demo-*.json"))
    ids = [{r["id"] for r in json.loads(p.read_text("utf-8"))["resources"]} for p in (first, second)]
    assert ids[0] == ids[1]
    generated = {i.rsplit("/", 1)[-1].split(":")[-1] for i in ids[0]}
    # the ids moto makes up (instance, volume, snapshot, backup plan, file system) are among them
    for prefix in ("i-", "vol-", "snap-", "fs-"):
        assert any(i.startswith(prefix) for i in generated), prefix
    assert any(re.fullmatch(r"[0-9a-f-]{36}", i) for i in generated), "the backup plan's id"


def test_the_demo_writes_to_stdout_and_shows_where_the_map_is(demo: Demo) -> None:
    run = demo.runs[0]
    assert run.out.startswith("Findings (33)\n")
    assert "Findings (" not in run.err and "Traceback" not in run.err
    assert re.match(r"recorded scan [0-9a-f]{32} in sqlite:///reports/residency\.db\n$", run.err), run.err
    *_, summary, wrote, opened = run.out.splitlines()
    assert summary.startswith("demo: scanned the bundled sample estate (aws, gcp, azure)")
    json_path = re.fullmatch(r"wrote (reports/demo-\d{8}T\d{6}Z\.json) \(the scan as JSON\)", wrote)
    html_path = re.fullmatch(
        r"open (reports/demo-\d{8}T\d{6}Z\.html): the report, with a map of where the data lives", opened
    )
    assert json_path and html_path, (wrote, opened)
    assert json.loads((demo.cwd / json_path[1]).read_text("utf-8"))["scan"]["complete"] is True
    html = (demo.cwd / html_path[1]).read_text("utf-8")
    assert html.startswith("<!doctype html>") and "Data-residency compliance report" in html


def _recorded(demo: Demo) -> ScanResult:
    with open_store(str(demo.cwd / "reports" / "residency.db"), create=False) as store:
        result = store.load(store.scans()[-1].id)
    # The one figure that depends on thread timing (a bucket's region may be looked up twice).
    result.scan.api_calls = {"demo": 400}
    return result


def _table(text: str) -> str:
    """Stdout less the demo's closing lines, with the API-call count pinned as in `_recorded`."""
    return re.sub(r"\b\d+ API calls\b", "400 API calls", "".join(text.splitlines(True)[:-TAIL]))


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_the_demo_result_at_every_width(demo: Demo, width: int) -> None:
    out = io.StringIO()
    print_result(_recorded(demo), Console(file=out, width=width, force_terminal=False))
    text = out.getvalue()
    assert_snapshot(f"demo-{width}.txt", text)
    assert width_of(text) <= width
    lines = text.splitlines()
    assert lines[0] == "Findings (33)"
    if width == 80:
        assert normalise(_table(demo.runs[0].out)) == normalise(text), "the CLI prints what the snapshot shows"
    if width == 120:
        assert normalise(_table(demo.runs[1].out)) == normalise(text)


def test_demo_help_lists_only_options_that_act(tmp_path: Path) -> None:
    """No --fail-on/--exit-zero/--allow-gaps (the demo's findings are planted: it exits 0 when it
    ran completely); every option it lists changes what a run does, shown in one run."""
    run = _run(["demo", "--help"], tmp_path)
    listed = set(re.findall(r"^  (?:-[a-z], )?(--[a-z-]+)", run.out, re.MULTILINE))
    assert listed == {
        "--help",
        "--reports-dir",
        "--providers",
        "--quiet",
        "--rules",
        "--exceptions",
        "--store",
        "--no-store",
    }
    rules = tmp_path / "one-rule.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - id: DEMO-OUTSIDE\n    title: outside the EU\n    severity: medium\n"
        "    when: {field: place.in_eu, equals: false}\n    message: \"{resource.kind} '{resource.name}'\"\n",
        "utf-8",
    )
    accepted = tmp_path / "accepted.yaml"
    accepted.write_text(
        "version: 1\nexceptions:\n  - rule: DEMO-OUTSIDE\n    resource: '*batch-zurich'\n"
        "    justification: demo\n    approver: test@example.com\n    expires: 2099-12-31\n",
        "utf-8",
    )
    options = ["--providers", "gcp", "--reports-dir", "elsewhere", "--quiet", "--no-store"]
    run = _run(["demo", *options, "--rules", str(rules), "--exceptions", str(accepted)], tmp_path)
    assert run.code == 0 and run.out == "" and run.err == "", run  # --quiet
    assert not (tmp_path / "reports").exists()  # --no-store, --reports-dir
    (scan,) = (tmp_path / "elsewhere").glob("demo-*.json")
    assert len(list((tmp_path / "elsewhere").glob("demo-*.html"))) == 1
    doc = json.loads(scan.read_text("utf-8"))
    assert {f["provider"] for f in doc["findings"]} == {"gcp"}  # --providers
    assert {f["rule_id"] for f in doc["findings"]} == {"DEMO-OUTSIDE"}  # --rules
    suppressed = [f["resource_name"] for f in doc["findings"] if f["suppressed_by"]]
    assert suppressed and set(suppressed) == {"batch-zurich"}  # --exceptions
