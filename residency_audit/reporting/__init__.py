"""Compliance reports over the recorded scan history: state, changes, groups, evidence.

`build()` turns stored scans into a `Report` (plain data); the renderers
(html, markdown, csvout, jsonout) only format it. Nothing here knows a provider.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..model import Finding, Gap, ScanResult, severity_rank, utcnow

if TYPE_CHECKING:
    from ..store.sql import ScanInfo, Store
    from .shards import Merged

#: Report formats -> file suffix.
FORMATS = {"html": ".html", "md": ".md", "csv": ".csv", "json": ".json"}

NO_ORG = "(no organisation)"


@dataclass(frozen=True, slots=True)
class Move:
    """A resource seen in both scans whose set of (role, region) locations changed."""

    resource_id: str
    kind: str
    name: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    countries_before: tuple[str, ...]
    countries_after: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SeenGap:
    gap: Gap
    scan_id: str
    started_at: _dt.datetime


@dataclass(slots=True)
class Diff:
    new: list[Finding] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)
    moved: list[Move] = field(default_factory=list)
    added_resources: list[str] = field(default_factory=list)
    removed_resources: list[str] = field(default_factory=list)
    #: Gaps of scans recorded after the current state (they are why those scans do not count).
    gaps_appeared: list[SeenGap] = field(default_factory=list)
    #: Findings seen only in incomplete scans after the current state: reported, never hidden.
    unconfirmed: list[Finding] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OwnerGroup:
    organisation: str
    owner: str  # "account 123456789012 (prod)"
    findings: int
    by_severity: dict[str, int]


#: A place of more countries than this (a multi-region such as GCS "EU") is one row, counted once.
MANY_COUNTRIES = 3


@dataclass(frozen=True, slots=True)
class PlaceData:
    """One row of "Where the data lives": a country, a multi-region (counted once, however
    many member states), or the locations nobody can place."""

    label: str  # "NL", "eu", "unknown"
    countries: tuple[str, ...]  # the country, a multi-region's members; () when unknown
    resources: int  # resources holding data there (any location role)
    verdict: str  # "eu" | "outside" | "unknown"
    multi: bool = False


@dataclass(frozen=True, slots=True)
class CountryData:
    """What the map shows for one country: resources with data there, directly or as a member
    of a multi-region (`via_multi` of them only that way)."""

    country: str
    resources: int
    via_multi: int
    verdict: str  # "eu" | "outside"


@dataclass(slots=True)
class Report:
    generated_at: _dt.datetime
    store: str
    target: str
    target_label: str
    other_targets: dict[str, str]
    #: Scans the report covers, oldest first (the trend).
    history: list[ScanInfo]
    #: The latest complete scan (or, when none is complete, the latest scan, flagged partial).
    current: ScanResult | None
    baseline: ScanResult | None
    newer_incomplete: list[ScanResult]
    diff: Diff
    partial: bool = False
    #: merged scan id -> its shards, for every merged scan among current, baseline and newer.
    merged: dict[str, Merged] = field(default_factory=dict)

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.current.findings if not f.suppressed_by] if self.current else []

    @property
    def suppressed(self) -> list[Finding]:
        return [f for f in self.current.findings if f.suppressed_by] if self.current else []

    _new_fps: frozenset[str] | None = None

    def status_of(self, f: Finding) -> str:
        """'new' when absent from the baseline (everything is new without one), else 'unchanged'."""
        if self._new_fps is None:
            self._new_fps = frozenset(x.fingerprint for x in self.diff.new)
        return "new" if f.fingerprint in self._new_fps else "unchanged"

    def by_owner(self) -> list[OwnerGroup]:
        groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
        for f in self.active:
            groups[(organisation_of(f), owner_label(f))].append(f)
        return [
            OwnerGroup(org, owner, len(fs), dict(sorted(Counter(f.severity for f in fs).items(), key=_sev_key)))
            for (org, owner), fs in sorted(groups.items())
        ]

    def by_country(self) -> list[tuple[str, int]]:
        c: Counter[str] = Counter()
        for f in self.active:
            for country in f.countries or ("??",):
                c[country] += 1
        return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))

    def by_rule(self) -> list[tuple[str, str, str, int]]:
        """(rule id, severity, title, count), most severe first."""
        c: Counter[tuple[str, str, str]] = Counter((f.rule_id, f.severity, f.title) for f in self.active)
        return sorted(((r, s, ti, n) for (r, s, ti), n in c.items()), key=lambda x: (-severity_rank(x[1]), x[0]))

    def data_by_country(self) -> list[tuple[str, int, bool]]:
        """(country, locations holding data there, EU member?) over the current state; '??' is unknown."""
        from ..geography import eu_members

        if self.current is None:
            return []
        members = eu_members()
        c: Counter[str] = Counter()
        for rls in self.current.data_locations():
            for rl in rls:
                for country in rl.place.countries or ("??",):
                    c[country] += 1
        return [(k, n, k in members) for k, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))]

    def data_places(self) -> list[PlaceData]:
        """Where the current state holds data, most first: each resource counted once per row."""
        from ..geography import eu_members

        if self.current is None:
            return []
        members = eu_members()
        counts: Counter[tuple[str, tuple[str, ...], str, bool]] = Counter()
        for rls in self.current.data_locations():
            keys: set[tuple[str, tuple[str, ...], str, bool]] = set()
            for rl in rls:
                place = rl.place
                if not place.countries:
                    keys.add(("unknown", (), "unknown", False))
                elif len(place.countries) > MANY_COUNTRIES:
                    keys.add((place.code, tuple(place.countries), "eu" if place.in_eu else "outside", True))
                else:
                    keys.update((c, (c,), "eu" if c in members else "outside", False) for c in place.countries)
            counts.update(keys)
        rows = [PlaceData(label, where, n, verdict, multi) for (label, where, verdict, multi), n in counts.items()]
        return sorted(rows, key=lambda p: (-p.resources, p.multi, p.label))

    def data_countries(self) -> dict[str, CountryData]:
        """Per country, for the map: a multi-region's resources count in each of its members."""
        from ..geography import eu_members

        if self.current is None:
            return {}
        members = eu_members()
        direct: Counter[str] = Counter()
        multi: Counter[str] = Counter()
        for rls in self.current.data_locations():
            mine: set[str] = set()
            through: set[str] = set()
            for rl in rls:
                countries = rl.place.countries
                (through if len(countries) > MANY_COUNTRIES else mine).update(countries)
            direct.update(mine)
            multi.update(through - mine)
        return {
            c: CountryData(c, direct[c] + multi[c], multi[c], "eu" if c in members else "outside")
            for c in sorted(set(direct) | set(multi))
        }


