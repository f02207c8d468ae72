"""The records that flow through residency-audit.

Adapters produce `Resource`s and `Gap`s; the geography catalog turns each
`Location` into a `Place`; the rule engine produces `Finding`s; outputs and the
store read a `ScanResult`. Plain slotted dataclasses keep start-up and memory
cheap (the pre-deploy gate handles tens of thousands of records).
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

SCHEMA_VERSION = "1.0"

#: Why data is present at a location. Every role counts for residency: a
#: replica in Virginia is as much "data in the US" as a primary there.
Role = Literal["primary", "replica", "backup", "secondary", "edge", "global"]
ROLES: tuple[Role, ...] = ("primary", "replica", "backup", "secondary", "edge", "global")

#: Ordered from least to most severe; thresholds compare by index.
Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "low", "medium", "high", "critical")


def severity_rank(severity: str) -> int:
    """Rank of a severity name; unknown names rank highest so they never hide."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        return len(SEVERITIES)


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


@dataclass(frozen=True, slots=True)
class OwnerNode:
    """One level of the ownership hierarchy (organisation, OU, folder, account...)."""

    kind: str
    id: str
    name: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id, "name": self.name}


@dataclass(frozen=True, slots=True)
class Owner:
    """The entity that owns a resource, with the chain of entities above it.

    `path` runs from the top (organisation / tenant) down to, but not including,
    the direct owner, so `path + (direct,)` is the full chain.
    """

    kind: str  # account | project | subscription | plan
    id: str
    name: str = ""
    path: tuple[OwnerNode, ...] = ()

    @property
    def chain(self) -> tuple[OwnerNode, ...]:
        return (*self.path, OwnerNode(self.kind, self.id, self.name))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "path": [n.to_dict() for n in self.path],
        }


@dataclass(frozen=True, slots=True)
class Location:
    """A place a resource keeps (a copy of) its data, as the provider names it."""

    region: str | None  # None: the provider did not (or could not) say
    role: str = "primary"
    zone: str | None = None  # availability/local zone when it may differ in country
    detail: str = ""  # why this location exists, e.g. "replication rule r1 -> bucket b"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"region": self.region, "role": self.role}
        if self.zone:
            out["zone"] = self.zone
        if self.detail:
            out["detail"] = self.detail
        return out


#: How one resource's data reaches another (`CopyLink.relation`).
#:   copy-of    this resource holds a copy of the target's data (a snapshot of a volume, a
#:              recovery point of a table, a read replica of a database, an image of a snapshot)
#:   copies-to  this resource's data is copied to the target (a bucket replicating to a bucket
#:              in another account, a log sink exporting to a dataset, a backup plan to a vault)
LinkRelation = Literal["copy-of", "copies-to"]
LINK_RELATIONS: tuple[LinkRelation, ...] = ("copy-of", "copies-to")

#: Attribute keys with a meaning for erasure (`copies`): when a copy can be deleted at the earliest
#: (ISO 8601 date or time: retention, a vault lock, a legal hold), and when it was made.
ATTR_EARLIEST_DELETION = "earliest_deletion"
ATTR_COPY_CREATED = "copy_created"


@dataclass(frozen=True, slots=True)
class CopyLink:
    """An explicit link between two resources that hold the same data, so that `copies` can follow
    a data set across kinds, regions and accounts. `target` is the other resource's id as its own
    scan names it (ARN, full resource name, ARM id); it may be a resource no scan saw."""

    relation: str  # a LinkRelation
    target: str
    how: str  # replication | snapshot | backup | image | read-replica | export | ...
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"relation": self.relation, "target": self.target, "how": self.how}
        if self.detail:
            out["detail"] = self.detail
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CopyLink:
        return cls(
            str(d.get("relation", "")), str(d.get("target", "")), str(d.get("how", "")), str(d.get("detail", ""))
        )


