"""AWS resources in Terraform plans: the types whose data footprint is modelled, and the rest.

Every AWS resource is created in the region of the provider configuration it is
bound to (or its own `region` argument, provider v6): that is where an unmodelled
type is judged (`generic`). The types below also say where copies of their data
go: replicas, replication destinations, backup copies, global clusters.
"""

from __future__ import annotations

import re
from typing import Any

from ...model import Location
from ...terraform.adapter import (
    Change,
    Extractor,
    Link,
    LinkExtractor,
    PlanAdapter,
    arn_region,
    blocks,
    sub_blocks,
)

PROVIDER = "aws"
GLOBAL_LOCATION = "aws-global"

_AZ = re.compile(r"^([a-z]{2}(?:-[a-z]+)+-\d+)[a-z]$")


def zone_region(zone: str) -> str | None:
    """eu-central-1a -> eu-central-1; a Local Zone or Wavelength zone id is no availability zone: None."""
    m = _AZ.match(zone.lower())
    return m.group(1) if m else None


def aws_region(a: PlanAdapter, ch: Change, role: str = "primary", zone_attr: str = "") -> Location:
    """The provider v6 `region` argument, else the provider configuration's region; an availability
    zone that is known narrows it (and pins the region where the provider block does not say)."""
    region = a.own_or_provider(ch, "region", "region")
    zone = ch.text(zone_attr) if zone_attr else None
    if not region.known:
        if zone:  # an availability zone pins the region even when the provider block does not
            return Location(zone_region(zone), role=role, zone=zone, detail=f"availability zone {zone}")
        arn = ch.after.get("arn")
        from_arn = arn_region(arn) if isinstance(arn, str) else None
        if from_arn:  # a resource that exists already: AWS wrote its region into its ARN
            return Location(from_arn, role=role, detail=f"region in its ARN ({region.why})")
        return Location(None, role=role, detail=region.why)
    return a.location(str(region.value), role, zone, region.why)


def _aws_simple(role: str = "primary", zone_attr: str = "") -> Extractor:
    def extract(a: PlanAdapter, ch: Change) -> list[Location]:
        return [aws_region(a, ch, role, zone_attr)]

    return extract


def _s3_replication_rules(
    a: PlanAdapter,
    ch: Change,
    sources: list[str],
    container: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
    key: str,
) -> None:
    """One replica location per enabled rule destination, linked to the source bucket(s)."""
    values, marks, exprs = container
    for rule, rmark, rexpr in sub_blocks(values, marks, exprs, key):
        if rule.get("status") not in (None, "Enabled"):
            continue
        label = f"replication rule {rule.get('id') or '?'}"
        for dest, _, dexpr in sub_blocks(rule, rmark, rexpr, "destination"):
            arn = dest.get("bucket")
            if isinstance(arn, str) and arn:
                name = arn.rsplit(":", 1)[-1]
                like = a.by_value("aws_s3_bucket", "bucket", name)
                why = f"{label} -> bucket {name}"
                if not like:
                    why += ": not in this plan, so its region is unknown"
            else:
                like = a.references(ch, dexpr.get("bucket"), "aws_s3_bucket")
                why = f"{label} -> destination bucket"
                if not like:
                    why += " is computed: region unknown"
            loc = Location(None, role="replica", detail=why)
            a.link(Link(ch, loc, attach_to=sources, like=like, fallback_kind="s3.replication"))


def _s3_bucket(a: PlanAdapter, ch: Change) -> list[Location]:
    # the inline replication_configuration block (provider v3; deprecated, still planned)
    for container in blocks(ch, "replication_configuration"):
        _s3_replication_rules(a, ch, [ch.address], container, "rules")
    return [aws_region(a, ch)]


def _s3_replication(a: PlanAdapter, ch: Change) -> None:
    """aws_s3_bucket_replication_configuration: replica locations of the source bucket."""
    source = ch.get("bucket")
    sources = a.by_value("aws_s3_bucket", "bucket", source) if isinstance(source, str) else []
    sources = sources or a.references(ch, a.expr(ch, "bucket"), "aws_s3_bucket")
    _s3_replication_rules(a, ch, sources, (ch.after, ch.unknown, ch.config.get("expressions") or {}), "rule")


