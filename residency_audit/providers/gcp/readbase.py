"""What every Google Cloud reader and parser shares: the reader's view of the scan
(`ReadContext`) and the small helpers that turn Google's JSON into `Resource` records."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from ...model import CopyLink, Location, Resource
from .projects import ProjectInfo

PROVIDER = "gcp"

T = TypeVar("T")

#: Where messages of a topic without a storage policy may be stored: anywhere (fail closed).
NO_STORAGE_POLICY = (
    "no messageStoragePolicy: Pub/Sub may store messages in any region (unless an organisation policy restricts it)"
)


class ReadContext(Protocol):
    """What a reader sees of the scan: one project, the guarded client, and where results go."""

    project: ProjectInfo

    def get_json(self, service: str, path: str, params: dict[str, Any] | None = None, region: str = "") -> Any: ...

    def pages(
        self,
        service: str,
        path: str,
        key: str,
        params: dict[str, Any] | None = None,
        token_param: str = "pageToken",
        region: str = "",
    ) -> Iterator[Any]: ...

    def buckets(self) -> Iterator[dict[str, Any]]: ...

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()` once per scan for `key` (a Spanner configuration, a node's policy, a
        project's regions): what several readers or projects need is read once."""
        ...

    def add(self, resources: Iterable[Resource]) -> None: ...

    def gap(self, region: str, service: str, error: str, code: str = "") -> None: ...


_ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$")


def zone_region(zone: str) -> str | None:
    """europe-west6-a -> europe-west6 (Compute zones are <region>-<letter>); anything else is
    not a zone: None, so that the location is unknown rather than a guessed region."""
    m = _ZONE.match(zone.lower())
    return m.group(1) if m else None


def is_zone(code: str) -> bool:
    return bool(re.search(r"^[a-z]+-[a-z]+\d+-[a-z]$", code))


def last(url: str | None) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1] if url else ""


def lower(code: str | None) -> str | None:
    return code.strip().lower() if code and code.strip() else None


def location_segment(name: str) -> str:
    """projects/P/locations/L/... -> L."""
    m = re.search(r"(?:^|/)locations/([^/]+)", name)
    return m.group(1) if m else ""


def compute_name(ref: Any, project_id: str = "") -> str:
    """A Compute Engine reference as the API returns it (a selfLink of any host or API version,
    or a partial URL `projects/P/zones/Z/disks/D` or `zones/Z/disks/D`) -> the full resource name
    the referenced resource's own record uses (`//compute.googleapis.com/projects/P/...`);
    "" when it names nothing."""
    if not isinstance(ref, str) or not ref.strip():
        return ""
    path = "/" + ref.strip().split("?", 1)[0].split("#", 1)[0].strip("/")
    if "/projects/" in path:
        return "//compute.googleapis.com/projects/" + path.split("/projects/", 1)[1]
    if project_id and path.startswith(("/zones/", "/regions/", "/global/")):
        return f"//compute.googleapis.com/projects/{project_id}{path}"
    return ""


def labels_of(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def place(code: str | None, role: str = "primary", detail: str = "") -> Location:
    """A location code that may be a zone (kept, and its region judged) or anything else."""
    where = lower(code)
    if where and is_zone(where):
        return Location(zone_region(where), role=role, zone=where, detail=detail)
    return Location(where, role=role, detail=detail)


def record(
    project: ProjectInfo,
    kind: str,
    rid: str,
    name: str,
    locations: list[Location],
    labels: dict[str, str] | None = None,
    attributes: dict[str, Any] | None = None,
    links: list[CopyLink] | None = None,
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
        links=links or [],
    )
