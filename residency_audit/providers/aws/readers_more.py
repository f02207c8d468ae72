"""AWS readers for the services beyond the first seven (issue 16), one per service, named by
their kinds' `reader` (`kinds.MORE_KINDS`).

The data-copying services first: every place a copy of the data lives becomes a location
of the resource (global-database members, global datastores, snapshot copies, replica
secrets and keys, subscription destinations, replication rules, edge locations). The
others report their primary region. Like `readers`, a reader raises on API errors (a gap
for that service and region) and reads only through the context's guarded clients.
"""

from __future__ import annotations

import re
from typing import Any

from ...model import CopyLink, Location
from .client import arn_region, pages, partition
from .readers import ReadContext, s3_region, tags_of


def _arn(region: str, account: str, service: str, resource: str) -> str:
    return f"arn:{partition(region)}:{service}:{region}:{account}:{resource}"


def _others(region: str, regions: list[tuple[str | None, str]], role: str = "replica") -> list[Location]:
    """Locations for the (region, detail) pairs that are not `region` itself (the primary)."""
    out: list[Location] = []
    for where, detail in regions:
        loc = Location(where, role=role, detail=detail)
        if where != region and loc not in out:
            out.append(loc)
    return out


# ------------------------------------------------------------------ databases


def global_clusters(ctx: ReadContext, region: str) -> None:
    """Aurora, DocumentDB and Neptune global databases (one RDS API): every member's region.

    A global cluster has no region of its own (its ARN is global); each member cluster is a
    full copy, the writer's region primary and every secondary a replica."""
    client = ctx.client("rds", region)
    for g in pages(client, "describe_global_clusters", "GlobalClusters"):
        engine = str(g.get("Engine", ""))
        kind = {"docdb": "docdb.globalcluster", "neptune": "neptune.globalcluster"}.get(engine, "rds.globalcluster")
        locations: list[Location] = []
        for m in g.get("GlobalClusterMembers") or ():
            arn = str(m.get("DBClusterArn", ""))
            role = "primary" if m.get("IsWriter") else "replica"
            writer = "writer" if m.get("IsWriter") else "secondary"
            loc = Location(arn_region(arn), role=role, detail=f"{writer} cluster {arn.rsplit(':', 1)[-1]}")
            if loc not in locations:
                locations.append(loc)
        if not locations:
            locations.append(Location(region, detail="global cluster without members, read in this region"))
        ident = str(g.get("GlobalClusterIdentifier", ""))
        arn = str(g.get("GlobalClusterArn") or f"arn:{partition(region)}:rds::{ctx.account_id}:global-cluster:{ident}")
        ctx.add(kind, arn, ident, locations, tags_of(g.get("TagList")))


def cluster_kind(engine: str) -> str:
    """The RDS API lists DocumentDB and Neptune clusters too: the engine says which they are."""
    return {"docdb": "docdb.cluster", "neptune": "neptune.cluster"}.get(engine, "rds.cluster")


def elasticache(ctx: ReadContext, region: str) -> None:
    client = ctx.client("elasticache", region)
    groups = list(pages(client, "describe_replication_groups", "ReplicationGroups"))
    members: dict[str, list[dict[str, Any]]] = {}
    if any((g.get("GlobalReplicationGroupInfo") or {}).get("GlobalReplicationGroupId") for g in groups):
        for gg in pages(client, "describe_global_replication_groups", "GlobalReplicationGroups", ShowMemberInfo=True):
            ident = str(gg.get("GlobalReplicationGroupId", ""))
            members[ident] = list(gg.get("Members") or ())
            locations = [
                Location(
                    m.get("ReplicationGroupRegion"),
                    role="primary" if m.get("Role") == "PRIMARY" else "replica",
                    detail=f"{str(m.get('Role', 'member')).lower()} group {m.get('ReplicationGroupId', '')}",
                )
                for m in members[ident]
            ] or [Location(region, detail="global datastore without members, read in this region")]
            arn = str(
                gg.get("ARN") or f"arn:{partition(region)}:elasticache::{ctx.account_id}:globalreplicationgroup:{ident}"
            )
            ctx.add("elasticache.globalreplicationgroup", arn, ident, locations)
    for g in groups:
        ident = str(g.get("ReplicationGroupId", ""))
        gid = str((g.get("GlobalReplicationGroupInfo") or {}).get("GlobalReplicationGroupId") or "")
        pairs = [
            (
                m.get("ReplicationGroupRegion"),
                f"global datastore {gid}: replication group {m.get('ReplicationGroupId', '')}",
            )
            for m in members.get(gid, [])
        ]
        locations = [Location(region), *_others(region, pairs)]
        arn = str(g.get("ARN") or _arn(region, ctx.account_id, "elasticache", f"replicationgroup:{ident}"))
        ctx.add("elasticache.replicationgroup", arn, ident, locations)


