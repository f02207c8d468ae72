"""Bad input: one clear line naming the file or argument and the problem, exit 2, never a traceback.

And the safety net: anything unexpected is one line and exit 4, with the
traceback only on request (--debug or RESIDENCY_AUDIT_DEBUG=1).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from residency_audit.cli import EXIT_CODES, main, run_command
from residency_audit.errors import EXIT_INTERNAL, UserError
from residency_emulator.aws import AwsEmulator

from .conftest import run_cli


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["scan", "aws", "--workers", "abc"],
            "residency-audit scan aws: error: argument --workers: invalid int value: 'abc'",
        ),
        (
            ["scan", "aws", "--format", "pdf"],
            "residency-audit scan aws: error: argument --format/-f: invalid choice: 'pdf'",
        ),
        (["scan", "nocloud"], "residency-audit scan: error: argument PROVIDER: invalid choice: 'nocloud'"),
        (["nocommand"], "residency-audit: error: argument COMMAND: invalid choice: 'nocommand'"),
        (["permissions", "oracle"], "residency-audit permissions: error: argument provider: invalid choice: 'oracle'"),
    ],
)
def test_bad_arguments_are_argparse_usage_plus_one_error_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    _, err = capsys.readouterr()
    assert exc.value.code == 2
    assert "Traceback" not in err
    assert err.startswith("usage: ")
    assert err.splitlines()[-1].startswith(message), err


@pytest.mark.parametrize(
    ("argv", "usage", "message"),
    [
        (
            ["scan", "aws", "--region", "eu-west-1"],
            "usage: residency-audit scan aws ",
            "residency-audit scan aws: error: unrecognized arguments: --region eu-west-1 (did you mean --regions?)",
        ),
        (
            ["scan", "aws", "--reg=eu-west-1"],  # an abbreviation is not taken for --regions
            "usage: residency-audit scan aws ",
            "residency-audit scan aws: error: unrecognized arguments: --reg=eu-west-1 (did you mean --regions?)",
        ),
        (
            ["report", "--lst", "3"],
            "usage: residency-audit report ",
            "residency-audit report: error: unrecognized arguments: --lst 3 (did you mean --last?)",
        ),
        (
            ["gate", "plan.json", "--formt", "json"],
            "usage: residency-audit gate ",
            "residency-audit gate: error: unrecognized arguments: --formt json (did you mean --format?)",
        ),
        (
            ["scan", "gcp", "--e", "x"],
            "usage: residency-audit scan gcp ",
            "residency-audit scan gcp: error: unrecognized arguments: --e x (did you mean --endpoint or --exit-zero or --exceptions or --exception-horizon?)",
        ),
        (
            ["demo", "--fail-on", "high"],  # the demo has no exit-code options: they would do nothing
            "usage: residency-audit demo ",
            "residency-audit demo: error: unrecognized arguments: --fail-on high",
        ),
        (["--bogus"], "usage: residency-audit [-h]", "residency-audit: error: unrecognized arguments: --bogus"),
    ],
)
def test_a_misspelled_option_gets_its_commands_usage(
    argv: list[str], usage: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    _, err = capsys.readouterr()
    assert exc.value.code == 2
    assert err.startswith(usage), err
    assert err.splitlines()[-1] == message


def test_no_parser_takes_abbreviations() -> None:
    """Every command and subcommand spells its options out (an abbreviation is a guess that a
    later option sharing the prefix would silently change)."""
    from residency_audit.cli import build_parser

    seen = []
    todo: list[argparse.ArgumentParser] = [build_parser([], full=True)]
    while todo:
        parser = todo.pop()
        seen.append(parser.prog)
        assert parser.allow_abbrev is False, parser.prog
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo.extend(action.choices.values())
    assert {"residency-audit", "residency-audit scan aws", "residency-audit report", "residency-audit demo"} <= set(
        seen
    )


def test_region_codes_are_checked_per_provider() -> None:
    """The same check for every provider's catalog; for AWS, botocore's partitions also count."""
    from residency_audit.commands.common import check_regions

    check_regions("gcp", ["europe-west4", "EUROPE-WEST1"])
    check_regions("azure", ["westeurope", "swedencentral"])
    check_regions("aws", ["xx-new-1"], also_known=["xx-new-1"])  # newer than the catalog, known to botocore
    valid = {"aws": "eu-west-1", "gcp": "europe-west1", "azure": "westeurope"}
    for provider, code, meant in (
        ("gcp", "europe-west44", "europe-west4"),
        ("azure", "westeuropa", "westeurope"),
        ("azure", "amsterdam", None),
        ("aws", "mars-north-1", None),
    ):
        with pytest.raises(UserError) as err:
            check_regions(provider, [valid[provider], code, code])
        hint = f" (did you mean {meant}?)" if meant else ";"
        assert str(err.value).startswith(f"--regions: unknown region '{code}'{hint}"), str(err.value)
        assert f"'residency-audit regions --provider {provider}' lists them" in str(err.value)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["scan", "aws", "--workers", "0"], "--workers must be at least 1"),
        (["scan", "aws", "--services", "s3,glacier"], "unknown AWS service(s) glacier"),
        (
            ["scan", "aws", "--regions", "eu-west-1,Frankfurt!"],
            "--regions: unknown region 'Frankfurt!' (did you mean eu-central-1?)",
        ),
        (
            ["scan", "aws", "--regions", "eu-westt-1,mars-north-1"],
            "--regions: unknown regions 'eu-westt-1' (did you mean eu-west-1?) and 'mars-north-1';",
        ),
        (
            ["scan", "aws", "--regions", "eu-west-1,us-est-1"],
            "--regions: unknown region 'us-est-1' (did you mean us-east-1 or us-west-1?)",
        ),
        (["scan", "aws", "--regions", ","], "expected a comma-separated list, got nothing"),
    ],
)
def test_bad_option_values_are_one_line(
    aws_env: AwsEmulator, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli([*argv, "-q"], capsys)
    assert code == 2 and out == ""
    assert _one_error_line(err).startswith(f"residency-audit: error: {message}")
    assert aws_env.front.log == [], "input errors are found before any API call"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AZURE_AUTHORITY_HOST": "ftp://login.example"}, "AZURE_AUTHORITY_HOST must be an https:// URL"),
        ({"AZURE_AUTHORITY_HOST": "https://[::1"}, "AZURE_AUTHORITY_HOST must be an https:// URL"),
        ({"AZURE_TOKEN_CREDENTIALS": "nonsense"}, "Azure credential settings: "),
        (
            {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_CERTIFICATE_PATH": "missing.pem"},
            "Azure credential settings: cannot read 'missing.pem'",
        ),
    ],
)
def test_bad_azure_credential_settings_are_one_line_exit_2(
    env: dict[str, str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by fuzzing the AZURE_* variables: these were internal errors (exit 4)."""
    from .cloud_support import AZURE_IDENTITY_VARS

    monkeypatch.chdir(tmp_path)
    for key in (*AZURE_IDENTITY_VARS, "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, out, err = run_cli(["scan", "azure", "--endpoint", "https://127.0.0.1:9", "--no-store", "-q"], capsys)
    assert code == 2 and out == ""
    assert _one_error_line(err).startswith(f"residency-audit: error: {message}"), err


def test_broken_rule_file_names_file_and_line(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "broken.yaml"
    rules.write_text("version: 1\nrules:\n  - id: X\n    severity: urgent\n    message: m\n    when: {}\n", "utf-8")
    code, _, err = run_cli(["scan", "aws", "--rules", str(rules), "-q"], capsys)
    assert code == 2
    assert (
        _one_error_line(err)
        == f"residency-audit: error: {rules}:4: severity must be one of info, low, medium, high, critical"
    )
    assert aws_env.front.log == []


@pytest.mark.parametrize("which", ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"])
def test_malformed_aws_config_names_the_file(
    aws_env: AwsEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    which: str,
) -> None:
    broken = tmp_path / "aws-file"
    broken.write_text("[default\nregion = eu-west-1\n", "utf-8")
    monkeypatch.setenv(which, str(broken))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)  # so that botocore reads the credentials file
    code, _, err = run_cli(["scan", "aws", "--regions", "eu-west-1", "-q"], capsys)
    assert code == 2
    line = _one_error_line(err)
    assert line.startswith(f"residency-audit: error: {broken}: cannot parse the AWS"), line


def test_unwritable_output_is_one_line(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", "utf-8")
    out = blocker / "report.json"
    code, _, err = run_cli(
        ["scan", "aws", "--regions", "eu-west-1", "--services", "ec2", "-f", "json", "-o", str(out), "-q"], capsys
    )
    assert code == 2
    assert _one_error_line(err).startswith(f"residency-audit: error: {out}: cannot write output")


# --------------------------------------------------------------------------- the safety net


def _bug(args: argparse.Namespace) -> int:
    raise KeyError("resource.owner")


def test_an_unexpected_exception_is_one_line_and_exit_4(capsys: pytest.CaptureFixture[str]) -> None:
    code = run_command(_bug, argparse.Namespace())
    _, err = capsys.readouterr()
    assert code == EXIT_INTERNAL == 4
    assert _one_error_line(err) == (
        "residency-audit: internal error: KeyError: 'resource.owner' (rerun with --debug for details)"
    )


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code = run_command(_bug, argparse.Namespace(), debug=True)
    _, err = capsys.readouterr()
    assert code == 4
    assert err.startswith("Traceback (most recent call last):") and "in _bug" in err
    assert err.splitlines()[-1].startswith("residency-audit: internal error: KeyError")


def test_user_errors_keep_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    def bad(args: argparse.Namespace) -> int:
        raise UserError("plan.json: not a Terraform plan")

    assert run_command(bad, argparse.Namespace()) == 2
    assert capsys.readouterr().err == "residency-audit: error: plan.json: not a Terraform plan\n"


def test_debug_switches_reach_the_command_line(tmp_path: Path) -> None:
    """--debug and RESIDENCY_AUDIT_DEBUG=1 are real options of the installed entry point; exit 4 is documented."""
    assert "4  internal error" in EXIT_CODES
    env = {**os.environ, "RESIDENCY_AUDIT_DEBUG": "1"}
    for argv, environ in ((["--debug", "permissions", "aws"], os.environ), (["permissions", "aws"], env)):
        proc = subprocess.run(
            [sys.executable, "-m", "residency_audit", *argv], env=environ, capture_output=True, text=True
        )
        assert proc.returncode == 0 and proc.stderr == ""
    readme = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    assert "| 4 |" in readme


@pytest.mark.parametrize("fmt", ["json", "sarif", "markdown", "table"])
def test_a_narrow_terminal_encoding_is_not_a_crash(fmt: str, tmp_path: Path) -> None:
    """Under PYTHONIOENCODING=ascii (LANG=C pipes, latin-1 consoles) a tag like 'Zürich' was exit 4."""
    import json

    fixture = Path(__file__).parent / "fixtures" / "plans" / "aws-v6" / "plan.json"
    plan = json.loads(fixture.read_text("utf-8"))
    for rc in plan["resource_changes"]:
        after = rc["change"].get("after")
        if isinstance(after, dict) and "bucket" in after:
            after["bucket"] = f"{after['bucket']}-zürich-東京"
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan), "utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    proc = subprocess.run(
        [sys.executable, "-m", "residency_audit", "gate", str(path), "-f", fmt], capture_output=True, env=env
    )
    assert proc.returncode == 1, proc.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in proc.stderr and b"internal error" not in proc.stderr
    out = proc.stdout.decode("utf-8")  # machine formats are UTF-8 whatever the terminal says
    if fmt == "json":
        assert any("東京" in r["name"] for r in json.loads(out)["resources"])
    elif fmt == "table":
        assert "\\u6771\\u4eac" in out or "\\xfc" in out  # escaped for the terminal, not dropped
    else:
        assert "東京" in out
