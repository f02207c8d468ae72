"""Every copy of a data set: the erasure and hand-over checklist (agreement art. 21-22).

A data set is chosen by a `Selector` (tags, owners, resource ids or globs). Its copies
are the selected resources' own locations (primary, replicas, backups, geo-secondaries)
and every resource reached through `CopyLink`s across kinds and accounts: downstream of
the selected resources and of their sources (a snapshot of a volume of the instance, a
bucket the selected bucket replicates to, a recovery point of the table), never upstream of
a copy (another bucket replicating into the same destination holds other data). What the tool cannot see is listed too,
as "not verifiable", never left out: a link to a resource no scan saw, a kind whose
copies are not modelled, a part of the estate a scan could not read.

`verify` compares a checklist with scans made after the deletion: what still exists,
what a retention period or lock keeps beyond the one-month limit, what appeared since.
Pure functions over `ScanResult`s: the store, the files and the renderers are elsewhere.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .model import ATTR_EARLIEST_DELETION, ResolvedLocation, Resource, ScanResult, holds_data, target_of

Status = Literal["present", "not verifiable"]


@dataclass(frozen=True, slots=True)
class Selector:
    """Which data set: every given tag (AND), and any given owner, and any given resource."""

    #: (key, value); value None: the key with any value
    tags: tuple[tuple[str, str | None], ...] = ()
    #: account / project / subscription / folder / OU / organisation / management group ids
    owners: tuple[str, ...] = ()
    #: resource ids or names, or shell-style globs of them
    resources: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.tags or self.owners or self.resources)

    def matches(self, r: Resource) -> bool:
        for key, value in self.tags:
            if key not in r.tags or (value is not None and r.tags[key] != value):
                return False
        if self.owners:
            ids = {n.id for n in r.owner.chain} | {f"{n.kind}/{n.id}" for n in r.owner.chain}
            if not ids & set(self.owners):
                return False
        return not self.resources or any(
            fnmatch.fnmatchcase(r.id, p) or fnmatch.fnmatchcase(r.name, p) for p in self.resources
        )

    def describe(self) -> str:
        parts = [f"tag {k}={v}" if v is not None else f"tag {k}" for k, v in self.tags]
        parts += [f"owner {o}" for o in self.owners]
        parts += [f"resource {p}" for p in self.resources]
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tags": [{"key": k, "value": v} for k, v in self.tags],
            "owners": list(self.owners),
            "resources": list(self.resources),
        }


@dataclass(frozen=True, slots=True)
class Copy:
    """One place a copy of the data set lives (or may live: `status` "not verifiable")."""

    status: Status
    resource_id: str
    kind: str = ""
    name: str = ""
    provider: str = ""
    owner: str = ""  # "account 1111 (prod)"
    region: str | None = None
    place: str = ""
    countries: tuple[str, ...] = ()
    in_eu: bool = False
    role: str = ""
    #: how the data set reaches it: "selected", or the link's kind (snapshot, replication, ...)
    how: str = ""
    #: the resource it was reached from ("" for a selected resource)
    via: str = ""
    detail: str = ""
    #: "yes" (in a scanned account/project/subscription), or why it is not known
    controlled: str = ""
    earliest_deletion: str = ""
    scan_id: str = ""
    #: why it is not verifiable
    reason: str = ""

    @property
    def key(self) -> tuple[str, str, str | None]:
        """Identity across scans: the same copy is the same resource at the same role and region."""
        return (self.resource_id, self.role, self.region)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "resource_id": self.resource_id,
            "kind": self.kind,
            "name": self.name,
            "provider": self.provider,
            "owner": self.owner,
            "region": self.region,
            "place": self.place,
            "countries": list(self.countries),
            "in_eu": self.in_eu,
            "role": self.role,
            "how": self.how,
            "via": self.via,
            "detail": self.detail,
            "controlled": self.controlled,
            "earliest_deletion": self.earliest_deletion or None,
            "scan_id": self.scan_id,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Copy:
        status: Status = "not verifiable" if d.get("status") == "not verifiable" else "present"
        return cls(
            status=status,
            resource_id=str(d.get("resource_id", "")),
            kind=str(d.get("kind") or ""),
            name=str(d.get("name") or ""),
            provider=str(d.get("provider") or ""),
            owner=str(d.get("owner") or ""),
            region=d.get("region") if isinstance(d.get("region"), str) else None,
            place=str(d.get("place") or ""),
            countries=tuple(str(c) for c in d.get("countries") or ()),
            in_eu=bool(d.get("in_eu")),
            role=str(d.get("role") or ""),
            how=str(d.get("how") or ""),
            via=str(d.get("via") or ""),
            detail=str(d.get("detail") or ""),
            controlled=str(d.get("controlled") or ""),
            earliest_deletion=str(d.get("earliest_deletion") or ""),
            scan_id=str(d.get("scan_id") or ""),
            reason=str(d.get("reason") or ""),
        )


@dataclass(frozen=True, slots=True)
class ScanUsed:
    """A scan a checklist was made from, as evidence names it."""

    id: str
    target: str
    started_at: str
    complete: bool

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "target": self.target, "started_at": self.started_at, "complete": self.complete}


@dataclass(slots=True)
class Checklist:
    selector: Selector
    scans: list[ScanUsed] = field(default_factory=list)
    copies: list[Copy] = field(default_factory=list)

    @property
    def present(self) -> list[Copy]:
        return [c for c in self.copies if c.status == "present"]

    @property
    def unverifiable(self) -> list[Copy]:
        return [c for c in self.copies if c.status == "not verifiable"]

    @property
    def complete(self) -> bool:
        """Every copy is verifiable and every scan was complete."""
        return not self.unverifiable and all(s.complete for s in self.scans)

    def to_dict(self) -> dict[str, Any]:
        return {
            "selector": self.selector.to_dict(),
            "scans": [s.to_dict() for s in self.scans],
            "summary": {
                "copies": len(self.present),
                "not_verifiable": len(self.unverifiable),
                "outside_eu": sum(1 for c in self.present if not c.in_eu),
                "complete": self.complete,
            },
            "copies": [c.to_dict() for c in self.copies],
        }


def _owner(r: Resource) -> str:
    o = r.owner
    return f"{o.kind} {o.id}" + (f" ({o.name})" if o.name else "")


def _is_data(r: Resource) -> bool:
    return holds_data(r) and not r.part_of


def _row(r: Resource, rl: ResolvedLocation, how: str, via: str, scan_id: str) -> Copy:
    loc, place = rl.location, rl.place
    earliest = r.attributes.get(ATTR_EARLIEST_DELETION)
    return Copy(
        status="present",
        resource_id=r.id,
        kind=r.kind,
        name=r.name,
        provider=r.provider,
        owner=_owner(r),
        region=loc.region,
        place=place.name if place.known else f"unknown ({loc.region or 'no location'})",
        countries=place.countries,
        in_eu=place.in_eu,
        role=loc.role,
        how=how,
        via=via,
        detail=loc.detail,
        controlled="yes",
        earliest_deletion=str(earliest) if earliest else "",
        scan_id=scan_id,
    )


def _unverifiable(r: Resource, result: ScanResult, how: str, via: str, reason: str) -> Copy:
    """A resource a scan saw whose copies (or whose own place) the scan could not establish."""
    return Copy(
        status="not verifiable",
        resource_id=r.id,
        kind=r.kind,
        name=r.name,
        provider=r.provider,
        owner=_owner(r),
        how=how,
        via=via,
        controlled="yes",
        scan_id=result.scan.id,
        reason=reason,
    )


def scan_label(result: ScanResult) -> str:
    return target_of(result.scan.effective_request())[1]


def build(results: Sequence[ScanResult], selector: Selector) -> Checklist:
    """The checklist of `selector`'s data set over `results` (the latest scan of each target)."""
    checklist = Checklist(selector)
    where: dict[str, tuple[Resource, ScanResult]] = {}
    for result in sorted(results, key=lambda x: x.scan.started_at):  # a newer scan's record wins
        checklist.scans.append(
            ScanUsed(result.scan.id, scan_label(result), result.scan.started_at.isoformat(), result.scan.complete)
        )
        for r in result.resources:
            if _is_data(r):
                where[r.id] = (r, result)
    # Data flows along a link: "copies-to" from the resource to its target, "copy-of" from the
    # target to the resource. The data set is in everything downstream of the selected resources
    # and of their sources (a selected snapshot's volume holds the same data, and so do the
    # volume's other snapshots) -- but not upstream of a copy: a bucket that replicates into
    # the same destination as a selected bucket holds other data.
    down: dict[str, list[tuple[str, str]]] = {}
    up: dict[str, list[tuple[str, str]]] = {}
    for r, _ in where.values():
        for link in r.links:
            src, dst = (r.id, link.target) if link.relation == "copies-to" else (link.target, r.id)
            down.setdefault(src, []).append((dst, link.how))
            up.setdefault(dst, []).append((src, link.how))
    seeds = [rid for rid, (r, _) in where.items() if selector.matches(r)]
    reached: dict[str, tuple[str, str]] = {rid: ("selected", "") for rid in seeds}
    for edges, label in ((up, "{} source"), (down, "{}")):
        queue = deque(reached)
        while queue:
            rid = queue.popleft()
            for other, how in edges.get(rid, ()):
                if other not in reached:
                    reached[other] = (label.format(how), rid)
                    queue.append(other)
    for rid, (how, via) in reached.items():
        found = where.get(rid)
        if found is None:
            checklist.copies.append(
                Copy(
                    status="not verifiable",
                    resource_id=rid,
                    how=how,
                    via=via,
                    controlled="not known: outside the scanned estate",
                    reason="no scan used here saw it (another account, or a service or kind not read): "
                    "whether it exists cannot be checked",
                )
            )
            continue
        r, result = found
        resolved = result.resolved.get(r.id, [])
        for rl in resolved:
            checklist.copies.append(_row(r, rl, how, via, result.scan.id))
        if not resolved:
            checklist.copies.append(_unverifiable(r, result, how, via, "the scan recorded no location for it"))
        if r.judged != "footprint":
            reason = (
                f"the copies a {r.kind} may keep elsewhere (replicas, backups) are not modelled: "
                "only its primary location was judged"
            )
            checklist.copies.append(_unverifiable(r, result, "copies it may keep", r.id, reason))
    checklist.copies.extend(_blind_spots(results, selector))
    return checklist