def memorydb(ctx: ReadContext, region: str) -> None:
    client = ctx.client("memorydb", region)
    for cl in pages(client, "describe_clusters", "Clusters"):
        name = str(cl.get("Name", ""))
        locations = [Location(region)]
        multi = str(cl.get("MultiRegionClusterName") or "")
        if multi:
            found = client.describe_multi_region_clusters(MultiRegionClusterName=multi, ShowClusterDetails=True)
            pairs = [
                (c.get("Region"), f"multi-Region cluster {multi}: cluster {c.get('ClusterName', '')}")
                for mc in found.get("MultiRegionClusters") or ()
                for c in mc.get("Clusters") or ()
            ]
            locations += _others(region, pairs)
        arn = str(cl.get("ARN") or _arn(region, ctx.account_id, "memorydb", f"cluster/{name}"))
        ctx.add("memorydb.cluster", arn, name, locations)


def redshift(ctx: ReadContext, region: str) -> None:
    client = ctx.client("redshift", region)
    for cl in pages(client, "describe_clusters", "Clusters"):
        ident = str(cl.get("ClusterIdentifier", ""))
        locations = [Location(region, zone=cl.get("AvailabilityZone"))]
        copy = cl.get("ClusterSnapshotCopyStatus") or {}
        if copy.get("DestinationRegion"):
            dest = str(copy["DestinationRegion"])
            days = copy.get("RetentionPeriod")
            detail = "cross-region snapshot copy" + (f" (kept {days} days)" if days else "")
            locations.append(Location(dest, role="backup", detail=detail))
        arn = _arn(region, ctx.account_id, "redshift", f"cluster:{ident}")
        ctx.add("redshift.cluster", arn, ident, locations, tags_of(cl.get("Tags")))


# ------------------------------------------------------------------ storage


def fsx(ctx: ReadContext, region: str) -> None:
    client = ctx.client("fsx", region)
    for fs in pages(client, "describe_file_systems", "FileSystems"):
        ident = str(fs.get("FileSystemId", ""))
        arn = str(fs.get("ResourceARN") or _arn(region, ctx.account_id, "fsx", f"file-system/{ident}"))
        tags = tags_of(fs.get("Tags"))
        ctx.add("fsx.filesystem", arn, tags.get("Name", ident), [Location(region)], tags)
    for b in pages(client, "describe_backups", "Backups"):
        ident = str(b.get("BackupId", ""))
        source = b.get("SourceBackupRegion")
        of = (b.get("FileSystem") or {}).get("FileSystemId") or (b.get("Volume") or {}).get("VolumeId") or ""
        detail = f"backup of {of}" if of else "backup"
        if source and source != region:
            detail += f", copied from {source}"
        arn = str(b.get("ResourceARN") or _arn(region, ctx.account_id, "fsx", f"backup/{ident}"))
        tags = tags_of(b.get("Tags"))
        ctx.add("fsx.backup", arn, tags.get("Name", ident), [Location(region, role="backup", detail=detail)], tags)


