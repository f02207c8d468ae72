"""Google Cloud: the scan of the projects in scope, every declared kind.

The projects and their folder/organisation chains first (`projects.py`), then per
inventory scope (a requested organisation or folder, else each visible organisation,
else each project) one paged Cloud Asset Inventory search, or, where that is not usable,
one task per (project, service) running the readers of that service's kinds
(`readers.py`, chosen through `kinds.py`). Every request goes through the guarded client
of `client.py`; a failure is a gap for exactly that project (or scope) and service.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ...core import Collector
from ...model import Gap, Resource
from ..base import ReadOnlyViolation, WorkerPool, error_code
from . import readers
from .client import GcpClient, connect, describe
from .kinds import ASSET_TYPES, KINDS, SERVICES
from .projects import ProjectInfo, asset_project, discover

PROVIDER = "gcp"
INVENTORY_MODES = ("auto", "asset", "services")
ALL_SERVICES = SERVICES

_KINDS = {k.name: k for k in KINDS}
#: service -> the readers of its kinds, in the order they run (kinds may share one)
READERS: dict[str, tuple[Callable[[readers.ReadContext], None], ...]] = {
    s: tuple(getattr(readers, r) for r in dict.fromkeys(k.reader for k in KINDS if k.service == s)) for s in SERVICES
}
#: kind -> the parser of its JSON (the Asset Inventory path)
PARSERS: dict[str, Callable[[ProjectInfo, list[dict[str, Any]]], list[Resource]]] = {
    k.name: getattr(readers, k.parser) for k in KINDS
}


def _declared(resources: Iterable[Resource]) -> Iterator[Resource]:
    """Each record as its kind declares it: category, and whether its footprint is modelled."""
    for r in resources:
        kind = _KINDS[r.kind]
        r.category, r.judged = kind.category, kind.judged
        yield r


class _Context:
    """A reader's view of one project (`readers.ReadContext`)."""

    def __init__(self, client: GcpClient, collector: Collector, project: ProjectInfo) -> None:
        self.project = project
        self._client = client
        self._collector = collector

    def get_json(self, service: str, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._client.get_json(service, path, params)

    def pages(
        self, service: str, path: str, key: str, params: dict[str, Any] | None = None, token_param: str = "pageToken"
    ) -> Iterator[Any]:
        return self._client.pages(service, path, key, params, token_param)

    def buckets(self) -> Iterator[dict[str, Any]]:
        return self._client.buckets(self.project.project_id)

    def add(self, resources: Iterable[Resource]) -> None:
        self._collector.extend(_declared(resources))

    def gap(self, region: str, service: str, error: str) -> None:
        self._collector.gap(Gap(PROVIDER, self.project.project_id, region, service, error, ""))


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
        # Ctrl-C (or a fatal error): running tasks stop at their next request (the guard
        # raises ScanCancelled), and the caller gets control back now to write what was
        # collected, without waiting for them.
        WorkerPool(self.max_workers, "gcp", self.client.stop).run(
            [
                lambda s=scope, ps=projects: self._inventory_scope(collector, s, ps, targets)  # type: ignore[misc]
                for scope, projects in self._asset_scopes(targets).items()
            ]
        )

    def _inventory_scope(
        self, collector: Collector, scope: str, projects: list[ProjectInfo], targets: dict[str, ProjectInfo]
    ) -> list[Callable[[], None]]:
        if self.inventory in ("auto", "asset"):
            collector.progress.add_work(f"gcp:{scope}", 1)
            try:
                self._asset_search(collector, scope, targets)
                collector.learn("inventory", "asset", scope=scope)
                collector.note(f"gcp: {scope}: inventoried with Cloud Asset Inventory (searchAllResources)")
                return []
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
        tasks: list[Callable[[], None]] = []
        for project in projects:
            # Announced before the first task can finish: the display never passes 100%.
            collector.progress.add_work(f"gcp:{project.project_id}", len(self.services))
            ctx = _Context(self.client, collector, project)
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

    def _asset_search(self, collector: Collector, scope: str, targets: dict[str, ProjectInfo]) -> None:
        """One paged searchAllResources call for the whole scope; the resource JSON feeds the parsers."""
        wanted = {t for t, kind in ASSET_TYPES.items() if _KINDS[kind].service in self.services}
        params: list[tuple[str, Any]] = [("assetTypes", t) for t in sorted(wanted)]
        params += [("readMask", "*"), ("pageSize", 500)]
        by_number = {p.number: p for p in targets.values()}
        batches: dict[tuple[str, str], tuple[ProjectInfo, list[dict[str, Any]]]] = {}
        token = ""
        summaries = 0
        for _ in range(100_000):
            doc = self.client.get_json(
                "cloudasset", f"/v1/{scope}:searchAllResources", [*params, *([("pageToken", token)] if token else [])]
            )
            for result in doc.get("results") or []:
                kind = ASSET_TYPES.get(str(result.get("assetType", "")))
                if kind is None:
                    continue
                number = str(result.get("project", "")).split("/")[-1]
                project = by_number.get(number) or asset_project(number, result)
                body = _asset_body(result)
                if body is None:
                    summaries += 1
                    body = _asset_summary(result)
                batches.setdefault((project.project_id, kind), (project, []))[1].append(body)
            token = str(doc.get("nextPageToken") or "")
            if not token:
                break
        for (_, kind), (project, items) in batches.items():
            collector.extend(_declared(PARSERS[kind](project, items)))
        if summaries:
            collector.note(
                f"gcp: {scope}: {summaries} Asset Inventory results without versionedResources: their locations "
                "are the search result's `location` only (no dual-region data locations or replica links); "
                "use --inventory services for those"
            )


def _asset_body(result: dict[str, Any]) -> dict[str, Any] | None:
    """The service's own JSON from versionedResources (None when the result has none)."""
    for version in result.get("versionedResources") or []:
        body = version.get("resource")
        if isinstance(body, dict) and body:
            return body
    return None


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


__all__ = ["ALL_SERVICES", "INVENTORY_MODES", "PROVIDER", "GcpAdapter", "ProjectInfo"]
