"""`guardrails aws` end to end: real boto3 over real HTTP against moto's Organizations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from residency_audit.geography import default_catalog
from residency_audit.providers.aws.client import READ_OPERATIONS
from residency_audit.providers.aws.scp import partition_regions
from residency_emulator.aws import AwsEmulator, operation_of

from .conftest import read_json, run_cli

EU_SIX = ["eu-west-1", "eu-central-1", "eu-north-1", "eu-west-3", "eu-south-1", "eu-south-2"]
GLOBAL = ["iam:*", "cloudfront:*", "route53:*", "sts:*", "organizations:*", "support:*"]
NON_EU = {r for r in partition_regions("aws") if not default_catalog().resolve("aws", r).in_eu}


def _doc(statement: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def seed_org(emu: AwsEmulator, enable_scps: bool = True) -> dict[str, str]:
    """An organisation with the classic mistakes; returns name -> id."""
    org = boto3.client("organizations", region_name="us-east-1", endpoint_url=emu.url)
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    if enable_scps:
        org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    ids: dict[str, str] = {"root": root}
    for ou in ("Workloads", "Sandbox", "Governed"):
        ids[ou] = org.create_organizational_unit(ParentId=root, Name=ou)["OrganizationalUnit"]["Id"]
    for name, parent in (
        ("prod", "Workloads"),
        ("staging", "Workloads"),
        ("sandbox", "Sandbox"),
        ("governed", "Governed"),
        ("legacy", None),
    ):
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        acct = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
        ids[name] = acct["AccountId"]
        if parent:
            org.move_account(AccountId=ids[name], SourceParentId=root, DestinationParentId=ids[parent])
    policies = {
        "deny-outside-eu": (
            "Workloads",
            {
                "Effect": "Deny",
                "NotAction": GLOBAL,
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:RequestedRegion": EU_SIX}},
            },
        ),
        "eu-star": (
            "Sandbox",
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringNotLike": {"aws:RequestedRegion": "eu-*"}},
            },
        ),
        "aws-guardrails-QwErTy": (
            "Governed",
            {
                "Sid": "GRREGIONDENY",
                "Effect": "Deny",
                "NotAction": [*GLOBAL, "kms:*"],
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]},
                    "ArnNotLike": {"aws:PrincipalARN": ["arn:aws:iam::*:role/AWSControlTowerExecution"]},
                },
            },
        ),
    }
    for name, (target, statement) in policies.items():
        pid = org.create_policy(Name=name, Description=name, Type="SERVICE_CONTROL_POLICY", Content=_doc(statement))[
            "Policy"
        ]["PolicySummary"]["Id"]
        org.attach_policy(PolicyId=pid, TargetId=ids[target])
        ids[name] = pid
    ids["management"] = org.describe_organization()["Organization"]["MasterAccountId"]
    return ids


def _key(f: dict[str, Any], names: dict[str, str]) -> tuple[str, str, str | None]:
    return (f["rule_id"], names[f["owner_id"]], f["region"])


@pytest.fixture(scope="module")
def org_report(aws_emu: AwsEmulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Seed the organisation once and share the JSON report (each emulator call costs CPU)."""
    import os

    from residency_audit.cli import main

    mp = pytest.MonkeyPatch()
    aws_emu.reset()
    for key, value in aws_emu.env().items():
        mp.setenv(key, value)
    for key in ("AWS_PROFILE",):
        mp.delenv(key, raising=False)
    mp.setenv("AWS_CONFIG_FILE", os.devnull)
    mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    try:
        ids = seed_org(aws_emu)
        aws_emu.front.clear_log()
        out = tmp_path_factory.mktemp("guardrails") / "guardrails.json"
        code = main(
            [
                "guardrails",
                "aws",
                "--estate-kinds",
                "cloudfront.distribution,s3.bucket",
                "-f",
                "json",
                "-o",
                str(out),
                "-q",
            ]
        )
        report: dict[str, Any] = read_json(out)
        report["_exit"], report["_ids"] = code, ids
        report["_wire"] = [operation_of(r) for r in aws_emu.front.log]
        return report
    finally:
        mp.undo()


