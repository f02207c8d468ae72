"""Fail closed, for every provider: a scan with gaps exits 3 and every output says coverage was incomplete, listing them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from residency_audit.commands.common import exit_code
from residency_audit.model import Gap, Location, Owner, Resource, RunPolicy, Scan, ScanRequest, ScanResult
from residency_audit.outputs import FORMATS, renderer

from .conftest import read_json, run_cli
from .trust_support import HARNESSES, Denied, Harness


def _warning(denied: Denied, allowed: bool = False) -> str:
    why = "scan incomplete (allowed by --allow-gaps):" if allowed else "scan incomplete:"
    return f"residency-audit: warning: {why} 1 coverage gap(s): {denied.label}\n"


def _gaps(scan: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(g["scope"], g["region"], g["service"], g["code"]) for g in scan["gaps"]]


def test_a_part_not_read_makes_every_output_say_incomplete_and_exit_3(
    trust: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One part the credential may not read (AWS a region's service, Google Cloud a project's service,
    Azure a subscription), in a scope with nothing else wrong: exit 3, and JSON, the terminal table
    and a table file each say so and list the gap; --allow-gaps makes it a warning, not a silence."""
    denied = trust.denied()
    # JSON, quiet: nothing on stdout, and still the one warning line.
    out = tmp_path / "r.json"
    code, stdout, stderr = run_cli([*denied.args, "-f", "json", "-o", str(out), "-q"], capsys)
    assert code == 3, stderr
    assert stdout == ""
    assert stderr == _warning(denied)  # even --quiet says it, in one line
    scan = read_json(out)["scan"]
    assert scan["complete"] is False and scan["interrupted"] is False
    assert _gaps(scan) == [denied.gap]

    # The table on the terminal lists the gap, its row naming where and what.
    code, stdout, stderr = run_cli(denied.args, capsys)
    assert code == 3
    assert "Coverage gaps (1): this scan is INCOMPLETE" in stdout
    assert "coverage incomplete" in stdout
    section = stdout.split("Coverage gaps (1)", 1)[1].split(" resources, ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith(f"{trust.name} "))
    scope, region, service, code_ = denied.gap
    assert scope in row and (region or "global") in row and service in row, row
    assert code_ in section and denied.code in section, section
    assert stderr.endswith(_warning(denied))

    # A table file says so too.
    text_out = tmp_path / "r.txt"
    code, _, _ = run_cli([*denied.args, "-f", "table", "-o", str(text_out), "-q"], capsys)
    text = text_out.read_text("utf-8")
    assert code == 3
    assert "this scan is INCOMPLETE" in text and denied.code in text

    # --allow-gaps: exit 0, but the warning and the report still say incomplete.
    code, _, stderr = run_cli([*denied.args, "-f", "json", "-o", str(out), "-q", "--allow-gaps"], capsys)
    assert code == 0
    assert stderr == _warning(denied, allowed=True)
    scan = read_json(out)["scan"]
    assert scan["complete"] is False and _gaps(scan) == [denied.gap]


def _result(gaps: list[Gap], interrupted: bool = False) -> ScanResult:
    scan = Scan(ScanRequest("aws"), gaps=gaps, interrupted=interrupted)
    resource = Resource("aws", "s3.bucket", "arn:aws:s3:::b", "b", Owner("account", "1"), [Location("eu-west-1")])
    return ScanResult(scan=scan, resources=[resource], findings=[])


def _args(**kw: object) -> argparse.Namespace:
    return argparse.Namespace(**{"exit_zero": False, "fail_on": "low", "allow_gaps": False, **kw})


def test_exit_codes_for_gaps_and_interruptions() -> None:
    gap = Gap("aws", "1", "eu-west-1", "rds", "denied", "AccessDenied")
    assert exit_code(_result([]), _args()) == 0
    assert exit_code(_result([gap]), _args()) == 3
    assert exit_code(_result([gap]), _args(allow_gaps=True)) == 0
    # An interrupted scan is partial by choice: --allow-gaps does not make it pass.
    assert exit_code(_result([], interrupted=True), _args(allow_gaps=True)) == 3
    assert exit_code(_result([], interrupted=True), _args(exit_zero=True)) == 0


#: Gaps as each adapter records them (scope: account, project / org scope, subscription).
PROVIDER_GAPS = {name: list(harness.sample_gaps) for name, harness in HARNESSES.items()}


@pytest.mark.parametrize("provider", sorted(PROVIDER_GAPS))
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_output_format_says_incomplete_and_lists_each_gap(fmt: str, provider: str) -> None:
    """Every registered format, including ones added later (SARIF, JUnit, HTML, CSV...), for each provider's gaps."""
    gaps = PROVIDER_GAPS[provider]
    text = renderer(fmt)(_result(gaps), RunPolicy())
    if fmt == "json":
        scan = json.loads(text)["scan"]
        assert scan["complete"] is False
        assert [(g["provider"], g["scope"], g["region"], g["service"], g["code"]) for g in scan["gaps"]] == [
            (g.provider, g.scope, g.region, g.service, g.code) for g in gaps
        ]
        return
    assert "incomplete" in text.lower(), f"{fmt} output does not say coverage was incomplete"
    for gap in gaps:
        for part in (gap.scope, gap.service, gap.code, gap.region or "global"):
            assert part in text, f"{fmt} output does not list gap {gap} ({part!r} missing)"
