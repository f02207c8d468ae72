"""S3 Multi-Region Access Points and ECR pull-through cache rules: real boto3 over real HTTP against
moto and the fakes behind its front (S3 Control's account-prefixed host, REST-XML; ECR, JSON 1.1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from residency_emulator.aws import AwsEmulator, operation_of
from residency_emulator.aws_fakes import ACCOUNT

from .conftest import read_json, run_cli

REGIONS = "eu-central-1,us-east-1"
OTHER = "210987654321"


def _buckets(emu: AwsEmulator) -> None:
    import boto3

    boto3.client("s3", region_name="eu-central-1", endpoint_url=emu.url).create_bucket(
        Bucket="orders-frankfurt", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    boto3.client("s3", region_name="us-east-1", endpoint_url=emu.url).create_bucket(Bucket="orders-virginia")


def _scan(capsys: pytest.CaptureFixture[str], tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "r.json"
    args = ["scan", "aws", "--regions", REGIONS, "-f", "json", "-o", str(out), "-q", *extra]
    code, _, _ = run_cli(args, capsys)
    return code, read_json(out)


def _findings(report: dict[str, Any], rid: str) -> set[str]:
    return {f["rule_id"] for f in report["findings"] if f["resource_id"] == rid}


def test_an_mrap_is_judged_in_every_member_region_and_links_each_bucket(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Resource Explorer lists the access point (global ARN); the reader adds its member buckets'
    regions under the same ARN: one resource, both regions, Virginia's a US finding."""
    _buckets(aws_env)
    arn = aws_env.fakes.add_multi_region_access_point(
        "orders", [("orders-frankfurt", "eu-central-1", ""), ("orders-virginia", "us-east-1", "")]
    )
    regional = f"arn:aws:s3:eu-central-1:{ACCOUNT}:accesspoint/orders-ap"  # an access point of one bucket
    aws_env.fakes.index(arn, regional, "arn:aws:s3:::orders-frankfurt", "arn:aws:s3:::orders-virginia")
    aws_env.fakes.explorer_indexes = {"eu-central-1": "AGGREGATOR", "us-east-1": "LOCAL"}
    aws_env.front.clear_log()
    code, report = _scan(capsys, tmp_path, "--inventory", "explorer")
    assert code == 1 and report["scan"]["gaps"] == []
    (mrap,) = [r for r in report["resources"] if r["id"] == arn]
    assert arn.startswith(f"arn:aws:s3::{ACCOUNT}:accesspoint/") and arn.endswith(".mrap")
    assert mrap["kind"] == "s3.multiregionaccesspoint" and mrap["judged"] == "footprint"
    assert mrap["name"] == "orders" and mrap["category"] == "data"
    assert [(loc["region"], loc["role"], loc["detail"]) for loc in mrap["locations"]] == [
        ("eu-central-1", "replica", "member bucket orders-frankfurt"),
        ("us-east-1", "replica", "member bucket orders-virginia"),
    ]
    assert [(ln["relation"], ln["target"]) for ln in mrap["links"]] == [
        ("copies-to", "arn:aws:s3:::orders-frankfurt"),
        ("copies-to", "arn:aws:s3:::orders-virginia"),
    ]
    assert _findings(report, arn) == {"RA-US-SOIL"}
    # the inventory's regional access point keeps its own kind (the same ARN type), at its region
    (ap,) = [r for r in report["resources"] if r["id"] == regional]
    assert ap["kind"] == "s3.accesspoint" and [loc["region"] for loc in ap["locations"]] == ["eu-central-1"]
    # the S3 Control request reached the loopback front (no account label in front of its host),
    # once, for the scanned account, signed for us-west-2 (the only region serving the MRAP API)
    sent = [r for r in aws_env.front.log if operation_of(r) == ("s3", "ListMultiRegionAccessPoints")]
    assert len(sent) == 1
    headers = {k.lower(): v for k, v in sent[0].headers.items()}
    assert headers["x-amz-account-id"] == ACCOUNT
    assert headers["host"] == aws_env.url.removeprefix("http://")
    assert "/us-west-2/s3/aws4_request" in headers["authorization"]
    assert report["scan"]["api_calls"]["s3control:ListMultiRegionAccessPoints"] == 1


