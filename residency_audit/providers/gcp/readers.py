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

from ...model import CopyLink, Location, Resource
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
from .readbase import NO_STORAGE_POLICY, PROVIDER, ReadContext, compute_name, zone_region
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
    return compute_name(item.get("selfLink")) or (
        f"//compute.googleapis.com/projects/{project.project_id}/{scope}/{collection}/{item.get('name', '')}"
    )


def parse_instances(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    """A VM's data is on its disks: each attached disk is linked (`copies-to`), so a data set
    chosen by the VM's labels reaches its disks, and through them their snapshots and images."""
    out = []
    for inst in items:
        zone = _last(inst.get("zone"))
        links = []
        for d in inst.get("disks") or []:
            target = compute_name(d.get("source"), project.project_id) if isinstance(d, dict) else ""
            if target:
                what = "boot disk" if d.get("boot") else f"{str(d.get('mode') or 'READ_WRITE').lower()} disk"
                links.append(CopyLink("copies-to", target, "attached disk", what))
        out.append(
            _resource(
                project,
                "compute.instance",
                _compute_id(project, inst, f"zones/{zone}", "instances"),
                str(inst.get("name", "")),
                [Location(zone_region(zone) if zone else None, zone=zone or None)],
                _labels(inst.get("labels")),
                links=links,
            )
        )
    return out


#: What a disk or image was made from (`copy-of`), by field. A disk's `sourceImage` is not a link:
#: images are templates shared by many disks (Google's public images above all), and since `copies`
#: follows links both ways, every disk made from one image would become one data set.
DISK_SOURCES = (("sourceSnapshot", "restored from snapshot"), ("sourceDisk", "cloned from disk"))
IMAGE_SOURCES = (
    ("sourceDisk", "image of disk"),
    ("sourceSnapshot", "image of snapshot"),
    ("sourceImage", "image copy"),
)


def _sources(project: ProjectInfo, item: dict[str, Any], fields: tuple[tuple[str, str], ...]) -> list[CopyLink]:
    links = []
    for key, how in fields:
        target = compute_name(item.get(key), project.project_id)
        if target:
            links.append(CopyLink("copy-of", target, how))
    return links


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
                links=_sources(project, disk, DISK_SOURCES),
            )
        )
    return out


def _stored_copies(
    project: ProjectInfo,
    items: list[dict[str, Any]],
    kind: str,
    collection: str,
    sources: tuple[tuple[str, str], ...],
) -> list[Resource]:
    """Snapshots, machine images and images: their data lives in `storageLocations` (region or
    multi-region), and they are copies (`copy-of`) of what they were made from."""
    out = []
    for item in items:
        source = next((_last(item.get(key)) for key, _ in sources if item.get(key)), "")
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
                links=_sources(project, item, sources),
            )
        )
    return out


def parse_snapshots(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    return _stored_copies(project, items, "compute.snapshot", "snapshots", (("sourceDisk", "snapshot"),))


def parse_machine_images(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    return _stored_copies(
        project, items, "compute.machine_image", "machineImages", (("sourceInstance", "machine image"),)
    )


def parse_images(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    return _stored_copies(project, items, "compute.image", "images", IMAGE_SOURCES)


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
        links = []
        if master:  # `project:instance` (a replica is in its master's project)
            m_project, _, m_name = master.rpartition(":")
            links.append(
                CopyLink(
                    "copy-of",
                    f"//cloudsql.googleapis.com/projects/{m_project or project_id}/instances/{m_name}",
                    "read replica",
                )
            )
        links += [
            CopyLink("copies-to", f"//cloudsql.googleapis.com/projects/{project_id}/instances/{r}", "read replica")
            for r in inst.get("replicaNames") or []
            if isinstance(r, str) and r
        ]
        out.append(
            _resource(
                project,
                "cloudsql.instance",
                f"//cloudsql.googleapis.com/projects/{project_id}/instances/{name}",
                name,
                locations,
                _labels(settings.get("userLabels")),
                attrs,
                links,
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


def images(ctx: ReadContext) -> None:
    """The project's own images (Google's public images live in their own projects, not listed)."""
    path = f"/compute/v1/projects/{ctx.project.project_id}/global/images"
    for image in ctx.pages("compute", path, "items"):
        ctx.add(parse_images(ctx.project, [image]))


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