def _blind_spots(results: Iterable[ScanResult], selector: Selector) -> list[Copy]:
    """What the scans could not read: copies there can be neither listed nor ruled out."""
    out: list[Copy] = []
    for result in results:
        scan = result.scan
        for gap in scan.gaps:
            if selector.owners and gap.scope and not ({gap.scope, gap.scope.rsplit("/", 1)[-1]} & set(selector.owners)):
                continue  # a gap in another owner cannot hide this owner's copies
            where = " ".join(x for x in (gap.scope, gap.region, gap.service) if x) or "part of the estate"
            out.append(
                Copy(
                    status="not verifiable",
                    resource_id=f"{gap.provider}:{where}",
                    provider=gap.provider,
                    owner=gap.scope,
                    region=gap.region or None,
                    how="not read",
                    controlled="not known",
                    scan_id=scan.id,
                    reason=f"the scan could not read {where} ({gap.code or 'error'}: {gap.error})",
                )
            )
        if scan.interrupted:
            out.append(
                Copy(
                    status="not verifiable",
                    resource_id=f"scan {scan.id}",
                    how="not read",
                    controlled="not known",
                    scan_id=scan.id,
                    reason="the scan was interrupted: what it did not reach cannot be checked",
                )
            )
    return out


# --------------------------------------------------------------------------- after the deletion


