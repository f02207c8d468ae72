"""A small local fake of the Google Cloud REST APIs the scanner reads.

No usable emulator exists for these APIs (the storage emulators ignore bucket
locations), so this one answers, from an in-memory estate, exactly the list
and search calls the adapter makes — with Google's JSON shapes, `nextPageToken`
paging (pages kept small so that paging really happens), Google error bodies
(403 PERMISSION_DENIED / SERVICE_DISABLED, 429 RESOURCE_EXHAUSTED) and the
`Front` request log. Everything else is answered 404, and writes 405: the fake
cannot be changed over HTTP at all; the estate is built in Python. The one
POST it serves is IAM Credentials' generateAccessToken (impersonation's token
exchange, not a resource call).

Google's APIs share path shapes across hosts (Spanner and Cloud SQL both list
`/v1/projects/P/instances`): one base URL serves them all, and a request names its
API in the Host header (`spanner.googleapis.com`), as it would reach Google's front ends.
Per-location lists (`projects.locations.list`, Compute `regions.list`) answer with a
few base regions plus every location the estate uses. Resources of types no kind of
the scanner reads are planted with `asset()`: Asset Inventory alone lists them.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .front import Faults, Front, Request, Response

_JSON = {"Content-Type": "application/json; charset=UTF-8"}
_GENERATE_TOKEN = re.compile(r"^/v1/projects/-/serviceAccounts/([^/:]+):generateAccessToken$")
_API_HOST = "https://www.googleapis.com"

#: API name -> the host name Google's errors and asset names use.
SERVICE_HOSTS = {
    "cloudresourcemanager": "cloudresourcemanager.googleapis.com",
    "cloudasset": "cloudasset.googleapis.com",
    "storage": "storage.googleapis.com",
    "compute": "compute.googleapis.com",
    "sqladmin": "sqladmin.googleapis.com",
    "bigquery": "bigquery.googleapis.com",
    "container": "container.googleapis.com",
    "run": "run.googleapis.com",
    "cloudfunctions": "cloudfunctions.googleapis.com",
    "pubsub": "pubsub.googleapis.com",
    "orgpolicy": "orgpolicy.googleapis.com",
    "secretmanager": "secretmanager.googleapis.com",
    "spanner": "spanner.googleapis.com",
    "bigtableadmin": "bigtableadmin.googleapis.com",
    "firestore": "firestore.googleapis.com",
    "logging": "logging.googleapis.com",
    "cloudkms": "cloudkms.googleapis.com",
    "artifactregistry": "artifactregistry.googleapis.com",
    "redis": "redis.googleapis.com",
    "file": "file.googleapis.com",
    "dataproc": "dataproc.googleapis.com",
    "composer": "composer.googleapis.com",
    "aiplatform": "aiplatform.googleapis.com",
}

#: Locations every per-location list answers with (real ones list dozens), besides those in use.
BASE_REGIONS = ("europe-west1", "europe-west4", "us-central1")
#: Extra locations of the APIs that have multi-regions (Cloud KMS also has `global`).
EXTRA_LOCATIONS = {"cloudkms": ("global", "europe", "us"), "artifactregistry": ("europe", "us")}


def _number(*parts: str) -> int:
    """A numeric id that is the same in every run (`hash()` of a str is not, across processes)."""
    return int(hashlib.sha256("/".join(parts).encode()).hexdigest()[:15], 16)


def _host_service(headers: dict[str, str]) -> str | None:
    """The API a request is for, by its Host header (`spanner.googleapis.com`,
    `europe-west4-aiplatform.googleapis.com`): paths repeat across Google's APIs."""
    host = next((v for k, v in headers.items() if k.lower() == "host"), "").split(":")[0].lower()
    if not host.endswith(".googleapis.com"):
        return None
    return host.split(".", 1)[0].rsplit("-", 1)[-1]


@dataclass
class FakeProject:
    project_id: str
    number: str
    name: str
    parent: str  # folders/ID | organizations/ID | ""
    resources: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def items(self, collection: str) -> list[dict[str, Any]]:
        return self.resources.setdefault(collection, [])


@dataclass
class Rule:
    """A scripted error: `count` times (None: always) for requests of `service` in `scope`."""

    service: str
    status: int
    reason: str
    scope: str = "*"  # project id, project@location (per-location lists), organizations/ID, folders/ID, or *
    count: int | None = None


def _error(status: int, reason: str, message: str, service: str = "") -> Response:
    statuses = {
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        405: "METHOD_NOT_ALLOWED",
        429: "RESOURCE_EXHAUSTED",
    }
    err: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": statuses.get(status, "UNKNOWN"),
        "errors": [{"message": message, "domain": "global", "reason": reason.lower() or "error"}],
    }
    if reason:
        err["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {"service": SERVICE_HOSTS.get(service, service)},
            }
        ]
    headers = dict(_JSON)
    if status == 429:
        headers["Retry-After"] = "0"
    return Response(status, headers, json.dumps({"error": err}).encode())


def _fault_answer(req: Request, status: int) -> Response:
    """An injected fault (`Faults`) as Google answers it; Retry-After 0 keeps fault tests fast."""
    resp = _error(status, "RATE_LIMIT_EXCEEDED" if status == 429 else "", f"injected {status} fault")
    resp.headers["Retry-After"] = "0"
    return resp


