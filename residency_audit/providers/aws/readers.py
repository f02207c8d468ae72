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

from ...model import ATTR_EARLIEST_DELETION, CopyLink, Location
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
        self,
        kind: str,
        arn: str,
        name: str,
        locations: list[Location],
        tags: dict[str, str] | None = None,
        links: list[CopyLink] | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> None: ...

    def gone(self, arn: str) -> None: ...

    def note(self, text: str) -> None: ...

    def task(self, service: str, region: str, fn: Callable[[], Any]) -> Task: ...

    def inventory_tags(self, arn: str) -> dict[str, str] | None:
        """The tags the account's inventory read for `arn`, or None: then the reader asks."""
        ...

    def may_hold(self, region: str, resource_type: str) -> bool:
        """False when the account's index covers `resource_type` (`ec2:image`) and saw none in `region`."""
        ...


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
        links: list[CopyLink] = []
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
            target = str(rule.get("Destination", {}).get("Bucket", ""))
            dest = target.split(":::")[-1]
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
            # the destination is a bucket of its own (maybe another account's): `copies` follows it there
            arn = target if target.startswith("arn:") else f"arn:{partition(where or 'us-east-1')}:s3:::{dest}"
            links.append(CopyLink("copies-to", arn, "replication", detail))
        arn = f"arn:{partition(where or 'us-east-1')}:s3:::{name}"
        tags = ctx.inventory_tags(arn)
        if tags is None:
            try:
                tags = tags_of(client.get_bucket_tagging(Bucket=name).get("TagSet"))
            except Exception as exc:
                if error_code(exc) not in NOT_FOUND:
                    raise
                tags = {}
        ctx.add("s3.bucket", arn, name, locations, tags, links)

    return [ctx.task("s3", "", lambda b=b: one(b)) for b in buckets]  # type: ignore[misc]


