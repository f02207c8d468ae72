"""`scan aws --organization` against moto: Organizations, AssumeRole into member accounts, shards."""

from __future__ import annotations

import json
import os
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from residency_audit.model import OwnerNode
from residency_audit.providers.aws.org import OrgAccount, Shard, select_accounts
from residency_audit.providers.aws.scan import READ_OPERATIONS
from residency_emulator.aws import AwsEmulator, operation_of, signed_scope
from residency_emulator.front import Request, Response

from .conftest import read_json, run_cli
from .hypothesis_support import examples

MANAGEMENT = "123456789012"
_EMU: list[AwsEmulator] = []  # the session emulator, for _scan to clear its request log
REGIONS = "eu-central-1,eu-west-2,us-east-1"


@dataclass
class Org:
    id: str
    #: account name -> id
    accounts: dict[str, str]
    #: account name -> [(kind, id, name)] from the organisation down to the account's OU
    paths: dict[str, list[tuple[str, str, str]]]


def _session(emu: AwsEmulator, account: str | None = None) -> boto3.Session:
    base = boto3.Session(region_name="eu-west-1")
    if account is None:
        return base
    creds = base.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seeding")[
        "Credentials"
    ]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="eu-west-1",
    )


def _bucket(session: boto3.Session, name: str, region: str) -> None:
    s3 = session.client("s3", region_name=region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


def _instance(session: boto3.Session, region: str, name: str) -> None:
    session.client("ec2", region_name=region).run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}],
    )


def seed_org(emu: AwsEmulator) -> Org:
    """Management + 4 members in nested OUs; each account owns resources of its own."""
    mgmt = _session(emu)
    org = mgmt.client("organizations")
    org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = org.list_roots()["Roots"][0]["Id"]
    prod = org.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]["Id"]
    eu = org.create_organizational_unit(ParentId=prod, Name="eu")["OrganizationalUnit"]["Id"]
    sandbox = org.create_organizational_unit(ParentId=root, Name="sandbox")["OrganizationalUnit"]["Id"]
    top = [("organization", org_id, "")]
    placement = {
        "shop-eu": (eu, [*top, ("ou", prod, "prod"), ("ou", eu, "eu")]),
        "data": (prod, [*top, ("ou", prod, "prod")]),
        "lab": (sandbox, [*top, ("ou", sandbox, "sandbox")]),
        "legacy": (root, top),
    }
    accounts = {"master": MANAGEMENT}
    paths = {"master": top}
    for name, (parent, path) in placement.items():
        acct = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]["AccountId"]
        if parent != root:
            org.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=parent)
        accounts[name] = acct
        paths[name] = path
    _bucket(mgmt, "mgmt-logs-frankfurt", "eu-central-1")
    shop = _session(emu, accounts["shop-eu"])
    _bucket(shop, "shop-assets-london", "eu-west-2")
    _instance(shop, "eu-central-1", "shop-web")
    data = _session(emu, accounts["data"])
    data.client("dynamodb", region_name="us-east-1").create_table(
        TableName="events",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    _bucket(_session(emu, accounts["lab"]), "lab-scratch", "eu-central-1")
    _bucket(_session(emu, accounts["legacy"]), "legacy-virginia", "us-east-1")
    emu.front.clear_log()
    return Org(org_id, accounts, paths)


def _assume_role_target(req: Request) -> tuple[str, dict[str, list[str]]] | None:
    if signed_scope(req)[1] != "sts" or b"Action=AssumeRole" not in req.body:
        return None
    form = urllib.parse.parse_qs(req.body.decode())
    return form.get("RoleArn", [""])[0], form


@pytest.fixture(scope="module")
def org(aws_emu: AwsEmulator) -> Iterator[Org]:
    """The seeded organisation, once per module (seeding costs the emulator ~10 s), with AssumeRole
    into the 'lab' account denied (moto allows every role). Tests here only read it."""
    mp = pytest.MonkeyPatch()
    aws_emu.reset()
    for key in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        mp.delenv(key, raising=False)
    for key, value in aws_emu.env().items():
        mp.setenv(key, value)
    mp.setenv("AWS_CONFIG_FILE", os.devnull)
    mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    _EMU[:] = [aws_emu]
    seeded = seed_org(aws_emu)
    lab = seeded.accounts["lab"]

    def deny_lab(req: Request) -> Response | None:
        target = _assume_role_target(req)
        if target and f"::{lab}:role/" in target[0]:
            body = (
                b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                b"<Code>AccessDenied</Code><Message>not authorized to perform: sts:AssumeRole</Message></Error>"
                b"<RequestId>r1</RequestId></ErrorResponse>"
            )
            return Response(403, {"Content-Type": "text/xml"}, body)
        return None

    aws_emu.front.request_hooks.insert(0, deny_lab)
    try:
        yield seeded
    finally:
        aws_emu.front.request_hooks.remove(deny_lab)
        mp.undo()


def _scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str, services: str = "s3,ec2,dynamodb"
) -> tuple[int, dict[str, Any], list[dict[str, Any]], str]:
    """One CLI scan of the organisation; the emulator's request log then holds exactly its requests."""
    out = tmp_path / "org.json"
    log = tmp_path / "org.jsonl"
    out.unlink(missing_ok=True)
    log.unlink(missing_ok=True)
    args = ["scan", "aws", "--organization", "--regions", REGIONS, "--services", services]
    args += ["-f", "json", "-o", str(out), "-q", "--log-json", str(log), *extra]
    _EMU[0].front.clear_log()
    code, _, err = run_cli(args, capsys)
    report = read_json(out) if out.exists() else {}
    events = [json.loads(line) for line in log.read_text("utf-8").splitlines()] if log.exists() else []
    return code, report, events, err