class GcpEmulator:
    """The fake: an estate (organisations, folders, projects and their resources) behind a `Front`."""

    def __init__(self, page_size: int = 2, latency: float = 0.0, faults: Faults | None = None) -> None:
        self.page_size = page_size
        self.organizations: dict[str, str] = {}  # id -> display name
        self.folders: dict[str, tuple[str, str]] = {}  # id -> (display name, parent)
        self.projects: dict[str, FakeProject] = {}
        #: scopes (organizations/ID, folders/ID, projects/ID) where Cloud Asset Inventory is enabled
        self.asset_enabled: set[str] = set()
        #: folder ids that folders:search does not return (readable with folders.get only)
        self.unsearchable_folders: set[str] = set()
        #: False: searchAllResources results carry no versionedResources (as for some asset types)
        self.asset_versioned = True
        #: Org Policy v2: "organizations/ID" | "folders/ID" | "projects/NUMBER" -> constraint -> spec
        self.policies: dict[str, dict[str, dict[str, Any]]] = {}
        self.rules: list[Rule] = []
        self._lock = threading.Lock()
        # The front's upstream is never used: the hook answers every request.
        self.front = Front("127.0.0.1", 9, latency=latency, faults=faults)
        self.front.request_hooks.append(self._answer)
        self.front.fault_answer = _fault_answer  # injected faults in Google's own error format
        self.front.start()
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = [
            ("cloudresourcemanager", re.compile(r"^/v3/projects:search$"), self._projects_search),
            ("cloudresourcemanager", re.compile(r"^/v3/projects/([^/:]+)$"), self._project_get),
            ("cloudresourcemanager", re.compile(r"^/v3/folders:search$"), self._folders_search),
            ("cloudresourcemanager", re.compile(r"^/v3/folders/([^/:]+)$"), self._folder_get),
            ("cloudresourcemanager", re.compile(r"^/v3/organizations:search$"), self._orgs_search),
            (
                "cloudasset",
                re.compile(r"^/v1/((?:projects|folders|organizations)/[^/:]+):searchAllResources$"),
                self._asset_search,
            ),
            ("storage", re.compile(r"^/storage/v1/b$"), self._buckets),
            ("compute", re.compile(r"^/compute/v1/projects/([^/]+)/aggregated/(instances|disks)$"), self._aggregated),
            (
                "compute",
                re.compile(r"^/compute/v1/projects/([^/]+)/global/(snapshots|machineImages|images)$"),
                self._global,
            ),
            ("sqladmin", re.compile(r"^/v1/projects/([^/]+)/instances$"), self._sql),
            ("bigquery", re.compile(r"^/bigquery/v2/projects/([^/]+)/datasets$"), self._datasets),
            ("container", re.compile(r"^/v1/projects/([^/]+)/locations/-/clusters$"), self._clusters),
            ("run", re.compile(r"^/apis/serving\.knative\.dev/v1/namespaces/([^/]+)/services$"), self._run),
            ("cloudfunctions", re.compile(r"^/v2/projects/([^/]+)/locations/-/functions$"), self._functions),
            ("pubsub", re.compile(r"^/v1/projects/([^/]+)/topics$"), self._topics),
            (
                "pubsub",
                re.compile(r"^/v1/projects/([^/]+)/subscriptions$"),
                self._listing("subscriptions", "subscriptions"),
            ),
            ("secretmanager", re.compile(r"^/v1/projects/([^/]+)/secrets$"), self._listing("secrets", "secrets")),
            ("spanner", re.compile(r"^/v1/projects/([^/]+)/instances$"), self._listing("spanner", "instances")),
            ("spanner", re.compile(r"^/v1/projects/([^/]+)/instanceConfigs/([^/]+)$"), self._spanner_config),
            ("bigtableadmin", re.compile(r"^/v2/projects/([^/]+)/instances$"), self._listing("bigtable", "instances")),
            (
                "bigtableadmin",
                re.compile(r"^/v2/projects/([^/]+)/instances/-/clusters$"),
                self._listing("bigtableClusters", "clusters"),
            ),
            ("firestore", re.compile(r"^/v1/projects/([^/]+)/databases$"), self._firestore),
            (
                "logging",
                re.compile(r"^/v2/projects/([^/]+)/locations/-/buckets$"),
                self._listing("logBuckets", "buckets"),
            ),
            ("logging", re.compile(r"^/v2/projects/([^/]+)/sinks$"), self._listing("logSinks", "sinks")),
            ("cloudkms", re.compile(r"^/v1/projects/([^/]+)/locations$"), self._locations("cloudkms")),
            (
                "cloudkms",
                re.compile(r"^/v1/projects/([^/]+)/locations/([^/]+)/keyRings$"),
                self._located("keyRings", "keyRings"),
            ),
            ("artifactregistry", re.compile(r"^/v1/projects/([^/]+)/locations$"), self._locations("artifactregistry")),
            (
                "artifactregistry",
                re.compile(r"^/v1/projects/([^/]+)/locations/([^/]+)/repositories$"),
                self._located("repositories", "repositories"),
            ),
            ("redis", re.compile(r"^/v1/projects/([^/]+)/locations/-/instances$"), self._listing("redis", "instances")),
            (
                "file",
                re.compile(r"^/v1/projects/([^/]+)/locations/-/instances$"),
                self._listing("filestore", "instances"),
            ),
            (
                "file",
                re.compile(r"^/v1/projects/([^/]+)/locations/-/backups$"),
                self._listing("filestoreBackups", "backups"),
            ),
            ("compute", re.compile(r"^/compute/v1/projects/([^/]+)/regions$"), self._regions),
            ("dataproc", re.compile(r"^/v1/projects/([^/]+)/regions/([^/]+)/clusters$"), self._dataproc),
            (
                "composer",
                re.compile(r"^/v1/projects/([^/]+)/locations/([^/]+)/environments$"),
                self._located("composer", "environments"),
            ),
            ("aiplatform", re.compile(r"^/v1/projects/([^/]+)/locations$"), self._locations("aiplatform")),
            (
                "aiplatform",
                re.compile(r"^/v1/projects/([^/]+)/locations/([^/]+)/datasets$"),
                self._located("vertexDatasets", "datasets"),
            ),
            (
                "aiplatform",
                re.compile(r"^/v1/projects/([^/]+)/locations/([^/]+)/endpoints$"),
                self._located("vertexEndpoints", "endpoints"),
            ),
            (
                "orgpolicy",
                re.compile(r"^/v2/((?:projects|folders|organizations)/[^/:]+)/policies/([^/:]+)$"),
                self._org_policy,
            ),
        ]

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return self.front.url

    @property
    def log(self) -> list[Request]:
        return self.front.log

    def stop(self) -> None:
        self.front.stop()

    def reset(self) -> None:
        self.organizations.clear()
        self.folders.clear()
        self.projects.clear()
        self.asset_enabled.clear()
        self.unsearchable_folders.clear()
        self.asset_versioned = True
        self.policies.clear()
        self.rules.clear()
        self.front.clear_log()

    # ------------------------------------------------------------------ building the estate

    def organization(self, org_id: str, name: str) -> str:
        self.organizations[org_id] = name
        return f"organizations/{org_id}"

    def folder(self, folder_id: str, name: str, parent: str) -> str:
        self.folders[folder_id] = (name, parent)
        return f"folders/{folder_id}"

    def project(self, project_id: str, number: str, name: str = "", parent: str = "") -> FakeProject:
        p = FakeProject(project_id, number, name or project_id, parent)
        self.projects[project_id] = p
        return p

    def _link(self, p: FakeProject, *path: str) -> str:
        return f"{_API_HOST}/compute/v1/projects/{p.project_id}/" + "/".join(path)

    def bucket(
        self,
        p: FakeProject,
        name: str,
        location: str,
        location_type: str = "region",
        data_locations: list[str] | None = None,
        turbo: bool = False,
        labels: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        b: dict[str, Any] = {
            "kind": "storage#bucket",
            "id": name,
            "name": name,
            "projectNumber": p.number,
            "location": location.upper(),
            "locationType": location_type,
            "storageClass": "STANDARD",
            "timeCreated": "2026-01-05T10:00:00.000Z",
        }
        if data_locations:
            b["customPlacementConfig"] = {"dataLocations": [d.upper() for d in data_locations]}
        if location_type == "dual-region":
            b["rpo"] = "ASYNC_TURBO" if turbo else "DEFAULT"
        if labels:
            b["labels"] = labels
        p.items("buckets").append(b)
        return b

    def instance(
        self,
        p: FakeProject,
        name: str,
        zone: str,
        labels: dict[str, str] | None = None,
        data_disks: list[dict[str, Any]] = [],  # noqa: B006 - never mutated
    ) -> dict[str, Any]:
        """A VM and its boot disk (as Compute Engine creates them, from a public image), and any
        further disks attached to it."""
        disk = self.disk(p, name, zone)
        disk["sourceImage"] = f"{_API_HOST}/compute/v1/projects/debian-cloud/global/images/debian-12-bookworm-v20260105"
        attached = [{"boot": True, "mode": "READ_WRITE", "source": disk["selfLink"]}]
        attached += [{"boot": False, "mode": "READ_WRITE", "source": d["selfLink"]} for d in data_disks]
        inst = {
            "kind": "compute#instance",
            "id": str(abs(hash((p.project_id, name))) % 10**18),
            "name": name,
            "zone": self._link(p, "zones", zone),
            "machineType": self._link(p, "zones", zone, "machineTypes", "e2-small"),
            "status": "RUNNING",
            "disks": attached,
            "labels": labels or {},
            "selfLink": self._link(p, "zones", zone, "instances", name),
        }
        p.items("instances").append(inst)
        return inst

    def disk(
        self,
        p: FakeProject,
        name: str,
        zone: str,
        labels: dict[str, str] | None = None,
        source_snapshot: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        d: dict[str, Any] = {
            "kind": "compute#disk",
            "name": name,
            "sizeGb": "10",
            "zone": self._link(p, "zones", zone),
            "selfLink": self._link(p, "zones", zone, "disks", name),
        }
        if labels:
            d["labels"] = labels
        if source_snapshot:
            d["sourceSnapshot"] = source_snapshot["selfLink"]
        p.items("disks").append(d)
        return d

    def regional_disk(self, p: FakeProject, name: str, region: str, zones: list[str]) -> dict[str, Any]:
        d = {
            "kind": "compute#disk",
            "name": name,
            "sizeGb": "10",
            "region": self._link(p, "regions", region),
            "replicaZones": [self._link(p, "zones", z) for z in zones],
            "selfLink": self._link(p, "regions", region, "disks", name),
        }
        p.items("disks").append(d)
        return d

    def snapshot(self, p: FakeProject, name: str, source_disk: dict[str, Any], storage: list[str]) -> dict[str, Any]:
        s = {
            "kind": "compute#snapshot",
            "name": name,
            "sourceDisk": source_disk["selfLink"],
            "storageLocations": storage,
            "status": "READY",
            "selfLink": self._link(p, "global", "snapshots", name),
        }
        p.items("snapshots").append(s)
        return s

    def image(
        self, p: FakeProject, name: str, source: dict[str, Any], storage: list[str], key: str = "sourceDisk"
    ) -> dict[str, Any]:
        """An image made from a disk (`key` sourceDisk), a snapshot (sourceSnapshot) or an image (sourceImage)."""
        i = {
            "kind": "compute#image",
            "name": name,
            key: source["selfLink"],
            "storageLocations": storage,
            "status": "READY",
            "selfLink": self._link(p, "global", "images", name),
        }
        p.items("images").append(i)
        return i

    def machine_image(self, p: FakeProject, name: str, source: dict[str, Any], storage: list[str]) -> dict[str, Any]:
        m = {
            "kind": "compute#machineImage",
            "name": name,
            "sourceInstance": source["selfLink"],
            "storageLocations": storage,
            "status": "READY",
            "selfLink": self._link(p, "global", "machineImages", name),
        }
        p.items("machineImages").append(m)
        return m

    def sql(
        self,
        p: FakeProject,
        name: str,
        region: str,
        master: str | None = None,
        backup_location: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        inst: dict[str, Any] = {
            "kind": "sql#instance",
            "name": name,
            "project": p.project_id,
            "region": region,
            "gceZone": f"{region}-b",
            "databaseVersion": "POSTGRES_16",
            "instanceType": "READ_REPLICA_INSTANCE" if master else "CLOUD_SQL_INSTANCE",
            "state": "RUNNABLE",
            "settings": {
                "tier": "db-custom-1-3840",
                "backupConfiguration": {
                    "enabled": not master,
                    **({"location": backup_location} if backup_location else {}),
                },
                **({"userLabels": labels} if labels else {}),
            },
        }
        if master:
            inst["masterInstanceName"] = f"{p.project_id}:{master}"
            for other in p.items("sql"):
                if other["name"] == master:
                    other.setdefault("replicaNames", []).append(name)
        p.items("sql").append(inst)
        return inst

    def dataset(
        self, p: FakeProject, dataset_id: str, location: str, labels: dict[str, str] | None = None
    ) -> dict[str, Any]:
        d: dict[str, Any] = {
            "kind": "bigquery#dataset",
            "id": f"{p.project_id}:{dataset_id}",
            "datasetReference": {"datasetId": dataset_id, "projectId": p.project_id},
            "location": location,
        }
        if labels:
            d["labels"] = labels
        p.items("datasets").append(d)
        return d

    def cluster(self, p: FakeProject, name: str, location: str, node_zones: list[str]) -> dict[str, Any]:
        kind = "zones" if re.search(r"-[a-z]$", location) else "locations"
        c = {
            "name": name,
            "location": location,
            "locations": node_zones,
            "status": "RUNNING",
            "selfLink": f"https://container.googleapis.com/v1/projects/{p.project_id}/{kind}/{location}/clusters/{name}",
        }
        p.items("clusters").append(c)
        return c

    def run_service(self, p: FakeProject, name: str, region: str) -> dict[str, Any]:
        s = {
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Service",
            "metadata": {
                "name": name,
                "namespace": p.number,
                "labels": {"cloud.googleapis.com/location": region},
                "selfLink": f"/apis/serving.knative.dev/v1/namespaces/{p.number}/services/{name}",
            },
            "status": {"url": f"https://{name}-{p.number}.{region}.run.app"},
        }
        p.items("run").append(s)
        return s

    def function(self, p: FakeProject, name: str, region: str, environment: str = "GEN_2") -> dict[str, Any]:
        f = {
            "name": f"projects/{p.project_id}/locations/{region}/functions/{name}",
            "environment": environment,
            "state": "ACTIVE",
        }
        p.items("functions").append(f)
        return f

    def topic(
        self, p: FakeProject, name: str, regions: list[str] | None = None, labels: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """A Pub/Sub topic; `regions`: its message storage policy (None: no policy, any region)."""
        t: dict[str, Any] = {"name": f"projects/{p.project_id}/topics/{name}"}
        if regions is not None:
            t["messageStoragePolicy"] = {"allowedPersistenceRegions": regions}
        if labels:
            t["labels"] = labels
        p.items("topics").append(t)
        return t

    def subscription(
        self,
        p: FakeProject,
        name: str,
        topic: dict[str, Any] | str,
        bigquery_table: str | None = None,
        bucket: str | None = None,
    ) -> dict[str, Any]:
        """A Pub/Sub subscription; a BigQuery (`project.dataset.table`) or Cloud Storage one writes messages on."""
        sub: dict[str, Any] = {
            "name": f"projects/{p.project_id}/subscriptions/{name}",
            "topic": topic if isinstance(topic, str) else topic["name"],
            "ackDeadlineSeconds": 10,
            "messageRetentionDuration": "604800s",
            "state": "ACTIVE",
        }
        if bigquery_table:
            sub["bigqueryConfig"] = {"table": bigquery_table, "state": "ACTIVE"}
        if bucket:
            sub["cloudStorageConfig"] = {"bucket": bucket, "state": "ACTIVE"}
        p.items("subscriptions").append(sub)
        return sub

    def secret(
        self, p: FakeProject, name: str, replicas: list[str] | None = None, labels: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """A Secret Manager secret; `replicas`: user-managed replica locations (None: automatic)."""
        replication: dict[str, Any] = (
            {"userManaged": {"replicas": [{"location": r} for r in replicas]}} if replicas else {"automatic": {}}
        )
        s = {
            "name": f"projects/{p.number}/secrets/{name}",  # the API names the project by number
            "replication": replication,
            "createTime": "2026-01-05T10:00:00.000000Z",
            "etag": '"16a9f2d0e1b2c3"',
            **({"labels": labels} if labels else {}),
        }
        p.items("secrets").append(s)
        return s

    def spanner_instance(
        self, p: FakeProject, name: str, config: str, custom_replicas: list[tuple[str, str]] | None = None
    ) -> dict[str, Any]:
        """A Spanner instance on `config` (`nam3`, `regional-europe-west4`, ...); a `custom-...`
        config gets an instanceConfigs entry with `custom_replicas` [(location, READ_WRITE|READ_ONLY|WITNESS)]."""
        if custom_replicas is not None:
            p.items("spannerConfigs").append(
                {
                    "name": f"projects/{p.project_id}/instanceConfigs/{config}",
                    "displayName": config,
                    "configType": "USER_MANAGED",
                    "replicas": [
                        {"location": loc, "type": kind, **({"defaultLeaderLocation": True} if i == 0 else {})}
                        for i, (loc, kind) in enumerate(custom_replicas)
                    ],
                    "state": "READY",
                }
            )
        inst = {
            "name": f"projects/{p.project_id}/instances/{name}",
            "config": f"projects/{p.project_id}/instanceConfigs/{config}",
            "displayName": name,
            "nodeCount": 1,
            "processingUnits": 1000,
            "state": "READY",
            "instanceType": "PROVISIONED",
            "edition": "STANDARD",
        }
        p.items("spanner").append(inst)
        return inst

    def bigtable_instance(self, p: FakeProject, name: str, zones: list[str]) -> dict[str, Any]:
        """A Bigtable instance with one cluster per zone (replication)."""
        inst = {
            "name": f"projects/{p.project_id}/instances/{name}",
            "displayName": name,
            "state": "READY",
            "type": "PRODUCTION",
        }
        p.items("bigtable").append(inst)
        for i, zone in enumerate(zones):
            p.items("bigtableClusters").append(
                {
                    "name": f"projects/{p.project_id}/instances/{name}/clusters/{name}-c{i + 1}",
                    "location": f"projects/{p.project_id}/locations/{zone}",
                    "state": "READY",
                    "serveNodes": 1,
                    "defaultStorageType": "SSD",
                }
            )
        return inst

    def firestore_database(
        self, p: FakeProject, name: str, location: str, mode: str = "FIRESTORE_NATIVE"
    ) -> dict[str, Any]:
        db = {
            "name": f"projects/{p.project_id}/databases/{name}",
            "uid": f"{_number(p.project_id, name) % 10**12:012d}",
            "locationId": location,
            "type": mode,
            "concurrencyMode": "PESSIMISTIC",
        }
        p.items("firestore").append(db)
        return db

    def log_buckets(self, p: FakeProject, location: str = "global") -> list[dict[str, Any]]:
        """The `_Default` and `_Required` log buckets every project has, and the sinks routing to them."""
        out = []
        for name, days, locked in (("_Default", 30, False), ("_Required", 400, True)):
            bucket = {
                "name": f"projects/{p.project_id}/locations/{location}/buckets/{name}",
                "retentionDays": days,
                "lifecycleState": "ACTIVE",
                **({"locked": True} if locked else {}),
            }
            p.items("logBuckets").append(bucket)
            self.log_sink(p, name, f"logging.googleapis.com/{bucket['name']}")
            out.append(bucket)
        return out

    def log_sink(self, p: FakeProject, name: str, destination: str) -> dict[str, Any]:
        sink = {
            "name": name,
            "destination": destination,
            "filter": "" if name != "_Required" else 'LOG_ID("cloudaudit.googleapis.com/activity")',
            "writerIdentity": f"serviceAccount:service-{p.number}@gcp-sa-logging.iam.gserviceaccount.com",
        }
        p.items("logSinks").append(sink)
        return sink

    def key_ring(self, p: FakeProject, name: str, location: str) -> dict[str, Any]:
        ring = {
            "name": f"projects/{p.project_id}/locations/{location}/keyRings/{name}",
            "createTime": "2026-01-05T10:00:00Z",
        }
        p.items("keyRings").append(ring)
        return ring

    def repository(self, p: FakeProject, name: str, location: str, fmt: str = "DOCKER") -> dict[str, Any]:
        repo = {
            "name": f"projects/{p.project_id}/locations/{location}/repositories/{name}",
            "format": fmt,
            "mode": "STANDARD_REPOSITORY",
            "sizeBytes": "1048576",
        }
        p.items("repositories").append(repo)
        return repo

    def redis_instance(
        self, p: FakeProject, name: str, zone: str, standby: str | None = None, read_replicas: int = 0
    ) -> dict[str, Any]:
        """Memorystore for Redis: Basic tier in `zone`; Standard tier with a standby in `standby`."""
        region = zone.rsplit("-", 1)[0]
        nodes = [{"id": "node-0", "zone": zone}] + ([{"id": "node-1", "zone": standby}] if standby else [])
        inst: dict[str, Any] = {
            "name": f"projects/{p.project_id}/locations/{region}/instances/{name}",
            "locationId": zone,
            "redisVersion": "REDIS_7_0",
            "tier": "STANDARD_HA" if standby else "BASIC",
            "memorySizeGb": 1,
            "state": "READY",
            "nodes": nodes,
        }
        if standby:
            inst["alternativeLocationId"] = standby
        if read_replicas:
            inst["readReplicasMode"] = "READ_REPLICAS_ENABLED"
            inst["replicaCount"] = read_replicas
        p.items("redis").append(inst)
        return inst

    def filestore_instance(self, p: FakeProject, name: str, location: str) -> dict[str, Any]:
        inst = {
            "name": f"projects/{p.project_id}/locations/{location}/instances/{name}",
            "tier": "BASIC_HDD",
            "state": "READY",
            "fileShares": [{"name": "vol1", "capacityGb": "1024"}],
        }
        p.items("filestore").append(inst)
        return inst

    def filestore_backup(self, p: FakeProject, name: str, region: str, source: dict[str, Any]) -> dict[str, Any]:
        backup = {
            "name": f"projects/{p.project_id}/locations/{region}/backups/{name}",
            "sourceInstance": source["name"],
            "sourceFileShare": "vol1",
            "state": "READY",
            "sourceInstanceTier": source.get("tier", "BASIC_HDD"),
        }
        p.items("filestoreBackups").append(backup)
        return backup

    def dataproc_cluster(self, p: FakeProject, name: str, region: str, zone: str | None = None) -> dict[str, Any]:
        zone = zone or f"{region}-b"
        cluster = {
            "projectId": p.project_id,
            "clusterName": name,
            "config": {
                "configBucket": f"dataproc-staging-{region}-{p.number}",
                "gceClusterConfig": {"zoneUri": self._link(p, "zones", zone)},
            },
            "labels": {
                "goog-dataproc-cluster-name": name,
                "goog-dataproc-location": region,
            },
            "status": {"state": "RUNNING"},
            "clusterUuid": f"{_number(p.project_id, name) % 10**12:012d}",
        }
        p.items("dataproc").append(cluster)
        return cluster

    def composer_environment(self, p: FakeProject, name: str, region: str) -> dict[str, Any]:
        env = {
            "name": f"projects/{p.project_id}/locations/{region}/environments/{name}",
            "config": {
                "gkeCluster": f"projects/{p.project_id}/locations/{region}/clusters/{region}-{name}-gke",
                "dagGcsPrefix": f"gs://{region}-{name}-bucket/dags",
            },
            "state": "RUNNING",
        }
        p.items("composer").append(env)
        return env

    def vertex_dataset(self, p: FakeProject, name: str, region: str) -> dict[str, Any]:
        ds = {
            "name": f"projects/{p.number}/locations/{region}/datasets/{_number(p.number, name) % 10**15}",
            "displayName": name,
            "metadataSchemaUri": "gs://google-cloud-aiplatform/schema/dataset/metadata/tabular_1.0.0.yaml",
        }
        p.items("vertexDatasets").append(ds)
        return ds

    def vertex_endpoint(self, p: FakeProject, name: str, region: str) -> dict[str, Any]:
        ep = {
            "name": f"projects/{p.number}/locations/{region}/endpoints/{_number(p.number, name) % 10**15}",
            "displayName": name,
        }
        p.items("vertexEndpoints").append(ep)
        return ep

    def asset(self, p: FakeProject, asset_type: str, relative: str, location: str) -> dict[str, Any]:
        """A resource of a type no kind reads: only Cloud Asset Inventory lists it."""
        host = asset_type.split("/", 1)[0]
        a = {"assetType": asset_type, "name": f"//{host}/{relative}", "location": location}
        p.items("assets").append(a)
        return a

    def org_policy(self, node: str, spec: dict[str, Any], constraint: str = "gcp.resourceLocations") -> None:
        """Set an Org Policy v2 policy (`spec`) on organizations/ID, folders/ID or projects/ID|NUMBER."""
        kind, _, ident = node.partition("/")
        if kind == "projects":
            p = self._project(ident)
            node = f"projects/{p.number}" if p else node
        self.policies.setdefault(node, {})[constraint] = spec

    def fail(self, service: str, status: int, reason: str = "", scope: str = "*", count: int | None = None) -> Rule:
        """Script an error answer for a service (optionally in one scope, for `count` requests)."""
        rule = Rule(service, status, reason, scope, count)
        self.rules.append(rule)
        return rule

    # ------------------------------------------------------------------ serving

    def _answer(self, req: Request) -> Response:
        url = urlsplit(req.path)
        query = parse_qs(url.query)
        m = _GENERATE_TOKEN.match(url.path)
        if req.method == "POST" and m:
            return self._generate_access_token(req, m.group(1))
        if req.method != "GET":
            return _error(405, "", f"{req.method} is not served by this fake (it is read-only)")
        meant = _host_service(req.headers)
        for service, pattern, handler in self._routes:
            m = pattern.match(url.path)
            if m is None or (meant is not None and service != meant):
                continue
            scope = self._scope_of(service, m, query)
            scripted = self._scripted(service, scope)
            if scripted is not None:
                return scripted
            return handler(query, *m.groups())
        return _error(404, "", f"no such API path: {url.path}")

    def _generate_access_token(self, req: Request, principal: str) -> Response:
        """IAM Credentials for impersonation: a token naming the principal (bearer of any JWT may ask)."""
        auth = next((v for k, v in req.headers.items() if k.lower() == "authorization"), "")
        if not auth.startswith("Bearer "):
            return _error(401, "", "Request is missing required authentication credential.", "iamcredentials")
        body = {"accessToken": f"ya29.fake-{principal}", "expireTime": "2099-01-01T00:00:00Z"}
        return self._reply(body)

    def _scope_of(self, service: str, m: re.Match[str], query: dict[str, list[str]]) -> str:
        if service == "storage":
            return query.get("project", [""])[0]
        if service == "cloudasset":
            return m.group(1)
        if service == "run":  # namespaces may be a project number
            ns = m.group(1)
            return next((p.project_id for p in self.projects.values() if ns in (p.number, p.project_id)), ns)
        if service in ("cloudkms", "artifactregistry", "dataproc", "composer", "aiplatform") and len(m.groups()) == 2:
            return f"{m.group(1)}@{m.group(2)}"  # one location of a project: `fail(scope="p@loc")`, or the project
        return m.group(1) if m.groups() else ""

    def _scripted(self, service: str, scope: str) -> Response | None:
        with self._lock:
            for rule in self.rules:
                if rule.service != service or rule.scope not in ("*", scope, scope.split("@")[0]):
                    continue
                if rule.count is not None:
                    if rule.count <= 0:
                        continue
                    rule.count -= 1
                return _error(rule.status, rule.reason, f"scripted {rule.status} for {service} in {scope}", service)
        if service == "cloudasset" and scope not in self.asset_enabled:
            return _error(
                403,
                "SERVICE_DISABLED",
                "Cloud Asset API has not been used in this project before or it is disabled.",
                service,
            )
        return None

    def _page(
        self,
        items: list[Any],
        query: dict[str, list[str]],
        size_param: str = "pageSize",
        token_param: str = "pageToken",
    ) -> tuple[list[Any], str]:
        start = int(query.get(token_param, ["0"])[0] or 0)
        asked = int(query.get(size_param, [str(self.page_size)])[0] or self.page_size)
        size = max(1, min(asked, self.page_size))
        page = items[start : start + size]
        token = str(start + size) if start + size < len(items) else ""
        return page, token

    def _reply(self, doc: dict[str, Any], token: str = "", token_key: str = "nextPageToken") -> Response:
        if token:
            doc[token_key] = token
        return Response(200, dict(_JSON), json.dumps(doc).encode())

    def _project_doc(self, p: FakeProject) -> dict[str, Any]:
        return {
            "name": f"projects/{p.number}",
            "projectId": p.project_id,
            "displayName": p.name,
            "parent": p.parent,
            "state": "ACTIVE",
        }

    def _projects_search(self, query: dict[str, list[str]]) -> Response:
        page, token = self._page(list(self.projects.values()), query)
        return self._reply({"projects": [self._project_doc(p) for p in page]}, token)

    def _project_get(self, query: dict[str, list[str]], ident: str) -> Response:
        for p in self.projects.values():
            if ident in (p.project_id, p.number):
                return self._reply(self._project_doc(p))
        return _error(403, "", f"Permission denied on resource project {ident} (or it may not exist)")

    def _folders_search(self, query: dict[str, list[str]]) -> Response:
        folders = [
            {"name": f"folders/{fid}", "displayName": name, "parent": parent, "state": "ACTIVE"}
            for fid, (name, parent) in self.folders.items()
            if fid not in self.unsearchable_folders
        ]
        page, token = self._page(folders, query)
        return self._reply({"folders": page}, token)

    def _folder_get(self, query: dict[str, list[str]], ident: str) -> Response:
        if ident in self.folders:
            name, parent = self.folders[ident]
            return self._reply({"name": f"folders/{ident}", "displayName": name, "parent": parent, "state": "ACTIVE"})
        return _error(403, "", f"Permission denied on folder {ident}")

    def _orgs_search(self, query: dict[str, list[str]]) -> Response:
        orgs = [
            {"name": f"organizations/{oid}", "displayName": name, "state": "ACTIVE"}
            for oid, name in self.organizations.items()
        ]
        page, token = self._page(orgs, query)
        return self._reply({"organizations": page}, token)

    def _project(self, ident: str) -> FakeProject | None:
        return next((p for p in self.projects.values() if ident in (p.project_id, p.number)), None)

    def _not_found(self, ident: str) -> Response:
        return _error(403, "", f"The caller does not have permission on project {ident}")

    def _buckets(self, query: dict[str, list[str]]) -> Response:
        p = self._project(query.get("project", [""])[0])
        if p is None:
            return self._not_found(query.get("project", [""])[0])
        page, token = self._page(p.items("buckets"), query, size_param="maxResults")
        return self._reply({"kind": "storage#buckets", "items": page}, token)

    def _aggregated(self, query: dict[str, list[str]], ident: str, collection: str) -> Response:
        p = self._project(ident)
        if p is None:
            return self._not_found(ident)
        page, token = self._page(p.items(collection), query, size_param="maxResults")
        grouped: dict[str, dict[str, Any]] = {}
        for item in page:
            scope = "/".join(str(item.get("zone") or item.get("region")).split("/")[-2:])
            grouped.setdefault(scope, {collection: []})[collection].append(item)
        # Real aggregated lists also name the scopes that have nothing, with a warning.
        grouped.setdefault(
            "zones/us-central1-a",
            {
                "warning": {
                    "code": "NO_RESULTS_ON_PAGE",
                    "message": "There are no results for scope 'zones/us-central1-a'",
                }
            },
        )
        return self._reply({"kind": f"compute#{collection[:-1]}AggregatedList", "items": grouped}, token)

    def _global(self, query: dict[str, list[str]], ident: str, collection: str) -> Response:
        p = self._project(ident)
        if p is None:
            return self._not_found(ident)
        page, token = self._page(p.items(collection), query, size_param="maxResults")
        return self._reply({"kind": f"compute#{collection[:-1]}List", "items": page}, token)

    def _sql(self, query: dict[str, list[str]], ident: str) -> Response:
        p = self._project(ident)
        if p is None:
            return self._not_found(ident)
        page, token = self._page(p.items("sql"), query, size_param="maxResults")
        return self._reply({"kind": "sql#instancesList", "items": page}, token)

    def _datasets(self, query: dict[str, list[str]], ident: str) -> Response:
        p = self._project(ident)
        if p is None:
            return self._not_found(ident)
        page, token = self._page(p.items("datasets"), query, size_param="maxResults")
        return self._reply({"kind": "bigquery#datasetList", "datasets": page}, token)

    def _clusters(self, query: dict[str, list[str]], ident: str) -> Response:
        p = self._project(ident)
        if p is None:
            return self._not_found(ident)
        return self._reply({"clusters": p.items("clusters")})  # not paged, as in GKE

    def _run(self, query: dict[str, list[str]], ident: str) -> Response:
        p = self._project(ident)
        if p is None:
            return self._not_found(ident)
        page, token = self._page(p.items("run"), query, size_param="limit", token_param="continue")
        doc: dict[str, Any] = {"apiVersion": "serving.knative.dev/v1", "kind": "ServiceList", "items": page}
        doc["metadata"] = {"continue": token} if token else {}
        return self._reply(doc)

    def _functions(self, query: dict[str, list[str]], ident: str) -> Response:
        p = self._project(ident)
        if p is None:
            return self._not_found(ident)
        page, token = self._page(p.items("functions"), query)
        return self._reply({"functions": page}, token)

    def _topics(self, query: dict[str, list[str]], ident: str) -> Response:
        p = self._project(ident)
        if p is None:
            return self._not_found(ident)
        page, token = self._page(p.items("topics"), query)
        return self._reply({"topics": page}, token)

    def _listing(self, collection: str, key: str) -> Callable[..., Response]:
        """A project-wide paged list (`{key: [...], nextPageToken}`)."""

        def answer(query: dict[str, list[str]], ident: str) -> Response:
            p = self._project(ident)
            if p is None:
                return self._not_found(ident)
            page, token = self._page(p.items(collection), query)
            return self._reply({key: page}, token)

        return answer

    def _located(self, collection: str, key: str) -> Callable[..., Response]:
        """A per-location paged list: the items whose name is under `locations/<loc>/`."""

        def answer(query: dict[str, list[str]], ident: str, loc: str) -> Response:
            p = self._project(ident)
            if p is None:
                return self._not_found(ident)
            mine = [i for i in p.items(collection) if f"/locations/{loc}/" in str(i.get("name", ""))]
            page, token = self._page(mine, query)
            return self._reply({key: page}, token)

        return answer

    def _used_locations(self, p: FakeProject, *collections: str) -> set[str]:
        used = set()
        for collection in collections:
            for item in p.items(collection):
                name = str(item.get("name") or "")
                m = re.search(r"/locations/([^/]+)/", name)
                used.add(m.group(1) if m else str(item.get("labels", {}).get("goog-dataproc-location", "")))
        return {u for u in used if u}

    def _locations(self, service: str) -> Callable[..., Response]:
        """`projects.locations.list` of an API: the base regions, its multi-regions, and those in use."""
        collections = {
            "cloudkms": ("keyRings",),
            "artifactregistry": ("repositories",),
            "aiplatform": ("vertexDatasets", "vertexEndpoints"),
        }[service]

        def answer(query: dict[str, list[str]], ident: str) -> Response:
            p = self._project(ident)
            if p is None:
                return self._not_found(ident)
            codes = sorted({*BASE_REGIONS, *EXTRA_LOCATIONS.get(service, ()), *self._used_locations(p, *collections)})
            items = [
                {"name": f"projects/{p.project_id}/locations/{c}", "locationId": c, "displayName": c} for c in codes
            ]
            page, token = self._page(items, query)
            return self._reply({"locations": page}, token)

        return answer

    def _regions(self, query: dict[str, list[str]], ident: str) -> Response:
        """Compute Engine `regions.list`: the base regions and those Dataproc and Composer use."""
        p = self._project(ident)
        if p is None:
            return self._not_found(ident)
        codes = sorted({*BASE_REGIONS, *self._used_locations(p, "dataproc", "composer")})
        items = [
            {"kind": "compute#region", "name": c, "status": "UP", "selfLink": self._link(p, "regions", c)}
            for c in codes
        ]
        page, token = self._page(items, query, size_param="maxResults")
        return self._reply({"kind": "compute#regionList", "items": page}, token)

    def _spanner_config(self, query: dict[str, list[str]], ident: str, config: str) -> Response:
        p = self._project(ident)
        if p is None:
            return self._not_found(ident)
        for c in p.items("spannerConfigs"):
            if c["name"].endswith(f"/instanceConfigs/{config}"):
                return self._reply(dict(c))
        return _error(404, "", f"Instance config projects/{ident}/instanceConfigs/{config} not found", "spanner")

    def _firestore(self, query: dict[str, list[str]], ident: str) -> Response:
        p = self._project(ident)
        if p is None:
            return self._not_found(ident)
        return self._reply({"databases": p.items("firestore")})  # not paged, as in Firestore

    def _dataproc(self, query: dict[str, list[str]], ident: str, region: str) -> Response:
        p = self._project(ident)
        if p is None:
            return self._not_found(ident)
        mine = [c for c in p.items("dataproc") if c["labels"].get("goog-dataproc-location") == region]
        page, token = self._page(mine, query)
        return self._reply({"clusters": page}, token)

    def _org_policy(self, query: dict[str, list[str]], node: str, constraint: str) -> Response:
        """policies.get: the policy set on exactly this node; NOT_FOUND when none is (as in the API)."""
        kind, _, ident = node.partition("/")
        if kind == "projects":
            p = self._project(ident)
            if p is None:
                return self._not_found(ident)
            node = f"projects/{p.number}"
        elif (kind == "folders" and ident not in self.folders) or (
            kind == "organizations" and ident not in self.organizations
        ):
            return _error(403, "", f"Permission denied on resource '{node}' (or it may not exist)", "orgpolicy")
        spec = self.policies.get(node, {}).get(constraint)
        if spec is None:
            return _error(404, "", f"Requested entity was not found: {node}/policies/{constraint}", "orgpolicy")
        body = {"etag": "BwX0fake", "updateTime": "2026-11-02T09:00:00Z", **spec}
        return self._reply({"name": f"{node}/policies/{constraint}", "spec": body})

    # ------------------------------------------------------------------ Cloud Asset Inventory

    def _in_scope(self, p: FakeProject, scope: str) -> bool:
        kind, _, ident = scope.partition("/")
        if kind == "projects":
            return ident in (p.project_id, p.number)
        return scope in self._ancestors(p)

    def _ancestors(self, p: FakeProject) -> list[str]:
        out, parent = [], p.parent
        while parent:
            out.append(parent)
            kind, _, ident = parent.partition("/")
            parent = self.folders.get(ident, ("", ""))[1] if kind == "folders" else ""
        return out

    def _asset_search(self, query: dict[str, list[str]], scope: str) -> Response:
        wanted = set(query.get("assetTypes", []))
        full = "*" in (query.get("readMask") or [""])[0] or "versionedResources" in (query.get("readMask") or [""])[0]
        results = []
        for p in self.projects.values():
            if not self._in_scope(p, scope):
                continue
            for asset_type, collection, name_of, location_of in _ASSET_VIEWS:
                if wanted and asset_type not in wanted:
                    continue
                for item in p.items(collection):
                    ancestors = self._ancestors(p)
                    result: dict[str, Any] = {
                        "name": name_of(p, item),
                        "assetType": asset_type,
                        "project": f"projects/{p.number}",
                        "displayName": item.get("name", "").split("/")[-1] or item.get("metadata", {}).get("name", ""),
                        "location": location_of(item),
                        "folders": [a for a in ancestors if a.startswith("folders/")],
                        "organization": next((a for a in ancestors if a.startswith("organizations/")), ""),
                        "parentFullResourceName": f"//cloudresourcemanager.googleapis.com/projects/{p.number}",
                    }
                    if full and self.asset_versioned:
                        result["versionedResources"] = [{"version": "v1", "resource": item}]
                    results.append(result)
            for item in p.items("assets"):  # types no kind of the scanner reads
                if wanted and item["assetType"] not in wanted:
                    continue
                ancestors = self._ancestors(p)
                results.append(
                    {
                        "name": item["name"],
                        "assetType": item["assetType"],
                        "project": f"projects/{p.number}",
                        "displayName": item["name"].rsplit("/", 1)[-1],
                        "location": item["location"],
                        "folders": [a for a in ancestors if a.startswith("folders/")],
                        "organization": next((a for a in ancestors if a.startswith("organizations/")), ""),
                        "parentFullResourceName": f"//cloudresourcemanager.googleapis.com/projects/{p.number}",
                    }
                )
        page, token = self._page(results, query)
        return self._reply({"results": page}, token)


def _loc_zone_or_region(item: dict[str, Any]) -> str:
    return str(item.get("zone") or item.get("region") or "").split("/")[-1]


def _compute_name(p: FakeProject, item: dict[str, Any]) -> str:
    return "//compute.googleapis.com/projects/" + str(item["selfLink"]).split("/projects/", 1)[1]


def _full(service: str) -> Callable[[FakeProject, dict[str, Any]], str]:
    """The full resource name of an item whose `name` is its relative name."""
    host = SERVICE_HOSTS[service]
    return lambda p, item: f"//{host}/{item['name']}"


def _tail(name: str) -> str:
    return str(name).rsplit("/", 1)[-1]


def _loc_of(item: dict[str, Any]) -> str:
    m = re.search(r"/locations/([^/]+)/", str(item["name"]))
    return m.group(1) if m else ""


#: (asset type, estate collection, full resource name, location) for searchAllResources.
_ASSET_VIEWS: list[tuple[str, str, Callable[[FakeProject, dict[str, Any]], str], Callable[[dict[str, Any]], str]]] = [
    (
        "storage.googleapis.com/Bucket",
        "buckets",
        lambda p, b: f"//storage.googleapis.com/{b['name']}",
        lambda b: str(b["location"]).lower(),
    ),
    ("compute.googleapis.com/Instance", "instances", _compute_name, _loc_zone_or_region),
    ("compute.googleapis.com/Disk", "disks", _compute_name, _loc_zone_or_region),
    ("compute.googleapis.com/Snapshot", "snapshots", _compute_name, lambda s: ",".join(s["storageLocations"])),
    ("compute.googleapis.com/MachineImage", "machineImages", _compute_name, lambda s: ",".join(s["storageLocations"])),
    ("compute.googleapis.com/Image", "images", _compute_name, lambda s: ",".join(s["storageLocations"])),
    (
        "sqladmin.googleapis.com/Instance",
        "sql",
        lambda p, s: f"//cloudsql.googleapis.com/projects/{p.project_id}/instances/{s['name']}",
        lambda s: str(s["region"]),
    ),
    (
        "bigquery.googleapis.com/Dataset",
        "datasets",
        lambda p, d: f"//bigquery.googleapis.com/projects/{p.project_id}/datasets/{d['datasetReference']['datasetId']}",
        lambda d: str(d["location"]).lower(),
    ),
    (
        "container.googleapis.com/Cluster",
        "clusters",
        lambda p, c: (
            f"//container.googleapis.com/projects/{p.project_id}/locations/{c['location']}/clusters/{c['name']}"
        ),
        lambda c: str(c["location"]),
    ),
    (
        "run.googleapis.com/Service",
        "run",
        lambda p, s: (
            f"//run.googleapis.com/projects/{p.project_id}/locations/"
            f"{s['metadata']['labels']['cloud.googleapis.com/location']}/services/{s['metadata']['name']}"
        ),
        lambda s: str(s["metadata"]["labels"]["cloud.googleapis.com/location"]),
    ),
    (
        "cloudfunctions.googleapis.com/CloudFunction",
        "functions",
        lambda p, f: f"//cloudfunctions.googleapis.com/{f['name']}",
        lambda f: str(f["name"]).split("/")[3],
    ),
    # Topics are global resources to Asset Inventory; where messages are stored is the storage policy.
    ("pubsub.googleapis.com/Topic", "topics", lambda p, t: f"//pubsub.googleapis.com/{t['name']}", lambda t: "global"),
    ("pubsub.googleapis.com/Subscription", "subscriptions", _full("pubsub"), lambda s: "global"),
    ("secretmanager.googleapis.com/Secret", "secrets", _full("secretmanager"), lambda s: "global"),
    ("spanner.googleapis.com/Instance", "spanner", _full("spanner"), lambda i: str(i["config"]).rsplit("/", 1)[-1]),
    ("bigtableadmin.googleapis.com/Instance", "bigtable", _full("bigtableadmin"), lambda i: "global"),
    (
        "bigtableadmin.googleapis.com/Cluster",
        "bigtableClusters",
        _full("bigtableadmin"),
        lambda c: _tail(c["location"]),
    ),
    ("firestore.googleapis.com/Database", "firestore", _full("firestore"), lambda d: str(d["locationId"])),
    ("logging.googleapis.com/LogBucket", "logBuckets", _full("logging"), lambda b: _loc_of(b)),
    (
        "logging.googleapis.com/LogSink",
        "logSinks",
        lambda p, s: f"//logging.googleapis.com/projects/{p.project_id}/sinks/{s['name']}",
        lambda s: "global",
    ),
    ("cloudkms.googleapis.com/KeyRing", "keyRings", _full("cloudkms"), _loc_of),
    ("artifactregistry.googleapis.com/Repository", "repositories", _full("artifactregistry"), _loc_of),
    ("redis.googleapis.com/Instance", "redis", _full("redis"), lambda i: str(i["locationId"])),
    ("file.googleapis.com/Instance", "filestore", _full("file"), _loc_of),
    ("file.googleapis.com/Backup", "filestoreBackups", _full("file"), _loc_of),
    (
        "dataproc.googleapis.com/Cluster",
        "dataproc",
        lambda p, c: (
            f"//dataproc.googleapis.com/projects/{p.project_id}/regions/"
            f"{c['labels']['goog-dataproc-location']}/clusters/{c['clusterName']}"
        ),
        lambda c: str(c["labels"]["goog-dataproc-location"]),
    ),
    ("composer.googleapis.com/Environment", "composer", _full("composer"), _loc_of),
    ("aiplatform.googleapis.com/Dataset", "vertexDatasets", _full("aiplatform"), _loc_of),
    ("aiplatform.googleapis.com/Endpoint", "vertexEndpoints", _full("aiplatform"), _loc_of),
]


@contextmanager
def gcp_emulator(page_size: int = 2, latency: float = 0.0, faults: Faults | None = None) -> Iterator[GcpEmulator]:
    emu = GcpEmulator(page_size=page_size, latency=latency, faults=faults)
    try:
        yield emu
    finally:
        emu.stop()


# ---------------------------------------------------------------------- the sample estate

#: What the sample estate must yield: (rule, kind, name, role, region). The demo and the tests share it.
EXPECTED_FINDINGS = {
    ("RA-EU-OUTSIDE", "storage.bucket", "exports-eur5", "primary", "eur5"),
    ("RA-EU-OUTSIDE", "storage.bucket", "media-eur8", "primary", "eur8"),
    ("RA-US-SOIL", "compute.snapshot", "web-nightly-us", "backup", "us"),
    ("RA-US-SOIL", "bigquery.dataset", "analytics_us", "primary", "us"),
    ("RA-EU-OUTSIDE", "compute.instance", "batch-zurich", "primary", "europe-west6"),
    ("RA-EU-OUTSIDE", "compute.disk", "batch-zurich", "primary", "europe-west6"),
    ("RA-US-SOIL", "cloudsql.instance", "crm", "replica", "us-central1"),
    ("RA-US-SOIL", "cloudsql.instance", "crm-replica-iowa", "primary", "us-central1"),
    ("RA-EU-OUTSIDE", "compute.machine_image", "web-image-london", "backup", "europe-west2"),
    ("RA-US-SOIL", "functions.function", "webhook-iowa", "primary", "us-central1"),
    ("RA-US-SOIL", "gke.cluster", "ml-training", "primary", "us-east1"),
    # The services that keep copies elsewhere (issue 17).
    ("RA-US-SOIL", "spanner.instance", "payments-nam3", "primary", "spanner/nam3"),
    ("RA-EU-UNKNOWN", "secretmanager.secret", "api-key-auto", "primary", "global"),
    ("RA-EU-UNKNOWN", "logging.bucket", "_Default", "primary", "global"),
    ("RA-EU-UNKNOWN", "logging.bucket", "_Required", "primary", "global"),
    ("RA-EU-UNKNOWN", "logging.sink", "_Default", "replica", "global"),
    ("RA-EU-UNKNOWN", "logging.sink", "_Required", "replica", "global"),
    ("RA-US-SOIL", "logging.sink", "audit-to-bigquery", "replica", "us"),
    ("RA-US-SOIL", "firestore.database", "events-nam5", "primary", "nam5"),
    ("RA-EU-OUTSIDE", "bigtable.instance", "metrics", "replica", "australia-southeast1"),
    ("RA-EU-OUTSIDE", "redis.instance", "sessions-london", "primary", "europe-west2"),
}

#: Resources of the sample estate that must have no finding.
CLEAN_RESOURCES = {
    "invoices-eu",
    "archive-netherlands",
    "backups-custom-dual",
    "web-frankfurt",
    "web-nightly-eu",
    "orders",
    "events_eu",
    "shop",
    "api",
    "thumbnailer",
    "ledger",
    "ledger-ha",
    "ledger-nightly",
    "ledger-notifications",
    "ledger-notifications-worker",
    "ledger-spanner",
    "checkout-custom",
    "ledger-db-password",
    "checkout-signing-key",
    "orders-eur3",
    "ledger-bigtable",
    "ledger-cache",
    "audit-archive",
    "ledger-keys",
    "ledger-images",
    "ledger-share",
    "ledger-share-nightly",
    "ledger-etl",
    "ledger-airflow",
    "ledger-training",
    "ledger-scoring",
}


def seed_gcp(emu: GcpEmulator) -> dict[str, Any]:
    """Write the sample estate into the fake (refuses anything but a loopback fake)."""
    host = urlsplit(emu.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise RuntimeError(f"refusing to seed a non-loopback endpoint: {emu.url}")
    org = emu.organization("100000000001", "example.nl")
    prod = emu.folder("200000000001", "production", org)
    eu = emu.folder("200000000002", "eu-workloads", prod)
    sandbox = emu.folder("200000000003", "sandbox", org)

    shop = emu.project("shop-prod", "300000000001", "Shop (production)", eu)
    acme = {"customer": "acme"}  # the demo's data set (`demo` lists every copy of it)
    emu.bucket(shop, "invoices-eu", "EU", "multi-region")
    emu.bucket(shop, "exports-eur5", "EUR5", "dual-region", labels=acme)  # Belgium + London
    emu.bucket(shop, "media-eur8", "EUR8", "dual-region", turbo=True)  # Frankfurt + Zurich
    emu.bucket(shop, "backups-custom-dual", "EU", "dual-region", data_locations=["europe-west1", "europe-west4"])
    web = emu.instance(shop, "web-frankfurt", "europe-west3-b", labels=acme)
    web_disk = shop.items("disks")[-1]
    emu.snapshot(shop, "web-nightly-eu", web_disk, ["eu"])
    emu.snapshot(shop, "web-nightly-us", web_disk, ["us"])
    emu.machine_image(shop, "web-image-london", web, ["europe-west2"])
    emu.sql(shop, "orders", "europe-west1", backup_location="eu")
    emu.sql(shop, "crm", "europe-west3", labels=acme)
    emu.sql(shop, "crm-replica-iowa", "us-central1", master="crm")
    emu.run_service(shop, "shop", "europe-west1")
    emu.run_service(shop, "api", "europe-west4")
    emu.function(shop, "thumbnailer", "europe-west1")
    emu.function(shop, "webhook-iowa", "us-central1", environment="GEN_1")

    data = emu.project("data-platform", "300000000002", "Data platform", prod)
    emu.dataset(data, "events_eu", "EU")
    emu.dataset(data, "analytics_us", "US")
    emu.instance(data, "batch-zurich", "europe-west6-a")
    emu.cluster(data, "ml-training", "us-east1", ["us-east1-b", "us-east1-c"])

    # The clean project: everything in europe-west4 (Eemshaven, NL).
    clean = emu.project("ledger-nl", "300000000003", "Ledger (NL)", sandbox)
    emu.bucket(clean, "archive-netherlands", "EUROPE-WEST4", "region")
    emu.instance(clean, "ledger", "europe-west4-a")
    ha = emu.regional_disk(clean, "ledger-ha", "europe-west4", ["europe-west4-a", "europe-west4-b"])
    emu.snapshot(clean, "ledger-nightly", ha, ["europe-west4"])
    emu.sql(clean, "ledger-db", "europe-west4", backup_location="europe-west4")
    emu.dataset(clean, "ledger_reporting", "europe-west4")
    emu.cluster(clean, "ledger-gke", "europe-west4", ["europe-west4-a", "europe-west4-b", "europe-west4-c"])
    emu.run_service(clean, "ledger-api", "europe-west4")
    emu.function(clean, "ledger-export", "europe-west4")

    # The services that keep copies elsewhere: a trap each, and counterparts that must pass.
    emu.spanner_instance(shop, "payments-nam3", "nam3")  # Virginia, South Carolina, Iowa
    emu.spanner_instance(  # Belgium and the Netherlands read-write, a witness in Finland, reads in NL
        shop,
        "checkout-custom",
        "custom-eur3-nl-reads",
        [("europe-west1", "READ_WRITE"), ("europe-west4", "READ_WRITE"), ("europe-north1", "WITNESS")],
    )
    emu.secret(shop, "api-key-auto")  # automatic replication: any region
    emu.secret(shop, "checkout-signing-key", ["europe-west1", "europe-west4"])
    emu.log_buckets(shop, "global")  # _Default and _Required where Google puts them by default
    emu.firestore_database(shop, "orders-eur3", "eur3")
    emu.firestore_database(data, "events-nam5", "nam5")  # Iowa, Oklahoma, South Carolina
    emu.bigtable_instance(data, "metrics", ["europe-west4-a", "australia-southeast1-b"])  # a replica in Sydney
    emu.redis_instance(data, "sessions-london", "europe-west2-a", standby="europe-west2-b")
    emu.log_sink(data, "audit-to-bigquery", "bigquery.googleapis.com/projects/data-platform/datasets/analytics_us")

    emu.spanner_instance(clean, "ledger-spanner", "regional-europe-west4")
    emu.secret(clean, "ledger-db-password", ["europe-west4"])
    emu.log_buckets(clean, "europe-west4")
    emu.log_sink(clean, "audit-archive", "storage.googleapis.com/archive-netherlands")
    emu.firestore_database(clean, "(default)", "europe-west4", mode="DATASTORE_MODE")
    emu.bigtable_instance(clean, "ledger-bigtable", ["europe-west4-a", "europe-west4-b"])
    emu.redis_instance(clean, "ledger-cache", "europe-west4-a", standby="europe-west4-b", read_replicas=1)
    notifications = emu.topic(clean, "ledger-notifications")  # no storage policy: the project's policy pins it
    emu.subscription(clean, "ledger-notifications-worker", notifications)
    emu.key_ring(clean, "ledger-keys", "europe-west4")
    emu.repository(clean, "ledger-images", "europe-west4")
    share = emu.filestore_instance(clean, "ledger-share", "europe-west4-a")
    emu.filestore_backup(clean, "ledger-share-nightly", "europe-west4", share)
    emu.dataproc_cluster(clean, "ledger-etl", "europe-west4")
    emu.composer_environment(clean, "ledger-airflow", "europe-west4")
    emu.vertex_dataset(clean, "ledger-training", "europe-west4")
    emu.vertex_endpoint(clean, "ledger-scoring", "europe-west4")

    # gcp.resourceLocations (the guardrail audit): EU-only at the organisation; the "eu-workloads"
    # folder merges in `in:europe-locations` (Europe, not the EU: London, Zurich); data-platform
    # stops inheriting and allows everything. ledger-nl inherits the organisation's EU-only list.
    emu.org_policy(org, {"rules": [{"values": {"allowedValues": ["in:eu-locations"]}}]})
    emu.org_policy(eu, {"rules": [{"values": {"allowedValues": ["in:europe-locations"]}}], "inheritFromParent": True})
    emu.org_policy("projects/data-platform", {"rules": [{"allowAll": True}], "inheritFromParent": False})
    # ledger-nl's Pub/Sub topics without a storage policy persist messages in europe-west4 only.
    emu.org_policy(
        "projects/ledger-nl",
        {"rules": [{"values": {"allowedValues": ["in:europe-west4-locations"]}}]},
        "pubsub.allowedPersistenceRegions",
    )
    return {"organization": org, "projects": sorted(emu.projects)}
