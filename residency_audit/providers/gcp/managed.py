"""Readers and parsers of the managed services whose copies the scan models: Secret Manager,
Spanner, Bigtable, Firestore, Cloud Logging (buckets and sinks), Cloud KMS, Artifact Registry,
Memorystore, Filestore, Dataproc, Composer and Vertex AI, and the resolvers for what their JSON
alone does not say (a custom Spanner configuration, the organisation policy a Pub/Sub topic
without a storage policy falls under, a log sink's destination).

Parsers are pure functions of the service's JSON, as the list call and Cloud Asset
Inventory's `versionedResources` both return it. APIs without a project-wide list
(`locations/-`) are listed per location: their own `locations.list`, or Compute Engine's
`regions.list` for those that have none; a location that does not answer is a gap for that
location, and the others are still read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...model import CopyLink, Location, Resource
from ..base import ReadOnlyViolation, error_code
from .catalog import spanner_config
from .client import ApiError, describe
from .projects import ProjectInfo
from .readbase import ReadContext, labels_of, last, location_segment, lower, place, record

# --------------------------------------------------------------------- listing helpers


def _pid(ctx: ReadContext) -> str:
    return ctx.project.project_id


def _unreachable(ctx: ReadContext, doc: dict[str, Any], service: str, key: str = "unreachable") -> None:
    for where in doc.get(key) or []:
        ctx.gap(last(str(where)), service, "location unreachable")


def _listed(
    ctx: ReadContext, service: str, path: str, key: str, region: str = "", unreachable: str = "unreachable"
) -> Iterator[dict[str, Any]]:
    """A paged list; locations the API says did not answer are gaps (the rest is kept)."""
    query: dict[str, Any] = {}
    for _ in range(100_000):
        doc = ctx.get_json(service, path, query, region)
        yield from doc.get(key) or []
        _unreachable(ctx, doc, service, unreachable)
        token = doc.get("nextPageToken")
        if not token:
            return
        query["pageToken"] = token


def api_locations(ctx: ReadContext, service: str) -> list[str]:
    """An API's own locations for this project (`projects.locations.list`), read once per scan."""
    path = f"/v1/projects/{_pid(ctx)}/locations"
    return ctx.memo(
        f"{service}:locations:{_pid(ctx)}",
        lambda: [str(loc.get("locationId") or last(loc.get("name"))) for loc in ctx.pages(service, path, "locations")],
    )


def project_regions(ctx: ReadContext) -> list[str]:
    """The project's Compute Engine regions, for APIs that list one region at a time."""
    path = f"/compute/v1/projects/{_pid(ctx)}/regions"
    return ctx.memo(
        f"compute:regions:{_pid(ctx)}", lambda: [str(r["name"]) for r in ctx.pages("compute", path, "items")]
    )


def _per_location(ctx: ReadContext, service: str, where: list[str], read: Callable[[str], None]) -> None:
    """Read each location; one that fails is a gap for that location, the others are read."""
    for loc in where:
        try:
            read(loc)
        except ReadOnlyViolation:
            raise
        except ApiError as exc:
            ctx.gap(loc, service, describe(exc), error_code(exc))


# --------------------------------------------------------------------- Secret Manager

#: Where a secret with automatic replication is stored: any region Google chooses.
AUTOMATIC_REPLICATION = "automatic replication: Google chooses the regions the secret is stored in"


