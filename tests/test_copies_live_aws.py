"""`copies` end to end against the AWS emulator: a data set tagged customer=acme spread over S3
(replicated to another region and to another account), EC2 (an instance, its volumes, a snapshot,
a volume restored from it, a copy in another region, an image), DynamoDB (a global table), RDS (a
read replica in another region, DB snapshots) and AWS Backup (recovery points in two regions, a
plan copying to the second). The real CLI scans both accounts into a real SQLite store, lists the
copies, and after each deletion (made in the emulator by the test, never by the tool) verifies
what remains.

moto has no AWS Backup jobs: recovery points are served by the emulator front
(`AwsFakes.add_recovery_point`, `DeleteRecoveryPoint`); DynamoDB replicas likewise.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest

from residency_emulator.aws import AwsEmulator, signed_scope
from residency_emulator.aws_fakes import ACCOUNT
from residency_emulator.estate_more import index_estate
from residency_emulator.front import Request, Response

from .conftest import run_cli

PARTNER = "210987654321"
REGIONS = ["eu-west-1", "us-east-1"]
ACME = [{"Key": "customer", "Value": "acme"}]
GLOBEX = [{"Key": "customer", "Value": "globex"}]
Row = tuple[str, str, str | None]


class World:
    """The seeded estate: boto3 clients per account, and the ids moto made."""

    def __init__(self, emu: AwsEmulator, tmp: Path, mp: pytest.MonkeyPatch) -> None:
        import boto3

        self.emu = emu
        self.store = f"sqlite:///{tmp / 'history.db'}"
        env = emu.env()
        keys = {k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
        self.main: dict[str, Any] = {k.lower(): v for k, v in keys.items()}
        sts = boto3.client("sts", region_name="us-east-1", endpoint_url=emu.url, **self.main)
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{PARTNER}:role/audit", RoleSessionName="seed")["Credentials"]
        self.partner: dict[str, Any] = {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }
        # the partner account is scanned with its own profile, as an auditor with a role there would
        profile = tmp / "credentials"
        profile.write_text("[partner]\n" + "".join(f"{k} = {v}\n" for k, v in self.partner.items()), "utf-8")
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(profile))
        self.ids: dict[str, str] = {}

    def client(self, service: str, region: str, partner: bool = False) -> Any:
        import boto3

        creds = self.partner if partner else self.main
        return boto3.client(service, region_name=region, endpoint_url=self.emu.url, **creds)

    def reindex(self) -> None:
        """Resource Explorer's index follows the estate (what a deletion removed leaves it)."""
        self.emu.fakes.resources.clear()
        index_estate(self.emu, self.client, REGIONS, {})
        for bucket in self.client("s3", "eu-west-1", partner=True).list_buckets()["Buckets"]:
            self.emu.fakes.index(f"arn:aws:s3:::{bucket['Name']}", account=PARTNER)


def _bucket(s3: Any, name: str, region: str, tags: list[dict[str, str]] | None = None) -> None:
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags})


def _replication(w: World, *to: tuple[str, str]) -> dict[str, Any]:
    rules = []
    for i, (bucket, account) in enumerate(to, 1):
        dest: dict[str, Any] = {"Bucket": f"arn:aws:s3:::{bucket}"}
        if account != ACCOUNT:
            dest["Account"] = account
        rules.append(
            {
                "ID": f"to-{bucket}",
                "Status": "Enabled",
                "Priority": i,
                "Filter": {"Prefix": ""},
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": dest,
            }
        )
    return {"Role": f"arn:aws:iam::{ACCOUNT}:role/replication", "Rules": rules}


def _table(ddb: Any, name: str, tags: list[dict[str, str]] | None = None) -> str:
    out = ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        **({"Tags": tags} if tags else {}),
    )
    return str(out["TableDescription"]["TableArn"])


def _instance(ec2: Any, tags: list[dict[str, str]]) -> str:
    out = ec2.run_instances(
        ImageId="ami-12345678",
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
    )
    return str(out["Instances"][0]["InstanceId"])


