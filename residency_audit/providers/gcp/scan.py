"""Google Cloud: the scan of the projects in scope, every declared kind and every other resource.

The projects and their folder/organisation chains first (`projects.py`), then per
inventory scope (a requested organisation or folder, else each visible organisation,
else each project) one paged Cloud Asset Inventory search of every asset type, or, where
that is not usable, one task per (project, service) running the readers of that service's
kinds (`readers.py`, chosen through `kinds.py`). Every request goes through the guarded client
of `client.py`; a failure is a gap for exactly that project (or scope) and service.

On the Asset Inventory path a resource of a declared kind is parsed from its own JSON (its
footprint), and a resource of any other type is judged at the location Asset Inventory
reports (`judged="primary"`); the per-service path lists the declared kinds only, and says so.
Resolvers (a custom Spanner configuration, a topic's organisation policy) run on both paths;
finishers (a log sink's destination) run once every other record of the scan is in.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from ...core import Collector
from ...model import Gap, Location, Owner, OwnerNode, Resource
from ..base import ReadOnlyViolation, WorkerPool, error_code
from . import readers
from .client import GcpClient, connect, describe
from .kinds import ASSET_TYPES, KINDS, SERVICES
from .projects import ProjectInfo, asset_project, discover
from .readbase import place

T = TypeVar("T")

PROVIDER = "gcp"
INVENTORY_MODES = ("auto", "asset", "services")
ALL_SERVICES = SERVICES

_KINDS = {k.name: k for k in KINDS}
#: `//host/projects/<id or number>/rest`
_PROJECT_IN_NAME = re.compile(r"^(//[^/]+/projects/)([^/]+)(/.*)?$")
#: service -> the readers of its kinds, in the order they run (kinds may share one)
READERS: dict[str, tuple[Callable[[readers.ReadContext], None], ...]] = {
    s: tuple(getattr(readers, r) for r in dict.fromkeys(k.reader for k in KINDS if k.service == s)) for s in SERVICES
}
#: kind -> the parser of its JSON (the Asset Inventory path)
PARSERS: dict[str, Callable[[ProjectInfo, list[dict[str, Any]]], list[Resource]]] = {
    k.name: getattr(readers, k.parser) for k in KINDS
}
#: kind -> what completes its records from further reads, on both paths (`GcpKind.resolver`)
RESOLVERS: dict[str, Callable[[readers.ReadContext, list[Resource]], list[Resource]]] = {
    k.name: getattr(readers, k.resolver) for k in KINDS if k.resolver
}
#: kind -> what locates its records from the rest of the scan (`GcpKind.finisher`)
FINISHERS: dict[str, Callable[[list[Resource], Callable[[str], Resource | None]], None]] = {
    k.name: getattr(readers, k.finisher) for k in KINDS if k.finisher
}


def _declared(resources: Iterable[Resource]) -> Iterator[Resource]:
    """Each record as its kind declares it: category, and whether its footprint is modelled."""
    for r in resources:
        kind = _KINDS[r.kind]
        r.category, r.judged = kind.category, kind.judged
        yield r


class _Context:
    """A reader's view of one project (`readers.ReadContext`)."""

    def __init__(self, adapter: GcpAdapter, collector: Collector, project: ProjectInfo) -> None:
        self.project = project
        self._adapter = adapter
        self._client = adapter.client
        self._collector = collector

    def get_json(self, service: str, path: str, params: dict[str, Any] | None = None, region: str = "") -> Any:
        return self._client.get_json(service, path, params, region)

    def pages(
        self,
        service: str,
        path: str,
        key: str,
        params: dict[str, Any] | None = None,
        token_param: str = "pageToken",
        region: str = "",
    ) -> Iterator[Any]:
        return self._client.pages(service, path, key, params, token_param, region)

    def buckets(self) -> Iterator[dict[str, Any]]:
        return self._client.buckets(self.project.project_id)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        return self._adapter.memo(key, compute)

    def add(self, resources: Iterable[Resource]) -> None:
        """Each kind's records through its resolver; those with a finisher wait for the end of the scan."""
        by_kind: dict[str, list[Resource]] = {}
        for r in resources:
            by_kind.setdefault(r.kind, []).append(r)
        for name, records in by_kind.items():
            resolver = RESOLVERS.get(name)
            try:
                if resolver:
                    records = resolver(self, records)
            finally:  # should the resolver fail, the records still count as parsed (unresolved: unknown)
                declared = list(_declared(records))
                if name in FINISHERS:
                    self._adapter.defer(name, declared)
                else:
                    self._collector.extend(declared)

    def gap(self, region: str, service: str, error: str, code: str = "") -> None:
        self._collector.gap(Gap(PROVIDER, self.project.project_id, region, service, error, code))