def test_exact_findings(org_report: dict[str, Any]) -> None:
    ids = org_report["_ids"]
    names = {ids[n]: n for n in ("prod", "staging", "sandbox", "governed", "legacy", "management")}
    got = {_key(f, names) for f in org_report["findings"]}
    expected = {
        ("RA-GR-REGION", "sandbox", "eu-west-2"),
        ("RA-GR-REGION", "sandbox", "eu-central-2"),
        ("RA-GR-UNCOVERED", "legacy", "*"),
        ("RA-GR-UNCOVERED", "management", "*"),
        ("RA-GR-GLOBAL-USED", "prod", "us-east-1"),
        ("RA-GR-GLOBAL-USED", "staging", "us-east-1"),
        ("RA-GR-GLOBAL-USED", "governed", "us-east-1"),
    } | {("RA-GR-CONDITIONAL", "governed", r) for r in NON_EU}
    assert got == expected
    assert {"us-east-1", "eu-west-2", "eu-central-2"} <= NON_EU
    assert org_report["_exit"] == 1
    assert org_report["scan"]["complete"] is True


def test_messages_say_which_scope_to_fix(org_report: dict[str, Any]) -> None:
    ids = org_report["_ids"]
    by = {(f["rule_id"], f["owner_id"], f["region"]): f["message"] for f in org_report["findings"]}
    london = by[("RA-GR-REGION", ids["sandbox"], "eu-west-2")]
    assert london == (
        f"account sandbox ({ids['sandbox']}): the guardrail still allows eu-west-2 (Europe (London), GB): "
        f"'eu-star' at OU Sandbox ({ids['Sandbox']}) does not apply "
        f"(StringNotLike aws:RequestedRegion: 'eu-west-2' matches 'eu-*'). Fix at OU Sandbox ({ids['Sandbox']})"
    )
    legacy = by[("RA-GR-UNCOVERED", ids["legacy"], "*")]
    assert legacy.endswith(f"Fix at account legacy ({ids['legacy']})")
    mgmt = by[("RA-GR-UNCOVERED", ids["management"], "*")]
    assert "management account: SCPs never apply to it" in mgmt
    ct = by[("RA-GR-CONDITIONAL", ids["governed"], "us-east-1")]
    assert "AWSControlTowerExecution" in ct
    assert any(
        "Control Tower region deny recognised in SCP(s) aws-guardrails-QwErTy" in n for n in org_report["scan"]["notes"]
    )
    # none of the art. 6 rules fire on what is only *allowed*
    assert not {f["rule_id"] for f in org_report["findings"]} & {"RA-EU-OUTSIDE", "RA-US-SOIL", "RA-EU-UNKNOWN"}


def test_every_wire_call_is_on_the_read_allow_list(org_report: dict[str, Any]) -> None:
    wire = org_report["_wire"]
    assert wire, "the front must have recorded the audit's requests"
    assert set(wire) <= READ_OPERATIONS
    assert {"ListPoliciesForTarget", "DescribePolicy", "ListRoots"} <= {op for _, op in wire}
    assert sum(org_report["scan"]["api_calls"].values()) == len(wire)


