"""Google Cloud: projects with their folder/organisation chain, and every storage
and compute resource with each location that holds its data.

Read-only by construction: every HTTP request of every client (Resource
Manager, Cloud Storage, and the plain REST calls) goes through one guarded
`requests` transport adapter that refuses any request not matching a route of
`READ_OPERATIONS` before it is sent, counts each attempt, and retries 429s with
a bounded backoff. The same table carries the IAM permission each call needs.

Clients: google-cloud-resource-manager and google-cloud-storage (light, REST
transport). Compute, Cloud SQL Admin, BigQuery, GKE, Cloud Run, Cloud Functions
and Cloud Asset Inventory are plain REST GETs through google-auth's
`AuthorizedSession`: their official clients are either discovery-based or pull
in large generated packages, for a handful of list calls.
"""

from __future__ import annotations

import concurrent.futures as cf
import ipaddress
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..core import Collector
from ..errors import CredentialsError, UserError
from ..model import Gap, Location, Owner, OwnerNode, Resource

if TYPE_CHECKING:  # SDKs are imported lazily: `--help` and the gate must not pay for them
    import requests

PROVIDER = "gcp"

#: Read-only scope: even a mis-routed call cannot write with these tokens.
SCOPES = ("https://www.googleapis.com/auth/cloud-platform.read-only",)
IMPERSONATION_SOURCE_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    permission: str
    http: str
    path: re.Pattern[str]


def _r(service: str, method: str, permission: str, path: str, http: str = "GET") -> Route:
    return Route(service, method, permission, http, re.compile(path))


_P = r"[^/:]+"  # one path segment
_ROUTES: tuple[Route, ...] = (
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
    _r(
        "cloudasset",
        "searchAllResources",
        "cloudasset.assets.searchAllResources",
        rf"^/v1/(projects|folders|organizations)/{_P}:searchAllResources$",
    ),
    _r("storage", "buckets.list", "storage.buckets.list", r"^/storage/v1/b$"),
    _r(
        "compute",
        "instances.aggregatedList",
        "compute.instances.list",
        rf"^/compute/v1/projects/{_P}/aggregated/instances$",
    ),
    _r("compute", "disks.aggregatedList", "compute.disks.list", rf"^/compute/v1/projects/{_P}/aggregated/disks$"),
    _r("compute", "snapshots.list", "compute.snapshots.list", rf"^/compute/v1/projects/{_P}/global/snapshots$"),
    _r(
        "compute",
        "machineImages.list",
        "compute.machineImages.list",
        rf"^/compute/v1/projects/{_P}/global/machineImages$",
    ),
    _r("sqladmin", "instances.list", "cloudsql.instances.list", rf"^/v1/projects/{_P}/instances$"),
    # BigQuery has no separate list permission: datasets.list shows those the caller can get.
    _r("bigquery", "datasets.list", "bigquery.datasets.get", rf"^/bigquery/v2/projects/{_P}/datasets$"),
    _r("container", "clusters.list", "container.clusters.list", rf"^/v1/projects/{_P}/locations/-/clusters$"),
    # Cloud Run v1 on the global endpoint lists every region at once (v2 needs one call per region).
    _r("run", "services.list", "run.services.list", rf"^/apis/serving\.knative\.dev/v1/namespaces/{_P}/services$"),
    _r(
        "cloudfunctions",
        "functions.list",
        "cloudfunctions.functions.list",
        rf"^/v2/projects/{_P}/locations/-/functions$",
    ),
    # Guardrail audit (guardrails/gcp_live.py): the organisation policy set on one org, folder or project.
    _r(
        "orgpolicy",
        "policies.get",
        "orgpolicy.policy.get",
        rf"^/v2/(projects|folders|organizations)/{_P}/policies/{_P}$",
    ),
)

#: Every API call the adapter may make: (service, method) -> IAM permission it needs.
#: Nothing else is ever sent; `residency-audit permissions gcp` is generated from this.
READ_OPERATIONS: Mapping[tuple[str, str], str] = {(r.service, r.method): r.permission for r in _ROUTES}

#: Services listed per project (`--services`); API names as in `<name>.googleapis.com`.
ALL_SERVICES = ("storage", "compute", "sqladmin", "bigquery", "container", "run", "cloudfunctions")