def ecr(ctx: ReadContext, region: str) -> None:
    """Repositories, and where the registry's replication rules copy each one (other regions,
    other accounts' registries: every image pushed is copied there), and pull-through cache rules."""
    client = ctx.client("ecr", region)
    # the reader runs everywhere for the pull-through rules, which no index lists; repositories it does
    repos = (
        list(pages(client, "describe_repositories", "repositories")) if ctx.may_hold(region, "ecr:repository") else []
    )
    pull_through_cache_rules(ctx, region, client)
    if not repos:
        return
    registry = client.describe_registry()
    rules = (registry.get("replicationConfiguration") or {}).get("rules") or ()
    for repo in repos:
        name = str(repo.get("repositoryName", ""))
        pairs: list[tuple[str | None, str]] = []
        for rule in rules:
            filters = [f.get("filter", "") for f in rule.get("repositoryFilters") or () if f.get("filter") is not None]
            if filters and not any(name.startswith(str(f)) for f in filters):
                continue
            for d in rule.get("destinations") or ():
                reg = str(d.get("registryId") or "")
                other = f" (registry {reg})" if reg and reg != ctx.account_id else ""
                if d.get("region") == region and not other:
                    continue
                pairs.append((d.get("region"), f"registry replication to {d.get('region')}{other}"))
        locations = [Location(region)]
        for where, detail in pairs:
            loc = Location(where, role="replica", detail=detail)
            if loc not in locations:
                locations.append(loc)
        arn = str(repo.get("repositoryArn") or _arn(region, ctx.account_id, "ecr", f"repository/{name}"))
        ctx.add("ecr.repository", arn, name, locations)


def pull_through_cache_rules(ctx: ReadContext, region: str, client: Any) -> None:
    """Pull-through cache rules: every image pulled through one is cached in a repository of this
    registry, in this region. The rule has no ARN: its id is the registry's, with the prefix."""
    for rule in pages(client, "describe_pull_through_cache_rules", "pullThroughCacheRules"):
        prefix = str(rule.get("ecrRepositoryPrefix", ""))
        registry = str(rule.get("registryId") or ctx.account_id)
        upstream = str(rule.get("upstreamRegistryUrl", ""))
        detail = f"images pulled through from {upstream} are cached in repositories {prefix}/*"
        arn = _arn(region, registry, "ecr", f"pull-through-cache-rule/{prefix}")
        attributes = {"upstream_registry": upstream}
        ctx.add("ecr.pullthroughcacherule", arn, prefix, [Location(region, detail=detail)], attributes=attributes)


def _mrap_pages(client: Any, account: str) -> Any:
    """botocore has no paginator for ListMultiRegionAccessPoints: follow NextToken here."""
    token = ""
    while True:
        page = client.list_multi_region_access_points(AccountId=account, **({"NextToken": token} if token else {}))
        yield from page.get("AccessPoints") or ()
        token = str(page.get("NextToken") or "")
        if not token:
            return


def s3_multi_region_access_points(ctx: ReadContext, region: str) -> None:
    """Multi-Region Access Points: requests are routed to any member bucket, so every member's
    region holds the data; each member bucket is a resource of its own (maybe another account's).

    S3 Control serves this API from us-west-2 only, and only in the aws partition."""
    if partition(ctx.home) != "aws":
        return
    client = ctx.client("s3control", "us-west-2")
    for ap in _mrap_pages(client, ctx.account_id):
        name = str(ap.get("Name", ""))
        locations: list[Location] = []
        links: list[CopyLink] = []
        for member in ap.get("Regions") or ():
            bucket = str(member.get("Bucket", ""))
            owner = str(member.get("BucketAccountId") or "")
            other = f" of account {owner}" if owner and owner != ctx.account_id else ""
            detail = f"member bucket {bucket}{other}"
            loc = Location(member.get("Region") or None, role="replica", detail=detail)
            if loc not in locations:
                locations.append(loc)
            links.append(CopyLink("copies-to", f"arn:aws:s3:::{bucket}", "multi-region access point", detail))
        if not locations:
            locations.append(Location(None, detail="multi-region access point without member buckets"))
        arn = f"arn:aws:s3::{ctx.account_id}:accesspoint/{ap.get('Alias') or name}"
        ctx.add("s3.multiregionaccesspoint", arn, name, locations, links=links)


def secretsmanager(ctx: ReadContext, region: str) -> None:
    client = ctx.client("secretsmanager", region)
    for s in pages(client, "list_secrets", "SecretList"):
        arn = str(s["ARN"])
        described = client.describe_secret(SecretId=arn)
        primary = described.get("PrimaryRegion") or s.get("PrimaryRegion") or region
        locations = [Location(region, role="primary" if primary == region else "replica")]
        if primary != region:
            locations.append(Location(primary, detail="the primary secret this replica copies"))
        pairs = [
            (r.get("Region"), f"replica secret ({r.get('Status', '?')})")
            for r in described.get("ReplicationStatus") or ()
        ]
        locations += _others(region, pairs)
        ctx.add("secretsmanager.secret", arn, str(s.get("Name", "")), locations, tags_of(s.get("Tags")))