@dataclass
class GcpAdapter:
    """Scans Google Cloud projects, selected by organisation, folder, project or visibility."""

    client: GcpClient
    organizations: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    services: tuple[str, ...] = ALL_SERVICES
    inventory: str = "auto"
    max_workers: int = 8
    provider: str = PROVIDER
    #: what readers read once per scan (`memo`), and the records waiting for a finisher
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _memo_locks: dict[str, threading.Lock] = field(default_factory=dict, init=False, repr=False)
    _deferred: dict[str, list[Resource]] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    #: project id -> number and number -> id, of the projects in scope (`_canonical_links`)
    _aliases: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def create(
        cls,
        *,
        credentials_file: str | None = None,
        impersonate: str | None = None,
        anonymous: bool = False,
        endpoints: dict[str, str] | None = None,
        quota_project: str | None = None,
        read_timeout: float = 60.0,
        max_workers: int = 8,
        **kwargs: Any,
    ) -> GcpAdapter:
        endpoints = dict(endpoints or {})
        creds = connect(credentials_file, impersonate, anonymous, endpoints, quota_project)
        client = GcpClient(creds, endpoints, read_timeout, pool=max(10, max_workers))
        return cls(client=client, max_workers=max_workers, **kwargs)

    @property
    def session(self) -> Any:
        """The guarded HTTP session every request of this adapter goes through."""
        return self.client.session

    def get_json(self, service: str, path: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None) -> Any:
        return self.client.get_json(service, path, params)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()` once per scan and key, even when several workers ask at once (a failure is
        not kept: the next asker tries again)."""
        with self._lock:
            if key in self._memo:
                return self._memo[key]  # type: ignore[no-any-return]
            key_lock = self._memo_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._memo:
                    return self._memo[key]  # type: ignore[no-any-return]
            value = compute()
            with self._lock:
                self._memo[key] = value
            return value

    def defer(self, kind: str, records: list[Resource]) -> None:
        with self._lock:
            self._deferred.setdefault(kind, []).extend(records)

    def _finish(self, collector: Collector) -> None:
        """Locate the deferred records (log sinks) from everything else collected, then add them:
        pure, no API call, so it runs after an interrupt too and nothing read is lost."""
        with self._lock:
            deferred, self._deferred = self._deferred, {}
        index = {r.id: r for r in collector.collected()}
        for kind, records in deferred.items():
            FINISHERS[kind](records, index.get)
            collector.extend(records)
        self._canonical_links(collector)

    def _canonical_links(self, collector: Collector) -> None:
        """A link names its target as the target's own record does, so `copies` finds it: Google
        names a project by its id in one API and by its number in another (Secret Manager, Vertex
        AI, Filestore), so a target the scan holds under the other spelling is named so."""
        ids = {r.id for r in collector.collected() if r.provider == PROVIDER}

        def respell(r: Resource) -> None:
            if r.provider == PROVIDER and r.links:
                r.links[:] = [replace(x, target=self._spelled(x.target, ids)) for x in r.links]

        collector.rewrite(respell)

    def _spelled(self, target: str, ids: set[str]) -> str:
        m = _PROJECT_IN_NAME.match(target)
        if target in ids or m is None or m.group(2) not in self._aliases:
            return target
        other = f"{m.group(1)}{self._aliases[m.group(2)]}{m.group(3) or ''}"
        return other if other in ids else target

    # ----------------------------------------------------------------- scanning

    def discover(self, collector: Collector) -> dict[str, ProjectInfo]:
        """The projects in scope with their folder/organisation chains (for the guardrail audit)."""
        self.client.collector = collector
        return discover(self.client, collector, self.organizations, self.folders, self.projects)

    def scan(self, collector: Collector) -> None:
        self.client.stop.clear()
        targets = self.discover(collector)
        if not targets:
            collector.note("gcp: no project in scope was readable")
            return
        collector.learn("inventory", {})
        pairs = [(p.number, p.project_id) for p in targets.values() if p.number]
        self._aliases = {**dict(pairs), **{pid: number for number, pid in pairs}}
        with self._lock:
            self._memo.clear()
            self._memo_locks.clear()
            self._deferred.clear()
        # Ctrl-C (or a fatal error): running tasks stop at their next request (the guard
        # raises ScanCancelled), and the caller gets control back now to write what was
        # collected, without waiting for them.
        try:
            WorkerPool(self.max_workers, "gcp", self.client.stop).run(
                [
                    lambda s=scope, ps=projects: self._inventory_scope(collector, s, ps, targets)  # type: ignore[misc]
                    for scope, projects in self._asset_scopes(targets).items()
                ]
            )
        finally:
            self._finish(collector)

    def _inventory_scope(
        self, collector: Collector, scope: str, projects: list[ProjectInfo], targets: dict[str, ProjectInfo]
    ) -> list[Callable[[], None]]:
        if self.inventory in ("auto", "asset"):
            collector.progress.add_work(f"gcp:{scope}", 1)
            try:
                resolving = self._asset_search(collector, scope, targets)
                collector.learn("inventory", "asset", scope=scope)
                collector.note(f"gcp: {scope}: inventoried with Cloud Asset Inventory (searchAllResources)")
                return resolving
            except ReadOnlyViolation:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: per-service listing, or a gap
                if self.inventory == "asset":
                    collector.gap(Gap(PROVIDER, scope, "", "cloudasset", describe(exc), error_code(exc)))
                    collector.learn("inventory", "asset (failed)", scope=scope)
                    return []
                collector.note(
                    f"gcp: {scope}: Cloud Asset Inventory not usable ({error_code(exc)} "
                    f"{getattr(exc, 'reason', '') or type(exc).__name__}); listed per service instead"
                )
            finally:
                collector.progress.done(f"gcp:{scope}", "cloudasset searchAllResources")
        collector.learn("inventory", "services", scope=scope)
        collector.note(services_note(scope, self.services))
        tasks: list[Callable[[], None]] = []
        for project in projects:
            # Announced before the first task can finish: the display never passes 100%.
            collector.progress.add_work(f"gcp:{project.project_id}", len(self.services))
            ctx = _Context(self, collector, project)
            tasks += [lambda c=ctx, s=service: self._guarded(collector, c, s) for service in self.services]  # type: ignore[misc]
        return tasks

    def _guarded(self, collector: Collector, ctx: _Context, service: str) -> None:
        """One service of one project; a failure becomes a gap, never a crash."""
        pid = ctx.project.project_id
        try:
            for read in READERS[service]:
                read(ctx)
        except ReadOnlyViolation:
            raise
        except Exception as exc:  # noqa: BLE001 - every API failure is a gap
            collector.gap(Gap(PROVIDER, pid, "", service, describe(exc), error_code(exc)))
        finally:
            collector.progress.done(f"gcp:{pid}", service)

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

    # ----------------------------------------------------------------- the Asset Inventory path

    def _asset_search(
        self, collector: Collector, scope: str, targets: dict[str, ProjectInfo]
    ) -> list[Callable[[], None]]:
        """One paged searchAllResources call for the whole scope, every asset type (a `--services`
        subset: its kinds' types only). A declared kind's JSON feeds its parser; every other
        resource is judged at the location Asset Inventory reports. Returns the tasks that read
        what the JSON does not say (a kind's resolver), one per project and kind, for the pool."""
        everything = set(ALL_SERVICES) <= set(self.services)
        wanted = {t for t, kind in ASSET_TYPES.items() if _KINDS[kind].service in self.services}
        params: list[tuple[str, Any]] = [] if everything else [("assetTypes", t) for t in sorted(wanted)]
        params += [("readMask", "*"), ("pageSize", 500)]
        by_number = {p.number: p for p in targets.values()}
        batches: dict[tuple[str, str], tuple[ProjectInfo, list[dict[str, Any]]]] = {}
        others: list[tuple[ProjectInfo | None, dict[str, Any]]] = []
        token = ""
        summaries = 0
        for _ in range(100_000):
            doc = self.client.get_json(
                "cloudasset", f"/v1/{scope}:searchAllResources", [*params, *([("pageToken", token)] if token else [])]
            )
            for result in doc.get("results") or []:
                asset_type = str(result.get("assetType", ""))
                kind = ASSET_TYPES.get(asset_type)
                number = str(result.get("project", "")).split("/")[-1]
                project = (by_number.get(number) or asset_project(number, result)) if number else None
                if kind is None or project is None:
                    if everything or asset_type in wanted:
                        others.append((project, result))
                    continue
                if asset_type not in wanted:
                    continue
                body = _asset_body(result)
                if body is None:
                    summaries += 1
                    body = _asset_summary(result)
                body.setdefault("_location", result.get("location"))  # for JSON that names no location
                batches.setdefault((project.project_id, kind), (project, []))[1].append(body)
            token = str(doc.get("nextPageToken") or "")
            if not token:
                break
        deep: set[str] = set()
        resolving: list[Callable[[], None]] = []
        for (_, kind), (project, items) in batches.items():
            records = PARSERS[kind](project, items)
            deep.update(r.id for r in records)
            if kind in RESOLVERS:
                resolving.append(lambda p=project, k=kind, rs=records: self._resolve(collector, p, k, rs))  # type: ignore[misc]
            else:
                _Context(self, collector, project).add(records)
        # A resource a declared kind read is judged there (its footprint), never twice; one inside such
        # a resource (a secret's version, a key ring's key, a dataset's table) is judged with it.
        for project, result in others:
            name = str(result.get("name"))
            if name in deep:
                continue
            record = generic(project, result)
            parent = next((p for p in _parents(name) if p in deep), "")
            if parent:
                record.part_of, record.judged = parent, "parent"
            collector.add(record)
        if summaries:
            collector.note(
                f"gcp: {scope}: {summaries} Asset Inventory results without versionedResources: their locations "
                "are the search result's `location` only (no dual-region data locations or replica links); "
                "use --inventory services for those"
            )
        return resolving

    def _resolve(self, collector: Collector, project: ProjectInfo, kind: str, records: list[Resource]) -> None:
        """A kind's resolver over one project's records; should it fail, the records still count as
        parsed (what is unresolved stays unknown: fail closed) and the failure is a gap."""
        try:
            _Context(self, collector, project).add(records)
        except ReadOnlyViolation:
            raise
        except Exception as exc:  # noqa: BLE001 - a gap; `add` kept the records
            collector.gap(Gap(PROVIDER, project.project_id, "", _KINDS[kind].service, describe(exc), error_code(exc)))


def services_note(scope: str, services: tuple[str, ...]) -> str:
    """What the per-service path cannot see: every resource of a type no declared kind reads."""
    kinds = [k.name for k in KINDS if k.service in services]
    return (
        f"gcp: {scope}: listed per service, which reads only the {len(kinds)} modelled kinds "
        f"({', '.join(kinds)}); resources of every other type are not seen or judged on this path "
        "(Cloud Asset Inventory searches every type: --inventory auto|asset)"
    )


def generic(project: ProjectInfo | None, result: dict[str, Any]) -> Resource:
    """A resource no declared kind reads, judged where Asset Inventory says it is (a zone: its
    region, zone kept; a list: each entry; none: unknown), at its primary location only. Its kind
    is its asset type, its category the classification table's (`providers/gcp/classes.py`;
    unclassified: as data). (A declared kind's resource outside any project, e.g. an organisation
    sink, is judged so too, under its kind.)"""
    full = str(result.get("name", ""))
    asset_type = str(result.get("assetType", ""))
    declared = _KINDS.get(ASSET_TYPES.get(asset_type, ""))
    codes = [c.strip() for c in str(result.get("location") or "").split(",") if c.strip()]
    locations = [place(c, detail="Cloud Asset Inventory location") for c in codes] or [
        Location(None, detail="Cloud Asset Inventory reports no location")
    ]
    attrs: dict[str, Any] = {"asset_type": asset_type}
    if project is not None and project.number:
        attrs["project_number"] = project.number
    labels = result.get("labels")
    return Resource(
        provider=PROVIDER,
        kind=declared.name if declared else asset_type,
        id=full,
        name=str(result.get("displayName") or full.rsplit("/", 1)[-1]),
        owner=project.owner_or_id() if project is not None else _owner_above_projects(result),
        locations=locations,
        tags={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
        attributes=attrs,
        category=declared.category if declared else "",
        judged="primary",
    )


def _parents(name: str) -> Iterator[str]:
    """//host/a/b/c/d -> //host/a/b/c, //host/a/b, ... (nearest first)."""
    while "/" in name.removeprefix("//").partition("/")[2]:
        name = name.rsplit("/", 1)[0]
        yield name


def _owner_above_projects(result: dict[str, Any]) -> Owner:
    """An organisation- or folder-level resource (a folder, an organisation sink): owned by the
    nearest folder, else the organisation."""
    org = str(result.get("organization") or "").split("/")[-1]
    folders = [str(f).split("/")[-1] for f in result.get("folders") or []]  # nearest first
    path = [OwnerNode("organization", org)] if org else []
    path += [OwnerNode("folder", f) for f in reversed(folders[1:])]
    if folders:
        return Owner("folder", folders[0], "", tuple(path))
    return Owner("organization", org) if org else Owner("organization", "")


def _asset_body(result: dict[str, Any]) -> dict[str, Any] | None:
    """The service's own JSON from versionedResources (None when the result has none)."""
    for version in result.get("versionedResources") or []:
        body = version.get("resource")
        if isinstance(body, dict) and body:
            return body
    return None


def _asset_summary(result: dict[str, Any]) -> dict[str, Any]:
    """What the search result alone says, in the service JSON shape the parsers read.

    Only the `location` is known: dual-region data locations, replica links, several
    snapshot storage locations, secret replicas, sink destinations are not (those fail
    closed), so the scan says so in a note.
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
    if not host.startswith(("storage.", "compute.", "cloudsql.", "bigquery.", "container.")):
        # projects/P/locations/L/...: the parsers read the location (and the parent) from the name
        body["name"] = relative
        body["locationId"] = location or None
        body["clusterName"] = body["id"]
    if host.startswith("spanner."):
        body["config"] = location  # a code that is no configuration resolves to unknown (fails closed)
    return body


__all__ = ["ALL_SERVICES", "INVENTORY_MODES", "PROVIDER", "GcpAdapter", "ProjectInfo"]