def _rds(attr: str, rtype: str, id_attr: str) -> Extractor:
    """RDS instances and clusters; a read replica also holds its source's data set."""

    def extract(a: PlanAdapter, ch: Change) -> list[Location]:
        own = aws_region(a, ch)
        source = ch.get(attr)
        if isinstance(source, str) and source:
            region = arn_region(source)
            replica = Location(own.region, role="replica", zone=own.zone, detail=f"read replica of {source}")
            if region is not None:
                return [replica, Location(region, role="primary", detail=f"source of this read replica: {source}")]
            sources = a.by_value(rtype, id_attr, source)
            if sources:
                a.link(
                    Link(
                        ch, Location(own.region, role="replica", detail=f"read replica {ch.address}"), attach_to=sources
                    )
                )
            return [replica]
        if ch.is_unknown(attr):
            sources = a.references(ch, a.expr(ch, attr), rtype)
            replica = Location(own.region, role="replica", zone=own.zone, detail=own.detail)
            if sources:
                a.link(
                    Link(
                        ch, Location(own.region, role="replica", detail=f"read replica {ch.address}"), attach_to=sources
                    )
                )
                a.link(Link(ch, Location(None, role="primary", detail="source of this read replica"), like=sources))
                return [replica]
            return [replica, Location(None, role="primary", detail="source of this read replica is computed: unknown")]
        return [own]

    return extract


def _replica_blocks(region_attr: str, what: str) -> Extractor:
    """A resource in its own region plus one copy per `replica` block (DynamoDB tables and 2017
    global tables, Secrets Manager secrets): each block's region holds the data too."""

    def extract(a: PlanAdapter, ch: Change) -> list[Location]:
        locs = [aws_region(a, ch)]
        for rep, mark, _ in blocks(ch, "replica"):
            region = rep.get(region_attr)
            if isinstance(region, str) and region:
                locs.append(Location(region, role="replica", detail=f"{what} replica block"))
            else:
                why = "computed" if mark.get(region_attr) else "missing"
                detail = f"{what} replica block: {region_attr} {why}, location unknown"
                locs.append(Location(None, role="replica", detail=detail))
        if ch.is_unknown("replica"):
            locs.append(Location(None, role="replica", detail=f"{what} replica blocks are computed: location unknown"))
        return locs

    return extract


def _linked_copy(attr: str, rtype: str, fallback: str, role: str = "replica") -> LinkExtractor:
    """A resource that keeps a copy of another planned resource's data in its own region."""

    def extract(a: PlanAdapter, ch: Change) -> None:
        own = aws_region(a, ch, role)
        loc = Location(own.region, role=role, zone=own.zone, detail=f"{ch.type} {ch.address} ({own.detail})")
        a.link(Link(ch, loc, attach_to=a.references(ch, a.expr(ch, attr), rtype), fallback_kind=fallback))

    return extract


def _efs_replication(a: PlanAdapter, ch: Change) -> None:
    sources = a.references(ch, a.expr(ch, "source_file_system_id"), "aws_efs_file_system")
    for dest, mark, _ in blocks(ch, "destination"):
        region = dest.get("region")
        zone = dest.get("availability_zone_name")
        if isinstance(region, str) and region:
            loc = Location(region, role="replica", detail="EFS replication destination")
        elif isinstance(zone, str) and zone:
            loc = Location(zone_region(zone), role="replica", zone=zone, detail="EFS replication destination")
        elif mark.get("region") or mark.get("availability_zone_name"):
            loc = Location(None, role="replica", detail="EFS replication destination is computed: unknown")
        else:
            own = aws_region(a, ch, "replica")
            loc = Location(own.region, role="replica", detail=f"EFS replication destination ({own.detail})")
        a.link(Link(ch, loc, attach_to=sources, fallback_kind="efs.replication"))


def _backup_plan(a: PlanAdapter, ch: Change) -> list[Location]:
    """A backup plan's rules back up into vaults in its own region; each `copy_action`
    copies the recovery points to another vault, and that vault's region is where they go."""
    locs = [aws_region(a, ch, "backup")]
    for rule, rmark, rexpr in blocks(ch, "rule"):
        label = f"backup rule {rule.get('rule_name') or '?'} copies recovery points to"
        for copy, _, cexpr in sub_blocks(rule, rmark, rexpr, "copy_action"):
            arn = copy.get("destination_vault_arn")
            if isinstance(arn, str) and arn:
                region = arn_region(arn)
                why = f"{label} vault {arn.rsplit(':', 1)[-1]}" + ("" if region else f": no region in {arn!r}")
                locs.append(Location(region, role="backup", detail=why))
                continue
            vaults = a.references(ch, cexpr.get("destination_vault_arn"), "aws_backup_vault")
            if vaults:  # the vault is planned too: its region, once every resource is read
                a.link(Link(ch, Location(None, role="backup", detail=f"{label} a vault"), like=vaults))
            else:
                locs.append(Location(None, role="backup", detail=f"{label} a vault whose ARN is computed: unknown"))
    return locs