def ec2(ctx: ReadContext, region: str) -> None:
    """Instances, volumes, snapshots and images, linked where EC2 says one holds another's data:
    an instance's attached volumes, a snapshot's volume, a volume created from a snapshot, an
    image's snapshots. Links name only what this listing holds: a snapshot copied from another
    region reports an arbitrary volume id, and a volume made from a public or shared image's
    snapshot holds none of this account's data before it is written to."""
    client = ctx.client("ec2", region)
    part, acct = partition(region), ctx.account_id

    def volume_arn(vid: str) -> str:
        return f"arn:{part}:ec2:{region}:{acct}:volume/{vid}"

    def snapshot_arn(sid: str) -> str:
        return f"arn:{part}:ec2:{region}::snapshot/{sid}"

    own_instances: set[str] = set()
    for res in _items(client, "describe_instances", "Reservations"):
        for inst in res.get("Instances", []):
            arn = f"arn:{part}:ec2:{region}:{acct}:instance/{inst['InstanceId']}"
            if inst.get("State", {}).get("Name") == "terminated":
                ctx.gone(arn)  # listed for an hour after it ends, by EC2 and by the inventories
                continue
            own_instances.add(inst["InstanceId"])
            tags = tags_of(inst.get("Tags"))
            zone = inst.get("Placement", {}).get("AvailabilityZone")
            # the instance's data is on its volumes (which do not inherit its tags)
            links = [
                CopyLink("copies-to", volume_arn(m["Ebs"]["VolumeId"]), "attached volume", m.get("DeviceName", ""))
                for m in inst.get("BlockDeviceMappings") or ()
                if (m.get("Ebs") or {}).get("VolumeId")
            ]
            name = tags.get("Name", inst["InstanceId"])
            ctx.add("ec2.instance", arn, name, [Location(region, zone=zone)], tags, links)
    volumes = list(_items(client, "describe_volumes", "Volumes"))
    for vol in volumes:
        tags = tags_of(vol.get("Tags"))
        zone = vol.get("AvailabilityZone")
        ctx.add(
            "ec2.volume",
            volume_arn(vol["VolumeId"]),
            tags.get("Name", vol["VolumeId"]),
            [Location(region, zone=zone)],
            tags,
        )
    snapshots = (
        list(_items(client, "describe_snapshots", "Snapshots", OwnerIds=["self"]))
        if ctx.may_hold(region, "ec2:snapshot")
        else []
    )
    # an index that covers images and saw none here spares the call (most regions hold none)
    images = (
        list(_items(client, "describe_images", "Images", Owners=["self"])) if ctx.may_hold(region, "ec2:image") else []
    )
    own_volumes = {v["VolumeId"] for v in volumes}
    own_snapshots = {s["SnapshotId"] for s in snapshots}
    image_snapshots = {
        str((m.get("Ebs") or {}).get("SnapshotId")) for img in images for m in img.get("BlockDeviceMappings") or ()
    }
    # a volume created from an image's snapshot is a launch, not a copy: following it would join
    # every instance launched from the same image into one data set
    made_from: dict[str, list[str]] = {}
    for vol in volumes:
        sid = vol.get("SnapshotId") or ""
        if sid in own_snapshots and sid not in image_snapshots:
            made_from.setdefault(sid, []).append(vol["VolumeId"])
    for snap in snapshots:
        tags = tags_of(snap.get("Tags"))
        vid = snap.get("VolumeId") or ""
        detail = f"snapshot of {vid}" if vid else "snapshot"
        links = [CopyLink("copy-of", volume_arn(vid), "snapshot")] if vid in own_volumes else []
        links += [
            CopyLink("copies-to", volume_arn(v), "volume created from it")
            for v in made_from.get(snap["SnapshotId"], ())
        ]
        name = tags.get("Name", snap["SnapshotId"])
        where = [Location(region, role="backup", detail=detail)]
        ctx.add("ec2.snapshot", snapshot_arn(snap["SnapshotId"]), name, where, tags, links)
    for img in images:
        tags = tags_of(img.get("Tags"))
        sids = [str((m.get("Ebs") or {}).get("SnapshotId") or "") for m in img.get("BlockDeviceMappings") or ()]
        # its data is in its snapshots: they go with it (an instance's image reaches them)
        links = [CopyLink("copies-to", snapshot_arn(sid), "image snapshot") for sid in sids if sid in own_snapshots]
        # made from an instance (CreateImage, an AWS Backup EC2 backup) that still exists
        if img.get("SourceInstanceId") in own_instances:
            links.append(
                CopyLink("copy-of", f"arn:{part}:ec2:{region}:{acct}:instance/{img['SourceInstanceId']}", "image")
            )
        if img.get("SourceImageId"):  # a copy (CopyImage), maybe from another region
            src = img.get("SourceImageRegion") or region
            links.append(
                CopyLink("copy-of", f"arn:{partition(src)}:ec2:{src}::image/{img['SourceImageId']}", "image copy")
            )
        detail = "machine image: its data is in its snapshots"
        arn = f"arn:{part}:ec2:{region}::image/{img['ImageId']}"
        name = img.get("Name") or img["ImageId"]
        ctx.add("ec2.image", arn, name, [Location(region, role="backup", detail=detail)], tags, links)