@dataclass(slots=True)
class Resource:
    provider: str  # aws | gcp | azure
    kind: str  # e.g. s3.bucket, ec2.instance
    id: str  # canonical id: ARN, full resource name, ARM id, or plan address
    name: str
    owner: Owner
    locations: list[Location]
    tags: dict[str, str] = field(default_factory=dict)
    #: Where the record came from: "api" for live scans, "plan" for Terraform.
    source: str = "api"
    #: Extra facts for rules and reports (e.g. Terraform address, file, line).
    attributes: dict[str, Any] = field(default_factory=dict)
    #: data | compute | network | control | unknown (see `kinds`); "" until classified.
    category: str = ""
    #: How deeply its locations are known: "footprint" (replicas, backups and other copies are
    #: modelled), "primary" (only where it primarily lives), "parent" (judged with `part_of`);
    #: "" where the adapter does not say.
    judged: str = ""
    #: A settings record (bucket policy, storage container...) judged as part of this resource.
    part_of: str = ""
    #: Other resources holding the same data (see `CopyLink`); followed by `copies`.
    links: list[CopyLink] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Gap:
    """Something the scan could not read. A gap makes the scan incomplete."""

    provider: str
    scope: str  # account / project / subscription id, or "" when not known
    region: str  # "" for global services
    service: str
    error: str  # one line, no secrets
    code: str = ""  # provider error code (AccessDenied, 403, Throttling...)

    def to_dict(self) -> dict[str, str]:
        return {
            "provider": self.provider,
            "scope": self.scope,
            "region": self.region,
            "service": self.service,
            "error": self.error,
            "code": self.code,
        }


@dataclass(frozen=True, slots=True)
class Place:
    """What the geography catalog knows about a location code."""

    provider: str
    code: str
    name: str
    kind: str  # region | zone | multi-region | dual-region | logical | unknown
    countries: tuple[str, ...]  # ISO 3166-1 alpha-2; empty when unknown
    in_eu: bool  # True only when every country is an EU member state
    known: bool
    members: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] = ()  # countries whose law reaches the operator
    operator: str = ""
    source: str = ""
    note: str = ""
    #: Azure: where geo-redundant storage keeps its secondary ("" when none).
    paired_region: str = ""
    #: AWS partition / Azure cloud the location belongs to ("" for the public one).
    partition: str = ""
    #: The provider's own words for where it is (Azure metadata.physicalLocation).
    physical_location: str = ""
    #: For a Local/Wavelength zone: the region it hangs off (which may be in another country).
    parent: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "countries": list(self.countries),
            "in_eu": self.in_eu,
            "known": self.known,
            "members": list(self.members),
            "jurisdictions": list(self.jurisdictions),
            "operator": self.operator,
            "source": self.source,
            "note": self.note,
            "paired_region": self.paired_region,
            "partition": self.partition,
            "physical_location": self.physical_location,
            "parent": self.parent,
        }


@dataclass(frozen=True, slots=True)
class ResolvedLocation:
    location: Location
    place: Place


@dataclass(slots=True)
class Finding:
    rule_id: str
    severity: Severity
    resource: Resource
    location: ResolvedLocation | None
    message: str
    clause: str = ""
    title: str = ""
    #: Set when an exception (accepted risk) covers this finding.
    suppressed_by: str | None = None

    @property
    def resource_id(self) -> str:
        return self.resource.id

    @property
    def region(self) -> str | None:
        return self.location.location.region if self.location else None

    @property
    def countries(self) -> tuple[str, ...]:
        return self.location.place.countries if self.location else ()

    @property
    def fingerprint(self) -> str:
        """Stable identity across scans, for diffs and suppressions."""
        loc = self.location.location if self.location else None
        where = f"{loc.role}:{loc.region}:{loc.zone or ''}" if loc else "-"
        return f"{self.rule_id}|{self.resource.id}|{where}"


@dataclass(frozen=True, slots=True)
class ScanRequest:
    """What was asked, fixed before the scan starts. Facts the scan learns (an organisation's
    id, the inventory path it used) go to `Scan.context`, never into the request: the
    request is what scans are compared by (same target, same question)."""

    provider: str
    scopes: tuple[str, ...] = ()
    regions: tuple[str, ...] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "scopes": list(self.scopes),
            "regions": list(self.regions) if self.regions is not None else None,
            "options": dict(self.options),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ScanRequest:
        regions = d.get("regions")
        return cls(
            str(d.get("provider", "")),
            tuple(d.get("scopes") or ()),
            tuple(regions) if regions is not None else None,
            dict(d.get("options") or {}),
        )


@dataclass(frozen=True, slots=True)
class RunPolicy:
    """How a run's result becomes an exit code: handed to every renderer that shows pass or fail
    (JUnit failures, the Markdown verdict), so they cannot disagree with the exit code."""

    fail_on: str = "low"
    exit_zero: bool = False
    allow_gaps: bool = False

    def failing(self, finding: Finding) -> bool:
        return not finding.suppressed_by and severity_rank(finding.severity) >= severity_rank(self.fail_on)


#: Facts in `Scan.context` that say how a scan looked, not what it looked at: they are shown,
#: but two scans that differ only in them are still scans of the same target.
NOT_IDENTITY = frozenset({"inventory"})


