"""Google Cloud readers and parsers, under the names the kinds declare (`kinds.GcpKind`).

A parser is a pure function of the service's own JSON (a list of items, as the list call
or Cloud Asset Inventory's `versionedResources` return them) to resources with every
location that holds their data. A reader lists one kind in one project through the
context's guarded client and hands each page to its parser as it arrives, so what was
read before an error or a Ctrl-C is kept. Readers raise on API errors: the scan turns
them into a gap for that project and service.

The first kinds' readers are here; Pub/Sub's are in `pubsub.py` and the managed services'
(Secret Manager, Spanner, ... Vertex AI) in `managed.py`; all are reachable here by the
names the kinds declare.
"""

from __future__ import annotations

import re
from typing import Any

from ...model import Location, Resource
from .client import ApiError
from .managed import (
    bigtable_instances,
    composer_environments,
    dataproc_clusters,
    filestore,
    firestore_databases,
    key_rings,
    log_buckets,
    log_sinks,
    parse_bigtable,
    parse_composer,
    parse_dataproc,
    parse_filestore_backups,
    parse_filestore_instances,
    parse_firestore,
    parse_key_rings,
    parse_log_buckets,
    parse_log_sinks,
    parse_redis,
    parse_repositories,
    parse_secrets,
    parse_spanner,
    parse_vertex_datasets,
    parse_vertex_endpoints,
    redis_instances,
    repositories,
    secrets,
    sink_destinations,
    spanner_configs,
    spanner_instances,
    vertex,
)
from .projects import ProjectInfo
from .pubsub import (
    parse_subscriptions,
    parse_topics,
    subscription_topics,
    subscriptions,
    topic_policies,
    topics,
)
from .readbase import NO_STORAGE_POLICY, PROVIDER, ReadContext, zone_region
from .readbase import labels_of as _labels
from .readbase import last as _last
from .readbase import location_segment as _location_segment
from .readbase import lower as _lower
from .readbase import record as _resource

__all__ = [  # the kinds' readers, parsers, resolvers and finishers, by the names they declare
    "NO_STORAGE_POLICY",
    "PROVIDER",
    "ReadContext",
    "bigtable_instances",
    "composer_environments",
    "dataproc_clusters",
    "filestore",
    "firestore_databases",
    "key_rings",
    "log_buckets",
    "log_sinks",
    "parse_bigtable",
    "parse_composer",
    "parse_dataproc",
    "parse_filestore_backups",
    "parse_filestore_instances",
    "parse_firestore",
    "parse_key_rings",
    "parse_log_buckets",
    "parse_log_sinks",
    "parse_redis",
    "parse_repositories",
    "parse_secrets",
    "parse_spanner",
    "parse_subscriptions",
    "parse_topics",
    "parse_vertex_datasets",
    "parse_vertex_endpoints",
    "redis_instances",
    "repositories",
    "secrets",
    "sink_destinations",
    "spanner_configs",
    "spanner_instances",
    "subscription_topics",
    "subscriptions",
    "topic_policies",
    "topics",
    "vertex",
    "zone_region",
]


# --------------------------------------------------------------------- parsers