def seed(w: World) -> None:
    ids = w.ids
    now = time.time()
    # S3: acme's bucket in Ireland replicates to Virginia and to the partner's bucket
    s3, s3_partner = w.client("s3", "eu-west-1"), w.client("s3", "eu-west-1", partner=True)
    _bucket(s3, "acme-data", "eu-west-1", ACME)
    _bucket(w.client("s3", "us-east-1"), "acme-data-us", "us-east-1")
    _bucket(s3_partner, "acme-partner-copy", "eu-west-1")
    s3.put_bucket_versioning(Bucket="acme-data", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(
        Bucket="acme-data",
        ReplicationConfiguration=_replication(w, ("acme-data-us", ACCOUNT), ("acme-partner-copy", PARTNER)),
    )
    _bucket(s3, "globex-data", "eu-west-1", GLOBEX)

    # EC2: acme's instance with a data volume, a snapshot of it, a volume restored from that snapshot,
    # a copy of it in Virginia (tagged: EBS does not say where a copy came from), an image of the instance
    ec2, ec2_us = w.client("ec2", "eu-west-1"), w.client("ec2", "us-east-1")
    ids["instance"] = _instance(ec2, ACME)
    root = ec2.describe_instances(InstanceIds=[ids["instance"]])["Reservations"][0]["Instances"][0]
    ids["root"] = root["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    ids["data"] = ec2.create_volume(AvailabilityZone="eu-west-1a", Size=8)["VolumeId"]
    ec2.attach_volume(VolumeId=ids["data"], InstanceId=ids["instance"], Device="/dev/sdf")
    ids["snap"] = ec2.create_snapshot(VolumeId=ids["data"])["SnapshotId"]
    ids["restored"] = ec2.create_volume(AvailabilityZone="eu-west-1b", SnapshotId=ids["snap"])["VolumeId"]
    ids["snap_us"] = ec2_us.copy_snapshot(
        SourceRegion="eu-west-1",
        SourceSnapshotId=ids["snap"],
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": ACME}],
    )["SnapshotId"]
    ids["image"] = ec2.create_image(InstanceId=ids["instance"], Name="acme-app")["ImageId"]
    image = ec2.describe_images(ImageIds=[ids["image"]])["Images"][0]
    ids["image_snap"] = image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    # ... and globex's instance, its volume and snapshot: never part of acme's data set
    ids["globex"] = _instance(ec2, GLOBEX)
    globex = ec2.describe_instances(InstanceIds=[ids["globex"]])["Reservations"][0]["Instances"][0]
    ids["globex_snap"] = ec2.create_snapshot(VolumeId=globex["BlockDeviceMappings"][0]["Ebs"]["VolumeId"])["SnapshotId"]
    # a golden image made from globex's instance, and a volume of acme's launched from its snapshot: a launch
    # from an image is not a copy of acme's data, and must not join globex's instance to acme's data set
    ids["golden"] = ec2.create_image(InstanceId=ids["globex"], Name="golden")["ImageId"]
    golden = ec2.describe_images(ImageIds=[ids["golden"]])["Images"][0]
    ids["golden_snap"] = golden["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    ids["launched"] = ec2.create_volume(AvailabilityZone="eu-west-1a", SnapshotId=ids["golden_snap"])["VolumeId"]
    ec2.attach_volume(VolumeId=ids["launched"], InstanceId=ids["instance"], Device="/dev/sdg")

    # DynamoDB: a global table, Ireland + Virginia (each replica is a table of the same name)
    ids["table"] = _table(w.client("dynamodb", "eu-west-1"), "acme-orders", ACME)
    ids["table_us"] = _table(w.client("dynamodb", "us-east-1"), "acme-orders")
    for region in REGIONS:
        w.emu.dynamodb_replicas[(region, "acme-orders")] = list(REGIONS)
    _table(w.client("dynamodb", "eu-west-1"), "globex-orders", GLOBEX)

    # RDS: acme's database with a read replica in Virginia and a manual snapshot
    rds = w.client("rds", "eu-west-1")
    db = rds.create_db_instance(
        DBInstanceIdentifier="acme-crm",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="crm",
        MasterUserPassword="not-a-secret-1",
        Tags=ACME,
    )["DBInstance"]
    ids["db"] = db["DBInstanceArn"]
    ids["replica"] = w.client("rds", "us-east-1").create_db_instance_read_replica(
        DBInstanceIdentifier="acme-crm-us", SourceDBInstanceIdentifier=ids["db"], DBInstanceClass="db.t3.micro"
    )["DBInstance"]["DBInstanceArn"]
    rds.create_db_snapshot(DBSnapshotIdentifier="acme-crm-before-migration", DBInstanceIdentifier="acme-crm")

    # AWS Backup: a plan in Ireland backing up into its vault and copying to a vault in Virginia; the
    # table's recovery point there is kept 120 days (beyond the month), its copy 7 days
    bk, bk_us = w.client("backup", "eu-west-1"), w.client("backup", "us-east-1")
    vault = bk.create_backup_vault(BackupVaultName="acme-vault")["BackupVaultArn"]
    dr = bk_us.create_backup_vault(BackupVaultName="dr-vault")["BackupVaultArn"]
    rule: dict[str, Any] = {
        "RuleName": "nightly",
        "TargetBackupVaultName": "acme-vault",
        "ScheduleExpression": "cron(0 3 * * ? *)",
        "CopyActions": [{"DestinationBackupVaultArn": dr}],
    }
    plan = bk.create_backup_plan(BackupPlan={"BackupPlanName": "nightly", "Rules": [rule]})
    day = 86400.0
    fakes = w.emu.fakes
    ids["plan"] = plan["BackupPlanArn"]
    ids["dr"] = dr
    ids["rp"] = fakes.add_recovery_point(vault, ids["table"], now - day, delete_at=now + 120 * day)
    ids["rp_us"] = fakes.add_recovery_point(
        dr, ids["table"], now - day, delete_at=now + 7 * day, source_vault_arn=vault
    )
    fakes.add_recovery_point(vault, "arn:aws:dynamodb:eu-west-1:123456789012:table/globex-orders", now, now + day)
    w.reindex()


def scan(w: World, capsys: pytest.CaptureFixture[str], partner: bool = False) -> None:
    args = ["scan", "aws", "--regions", ",".join(REGIONS), "--store", w.store, "-q", "-f", "json"]
    code, out, err = run_cli([*args, *(["--profile", "partner"] if partner else [])], capsys)
    assert code in (0, 1), err
    doc = json.loads(out)
    assert doc["scan"]["complete"] is True, doc["scan"]["gaps"]


def copies(w: World, capsys: pytest.CaptureFixture[str], *extra: str, fmt: str = "json") -> tuple[int, str]:
    code, out, err = run_cli(["copies", "--tag", "customer=acme", "--store", w.store, "-f", fmt, *extra], capsys)
    assert code in (0, 1, 3), err
    return code, out


def rows(items: list[dict[str, Any]]) -> set[Row]:
    return {(c["resource_id"], c["role"], c["region"]) for c in items}


def arns(w: World) -> dict[str, str]:
    ids = w.ids
    ec2 = f"arn:aws:ec2:eu-west-1:{ACCOUNT}"
    return {
        "bucket": "arn:aws:s3:::acme-data",
        "bucket_us": "arn:aws:s3:::acme-data-us",
        "partner": "arn:aws:s3:::acme-partner-copy",
        "instance": f"{ec2}:instance/{ids['instance']}",
        "root": f"{ec2}:volume/{ids['root']}",
        "launched": f"{ec2}:volume/{ids['launched']}",
        "data": f"{ec2}:volume/{ids['data']}",
        "restored": f"{ec2}:volume/{ids['restored']}",
        "snap": f"arn:aws:ec2:eu-west-1::snapshot/{ids['snap']}",
        "snap_us": f"arn:aws:ec2:us-east-1::snapshot/{ids['snap_us']}",
        "image": f"arn:aws:ec2:eu-west-1::image/{ids['image']}",
        "image_snap": f"arn:aws:ec2:eu-west-1::snapshot/{ids['image_snap']}",
        "table": ids["table"],
        "table_us": ids["table_us"],
        "db": ids["db"],
        "replica": ids["replica"],
        "db_snap": f"arn:aws:rds:eu-west-1:{ACCOUNT}:snapshot:acme-crm-before-migration",
        "rp": ids["rp"],
        "rp_us": ids["rp_us"],
    }


def expected(a: dict[str, str], automated: list[str]) -> set[Row]:
    eu, us = "eu-west-1", "us-east-1"
    out: set[Row] = {
        (a["bucket"], "primary", eu),
        (a["bucket"], "replica", us),  # rule to acme-data-us
        (a["bucket"], "replica", eu),  # rule to the partner's bucket
        (a["bucket_us"], "primary", us),
        (a["partner"], "primary", eu),
        (a["instance"], "primary", eu),
        (a["root"], "primary", eu),
        (a["launched"], "primary", eu),
        (a["data"], "primary", eu),
        (a["restored"], "primary", eu),
        (a["snap"], "backup", eu),
        (a["snap_us"], "backup", us),
        (a["image"], "backup", eu),
        (a["image_snap"], "backup", eu),
        (a["table"], "primary", eu),
        (a["table"], "replica", us),
        (a["table_us"], "primary", us),
        (a["table_us"], "replica", eu),
        (a["db"], "primary", eu),
        (a["db"], "replica", us),
        (a["replica"], "primary", us),
        (a["replica"], "replica", eu),
        (a["db_snap"], "backup", eu),
        (a["rp"], "backup", eu),
        (a["rp_us"], "backup", us),
    }
    return out | {(arn, "backup", eu) for arn in automated}


def _automated(w: World) -> list[str]:
    """The automated DB snapshots moto made for acme-crm (their names carry a timestamp)."""
    snaps = w.client("rds", "eu-west-1").describe_db_snapshots(SnapshotType="automated")["DBSnapshots"]
    return [s["DBSnapshotArn"] for s in snaps if s.get("DBInstanceIdentifier") == "acme-crm"]


@pytest.fixture
def world(aws_env: AwsEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    w = World(aws_env, tmp_path, monkeypatch)
    seed(w)
    return w


def test_copies_of_a_tagged_data_set_are_listed_then_proven_erased(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = world
    scan(w, capsys)
    scan(w, capsys, partner=True)
    a = arns(w)
    automated = _automated(w)

    # -- the checklist: every copy, exactly, followed across kinds, regions and accounts
    code, out = copies(w, capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["copies"], doc
    assert rows([c for c in doc["copies"] if c["status"] == "present"]) == expected(a, automated)
    assert [c for c in doc["copies"] if c["status"] != "present"] == []
    assert doc["summary"]["complete"] is True
    by_id = {c["resource_id"]: c for c in doc["copies"]}
    assert by_id[a["partner"]]["owner"].startswith(f"account {PARTNER}")
    assert by_id[a["snap"]]["via"] == a["data"] and by_id[a["data"]]["via"] == a["instance"]
    assert by_id[a["rp"]]["earliest_deletion"] and by_id[a["rp_us"]]["how"] == "backup"
    assert not any("globex" in c["resource_id"] or "globex" in c["name"] for c in doc["copies"])
    for globex in ("globex", "globex_snap", "golden", "golden_snap"):
        assert w.ids[globex] not in out, globex

    # a backup plan reaches the vault its copy action copies to
    code, out, err = run_cli(["copies", "--resource", "nightly", "--store", w.store, "-f", "json"], capsys)
    assert code == 0, err
    plan = w.ids["plan"]
    assert rows(json.loads(out)["copies"]) == {
        (plan, "backup", "eu-west-1"),
        (plan, "backup", "us-east-1"),
        (w.ids["dr"], "backup", "us-east-1"),
    }

    # the Markdown checklist names every copy, one box each
    _, md = copies(w, capsys, fmt="markdown")
    for arn in {r[0] for r in expected(a, automated)}:
        assert f"id `{arn}`" in md, arn
    assert md.count("- [ ] ") == len(expected(a, automated))

    # -- part of it is deleted: the Virginia replication target, the snapshot copy, the restored
    # volume, the recovery point copy
    since = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
    time.sleep(max(0.0, (since - dt.datetime.now(dt.UTC)).total_seconds()) + 0.05)
    s3 = w.client("s3", "eu-west-1")
    s3.put_bucket_replication(
        Bucket="acme-data", ReplicationConfiguration=_replication(w, ("acme-partner-copy", PARTNER))
    )
    w.client("s3", "us-east-1").delete_bucket(Bucket="acme-data-us")
    w.client("ec2", "us-east-1").delete_snapshot(SnapshotId=w.ids["snap_us"])
    w.client("ec2", "eu-west-1").delete_volume(VolumeId=w.ids["restored"])
    w.client("backup", "us-east-1").delete_recovery_point(BackupVaultName="dr-vault", RecoveryPointArn=a["rp_us"])
    w.reindex()
    scan(w, capsys)
    scan(w, capsys, partner=True)

    gone = {
        (a["bucket"], "replica", "us-east-1"),
        (a["bucket_us"], "primary", "us-east-1"),
        (a["snap_us"], "backup", "us-east-1"),
        (a["restored"], "primary", "eu-west-1"),
        (a["rp_us"], "backup", "us-east-1"),
    }
    verify = ["--verify-erased", "--since", since.isoformat()]
    code, out = copies(w, capsys, *verify)
    doc = json.loads(out)
    assert code == 1 and doc["verdict"] == "copies remain"
    assert rows(doc["remaining"]) == expected(a, automated) - gone
    assert rows(doc["erased"]) == gone
    assert doc["appeared"] == [] and doc["not_verifiable"] == []
    kept = {c["resource_id"] for c in doc["remaining"] if c["retained_beyond_deadline"]}
    assert kept == {a["rp"]}  # its lifecycle keeps it 120 days

    # -- the rest is deleted (from `rest`); the main account is scanned again, the partner's not yet
    rest = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
    time.sleep(max(0.0, (rest - dt.datetime.now(dt.UTC)).total_seconds()) + 0.05)
    ec2 = w.client("ec2", "eu-west-1")
    w.client("s3", "eu-west-1").delete_bucket(Bucket="acme-data")
    ec2.terminate_instances(InstanceIds=[w.ids["instance"]])
    ec2.deregister_image(ImageId=w.ids["image"])
    for snap in (w.ids["snap"], w.ids["image_snap"]):
        ec2.delete_snapshot(SnapshotId=snap)
    for volume in (w.ids["data"], w.ids["launched"]):
        ec2.delete_volume(VolumeId=volume)
    for region in REGIONS:
        w.client("dynamodb", region).delete_table(TableName="acme-orders")
    w.emu.dynamodb_replicas.clear()
    # (moto keeps listing a deleted replica on its source: the replica goes first, then the source)
    rds_us, rds = w.client("rds", "us-east-1"), w.client("rds", "eu-west-1")
    rds_us.promote_read_replica(DBInstanceIdentifier="acme-crm-us")
    rds_us.delete_db_instance(DBInstanceIdentifier="acme-crm-us", SkipFinalSnapshot=True)
    rds.delete_db_instance(DBInstanceIdentifier="acme-crm", SkipFinalSnapshot=True)
    for arn in [a["db_snap"], *automated]:
        try:
            rds.delete_db_snapshot(DBSnapshotIdentifier=arn.rsplit(":snapshot:", 1)[-1])
        except rds.exceptions.DBSnapshotNotFoundFault:
            pass  # an automated snapshot goes with its instance
    w.client("backup", "eu-west-1").delete_recovery_point(BackupVaultName="acme-vault", RecoveryPointArn=a["rp"])
    w.client("s3", "eu-west-1", partner=True).delete_bucket(Bucket="acme-partner-copy")
    w.reindex()
    scan(w, capsys)
    code, out = copies(w, capsys, "--verify-erased", "--since", rest.isoformat())
    doc = json.loads(out)
    assert code == 3 and doc["verdict"].startswith("not proven"), (rows(doc["remaining"]), rows(doc["appeared"]))
    assert doc["summary"]["remaining"] == 0 and len(doc["summary"]["unscanned_targets"]) == 1
    assert "scopes=partner" in doc["summary"]["unscanned_targets"][0]
    # measured from the start of the deletion, the partner's scan after it still holds its bucket
    code, out = copies(w, capsys, *verify)
    assert code == 1 and rows(json.loads(out)["remaining"]) == {(a["partner"], "primary", "eu-west-1")}

    # -- the partner's account scanned again: erased, and the evidence bundle verifies
    scan(w, capsys, partner=True)
    code, out = copies(w, capsys, "--verify-erased", "--since", rest.isoformat())
    assert code == 0 and rows(json.loads(out)["erased"]) == expected(a, automated) - gone
    bundle = tmp_path / "evidence"
    code, out = copies(w, capsys, *verify, "--bundle", str(bundle))
    doc = json.loads(out)
    assert code == 0, doc
    assert doc["verdict"] == "erased: no copy remains"
    assert rows(doc["erased"]) == expected(a, automated)
    code, report, _ = run_cli(["report", "--verify", str(bundle)], capsys)
    assert code == 0, report
    md = (bundle / "erasure.md").read_text("utf-8")
    assert "Verdict: erased: no copy remains" in md and md.count("- [x] ") == len(expected(a, automated))


def _deny_ec2_in_virginia(req: Request) -> Response | None:
    """The scanning role may not read EC2 in us-east-1 (what an SCP or a narrow policy does)."""
    if signed_scope(req) != ("us-east-1", "ec2"):
        return None
    body = (
        b"<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to "
        b"perform this operation.</Message></Error></Errors><RequestID>denied</RequestID></Response>"
    )
    return Response(403, {"Content-Type": "text/xml"}, body)


def test_a_region_the_credentials_cannot_read_leaves_erasure_unproven(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """The copy in Virginia is deleted, but the rescan may not read EC2 there: not proven (exit 3)."""
    w = world
    scan(w, capsys)
    snap_us = arns(w)["snap_us"]
    selector = ("--resource", snap_us)  # with the tag: the snapshot copy alone (EBS names no source for it)
    code, out = copies(w, capsys, *selector)
    assert rows(json.loads(out)["copies"]) == {(snap_us, "backup", "us-east-1")}
    since = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
    time.sleep(max(0.0, (since - dt.datetime.now(dt.UTC)).total_seconds()) + 0.05)
    ec2_us = w.client("ec2", "us-east-1")
    ec2_us.delete_snapshot(SnapshotId=w.ids["snap_us"])
    ec2_us.create_volume(AvailabilityZone="us-east-1a", Size=8)  # EC2 still holds something there to read
    w.reindex()
    w.emu.front.request_hooks.insert(0, _deny_ec2_in_virginia)
    try:
        args = ["scan", "aws", "--regions", ",".join(REGIONS), "--store", w.store, "-q", "-f", "json"]
        code, out, err = run_cli(args, capsys)
    finally:
        w.emu.front.request_hooks.remove(_deny_ec2_in_virginia)
    assert code == 1, err  # findings (what is in Virginia) outrank the gap in the scan's own exit code
    gaps = json.loads(out)["scan"]["gaps"]
    assert [(g["region"], g["service"], g["code"]) for g in gaps] == [("us-east-1", "ec2", "UnauthorizedOperation")]
    code, out = copies(w, capsys, *selector, "--verify-erased", "--since", since.isoformat())
    doc = json.loads(out)
    assert code == 3 and doc["verdict"].startswith("not proven") and doc["summary"]["remaining"] == 0
    assert any(c["region"] == "us-east-1" and "could not read" in c["reason"] for c in doc["not_verifiable"])
    # with the region readable again, the same deletion is proven
    scan(w, capsys)
    code, out = copies(w, capsys, *selector, "--verify-erased", "--since", since.isoformat())
    assert code == 0 and rows(json.loads(out)["erased"]) == {(snap_us, "backup", "us-east-1")}