def target_of(request: ScanRequest) -> tuple[str, str]:
    """(key, label) of what a scan looked at: only scans of the same target are diffed.

    A scan of two regions compared with a scan of all regions would report every
    other region's findings as "resolved".
    """
    import hashlib
    import json

    d = request.to_dict()
    d["options"] = {k: v for k, v in d["options"].items() if k not in NOT_IDENTITY}
    canon = {
        "provider": d["provider"],
        "scopes": sorted(d["scopes"]),
        "regions": sorted(d["regions"]) if d["regions"] is not None else None,
        "options": d["options"],
    }
    key = hashlib.sha256(json.dumps(canon, sort_keys=True, default=str).encode()).hexdigest()[:16]
    parts = [d["provider"]]
    if canon["scopes"]:
        parts.append("scopes=" + ",".join(canon["scopes"]))
    parts.append("regions=" + (",".join(canon["regions"]) if canon["regions"] is not None else "all"))
    for k, v in sorted(d["options"].items()):
        parts.append(f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}")
    return key, " ".join(parts)


@dataclass(slots=True)
class Scan:
    request: ScanRequest
    # 128 random bits, as uuid4().hex has (less 6 fixed bits): without importing uuid (and platform) on every run
    id: str = field(default_factory=lambda: os.urandom(16).hex())
    started_at: _dt.datetime = field(default_factory=utcnow)
    finished_at: _dt.datetime | None = None
    gaps: list[Gap] = field(default_factory=list)
    interrupted: bool = False
    #: API calls made, per service (economy of calls is a feature).
    api_calls: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: What the scan learned about its scope while it ran: the organisation it walked, the
    #: accounts it chose, the inventory path it used per scope (`Collector.learn`).
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.gaps and not self.interrupted

    def effective_request(self) -> ScanRequest:
        """The request as reports describe and compare it: what was asked, with what the scan
        learned of its scope (learned scopes replace asked ones; other facts join the options)."""
        if not self.context:
            return self.request
        learned = dict(self.context)
        scopes = learned.pop("scopes", None)
        return ScanRequest(
            self.request.provider,
            tuple(scopes) if isinstance(scopes, list | tuple) else self.request.scopes,
            self.request.regions,
            {**self.request.options, **learned},
        )


def holds_data(resource: Resource) -> bool:
    """False for the records that describe controls rather than data: a guardrail's
    locations are what a policy *allows*, an exception entry has none. Neither is data
    in a country, so "data per country" views skip them (findings on them still count)."""
    return not (resource.kind.startswith("guardrail.") or resource.kind == "exception")


T = TypeVar("T")


class Records(Protocol[T]):
    """What a `ScanResult` holds its resources and findings in: a list, or for a large scan a
    sequence read back from a temporary file (`spool`): read them by iterating (each item read
    back is a fresh object: change one and append it, not in place), count them with `len`."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[T]: ...

    def __getitem__(self, index: int, /) -> T: ...

    def append(self, item: T, /) -> None: ...

    def extend(self, items: Iterable[T], /) -> None: ...


@dataclass(slots=True)
class ScanResult:
    scan: Scan
    resources: Records[Resource]
    findings: Records[Finding]
    #: Resolved locations per resource id, in the order of `Resource.locations`.
    resolved: MutableMapping[str, list[ResolvedLocation]] = field(default_factory=dict)

    def position_of(self) -> Callable[[str], int | None]:
        """Resource id -> its index in `resources` (a spooled scan answers from its index)."""
        finder = getattr(self.resources, "position", None)
        if callable(finder):
            return finder  # type: ignore[no-any-return]
        return {r.id: i for i, r in enumerate(self.resources)}.get

    def data_locations(self) -> Iterator[list[ResolvedLocation]]:
        """The resolved locations of each resource that holds data (see `holds_data`)."""
        for r in self.resources:
            if holds_data(r):
                yield self.resolved.get(r.id, [])


def coverage_by_type(resources: Iterable[Resource]) -> list[dict[str, Any]]:
    """How deeply each type was judged: per Terraform type (plans) or kind (live scans), its
    category and how many records had their footprint modelled, only their primary location
    judged, or were judged with a parent. Outputs show it so "primary only" is never silent."""
    table: dict[str, dict[str, Any]] = {}
    for r in resources:
        key = str(r.attributes.get("type") or r.kind)
        row = table.get(key)
        if row is None:
            row = table[key] = {"type": key, "kind": r.kind, "category": r.category or "unknown", "resources": 0}
            row["judged"] = {}
        row["resources"] += 1
        judged = r.judged or "undeclared"  # a live kind whose depth its adapter does not declare yet
        row["judged"][judged] = row["judged"].get(judged, 0) + 1
    return [table[k] for k in sorted(table)]
