"""AWS: storage and compute resources with every region that holds their data.

Read-only by construction: every call goes through `_call`/`_pages`, which
refuse any operation not in `READ_OPERATIONS` (the same list drives the
least-privilege policy). One boto3 session per account and one client per
(service, region), created once: client creation is the dominant cost of
naive scanners.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core import Collector
from ..errors import CredentialsError, UserError
from ..model import Gap, Location, Owner, OwnerNode, Resource
from ..providers.aws.kinds import GLOBAL_SERVICES, SERVICES, read_operations
from ..providers.base import allow_list

if TYPE_CHECKING:  # boto3 is imported lazily: `--help` and the gate must not pay for it
    import boto3

PROVIDER = "aws"

#: Every API operation the adapter may call: derived from the kind declarations
#: (`providers/aws/kinds.py`), the same list `permissions aws` prints. Nothing else is
#: ever sent; tests assert the recorded calls are a subset of this.
READ_OPERATIONS: frozenset[tuple[str, str]] = allow_list(read_operations())

REGIONAL_SERVICES = tuple(s for s in SERVICES if s not in GLOBAL_SERVICES)
ALL_SERVICES = GLOBAL_SERVICES + REGIONAL_SERVICES

_NOT_FOUND = {
    "ReplicationConfigurationNotFoundError",
    "NoSuchTagSet",
    "ReplicationNotFound",
    "FileSystemNotFound",
}


class ReadOnlyViolation(RuntimeError):
    """Raised before sending any operation that is not on the read allow-list."""


class ScanCancelled(BaseException):
    """Raised before the next API call once Ctrl-C stopped the scan.

    A BaseException, so the per-service `except Exception` handlers do not turn
    the cancellation into a gap: the scan is marked interrupted instead.
    """


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", "")) or type(exc).__name__
    return type(exc).__name__


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _tags(items: list[dict[str, Any]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in items or [] if "Key" in t}


def s3_region(constraint: str | None) -> str:
    """GetBucketLocation quirks: no constraint means us-east-1, legacy "EU" means eu-west-1."""
    if not constraint:
        return "us-east-1"
    return "eu-west-1" if constraint.upper() == "EU" else constraint


def _arn_region(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] or None if len(parts) > 3 and parts[0] == "arn" else None


@dataclass
class AccountTarget:
    """One account to scan, with the session that reaches it."""

    session: boto3.Session
    account_id: str = ""
    owner: Owner | None = None


@dataclass
class AwsAdapter:
    """Scans one or more AWS accounts. Construct with `from_profile` for the usual case."""

    targets: list[AccountTarget]
    regions: list[str] | None = None
    services: tuple[str, ...] = ALL_SERVICES
    max_workers: int = 16
    #: Per-attempt socket timeouts and total attempts (botocore standard retry mode:
    #: throttling, 429, 5xx, timeouts and resets are retried with capped jittered backoff).
    connect_timeout: float = 5
    read_timeout: float = 30
    max_attempts: int = 6
    _clients: dict[tuple[int, str, str], Any] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    provider: str = PROVIDER

    @classmethod
    def from_profile(
        cls,
        profile: str | None = None,
        regions: list[str] | None = None,
        services: tuple[str, ...] = ALL_SERVICES,
        max_workers: int = 16,
    ) -> AwsAdapter:
        import boto3
        from botocore.exceptions import ConfigParseError, ProfileNotFound

        try:
            session = boto3.Session(profile_name=profile) if profile else boto3.Session()
        except ProfileNotFound:
            raise CredentialsError(f"AWS profile '{profile}' not found in the AWS config") from None
        except ConfigParseError as exc:
            raise UserError(f"{exc.kwargs.get('path', 'AWS config')}: cannot parse the AWS config file") from None
        return cls(targets=[AccountTarget(session)], regions=regions, services=services, max_workers=max_workers)

    # ----------------------------------------------------------------- plumbing

    def _client(self, collector: Collector, session: boto3.Session, service: str, region: str) -> Any:
        key = (id(session), service, region)
        with self._lock:  # botocore client creation is not thread-safe
            client = self._clients.get(key)
            if client is None:
                from botocore.config import Config

                config = Config(
                    retries={"mode": "standard", "total_max_attempts": self.max_attempts},
                    max_pool_connections=max(10, self.max_workers),
                    connect_timeout=self.connect_timeout,
                    read_timeout=self.read_timeout,
                    user_agent_extra="residency-audit",
                )
                client = session.client(service, region_name=region, config=config)

                def guard(model: Any, **_: Any) -> None:
                    if self._stop.is_set():
                        raise ScanCancelled()
                    op = (model.service_model.service_name, model.name)
                    if op not in READ_OPERATIONS:
                        raise ReadOnlyViolation(f"refusing non-read operation {op[0]}:{op[1]}")
                    collector.count_call(f"{op[0]}:{op[1]}")

                client.meta.events.register("before-call", guard)

                def stop_before_retry(**_: Any) -> None:
                    if self._stop.is_set():
                        raise ScanCancelled()

                client.meta.events.register("before-send", stop_before_retry)
                self._clients[key] = client
            return client

    @staticmethod
    def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
        if client.can_paginate(operation):
            for page in client.get_paginator(operation).paginate(**kwargs):
                yield from page.get(key, [])
        else:
            yield from getattr(client, operation)(**kwargs).get(key, [])

    # ----------------------------------------------------------------- scanning

    def scan(self, collector: Collector) -> None:
        pool = cf.ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="aws")
        pending: set[cf.Future[list[Callable[[], Any]] | None]] = set()
        try:
            for target in self.targets:
                pending.add(pool.submit(self._plan_account, collector, target))
            while pending:
                done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    for task in fut.result() or []:
                        pending.add(pool.submit(task))
        except BaseException:
            # Ctrl-C (or a fatal error): running tasks stop at their next API
            # call or retry (the hooks raise ScanCancelled), and the caller gets
            # control back now to write what was collected, without waiting for
            # in-flight requests or backoff sleeps.
            self._stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    def _guarded(
        self, collector: Collector, target: AccountTarget, region: str, service: str, fn: Callable[[], Any]
    ) -> Callable[[], Any]:
        """Wraps a unit of work so that a failure becomes a gap, never a crash."""

        def run() -> Any:
            label = f"aws:{target.account_id}"
            try:
                more = fn()
                if isinstance(more, list) and more:
                    # Tasks it spawns (one per S3 bucket) are announced before this one is
                    # done, so the progress display never counts work it was not told of.
                    collector.progress.add_work(label, len(more))
                return more
            except ReadOnlyViolation:
                raise
            except Exception as exc:  # noqa: BLE001 - every API failure is a gap
                collector.gap(Gap(PROVIDER, target.account_id, region, service, _one_line(exc), _error_code(exc)))
                return None
            finally:
                collector.progress.done(label, f"{service} {region or 'global'}")

        return run

    def _plan_account(self, collector: Collector, target: AccountTarget) -> list[Callable[[], Any]]:
        from botocore.exceptions import ConfigParseError, NoCredentialsError

        session = target.session
        home = session.region_name or "us-east-1"
        try:
            if not target.account_id:
                ident = self._client(collector, session, "sts", home).get_caller_identity()
                target.account_id = ident["Account"]
            if target.owner is None:
                target.owner = self._owner(collector, session, home, target.account_id)
        except NoCredentialsError:
            if len(self.targets) == 1:
                raise CredentialsError(
                    "no AWS credentials found (set AWS_PROFILE, run 'aws sso login', or export AWS_ACCESS_KEY_ID/"
                    "AWS_SECRET_ACCESS_KEY)"
                ) from None
            collector.gap(Gap(PROVIDER, target.account_id, "", "sts", "no credentials", "NoCredentials"))
            return []
        except ConfigParseError as exc:  # e.g. a broken shared credentials file
            path = exc.kwargs.get("path", "AWS config")
            raise UserError(f"{path}: cannot parse the AWS credentials/config file") from None
        except Exception as exc:  # noqa: BLE001
            collector.gap(Gap(PROVIDER, target.account_id, "", "sts", _one_line(exc), _error_code(exc)))
            return []
        regions = self.regions
        if regions is None:
            try:
                ec2 = self._client(collector, session, "ec2", home)
                regions = sorted(r["RegionName"] for r in ec2.describe_regions()["Regions"])
            except Exception as exc:  # noqa: BLE001
                collector.gap(
                    Gap(
                        PROVIDER,
                        target.account_id,
                        home,
                        "ec2",
                        f"cannot list enabled regions: {_one_line(exc)}",
                        _error_code(exc),
                    )
                )
                return []
        tasks: list[Callable[[], Any]] = []
        if "s3" in self.services:
            tasks.append(self._guarded(collector, target, "", "s3", lambda: self._s3(collector, target, home)))
        regional = {
            "ec2": self._ec2,
            "rds": self._rds,
            "dynamodb": self._dynamodb,
            "lambda": self._lambda,
            "efs": self._efs,
            "backup": self._backup,
        }
        for region in regions:
            for service, fn in regional.items():
                if service in self.services:
                    tasks.append(
                        self._guarded(
                            collector,
                            target,
                            region,
                            service,
                            lambda fn=fn, region=region: fn(collector, target, region),  # type: ignore[misc]
                        )
                    )
        collector.progress.add_work(f"aws:{target.account_id}", len(tasks))
        return tasks

    def _owner(self, collector: Collector, session: boto3.Session, region: str, account_id: str) -> Owner:
        """Account name and OU path where Organizations is readable; just the id otherwise."""
        try:
            org = self._client(collector, session, "organizations", region)
            org_id = org.describe_organization()["Organization"]["Id"]
        except Exception:  # noqa: BLE001 - not in an organisation, or not allowed to see it
            return Owner("account", account_id)
        path: list[OwnerNode] = []
        name = ""
        try:
            name = org.describe_account(AccountId=account_id)["Account"].get("Name", "")
            child = account_id
            for _ in range(6):  # OUs nest at most five deep
                parent = org.list_parents(ChildId=child)["Parents"][0]
                if parent["Type"] == "ROOT":
                    break
                ou = org.describe_organizational_unit(OrganizationalUnitId=parent["Id"])["OrganizationalUnit"]
                path.insert(0, OwnerNode("ou", ou["Id"], ou.get("Name", "")))
                child = parent["Id"]
        except Exception:  # noqa: BLE001 - member accounts usually cannot read the tree
            collector.note(
                f"aws: account {account_id}: organisation tree not readable; owner shows the organisation id only"
            )
        return Owner("account", account_id, name, (OwnerNode("organization", org_id), *path))

    # ----------------------------------------------------------------- services

    def _s3(self, collector: Collector, target: AccountTarget, home: str) -> list[Callable[[], Any]]:
        s3 = self._client(collector, target.session, "s3", home)
        buckets = list(self._pages(s3, "list_buckets", "Buckets"))
        # Current AWS returns BucketRegion in ListBuckets; GetBucketLocation is
        # the fallback, asked at most once per bucket (replication destinations
        # are usually buckets of the same listing).
        cache: dict[str, str] = {b["Name"]: b["BucketRegion"] for b in buckets if b.get("BucketRegion")}

        def bucket_region(name: str) -> str:
            if name not in cache:
                cache[name] = s3_region(s3.get_bucket_location(Bucket=name).get("LocationConstraint"))
            return cache[name]

        def one(b: dict[str, Any]) -> None:
            name = b["Name"]
            region = bucket_region(name)
            locations = [Location(region=region)]
            client = self._client(collector, target.session, "s3", self._s3_client_region(region, home))
            try:
                rules = client.get_bucket_replication(Bucket=name)["ReplicationConfiguration"].get("Rules", [])
            except Exception as exc:
                if _error_code(exc) not in _NOT_FOUND:
                    raise
                rules = []
            for rule in rules:
                if rule.get("Status") != "Enabled":
                    continue
                dest_arn = rule.get("Destination", {}).get("Bucket", "")
                dest = dest_arn.split(":::")[-1]
                try:
                    dest_region: str | None = bucket_region(dest)
                except Exception as exc:  # noqa: BLE001 - e.g. another account's bucket
                    dest_region = None
                    collector.note(
                        f"aws: bucket {name}: region of replication destination {dest} "
                        f"not readable ({_error_code(exc)})"
                    )
                locations.append(
                    Location(
                        region=dest_region,
                        role="replica",
                        detail=f"replication rule {rule.get('ID', '')} -> {dest}".strip(),
                    )
                )
            collector.add(
                Resource(
                    provider=PROVIDER,
                    kind="s3.bucket",
                    id=f"arn:{self._partition(region or 'us-east-1')}:s3:::{name}",
                    name=name,
                    owner=target.owner or Owner("account", target.account_id),
                    locations=locations,
                )
            )

        return [self._guarded(collector, target, "", "s3", lambda b=b: one(b)) for b in buckets]  # type: ignore[misc]

    @staticmethod
    def _partition(region: str) -> str:
        if region.startswith("cn-"):
            return "aws-cn"
        if region.startswith("us-gov-"):
            return "aws-us-gov"
        if region.startswith("eusc-"):
            return "aws-eusc"
        return "aws"

    @staticmethod
    def _s3_client_region(region: str | None, home: str) -> str:
        return region or home

    def _resource(
        self, target: AccountTarget, kind: str, arn: str, name: str, locations: list[Location], tags: dict[str, str]
    ) -> Resource:
        return Resource(
            provider=PROVIDER,
            kind=kind,
            id=arn,
            name=name,
            owner=target.owner or Owner("account", target.account_id),
            locations=locations,
            tags=tags,
        )

    def _ec2(self, collector: Collector, target: AccountTarget, region: str) -> None:
        ec2 = self._client(collector, target.session, "ec2", region)
        part = self._partition(region)
        acct = target.account_id
        for res in self._pages(ec2, "describe_instances", "Reservations"):
            for inst in res.get("Instances", []):
                if inst.get("State", {}).get("Name") == "terminated":
                    continue
                tags = _tags(inst.get("Tags"))
                zone = inst.get("Placement", {}).get("AvailabilityZone")
                collector.add(
                    self._resource(
                        target,
                        "ec2.instance",
                        f"arn:{part}:ec2:{region}:{acct}:instance/{inst['InstanceId']}",
                        tags.get("Name", inst["InstanceId"]),
                        [Location(region, zone=zone)],
                        tags,
                    )
                )
        for vol in self._pages(ec2, "describe_volumes", "Volumes"):
            tags = _tags(vol.get("Tags"))
            collector.add(
                self._resource(
                    target,
                    "ec2.volume",
                    f"arn:{part}:ec2:{region}:{acct}:volume/{vol['VolumeId']}",
                    tags.get("Name", vol["VolumeId"]),
                    [Location(region, zone=vol.get("AvailabilityZone"))],
                    tags,
                )
            )
        for snap in self._pages(ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"]):
            tags = _tags(snap.get("Tags"))
            detail = f"snapshot of {snap['VolumeId']}" if snap.get("VolumeId") else "snapshot"
            collector.add(
                self._resource(
                    target,
                    "ec2.snapshot",
                    f"arn:{part}:ec2:{region}::snapshot/{snap['SnapshotId']}",
                    tags.get("Name", snap["SnapshotId"]),
                    [Location(region, role="backup", detail=detail)],
                    tags,
                )
            )

    def _rds(self, collector: Collector, target: AccountTarget, region: str) -> None:
        rds = self._client(collector, target.session, "rds", region)
        for db in self._pages(rds, "describe_db_instances", "DBInstances"):
            locations = [Location(region, zone=db.get("AvailabilityZone"))]
            for replica in db.get("ReadReplicaDBInstanceIdentifiers", []):
                r_region = _arn_region(replica) or region
                if r_region != region:
                    locations.append(Location(r_region, role="replica", detail=f"read replica {replica}"))
            source = db.get("ReadReplicaSourceDBInstanceIdentifier")
            if source and (_arn_region(source) or region) != region:
                locations.append(Location(_arn_region(source), role="replica", detail=f"replica of {source}"))
            for rep in db.get("DBInstanceAutomatedBackupsReplications", []):
                arn = rep.get("DBInstanceAutomatedBackupsArn", "")
                locations.append(
                    Location(_arn_region(arn), role="backup", detail=f"automated backups replicated to {arn}")
                )
            collector.add(
                self._resource(
                    target,
                    "rds.instance",
                    db["DBInstanceArn"],
                    db["DBInstanceIdentifier"],
                    locations,
                    _tags(db.get("TagList")),
                )
            )
        for cl in self._pages(rds, "describe_db_clusters", "DBClusters"):
            locations = [Location(region)]
            for replica in cl.get("ReadReplicaIdentifiers", []):
                r_region = _arn_region(replica) or region
                if r_region != region:
                    locations.append(Location(r_region, role="replica", detail=f"cluster replica {replica}"))
            collector.add(
                self._resource(
                    target,
                    "rds.cluster",
                    cl["DBClusterArn"],
                    cl["DBClusterIdentifier"],
                    locations,
                    _tags(cl.get("TagList")),
                )
            )

    def _dynamodb(self, collector: Collector, target: AccountTarget, region: str) -> None:
        ddb = self._client(collector, target.session, "dynamodb", region)
        for name in self._pages(ddb, "list_tables", "TableNames"):
            table = ddb.describe_table(TableName=name)["Table"]
            locations = [Location(region)]
            for rep in table.get("Replicas", []):
                r = rep.get("RegionName")
                if r and r != region:
                    locations.append(Location(r, role="replica", detail="global table replica"))
            collector.add(self._resource(target, "dynamodb.table", table["TableArn"], name, locations, {}))

    def _lambda(self, collector: Collector, target: AccountTarget, region: str) -> None:
        lam = self._client(collector, target.session, "lambda", region)
        for fn in self._pages(lam, "list_functions", "Functions"):
            collector.add(
                self._resource(target, "lambda.function", fn["FunctionArn"], fn["FunctionName"], [Location(region)], {})
            )

    def _efs(self, collector: Collector, target: AccountTarget, region: str) -> None:
        efs = self._client(collector, target.session, "efs", region)
        destinations: dict[str, list[str]] = {}
        systems = list(self._pages(efs, "describe_file_systems", "FileSystems"))
        if systems:
            for rep in self._pages(efs, "describe_replication_configurations", "Replications"):
                for d in rep.get("Destinations", []):
                    destinations.setdefault(rep.get("SourceFileSystemId", ""), []).append(d.get("Region", ""))
        for fs in systems:
            locations = [Location(region, zone=fs.get("AvailabilityZoneName"))]
            for d_region in destinations.get(fs["FileSystemId"], []):
                locations.append(Location(d_region or None, role="replica", detail="EFS replication"))
            part = self._partition(region)
            arn = fs.get("FileSystemArn") or (
                f"arn:{part}:elasticfilesystem:{region}:{target.account_id}:file-system/{fs['FileSystemId']}"
            )
            collector.add(
                self._resource(
                    target,
                    "efs.filesystem",
                    arn,
                    fs.get("Name") or fs["FileSystemId"],
                    locations,
                    _tags(fs.get("Tags")),
                )
            )

    def _backup(self, collector: Collector, target: AccountTarget, region: str) -> None:
        """Vaults (recovery points live there) and plans, whose copy actions copy every
        recovery point they make to another vault: often another region, the classic DR copy."""
        bk = self._client(collector, target.session, "backup", region)
        for vault in self._pages(bk, "list_backup_vaults", "BackupVaultList"):
            collector.add(
                self._resource(
                    target,
                    "backup.vault",
                    vault["BackupVaultArn"],
                    vault.get("BackupVaultName", ""),
                    [Location(region, role="backup", detail="backup vault (recovery points)")],
                    {},
                )
            )
        for summary in self._pages(bk, "list_backup_plans", "BackupPlansList"):
            try:
                plan = bk.get_backup_plan(BackupPlanId=summary["BackupPlanId"]).get("BackupPlan") or {}
            except Exception as exc:
                if _error_code(exc) != "ResourceNotFoundException":
                    raise
                continue  # deleted between the listing and this read: it backs nothing up any more
            locations = [Location(region, role="backup", detail="backup plan: its target vaults are in its region")]
            for rule in plan.get("Rules") or ():
                for copy in rule.get("CopyActions") or ():
                    arn = str(copy.get("DestinationBackupVaultArn", ""))
                    dest = _arn_region(arn)
                    loc = Location(
                        dest,
                        role="backup",
                        detail=f"backup rule {rule.get('RuleName', '?')} copies recovery points to vault "
                        f"{arn.rsplit(':', 1)[-1]}" + ("" if dest else f": no region in {arn!r}"),
                    )
                    if loc not in locations:
                        locations.append(loc)
            collector.add(
                self._resource(
                    target,
                    "backup.plan",
                    summary.get("BackupPlanArn", ""),
                    summary.get("BackupPlanName") or plan.get("BackupPlanName", ""),
                    locations,
                    {},
                )
            )
