"""`scan aws --inventory`: every resource of every type, through Resource Explorer, AWS Config, the
Tagging API or the readers alone; real boto3 over real HTTP against moto and the fakes behind its front."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from residency_audit.providers.aws import inventory
from residency_audit.providers.aws.kinds import KINDS, MORE_KINDS
from residency_audit.providers.aws.terraform import TYPES
from residency_emulator import estate_more
from residency_emulator.aws import AwsEmulator
from residency_emulator.aws_fakes import ACCOUNT
from residency_emulator.estate import _client as estate_client
from residency_emulator.estate import seed_aws

from .conftest import read_json, run_cli

APPRUNNER = f"arn:aws:apprunner:us-east-1:{ACCOUNT}:service/storefront/8fe1e10304f84fd2b0df550fe98a71fa"
#: The regions the estate uses plus one empty one: the scan stays small.
REGIONS = "eu-central-1,eu-west-1,eu-west-2,us-east-1,us-east-2,us-west-2,ca-central-1"


def _scan(capsys: pytest.CaptureFixture[str], tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "r.json"
    code, _, _ = run_cli(["scan", "aws", "--regions", REGIONS, "-f", "json", "-o", str(out), "-q", *extra], capsys)
    return code, read_json(out)


def _paths(report: dict[str, Any]) -> set[str]:
    return set(report["scan"]["context"]["inventory"].values())


def _gaps(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((g["region"], g["service"], g["code"]) for g in report["scan"]["gaps"])


def _apprunner(report: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any]
    (found,) = [r for r in report["resources"] if r["id"] == APPRUNNER]
    return found


@pytest.mark.parametrize("path", ["explorer", "config"])
def test_a_type_no_reader_knows_is_judged_at_its_region(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    """An App Runner service (no reader, no emulator: only the inventory has it) is judged in Virginia."""
    seed_aws(aws_env)
    code, report = _scan(capsys, tmp_path, "--inventory", path)
    assert code == 1
    app = _apprunner(report)
    assert app["kind"] == "apprunner.service" and app["judged"] == "primary"
    assert [(loc["region"], loc["role"]) for loc in app["locations"]] == [("us-east-1", "primary")]
    assert ("RA-US-SOIL", APPRUNNER) in {(f["rule_id"], f["resource_id"]) for f in report["findings"]}
    assert _paths(report) == {path}
    assert set(report["scan"]["context"]["inventory"]) == {f"{ACCOUNT}/{r}" for r in REGIONS.split(",")}
    # every enabled region indexed, every recorder records everything: complete; what the path does
    # not index by its nature (types it does not support) is stated
    assert _gaps(report) == [] and report["scan"]["complete"] is True
    assert any("resource types it supports" in n for n in report["scan"]["notes"])
    coverage = {c["type"]: c["judged"] for c in report["scan"]["coverage"]}
    assert coverage["apprunner.service"] == {"primary": 1}
    assert coverage["redshift.cluster"] == {"footprint": 2}


def test_readers_win_over_the_inventory_for_the_same_arn(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every ARN once; where a reader listed it, its kind, depth and copies are the reader's."""
    seed_aws(aws_env)
    _, report = _scan(capsys, tmp_path)
    ids = [r["id"] for r in report["resources"]]
    assert len(ids) == len(set(ids))
    declared = {k.name for k in KINDS}
    by_id = {r["id"]: r for r in report["resources"]}
    asked = {"", *REGIONS.split(",")}
    indexed = {arn for arn in aws_env.fakes.resources if arn.split(":")[3] in asked}
    assert indexed <= set(by_id), "everything the index holds in the regions asked for is in the report"
    assert not any(r["id"].split(":")[3] not in asked for r in report["resources"])
    for r in report["resources"]:
        if r["kind"] in declared:
            assert r["judged"] == next(k.judged for k in KINDS if k.name == r["kind"]), r["id"]
        else:  # only the inventory listed it
            assert r["judged"] == "primary" and r["id"] in aws_env.fakes.resources, r["id"]
    orders = next(r for r in report["resources"] if r["kind"] == "dynamodb.table" and r["name"] == "orders")
    assert {(loc["region"], loc["role"]) for loc in orders["locations"]} == {
        ("eu-central-1", "primary"),
        ("us-east-1", "replica"),
        ("us-east-1", "backup"),
    }


