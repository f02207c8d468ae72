"""AWS readers: one per service, named by the kinds that service reports (`kinds.Kind.reader`).

A reader lists a service in one region (S3: once per account) through the context's guarded
clients and adds a `Resource` per item, with every region that holds its data: replication
destinations, read replicas, replicated backups, global-table replicas, backup copy vaults.
It raises on API errors (the scan turns them into a gap for that service and region) and
returns further tasks when a listing fans out (one per S3 bucket).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from ...model import Location
from ..base import error_code
from .client import arn_region, pages, partition

Task = Callable[[], Any]

#: Error codes that mean "this resource has none of that", not a failure.
NOT_FOUND = frozenset(
    {"ReplicationConfigurationNotFoundError", "NoSuchTagSet", "ReplicationNotFound", "FileSystemNotFound"}
)


class ReadContext(Protocol):
    """What a reader sees of the scan: one account's clients, and where results go."""

    account_id: str
    home: str

    def client(self, service: str, region: str) -> Any: ...

    def add(
        self, kind: str, arn: str, name: str, locations: list[Location], tags: dict[str, str] | None = None
    ) -> None: ...

    def note(self, text: str) -> None: ...

    def task(self, service: str, region: str, fn: Callable[[], Any]) -> Task: ...


def tags_of(items: list[dict[str, Any]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in items or [] if "Key" in t}


def s3_region(constraint: str | None) -> str:
    """GetBucketLocation quirks: no constraint means us-east-1, legacy "EU" means eu-west-1."""
    if not constraint:
        return "us-east-1"
    return "eu-west-1" if constraint.upper() == "EU" else constraint


def _items(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    return pages(client, operation, key, **kwargs)


def s3_buckets(ctx: ReadContext, region: str) -> list[Task]:
    """Buckets are listed once per account; each bucket's replication is its own task."""
    s3 = ctx.client("s3", ctx.home)
    buckets = list(_items(s3, "list_buckets", "Buckets"))
    # Current AWS returns BucketRegion in ListBuckets; GetBucketLocation is the fallback,
    # asked at most once per bucket (replication destinations are usually buckets of the
    # same listing).
    cache: dict[str, str] = {b["Name"]: b["BucketRegion"] for b in buckets if b.get("BucketRegion")}

    def bucket_region(name: str) -> str:
        if name not in cache:
            cache[name] = s3_region(s3.get_bucket_location(Bucket=name).get("LocationConstraint"))
        return cache[name]

    def one(b: dict[str, Any]) -> None:
        name = b["Name"]
        where = bucket_region(name)
        locations = [Location(region=where)]
        client = ctx.client("s3", where or ctx.home)
        try:
            rules = client.get_bucket_replication(Bucket=name)["ReplicationConfiguration"].get("Rules", [])
        except Exception as exc:
            if error_code(exc) not in NOT_FOUND:
                raise
            rules = []
        for rule in rules:
            if rule.get("Status") != "Enabled":
                continue
            dest = rule.get("Destination", {}).get("Bucket", "").split(":::")[-1]
            account = str(rule.get("Destination", {}).get("Account") or "")
            other = f" of account {account}" if account and account != ctx.account_id else ""
            try:
                dest_region: str | None = bucket_region(dest)
            except Exception as exc:  # noqa: BLE001 - e.g. another account's bucket
                dest_region = None
                ctx.note(
                    f"aws: bucket {name}: region of replication destination {dest}{other} not readable "
                    f"({error_code(exc)})"
                )
            detail = f"replication rule {rule.get('ID', '')} -> {dest}{other}".strip()
            locations.append(Location(region=dest_region, role="replica", detail=detail))
        ctx.add("s3.bucket", f"arn:{partition(where or 'us-east-1')}:s3:::{name}", name, locations)

    return [ctx.task("s3", "", lambda b=b: one(b)) for b in buckets]  # type: ignore[misc]


def ec2(ctx: ReadContext, region: str) -> None:
    client = ctx.client("ec2", region)
    part, acct = partition(region), ctx.account_id
    for res in _items(client, "describe_instances", "Reservations"):
        for inst in res.get("Instances", []):
            if inst.get("State", {}).get("Name") == "terminated":
                continue
            tags = tags_of(inst.get("Tags"))
            zone = inst.get("Placement", {}).get("AvailabilityZone")
            arn = f"arn:{part}:ec2:{region}:{acct}:instance/{inst['InstanceId']}"
            ctx.add("ec2.instance", arn, tags.get("Name", inst["InstanceId"]), [Location(region, zone=zone)], tags)
    for vol in _items(client, "describe_volumes", "Volumes"):
        tags = tags_of(vol.get("Tags"))
        arn = f"arn:{part}:ec2:{region}:{acct}:volume/{vol['VolumeId']}"
        zone = vol.get("AvailabilityZone")
        ctx.add("ec2.volume", arn, tags.get("Name", vol["VolumeId"]), [Location(region, zone=zone)], tags)
    for snap in _items(client, "describe_snapshots", "Snapshots", OwnerIds=["self"]):
        tags = tags_of(snap.get("Tags"))
        detail = f"snapshot of {snap['VolumeId']}" if snap.get("VolumeId") else "snapshot"
        arn = f"arn:{part}:ec2:{region}::snapshot/{snap['SnapshotId']}"
        name = tags.get("Name", snap["SnapshotId"])
        ctx.add("ec2.snapshot", arn, name, [Location(region, role="backup", detail=detail)], tags)


def rds(ctx: ReadContext, region: str) -> None:
    client = ctx.client("rds", region)
    for db in _items(client, "describe_db_instances", "DBInstances"):
        locations = [Location(region, zone=db.get("AvailabilityZone"))]
        for replica in db.get("ReadReplicaDBInstanceIdentifiers", []):
            r_region = arn_region(replica) or region
            if r_region != region:
                locations.append(Location(r_region, role="replica", detail=f"read replica {replica}"))
        source = db.get("ReadReplicaSourceDBInstanceIdentifier")
        if source and (arn_region(source) or region) != region:
            locations.append(Location(arn_region(source), role="replica", detail=f"replica of {source}"))
        for rep in db.get("DBInstanceAutomatedBackupsReplications", []):
            arn = rep.get("DBInstanceAutomatedBackupsArn", "")
            locations.append(Location(arn_region(arn), role="backup", detail=f"automated backups replicated to {arn}"))
        tags = tags_of(db.get("TagList"))
        ctx.add("rds.instance", db["DBInstanceArn"], db["DBInstanceIdentifier"], locations, tags)
    for cl in _items(client, "describe_db_clusters", "DBClusters"):
        locations = [Location(region)]
        kind = cluster_kind(str(cl.get("Engine", "")))
        for replica in cl.get("ReadReplicaIdentifiers", []):
            r_region = arn_region(replica) or region
            if r_region != region:
                locations.append(Location(r_region, role="replica", detail=f"cluster replica {replica}"))
        tags = tags_of(cl.get("TagList"))
        ctx.add(kind, cl["DBClusterArn"], cl["DBClusterIdentifier"], locations, tags)
    global_clusters(ctx, region)


def dynamodb(ctx: ReadContext, region: str) -> None:
    """Tables, their global-table (2019) replicas, and every export to S3: an export is a full
    copy of the table in a bucket, which may be in another region or another account."""
    client = ctx.client("dynamodb", region)
    names = list(_items(client, "list_tables", "TableNames"))
    exports: dict[str, list[Location]] = {}
    if names:
        for summary in _items(client, "list_exports", "ExportSummaries"):
            if summary.get("ExportStatus") == "FAILED":
                continue
            export = client.describe_export(ExportArn=summary["ExportArn"]).get("ExportDescription") or {}
            table_arn = str(export.get("TableArn") or str(summary["ExportArn"]).split("/export/")[0])
            bucket = str(export.get("S3Bucket", ""))
            owner = str(export.get("S3BucketOwner") or "")
            where: str | None = None
            if owner and owner != ctx.account_id:
                detail = f"export to bucket {bucket} of account {owner}: its region is not readable"
            else:
                s3 = ctx.client("s3", ctx.home)
                where = s3_region(s3.get_bucket_location(Bucket=bucket).get("LocationConstraint"))
                detail = f"export to bucket {bucket}"
            loc = Location(where, role="backup", detail=detail)
            if loc not in exports.setdefault(table_arn, []):
                exports[table_arn].append(loc)
    for name in names:
        table = client.describe_table(TableName=name)["Table"]
        locations = [Location(region)]
        for rep in table.get("Replicas", []):
            r = rep.get("RegionName")
            if r and r != region:
                locations.append(Location(r, role="replica", detail="global table replica"))
        locations += exports.get(table["TableArn"], [])
        ctx.add("dynamodb.table", table["TableArn"], name, locations)


def lambda_functions(ctx: ReadContext, region: str) -> None:
    client = ctx.client("lambda", region)
    for fn in _items(client, "list_functions", "Functions"):
        ctx.add("lambda.function", fn["FunctionArn"], fn["FunctionName"], [Location(region)])


def efs(ctx: ReadContext, region: str) -> None:
    client = ctx.client("efs", region)
    destinations: dict[str, list[str]] = {}
    systems = list(_items(client, "describe_file_systems", "FileSystems"))
    if systems:
        for rep in _items(client, "describe_replication_configurations", "Replications"):
            for d in rep.get("Destinations", []):
                destinations.setdefault(rep.get("SourceFileSystemId", ""), []).append(d.get("Region", ""))
    for fs in systems:
        locations = [Location(region, zone=fs.get("AvailabilityZoneName"))]
        for d_region in destinations.get(fs["FileSystemId"], []):
            locations.append(Location(d_region or None, role="replica", detail="EFS replication"))
        arn = fs.get("FileSystemArn") or (
            f"arn:{partition(region)}:elasticfilesystem:{region}:{ctx.account_id}:file-system/{fs['FileSystemId']}"
        )
        ctx.add("efs.filesystem", arn, fs.get("Name") or fs["FileSystemId"], locations, tags_of(fs.get("Tags")))


def backup(ctx: ReadContext, region: str) -> None:
    """Vaults (recovery points live there) and plans, whose copy actions copy every recovery
    point they make to another vault: often another region, the classic DR copy."""
    client = ctx.client("backup", region)
    for vault in _items(client, "list_backup_vaults", "BackupVaultList"):
        where = [Location(region, role="backup", detail="backup vault (recovery points)")]
        ctx.add("backup.vault", vault["BackupVaultArn"], vault.get("BackupVaultName", ""), where)
    for summary in _items(client, "list_backup_plans", "BackupPlansList"):
        try:
            plan = client.get_backup_plan(BackupPlanId=summary["BackupPlanId"]).get("BackupPlan") or {}
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            continue  # deleted between the listing and this read: it backs nothing up any more
        locations = [Location(region, role="backup", detail="backup plan: its target vaults are in its region")]
        for rule in plan.get("Rules") or ():
            for copy in rule.get("CopyActions") or ():
                arn = str(copy.get("DestinationBackupVaultArn", ""))
                dest = arn_region(arn)
                loc = Location(
                    dest,
                    role="backup",
                    detail=f"backup rule {rule.get('RuleName', '?')} copies recovery points to vault "
                    f"{arn.rsplit(':', 1)[-1]}" + ("" if dest else f": no region in {arn!r}"),
                )
                if loc not in locations:
                    locations.append(loc)
        name = summary.get("BackupPlanName") or plan.get("BackupPlanName", "")
        ctx.add("backup.plan", summary.get("BackupPlanArn", ""), name, locations)


# The RDS reader also reads global databases, and names DocumentDB and Neptune clusters as such.
from .readers_more import cluster_kind, global_clusters  # noqa: E402
