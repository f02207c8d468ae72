"""Google Cloud kinds, each declared once: its REST reads (-> the guard's allow-list and
`permissions gcp`), its reader and parser, its Cloud Asset Inventory types, its Terraform
types, its category and whether its footprint is modelled.

A read is a REST method: the service and method name Google documents, the IAM permission
it needs, and the HTTP method and path pattern the guard matches every request against
before it is sent. The host is `https://<service>.googleapis.com` (or `--endpoint`).

Adding a kind: a `GcpKind` here, its reader and parser in `readers.py` (under the names
declared), its builder and route in the fake (`residency_emulator.gcp`), and a test.

Every other resource type is judged too: the Asset Inventory path searches every asset type
and judges a resource no kind declares at the `location` Asset Inventory reports
(`Resource.judged = "primary"`); the per-service path lists only the declared kinds and says
so in a note.
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
    #: A function of `readers` run on both paths over the parsed records of one project, for
    #: what the JSON alone does not say (a custom Spanner configuration's replicas, the
    #: organisation policy a Pub/Sub topic without a storage policy falls under).
    resolver: str = ""
    #: A function of `readers` run once every other record of the scan is in: for copies whose
    #: place is another resource's (a log sink's destination).
    finisher: str = ""


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

#: Org Policy v2: the policy set on one organisation, folder or project (404: none). The
#: guardrail audit reads `gcp.resourceLocations`; the scan reads
#: `pubsub.allowedPersistenceRegions` for topics without a storage policy.
POLICY_GET = _r(
    "orgpolicy",
    "policies.get",
    "orgpolicy.policy.get",
    rf"^/v2/(projects|folders|organizations)/{_P}/policies/{_P}$",
)

#: `guardrails gcp`: the organisation policy set on one organisation, folder or project.
GUARDRAIL_READS: tuple[ReadOperation, ...] = (POLICY_GET,)

#: The regions of a project (Compute Engine), for APIs that list one region at a time and
#: have no locations list of their own (Dataproc, Composer).
REGIONS_LIST = _r("compute", "regions.list", "compute.regions.list", rf"^/compute/v1/projects/{_P}/regions$")


def _locations(service: str) -> ReadOperation:
    """An API's own locations list (`projects.locations.list`), for APIs listed per location."""
    return _r(service, "locations.list", f"{service}.locations.list", rf"^/v1/projects/{_P}/locations$")


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
        "compute.image",
        service="compute",
        category="data",
        reads=(_r("compute", "images.list", "compute.images.list", rf"^/compute/v1/projects/{_P}/global/images$"),),
        reader="images",
        parser="parse_images",
        asset_types=("compute.googleapis.com/Image",),
        footprint=True,
        seed="image",
        doc="the project's own images: every `storageLocations` entry as `backup`",
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
        doc="`location` (`EU`, `US`, or a region); cross-region dataset replicas are not read: only the "
        "`INFORMATION_SCHEMA.SCHEMATA_REPLICAS` view lists them, and querying it starts a job (not a read)",
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
        reads=(_r("pubsub", "topics.list", "pubsub.topics.list", rf"^/v1/projects/{_P}/topics$"), POLICY_GET),
        reader="topics",
        parser="parse_topics",
        resolver="topic_policies",
        asset_types=("pubsub.googleapis.com/Topic",),
        terraform=("google_pubsub_topic",),
        footprint=True,
        seed="topic",
        doc="every `messageStoragePolicy.allowedPersistenceRegions` entry; without one, the regions the "
        "`pubsub.allowedPersistenceRegions` organisation policy effective on the project allows (Org Policy v2, "
        "along project → folders → organisation); neither: any region, so unknown",
    ),
    GcpKind(
        "pubsub.subscription",
        service="pubsub",
        category="data",
        reads=(_r("pubsub", "subscriptions.list", "pubsub.subscriptions.list", rf"^/v1/projects/{_P}/subscriptions$"),),
        reader="subscriptions",
        parser="parse_subscriptions",
        finisher="subscription_topics",
        asset_types=("pubsub.googleapis.com/Subscription",),
        footprint=True,
        seed="subscription",
        doc="its retained messages where its topic keeps them (the topic's locations when the scan holds it, else "
        "unknown); a BigQuery or Cloud Storage subscription also copies them to that table's dataset or bucket "
        "(`replica`, located likewise); push endpoints are not modelled",
    ),
    GcpKind(
        "secretmanager.secret",
        service="secretmanager",
        category="data",
        reads=(_r("secretmanager", "secrets.list", "secretmanager.secrets.list", rf"^/v1/projects/{_P}/secrets$"),),
        reader="secrets",
        parser="parse_secrets",
        asset_types=("secretmanager.googleapis.com/Secret",),
        terraform=("google_secret_manager_secret",),
        footprint=True,
        seed="secret",
        doc="user-managed replication: every replica location (the first as `primary`); automatic replication: "
        "`global` (Google chooses the regions), which fails closed",
    ),
    GcpKind(
        "spanner.instance",
        service="spanner",
        category="data",
        reads=(
            _r("spanner", "instances.list", "spanner.instances.list", rf"^/v1/projects/{_P}/instances$"),
            _r(
                "spanner",
                "instanceConfigs.get",
                "spanner.instanceConfigs.get",
                rf"^/v1/projects/{_P}/instanceConfigs/{_P}$",
            ),
        ),
        reader="spanner_instances",
        parser="parse_spanner",
        resolver="spanner_configs",
        asset_types=("spanner.googleapis.com/Instance",),
        terraform=("google_spanner_instance",),
        footprint=True,
        seed="spanner_instance",
        doc="its instance configuration (`regional-<region>`, dual-region, multi-region such as `nam3`, `eur3`, "
        "`nam-eur-asia1`: every read-write, read-only and witness region); a custom configuration: each replica "
        "`instanceConfigs.get` returns",
    ),
    GcpKind(
        "bigtable.instance",
        service="bigtableadmin",
        category="data",
        reads=(
            _r("bigtableadmin", "instances.list", "bigtable.instances.list", rf"^/v2/projects/{_P}/instances$"),
            _r(
                "bigtableadmin",
                "instances.clusters.list",
                "bigtable.clusters.list",
                rf"^/v2/projects/{_P}/instances/-/clusters$",
            ),
        ),
        reader="bigtable_instances",
        parser="parse_bigtable",
        asset_types=("bigtableadmin.googleapis.com/Instance", "bigtableadmin.googleapis.com/Cluster"),
        terraform=("google_bigtable_instance",),
        footprint=True,
        seed="bigtable_instance",
        doc="every cluster's zone (each holds a full replica; the first as `primary`)",
    ),
    GcpKind(
        "firestore.database",
        service="firestore",
        category="data",
        reads=(_r("firestore", "databases.list", "datastore.databases.list", rf"^/v1/projects/{_P}/databases$"),),
        reader="firestore_databases",
        parser="parse_firestore",
        asset_types=("firestore.googleapis.com/Database",),
        terraform=("google_firestore_database",),
        footprint=True,
        seed="firestore_database",
        doc="`locationId`: a region or a multi-region (`eur3`, `nam5`, `nam7`: every replica region); "
        "Firestore and Datastore mode alike",
    ),
    GcpKind(
        "logging.bucket",
        service="logging",
        category="data",
        reads=(_r("logging", "buckets.list", "logging.buckets.list", rf"^/v2/projects/{_P}/locations/-/buckets$"),),
        reader="log_buckets",
        parser="parse_log_buckets",
        asset_types=("logging.googleapis.com/LogBucket",),
        footprint=True,
        seed="log_buckets",
        doc="the location in its name; `_Default` and `_Required` are in `global` unless the organisation's "
        "default settings say otherwise, and `global` fails closed",
    ),
    GcpKind(
        "logging.sink",
        service="logging",
        category="data",
        reads=(_r("logging", "sinks.list", "logging.sinks.list", rf"^/v2/projects/{_P}/sinks$"),),
        reader="log_sinks",
        parser="parse_log_sinks",
        finisher="sink_destinations",
        asset_types=("logging.googleapis.com/LogSink",),
        footprint=True,
        seed="log_buckets",
        doc="a copy of the logs it routes, as `replica`: a log bucket at the location in its name; a Cloud "
        "Storage bucket, BigQuery dataset or Pub/Sub topic at that resource's locations when the scan holds "
        "it, else unknown (fails closed); another project: unknown",
    ),
    GcpKind(
        "kms.keyring",
        service="cloudkms",
        category="data",
        reads=(
            _locations("cloudkms"),
            _r(
                "cloudkms",
                "keyRings.list",
                "cloudkms.keyRings.list",
                rf"^/v1/projects/{_P}/locations/{_P}/keyRings$",
            ),
        ),
        reader="key_rings",
        parser="parse_key_rings",
        asset_types=("cloudkms.googleapis.com/KeyRing",),
        terraform=("google_kms_key_ring",),
        footprint=True,
        seed="key_ring",
        doc="its location: a region, a dual-region (`eur4`, `nam4`...), a multi-region (`europe`, `us`, `asia`) "
        "or `global`; listed per location (`locations.list`, then each location)",
    ),
    GcpKind(
        "artifactregistry.repository",
        service="artifactregistry",
        category="data",
        reads=(
            _locations("artifactregistry"),
            _r(
                "artifactregistry",
                "repositories.list",
                "artifactregistry.repositories.list",
                rf"^/v1/projects/{_P}/locations/{_P}/repositories$",
            ),
        ),
        reader="repositories",
        parser="parse_repositories",
        asset_types=("artifactregistry.googleapis.com/Repository",),
        terraform=("google_artifact_registry_repository",),
        footprint=True,
        seed="repository",
        doc="its location: a region or a multi-region (`europe`, `us`, `asia`); listed per location",
    ),
    GcpKind(
        "redis.instance",
        service="redis",
        category="data",
        reads=(_r("redis", "instances.list", "redis.instances.list", rf"^/v1/projects/{_P}/locations/-/instances$"),),
        reader="redis_instances",
        parser="parse_redis",
        asset_types=("redis.googleapis.com/Instance",),
        terraform=("google_redis_instance",),
        footprint=True,
        seed="redis_instance",
        doc="its region, with the primary zone (`locationId`); the standby (`alternativeLocationId`) and read "
        "replica zones (`nodes`) are in the same region (in the detail)",
    ),
    GcpKind(
        "filestore.instance",
        service="file",
        category="data",
        reads=(_r("file", "instances.list", "file.instances.list", rf"^/v1/projects/{_P}/locations/-/instances$"),),
        reader="filestore",
        parser="parse_filestore_instances",
        asset_types=("file.googleapis.com/Instance",),
        footprint=True,
        seed="filestore_instance",
        doc="its zone (→ region) or region",
    ),
    GcpKind(
        "filestore.backup",
        service="file",
        category="data",
        reads=(_r("file", "backups.list", "file.backups.list", rf"^/v1/projects/{_P}/locations/-/backups$"),),
        reader="filestore",
        parser="parse_filestore_backups",
        asset_types=("file.googleapis.com/Backup",),
        footprint=True,
        seed="filestore_backup",
        doc="its region, as `backup` (a backup may be kept in another region than its instance)",
    ),
    GcpKind(
        "dataproc.cluster",
        service="dataproc",
        category="compute",
        reads=(
            REGIONS_LIST,
            _r(
                "dataproc",
                "clusters.list",
                "dataproc.clusters.list",
                rf"^/v1/projects/{_P}/regions/{_P}/clusters$",
            ),
        ),
        reader="dataproc_clusters",
        parser="parse_dataproc",
        asset_types=("dataproc.googleapis.com/Cluster",),
        footprint=True,
        seed="dataproc_cluster",
        doc="its region (zone kept); listed per region of the project (Compute Engine `regions.list`)",
    ),
    GcpKind(
        "composer.environment",
        service="composer",
        category="compute",
        reads=(
            REGIONS_LIST,
            _r(
                "composer",
                "environments.list",
                "composer.environments.list",
                rf"^/v1/projects/{_P}/locations/{_P}/environments$",
            ),
        ),
        reader="composer_environments",
        parser="parse_composer",
        asset_types=("composer.googleapis.com/Environment",),
        footprint=True,
        seed="composer_environment",
        doc="its region (its GKE cluster and DAG bucket are its own resources); listed per region",
    ),
    GcpKind(
        "vertexai.dataset",
        service="aiplatform",
        category="data",
        reads=(
            _locations("aiplatform"),
            _r(
                "aiplatform",
                "datasets.list",
                "aiplatform.datasets.list",
                rf"^/v1/projects/{_P}/locations/{_P}/datasets$",
            ),
        ),
        reader="vertex",
        parser="parse_vertex_datasets",
        asset_types=("aiplatform.googleapis.com/Dataset",),
        footprint=True,
        seed="vertex_dataset",
        doc="its region; listed per location on the regional endpoints (`<region>-aiplatform.googleapis.com`)",
    ),
    GcpKind(
        "vertexai.endpoint",
        service="aiplatform",
        category="data",
        reads=(
            _locations("aiplatform"),
            _r(
                "aiplatform",
                "endpoints.list",
                "aiplatform.endpoints.list",
                rf"^/v1/projects/{_P}/locations/{_P}/endpoints$",
            ),
        ),
        reader="vertex",
        parser="parse_vertex_endpoints",
        asset_types=("aiplatform.googleapis.com/Endpoint",),
        footprint=True,
        seed="vertex_endpoint",
        doc="its region; listed per location on the regional endpoints",
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