def test_explorer_limits_readers_to_where_it_saw_their_resources(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Resource Explorer says which types it indexes: a reader of those types runs only in the
    regions where the index holds one (Canada holds nothing: no reader is asked there), except a
    reader of a kind the index does not list (ECR pull-through cache rules): that one is asked
    everywhere, for those rules only (the index lists repositories). Within a reader that runs, a
    call for a type the index covers and holds none of in that region is not made either."""
    made = seed_aws(aws_env)
    # an image of the Frankfurt VM (with its snapshot), indexed as Explorer would
    ec2 = estate_client(aws_env, "ec2", "eu-central-1")
    image = ec2.create_image(InstanceId=made["instances"]["app-frankfurt"], Name="app-golden")["ImageId"]
    snaps = [m["Ebs"]["SnapshotId"] for m in ec2.describe_images(ImageIds=[image])["Images"][0]["BlockDeviceMappings"]]
    aws_env.fakes.index(
        f"arn:aws:ec2:eu-central-1::image/{image}", *(f"arn:aws:ec2:eu-central-1::snapshot/{s}" for s in snaps)
    )
    aws_env.front.clear_log()
    _scan(capsys, tmp_path, "--inventory", "explorer")
    from residency_emulator.aws import operation_of, signed_scope

    asked = {
        (signed_scope(r)[0], operation_of(r)[1])
        for r in aws_env.front.log
        if signed_scope(r)[1] not in ("sts", "organizations")
    }
    assert {op for region, op in asked if region == "ca-central-1"} == {"DescribePullThroughCacheRules"}
    assert {"eu-central-1", "us-east-1"} <= {region for region, _ in asked}
    # within the EC2 reader, images and snapshots are asked for only where the index holds one
    held = {(arn.split(":")[3], inventory.arn_type(arn)) for arn in aws_env.fakes.resources}
    ran = {region for region, op in asked if op == "DescribeInstances"}
    for op, kind in (("DescribeImages", "ec2:image"), ("DescribeSnapshots", "ec2:snapshot")):
        where = {region for region, t in held if t == kind} & ran
        assert where, f"the estate holds an {kind} where the EC2 reader runs"
        assert {region for region, o in asked if o == op} == where, op


def test_auto_falls_back_when_explorer_is_not_set_up(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No aggregator index: `auto` says why it passed Explorer over and lists through AWS Config (its
    aggregator: one query for every region), then the Tagging API when Config is not set up either."""
    seed_aws(aws_env)
    aws_env.fakes.explorer_indexes = {}
    aws_env.fakes.config_aggregator = {"name": "everything", "accounts": [ACCOUNT], "all_regions": True}
    _, report = _scan(capsys, tmp_path)
    assert _paths(report) == {"config"}
    assert report["scan"]["api_calls"].get("config:SelectAggregateResourceConfig") == 1
    assert "config:SelectResourceConfig" not in report["scan"]["api_calls"]
    assert any("AWS Resource Explorer not used: no aggregator index" in n for n in report["scan"]["notes"])
    _apprunner(report)

    aws_env.fakes.config_aggregator = None
    aws_env.fakes.config_recording = set()
    _, report = _scan(capsys, tmp_path)
    assert _paths(report) == {"tagging"}
    (gap,) = report["scan"]["gaps"]
    assert gap["code"] == "InventoryBlindSpot" and "never-tagged" in gap["error"]
    assert APPRUNNER not in {r["id"] for r in report["resources"]}  # untagged, and no reader knows it


def test_config_without_aggregator_queries_each_recording_region(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No aggregator: one SelectResourceConfig per region whose recorder runs; a region without one
    is a gap of its own, and the readers list it in full (its path is `services`)."""
    seed_aws(aws_env)
    aws_env.fakes.config_recording.discard("us-west-2")
    _, report = _scan(capsys, tmp_path, "--inventory", "config")
    calls = report["scan"]["api_calls"]
    assert calls["config:SelectResourceConfig"] == len(REGIONS.split(",")) - 1
    assert _gaps(report) == [("us-west-2", "inventory", "InventoryBlindSpot")]
    assert report["scan"]["context"]["inventory"][f"{ACCOUNT}/us-west-2"] == "services"
    # the Oregon secret replica is still found, by its reader
    assert any(r["id"].startswith("arn:aws:secretsmanager:us-west-2:") for r in report["resources"])


def test_a_recorder_of_some_types_leaves_its_region_to_the_readers(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_aws(aws_env)
    aws_env.fakes.config_some_types.add("us-east-1")
    _, report = _scan(capsys, tmp_path, "--inventory", "config")
    (gap,) = report["scan"]["gaps"]
    assert (gap["region"], gap["code"]) == ("us-east-1", "InventoryBlindSpot") and "some resource types" in gap["error"]
    assert report["scan"]["context"]["inventory"][f"{ACCOUNT}/us-east-1"] == "services"
    assert APPRUNNER not in {r["id"] for r in report["resources"]}  # only Virginia's recorder would have had it
    assert "warehouse-virginia" in {r["name"] for r in report["resources"]}  # its reader did


def test_a_filtered_explorer_view_is_a_gap(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_aws(aws_env)
    aws_env.fakes.explorer_filter = "region:eu-west-1"
    _, report = _scan(capsys, tmp_path, "--inventory", "explorer")
    (gap,) = report["scan"]["gaps"]
    assert gap["code"] == "InventoryBlindSpot" and "region:eu-west-1" in gap["error"]


def test_an_explicit_path_that_cannot_be_used_is_a_gap(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--inventory explorer` without an aggregator index: a gap naming why, the readers everywhere."""
    seed_aws(aws_env)
    aws_env.fakes.explorer_indexes = {}
    code, report = _scan(capsys, tmp_path, "--inventory", "explorer")
    (gap,) = report["scan"]["gaps"]
    assert (gap["service"], gap["code"]) == ("inventory", "Unusable")
    assert "no aggregator index" in gap["error"]
    assert _paths(report) == {"explorer (failed)"}
    assert {"warehouse-virginia", "jobs-virginia"} <= {r["name"] for r in report["resources"]}
    assert code == 1


def test_services_path_says_what_it_cannot_see(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_aws(aws_env)
    code, report = _scan(capsys, tmp_path, "--inventory", "services")
    (gap,) = report["scan"]["gaps"]
    assert gap["code"] == "InventoryBlindSpot" and "only the services with a reader" in gap["error"]
    assert _paths(report) == {"services"}
    assert APPRUNNER not in {r["id"] for r in report["resources"]}
    assert report["scan"]["complete"] is False and code == 1
    assert report["scan"]["request"]["options"]["inventory_mode"] == "services"


def test_inventory_path_and_depth_in_the_terminal(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The terminal shows resources by type with how deeply each was judged, and the inventory path."""
    seed_aws(aws_env)
    code, out, _ = run_cli(["scan", "aws", "--regions", REGIONS, "--no-store", "--inventory", "explorer"], capsys)
    assert code == 1
    assert "inventory: AWS Resource Explorer for account 123456789012 in 7 regions" in out
    assert "apprunner.service" in out and "redshift.cluster" in out
    text = " ".join(out.split())
    assert "Resources by type" in text


def test_arn_types() -> None:
    cases = {
        "arn:aws:s3:::bucket": "s3:bucket",
        "arn:aws:sqs:eu-west-1:1:q": "sqs:queue",
        "arn:aws:rds:eu-west-1:1:db:crm": "rds:db",
        "arn:aws:ec2:eu-west-1:1:instance/i-1": "ec2:instance",
        "arn:aws:logs:eu-west-1:1:log-group:/aws/x:*": "logs:log-group",
        "arn:aws:iam::1:role/path/r": "iam:role",
        "arn:aws:lambda:eu-west-1:1:function:f": "lambda:function",
        "not-an-arn": "unknown:resource",
    }
    assert {a: inventory.arn_type(a) for a in cases} == cases
    assert inventory.arn_name(APPRUNNER) == "storefront"
    assert (
        inventory.arn_name("arn:aws:kafka:eu-west-1:1:cluster/events/0d3c5f52-52c1-45b2-bf07-e2c32328ab8b-2")
        == "events"
    )
    assert inventory.arn_name("arn:aws:iam::1:role/path/r") == "r"


def test_every_kind_declares_terraform_types_as_the_gate_maps_them() -> None:
    """A kind's Terraform types are exactly those the gate's extractors file under its name."""
    for kind in KINDS:
        mapped = sorted(t for t, (name, _) in TYPES.items() if name == kind.name)
        assert sorted(kind.terraform) == mapped, kind.name


def test_every_new_kind_has_a_seed_and_an_inventory_type() -> None:
    for kind in MORE_KINDS:
        assert callable(getattr(estate_more, f"seed_{kind.seed}", None)), kind.name
        assert kind.inventory and all(":" in t for t in kind.inventory), kind.name


def test_services_option_narrows_the_question_like_regions(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--services` asks about those services only (as `--regions` asks about those regions): no
    inventory of the rest, no gap for it, and the request and the report's scope say which."""
    seed_aws(aws_env)
    code, report = _scan(capsys, tmp_path, "--services", "redshift,sqs")
    assert report["scan"]["complete"] is True and code == 1
    assert {r["kind"] for r in report["resources"]} == {"redshift.cluster", "sqs.queue"}
    assert report["scan"]["request"]["options"]["services"] == ["redshift", "sqs"]
    assert any("--services: only redshift, sqs read" in n for n in report["scan"]["notes"])
    assert not any(op.startswith("resource-explorer-2:") for op in report["scan"]["api_calls"])


def test_html_report_shows_resources_by_type_and_the_inventory_path(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The recorded scan, reported as HTML: its resources by type with their depth, and the path."""
    import re

    seed_aws(aws_env)
    store = str(tmp_path / "history.db")
    code, _, _ = run_cli(
        ["scan", "aws", "--regions", REGIONS, "--store", store, "-f", "json", "-o", str(tmp_path / "s.json"), "-q"],
        capsys,
    )
    assert code == 1
    assert run_cli(["report", "--store", store, "-o", str(tmp_path / "out"), "-q"], capsys)[0] in (0, 1)
    (html_file,) = (tmp_path / "out").glob("*.html")
    html = html_file.read_text("utf-8")
    rows = re.findall(
        r"<tr><td><code>([^<]+)</code></td><td>(\w+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>", html
    )
    by_type = {t: (cat, int(n), int(fp), int(pr)) for t, cat, n, fp, pr in rows}
    assert by_type["apprunner.service"] == ("compute", 1, 0, 1)
    assert by_type["redshift.cluster"] == ("data", 2, 2, 0)
    assert by_type["sqs.queue"][3] == by_type["sqs.queue"][1]  # primary location only
    scope = re.search(r'<dd id="target-scope">(.*?)</dd>', html)
    assert scope and "inventory: AWS Resource Explorer for account 123456789012 in 7 regions" in scope[1]


def test_a_service_not_offered_in_a_region_is_not_read_there(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """botocore's endpoint data has no MemoryDB in Zurich: not asked there (nothing can be there), said in a note."""
    seed_aws(aws_env)
    aws_env.front.clear_log()
    out = tmp_path / "r.json"
    args = [
        "scan",
        "aws",
        "--regions",
        "eu-central-2,us-east-1",
        "--services",
        "memorydb",
        "-f",
        "json",
        "-o",
        str(out),
    ]
    code, _, _ = run_cli([*args, "-q"], capsys)
    report = read_json(out)
    assert code == 1 and report["scan"]["complete"] is True
    assert {r["name"] for r in report["resources"]} == {"ratelimits-virginia"}
    assert any("memorydb is not offered in eu-central-2" in n for n in report["scan"]["notes"])
    from residency_emulator.aws import signed_scope

    assert ("eu-central-2", "memorydb") not in {signed_scope(r) for r in aws_env.front.log}


def _tags(report: dict[str, Any], kinds: set[str]) -> dict[str, dict[str, str]]:
    return {r["id"]: r["tags"] for r in report["resources"] if r["kind"] in kinds}


@pytest.mark.parametrize("path", ["explorer", "config", "tagging"])
def test_tags_come_from_the_inventory_when_it_reads_them(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    """A path that reads tags (an Explorer view that includes them, Config's `tags` column, the
    Tagging API) spares a tag call per bucket and per table, and reports the tags the readers read
    themselves. The Tagging API lists every resource that has or had tags, so a table it did not list
    has none; a bucket's ARN names no region, so a bucket it did not list is still asked."""
    seed_aws(aws_env)
    kinds = {"s3.bucket", "dynamodb.table"}
    _, by_readers = _scan(capsys, tmp_path, "--inventory", "services")
    _, by_inventory = _scan(capsys, tmp_path, "--inventory", path)
    asked = by_inventory["scan"]["api_calls"]
    expected = _tags(by_readers, kinds)
    assert any(expected.values()), "the estate has tagged buckets and tables"
    assert _tags(by_inventory, kinds) == expected
    assert "dynamodb:ListTagsOfResource" not in asked
    untagged_buckets = [arn for arn, tags in expected.items() if ":s3:::" in arn and not tags]
    assert asked.get("s3:GetBucketTagging", 0) == (len(untagged_buckets) if path == "tagging" else 0)
    assert by_readers["scan"]["api_calls"]["s3:GetBucketTagging"] == len([a for a in expected if ":s3:::" in a])


def test_a_view_without_tags_leaves_the_tags_to_the_readers(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A default view that does not include the `tags` property says nothing of tags: every bucket
    and table is asked for its own, and a tag set after the index saw the resource is still reported."""
    seed_aws(aws_env)
    aws_env.fakes.explorer_tags = False
    s3 = estate_client(aws_env, "s3", "eu-west-3")
    s3.put_bucket_tagging(Bucket="reports-paris", Tagging={"TagSet": [{"Key": "late", "Value": "yes"}]})
    _, report = _scan(capsys, tmp_path, "--inventory", "explorer")
    asked = report["scan"]["api_calls"]
    buckets = _tags(report, {"s3.bucket"})
    tables = _tags(report, {"dynamodb.table"})
    assert asked["s3:GetBucketTagging"] == len(buckets) and asked["dynamodb:ListTagsOfResource"] == len(tables)
    assert buckets["arn:aws:s3:::reports-paris"] == {"late": "yes"}


@pytest.mark.parametrize("org_view", [False, True])
def test_an_account_lists_only_its_own_resources(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], org_view: bool
) -> None:
    """A default view shows the account's own index; an organisation-wide view shows every
    account's resources, and the scan of one account keeps only those it owns (the others are
    judged in their own account's scan)."""
    seed_aws(aws_env)
    other = "210987654321"
    foreign = f"arn:aws:sqs:us-east-1:{other}:their-queue"
    aws_env.fakes.index(foreign, account=other)
    aws_env.fakes.explorer_org_view = org_view
    _, report = _scan(capsys, tmp_path, "--inventory", "explorer")
    ids = {r["id"] for r in report["resources"]}
    assert foreign not in ids
    assert APPRUNNER in ids and report["scan"]["complete"] is True