def kms(ctx: ReadContext, region: str) -> None:
    client = ctx.client("kms", region)
    for k in pages(client, "list_keys", "Keys"):
        if not str(k.get("KeyId", "")).startswith("mrk-"):
            # Only a multi-Region key (its id begins with mrk-) has copies: one call less per other key.
            ctx.add("kms.key", str(k["KeyArn"]), str(k["KeyId"]), [Location(region)])
            continue
        meta = client.describe_key(KeyId=k["KeyId"])["KeyMetadata"]
        if meta.get("KeyState") == "PendingReplicaDeletion":
            continue
        multi = meta.get("MultiRegionConfiguration") or {}
        primary = multi.get("PrimaryKey") or {}
        locations = [Location(region, role="primary" if primary.get("Region", region) == region else "replica")]
        pairs = [(primary.get("Region"), "primary key of this multi-Region key")] if primary else []
        pairs += [(r.get("Region"), "replica key of this multi-Region key") for r in multi.get("ReplicaKeys") or ()]
        locations += _others(region, pairs)
        name = str(meta.get("Description") or meta.get("KeyId", ""))
        ctx.add("kms.key", str(meta.get("Arn") or k.get("KeyArn", "")), name, locations)


def logs(ctx: ReadContext, region: str) -> None:
    """Log groups, and where each subscription filter streams the log events to: a Kinesis
    stream, Firehose, Lambda or a Logs destination, often in another region or account."""
    client = ctx.client("logs", region)
    for g in pages(client, "describe_log_groups", "logGroups"):
        name = str(g.get("logGroupName", ""))
        locations = [Location(region)]
        for f in pages(client, "describe_subscription_filters", "subscriptionFilters", logGroupName=name):
            dest = str(f.get("destinationArn", ""))
            where = arn_region(dest) if dest.startswith("arn:") else None
            loc = Location(where, role="replica", detail=f"subscription filter {f.get('filterName', '')} -> {dest}")
            if where != region and loc not in locations:
                locations.append(loc)
        arn = str(g.get("logGroupArn") or str(g.get("arn", "")).removesuffix(":*"))
        ctx.add("logs.loggroup", arn or _arn(region, ctx.account_id, "logs", f"log-group:{name}"), name, locations)


# ------------------------------------------------------------------ primary-location services


def kinesis(ctx: ReadContext, region: str) -> None:
    for s in pages(ctx.client("kinesis", region), "list_streams", "StreamSummaries"):
        ctx.add("kinesis.stream", str(s["StreamARN"]), str(s.get("StreamName", "")), [Location(region)])


def sqs(ctx: ReadContext, region: str) -> None:
    for url in pages(ctx.client("sqs", region), "list_queues", "QueueUrls"):
        name = str(url).rstrip("/").rsplit("/", 1)[-1]
        ctx.add("sqs.queue", _arn(region, ctx.account_id, "sqs", name), name, [Location(region)])


def sns(ctx: ReadContext, region: str) -> None:
    for t in pages(ctx.client("sns", region), "list_topics", "Topics"):
        arn = str(t["TopicArn"])
        ctx.add("sns.topic", arn, arn.rsplit(":", 1)[-1], [Location(region)])


def kafka(ctx: ReadContext, region: str) -> None:
    for c in pages(ctx.client("kafka", region), "list_clusters_v2", "ClusterInfoList"):
        ctx.add("kafka.cluster", str(c["ClusterArn"]), str(c.get("ClusterName", "")), [Location(region)])


def opensearch(ctx: ReadContext, region: str) -> None:
    """Domains, and the remote domain of every cross-cluster connection (replication follows a
    leader index in the remote domain; search reads it): both hold the data."""
    client = ctx.client("opensearch", region)
    names = [str(d["DomainName"]) for d in client.list_domain_names().get("DomainNames") or ()]
    if not names:
        return
    remote: dict[str, list[tuple[str | None, str]]] = {}
    for c in pages(client, "describe_outbound_connections", "Connections"):
        local = ((c.get("LocalDomainInfo") or {}).get("AWSDomainInformation") or {}).get("DomainName", "")
        info = (c.get("RemoteDomainInfo") or {}).get("AWSDomainInformation") or {}
        status = (c.get("ConnectionStatus") or {}).get("StatusCode", "")
        if status in ("DELETED", "REJECTED", "DELETING"):
            continue
        alias = c.get("ConnectionAlias") or c.get("ConnectionId", "")
        detail = f"cross-cluster connection {alias} to domain {info.get('DomainName', '')}"
        remote.setdefault(str(local), []).append((info.get("Region"), detail))
    for name in names:
        locations = [Location(region), *_others(region, remote.get(name, []))]
        ctx.add("opensearch.domain", _arn(region, ctx.account_id, "es", f"domain/{name}"), name, locations)