#: Base URL (scheme, host and version prefix) of each API; `--endpoint` replaces the host part.
_BASES = {
    "cloudresourcemanager": ("https://cloudresourcemanager.googleapis.com", ""),
    "cloudasset": ("https://cloudasset.googleapis.com", "/v1"),
    "storage": ("https://storage.googleapis.com", "/storage/v1"),
    "compute": ("https://compute.googleapis.com", "/compute/v1"),
    "sqladmin": ("https://sqladmin.googleapis.com", "/v1"),
    "bigquery": ("https://bigquery.googleapis.com", "/bigquery/v2"),
    "container": ("https://container.googleapis.com", "/v1"),
    "run": ("https://run.googleapis.com", "/apis/serving.knative.dev/v1"),
    "cloudfunctions": ("https://cloudfunctions.googleapis.com", "/v2"),
    "orgpolicy": ("https://orgpolicy.googleapis.com", "/v2"),
    # Token exchange for --impersonate-service-account only (never a resource read).
    "iamcredentials": ("https://iamcredentials.googleapis.com", "/v1"),
}
ENDPOINT_SERVICES = tuple(_BASES)

#: Cloud Asset Inventory types -> (our kind, service whose listing it replaces).
ASSET_TYPES = {
    "storage.googleapis.com/Bucket": "storage.bucket",
    "compute.googleapis.com/Instance": "compute.instance",
    "compute.googleapis.com/Disk": "compute.disk",
    "compute.googleapis.com/Snapshot": "compute.snapshot",
    "compute.googleapis.com/MachineImage": "compute.machine_image",
    "sqladmin.googleapis.com/Instance": "cloudsql.instance",
    "bigquery.googleapis.com/Dataset": "bigquery.dataset",
    "container.googleapis.com/Cluster": "gke.cluster",
    "run.googleapis.com/Service": "run.service",
    "cloudfunctions.googleapis.com/Function": "functions.function",
    "cloudfunctions.googleapis.com/CloudFunction": "functions.function",
}
_KIND_SERVICE = {
    "storage.bucket": "storage",
    "compute.instance": "compute",
    "compute.disk": "compute",
    "compute.snapshot": "compute",
    "compute.machine_image": "compute",
    "cloudsql.instance": "sqladmin",
    "bigquery.dataset": "bigquery",
    "gke.cluster": "container",
    "run.service": "run",
    "functions.function": "cloudfunctions",
}

INVENTORY_MODES = ("auto", "asset", "services")

MAX_ATTEMPTS = 5  # 1 call + 4 retries on 429, transient 5xx and connection errors
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0


class ReadOnlyViolation(RuntimeError):
    """Raised before sending any request that is not on the read allow-list."""


class ScanCancelled(BaseException):
    """Raised before the next request once Ctrl-C stopped the scan.

    A BaseException, so the per-service `except Exception` handlers do not turn
    the cancellation into a gap: the scan is marked interrupted instead.
    """


class ApiError(Exception):
    """A Google API error answer, reduced to what a gap records."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}" if reason else message)
        self.status = status
        self.reason = reason


def route_of(method: str, path: str) -> Route | None:
    for route in _ROUTES:
        if route.http == method and route.path.match(path):
            return route
    return None


def _error_code(exc: BaseException) -> str:
    status = getattr(exc, "status", None) or getattr(exc, "code", None)
    if isinstance(status, int):  # HTTPStatus is an int too
        return str(int(status))
    return type(exc).__name__


def _one_line(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    message = getattr(exc, "message", None) or str(exc)
    text = str(message).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    if isinstance(reason, str) and reason and reason not in line:
        line = f"{reason}: {line}"
    return line[:300]


def _parse_error(resp: requests.Response) -> ApiError:
    """Google's JSON error body: code, status, message, and an ErrorInfo reason."""
    status, reason, message = resp.status_code, "", resp.reason or f"HTTP {resp.status_code}"
    try:
        err = resp.json().get("error", {})
    except ValueError:
        err = {}
    if isinstance(err, dict):
        message = str(err.get("message") or message)
        reason = str(err.get("status") or "")
        for detail in err.get("details") or []:
            if isinstance(detail, dict) and detail.get("reason"):
                reason = str(detail["reason"])  # e.g. SERVICE_DISABLED beats PERMISSION_DENIED
                break
    return ApiError(status, reason, message)


def zone_region(zone: str) -> str:
    """europe-west6-a -> europe-west6 (Compute zones are <region>-<letter>)."""
    return zone.rsplit("-", 1)[0] if zone.count("-") >= 2 else zone


def _last(url: str | None) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1] if url else ""


def _lower(code: str | None) -> str | None:
    return code.strip().lower() if code and code.strip() else None


def _is_loopback(host: str | None) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------- credentials