def rds(ctx: ReadContext, region: str) -> None:
    client = ctx.client("rds", region)
    part, acct = partition(region), ctx.account_id

    def db_arn(ident: str) -> str:
        """Replicas in another region are named by ARN, those in the same region by identifier."""
        return ident if ident.startswith("arn:") else f"arn:{part}:rds:{region}:{acct}:db:{ident}"

    instances = list(_items(client, "describe_db_instances", "DBInstances"))
    for db in instances:
        locations = [Location(region, zone=db.get("AvailabilityZone"))]
        links: list[CopyLink] = []
        for replica in db.get("ReadReplicaDBInstanceIdentifiers", []):
            links.append(CopyLink("copies-to", db_arn(replica), "read replica"))
            r_region = arn_region(replica) or region
            if r_region != region:
                locations.append(Location(r_region, role="replica", detail=f"read replica {replica}"))
        source = db.get("ReadReplicaSourceDBInstanceIdentifier")
        if source:
            links.append(CopyLink("copy-of", db_arn(source), "read replica"))
        if source and (arn_region(source) or region) != region:
            locations.append(Location(arn_region(source), role="replica", detail=f"replica of {source}"))
        for rep in db.get("DBInstanceAutomatedBackupsReplications", []):
            arn = rep.get("DBInstanceAutomatedBackupsArn", "")
            locations.append(Location(arn_region(arn), role="backup", detail=f"automated backups replicated to {arn}"))
        tags = tags_of(db.get("TagList"))
        ctx.add("rds.instance", db["DBInstanceArn"], db["DBInstanceIdentifier"], locations, tags, links)
    listed = {db["DBInstanceIdentifier"] for db in instances}
    # not spared by the index: automated snapshots come with every instance, indexed or not
    for snap in _items(client, "describe_db_snapshots", "DBSnapshots"):
        source = str(snap.get("SourceDBSnapshotIdentifier") or "")
        ident = str(snap.get("DBInstanceIdentifier") or "")
        if source:  # a copy: of a snapshot (an ARN when it came from another region)
            links = [
                CopyLink(
                    "copy-of",
                    source if source.startswith("arn:") else f"arn:{part}:rds:{region}:{acct}:snapshot:{source}",
                    "snapshot copy",
                )
            ]
        else:  # its instance, while it exists (a snapshot outlives it)
            links = [CopyLink("copy-of", db_arn(ident), "snapshot")] if ident in listed else []
        detail = f"{snap.get('SnapshotType') or 'DB'} snapshot of {ident}"
        where = [Location(region, role="backup", detail=detail)]
        name = str(snap["DBSnapshotIdentifier"])
        ctx.add("rds.snapshot", snap["DBSnapshotArn"], name, where, tags_of(snap.get("TagList")), links)
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
        arn = str(table["TableArn"])
        locations = [Location(region)]
        links: list[CopyLink] = []
        for rep in table.get("Replicas", []):
            r = rep.get("RegionName")
            if r and r != region:
                locations.append(Location(r, role="replica", detail="global table replica"))
                # each replica is a table of its own in its region, under the same name
                links.append(CopyLink("copies-to", arn.replace(f":{region}:", f":{r}:", 1), "global table replica"))
        locations += exports.get(arn, [])
        tags = ctx.inventory_tags(arn)
        if tags is None:
            tags = tags_of(list(_items(client, "list_tags_of_resource", "Tags", ResourceArn=arn)))
        ctx.add("dynamodb.table", arn, name, locations, tags, links)


def lambda_functions(ctx: ReadContext, region: str) -> None:
    client = ctx.client("lambda", region)
    for fn in _items(client, "list_functions", "Functions"):
        ctx.add("lambda.function", fn["FunctionArn"], fn["FunctionName"], [Location(region)])


def efs(ctx: ReadContext, region: str) -> None:
    client = ctx.client("efs", region)
    destinations: dict[str, list[dict[str, Any]]] = {}
    systems = list(_items(client, "describe_file_systems", "FileSystems"))
    if systems:
        for rep in _items(client, "describe_replication_configurations", "Replications"):
            for d in rep.get("Destinations", []):
                destinations.setdefault(rep.get("SourceFileSystemId", ""), []).append(d)
    for fs in systems:
        locations = [Location(region, zone=fs.get("AvailabilityZoneName"))]
        links: list[CopyLink] = []
        for d in destinations.get(fs["FileSystemId"], []):
            d_region = str(d.get("Region") or "")
            locations.append(Location(d_region or None, role="replica", detail="EFS replication"))
            if d_region and d.get("FileSystemId"):  # the destination is a file system of its own
                owner = str(d.get("OwnerId") or ctx.account_id)
                target = (
                    f"arn:{partition(d_region)}:elasticfilesystem:{d_region}:{owner}:file-system/{d['FileSystemId']}"
                )
                links.append(CopyLink("copies-to", target, "replication"))
        arn = fs.get("FileSystemArn") or (
            f"arn:{partition(region)}:elasticfilesystem:{region}:{ctx.account_id}:file-system/{fs['FileSystemId']}"
        )
        name = fs.get("Name") or fs["FileSystemId"]
        ctx.add("efs.filesystem", arn, name, locations, tags_of(fs.get("Tags")), links)