def _ebs_snapshot_copy(a: PlanAdapter, ch: Change) -> list[Location]:
    locs = [aws_region(a, ch, "backup")]
    src = ch.get("source_region")
    if isinstance(src, str) and src:
        locs.append(Location(src, role="backup", detail="region of the source snapshot"))
    return locs


def _ecr_replication(a: PlanAdapter, ch: Change) -> list[Location]:
    """A registry's replication configuration: every destination region (and account) gets a copy of
    the registry's images; the record stands for the registry's data in the provider region."""
    locs = [aws_region(a, ch)]
    for cfg, cmark, cexpr in blocks(ch, "replication_configuration"):
        for rule, rmark, rexpr in sub_blocks(cfg, cmark, cexpr, "rule"):
            for dest, dmark, _ in sub_blocks(rule, rmark, rexpr, "destination"):
                region = dest.get("region")
                account = dest.get("registry_id")
                shown = f" (registry {account})" if isinstance(account, str) and account else ""
                if isinstance(region, str) and region:
                    locs.append(Location(region, role="replica", detail=f"replication destination{shown}"))
                else:
                    why = "computed" if dmark.get("region") else "missing"
                    locs.append(Location(None, role="replica", detail=f"replication destination region {why}"))
    return locs


def _region_list(attr: str, role: str, what: str) -> Extractor:
    """A resource in its own region that also puts a copy in the region an argument names."""

    def extract(a: PlanAdapter, ch: Change) -> list[Location]:
        locs = [aws_region(a, ch)]
        value = ch.text(attr)
        if value:
            locs.append(Location(value, role=role, detail=f"{what} ({attr})"))
        elif ch.is_unknown(attr):
            locs.append(Location(None, role=role, detail=f"{what}: {attr} is computed, location unknown"))
        return locs

    return extract


def _redshift_cluster(a: PlanAdapter, ch: Change) -> list[Location]:
    """A Redshift cluster; the `snapshot_copy` block (provider <= v5) copies its snapshots to another region."""
    locs = [aws_region(a, ch)]
    for copy, _mark, _ in blocks(ch, "snapshot_copy"):
        region = copy.get("destination_region")
        if isinstance(region, str) and region:
            locs.append(Location(region, role="backup", detail="snapshot_copy destination_region"))
        else:
            locs.append(Location(None, role="backup", detail="snapshot_copy destination_region is computed"))
    return locs


def _snapshot_copy_of(attr: str, rtype: str, fallback: str) -> LinkExtractor:
    """A separate resource that copies another planned resource's snapshots to `destination_region`."""

    def extract(a: PlanAdapter, ch: Change) -> None:
        region = ch.text("destination_region")
        if region:
            loc = Location(region, role="backup", detail=f"{ch.type} {ch.address}: snapshots copied there")
        else:
            loc = Location(None, role="backup", detail=f"{ch.type} {ch.address}: destination region is computed")
        targets = a.references(ch, a.expr(ch, attr), rtype)
        identifier = ch.text(attr)
        if not targets and identifier:
            targets = a.by_value(rtype, "cluster_identifier", identifier)
        if not targets:  # the source is not planned: the copy stands alone, beside its own region
            a.link(Link(ch, aws_region(a, ch), fallback_kind=fallback))
        a.link(Link(ch, loc, attach_to=targets, fallback_kind=fallback))

    return extract


def _member_of(attr: str, rtypes: tuple[str, ...], what: str) -> LinkExtractor:
    """A cluster (or replication group) that joins a planned global one: the global one holds the
    data of every member, so each member's region becomes one of its locations."""

    def extract(a: PlanAdapter, ch: Change) -> None:
        globals_ = [g for t in rtypes for g in a.references(ch, a.expr(ch, attr), t)]
        if not globals_:
            name = ch.text(attr)
            globals_ = [g for t in rtypes for g in a.by_value(t, _GLOBAL_ID[t], name)] if name else []
        if globals_:
            own = aws_region(a, ch, "replica")
            loc = Location(own.region, role="replica", zone=own.zone, detail=f"{what} member {ch.address}")
            a.link(Link(ch, loc, attach_to=globals_))

    return extract


