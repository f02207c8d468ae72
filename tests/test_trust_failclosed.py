"""Fail closed: a scan with gaps exits 3 and every output says coverage was incomplete, listing the gaps."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from residency_audit.commands.common import exit_code
from residency_audit.model import Gap, Location, Owner, Resource, Scan, ScanRequest, ScanResult
from residency_audit.outputs import FORMATS, renderer
from residency_emulator.aws import AwsEmulator
from residency_emulator.front import Request, Response

from .conftest import read_json, run_cli

GAP = ("eu-west-1", "lambda", "AccessDeniedException")
WARNING = "residency-audit: warning: scan incomplete: 1 coverage gap(s): aws:123456789012:eu-west-1:lambda\n"


@pytest.fixture
def lambda_denied(aws_env: AwsEmulator) -> Iterator[AwsEmulator]:
    def deny(req: Request) -> Response | None:
        if req.path.startswith("/2015-03-31/functions"):
            return Response(
                403,
                {"Content-Type": "application/json", "x-amzn-ErrorType": "AccessDeniedException"},
                b'{"Type":"User","Message":"not authorised to list functions"}',
            )
        return None

    aws_env.front.request_hooks.insert(0, deny)
    yield aws_env
    aws_env.front.request_hooks.remove(deny)


SCAN = ["scan", "aws", "--regions", "eu-west-1", "--services", "lambda,ec2"]


def test_json_output_marks_the_scan_incomplete(
    lambda_denied: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    code, stdout, stderr = run_cli([*SCAN, "-f", "json", "-o", str(out), "-q"], capsys)
    assert code == 3
    assert stdout == ""
    assert stderr == WARNING  # even --quiet says it, in one line
    scan = read_json(out)["scan"]
    assert scan["complete"] is False and scan["interrupted"] is False
    assert [(g["region"], g["service"], g["code"]) for g in scan["gaps"]] == [GAP]


def test_table_on_the_terminal_lists_the_gaps(lambda_denied: AwsEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, stderr = run_cli(SCAN, capsys)
    assert code == 3
    assert "Coverage gaps (1): this scan is INCOMPLETE" in stdout
    assert "coverage incomplete" in stdout
    row = next(line for line in stdout.splitlines() if "AccessDeniedException" in line)
    assert "eu-west-1" in row and "lambda" in row and "123456789012" in row
    assert stderr.endswith(WARNING)


def test_table_file_lists_the_gaps(
    lambda_denied: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.txt"
    code, _, _ = run_cli([*SCAN, "-f", "table", "-o", str(out), "-q"], capsys)
    text = out.read_text("utf-8")
    assert code == 3
    assert "this scan is INCOMPLETE" in text and "AccessDeniedException" in text


def test_allow_gaps_makes_gaps_a_warning_not_a_silence(
    lambda_denied: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    code, _, stderr = run_cli([*SCAN, "-f", "json", "-o", str(out), "-q", "--allow-gaps"], capsys)
    assert code == 0
    assert stderr == WARNING.replace("scan incomplete:", "scan incomplete (allowed by --allow-gaps):")
    scan = read_json(out)["scan"]
    assert scan["complete"] is False and len(scan["gaps"]) == 1


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


GAPS = [
    Gap("aws", "111122223333", "ap-southeast-2", "rds", "throttled after 6 attempts", "Throttling"),
    Gap("aws", "111122223333", "", "s3", "access denied", "AccessDenied"),
]
#: Gaps as each adapter records them (scope: account, project / org scope, subscription).
PROVIDER_GAPS = {
    "aws": GAPS,
    "gcp": [
        Gap("gcp", "data-platform", "", "bigquery", "RATE_LIMIT_EXCEEDED: quota exceeded", "429"),
        Gap("gcp", "organizations/100000000001", "", "cloudasset", "SERVICE_DISABLED: Cloud Asset API", "403"),
        Gap("gcp", "shop-prod", "europe-west9", "cloudfunctions", "location unreachable", ""),
    ],
    "azure": [
        Gap(
            "azure",
            "3d6a0e4c-1b5f-4c8d-a03e-7f9b1c4d5e03",
            "",
            "Microsoft.Resources",
            "The client does not have authorization",
            "AuthorizationFailed",
        ),
        Gap(
            "azure",
            "1b4e8c2a-9f3d-4a6b-8e1c-5d7f9a2b3c01",
            "westeurope",
            "microsoft.documentdb/databaseaccounts",
            "not registered",
            "MissingSubscriptionRegistration",
        ),
    ],
}


@pytest.mark.parametrize("provider", sorted(PROVIDER_GAPS))
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_output_format_says_incomplete_and_lists_each_gap(fmt: str, provider: str) -> None:
    """Every registered format, including ones added later (SARIF, JUnit, HTML, CSV...), for each provider's gaps."""
    gaps = PROVIDER_GAPS[provider]
    text = renderer(fmt)(_result(gaps))
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