def backup(ctx: ReadContext, region: str) -> None:
    """Vaults, their recovery points (each a copy of the resource it backs up, kept until its
    lifecycle deletes it) and plans, whose copy actions copy every recovery point they make to
    another vault: often another region, the classic DR copy."""
    client = ctx.client("backup", region)
    for vault in _items(client, "list_backup_vaults", "BackupVaultList"):
        where = [Location(region, role="backup", detail="backup vault (recovery points)")]
        name = str(vault.get("BackupVaultName", ""))
        ctx.add("backup.vault", vault["BackupVaultArn"], name, where)
        # every vault is listed: NumberOfRecoveryPoints is documented as possibly an approximation
        for rp in _items(client, "list_recovery_points_by_backup_vault", "RecoveryPoints", BackupVaultName=name):
            recovery_point(ctx, region, name, rp)
    for summary in _items(client, "list_backup_plans", "BackupPlansList"):
        try:
            plan = client.get_backup_plan(BackupPlanId=summary["BackupPlanId"]).get("BackupPlan") or {}
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            continue  # deleted between the listing and this read: it backs nothing up any more
        locations = [Location(region, role="backup", detail="backup plan: its target vaults are in its region")]
        links: list[CopyLink] = []
        for rule in plan.get("Rules") or ():
            for copy in rule.get("CopyActions") or ():
                arn = str(copy.get("DestinationBackupVaultArn", ""))
                dest = arn_region(arn)
                detail = (
                    f"backup rule {rule.get('RuleName', '?')} copies recovery points to vault {arn.rsplit(':', 1)[-1]}"
                )
                loc = Location(dest, role="backup", detail=detail + ("" if dest else f": no region in {arn!r}"))
                if loc not in locations:
                    locations.append(loc)
                if arn and CopyLink("copies-to", arn, "backup copy", detail) not in links:
                    links.append(CopyLink("copies-to", arn, "backup copy", detail))
        name = summary.get("BackupPlanName") or plan.get("BackupPlanName", "")
        ctx.add("backup.plan", summary.get("BackupPlanArn", ""), name, locations, links=links)


def recovery_point(ctx: ReadContext, region: str, vault: str, rp: dict[str, Any]) -> None:
    """A recovery point: a copy of its resource, in its vault; a copy from another vault says so."""
    if rp.get("Status") in ("DELETED", "EXPIRED"):
        return
    if str(rp.get("RecoveryPointArn", "")).split(":")[2:3] in (["ec2"], ["fsx"]):
        return  # an EBS snapshot, an AMI or an FSx backup: its own reader reports it, linked to its source
    links = [CopyLink("copy-of", str(rp["ResourceArn"]), "backup", f"recovery point in vault {vault}")]
    source = str(rp.get("SourceBackupVaultArn") or "")
    detail = f"recovery point of {rp.get('ResourceName') or rp.get('ResourceArn', '?')} in vault {vault}"
    if source:
        detail += f", copied from vault {source.rsplit(':', 1)[-1]}"
    attributes: dict[str, Any] = {}
    delete_at = (rp.get("CalculatedLifecycle") or {}).get("DeleteAt")
    if delete_at is not None:
        attributes[ATTR_EARLIEST_DELETION] = (
            delete_at.date().isoformat() if hasattr(delete_at, "date") else str(delete_at)
        )
    arn = str(rp["RecoveryPointArn"])
    name = arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    ctx.add(
        "backup.recoverypoint",
        arn,
        name,
        [Location(region, role="backup", detail=detail)],
        links=links,
        attributes=attributes,
    )


# The RDS reader also reads global databases, and names DocumentDB and Neptune clusters as such.
from .readers_more import cluster_kind, global_clusters  # noqa: E402