def test_table_output_names_the_fix(aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ids = seed_org(aws_env)
    out = tmp_path / "g.txt"
    code, _, _ = run_cli(["guardrails", "aws", "--fail-on", "critical", "-f", "table", "-o", str(out), "-q"], capsys)
    assert code == 0  # nothing critical: guardrail gaps are high at most
    # whole, on one line: the table goes two lines per finding rather than fold long names
    lines = out.read_text("utf-8").splitlines()
    assert any(f"account sandbox ({ids['sandbox']}), fix: OU Sandbox ({ids['Sandbox']})" in line for line in lines)


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_allowed_regions_are_not_counted_as_data_per_country(
    fmt: str, aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A guardrail's locations are what it allows, not where data is: no "Resources per country" rows."""
    seed_org(aws_env)
    out = tmp_path / f"g.{fmt}"
    run_cli(["guardrails", "aws", "-f", fmt, "-o", str(out), "-q"], capsys)
    text = out.read_text("utf-8")
    assert "RA-GR-REGION" in text  # the findings are there...
    assert "Resources per country" not in text  # ... but no country holds data of this audit


def test_unreadable_ou_policies_are_a_gap_and_fail_closed(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from residency_emulator.front import Request, Response

    ids = seed_org(aws_env)

    def deny(req: Request) -> Response | None:
        if (
            req.headers.get("X-Amz-Target", "").endswith("ListPoliciesForTarget")
            and ids["Workloads"].encode() in req.body
        ):
            body = b'{"__type":"AccessDeniedException","Message":"not allowed"}'
            return Response(400, {"Content-Type": "application/x-amz-json-1.1"}, body)
        return None

    aws_env.front.request_hooks.insert(0, deny)
    try:
        out = tmp_path / "g.json"
        code, _, _ = run_cli(["guardrails", "aws", "-f", "json", "-o", str(out), "-q"], capsys)
    finally:
        aws_env.front.request_hooks.remove(deny)
    report = read_json(out)
    assert code == 1
    assert report["scan"]["complete"] is False
    assert [(g["scope"], g["code"]) for g in report["scan"]["gaps"]] == [(ids["Workloads"], "AccessDeniedException")]
    # unreadable = assumed to allow everything: prod and staging are now reported uncovered
    uncovered = {f["owner_id"] for f in report["findings"] if f["rule_id"] == "RA-GR-UNCOVERED"}
    assert uncovered == {ids["prod"], ids["staging"], ids["legacy"], ids["management"]}


def test_standalone_account_is_uncovered(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "g.json"
    code, _, _ = run_cli(["guardrails", "aws", "-f", "json", "-o", str(out), "-q"], capsys)
    report = read_json(out)
    assert code == 1
    assert [(f["rule_id"], f["owner_id"]) for f in report["findings"]] == [("RA-GR-UNCOVERED", "123456789012")]
    assert "not in an AWS Organization" in report["findings"][0]["message"]


def test_estate_report_drives_global_service_usage(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_org(aws_env)
    estate = tmp_path / "estate.json"
    estate.write_text(json.dumps({"resources": [{"kind": "s3.bucket"}, {"kind": "ec2.instance"}]}))
    out = tmp_path / "g.json"
    run_cli(["guardrails", "aws", "--estate", str(estate), "-f", "json", "-o", str(out), "-q"], capsys)
    rules = {f["rule_id"] for f in read_json(out)["findings"]}
    assert "RA-GR-GLOBAL" in rules and "RA-GR-GLOBAL-USED" not in rules


def test_bad_estate_file_is_exit_2(aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "estate.json"
    bad.write_text("{nope")
    code, _, err = run_cli(["guardrails", "aws", "--estate", str(bad), "-q"], capsys)
    assert code == 2 and err.count("\n") == 1 and "invalid JSON" in err


def test_no_credentials_is_exit_2(
    aws_env: AwsEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, _, err = run_cli(["guardrails", "aws", "-q"], capsys)
    assert code == 2 and "no AWS credentials" in err and "Traceback" not in err


def test_the_guard_refuses_anything_not_on_the_allow_list(aws_env: AwsEmulator) -> None:
    """A write through the reader's client never reaches the wire."""
    from residency_audit.core import Collector
    from residency_audit.model import Scan, ScanRequest
    from residency_audit.providers.aws.policies import PolicyReader
    from residency_audit.providers.base import ReadOnlyViolation

    reader = PolicyReader(boto3.Session(), Collector(Scan(ScanRequest("aws"))))
    aws_env.front.clear_log()
    with pytest.raises(ReadOnlyViolation, match="organizations:CreateOrganization"):
        reader.client("organizations").create_organization(FeatureSet="ALL")
    assert aws_env.front.log == []
    assert {op for _, op in READ_OPERATIONS} >= {"ListPoliciesForTarget", "DescribePolicy"}
    assert not any(op.startswith(("Create", "Attach", "Detach", "Update", "Delete")) for _, op in READ_OPERATIONS)


def test_scps_not_enabled_leaves_every_account_uncovered(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = seed_org(aws_env, enable_scps=False)
    out = tmp_path / "g.json"
    code, _, _ = run_cli(["guardrails", "aws", "-f", "json", "-o", str(out), "-q"], capsys)
    findings = read_json(out)["findings"]
    assert code == 1
    accounts = {ids[n] for n in ("prod", "staging", "sandbox", "governed", "legacy", "management")}
    assert {(f["rule_id"], f["owner_id"], f["region"]) for f in findings} == {
        ("RA-GR-UNCOVERED", a, "*") for a in accounts
    }
    assert all("SERVICE_CONTROL_POLICY type is not enabled" in f["message"] for f in findings)