def parse_buckets(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    out = []
    for b in items:
        name = str(b.get("name", ""))
        location = _lower(b.get("location"))
        location_type = str(b.get("locationType", "")).lower()
        data_locations = [_lower(d) for d in (b.get("customPlacementConfig") or {}).get("dataLocations") or []]
        if data_locations:
            # Configurable dual-region: the data sits in exactly these two regions.
            locations = [
                Location(d, detail=f"dual-region {str(b.get('location', '')).upper()} data location")
                for d in data_locations
            ]
        else:
            detail = f"{location_type} bucket location" if location_type and location_type != "region" else ""
            locations = [Location(location, detail=detail)]
        rpo = str(b.get("rpo", "") or "")
        attrs: dict[str, Any] = {"location_type": location_type} if location_type else {}
        if rpo:
            attrs["rpo"] = rpo
            attrs["turbo_replication"] = rpo == "ASYNC_TURBO"
        out.append(
            _resource(
                project,
                "storage.bucket",
                f"//storage.googleapis.com/{name}",
                name,
                locations,
                _labels(b.get("labels")),
                attrs,
            )
        )
    return out


def _compute_id(project: ProjectInfo, item: dict[str, Any], scope: str, collection: str) -> str:
    link = str(item.get("selfLink", ""))
    if "/projects/" in link:
        return "//compute.googleapis.com/projects/" + link.split("/projects/", 1)[1]
    return f"//compute.googleapis.com/projects/{project.project_id}/{scope}/{collection}/{item.get('name', '')}"


def parse_instances(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    out = []
    for inst in items:
        zone = _last(inst.get("zone"))
        out.append(
            _resource(
                project,
                "compute.instance",
                _compute_id(project, inst, f"zones/{zone}", "instances"),
                str(inst.get("name", "")),
                [Location(zone_region(zone) if zone else None, zone=zone or None)],
                _labels(inst.get("labels")),
            )
        )
    return out


def parse_disks(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    out = []
    for disk in items:
        zone = _last(disk.get("zone"))
        if zone:
            scope, locations = f"zones/{zone}", [Location(zone_region(zone), zone=zone)]
        else:
            region = _last(disk.get("region"))
            replicas = ", ".join(_last(z) for z in disk.get("replicaZones") or [])
            detail = f"regional disk replicated in {replicas}" if replicas else "regional disk"
            scope, locations = f"regions/{region}", [Location(region or None, detail=detail)]
        out.append(
            _resource(
                project,
                "compute.disk",
                _compute_id(project, disk, scope, "disks"),
                str(disk.get("name", "")),
                locations,
                _labels(disk.get("labels")),
            )
        )
    return out


def _stored_copies(
    project: ProjectInfo, items: list[dict[str, Any]], kind: str, collection: str, source_key: str
) -> list[Resource]:
    """Snapshots and machine images: their data lives in `storageLocations` (region or multi-region)."""
    out = []
    for item in items:
        source = _last(item.get(source_key))
        what = f"{collection[:-1]} of {source}" if source else collection[:-1]
        stored = [_lower(s) for s in item.get("storageLocations") or []]
        locations = [Location(s, role="backup", detail=f"{what}: storage location") for s in stored if s]
        if not locations:
            locations = [Location(None, role="backup", detail=f"{what}: no storage location reported")]
        out.append(
            _resource(
                project,
                kind,
                _compute_id(project, item, "global", collection),
                str(item.get("name", "")),
                locations,
                _labels(item.get("labels")),
            )
        )
    return out


def parse_snapshots(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    return _stored_copies(project, items, "compute.snapshot", "snapshots", "sourceDisk")


def parse_machine_images(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    return _stored_copies(project, items, "compute.machine_image", "machineImages", "sourceInstance")


def parse_sql(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    """Cloud SQL: cross-region replicas are read from the same project's listing (replicas share it)."""
    regions = {str(i.get("name", "")): _lower(i.get("region")) for i in items}
    out = []
    for inst in items:
        name = str(inst.get("name", ""))
        region = regions.get(name)
        zone = inst.get("gceZone") or None
        locations = [Location(region, zone=zone)]
        for replica in inst.get("replicaNames") or []:
            r_region = regions.get(replica)
            if replica not in regions:
                locations.append(Location(None, role="replica", detail=f"read replica {replica}: region not readable"))
            elif r_region != region:
                locations.append(Location(r_region, role="replica", detail=f"read replica {replica}"))
        master = str(inst.get("masterInstanceName", "") or "")
        if master:
            m_name = master.split(":", 1)[-1]
            if m_name not in regions:
                locations.append(Location(None, role="replica", detail=f"replica of {master}: region not readable"))
            elif regions[m_name] != region:
                locations.append(Location(regions[m_name], role="replica", detail=f"replica of {master}"))
        settings = inst.get("settings") or {}
        backup = settings.get("backupConfiguration") or {}
        attrs: dict[str, Any] = {}
        if inst.get("databaseVersion"):
            attrs["database_version"] = inst["databaseVersion"]
        if backup.get("enabled"):
            if backup.get("location"):
                locations.append(Location(_lower(backup["location"]), role="backup", detail="automated backups"))
            else:
                attrs["backup_location"] = "default (multi-region nearest the instance)"
        project_id = str(inst.get("project") or project.project_id)
        out.append(
            _resource(
                project,
                "cloudsql.instance",
                f"//cloudsql.googleapis.com/projects/{project_id}/instances/{name}",
                name,
                locations,
                _labels(settings.get("userLabels")),
                attrs,
            )
        )
    return out


def parse_datasets(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    out = []
    for ds in items:
        ref = ds.get("datasetReference") or {}
        dataset = str(ref.get("datasetId") or str(ds.get("id", "")).split(":")[-1])
        project_id = str(ref.get("projectId") or project.project_id)
        out.append(
            _resource(
                project,
                "bigquery.dataset",
                f"//bigquery.googleapis.com/projects/{project_id}/datasets/{dataset}",
                dataset,
                [Location(_lower(ds.get("location")))],
                _labels(ds.get("labels")),
            )
        )
    return out


def parse_clusters(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    out = []
    for cl in items:
        location = str(cl.get("location") or cl.get("zone") or "")
        zonal = bool(re.search(r"-[a-z]$", location))
        loc = Location(zone_region(location), zone=location) if zonal else Location(location or None)
        name = str(cl.get("name", ""))
        out.append(
            _resource(
                project,
                "gke.cluster",
                f"//container.googleapis.com/projects/{project.project_id}/locations/{location}/clusters/{name}",
                name,
                [loc],
                _labels(cl.get("resourceLabels")),
                {"node_zones": list(cl.get("locations") or [])},
            )
        )
    return out


def parse_run_services(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    out = []
    for svc in items:
        meta = svc.get("metadata")
        if isinstance(meta, dict):  # Cloud Run v1 (Knative) shape
            labels = _labels(meta.get("labels"))
            location = labels.pop("cloud.googleapis.com/location", "")
            name = str(meta.get("name", ""))
            labels = {k: v for k, v in labels.items() if not k.startswith(("cloud.googleapis.com/", "run.googleapis"))}
        else:  # v2 shape: projects/p/locations/l/services/s
            full = str(svc.get("name", ""))
            location = _location_segment(full) or str(svc.get("location") or "")
            name = full.rsplit("/", 1)[-1]
            labels = _labels(svc.get("labels"))
        out.append(
            _resource(
                project,
                "run.service",
                f"//run.googleapis.com/projects/{project.project_id}/locations/{location}/services/{name}",
                name,
                [Location(_lower(location))],
                labels,
            )
        )
    return out


def parse_functions(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    out = []
    for fn in items:
        full = str(fn.get("name", ""))
        parts = full.split("/")
        location = _location_segment(full) or str(fn.get("location") or "")
        attrs = {"environment": fn["environment"]} if fn.get("environment") else {}
        out.append(
            _resource(
                project,
                "functions.function",
                f"//cloudfunctions.googleapis.com/{full}",
                parts[-1],
                [Location(_lower(location))],
                _labels(fn.get("labels")),
                attrs,
            )
        )
    return out


# --------------------------------------------------------------------- readers (per project)


def buckets(ctx: ReadContext) -> None:
    for bucket in ctx.buckets():
        ctx.add(parse_buckets(ctx.project, [bucket]))


def instances(ctx: ReadContext) -> None:
    path = f"/compute/v1/projects/{ctx.project.project_id}/aggregated/instances"
    for _, scoped in ctx.pages("compute", path, "items"):
        ctx.add(parse_instances(ctx.project, scoped.get("instances") or []))


def disks(ctx: ReadContext) -> None:
    path = f"/compute/v1/projects/{ctx.project.project_id}/aggregated/disks"
    for _, scoped in ctx.pages("compute", path, "items"):
        ctx.add(parse_disks(ctx.project, scoped.get("disks") or []))


def snapshots(ctx: ReadContext) -> None:
    path = f"/compute/v1/projects/{ctx.project.project_id}/global/snapshots"
    for snapshot in ctx.pages("compute", path, "items"):
        ctx.add(parse_snapshots(ctx.project, [snapshot]))


def machine_images(ctx: ReadContext) -> None:
    path = f"/compute/v1/projects/{ctx.project.project_id}/global/machineImages"
    for image in ctx.pages("compute", path, "items"):
        ctx.add(parse_machine_images(ctx.project, [image]))


def sql_instances(ctx: ReadContext) -> None:
    """All pages first: a replica's region is read from its master's listing and back."""
    items = list(ctx.pages("sqladmin", f"/v1/projects/{ctx.project.project_id}/instances", "items"))
    ctx.add(parse_sql(ctx.project, items))


def datasets(ctx: ReadContext) -> None:
    path = f"/bigquery/v2/projects/{ctx.project.project_id}/datasets"
    for dataset in ctx.pages("bigquery", path, "datasets", {"all": "true"}):
        ctx.add(parse_datasets(ctx.project, [dataset]))


def clusters(ctx: ReadContext) -> None:
    """One call for every location (`locations/-`); zones that did not answer are gaps."""
    doc = ctx.get_json("container", f"/v1/projects/{ctx.project.project_id}/locations/-/clusters")
    ctx.add(parse_clusters(ctx.project, doc.get("clusters") or []))
    for zone in doc.get("missingZones") or []:
        ctx.gap(str(zone), "container", "zone did not answer the cluster list")


def run_services(ctx: ReadContext) -> None:
    """Cloud Run v1 lists Kubernetes-style: `limit`/`continue`, token in `metadata.continue`."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {}
    path = f"/apis/serving.knative.dev/v1/namespaces/{ctx.project.project_id}/services"
    while True:
        doc = ctx.get_json("run", path, query)
        items.extend(doc.get("items") or [])
        for where in doc.get("unreachable") or []:
            raise ApiError(503, "UNREACHABLE", f"Cloud Run location {where} unreachable")
        token = (doc.get("metadata") or {}).get("continue")
        if not token:
            break
        query["continue"] = token
    ctx.add(parse_run_services(ctx.project, items))


def functions(ctx: ReadContext) -> None:
    """Every location at once (`locations/-`); locations that did not answer are gaps."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {}
    while True:
        doc = ctx.get_json("cloudfunctions", f"/v2/projects/{ctx.project.project_id}/locations/-/functions", query)
        items.extend(doc.get("functions") or [])
        for where in doc.get("unreachable") or []:
            ctx.gap(_last(where), "cloudfunctions", "location unreachable")
        if not doc.get("nextPageToken"):
            break
        query["pageToken"] = doc["nextPageToken"]
    ctx.add(parse_functions(ctx.project, items))