def one_month_after(day: dt.date) -> dt.date:
    """The same day of the next month (the month's last day when it has no such day)."""
    import calendar

    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _date_of(value: str) -> dt.date | None:
    try:
        return dt.datetime.fromisoformat(value).date()
    except ValueError:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class Remaining:
    copy: Copy
    #: the copy can only be deleted after the deadline (retention, a vault lock, a legal hold)
    retained_beyond: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {**self.copy.to_dict(), "retained_beyond_deadline": self.retained_beyond}


@dataclass(slots=True)
class Verification:
    checklist: Checklist
    after: Checklist
    since: dt.date
    deadline: dt.date
    remaining: list[Remaining] = field(default_factory=list)
    appeared: list[Copy] = field(default_factory=list)
    erased: list[Copy] = field(default_factory=list)
    #: targets of the checklist that no scan after `since` covers
    unscanned: list[str] = field(default_factory=list)

    @property
    def unverifiable(self) -> list[Copy]:
        seen: set[tuple[str, str, str | None, str]] = set()
        out = []
        for c in [*self.checklist.unverifiable, *self.after.unverifiable]:
            k = (*c.key, c.reason)
            if k not in seen:
                seen.add(k)
                out.append(c)
        return out

    @property
    def complete(self) -> bool:
        return not self.unscanned and self.after.complete and not self.unverifiable

    @property
    def erased_all(self) -> bool:
        return not self.remaining and not self.appeared

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "deadline": self.deadline.isoformat(),
            "verdict": self.verdict,
            "summary": {
                "checklist": len(self.checklist.present),
                "erased": len(self.erased),
                "remaining": len(self.remaining),
                "retained_beyond_deadline": sum(1 for r in self.remaining if r.retained_beyond),
                "appeared": len(self.appeared),
                "not_verifiable": len(self.unverifiable),
                "unscanned_targets": list(self.unscanned),
            },
            "selector": self.checklist.selector.to_dict(),
            "scans_before": [s.to_dict() for s in self.checklist.scans],
            "scans_after": [s.to_dict() for s in self.after.scans],
            "remaining": [r.to_dict() for r in self.remaining],
            "appeared": [c.to_dict() for c in self.appeared],
            "erased": [c.to_dict() for c in self.erased],
            "not_verifiable": [c.to_dict() for c in self.unverifiable],
        }

    @property
    def verdict(self) -> str:
        if not self.erased_all:
            return "copies remain"
        if not self.complete:
            return "not proven: part of the estate could not be checked"
        return "erased: no copy remains"


def verify(checklist: Checklist, after: Sequence[ScanResult], since: dt.date) -> Verification:
    """The checklist against the scans made after the deletion began."""
    later = build(after, checklist.selector)
    # a copy still exists when its resource still holds data at that role and region
    present_after: dict[tuple[str, str, str | None], Copy] = {c.key: c for c in later.present}
    still = set()
    for r in after:
        for res in r.resources:
            if _is_data(res):
                for rl in r.resolved.get(res.id, []):
                    still.add((res.id, rl.location.role, rl.location.region))
    deadline = one_month_after(since)
    out = Verification(checklist, later, since, deadline)
    for c in checklist.present:
        if c.key in still:
            current = present_after.get(c.key, c)
            earliest = _date_of(current.earliest_deletion) if current.earliest_deletion else None
            out.remaining.append(Remaining(current, retained_beyond=earliest is not None and earliest > deadline))
        else:
            out.erased.append(c)
    before_keys = {c.key for c in checklist.present}
    out.appeared = [c for c in later.present if c.key not in before_keys]
    after_targets = {s.target for s in later.scans}
    out.unscanned = sorted({s.target for s in checklist.scans} - after_targets)
    return out