def load_credentials(
    credentials_file: str | None = None,
    impersonate: str | None = None,
    anonymous: bool = False,
    iam_endpoint: str | None = None,
) -> tuple[Any, str | None]:
    """(credentials, default project): ADC, a key file, impersonation, or anonymous for emulators.

    With impersonation, the source credentials get the cloud-platform scope (the
    IAM Credentials API needs it) and only the impersonated token is read-only.
    The token exchange (generateAccessToken) is a credential call, not a
    resource API call, and does not go through the read allow-list.
    """
    import google.auth
    from google.auth import exceptions as gexc

    if anonymous:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials(), None  # type: ignore[no-untyped-call]
    scopes = list(IMPERSONATION_SOURCE_SCOPES if impersonate else SCOPES)
    try:
        if credentials_file:
            creds, project = _from_file(credentials_file, scopes)
        else:
            creds, project = google.auth.default(scopes=scopes)
    except gexc.DefaultCredentialsError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "not found"
        if credentials_file:
            raise CredentialsError(f"{credentials_file}: not usable Google credentials ({first[:200]})") from None
        raise CredentialsError(
            f"no usable Google credentials ({first[:200]}); run 'gcloud auth application-default login', "
            "set GOOGLE_APPLICATION_CREDENTIALS or pass --credentials FILE"
        ) from None
    except OSError as exc:
        raise CredentialsError(f"{credentials_file}: cannot read credentials: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # A malformed key file: google-auth reads its fields without checking their types.
        raise CredentialsError(f"{credentials_file}: not usable Google credentials ({_one_line(exc)})") from None
    if hasattr(creds, "with_always_use_jwt_access"):
        # Service-account keys sign their own JWTs: no token endpoint round trip.
        creds = creds.with_always_use_jwt_access(True)
    if impersonate:
        from google.auth import impersonated_credentials

        creds = impersonated_credentials.Credentials(  # type: ignore[no-untyped-call]
            source_credentials=creds,
            target_principal=impersonate,
            target_scopes=list(SCOPES),
            lifetime=3600,
            iam_endpoint_override=(
                f"{iam_endpoint.rstrip('/')}/v1/projects/-/serviceAccounts/{impersonate}:generateAccessToken"
                if iam_endpoint
                else None
            ),
        )
    return creds, project


def _from_file(path: str, scopes: list[str]) -> tuple[Any, str | None]:
    """A key file the user named: the type-specific loaders, the generic one for federation configs."""
    import warnings

    import google.auth

    with open(path, encoding="utf-8") as fh:
        try:
            info = json.load(fh)
        except ValueError:
            raise ValueError("not a JSON credentials file") from None
    if not isinstance(info, dict):
        raise ValueError("not a JSON credentials object")
    kind = info.get("type")
    if kind == "service_account":
        from google.oauth2 import service_account

        sa = service_account.Credentials.from_service_account_info(info, scopes=scopes)  # type: ignore[no-untyped-call]
        return sa, info.get("project_id")
    if kind == "authorized_user":
        from google.oauth2 import credentials as user

        return user.Credentials.from_authorized_user_info(info, scopes=scopes), info.get("quota_project_id")  # type: ignore[no-untyped-call]
    with warnings.catch_warnings():  # external_account etc.: the file is the user's own choice
        warnings.simplefilter("ignore", DeprecationWarning)
        creds, project = google.auth.load_credentials_from_file(path, scopes=scopes)  # type: ignore[no-untyped-call]
    return creds, project


# --------------------------------------------------------------------- HTTP layer


def _guarded_session(
    credentials: Any,
    collector_ref: Callable[[], Collector | None],
    pool: int,
    stopped: Callable[[], bool] = lambda: False,
) -> Any:
    """An AuthorizedSession whose every request is allow-listed, counted and retried.

    Retried with bounded backoff: 429 and the transient 5xx answers (500, 502,
    503, 504), connection errors (a reset, a refused connection) and read
    timeouts -- every
    request it sends is a GET, so a retry cannot repeat a change. After Ctrl-C
    (`stopped`) no further attempt is made: the worker ends at its next request.
    """
    import requests
    from google.auth.transport.requests import AuthorizedSession
    from requests.adapters import HTTPAdapter

    class Guard(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            path = urlsplit(request.url).path
            route = route_of(str(request.method), path)
            if route is None:
                raise ReadOnlyViolation(f"refusing {request.method} {path}: not on the read allow-list")
            collector = collector_ref()
            for attempt in range(MAX_ATTEMPTS):
                if stopped():
                    raise ScanCancelled()
                if collector is not None:
                    collector.count_call(f"{route.service}:{route.method}")
                last = attempt == MAX_ATTEMPTS - 1
                try:
                    resp = super().send(request, *args, **kwargs)
                except (requests.ConnectionError, requests.Timeout):
                    if last:
                        raise
                    time.sleep(_retry_delay(None, attempt))
                    continue
                if resp.status_code not in RETRY_STATUSES or last:
                    return resp
                _ = resp.content  # drain, so the connection goes back to the pool cleanly
                resp.close()
                time.sleep(_retry_delay(resp.headers.get("Retry-After"), attempt))
            raise AssertionError("unreachable")  # pragma: no cover

    session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
    guard = Guard(pool_connections=pool, pool_maxsize=pool, max_retries=0)
    session.mount("https://", guard)
    session.mount("http://", guard)
    return session


def _retry_delay(retry_after: str | None, attempt: int) -> float:
    if retry_after:
        try:
            return min(BACKOFF_CAP, max(0.0, float(retry_after)))
        except ValueError:
            pass
    return float(min(BACKOFF_CAP, BACKOFF_BASE * 2.0**attempt))


# --------------------------------------------------------------------- model helpers


@dataclass
class ProjectInfo:
    project_id: str
    number: str = ""
    name: str = ""
    parent: str = ""  # folders/123 | organizations/456 | ""
    owner: Owner | None = None

    def owner_or_id(self) -> Owner:
        return self.owner or Owner("project", self.project_id, self.name)

    def in_scope(self, scope: str) -> bool:
        """scope: projects/ID, folders/ID or organizations/ID."""
        kind, _, ident = scope.partition("/")
        if kind == "projects":
            return ident in (self.project_id, self.number)
        want = {"folders": "folder", "organizations": "organization"}.get(kind)
        return any(n.kind == want and n.id == ident for n in self.owner_or_id().path)


def _location_segment(name: str) -> str:
    """projects/P/locations/L/... -> L."""
    m = re.search(r"(?:^|/)locations/([^/]+)", name)
    return m.group(1) if m else ""


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _resource(
    project: ProjectInfo,
    kind: str,
    rid: str,
    name: str,
    locations: list[Location],
    labels: dict[str, str] | None = None,
    attributes: dict[str, Any] | None = None,
) -> Resource:
    attrs = {"project_number": project.number} if project.number else {}
    attrs.update(attributes or {})
    return Resource(
        provider=PROVIDER,
        kind=kind,
        id=rid,
        name=name,
        owner=project.owner_or_id(),
        locations=locations,
        tags=labels or {},
        attributes=attrs,
    )


# One parser per kind, over the service's own JSON: the per-service listing and
# Cloud Asset Inventory's versionedResources both feed them, so both paths yield
# the same resources, ids and locations.


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


PARSERS: dict[str, Callable[[ProjectInfo, list[dict[str, Any]]], list[Resource]]] = {
    "storage.bucket": parse_buckets,
    "compute.instance": parse_instances,
    "compute.disk": parse_disks,
    "compute.snapshot": parse_snapshots,
    "compute.machine_image": parse_machine_images,
    "cloudsql.instance": parse_sql,
    "bigquery.dataset": parse_datasets,
    "gke.cluster": parse_clusters,
    "run.service": parse_run_services,
    "functions.function": parse_functions,
}


def check_endpoints(endpoints: Mapping[str, str], anonymous: bool) -> None:
    """Endpoint overrides: well-formed, known services, and no tokens over plain http off-host."""
    for service, url in endpoints.items():
        try:
            parts = urlsplit(url)
            _ = parts.port  # a malformed port raises here, not in the middle of the scan
        except ValueError:
            raise UserError(f"--endpoint {url!r}: expected http(s)://HOST[:PORT]") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UserError(f"--endpoint {url!r}: expected http(s)://HOST[:PORT]")
        if service != "*" and service not in _BASES:
            raise UserError(f"--endpoint: unknown service {service!r} (known: {', '.join(_BASES)})")
        if parts.scheme == "http" and not anonymous and not _is_loopback(parts.hostname):
            raise UserError(f"--endpoint {url}: refusing to send Google credentials over plain http")


# --------------------------------------------------------------------- the adapter


@dataclass
class GcpAdapter:
    """Scans Google Cloud projects, selected by organisation, folder, project or visibility."""

    credentials: Any
    organizations: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    services: tuple[str, ...] = ALL_SERVICES
    inventory: str = "auto"
    #: service -> base URL override ("*" for all): private service connect, emulators.
    endpoints: dict[str, str] = field(default_factory=dict)
    max_workers: int = 8
    quota_project: str | None = None
    #: seconds to wait for one answer before the attempt counts as failed (then retried)
    read_timeout: float = 60.0
    provider: str = PROVIDER
    _collector: Collector | None = field(default=None, init=False)
    _session: Any = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)

    @classmethod
    def create(
        cls,
        *,
        credentials_file: str | None = None,
        impersonate: str | None = None,
        anonymous: bool = False,
        **kwargs: Any,
    ) -> GcpAdapter:
        check_endpoints(kwargs.get("endpoints") or {}, anonymous)
        endpoints = kwargs.get("endpoints") or {}
        iam = endpoints.get("iamcredentials") or endpoints.get("*")
        creds, _ = load_credentials(credentials_file, impersonate, anonymous, iam)
        quota = kwargs.get("quota_project")
        if quota and hasattr(creds, "with_quota_project"):
            creds = creds.with_quota_project(quota)  # every client and REST call bills this project
        adapter = cls(credentials=creds, **kwargs)
        return adapter

    # ----------------------------------------------------------------- plumbing

    @property
    def session(self) -> Any:
        """The guarded HTTP session every request of this adapter goes through."""
        with self._lock:
            if self._session is None:
                self._session = _guarded_session(
                    self.credentials, lambda: self._collector, max(10, self.max_workers), self._stop.is_set
                )
            return self._session

    def base(self, service: str) -> str:
        host, prefix = _BASES[service]
        override = self.endpoints.get(service) or self.endpoints.get("*")
        return (override.rstrip("/") if override else host) + prefix

    def _endpoint_option(self, service: str) -> dict[str, Any]:
        override = self.endpoints.get(service) or self.endpoints.get("*")
        opts: dict[str, Any] = {}
        if override:
            opts["api_endpoint"] = override.rstrip("/")
        return opts

    def get_json(self, service: str, path: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None) -> Any:
        resp = self.session.get(self.base(service) + path, params=params, timeout=self.read_timeout)
        if resp.status_code >= 400:
            raise _parse_error(resp)
        return resp.json() if resp.content else {}

    def pages(
        self,
        service: str,
        path: str,
        key: str,
        params: dict[str, Any] | None = None,
        token_param: str = "pageToken",
    ) -> Iterator[Any]:
        """Items of a paged Google list call (`nextPageToken`)."""
        query = dict(params or {})
        for _ in range(100_000):
            doc = self.get_json(service, path, query)
            items = doc.get(key) or []
            yield from (items.items() if isinstance(items, dict) else items)
            token = doc.get("nextPageToken")
            if not token:
                return
            query[token_param] = token

    def _rm_client(self, name: str) -> Any:
        from google.cloud import resourcemanager_v3

        cls = getattr(resourcemanager_v3, name)
        client = cls(
            credentials=self.credentials, transport="rest", client_options=self._endpoint_option("cloudresourcemanager")
        )
        self._guard_client(client._transport, "_session")
        return client

    def _guard_client(self, owner: Any, attr: str) -> None:
        """Route a client library's own session through the guard; refuse to run without it."""
        session = getattr(owner, attr, None)
        if session is None or not hasattr(session, "mount"):
            raise ReadOnlyViolation(f"cannot install the read-only guard on {type(owner).__name__}")
        guard = self.session.get_adapter("https://")
        session.mount("https://", guard)
        session.mount("http://", guard)

    # ----------------------------------------------------------------- scanning

    def discover(self, collector: Collector) -> dict[str, ProjectInfo]:
        """The projects in scope with their folder/organisation chains (for the guardrail audit)."""
        self._collector = collector
        return self._discover(collector)

    def scan(self, collector: Collector) -> None:
        self._collector = collector
        self._stop.clear()
        targets = self._discover(collector)
        if not targets:
            collector.note("gcp: no project in scope was readable")
            return
        collector.learn("inventory", {})
        pool = cf.ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="gcp")
        try:
            futures: list[cf.Future[Any]] = []
            for scope, projects in self._asset_scopes(targets).items():
                futures.append(pool.submit(self._inventory_scope, collector, pool, scope, projects, targets))
            self._drain(futures)
        except BaseException:
            # Ctrl-C (or a fatal error): running tasks stop at their next request
            # (the guard raises ScanCancelled), and the caller gets control back
            # now to write what was collected, without waiting for them.
            self._stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    @staticmethod
    def _drain(futures: list[cf.Future[Any]]) -> None:
        pending = list(futures)
        while pending:
            fut = pending.pop(0)
            more = fut.result()
            if isinstance(more, list):
                pending.extend(more)

    def _record_path(self, collector: Collector, scope: str, path: str) -> None:
        collector.learn("inventory", path, scope=scope)

    def _inventory_scope(
        self,
        collector: Collector,
        pool: cf.ThreadPoolExecutor,
        scope: str,
        projects: list[ProjectInfo],
        targets: dict[str, ProjectInfo],
    ) -> list[cf.Future[Any]]:
        if self.inventory in ("auto", "asset"):
            collector.progress.add_work(f"gcp:{scope}", 1)
            try:
                self._asset_search(collector, scope, targets)
                self._record_path(collector, scope, "asset")
                collector.note(f"gcp: {scope}: inventoried with Cloud Asset Inventory (searchAllResources)")
                return []
            except ReadOnlyViolation:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: per-service listing, or a gap
                if self.inventory == "asset":
                    collector.gap(Gap(PROVIDER, scope, "", "cloudasset", _one_line(exc), _error_code(exc)))
                    self._record_path(collector, scope, "asset (failed)")
                    return []
                collector.note(
                    f"gcp: {scope}: Cloud Asset Inventory not usable ({_error_code(exc)} "
                    f"{getattr(exc, 'reason', '') or type(exc).__name__}); listed per service instead"
                )
            finally:
                collector.progress.done(f"gcp:{scope}", "cloudasset searchAllResources")
        self._record_path(collector, scope, "services")
        tasks = []
        for project in projects:
            # Announced before the first task can finish: the display never passes 100%.
            collector.progress.add_work(f"gcp:{project.project_id}", len(self.services))
            for service in self.services:
                tasks.append(pool.submit(self._guarded, collector, project, service))
        return tasks

    def _guarded(self, collector: Collector, project: ProjectInfo, service: str) -> None:
        """One service of one project; a failure becomes a gap, never a crash."""
        try:
            self._list_service(collector, project, service)
        except ReadOnlyViolation:
            raise
        except Exception as exc:  # noqa: BLE001 - every API failure is a gap
            collector.gap(Gap(PROVIDER, project.project_id, "", service, _one_line(exc), _error_code(exc)))
        finally:
            collector.progress.done(f"gcp:{project.project_id}", service)

    # ----------------------------------------------------------------- discovery

    def _discover(self, collector: Collector) -> dict[str, ProjectInfo]:
        """Projects in scope, each with its owner chain; unreadable ones become gaps."""
        from google.auth import exceptions as gexc

        projects: dict[str, ProjectInfo] = {}
        try:
            client = self._rm_client("ProjectsClient")
            if self.projects:
                for pid in self.projects:
                    try:
                        p = client.get_project(name=f"projects/{pid}")
                    except gexc.GoogleAuthError:
                        raise
                    except Exception as exc:  # noqa: BLE001 - this project is a gap, the rest goes on
                        collector.gap(Gap(PROVIDER, pid, "", "cloudresourcemanager", _one_line(exc), _error_code(exc)))
                        continue
                    projects[p.project_id] = self._project_info(p)
            else:
                for p in client.search_projects(request={}):
                    if p.state.name in ("ACTIVE", "STATE_UNSPECIFIED"):
                        projects[p.project_id] = self._project_info(p)
        except gexc.GoogleAuthError as exc:
            raise CredentialsError(f"Google credentials could not be used: {_one_line(exc)}") from None
        except ReadOnlyViolation:
            raise
        except Exception as exc:  # noqa: BLE001 - nothing discoverable: one gap, an empty scan
            collector.gap(Gap(PROVIDER, "", "", "cloudresourcemanager", _one_line(exc), _error_code(exc)))
            return {}
        self._owners(collector, projects)
        if self.organizations or self.folders:
            scopes = [f"organizations/{o}" for o in self.organizations] + [f"folders/{f}" for f in self.folders]
            projects = {k: p for k, p in projects.items() if any(p.in_scope(s) for s in scopes)}
            if not projects:
                collector.note(f"gcp: no visible project under {', '.join(scopes)}")
        return projects

    @staticmethod
    def _project_info(p: Any) -> ProjectInfo:
        return ProjectInfo(
            project_id=str(p.project_id),
            number=str(p.name).split("/")[-1],
            name=str(p.display_name or ""),
            parent=str(p.parent or ""),
        )

    def _owners(self, collector: Collector, projects: dict[str, ProjectInfo]) -> None:
        """Folder and organisation chain of every project: two paged searches, gets for the rest."""
        folders: dict[str, tuple[str, str]] = {}  # folders/ID -> (display name, parent)
        orgs: dict[str, str] = {}  # organizations/ID -> display name
        needs_tree = any(p.parent for p in projects.values())
        if not needs_tree:
            return
        folder_client = self._rm_client("FoldersClient")
        try:
            for f in folder_client.search_folders(request={}):
                folders[str(f.name)] = (str(f.display_name or ""), str(f.parent or ""))
        except Exception as exc:  # noqa: BLE001 - the chain then comes from folders.get
            collector.note(f"gcp: folders not searchable ({_error_code(exc)}); reading them one by one")

        def folder(name: str) -> tuple[str, str]:
            """A folder search did not return (e.g. search not permitted): one get, cached."""
            if name not in folders:
                try:
                    f = folder_client.get_folder(name=name)
                    folders[name] = (str(f.display_name or ""), str(f.parent or ""))
                except Exception as exc:  # noqa: BLE001 - the chain stops at this folder
                    collector.note(f"gcp: {name} not readable ({_error_code(exc)}); owner chains stop there")
                    folders[name] = ("", "")
            return folders[name]

        try:
            for o in self._rm_client("OrganizationsClient").search_organizations(request={}):
                orgs[str(o.name)] = str(o.display_name or "")
        except Exception as exc:  # noqa: BLE001
            collector.note(f"gcp: organisations not searchable ({_error_code(exc)}); owner chains show ids only")
        for p in projects.values():
            path: list[OwnerNode] = []
            parent = p.parent
            for _ in range(12):  # folders nest at most ten deep
                kind, _, ident = parent.partition("/")
                if kind == "folders":
                    name, up = folder(parent)
                    path.insert(0, OwnerNode("folder", ident, name))
                    if not up:
                        break
                    parent = up
                elif kind == "organizations":
                    path.insert(0, OwnerNode("organization", ident, orgs.get(parent, "")))
                    break
                else:
                    break
            p.owner = Owner("project", p.project_id, p.name, tuple(path))

    def _asset_scopes(self, targets: dict[str, ProjectInfo]) -> dict[str, list[ProjectInfo]]:
        """One Cloud Asset Inventory scope per requested org/folder, else per org, else per project."""
        scopes: dict[str, list[ProjectInfo]] = {}
        requested = [f"organizations/{o}" for o in self.organizations] + [f"folders/{f}" for f in self.folders]
        for p in targets.values():
            if requested:
                scope = next(s for s in requested if p.in_scope(s))
            elif not self.projects and p.owner and p.owner.path and p.owner.path[0].kind == "organization":
                scope = f"organizations/{p.owner.path[0].id}"
            else:
                scope = f"projects/{p.project_id}"
            scopes.setdefault(scope, []).append(p)
        return scopes

    # ----------------------------------------------------------------- inventory paths

    def _asset_search(self, collector: Collector, scope: str, targets: dict[str, ProjectInfo]) -> None:
        """One paged searchAllResources call for the whole scope; the resource JSON feeds the parsers."""
        wanted = {t for t, kind in ASSET_TYPES.items() if _KIND_SERVICE[kind] in self.services}
        params: list[tuple[str, Any]] = [("assetTypes", t) for t in sorted(wanted)]
        params += [("readMask", "*"), ("pageSize", 500)]
        by_number = {p.number: p for p in targets.values()}
        batches: dict[tuple[str, str], tuple[ProjectInfo, list[dict[str, Any]]]] = {}
        token = ""
        summaries = 0
        for _ in range(100_000):
            doc = self.get_json(
                "cloudasset", f"/{scope}:searchAllResources", [*params, *([("pageToken", token)] if token else [])]
            )
            for result in doc.get("results") or []:
                kind = ASSET_TYPES.get(str(result.get("assetType", "")))
                if kind is None:
                    continue
                number = str(result.get("project", "")).split("/")[-1]
                project = by_number.get(number) or self._asset_project(number, result)
                body = self._asset_body(result)
                if body is None:
                    summaries += 1
                    body = self._asset_summary(result)
                batches.setdefault((project.project_id, kind), (project, []))[1].append(body)
            token = str(doc.get("nextPageToken") or "")
            if not token:
                break
        for (_, kind), (project, items) in batches.items():
            collector.extend(PARSERS[kind](project, items))
        if summaries:
            collector.note(
                f"gcp: {scope}: {summaries} Asset Inventory results without versionedResources: their locations "
                "are the search result's `location` only (no dual-region data locations or replica links); "
                "use --inventory services for those"
            )

    @staticmethod
    def _asset_project(number: str, result: dict[str, Any]) -> ProjectInfo:
        """A project seen only through Asset Inventory (not visible to projects:search)."""
        path: list[OwnerNode] = []
        org = str(result.get("organization", "") or "")
        if org:
            path.append(OwnerNode("organization", org.split("/")[-1]))
        for f in reversed(result.get("folders") or []):  # Asset lists folders nearest first
            path.append(OwnerNode("folder", str(f).split("/")[-1]))
        return ProjectInfo(number, number, owner=Owner("project", number, "", tuple(path)))

    @staticmethod
    def _asset_body(result: dict[str, Any]) -> dict[str, Any] | None:
        """The service's own JSON from versionedResources (None when the result has none)."""
        for version in result.get("versionedResources") or []:
            body = version.get("resource")
            if isinstance(body, dict) and body:
                return body
        return None

    @staticmethod
    def _asset_summary(result: dict[str, Any]) -> dict[str, Any]:
        """What the search result alone says, in the service JSON shape the parsers read.

        Only the `location` is known: dual-region data locations, replica links and
        several snapshot storage locations are not, so the scan says so in a note.
        """
        full = str(result.get("name", ""))
        host, _, relative = full.removeprefix("//").partition("/")
        location = str(result.get("location") or "")
        body: dict[str, Any] = {
            "name": relative.rsplit("/", 1)[-1] if relative else full,
            "id": relative.rsplit("/", 1)[-1],
            "location": location or None,
            "region": location or None,
            "storageLocations": [loc for loc in location.split(",") if loc],
            "labels": result.get("labels") or {},
        }
        if re.search(r"-[a-z]$", location):
            body["zone"] = location
        if host.startswith("compute."):
            body["selfLink"] = "https://compute.googleapis.com/compute/v1/" + relative
        if host.startswith(("run.", "cloudfunctions.")):
            body["name"] = relative  # projects/P/locations/L/...: the parsers read the region from it
        return body

    def _list_service(self, collector: Collector, project: ProjectInfo, service: str) -> None:
        pid = project.project_id
        # Each page is collected as it arrives: what was read before an error or a Ctrl-C is kept.
        if service == "storage":
            for bucket in self._buckets(pid):
                collector.extend(parse_buckets(project, [bucket]))
        elif service == "compute":
            base = f"/projects/{pid}"
            for _, scoped in self.pages("compute", f"{base}/aggregated/instances", "items"):
                collector.extend(parse_instances(project, scoped.get("instances") or []))
            for _, scoped in self.pages("compute", f"{base}/aggregated/disks", "items"):
                collector.extend(parse_disks(project, scoped.get("disks") or []))
            for snapshot in self.pages("compute", f"{base}/global/snapshots", "items"):
                collector.extend(parse_snapshots(project, [snapshot]))
            for image in self.pages("compute", f"{base}/global/machineImages", "items"):
                collector.extend(parse_machine_images(project, [image]))
        elif service == "sqladmin":
            collector.extend(parse_sql(project, list(self.pages("sqladmin", f"/projects/{pid}/instances", "items"))))
        elif service == "bigquery":
            for dataset in self.pages("bigquery", f"/projects/{pid}/datasets", "datasets", {"all": "true"}):
                collector.extend(parse_datasets(project, [dataset]))
        elif service == "container":
            doc = self.get_json("container", f"/projects/{pid}/locations/-/clusters")
            collector.extend(parse_clusters(project, doc.get("clusters") or []))
            for zone in doc.get("missingZones") or []:
                collector.gap(Gap(PROVIDER, pid, str(zone), "container", "zone did not answer the cluster list", ""))
        elif service == "run":
            collector.extend(parse_run_services(project, self._run_services(pid)))
        elif service == "cloudfunctions":
            doc_items: list[dict[str, Any]] = []
            query: dict[str, Any] = {}
            while True:
                doc = self.get_json("cloudfunctions", f"/projects/{pid}/locations/-/functions", query)
                doc_items.extend(doc.get("functions") or [])
                for where in doc.get("unreachable") or []:
                    collector.gap(Gap(PROVIDER, pid, _last(where), "cloudfunctions", "location unreachable", ""))
                if not doc.get("nextPageToken"):
                    break
                query["pageToken"] = doc["nextPageToken"]
            collector.extend(parse_functions(project, doc_items))
        else:  # pragma: no cover - the CLI validates services
            raise UserError(f"unknown Google Cloud service {service}")

    def _buckets(self, project_id: str) -> Iterator[dict[str, Any]]:
        """Buckets through google-cloud-storage, on the guarded session, as the pages arrive."""
        from google.cloud.storage import Client

        client = Client(
            project=project_id,
            credentials=self.credentials,
            _http=self.session,
            client_options=self._endpoint_option("storage") or None,
        )
        for b in client.list_buckets(project=project_id, retry=None, timeout=self.read_timeout):
            item: dict[str, Any] = {
                "name": b.name,
                "location": b.location,
                "locationType": b.location_type,
                "labels": dict(b.labels or {}),
            }
            if b.data_locations:
                item["customPlacementConfig"] = {"dataLocations": list(b.data_locations)}
            if b.rpo:
                item["rpo"] = b.rpo
            yield item

    def _run_services(self, project_id: str) -> list[dict[str, Any]]:
        """Cloud Run v1 lists Kubernetes-style: `limit`/`continue`, token in `metadata.continue`."""
        items: list[dict[str, Any]] = []
        query: dict[str, Any] = {}
        while True:
            doc = self.get_json("run", f"/namespaces/{project_id}/services", query)
            items.extend(doc.get("items") or [])
            for where in doc.get("unreachable") or []:
                raise ApiError(503, "UNREACHABLE", f"Cloud Run location {where} unreachable")
            token = (doc.get("metadata") or {}).get("continue")
            if not token:
                return items
            query["continue"] = token


def dumps_operations() -> str:
    """The allow-list as JSON (service, method, permission): for `permissions gcp` and audits."""
    return json.dumps([{"service": s, "method": m, "permission": p} for (s, m), p in READ_OPERATIONS.items()])