def parse_secrets(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    out = []
    for secret in items:
        full = str(secret.get("name", ""))
        name = last(full)
        replication = secret.get("replication") or {}
        replicas = [r for r in (replication.get("userManaged") or {}).get("replicas") or [] if isinstance(r, dict)]
        locations = [
            Location(lower(r.get("location")), role="primary" if i == 0 else "replica", detail="user-managed replica")
            for i, r in enumerate(replicas)
        ]
        if replicas:
            kind = "user-managed"
        elif "automatic" in replication:
            kind, locations = "automatic", [Location("global", detail=AUTOMATIC_REPLICATION)]
        else:
            kind, locations = "", [Location(None, detail="no replication policy reported")]
        out.append(
            record(
                project,
                "secretmanager.secret",
                f"//secretmanager.googleapis.com/{full}",
                name,
                locations,
                labels_of(secret.get("labels")),
                {"replication": kind} if kind else {},
            )
        )
    return out


def secrets(ctx: ReadContext) -> None:
    for secret in ctx.pages("secretmanager", f"/v1/projects/{_pid(ctx)}/secrets", "secrets"):
        ctx.add(parse_secrets(ctx.project, [secret]))


# --------------------------------------------------------------------- Spanner


def parse_spanner(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    """An instance is wherever its configuration keeps replicas: the catalog knows the base
    configurations (`spanner/<config>`); a custom one is read by `spanner_configs`."""
    out = []
    for inst in items:
        full = str(inst.get("name", ""))
        config_name = str(inst.get("config") or "")
        config = last(config_name)
        attrs: dict[str, Any] = {"config": config} if config else {}
        if config:
            locations = [Location(spanner_config(config), detail=f"instance configuration {config}")]
            if config.startswith("custom-") and "/instanceConfigs/" in config_name:
                attrs["config_name"] = config_name
        else:
            locations = [Location(None, detail="no instance configuration reported")]
        for key in ("nodeCount", "processingUnits", "edition"):
            if inst.get(key):
                attrs[key] = inst[key]
        out.append(
            record(
                project,
                "spanner.instance",
                f"//spanner.googleapis.com/{full}",
                last(full),
                locations,
                labels_of(inst.get("labels")),
                attrs,
            )
        )
    return out


def _config_replicas(doc: dict[str, Any], config: str) -> list[Location]:
    """Every replica of a configuration holds data: read-write (the default leader as
    `primary`), read-only and witness replicas."""
    out: list[Location] = []
    replicas = [r for r in doc.get("replicas") or [] if isinstance(r, dict)]
    leader = next((r for r in replicas if r.get("defaultLeaderLocation")), replicas[0] if replicas else None)
    for r in replicas:
        kind = str(r.get("type") or "replica").lower().replace("_", "-")
        role = "primary" if r is leader else "replica"
        loc = Location(lower(r.get("location")), role=role, detail=f"{kind} replica of custom configuration {config}")
        if loc not in out:
            out.append(loc)
    return out


def spanner_configs(ctx: ReadContext, resources: list[Resource]) -> list[Resource]:
    """Custom configurations: their replicas from `instanceConfigs.get`, read once per configuration.
    Unreadable, the instance keeps the code `spanner/custom-...`, which fails closed."""
    for r in resources:
        config = str(r.attributes.get("config", ""))
        if not config.startswith("custom-"):
            continue
        name = str(r.attributes.get("config_name") or f"projects/{_pid(ctx)}/instanceConfigs/{config}")
        try:
            doc = ctx.memo(f"spanner:config:{name}", lambda n=name: ctx.get_json("spanner", f"/v1/{n}"))  # type: ignore[misc]
        except ReadOnlyViolation:
            raise
        except ApiError as exc:
            r.locations = [
                Location(
                    spanner_config(config),
                    detail=f"custom instance configuration {config}: not readable ({error_code(exc)}), "
                    "so where its replicas are is unknown",
                )
            ]
            continue
        r.locations = _config_replicas(doc, config) or [
            Location(None, detail=f"custom instance configuration {config} lists no replica")
        ]
    return resources


def spanner_instances(ctx: ReadContext) -> None:
    items = list(_listed(ctx, "spanner", f"/v1/projects/{_pid(ctx)}/instances", "instances"))
    ctx.add(parse_spanner(ctx.project, items))


# --------------------------------------------------------------------- Bigtable


def parse_bigtable(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    """Instances with their clusters (both come in `items`): each cluster holds a full replica."""
    clusters: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        name = str(item.get("name", ""))
        if "/clusters/" in name:
            clusters.setdefault(name.split("/clusters/", 1)[0], []).append(item)
    out = []
    for inst in items:
        full = str(inst.get("name", ""))
        if "/clusters/" in full:
            continue
        mine = sorted(clusters.get(full, []), key=lambda c: str(c.get("name", "")))
        locations = [
            place(
                last(c.get("location")),
                role="primary" if i == 0 else "replica",
                detail=f"cluster {last(c.get('name'))}",
            )
            for i, c in enumerate(mine)
        ] or [Location(None, detail="no cluster listed: where its data is is unknown")]
        attrs = {"instance_type": inst["type"]} if inst.get("type") else {}
        out.append(
            record(
                project,
                "bigtable.instance",
                f"//bigtableadmin.googleapis.com/{full}",
                last(full),
                locations,
                labels_of(inst.get("labels")),
                attrs,
            )
        )
    return out


def bigtable_instances(ctx: ReadContext) -> None:
    """Instances, then every cluster of every instance in one list (`instances/-/clusters`)."""
    base = f"/v2/projects/{_pid(ctx)}/instances"
    items = list(_listed(ctx, "bigtableadmin", base, "instances", unreachable="failedLocations"))
    items += _listed(ctx, "bigtableadmin", f"{base}/-/clusters", "clusters", unreachable="failedLocations")
    ctx.add(parse_bigtable(ctx.project, items))


# --------------------------------------------------------------------- Firestore / Datastore


def parse_firestore(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    out = []
    for db in items:
        full = str(db.get("name", ""))
        where = lower(db.get("locationId"))
        attrs = {"type": db["type"]} if db.get("type") else {}
        out.append(
            record(
                project,
                "firestore.database",
                f"//firestore.googleapis.com/{full}",
                last(full),
                [Location(where, detail=f"database location {where}" if where else "no location reported")],
                {},
                attrs,
            )
        )
    return out


def firestore_databases(ctx: ReadContext) -> None:
    doc = ctx.get_json("firestore", f"/v1/projects/{_pid(ctx)}/databases")
    ctx.add(parse_firestore(ctx.project, doc.get("databases") or []))
    _unreachable(ctx, doc, "firestore")


# --------------------------------------------------------------------- Cloud Logging


def parse_log_buckets(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    out = []
    for bucket in items:
        full = str(bucket.get("name", ""))
        where = location_segment(full)
        name = last(full)
        default = " (created by Google in every project)" if name in ("_Default", "_Required") else ""
        attrs: dict[str, Any] = {}
        for key, attr in (("retentionDays", "retention_days"), ("locked", "locked"), ("lifecycleState", "state")):
            if bucket.get(key) is not None:
                attrs[attr] = bucket[key]
        out.append(
            record(
                project,
                "logging.bucket",
                f"//logging.googleapis.com/{full}",
                name,
                [Location(lower(where), detail=f"log bucket location{default}")],
                {},
                attrs,
            )
        )
    return out


def log_buckets(ctx: ReadContext) -> None:
    for bucket in _listed(ctx, "logging", f"/v2/projects/{_pid(ctx)}/locations/-/buckets", "buckets"):
        ctx.add(parse_log_buckets(ctx.project, [bucket]))


def parse_log_sinks(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    """A sink copies the logs it routes to its destination: located there by `sink_destinations`
    once the scan holds every resource (until then: the destination's own name, or unknown)."""
    out = []
    for sink in items:
        name = last(str(sink.get("name", "")))
        destination = str(sink.get("destination") or "")
        attrs: dict[str, Any] = {"destination": destination}
        if sink.get("disabled"):
            attrs["disabled"] = True
        out.append(
            record(
                project,
                "logging.sink",
                f"//logging.googleapis.com/projects/{project.project_id}/sinks/{name}",
                name,
                sink_locations(name, destination, lambda _: None),
                {},
                attrs,
                [CopyLink("copies-to", "//" + destination, "log export")] if destination else [],
            )
        )
    return out


def sink_locations(name: str, destination: str, lookup: Callable[[str], Resource | None]) -> list[Location]:
    """Where a sink's copy of the logs is: a log bucket's location is in its name; a bucket,
    dataset or topic the scan holds is where that resource is; anything else is unknown."""
    what = f"log sink {name} routes logs to {destination or '(no destination)'}"
    if destination.startswith("logging.googleapis.com/") and "/buckets/" in destination:
        return [Location(lower(location_segment(destination)), role="replica", detail=what)]
    target = lookup("//" + destination) if destination else None
    if target is not None and target.locations:
        return [
            Location(
                loc.region,
                role="replica",
                zone=loc.zone,
                detail=f"{what} ({loc.role}{': ' + loc.detail if loc.detail else ''})",
            )
            for loc in target.locations
        ]
    if destination.startswith("logging.googleapis.com/projects/"):
        why = "another project's log router: where that project keeps them is unknown to this sink"
    else:
        why = "not a resource of this scan, so where it keeps them is unknown"
    return [Location(None, role="replica", detail=f"{what}: {why}")]


def sink_destinations(resources: list[Resource], lookup: Callable[[str], Resource | None]) -> None:
    for r in resources:
        r.locations = sink_locations(r.name, str(r.attributes.get("destination", "")), lookup)


def log_sinks(ctx: ReadContext) -> None:
    for sink in _listed(ctx, "logging", f"/v2/projects/{_pid(ctx)}/sinks", "sinks"):
        ctx.add(parse_log_sinks(ctx.project, [sink]))


# --------------------------------------------------------------------- Cloud KMS, Artifact Registry


def _located(project: ProjectInfo, items: list[dict[str, Any]], kind: str, host: str, what: str) -> list[Resource]:
    """Resources named `projects/P/locations/L/...`: located at L (region, zone or multi-region)."""
    out = []
    for item in items:
        full = str(item.get("name", ""))
        where = location_segment(full)
        attrs = {k: item[k] for k in ("format", "mode", "tier") if item.get(k)}
        out.append(
            record(
                project,
                kind,
                f"//{host}/{full}",
                str(item.get("displayName") or last(full)),
                [place(where, detail=f"{what} location") if where else Location(None, detail="no location reported")],
                labels_of(item.get("labels")),
                attrs,
            )
        )
    return out


def parse_key_rings(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    return _located(project, items, "kms.keyring", "cloudkms.googleapis.com", "key ring")


def key_rings(ctx: ReadContext) -> None:
    def read(loc: str) -> None:
        path = f"/v1/projects/{_pid(ctx)}/locations/{loc}/keyRings"
        ctx.add(parse_key_rings(ctx.project, list(ctx.pages("cloudkms", path, "keyRings"))))

    _per_location(ctx, "cloudkms", api_locations(ctx, "cloudkms"), read)


def parse_repositories(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    return _located(project, items, "artifactregistry.repository", "artifactregistry.googleapis.com", "repository")


def repositories(ctx: ReadContext) -> None:
    def read(loc: str) -> None:
        path = f"/v1/projects/{_pid(ctx)}/locations/{loc}/repositories"
        ctx.add(parse_repositories(ctx.project, list(ctx.pages("artifactregistry", path, "repositories"))))

    _per_location(ctx, "artifactregistry", api_locations(ctx, "artifactregistry"), read)


# --------------------------------------------------------------------- Memorystore, Filestore


def parse_redis(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    """Its region, primary zone kept; the standby and read replicas' zones are named in the
    detail (same region), and a zone in another region would be a location of its own."""
    out = []
    for inst in items:
        full = str(inst.get("name", ""))
        primary = lower(inst.get("locationId")) or ""
        region = location_segment(full) or (primary.rsplit("-", 1)[0] if primary else "")
        zones = [z for z in (lower(inst.get("alternativeLocationId")),) if z]
        zones += [z for n in inst.get("nodes") or [] if isinstance(n, dict) and (z := lower(n.get("zone")))]
        others = [z for z in dict.fromkeys(zones) if z != primary]
        detail = f"primary zone {primary}" if primary else "primary"
        if others:
            detail += f"; standby/replica zone(s) {', '.join(others)}"
        locations = [Location(lower(region), zone=primary or None, detail=detail)]
        locations += [place(z, role="replica", detail="replica zone") for z in others if not z.startswith(region + "-")]
        attrs = {k: inst[k] for k in ("tier", "readReplicasMode", "replicaCount") if inst.get(k)}
        out.append(
            record(
                project,
                "redis.instance",
                f"//redis.googleapis.com/{full}",
                last(full),
                locations,
                labels_of(inst.get("labels")),
                attrs,
            )
        )
    return out


def redis_instances(ctx: ReadContext) -> None:
    items = list(_listed(ctx, "redis", f"/v1/projects/{_pid(ctx)}/locations/-/instances", "instances"))
    ctx.add(parse_redis(ctx.project, items))


def parse_filestore_instances(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    return _located(project, items, "filestore.instance", "file.googleapis.com", "instance")


def parse_filestore_backups(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    out = []
    for backup in items:
        full = str(backup.get("name", ""))
        source = str(backup.get("sourceInstance") or "")
        of = f"backup of {last(source)} ({location_segment(source)})" if source else "backup"
        where = location_segment(full)
        out.append(
            record(
                project,
                "filestore.backup",
                f"//file.googleapis.com/{full}",
                last(full),
                [place(where, role="backup", detail=of) if where else Location(None, role="backup", detail=of)],
                labels_of(backup.get("labels")),
                {"source_instance": source} if source else {},
                [CopyLink("copy-of", f"//file.googleapis.com/{source}", "backup")] if source else [],
            )
        )
    return out


def filestore(ctx: ReadContext) -> None:
    base = f"/v1/projects/{_pid(ctx)}/locations/-"
    ctx.add(parse_filestore_instances(ctx.project, list(_listed(ctx, "file", f"{base}/instances", "instances"))))
    ctx.add(parse_filestore_backups(ctx.project, list(_listed(ctx, "file", f"{base}/backups", "backups"))))


# --------------------------------------------------------------------- Dataproc, Composer, Vertex AI


def parse_dataproc(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    """Cluster JSON names no region: the `goog-dataproc-location` label, the zone, or where it
    was listed (`_location`: the region listed, or Asset Inventory's location)."""
    out = []
    for cl in items:
        labels = labels_of(cl.get("labels"))
        zone = last((cl.get("config") or {}).get("gceClusterConfig", {}).get("zoneUri"))
        region = labels.get("goog-dataproc-location") or (zone.rsplit("-", 1)[0] if zone else "")
        region = region or str(cl.get("_location") or "")
        name = str(cl.get("clusterName", ""))
        project_id = str(cl.get("projectId") or project.project_id)
        loc = place(zone) if zone else Location(lower(region) or None)
        out.append(
            record(
                project,
                "dataproc.cluster",
                f"//dataproc.googleapis.com/projects/{project_id}/regions/{region}/clusters/{name}",
                name,
                [loc],
                {k: v for k, v in labels.items() if not k.startswith("goog-dataproc-")},
                {"config_bucket": cl["config"]["configBucket"]} if (cl.get("config") or {}).get("configBucket") else {},
            )
        )
    return out


def dataproc_clusters(ctx: ReadContext) -> None:
    def read(region: str) -> None:
        path = f"/v1/projects/{_pid(ctx)}/regions/{region}/clusters"
        items = [{**c, "_location": region} for c in ctx.pages("dataproc", path, "clusters")]
        ctx.add(parse_dataproc(ctx.project, items))

    _per_location(ctx, "dataproc", project_regions(ctx), read)


def parse_composer(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    out = _located(project, items, "composer.environment", "composer.googleapis.com", "environment")
    for r, env in zip(out, items, strict=True):
        config = env.get("config") or {}
        for key, attr in (("dagGcsPrefix", "dag_gcs_prefix"), ("gkeCluster", "gke_cluster")):
            if config.get(key):
                r.attributes[attr] = config[key]
    return out


def composer_environments(ctx: ReadContext) -> None:
    def read(region: str) -> None:
        path = f"/v1/projects/{_pid(ctx)}/locations/{region}/environments"
        ctx.add(parse_composer(ctx.project, list(ctx.pages("composer", path, "environments"))))

    _per_location(ctx, "composer", project_regions(ctx), read)


def parse_vertex_datasets(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    return _located(project, items, "vertexai.dataset", "aiplatform.googleapis.com", "dataset")


def parse_vertex_endpoints(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    return _located(project, items, "vertexai.endpoint", "aiplatform.googleapis.com", "endpoint")


def vertex(ctx: ReadContext) -> None:
    """Per location, on that location's endpoint (`<region>-aiplatform.googleapis.com`)."""

    def read(loc: str) -> None:
        region = "" if loc == "global" else loc
        base = f"/v1/projects/{_pid(ctx)}/locations/{loc}"
        ctx.add(
            parse_vertex_datasets(
                ctx.project, list(ctx.pages("aiplatform", f"{base}/datasets", "datasets", region=region))
            )
        )
        ctx.add(
            parse_vertex_endpoints(
                ctx.project, list(ctx.pages("aiplatform", f"{base}/endpoints", "endpoints", region=region))
            )
        )

    _per_location(ctx, "aiplatform", api_locations(ctx, "aiplatform"), read)