def _sev_key(kv: tuple[str, int]) -> int:
    return -severity_rank(kv[0])


def organisation_of(f: Finding) -> str:
    path = f.resource.owner.path
    if not path:
        return NO_ORG
    top = path[0]
    return f"{top.kind} {top.id}" + (f" ({top.name})" if top.name else "")


def owner_label(f: Finding) -> str:
    o = f.resource.owner
    return f"{o.kind} {o.id}" + (f" ({o.name})" if o.name else "")


def _location_set(result: ScanResult, resource_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    rls = result.resolved.get(resource_id, [])
    where = tuple(sorted({f"{rl.location.role}:{rl.location.region or '?'}" for rl in rls}))
    countries = tuple(sorted({c for rl in rls for c in (rl.place.countries or ("??",))}))
    return where, countries


def diff(current: ScanResult | None, baseline: ScanResult | None, newer: list[ScanResult]) -> Diff:
    d = Diff()
    if current is not None:
        cur_fp = {f.fingerprint for f in current.findings if not f.suppressed_by}
        base_fp = {f.fingerprint for f in baseline.findings if not f.suppressed_by} if baseline else set()
        d.new = [f for f in current.findings if not f.suppressed_by and f.fingerprint not in base_fp]
        if baseline is not None:
            d.resolved = [f for f in baseline.findings if not f.suppressed_by and f.fingerprint not in cur_fp]
            cur_ids = {r.id: r for r in current.resources}
            base_ids = {r.id: r for r in baseline.resources}
            d.added_resources = sorted(set(cur_ids) - set(base_ids))
            d.removed_resources = sorted(set(base_ids) - set(cur_ids))
            for rid in sorted(set(cur_ids) & set(base_ids)):
                before, cb = _location_set(baseline, rid)
                after, ca = _location_set(current, rid)
                if before != after:
                    r = cur_ids[rid]
                    d.moved.append(Move(rid, r.kind, r.name, before, after, cb, ca))
        seen = set(cur_fp)
        pending = [current, *newer] if not current.scan.complete else newer
        for res in newer:
            for f in res.findings:
                if not f.suppressed_by and f.fingerprint not in seen:
                    seen.add(f.fingerprint)
                    d.unconfirmed.append(f)
    else:
        pending = newer
    keys: set[tuple[str, ...]] = set()
    for res in pending:
        for g in res.scan.gaps:
            k = (g.provider, g.scope, g.region, g.service, g.code)
            if k not in keys:
                keys.add(k)
                d.gaps_appeared.append(SeenGap(g, res.scan.id, res.scan.started_at))
    return d


def select_scans(scans: list[ScanInfo], since: _dt.datetime | None = None, last: int | None = None) -> list[ScanInfo]:
    if since is not None:
        scans = [s for s in scans if s.started_at >= since]
    if last is not None:
        scans = scans[-last:]
    return scans


def targets_in_window(store: Store, since: _dt.datetime | None = None, last: int | None = None) -> dict[str, str]:
    """target key -> label for every target with a scan in the window (shards folded), newest last.

    `report --fail-on` judges each of them: a later scan of a narrower target must not
    hide the open findings of a wider one.
    """
    from . import shards

    everything, _ = shards.logical_scans(store.scans())
    window = select_scans(everything, since, last)
    out: dict[str, str] = {}
    for s in window:
        out.pop(s.target, None)
        out[s.target] = s.target_label
    return out


def build(
    store: Store,
    store_label: str,
    since: _dt.datetime | None = None,
    last: int | None = None,
    target: str | None = None,
) -> Report:
    """The report over the chosen window of one target's scans (default: the latest scan's target)."""
    from ..errors import UserError
    from . import shards

    everything, shard_sets = shards.logical_scans(store.scans())
    if not everything:
        raise UserError("no scans recorded in this store yet: run a scan first (scans are recorded by default)")
    targets = {s.target: s.target_label for s in everything}
    if target is None:
        target = everything[-1].target
    elif target not in targets:
        matches = [k for k in targets if k.startswith(target)]
        if len(matches) != 1:
            raise UserError(f"unknown target '{target}' (recorded: {', '.join(sorted(targets))})")
        target = matches[0]
    all_of_target = [s for s in everything if s.target == target]
    window = select_scans(all_of_target, since, last)
    if not window:
        raise UserError("no recorded scan in the chosen window (--since/--last)")
    complete = [s for s in window if s.complete]
    partial = not complete
    current_info = complete[-1] if complete else window[-1]
    # Order is the store's (started_at, recorded_at, id): position, not timestamps, decides "before".
    at = next(i for i, s in enumerate(all_of_target) if s.id == current_info.id)
    earlier = [s for s in all_of_target[:at] if s.complete]
    baseline_info = earlier[-1] if earlier else None
    window_ids = {s.id for s in window}
    newer_infos = [s for s in all_of_target[at + 1 :] if s.id in window_ids]
    merged: dict[str, Merged] = {}
    current = shards.load(store, current_info.id, shard_sets, merged)
    baseline = shards.load(store, baseline_info.id, shard_sets, merged) if baseline_info else None
    newer = [shards.load(store, s.id, shard_sets, merged) for s in newer_infos]
    history = window
    if baseline_info is not None and baseline_info not in history:
        history = [baseline_info, *history]
    return Report(
        generated_at=utcnow(),
        store=store_label,
        target=target,
        target_label=current_info.target_label,
        other_targets={k: v for k, v in targets.items() if k != target},
        history=history,
        current=current,
        baseline=baseline,
        newer_incomplete=newer,
        diff=diff(current, baseline, newer),
        partial=partial,
        merged=merged,
    )