def eks(ctx: ReadContext, region: str) -> None:
    for name in pages(ctx.client("eks", region), "list_clusters", "clusters"):
        ctx.add("eks.cluster", _arn(region, ctx.account_id, "eks", f"cluster/{name}"), str(name), [Location(region)])


def ecs(ctx: ReadContext, region: str) -> None:
    for arn in pages(ctx.client("ecs", region), "list_clusters", "clusterArns"):
        ctx.add("ecs.cluster", str(arn), str(arn).rsplit("/", 1)[-1], [Location(region)])


def cognito(ctx: ReadContext, region: str) -> None:
    for p in pages(ctx.client("cognito-idp", region), "list_user_pools", "UserPools", MaxResults=60):
        arn = _arn(region, ctx.account_id, "cognito-idp", f"userpool/{p['Id']}")
        ctx.add("cognito.userpool", arn, str(p.get("Name", p["Id"])), [Location(region)])


#: Price class -> the catalog's edge-location place (every class includes North America).
EDGES = {"PriceClass_100": "cloudfront-edge-100", "PriceClass_200": "cloudfront-edge-200"}
_ORIGIN_REGION = re.compile(r"\.(?:s3[.-]|s3-website[.-]|)([a-z]{2}(?:-[a-z]+)+-\d)\.(?:elb\.)?amazonaws\.com$")
_S3_GLOBAL = re.compile(r"^(.+)\.s3\.amazonaws\.com$")


def cloudfront(ctx: ReadContext, region: str) -> None:
    """Distributions: edge locations worldwide per price class (every class includes the United
    States), and the region of every S3 or regional AWS origin the edges fetch from."""
    client = ctx.client("cloudfront", "us-east-1")
    s3 = ctx.client("s3", ctx.home)
    for page in client.get_paginator("list_distributions").paginate():
        for d in (page.get("DistributionList") or {}).get("Items") or ():
            price = str(d.get("PriceClass") or "PriceClass_All")
            edge = EDGES.get(price, "cloudfront-edge-all")
            locations = [Location(edge, role="edge", detail=f"edge locations of {price}")]
            for o in (d.get("Origins") or {}).get("Items") or ():
                domain = str(o.get("DomainName", "")).lower()
                where: str | None = None
                m = _ORIGIN_REGION.search(domain)
                if m:
                    where = m.group(1)
                elif _S3_GLOBAL.match(domain):  # bucket.s3.amazonaws.com: the bucket says its region
                    bucket = _S3_GLOBAL.match(domain).group(1)  # type: ignore[union-attr]
                    where = s3_region(s3.get_bucket_location(Bucket=bucket).get("LocationConstraint"))
                if where:
                    loc = Location(where, detail=f"origin {domain}")
                    if loc not in locations:
                        locations.append(loc)
                else:
                    ctx.note(
                        f"aws: CloudFront distribution {d.get('Id', '')}: origin {domain} is not in an AWS region; "
                        "not placed"
                    )
            ctx.add("cloudfront.distribution", str(d["ARN"]), str(d.get("DomainName") or d.get("Id", "")), locations)


def bedrock(ctx: ReadContext, region: str) -> None:
    """Application inference profiles: the regions of their models are where prompts are
    processed (a profile copied from a `us.` system profile routes requests across the US)."""
    client = ctx.client("bedrock", region)
    for p in pages(client, "list_inference_profiles", "inferenceProfileSummaries", typeEquals="APPLICATION"):
        pairs = [
            (arn_region(str(m.get("modelArn", ""))), f"model {m.get('modelArn', '')}") for m in p.get("models") or ()
        ]
        locations = [Location(region), *_others(region, pairs, role="secondary")]
        name = str(p.get("inferenceProfileName") or p.get("inferenceProfileId", ""))
        ctx.add("bedrock.inferenceprofile", str(p["inferenceProfileArn"]), name, locations)
