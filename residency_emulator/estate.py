"""The bundled sample AWS estate: clean EU resources and the classic traps.

Written into the local emulator only (`seed_aws` refuses any non-loopback
endpoint): the scanner itself never writes to a cloud.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from .aws import AwsEmulator
from .aws_fakes import ACCOUNT
from .estate_more import index_estate, seed_more

#: Regions the sample estate uses.
#: The seed of moto's id generator for the sample estate: the same ids in every run.
ID_SEED = 6

REGIONS = [
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "us-east-1",
    "us-east-2",
    "ap-southeast-2",
]


def _client(emu: AwsEmulator, service: str, region: str) -> Any:
    import boto3

    host = urlparse(emu.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise RuntimeError(f"refusing to seed a non-loopback endpoint: {emu.url}")
    env = emu.env()
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=emu.url,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=env["AWS_SESSION_TOKEN"],
    )


#: The demo's data set (`demo` lists every copy of it): one customer's, as tags say.
ACME = [{"Key": "customer", "Value": "acme"}]


def _bucket(emu: AwsEmulator, name: str, region: str) -> None:
    s3 = _client(emu, "s3", region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)  # no LocationConstraint: the classic us-east-1 default
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


def _replicate(emu: AwsEmulator, source: str, region: str, dest: str, account: str = "") -> None:
    s3 = _client(emu, "s3", region)
    s3.put_bucket_versioning(Bucket=source, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(
        Bucket=source,
        ReplicationConfiguration={
            "Role": "arn:aws:iam::123456789012:role/replication",
            "Rules": [
                {
                    "ID": "dr",
                    "Status": "Enabled",
                    "Priority": 1,
                    "Filter": {"Prefix": ""},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Destination": {"Bucket": f"arn:aws:s3:::{dest}", **({"Account": account} if account else {})},
                }
            ],
        },
    )


def _instance(emu: AwsEmulator, region: str, name: str) -> str:
    ec2 = _client(emu, "ec2", region)
    out = ec2.run_instances(
        ImageId="ami-12345678",
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}],
    )
    return str(out["Instances"][0]["InstanceId"])


def seed_aws(emu: AwsEmulator) -> dict[str, Any]:
    """Create the sample estate; returns what was made (names per trap), for display."""
    made: dict[str, Any] = {}
    emu.seed_ids(ID_SEED)
    # S3: clean, London, us-east-1 default, Frankfurt replicating to Virginia, Ireland -> Sydney
    _bucket(emu, "invoices-ireland", "eu-west-1")
    _bucket(emu, "archive-stockholm", "eu-north-1")
    _bucket(emu, "exports-london", "eu-west-2")
    _bucket(emu, "legacy-default-region", "us-east-1")
    _bucket(emu, "media-frankfurt", "eu-central-1")
    _bucket(emu, "media-dr-virginia", "us-east-1")
    _replicate(emu, "media-frankfurt", "eu-central-1", "media-dr-virginia")
    _bucket(emu, "photos-ireland", "eu-west-1")
    _bucket(emu, "photos-sydney", "ap-southeast-2")
    _replicate(emu, "photos-ireland", "eu-west-1", "photos-sydney")
    _bucket(emu, "reports-paris", "eu-west-3")
    _bucket(emu, "reports-paris-copy", "eu-central-1")
    _replicate(emu, "reports-paris", "eu-west-3", "reports-paris-copy")
    _client(emu, "s3", "eu-west-3").put_bucket_tagging(Bucket="reports-paris", Tagging={"TagSet": ACME})
    # ... and to another account's bucket, whose region this account cannot read: fails closed
    _bucket(emu, "ledger-exports", "eu-west-1")
    _replicate(emu, "ledger-exports", "eu-west-1", "partner-drop", account="210987654321")

    # EC2: clean Frankfurt VM, a Zurich VM (not EU), an Oregon-free US VM in Ohio
    made["instances"] = {
        "app-frankfurt": _instance(emu, "eu-central-1", "app-frankfurt"),
        "batch-zurich": _instance(emu, "eu-central-2", "batch-zurich"),
        "ci-runner-ohio": _instance(emu, "us-east-2", "ci-runner-ohio"),
    }
    # EBS: a volume in Paris, its snapshot there, and a copy of that snapshot in Sydney
    ec2_paris = _client(emu, "ec2", "eu-west-3")
    vol = ec2_paris.create_volume(
        AvailabilityZone="eu-west-3a",
        Size=8,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "db-data-paris"}, *ACME]}],
    )
    snap = ec2_paris.create_snapshot(
        VolumeId=vol["VolumeId"],
        Description="nightly",
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": "db-nightly-paris"}]}],
    )
    copy = _client(emu, "ec2", "ap-southeast-2").copy_snapshot(
        SourceRegion="eu-west-3",
        SourceSnapshotId=snap["SnapshotId"],
        Description="offsite copy",
        # tagged as the copy's source is: EBS does not say where a snapshot copy came from
        TagSpecifications=[
            {"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": "db-offsite-sydney"}, *ACME]}
        ],
    )
    made["snapshots"] = {"paris": snap["SnapshotId"], "sydney": copy["SnapshotId"]}

    # DynamoDB: a Frankfurt table with a global-table replica in Virginia; a clean Milan table
    for region, table in (("eu-central-1", "orders"), ("eu-south-1", "sessions")):
        _client(emu, "dynamodb", region).create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
    emu.dynamodb_replicas[("eu-central-1", "orders")] = ["eu-central-1", "us-east-1"]

    # RDS: an Irish primary with a cross-region read replica in London
    rds_ie = _client(emu, "rds", "eu-west-1")
    src = rds_ie.create_db_instance(
        DBInstanceIdentifier="crm",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="crm",
        MasterUserPassword="not-a-secret-1",
        Tags=ACME,
    )
    _client(emu, "rds", "eu-west-2").create_db_instance_read_replica(
        DBInstanceIdentifier="crm-london",
        SourceDBInstanceIdentifier=src["DBInstance"]["DBInstanceArn"],
        DBInstanceClass="db.t3.micro",
    )
    _client(emu, "rds", "eu-north-1").create_db_instance(
        DBInstanceIdentifier="billing",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="billing",
        MasterUserPassword="not-a-secret-2",
    )

    # Lambda: one in Milan (clean), one in Virginia
    iam = _client(emu, "iam", "us-east-1")
    role = iam.create_role(
        RoleName="lambda-exec",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )["Role"]["Arn"]
    code = {"ZipFile": _zip_handler()}
    for region, fn in (("eu-south-1", "thumbnailer"), ("us-east-1", "edge-auth")):
        _client(emu, "lambda", region).create_function(
            FunctionName=fn, Runtime="python3.12", Role=role, Handler="handler.handler", Code=code
        )

    # EFS: an Irish file system replicated to Ohio (served by the emulator front)
    fs = _client(emu, "efs", "eu-west-1").create_file_system(
        CreationToken="shared-home", Tags=[{"Key": "Name", "Value": "shared-home"}]
    )
    emu.efs_replications["eu-west-1"] = [
        {
            "SourceFileSystemId": fs["FileSystemId"],
            "SourceFileSystemRegion": "eu-west-1",
            "SourceFileSystemArn": fs["FileSystemArn"],
            "OriginalSourceFileSystemArn": fs["FileSystemArn"],
            "CreationTime": 1700000000,
            "Destinations": [{"Status": "ENABLED", "FileSystemId": "fs-0dest", "Region": "us-east-2"}],
        }
    ]

    # AWS Backup: a Frankfurt plan backing up into a Frankfurt vault, with a DR copy to Virginia
    bk_fra = _client(emu, "backup", "eu-central-1")
    bk_fra.create_backup_vault(BackupVaultName="vault-frankfurt")
    dr = _client(emu, "backup", "us-east-1").create_backup_vault(BackupVaultName="dr-vault-virginia")
    bk_fra.create_backup_plan(
        BackupPlan={
            "BackupPlanName": "nightly-frankfurt",
            "Rules": [
                {
                    "RuleName": "nightly",
                    "TargetBackupVaultName": "vault-frankfurt",
                    "ScheduleExpression": "cron(0 3 * * ? *)",
                    "CopyActions": [{"DestinationBackupVaultArn": dr["BackupVaultArn"]}],
                }
            ],
        }
    )

    # DynamoDB: the Frankfurt table exported to the bucket in Virginia (the export is a full copy)
    emu.fakes.dynamodb_exports["eu-central-1"] = [
        (f"arn:aws:dynamodb:eu-central-1:{ACCOUNT}:table/orders", "legacy-default-region", ACCOUNT)
    ]
    # The services beyond the first seven, one trap per family; then the inventory indexes.
    client = lambda service, region: _client(emu, service, region)  # noqa: E731
    seed_more(emu, client, made)
    index_estate(emu, client, REGIONS, made)
    return made


def _zip_handler() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()
