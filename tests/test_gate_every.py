"""The gate judges every resource of every cloud provider, from Terraform 0.12 on (issue 14).

Fixtures: `aws-every` was planned by the real `terraform` (1.11) with hashicorp/aws v5.100;
the others were written as Terraform writes them (see tests/fixtures/plans/README.md).
The corpus test reads the real plans of other projects in ../shared/realplans in place.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from residency_audit.kinds import classify

from .conftest import read_json, run_cli

PLANS = Path(__file__).parent / "fixtures" / "plans"
REALPLANS = Path(__file__).resolve().parents[2] / "shared" / "realplans"
CLOUD_PREFIXES = ("aws_", "awscc_", "google_", "azurerm_", "azapi_")

Key = tuple[str, str, str, str | None]

EXPECTED: dict[str, set[Key]] = {
    "aws-every": {
        # unmodelled types: judged at their provider's region (AWS provider v5: no per-resource region)
        ("RA-US-SOIL", "aws_cloudwatch_log_group.audit", "primary", "us-east-1"),
        ("RA-US-SOIL", "aws_sns_topic.alerts", "primary", "us-east-1"),
        ("RA-US-SOIL", "aws_kinesis_stream.clicks", "primary", "us-east-1"),
        ("RA-US-SOIL", "aws_redshift_cluster.warehouse", "primary", "us-east-1"),
        ("RA-US-SOIL", "aws_opensearch_domain.search", "primary", "us-east-1"),
        ("RA-US-SOIL", "aws_codebuild_project.build", "primary", "us-west-2"),
        # a network in Virginia holds no data, but is an activity there
        ("RA-US-SOIL", "aws_vpc.virginia", "primary", "us-east-1"),
        # control plane: a security group in London, IAM and DNS in the global control plane
        ("RA-CONTROL-PLANE", "aws_security_group.london", "primary", "eu-west-2"),
        ("RA-CONTROL-PLANE", "aws_iam_role.build", "primary", "aws-global"),
        ("RA-CONTROL-PLANE", "aws_route53_zone.internal", "primary", "aws-global"),
        # CloudFront carries data through edge locations in the United States (every price class)
        ("RA-US-SOIL", "aws_cloudfront_distribution.cdn", "primary", "aws-global"),
        # data footprints: copies outside the EU
        ("RA-US-SOIL", "aws_secretsmanager_secret.api", "replica", "us-west-2"),
        ("RA-US-SOIL", "aws_ecr_replication_configuration.images", "replica", "us-east-1"),
        ("RA-US-SOIL", "aws_kms_key.data", "replica", "us-east-1"),  # a multi-Region replica key in Virginia
        ("RA-US-SOIL", "aws_rds_global_cluster.orders", "replica", "us-east-1"),
        ("RA-US-SOIL", "aws_rds_cluster.orders_us", "primary", "us-east-1"),
        ("RA-US-SOIL", "aws_elasticache_global_replication_group.sessions", "replica", "us-east-1"),
        ("RA-US-SOIL", "aws_elasticache_replication_group.sessions_us", "primary", "us-east-1"),
    },
    "gcp-every": {
        ("RA-US-SOIL", "google_spanner_instance.regional_us", "primary", "spanner/regional-us-central1"),
        ("RA-US-SOIL", "google_spanner_instance.nam3", "primary", "spanner/nam3"),  # Virginia, South Carolina, Iowa
        ("RA-EU-OUTSIDE", "google_bigtable_instance.events", "replica", "australia-southeast1"),
        ("RA-EU-OUTSIDE", "google_pubsub_topic.sydney", "primary", "australia-southeast1"),
        ("RA-EU-UNKNOWN", "google_pubsub_topic.anywhere", "primary", None),  # no storage policy: any region
        ("RA-US-SOIL", "google_secret_manager_secret.us_replicas", "primary", "us-central1"),
        ("RA-US-SOIL", "google_secret_manager_secret.us_replicas", "replica", "us-east1"),
        ("RA-EU-UNKNOWN", "google_secret_manager_secret.automatic", "primary", "global"),  # Google chooses
        ("RA-US-SOIL", "google_firestore_database.app", "primary", "nam5"),
        ("RA-US-SOIL", "google_cloud_scheduler_job.nightly", "primary", "us-east1"),  # google-beta's default region
        ("RA-CONTROL-PLANE", "google_compute_network.main", "primary", "global"),
        ("RA-CONTROL-PLANE", "google_project_iam_member.auditor", "primary", "global"),
        ("RA-EU-UNKNOWN", "google_compute_global_forwarding_rule.web", "primary", "global"),  # edge worldwide
    },
    "azure-every": {
        ("RA-US-SOIL", "azurerm_network_security_group.us", "primary", "eastus"),
        ("RA-US-SOIL", "azurerm_network_security_rule.us_https", "primary", "eastus"),  # lives in its NSG
        ("RA-EU-OUTSIDE", "azurerm_key_vault.uk", "primary", "uksouth"),
        ("RA-EU-OUTSIDE", "azurerm_key_vault.uk", "secondary", "ukwest"),  # Key Vault replicates to the pair
        ("RA-EU-OUTSIDE", "azurerm_postgresql_flexible_server.ch", "primary", "switzerlandnorth"),
        ("RA-EU-OUTSIDE", "azurerm_postgresql_flexible_server.ch", "backup", "switzerlandwest"),
        ("RA-US-SOIL", "azurerm_container_registry.images", "replica", "eastus"),
        ("RA-US-SOIL", "azurerm_mssql_server.partner", "primary", "eastus"),
        ("RA-US-SOIL", "azurerm_mssql_failover_group.crm", "replica", "eastus"),
        ("RA-CONTROL-PLANE", "azurerm_role_assignment.reader", "primary", "global"),
        ("RA-CONTROL-PLANE", "azurerm_private_dns_zone.internal", "primary", "global"),
        ("RA-US-SOIL", "azapi_resource.us_storage", "primary", "eastus"),
        ("RA-US-SOIL", "azapi_resource.us_container", "primary", "eastus"),  # a child of it
    },
    "awscc": {
        ("RA-US-SOIL", "awscc_s3_bucket.exports", "primary", "us-east-1"),
        ("RA-CONTROL-PLANE", "awscc_iam_role.app", "primary", "aws-global"),
    },
    "tf012": {("RA-US-SOIL", "module.us.aws_sqs_queue.this", "primary", "us-east-1")},
}

#: Resources that must be judged at these regions and found clean.
CLEAN: dict[str, dict[str, str]] = {
    "aws-every": {
        "aws_sqs_queue.jobs": "eu-central-1",
        "aws_vpc.main": "eu-central-1",
        "aws_subnet.app": "eu-central-1",  # computed availability_zone: the provider's region, not unknown
        "aws_instance.app": "eu-central-1",
        "aws_rds_cluster.orders_eu": "eu-central-1",
        "aws_elasticache_replication_group.sessions": "eu-central-1",
    },
    "gcp-every": {
        "google_spanner_instance.eu": "spanner/regional-europe-west4",
        "google_spanner_database.orders": "spanner/regional-europe-west4",
        "google_pubsub_topic.pinned": "europe-west4",
        "google_pubsub_subscription.pinned": "europe-west4",
        "google_bigquery_table.events": "eu",
        "google_compute_subnetwork.app": "europe-west4",
    },
    "azure-every": {
        "azurerm_subnet.app": "westeurope",  # where its virtual network is
        "azurerm_subnet_network_security_group_association.app": "westeurope",
        "azurerm_postgresql_flexible_server.eu": "westeurope",
        "azurerm_postgresql_flexible_server_database.app": "westeurope",
        "azurerm_mssql_server.primary": "westeurope",
    },
    "awscc": {"awscc_sqs_queue.jobs": "eu-west-1"},
    "tf012": {
        "aws_sqs_queue.root": "eu-west-1",
        "module.db.aws_db_instance.this": "eu-west-1",  # `db:aws` has no block of its own: the root's
        "module.db.aws_sns_topic.events": "eu-west-1",
    },
}


def gate(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return run_cli(["gate", *args], capsys)


def report(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / "report.json"
    code, _, err = gate([str(path), "-f", "json", "-o", str(out), "-q", "--exceptions", os.devnull], capsys)
    return code, (read_json(out) if out.exists() else {}), err


def keys(rep: dict[str, Any]) -> set[Key]:
    return {(f["rule_id"], f["resource_id"], f["role"], f["region"]) for f in rep["findings"] if not f["suppressed_by"]}


def planned_cloud_resources(plan: dict[str, Any]) -> set[str]:
    """Managed resources of a cloud provider that exist after apply (what the gate must judge)."""
    out = set()
    for rc in plan.get("resource_changes") or ():
        change = rc["change"]
        if rc.get("mode", "managed") != "managed" or not rc["type"].startswith(CLOUD_PREFIXES):
            continue
        if not {"create", "update", "no-op", "read"} & set(change["actions"]):
            continue
        if change.get("after") is None and not change.get("after_unknown"):
            continue  # a no-op of an instance that exists neither before nor after
        out.add(rc["address"])
    return out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_resource_judged_with_exact_findings(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = PLANS / name / "plan.json"
    code, rep, err = report(path, tmp_path, capsys)
    assert err == "" and code == 1
    assert keys(rep) == EXPECTED[name]
    by_id = {r["id"]: r for r in rep["resources"]}
    # nothing passes unjudged: every planned cloud resource is a record with a location
    assert planned_cloud_resources(json.loads(path.read_text())) == set(by_id)
    assert all(r["locations"] for r in rep["resources"])
    flagged = {f["resource_id"] for f in rep["findings"]}
    for address, region in CLEAN[name].items():
        assert next(loc["region"] for loc in by_id[address]["locations"]) == region, address
        assert address not in flagged, address
    assert rep["scan"]["complete"] is True


def test_settings_and_children_are_judged_with_their_parent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, rep, _ = report(PLANS / "azure-every" / "plan.json", tmp_path, capsys)
    by_id = {r["id"]: r for r in rep["resources"]}
    secret = by_id["azurerm_key_vault_secret.db"]
    assert secret["part_of"] == "azurerm_key_vault.uk" and secret["judged"] == "parent"
    assert {loc["region"] for loc in secret["locations"]} == {"uksouth", "ukwest"}
    # the vault carries the findings; its secret adds none of its own
    assert "azurerm_key_vault_secret.db" not in {f["resource_id"] for f in rep["findings"]}
    # a subnet is not a setting: it is judged itself, where its network is
    assert by_id["azurerm_subnet.app"]["judged"] == "primary" and "part_of" not in by_id["azurerm_subnet.app"]


def test_output_says_how_deeply_each_type_was_judged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, rep, _ = report(PLANS / "aws-every" / "plan.json", tmp_path, capsys)
    coverage = {c["type"]: c for c in rep["scan"]["coverage"]}
    assert coverage["aws_secretsmanager_secret"]["judged"] == {"footprint": 1}
    assert coverage["aws_sqs_queue"] == {
        "type": "aws_sqs_queue",
        "kind": "aws_sqs_queue",
        "category": "data",
        "resources": 1,
        "judged": {"primary": 1},
    }
    assert coverage["aws_kms_replica_key"]["judged"] == {"parent": 1}
    out = tmp_path / "summary.md"
    gate([str(PLANS / "aws-every" / "plan.json"), "-q", "--markdown", str(out), "-f", "json", "-o", os.devnull], capsys)
    text = out.read_text("utf-8")
    assert "only their primary location" in text and "| aws_sqs_queue | data | 1 |" in text


# --------------------------------------------------------------------------- categories are data


def test_a_kind_nobody_classified_is_judged_as_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert classify("aws", "aws_made_up_service_thing").category == "unknown"
    plan = json.loads((PLANS / "aws-every" / "plan.json").read_text())
    rc = next(r for r in plan["resource_changes"] if r["address"] == "aws_security_group.london")
    cfg = next(r for r in plan["configuration"]["root_module"]["resources"] if r["address"] == rc["address"])
    for entry in (rc, cfg):  # the same London resource, of a type no table knows
        entry["type"] = "aws_made_up_service_thing"
        entry["address"] = "aws_made_up_service_thing.london"
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    _, rep, _ = report(path, tmp_path, capsys)
    assert ("RA-EU-OUTSIDE", "aws_made_up_service_thing.london", "primary", "eu-west-2") in keys(rep)


def test_every_aws_provider_type_is_classified() -> None:
    """The table covers all 1,526 resource types of hashicorp/aws v5.100 (an unknown one would be judged
    as data: safe, but a global service among them would be placed in its provider's region)."""
    lines = (Path(__file__).parent / "fixtures" / "aws-provider-5.100-resource-types.txt").read_text().splitlines()
    types = [t for t in lines if t and not t.startswith("#")]
    assert len(types) == 1526
    assert [t for t in types if classify("aws", t).category == "unknown"] == []
    for global_type in (
        "aws_iam_role",
        "aws_route53_record",
        "aws_organizations_policy",
        "aws_cloudfront_distribution",
    ):
        assert classify("aws", global_type).scope == "global"
    for regional in ("aws_route53_resolver_endpoint", "aws_wafregional_web_acl", "aws_s3_bucket"):
        assert classify("aws", regional).scope == "regional"


# --------------------------------------------------------------------------- malformed and empty plans


def _one_line(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("residency-audit: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


def _mutated(tmp_path: Path, mutate: Any) -> Path:
    plan = json.loads((PLANS / "aws-every" / "plan.json").read_text())
    mutate(plan)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, allow_nan=True))
    return path


def _change(plan: dict[str, Any], address: str) -> dict[str, Any]:
    rc: dict[str, Any] = next(r for r in plan["resource_changes"] if r["address"] == address)
    return rc


def _config(plan: dict[str, Any], address: str) -> dict[str, Any]:
    cfg: dict[str, Any] = next(r for r in plan["configuration"]["root_module"]["resources"] if r["address"] == address)
    return cfg


@pytest.mark.parametrize(
    ("mutate", "needles"),
    [
        (lambda p: p["resource_changes"].insert(3, None), ["resource_changes[3]", "not an object (null)"]),
        (lambda p: p["resource_changes"].append(math.nan), ["resource_changes[", "not an object (NaN)"]),
        (lambda p: _change(p, "aws_sqs_queue.jobs").update(mode=None), ["(aws_sqs_queue.jobs)", "mode null"]),
        (
            lambda p: _change(p, "aws_sqs_queue.jobs")["change"].update(after=None, after_unknown={}),
            ["(aws_sqs_queue.jobs)", "plans create but change.after is null"],
        ),
        (
            lambda p: _change(p, "aws_sqs_queue.jobs")["change"].update(actions="create"),
            ["aws_sqs_queue.jobs", "change.actions"],
        ),
        (lambda p: _change(p, "aws_sqs_queue.jobs")["change"].pop("actions"), ["change.actions"]),
        (lambda p: _change(p, "aws_sqs_queue.jobs").update(change=None), ["(aws_sqs_queue.jobs).change is missing"]),
        (lambda p: _change(p, "aws_sqs_queue.jobs").pop("address"), ["has no address"]),
        (lambda p: _change(p, "aws_sqs_queue.jobs").update(type=7), ["(aws_sqs_queue.jobs) has no resource type"]),
        (
            lambda p: _config(p, "aws_sqs_queue.jobs")["expressions"]["name"].update(references=1),
            ["references is not a list of strings"],
        ),
        (
            lambda p: p["configuration"]["root_module"].update(module_calls={"db": None}),
            ["module_calls.db is null"],
        ),
        (  # found by tests/test_fuzz.py: was an AttributeError (exit 4)
            lambda p: p["configuration"]["root_module"]["resources"].insert(5, None),
            ["configuration.root_module.resources[5] is null"],
        ),
    ],
)
def test_malformed_entries_are_one_line_exit_2(
    mutate: Any, needles: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = gate([str(_mutated(tmp_path, mutate)), "-q"], capsys)
    _one_line(code, err, "malformed plan", *needles)
    assert out == ""


@pytest.mark.parametrize("bad", [["us-east-1"], {"name": "us-east-1"}, 1, True])
def test_a_region_of_the_wrong_type_is_an_input_error(
    bad: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Provider v6's per-resource `region` must be a string; ignoring it would judge the provider's region."""

    def mutate(plan: dict[str, Any]) -> None:
        _change(plan, "aws_sqs_queue.jobs")["change"]["after"]["region"] = bad

    code, _, err = gate([str(_mutated(tmp_path, mutate)), "-q"], capsys)
    _one_line(code, err, "resource_changes[", "(aws_sqs_queue.jobs): region is not a string")


def test_deep_json_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"format_version": "1.2", "resource_changes": ' + "[" * 100_000 + "]" * 100_000 + "}")
    code, _, err = gate([str(path), "-q"], capsys)
    _one_line(code, err, "nested too deeply")


def test_stdin_closed_is_one_line_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "residency_audit", "gate", "-", "-q"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert err.startswith("residency-audit: error: stdin:") and err.count("\n") == 1, err
    probe = "import sys; sys.stdin.close(); from residency_audit.cli import main; sys.exit(main(['gate', '-', '-q']))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, check=False)
    assert proc.returncode == 2 and proc.stderr.decode().count("\n") == 1, proc.stderr.decode()
    assert "Traceback" not in proc.stderr.decode()


@pytest.mark.parametrize(
    "plan",
    [
        {"format_version": "1.2", "terraform_version": "1.9.8", "planned_values": {"root_module": {}}},
        {"format_version": "1.2", "planned_values": {}, "resource_changes": []},
        {"format_version": "0.1", "terraform_version": "0.12.31", "planned_values": {"root_module": {}}},
    ],
)
def test_a_plan_that_changes_nothing_is_clean(
    plan: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    code, rep, err = report(path, tmp_path, capsys)
    assert (code, err) == (0, "")
    assert rep["resources"] == [] and rep["scan"]["complete"] is True
    assert "the plan changes no resources: nothing to check" in rep["scan"]["notes"]


def test_no_op_of_an_absent_instance_and_wholly_unknown_objects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Terraform 1.0 writes `no-op` with `before` and `after` null for an instance that exists
    neither before nor after; a create whose whole object is unknown has `after: null` and its
    `after_unknown`: it exists after apply and is judged (AWS: at its provider's region)."""

    def mutate(plan: dict[str, Any]) -> None:
        absent = _change(plan, "aws_sqs_queue.jobs")
        absent["change"].update(actions=["no-op"], before=None, after=None, after_unknown={})
        unknown = _change(plan, "aws_sns_topic.alerts")
        unknown["change"].update(after=None, after_unknown=True)

    code, rep, _ = report(_mutated(tmp_path, mutate), tmp_path, capsys)
    assert code == 1
    by_id = {r["id"]: r for r in rep["resources"]}
    assert "aws_sqs_queue.jobs" not in by_id
    assert [loc["region"] for loc in by_id["aws_sns_topic.alerts"]["locations"]] == ["us-east-1"]
    assert any("exist neither before nor after" in n for n in rep["scan"]["notes"])


# --------------------------------------------------------------------------- real plans of other projects


def _read_plan_file(path: Path) -> Any:
    data = path.read_bytes()
    text = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8-sig")
    return json.loads(text)


@pytest.mark.skipif(not REALPLANS.is_dir(), reason="../shared/realplans is not here")
def test_every_real_plan_is_read_and_every_cloud_resource_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """381 `terraform show -json` files from other projects, Terraform 0.12 to 1.x, read in place."""
    manifest = json.loads((REALPLANS / "manifest.json").read_text("utf-8"))
    assert len(manifest) >= 381
    refused: list[tuple[str, int, str]] = []
    unjudged: list[str] = []
    codes: list[int] = []
    for entry in manifest:
        path = REALPLANS / entry["file"]
        code, rep, err = report(path, tmp_path, capsys)
        codes.append(code)
        if code not in (0, 1):
            refused.append((entry["file"], code, err))
            continue
        located = {r["id"] for r in rep["resources"] if r["locations"]}
        flagged = {f["resource_id"] for f in rep["findings"]}
        missing = planned_cloud_resources(_read_plan_file(path)) - located - flagged
        unjudged.extend(f"{entry['file']}: {a}" for a in sorted(missing))
    assert unjudged == []
    assert 4 not in codes
    # only the setup-terraform wrapper output (not JSON) is refused, with one line
    assert [(f, c) for f, c, _ in refused] == [
        ("infracost/cmd__infracost__testdata__plan_with_terraform_wrapper.json", 2)
    ]
    assert refused[0][2].count("\n") == 1 and "not valid JSON" in refused[0][2]


@pytest.mark.skipif(not REALPLANS.is_dir(), reason="../shared/realplans is not here")
def test_every_cloud_type_in_the_real_plans_is_classified() -> None:
    providers = {"aws": "aws", "awscc": "aws", "google": "gcp", "azurerm": "azure", "azapi": "azure"}
    seen: set[str] = set()
    for entry in json.loads((REALPLANS / "manifest.json").read_text("utf-8")):
        try:
            plan = _read_plan_file(REALPLANS / entry["file"])
        except ValueError:
            continue
        for rc in plan.get("resource_changes") or ():
            if rc.get("mode", "managed") == "managed" and rc["type"].startswith(CLOUD_PREFIXES):
                seen.add(rc["type"])
    assert len(seen) > 300
    generic = {"azapi_resource", "azapi_update_resource"}  # classified by their ARM type, not their own
    unknown = sorted(t for t in seen - generic if classify(providers[t.split("_", 1)[0]], t).category == "unknown")
    assert unknown == []


@pytest.mark.parametrize("provider", ["aws", "gcp", "azure"])
def test_the_classifier_answers_as_fnmatch_over_the_rows_in_order(provider: str) -> None:
    """The classifier answers literal names by set, `prefix*` by startswith and compiles only the
    other patterns: for every name the rows' patterns describe (each wildcard as nothing and as
    a word), the first row whose pattern matches under fnmatch is the row it returns."""
    import fnmatch
    import importlib

    from residency_audit.kinds import UNKNOWN, Classifier

    rows = importlib.import_module(f"residency_audit.providers.{provider}.classes").CLASSES
    names = {g.replace("*", fill) for row in rows for g in row.match for fill in ("", "x", "_a_b_")}
    names |= {f"{provider}_not_a_type", "google_thing_policy", "azurerm_linux_virtual_machine_scale_set"}
    table = Classifier(rows)
    for name in sorted(names):
        expected = next((row for row in rows if any(fnmatch.fnmatchcase(name, g) for g in row.match)), UNKNOWN)
        assert table.classify(name) is expected, name