#: The attribute that names a global cluster / datastore, per type (for members that name it by value).
_GLOBAL_ID = {
    "aws_rds_global_cluster": "global_cluster_identifier",
    "aws_docdb_global_cluster": "global_cluster_identifier",
    "aws_neptune_global_cluster": "global_cluster_identifier",
    "aws_elasticache_global_replication_group": "global_replication_group_id",
    "aws_memorydb_multi_region_cluster": "multi_region_cluster_name",
}


def _cluster(member: LinkExtractor, own: Extractor) -> Extractor:
    """A database cluster: its own locations, and membership of a global cluster if it has one."""

    def extract(a: PlanAdapter, ch: Change) -> list[Location]:
        member(a, ch)
        return own(a, ch)

    return extract


def _global_primary(attr: str, rtype: str) -> Extractor:
    """A global cluster/datastore: where its API lives, plus the region of the cluster it starts from."""

    def extract(a: PlanAdapter, ch: Change) -> list[Location]:
        locs = [aws_region(a, ch)]
        sources = a.references(ch, a.expr(ch, attr), rtype)
        if sources:
            a.link(Link(ch, Location(None, detail="primary member"), like=sources))
        else:
            source = ch.text(attr)
            region = arn_region(source) if source else None
            if region:
                locs.append(Location(region, detail=f"primary member {source}"))
        return locs

    return extract


def _kms_replica(a: PlanAdapter, ch: Change) -> None:
    """A multi-Region replica key: the key material of its primary is copied into this region."""
    own = aws_region(a, ch, "replica")
    loc = Location(own.region, role="replica", detail=f"replica key {ch.address} ({own.detail})")
    primaries = a.references(ch, a.expr(ch, "primary_key_arn"), "aws_kms_key")
    if primaries:
        a.link(Link(ch, loc, attach_to=primaries))
        return
    arn = ch.text("primary_key_arn")
    region = arn_region(arn) if arn else None
    primary = Location(region, detail=f"primary key {arn}" if region else "primary key ARN is computed: unknown")
    a.link(Link(ch, loc, fallback_kind="kms.key"))
    a.link(Link(ch, primary, fallback_kind="kms.key"))


def _log_subscription(a: PlanAdapter, ch: Change) -> None:
    """A log subscription filter sends a log group's events to a destination, which may be in another region."""
    dest = ch.text("destination_arn")
    region = arn_region(dest) if dest else None
    if region:
        loc = Location(region, role="replica", detail=f"subscription filter {ch.address} -> {dest}")
    else:
        loc = Location(None, role="replica", detail=f"subscription filter {ch.address}: destination is computed")
    groups = a.references(ch, a.expr(ch, "log_group_name"), "aws_cloudwatch_log_group")
    name = ch.text("log_group_name")
    if not groups and name:
        groups = a.by_value("aws_cloudwatch_log_group", "name", name)
    own = aws_region(a, ch)
    if not groups:
        a.link(Link(ch, own, fallback_kind="logs.subscription"))
    a.link(Link(ch, loc, attach_to=groups, fallback_kind="logs.subscription"))


def generic(a: PlanAdapter, ch: Change) -> list[Location]:
    """A type without an extractor: created in the region of its provider configuration
    (or its own `region`, provider v6), in the availability zone when one is known."""
    return [aws_region(a, ch, zone_attr="availability_zone" if "availability_zone" in ch.after else "")]


_RDS_MEMBER = _member_of("global_cluster_identifier", ("aws_rds_global_cluster",), "global database")
_DOCDB_MEMBER = _member_of("global_cluster_identifier", ("aws_docdb_global_cluster",), "DocumentDB global cluster")
_NEPTUNE_MEMBER = _member_of("global_cluster_identifier", ("aws_neptune_global_cluster",), "Neptune global database")
_ELASTICACHE_MEMBER = _member_of(
    "global_replication_group_id", ("aws_elasticache_global_replication_group",), "ElastiCache global datastore"
)
_MEMORYDB_MEMBER = _member_of(
    "multi_region_cluster_name", ("aws_memorydb_multi_region_cluster",), "MemoryDB multi-Region cluster"
)

