"""`scan aws --organization` input errors: one line, exit 2, before any scanning."""

from __future__ import annotations

import pytest

from residency_audit.emulator.aws import AwsEmulator

from .conftest import run_cli


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--shard", "0/3"], "need 1 <= i <= N"),
        (["--shard", "two"], "--shard expects i/N"),
        (["--shard-group", "x"], "--shard-group needs --shard"),
    ],
)
def test_bad_shard_options_exit_2(
    aws_env: AwsEmulator, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["scan", "aws", "--organization", "-q", *extra], capsys)
    assert code == 2 and message in err and err.count("\n") == 1


def test_org_options_need_organization(aws_env: AwsEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["scan", "aws", "--shard", "1/2", "--accounts", "a", "-q"], capsys)
    assert code == 2 and "--accounts, --shard needs --organization" in err


def test_not_an_organization_is_exit_2(aws_env: AwsEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["scan", "aws", "--organization", "--regions", "eu-west-1", "-q"], capsys)
    assert code == 2 and err.count("\n") == 1 and "cannot read the organisation's accounts" in err
    assert "Traceback" not in err


def test_log_json_to_stdout_needs_output(aws_env: AwsEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["scan", "aws", "--log-json", "-", "-f", "json"], capsys)
    assert code == 2 and "--output" in err
