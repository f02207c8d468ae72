"""Google Cloud kinds, each declared once: its REST reads (-> the guard's allow-list and
`permissions gcp`), its reader and parser, its Cloud Asset Inventory types, its Terraform
types, its category and whether its footprint is modelled.

A read is a REST method: the service and method name Google documents, the IAM permission
it needs, and the HTTP method and path pattern the guard matches every request against
before it is sent. The host is `https://<service>.googleapis.com` (or `--endpoint`).

Adding a kind: a `GcpKind` here, its reader and parser in `readers.py` (under the names
declared), its builder and route in the fake (`residency_emulator.gcp`), and a test.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..base import Kind, ReadOperation

_P = r"[^/:]+"  # one path segment


def _r(service: str, method: str, permission: str, path: str, http: str = "GET") -> ReadOperation:
    return ReadOperation(service, method, permission, http, path)


@dataclass(frozen=True, slots=True)
class GcpKind(Kind):
    """A kind as Google Cloud reports it twice: listed per project by `reader`, and found by
    Cloud Asset Inventory under `asset_types`; both feed the same `parser` (the service's own
    JSON), so both inventory paths yield the same resources, ids and locations."""

    parser: str = ""
    asset_types: tuple[str, ...] = ()


#: Projects and their folder/organisation chains (Resource Manager v3).
BASE_READS: tuple[ReadOperation, ...] = (
    _r("cloudresourcemanager", "projects.search", "resourcemanager.projects.get", r"^/v3/projects:search$"),
    _r("cloudresourcemanager", "projects.get", "resourcemanager.projects.get", rf"^/v3/projects/{_P}$"),
    _r("cloudresourcemanager", "folders.search", "resourcemanager.folders.get", r"^/v3/folders:search$"),
    _r("cloudresourcemanager", "folders.get", "resourcemanager.folders.get", rf"^/v3/folders/{_P}$"),
    _r(
        "cloudresourcemanager",
        "organizations.search",
        "resourcemanager.organizations.get",
        r"^/v3/organizations:search$",
    ),
)

#: `--inventory auto|asset`: one paged search per organisation, folder or project.
INVENTORY_READS: tuple[ReadOperation, ...] = (
    _r(
        "cloudasset",
        "searchAllResources",
        "cloudasset.assets.searchAllResources",
        rf"^/v1/(projects|folders|organizations)/{_P}:searchAllResources$",
    ),
)

#: `guardrails gcp`: the organisation policy set on one organisation, folder or project.
GUARDRAIL_READS: tuple[ReadOperation, ...] = (
    _r(
        "orgpolicy",
        "policies.get",
        "orgpolicy.policy.get",
        rf"^/v2/(projects|folders|organizations)/{_P}/policies/{_P}$",
    ),
)

KINDS: tuple[GcpKind, ...] = (
    GcpKind(
        "storage.bucket",
        service="storage",
        category="data",
        reads=(_r("storage", "buckets.list", "storage.buckets.list", r"^/storage/v1/b$"),),
        reader="buckets",
        parser="parse_buckets",
        asset_types=("storage.googleapis.com/Bucket",),
        terraform=("google_storage_bucket",),
        footprint=True,
        seed="bucket",
        doc="`location` (region, multi-region `EU`/`US`, predefined dual-region `EUR4`/`EUR5`/`EUR8`/`NAM4`...); "
        "configurable dual-regions: one location per `customPlacementConfig.dataLocations`",
    ),
    GcpKind(
        "compute.instance",
        service="compute",
        category="compute",
        reads=(
            _r(
                "compute",
                "instances.aggregatedList",
                "compute.instances.list",
                rf"^/compute/v1/projects/{_P}/aggregated/instances$",
            ),
        ),
        reader="instances",
        parser="parse_instances",
        asset_types=("compute.googleapis.com/Instance",),
        terraform=("google_compute_instance",),
        footprint=True,
        seed="instance",
        doc="zone → region (zone kept)",
    ),
    GcpKind(
        "compute.disk",
        service="compute",
        category="data",
        reads=(
            _r(
                "compute",
                "disks.aggregatedList",
                "compute.disks.list",
                rf"^/compute/v1/projects/{_P}/aggregated/disks$",
            ),
        ),
        reader="disks",
        parser="parse_disks",
        asset_types=("compute.googleapis.com/Disk",),
        terraform=("google_compute_disk", "google_compute_region_disk"),
        footprint=True,
        seed="disk",
        doc="zone → region (zone kept); regional disks: their region",
    ),
    GcpKind(
        "compute.snapshot",
        service="compute",
        category="data",
        reads=(
            _r("compute", "snapshots.list", "compute.snapshots.list", rf"^/compute/v1/projects/{_P}/global/snapshots$"),
        ),
        reader="snapshots",
        parser="parse_snapshots",
        asset_types=("compute.googleapis.com/Snapshot",),
        terraform=("google_compute_snapshot",),
        footprint=True,
        seed="snapshot",
        doc="every `storageLocations` entry (region or multi-region such as `us`) as `backup`",
    ),
    GcpKind(
        "compute.machine_image",
        service="compute",
        category="data",
        reads=(
            _r(
                "compute",
                "machineImages.list",
                "compute.machineImages.list",
                rf"^/compute/v1/projects/{_P}/global/machineImages$",
            ),
        ),
        reader="machine_images",
        parser="parse_machine_images",
        asset_types=("compute.googleapis.com/MachineImage",),
        footprint=True,
        seed="machine_image",
        doc="every `storageLocations` entry as `backup`",
    ),
    GcpKind(
        "cloudsql.instance",
        service="sqladmin",
        category="data",
        reads=(_r("sqladmin", "instances.list", "cloudsql.instances.list", rf"^/v1/projects/{_P}/instances$"),),
        reader="sql_instances",
        parser="parse_sql",
        asset_types=("sqladmin.googleapis.com/Instance",),
        terraform=("google_sql_database_instance",),
        footprint=True,
        seed="sql",
        doc="region (zone kept); cross-region read replicas (`replicaNames`) and masters (`masterInstanceName`) "
        "as `replica`; a custom backup location as `backup` (the default one is named in attributes only)",
    ),
    GcpKind(
        "bigquery.dataset",
        service="bigquery",
        category="data",
        # BigQuery has no separate list permission: datasets.list shows those the caller can get.
        reads=(_r("bigquery", "datasets.list", "bigquery.datasets.get", rf"^/bigquery/v2/projects/{_P}/datasets$"),),
        reader="datasets",
        parser="parse_datasets",
        asset_types=("bigquery.googleapis.com/Dataset",),
        terraform=("google_bigquery_dataset",),
        seed="dataset",
        doc="`location` (`EU`, `US`, or a region); cross-region dataset replicas are not read",
    ),
    GcpKind(
        "gke.cluster",
        service="container",
        category="compute",
        reads=(
            _r("container", "clusters.list", "container.clusters.list", rf"^/v1/projects/{_P}/locations/-/clusters$"),
        ),
        reader="clusters",
        parser="parse_clusters",
        asset_types=("container.googleapis.com/Cluster",),
        terraform=("google_container_cluster",),
        footprint=True,
        seed="cluster",
        doc="cluster location (zonal → region); node zones in attributes",
    ),
    GcpKind(
        "run.service",
        service="run",
        category="compute",
        # Cloud Run v1 on the global endpoint lists every region at once (v2 needs one call per region).
        reads=(
            _r(
                "run",
                "services.list",
                "run.services.list",
                rf"^/apis/serving\.knative\.dev/v1/namespaces/{_P}/services$",
            ),
        ),
        reader="run_services",
        parser="parse_run_services",
        asset_types=("run.googleapis.com/Service",),
        terraform=("google_cloud_run_service", "google_cloud_run_v2_service"),
        footprint=True,
        seed="run_service",
        doc="its region (Cloud Run v1 `services.list` on the global endpoint: every region in one call)",
    ),
    GcpKind(
        "functions.function",
        service="cloudfunctions",
        category="compute",
        reads=(
            _r(
                "cloudfunctions",
                "functions.list",
                "cloudfunctions.functions.list",
                rf"^/v2/projects/{_P}/locations/-/functions$",
            ),
        ),
        reader="functions",
        parser="parse_functions",
        asset_types=("cloudfunctions.googleapis.com/Function", "cloudfunctions.googleapis.com/CloudFunction"),
        terraform=("google_cloudfunctions_function", "google_cloudfunctions2_function"),
        footprint=True,
        seed="function",
        doc="its region (Cloud Functions v2 `functions.list` on `locations/-`: gen 1 and 2)",
    ),
    GcpKind(
        "pubsub.topic",
        service="pubsub",
        category="data",
        reads=(_r("pubsub", "topics.list", "pubsub.topics.list", rf"^/v1/projects/{_P}/topics$"),),
        reader="topics",
        parser="parse_topics",
        asset_types=("pubsub.googleapis.com/Topic",),
        terraform=("google_pubsub_topic",),
        footprint=True,
        seed="topic",
        doc="every `messageStoragePolicy.allowedPersistenceRegions` entry; no policy: any region, so unknown",
    ),
)

#: Services a scan can be limited to (`scan gcp --services`), in the order they are read;
#: API names as in `<name>.googleapis.com`.
SERVICES: tuple[str, ...] = tuple(dict.fromkeys(k.service for k in KINDS))

#: Cloud Asset Inventory type -> our kind.
ASSET_TYPES: dict[str, str] = {t: k.name for k in KINDS for t in k.asset_types}


def read_operations() -> tuple[ReadOperation, ...]:
    """Every request the scan, the Asset Inventory path and the guardrail reader may send."""
    ops = [*BASE_READS, *INVENTORY_READS, *(r for k in KINDS for r in k.reads), *GUARDRAIL_READS]
    return tuple(dict.fromkeys(ops))


def kind(name: str) -> GcpKind:
    return next(k for k in KINDS if k.name == name)
