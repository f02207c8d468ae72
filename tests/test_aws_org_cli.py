"""`scan aws --organization` input errors: one line, exit 2, before any scanning."""

from __future__ import annotations

import json

import pytest

from residency_emulator.aws import AwsEmulator

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


def test_rich_progress_has_a_row_per_account() -> None:
    """The terminal display: an overall bar and one row per account, named once the account starts."""
    import io

    from rich.console import Console

    from residency_audit.commands.common import JsonLog, Progresses, RichProgress

    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    log_file = io.StringIO()
    log = JsonLog(log_file)
    with RichProgress(console, "Scanning aws") as progress:
        sink = Progresses([progress, log])
        sink.event("account_started", {"provider": "aws", "account": "111111111111", "name": "shop"})
        sink.add_work("aws:111111111111", 2)
        sink.add_work("aws:222222222222", 1)
        sink.done("aws:111111111111", "ec2 eu-west-1")
        sink.done("aws:222222222222", "s3 global")
        tasks = {t.description: (t.completed, t.total) for t in progress._progress.tasks}
    assert tasks == {
        "Scanning aws": (2, 3),
        "  aws:111111111111 shop": (1, 2),
        "  aws:222222222222": (1, 1),
    }
    lines = [json.loads(line) for line in log_file.getvalue().splitlines()]
    assert [(e["event"], e["account"]) for e in lines] == [("account_started", "111111111111")]
