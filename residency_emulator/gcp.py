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
"""

from __future__ import annotations

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
}


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
    scope: str = "*"  # project id, organizations/ID, folders/ID, or *
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
            ("compute", re.compile(r"^/compute/v1/projects/([^/]+)/global/(snapshots|machineImages)$"), self._global),
            ("sqladmin", re.compile(r"^/v1/projects/([^/]+)/instances$"), self._sql),
            ("bigquery", re.compile(r"^/bigquery/v2/projects/([^/]+)/datasets$"), self._datasets),
            ("container", re.compile(r"^/v1/projects/([^/]+)/locations/-/clusters$"), self._clusters),
            ("run", re.compile(r"^/apis/serving\.knative\.dev/v1/namespaces/([^/]+)/services$"), self._run),
            ("cloudfunctions", re.compile(r"^/v2/projects/([^/]+)/locations/-/functions$"), self._functions),
            ("pubsub", re.compile(r"^/v1/projects/([^/]+)/topics$"), self._topics),
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

    def instance(self, p: FakeProject, name: str, zone: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
        """A VM and its boot disk (as Compute Engine creates them)."""
        disk = self.disk(p, name, zone)
        inst = {
            "kind": "compute#instance",
            "id": str(abs(hash((p.project_id, name))) % 10**18),
            "name": name,
            "zone": self._link(p, "zones", zone),
            "machineType": self._link(p, "zones", zone, "machineTypes", "e2-small"),
            "status": "RUNNING",
            "disks": [{"boot": True, "source": disk["selfLink"]}],
            "labels": labels or {},
            "selfLink": self._link(p, "zones", zone, "instances", name),
        }
        p.items("instances").append(inst)
        return inst

    def disk(self, p: FakeProject, name: str, zone: str) -> dict[str, Any]:
        d = {
            "kind": "compute#disk",
            "name": name,
            "sizeGb": "10",
            "zone": self._link(p, "zones", zone),
            "selfLink": self._link(p, "zones", zone, "disks", name),
        }
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
            },
        }
        if master:
            inst["masterInstanceName"] = f"{p.project_id}:{master}"
            for other in p.items("sql"):
                if other["name"] == master:
                    other.setdefault("replicaNames", []).append(name)
        p.items("sql").append(inst)
        return inst

    def dataset(self, p: FakeProject, dataset_id: str, location: str) -> dict[str, Any]:
        d = {
            "kind": "bigquery#dataset",
            "id": f"{p.project_id}:{dataset_id}",
            "datasetReference": {"datasetId": dataset_id, "projectId": p.project_id},
            "location": location,
        }
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
        for service, pattern, handler in self._routes:
            m = pattern.match(url.path)
            if m is None:
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
        return m.group(1) if m.groups() else ""

    def _scripted(self, service: str, scope: str) -> Response | None:
        with self._lock:
            for rule in self.rules:
                if rule.service != service or rule.scope not in ("*", scope):
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
        page, token = self._page(results, query)
        return self._reply({"results": page}, token)


def _loc_zone_or_region(item: dict[str, Any]) -> str:
    return str(item.get("zone") or item.get("region") or "").split("/")[-1]


def _compute_name(p: FakeProject, item: dict[str, Any]) -> str:
    return "//compute.googleapis.com/projects/" + str(item["selfLink"]).split("/projects/", 1)[1]


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
    emu.bucket(shop, "invoices-eu", "EU", "multi-region")
    emu.bucket(shop, "exports-eur5", "EUR5", "dual-region")  # Belgium + London
    emu.bucket(shop, "media-eur8", "EUR8", "dual-region", turbo=True)  # Frankfurt + Zurich
    emu.bucket(shop, "backups-custom-dual", "EU", "dual-region", data_locations=["europe-west1", "europe-west4"])
    web = emu.instance(shop, "web-frankfurt", "europe-west3-b")
    web_disk = shop.items("disks")[-1]
    emu.snapshot(shop, "web-nightly-eu", web_disk, ["eu"])
    emu.snapshot(shop, "web-nightly-us", web_disk, ["us"])
    emu.machine_image(shop, "web-image-london", web, ["europe-west2"])
    emu.sql(shop, "orders", "europe-west1", backup_location="eu")
    emu.sql(shop, "crm", "europe-west3")
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

    # gcp.resourceLocations (the guardrail audit): EU-only at the organisation; the "eu-workloads"
    # folder merges in `in:europe-locations` (Europe, not the EU: London, Zurich); data-platform
    # stops inheriting and allows everything. ledger-nl inherits the organisation's EU-only list.
    emu.org_policy(org, {"rules": [{"values": {"allowedValues": ["in:eu-locations"]}}]})
    emu.org_policy(eu, {"rules": [{"values": {"allowedValues": ["in:europe-locations"]}}], "inheritFromParent": True})
    emu.org_policy("projects/data-platform", {"rules": [{"allowAll": True}], "inheritFromParent": False})
    return {"organization": org, "projects": sorted(emu.projects)}