def _owner_chain(resource: dict[str, Any]) -> list[tuple[str, str, str]]:
    owner = resource["owner"]
    return [(n["kind"], n["id"], n["name"]) for n in owner["path"]] + [(owner["kind"], owner["id"], owner["name"])]


def test_owner_chain_and_unassumable_account(
    org: Org, aws_emu: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, events, _ = _scan(tmp_path, capsys, "--external-id", "audit-2026")
    ids = org.accounts
    expected_owner = {
        "mgmt-logs-frankfurt": "master",
        "shop-assets-london": "shop-eu",
        "shop-web": "shop-eu",
        "events": "data",
        "legacy-virginia": "legacy",
    }
    got = {r["name"]: _owner_chain(r) for r in report["resources"] if not r["name"].startswith("vol-")}
    assert got == {name: [*org.paths[acct], ("account", ids[acct], acct)] for name, acct in expected_owner.items()}
    # The root volume of shop-web belongs to shop-eu as well; nothing of 'lab' was read.
    volumes = [r for r in report["resources"] if r["kind"] == "ec2.volume"]
    assert [r["owner"]["id"] for r in volumes] == [ids["shop-eu"]]
    assert [(g["scope"], g["service"], g["code"]) for g in report["scan"]["gaps"]] == [
        (ids["lab"], "sts", "AccessDenied")
    ]
    assert report["scan"]["complete"] is False
    assert code == 1  # London and Virginia findings fail the run regardless of the gap
    request = report["scan"]["request"]
    assert sorted(request["scopes"]) == sorted(ids.values())
    assert request["options"]["organization"] == org.id
    assert request["options"]["role_name"] == "OrganizationAccountAccessRole"
    # Each member role was assumed once, with the external id; the management account never.
    assumed = [t for t in map(_assume_role_target, aws_emu.front.log) if t]
    assert Counter(arn for arn, _ in assumed) == Counter(
        f"arn:aws:iam::{ids[a]}:role/OrganizationAccountAccessRole" for a in ("shop-eu", "data", "lab", "legacy")
    )
    assert {form["ExternalId"][0] for _, form in assumed} == {"audit-2026"}
    # The log: every account started and finished once, the gap, then the summary last.
    kinds = Counter((e["event"], e.get("account")) for e in events)
    for acct in ids.values():
        assert kinds[("account_started", acct)] == 1 and kinds[("account_finished", acct)] == 1
    finished = {e["account"]: e for e in events if e["event"] == "account_finished"}
    assert finished[ids["shop-eu"]]["resources"] == 3 and finished[ids["lab"]]["gaps"] == 1
    assert [e["scope"] for e in events if e["event"] == "gap"] == [ids["lab"]]
    assert events[0]["event"] == "scan_started" and events[-1]["event"] == "summary"
    summary = events[-1]
    assert summary["resources"] == len(report["resources"]) == 6
    assert summary["gaps"] == 1 and summary["exit_code"] == 1 and summary["complete"] is False
    assert summary["api_calls"] == report["scan"]["api_calls_total"] == len(aws_emu.front.log)
    assert report["scan"]["resources_by_kind"] == {
        "dynamodb.table": 1,
        "ec2.instance": 1,
        "ec2.volume": 1,
        "s3.bucket": 3,
    }


def test_only_reads_and_no_call_repeated(
    org: Org, aws_emu: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every wire request is on the allow-list, and no request was sent twice for the same answer."""
    _scan(tmp_path, capsys, services="s3,ec2,dynamodb,rds,lambda,efs")
    wire = aws_emu.front.log
    allowed = {op for _, op in READ_OPERATIONS}
    ops = {operation_of(r)[1] for r in wire}
    assert {"ListRoots", "ListAccountsForParent", "ListOrganizationalUnitsForParent", "AssumeRole"} <= ops
    assert all(op in allowed or op.startswith("GET ") for op in ops), ops - allowed

    def identity(r: Request) -> tuple[str, ...]:
        auth = r.headers.get("Authorization", "")
        key = auth.split("Credential=", 1)[-1].split("/", 1)[0]
        target = r.headers.get("X-Amz-Target", "")
        return (key, *signed_scope(r), r.method, r.path, target, r.body.decode())

    repeated = [k for k, n in Counter(map(identity, wire)).items() if n > 1]
    assert repeated == []
    signing_name = {"elasticfilesystem": "efs"}
    per_service = Counter(signing_name.get(s, s) for s in (signed_scope(r)[1] for r in wire))
    report = read_json(tmp_path / "org.json")
    by_service = report["scan"]["api_calls_by_service"]
    assert by_service == {k: v for k, v in sorted(per_service.items())}


def test_filters(org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ids = org.accounts
    code, report, _, _ = _scan(
        tmp_path, capsys, "--accounts", f"shop-eu,{ids['legacy']},lab", "--exclude-accounts", "lab"
    )
    assert sorted(report["scan"]["request"]["scopes"]) == sorted([ids["shop-eu"], ids["legacy"]])
    assert {r["owner"]["id"] for r in report["resources"]} == {ids["shop-eu"], ids["legacy"]}
    assert report["scan"]["gaps"] == [] and code == 1

    code, _, _, err = _scan(tmp_path, capsys, "--accounts", "shop-eu,nobody")
    assert code == 2 and err.count("\n") == 1 and "not in the organisation: nobody" in err


def test_shards_cover_every_account_once(org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Independent shard jobs: together every account exactly once, the same group id, mergeable."""
    for n in (2, 7):  # 7 > accounts: empty shards must be clean, complete scans
        scopes: list[str] = []
        owners: list[str] = []
        groups = set()
        for i in range(1, n + 1):
            _, report, _, _ = _scan(tmp_path, capsys, "--shard", f"{i}/{n}", services="s3")
            opts = report["scan"]["request"]["options"]
            assert (opts["shard"], opts["shard_index"], opts["shard_count"]) == (f"{i}/{n}", i, n)
            groups.add(opts["shard_group"])
            scopes += report["scan"]["request"]["scopes"]
            owners += [r["owner"]["id"] for r in report["resources"]]
        assert sorted(scopes) == sorted(org.accounts.values()), n
        assert len(groups) == 1
        # Each bucket was reported by exactly one shard (lab's is a gap in its shard).
        assert Counter(owners) == Counter(org.accounts[a] for a in ("master", "shop-eu", "legacy")), n


def test_shard_group_option_is_recorded(org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, report, _, _ = _scan(tmp_path, capsys, "--shard", "1/2", "--shard-group", "nightly-42", services="s3")
    assert report["scan"]["request"]["options"]["shard_group"] == "nightly-42"


def test_default_shard_group_tells_ci_runs_apart(
    org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shards of one CI run share a group; the next run gets another; outside CI a note says rounds collide."""
    from residency_audit.providers.aws.org import RUN_ID_VARIABLES

    for name in RUN_ID_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def group(spec: str) -> tuple[str, list[str]]:
        _, report, _, _ = _scan(tmp_path, capsys, "--shard", spec, services="s3")
        return report["scan"]["request"]["options"]["shard_group"], report["scan"]["notes"]

    plain, notes = group("1/2")
    assert any("every run of this split shares it" in n for n in notes)
    monkeypatch.setenv("GITHUB_RUN_ID", "9001")
    run1 = {group(f"{i}/2")[0] for i in (1, 2)}
    monkeypatch.setenv("GITHUB_RUN_ID", "9002")
    run2, notes = group("2/2")
    assert len(run1) == 1 and run2 not in run1 and plain not in run1 | {run2}
    assert not any("every run of this split shares it" in n for n in notes)
    monkeypatch.delenv("GITHUB_RUN_ID")
    monkeypatch.setenv("CI_PIPELINE_ID", "9001")  # GitLab's id of the same number is another run
    assert group("1/2")[0] not in run1


# ------------------------------------------------------------ shards, as a property

_ids = st.lists(st.from_regex(r"[0-9]{12}", fullmatch=True), min_size=0, max_size=40, unique=True)


@settings(max_examples=examples(100), deadline=None)
@given(ids=_ids, n=st.integers(min_value=1, max_value=12), data=st.data())
def test_shards_partition_any_account_list(ids: list[str], n: int, data: st.DataObject) -> None:
    accounts = [OrgAccount(a, f"n{a}", "ACTIVE", (OwnerNode("organization", "o-x"),)) for a in ids]
    shuffled = data.draw(st.permutations(accounts))
    parts = [[a.id for a in select_accounts(shuffled, shard=Shard(i, n))] for i in range(1, n + 1)]
    flat = [a for p in parts for a in p]
    assert sorted(flat) == sorted(ids) and len(flat) == len(set(flat))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    # Deterministic whatever order the organisation listed the accounts in.
    assert parts == [[a.id for a in select_accounts(accounts, shard=Shard(i, n))] for i in range(1, n + 1)]