#: Terraform type -> (our kind, how to find its locations). The README lists these.
TYPES: dict[str, tuple[str, Extractor]] = {
    "aws_s3_bucket": ("s3.bucket", _s3_bucket),
    "aws_instance": ("ec2.instance", _aws_simple(zone_attr="availability_zone")),
    "aws_ebs_volume": ("ec2.volume", _aws_simple(zone_attr="availability_zone")),
    "aws_ebs_snapshot": ("ec2.snapshot", _aws_simple(role="backup")),
    "aws_ebs_snapshot_copy": ("ec2.snapshot", _ebs_snapshot_copy),
    "aws_db_instance": ("rds.instance", _rds("replicate_source_db", "aws_db_instance", "identifier")),
    "aws_rds_cluster": (
        "rds.cluster",
        _cluster(_RDS_MEMBER, _rds("replication_source_identifier", "aws_rds_cluster", "cluster_identifier")),
    ),
    "aws_rds_global_cluster": ("rds.globalcluster", _global_primary("source_db_cluster_identifier", "aws_rds_cluster")),
    "aws_docdb_cluster": ("docdb.cluster", _cluster(_DOCDB_MEMBER, _aws_simple())),
    "aws_docdb_global_cluster": (
        "docdb.globalcluster",
        _global_primary("source_db_cluster_identifier", "aws_docdb_cluster"),
    ),
    "aws_neptune_cluster": ("neptune.cluster", _cluster(_NEPTUNE_MEMBER, _aws_simple())),
    "aws_neptune_global_cluster": (
        "neptune.globalcluster",
        _global_primary("source_db_cluster_identifier", "aws_neptune_cluster"),
    ),
    "aws_elasticache_replication_group": ("elasticache.replicationgroup", _cluster(_ELASTICACHE_MEMBER, _aws_simple())),
    "aws_elasticache_global_replication_group": (
        "elasticache.globalreplicationgroup",
        _global_primary("primary_replication_group_id", "aws_elasticache_replication_group"),
    ),
    "aws_memorydb_cluster": ("memorydb.cluster", _cluster(_MEMORYDB_MEMBER, _aws_simple())),
    "aws_memorydb_multi_region_cluster": ("memorydb.multiregioncluster", _aws_simple()),
    "aws_dynamodb_table": ("dynamodb.table", _replica_blocks("region_name", "table")),
    "aws_dynamodb_global_table": ("dynamodb.globaltable", _replica_blocks("region_name", "global table")),
    "aws_lambda_function": ("lambda.function", _aws_simple()),
    "aws_efs_file_system": ("efs.filesystem", _aws_simple()),
    "aws_backup_vault": ("backup.vault", _aws_simple(role="backup")),
    "aws_backup_plan": ("backup.plan", _backup_plan),
    "aws_secretsmanager_secret": ("secretsmanager.secret", _replica_blocks("region", "secret")),
    "aws_ecr_replication_configuration": ("ecr.replication", _ecr_replication),
    "aws_redshift_cluster": ("redshift.cluster", _redshift_cluster),
    "aws_db_snapshot_copy": ("rds.snapshot", _region_list("destination_region", "backup", "snapshot copy")),
    "aws_kms_key": ("kms.key", _aws_simple()),
    "aws_cloudwatch_log_group": ("logs.loggroup", _aws_simple()),
}

#: Types that add locations to another planned resource (their source) rather than being one;
#: when the source is not in the plan they stand alone under the given kind.
LINKS: dict[str, LinkExtractor] = {
    "aws_s3_bucket_replication_configuration": _s3_replication,
    "aws_dynamodb_table_replica": _linked_copy("global_table_arn", "aws_dynamodb_table", "dynamodb.table"),
    "aws_efs_replication_configuration": _efs_replication,
    "aws_db_instance_automated_backups_replication": _linked_copy(
        "source_db_instance_arn", "aws_db_instance", "rds.backup_replication", role="backup"
    ),
    "aws_kms_replica_key": _kms_replica,
    "aws_redshift_snapshot_copy": _snapshot_copy_of(
        "cluster_identifier", "aws_redshift_cluster", "redshift.snapshotcopy"
    ),
    "aws_cloudwatch_log_subscription_filter": _log_subscription,
}
