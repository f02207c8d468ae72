"""The terminal table at any width: golden snapshots of a gate run at 60, 80, 120 and 200 columns.

Issue 19: at 80 columns (most CI logs, any pipe) Severity, Rule and Resource were squeezed to
zero width while a 37-character kind never shrank. Now findings are a table only when it
fits with every resource name whole, and two lines per finding otherwise.

The gate's plan is tests/snapshots/gate-plan.json (long bucket names, Azure's long kinds, a
secondary location, a multi-region, an unknown region); the demo's snapshots are in
test_demo.py. Regenerate after an intended change (and review the diff of tests/snapshots/):

    RESIDENCY_AUDIT_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_terminal_output.py tests/test_demo.py -q
"""

from __future__ import annotations

import json
import re

import pytest

from residency_audit.outputs.table import short_kind

from .conftest import run_cli
from .snapshot_support import SNAPSHOTS, assert_snapshot, normalise, width_of

PLAN = SNAPSHOTS / "gate-plan.json"
WIDTHS = (60, 80, 120, 200)
#: Any CSI sequence; colours are SGR parameters 30-49 and 90-107 (38/48 for 256 and true colour).
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No colour or terminal settings from the machine running the tests."""
    for key in ("NO_COLOR", "FORCE_COLOR", "TERM", "COLORTERM", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def _gate(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code, out, err = run_cli(["gate", str(PLAN), *extra], capsys)
    assert err == ""
    return code, out


def _findings(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    code, out = _gate(capsys, "-f", "json")
    assert code == 1
    findings: list[dict[str, object]] = json.loads(out)["findings"]
    return findings


@pytest.mark.parametrize("width", WIDTHS)
def test_gate_output_at_every_width(
    width: int, terminal: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    findings = _findings(capsys)
    terminal.setenv("COLUMNS", str(width))
    code, out = _gate(capsys)
    assert code == 1
    assert "\x1b" not in out, "not a terminal: plain text"
    assert_snapshot(f"gate-{width}.txt", out)
    assert width_of(out) <= width
    # Every finding shows its severity, rule, whole resource name and location: on one line in
    # a table, or in its own two-line block (the name folded only where it is longer than the line).
    blocks = _finding_blocks(out)
    assert len(blocks) == len(findings) == 8  # the SQS queue with no location argument is judged at its provider region
    for f, block in zip(sorted(findings, key=_order), blocks, strict=True):
        flat = "".join(line.strip() for line in block)
        assert block[0].startswith(str(f["severity"])) and str(f["rule_id"]) in block[0], block
        assert str(f["resource_name"]) in (block[0] if width >= 80 else flat), block
        assert f"{f['region'] or '?'} (" in " ".join(" ".join(block).split()), block
    if width >= 200:
        assert "Kind" in out and "Location" in out  # the table
    else:
        assert "Kind" not in out  # two lines per finding


def _order(f: dict[str, object]) -> tuple[int, str, str, str]:
    rank = ["info", "low", "medium", "high", "critical"].index(str(f["severity"]))
    return (-rank, str(f["rule_id"]), str(f["resource_name"]), str(f["fingerprint"]))


def _finding_blocks(out: str) -> list[list[str]]:
    """The findings section, one list of lines per finding (a line starting with a severity opens one)."""
    section = out.split("Findings (", 1)[1].split("Resources per country", 1)[0].splitlines()[1:]
    blocks: list[list[str]] = []
    for line in section:
        if re.match(r"(critical|high|medium|low|info)\b", line):
            blocks.append([line])
        elif blocks and line.startswith(" "):
            blocks[-1].append(line)
    return blocks


def test_no_color_on_a_terminal_keeps_the_layout(
    terminal: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """NO_COLOR (no-color.org) on a terminal: no colour at all, the very same text as in a pipe;
    without it, the terminal gets colour (the negative control)."""
    terminal.setenv("COLUMNS", "80")
    terminal.setenv("FORCE_COLOR", "1")  # rich treats the captured stdout as a terminal
    _, coloured = _gate(capsys)
    assert COLOUR.search(coloured), "a terminal gets colour"
    terminal.setenv("NO_COLOR", "1")
    _, plain = _gate(capsys)
    assert not COLOUR.search(plain), [m.group() for m in COLOUR.finditer(plain)][:5]
    assert normalise(ANSI.sub("", plain)) == (SNAPSHOTS / "gate-80.txt").read_text("utf-8")


@pytest.mark.parametrize(
    ("kind", "short"),
    [
        ("microsoft.documentdb/databaseaccounts", "documentdb/databaseaccounts"),
        ("microsoft.sql/servers/databases", "sql/databases"),
        ("microsoft.resources/subscriptions/resourcegroups", "resources/resourcegroups"),
        ("microsoft.containerservice/managedclusters", "containerservice/managedclusters"),
        ("aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_server_side_encry…"),
        ("s3.bucket", "s3.bucket"),
    ],
)
def test_long_kinds_are_shortened(kind: str, short: str) -> None:
    assert short_kind(kind) == short
    assert len(short_kind(kind)) <= 32


@pytest.mark.parametrize("width", [60, 80, 160])
def test_coverage_gaps_keep_where_and_why_at_any_width(width: int) -> None:
    """A gap's where (provider, scope, region, service, code) stays whole; only the error folds."""
    import datetime as dt
    import io

    from rich.console import Console

    from residency_audit.model import Gap
    from residency_audit.outputs.table import print_result

    from .store_support import PROD, res, scan_of

    service = "Microsoft.Sql/servers/databases/replicationLinks"
    error = "AuthorizationFailed: the client does not have authorization to perform action " * 2
    gaps = [
        Gap("azure", "0b1f6471-1bf0-4dda-aec3-cb9272f09590", "westeurope", service, error.strip(), "403"),
        Gap("aws", "111111111111", "", "s3", "AccessDenied: s3:ListAllMyBuckets", "AccessDenied"),
    ]
    result = scan_of([res("s3.bucket", "b", PROD, ("primary", "eu-west-1"))], dt.datetime(2026, 1, 1), gaps=gaps)
    out = io.StringIO()
    print_result(result, Console(file=out, width=width, force_terminal=False))
    text = out.getvalue()
    assert width_of(text) <= width
    assert "Coverage gaps (2): this scan is INCOMPLETE" in text
    lines = text.split("INCOMPLETE", 1)[1].splitlines()
    for gap in gaps:
        where = [gap.provider, gap.scope, gap.region or "global", gap.service, gap.code]
        for w in where:  # each whole on a line (all on one when the line is wide enough)
            assert any(w in line for line in lines), (w, lines)
        if width >= 160:
            assert any(all(w in line for w in where) for line in lines), (where, lines)
        assert gap.error.replace(" ", "") in "".join("".join(lines).split()), "the error, folded"
    assert ("Error" in text) == (width >= 160)  # a table when it fits, else two lines per gap