def test_an_mrap_member_of_another_account_is_named_and_pages_are_followed(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two access points, one a page (NextToken followed); a member bucket of another account is
    placed where S3 Control says and named with its account; an EU-only one has no finding."""
    _buckets(aws_env)
    aws_env.fakes.mrap_page = 1
    eu = aws_env.fakes.add_multi_region_access_point("eu-only", [("orders-frankfurt", "eu-central-1", "")])
    shared = aws_env.fakes.add_multi_region_access_point(
        "shared", [("orders-frankfurt", "eu-central-1", ""), ("partner-ohio", "us-east-2", OTHER)]
    )
    code, report = _scan(capsys, tmp_path, "--inventory", "services", "--services", "s3control")
    assert code == 1 and report["scan"]["api_calls"] == {
        "sts:GetCallerIdentity": 1,
        "organizations:DescribeOrganization": 1,
        "s3control:ListMultiRegionAccessPoints": 2,
    }
    by_id = {r["id"]: r for r in report["resources"]}
    assert set(by_id) == {eu, shared}
    assert [(loc["region"], loc["detail"]) for loc in by_id[shared]["locations"]] == [
        ("eu-central-1", "member bucket orders-frankfurt"),
        ("us-east-2", f"member bucket partner-ohio of account {OTHER}"),
    ]
    assert by_id[shared]["links"][1]["target"] == "arn:aws:s3:::partner-ohio"
    assert _findings(report, eu) == set()
    assert _findings(report, shared) == {"RA-US-SOIL"}


def test_against_aws_itself_the_account_label_stays_in_the_s3_control_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The host fix applies only where an endpoint is overridden: without one, the request the
    guarded client would send goes to `ACCOUNT.s3-control.us-west-2.amazonaws.com` (caught before
    it leaves: nothing is sent)."""
    import boto3

    from residency_audit.core import Collector
    from residency_audit.model import Scan, ScanRequest
    from residency_audit.providers.aws.scan import AccountTarget, AwsAdapter

    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3_CONTROL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    session = boto3.Session(region_name="eu-west-1")
    adapter = AwsAdapter(targets=[AccountTarget(session)], regions=["eu-west-1"])
    client = adapter._client(Collector(Scan(ScanRequest("aws"))), session, "s3control", "us-west-2")
    urls: list[str] = []

    class Caught(Exception):
        pass

    def catch(request: Any, **_: Any) -> None:
        urls.append(request.url)
        raise Caught

    client.meta.events.register("before-send", catch)
    with pytest.raises(Caught):
        client.list_multi_region_access_points(AccountId=ACCOUNT)
    assert urls == [f"https://{ACCOUNT}.s3-control.us-west-2.amazonaws.com/v20180820/mrap/instances"]


def test_a_pull_through_cache_rule_is_judged_in_its_registrys_region(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Docker Hub cache in Virginia is a US finding; one in Frankfurt is not; the upstream is said."""
    aws_env.fakes.pull_through_rules["us-east-1"] = [("docker-hub", "registry-1.docker.io")]
    aws_env.fakes.pull_through_rules["eu-central-1"] = [("quay", "quay.io")]
    code, report = _scan(capsys, tmp_path, "--services", "ecr")
    assert code == 1
    rules = {r["id"]: r for r in report["resources"] if r["kind"] == "ecr.pullthroughcacherule"}
    virginia = f"arn:aws:ecr:us-east-1:{ACCOUNT}:pull-through-cache-rule/docker-hub"
    frankfurt = f"arn:aws:ecr:eu-central-1:{ACCOUNT}:pull-through-cache-rule/quay"
    assert set(rules) == {virginia, frankfurt}
    assert [(loc["region"], loc["role"]) for loc in rules[virginia]["locations"]] == [("us-east-1", "primary")]
    assert "registry-1.docker.io" in rules[virginia]["locations"][0]["detail"]
    assert rules[virginia]["attributes"] == {"upstream_registry": "registry-1.docker.io"}
    assert rules[virginia]["name"] == "docker-hub" and rules[virginia]["category"] == "data"
    assert _findings(report, virginia) == {"RA-US-SOIL"}
    assert _findings(report, frankfurt) == set()
    assert report["scan"]["api_calls"]["ecr:DescribePullThroughCacheRules"] == 2


def test_permissions_name_both_reads(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["permissions", "aws"], capsys)
    actions = json.loads(out)["Statement"][0]["Action"]
    assert code == 0
    assert "s3:ListMultiRegionAccessPoints" in actions
    assert "ecr:DescribePullThroughCacheRules" in actions
