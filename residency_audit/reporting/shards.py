"""Sharded scans: N independently recorded shard scans read back as one logical scan.

A scan split over jobs (`--shard i/N`) records one scan per shard. Each names
its shard in `request.options` (`shard_group`, `shard_index`, `shard_count`);
nothing here knows a provider. Shards of one group merge into one scan whose
target ignores the shard's own slice of scopes, so a round is compared with
the previous round, never one shard with another. A shard that was not
recorded is a coverage gap: a merged scan is complete only when every shard
is present and complete.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..model import Finding, Gap, ResolvedLocation, Resource, Scan, ScanRequest, ScanResult

if TYPE_CHECKING:
    from ..store.sql import ScanInfo, Store

#: Options that say which slice of a split scan a recorded scan is; they never belong to its target.
SHARD_KEYS = ("shard", "shard_index", "shard_count", "shard_group")
#: Gap code (and service) of a shard that was never recorded.
MISSING_CODE = "ShardMissing"
MISSING_SERVICE = "shard"


def shard_of(info: ScanInfo) -> tuple[str, int, int] | None:
    """(group, index, count) of a recorded shard scan, or None for an ordinary scan."""
    opts = info.request.get("options") or {}
    group, index, count = opts.get("shard_group"), opts.get("shard_index"), opts.get("shard_count")
    if not (isinstance(group, str) and group and isinstance(index, int) and isinstance(count, int)):
        return None
    return (group, index, count) if 1 <= index <= count else None


def logical_request(request: dict[str, Any]) -> ScanRequest:
    """The request of the whole split scan: no shard keys, no per-shard scopes."""
    options = {k: v for k, v in (request.get("options") or {}).items() if k not in SHARD_KEYS}
    options["sharded"] = True
    return ScanRequest.from_dict({**request, "scopes": [], "options": options})


@dataclass(slots=True)
class ShardSet:
    """One logical scan recorded as shard scans: the latest recorded run of each shard index."""

    id: str
    group: str
    count: int
    provider: str
    target: str
    target_label: str
    members: dict[int, ScanInfo]
    #: Earlier runs of a shard index that a later run replaced (a retried job).
    superseded: list[ScanInfo] = field(default_factory=list)

    @property
    def missing(self) -> list[int]:
        return [i for i in range(1, self.count + 1) if i not in self.members]

    @property
    def scan_ids(self) -> list[str]:
        """Shard scan ids in shard order."""
        return [self.members[i].id for i in sorted(self.members)]

    def missing_gaps(self) -> list[Gap]:
        return [
            Gap(
                self.provider,
                self.group,
                "",
                MISSING_SERVICE,
                f"shard {i}/{self.count} of group {self.group} not recorded",
                MISSING_CODE,
            )
            for i in self.missing
        ]

    def request(self, requests: list[ScanRequest]) -> ScanRequest:
        """The merged scan's request: every shard's scopes, the shard ids, no single shard's index."""
        scopes = list(dict.fromkeys(scope for r in requests for scope in r.scopes))
        first = requests[0]
        options = {k: v for k, v in first.options.items() if k not in ("shard", "shard_index")}
        options["shard_scan_ids"] = self.scan_ids
        return ScanRequest(first.provider, tuple(scopes), first.regions, options)

    def describe(self) -> str:
        """One line for the reports: which shard scans make up this scan, and which are missing."""
        parts = [f"{self.members[i].id} ({i}/{self.count})" for i in sorted(self.members)]
        text = f"merged from {len(self.members)} shards of group {self.group}: {', '.join(parts)}"
        if self.missing:
            text += "; missing " + ", ".join(f"{i}/{self.count}" for i in self.missing)
        return text

    def info(self) -> ScanInfo:
        """The merged summary row (counts are sums: shards scan disjoint scopes)."""
        from ..store.sql import ScanInfo

        ms = [self.members[i] for i in sorted(self.members)]
        finished = [m.finished_at for m in ms if m.finished_at is not None]
        return ScanInfo(
            id=self.id,
            target=self.target,
            target_label=self.target_label,
            provider=self.provider,
            started_at=min(m.started_at for m in ms),
            finished_at=max(finished) if len(finished) == len(ms) else None,
            complete=not self.missing and all(m.complete for m in ms),
            interrupted=any(m.interrupted for m in ms),
            resource_count=sum(m.resource_count for m in ms),
            finding_count=sum(m.finding_count for m in ms),
            suppressed_count=sum(m.suppressed_count for m in ms),
            gap_count=sum(m.gap_count for m in ms) + len(self.missing),
            request=self.request([_request(m.request) for m in ms]).to_dict(),
        )


@dataclass(slots=True)
class Merged:
    """A loaded merged scan: its shard set and each shard's recorded result (for the evidence bundle)."""

    shards: ShardSet
    results: dict[int, ScanResult]


def _request(d: dict[str, Any]) -> ScanRequest:
    return ScanRequest.from_dict(d)


def logical_scans(infos: list[ScanInfo]) -> tuple[list[ScanInfo], dict[str, ShardSet]]:
    """The store's scans with each shard group folded into one merged scan, in store order.

    Shards belong together when they share group, shard count and the rest of
    the request (a group id reused for a different scan is not merged into it).
    A merged scan takes the place of its earliest shard.
    """
    from ..model import target_of

    order: list[tuple[Any, int, ScanInfo | ShardSet]] = []
    sets: dict[tuple[str, int, str], ShardSet] = {}
    for pos, info in enumerate(infos):
        shard = shard_of(info)
        if shard is None:
            order.append((info.started_at, pos, info))
            continue
        group, index, count = shard
        target, label = target_of(logical_request(info.request))
        key = (group, count, target)
        s = sets.get(key)
        if s is None:
            s = sets[key] = ShardSet("", group, count, info.provider, target, label, {})
            order.append((info.started_at, pos, s))
        earlier = s.members.get(index)
        if earlier is not None:
            s.superseded.append(earlier)  # the store lists scans oldest first: the later run wins
        s.members[index] = info
    by_id: dict[str, ShardSet] = {}
    out: list[tuple[Any, int, ScanInfo]] = []
    for started, pos, item in order:
        if isinstance(item, ShardSet):
            digest = hashlib.sha256(
                "|".join([item.target, item.group, str(item.count), *item.scan_ids]).encode()
            ).hexdigest()
            item.id = f"shards-{digest[:24]}"
            by_id[item.id] = item
            merged = item.info()
            out.append((merged.started_at, pos, merged))
        else:
            out.append((started, pos, item))
    out.sort(key=lambda x: (x[0], x[1]))
    return [info for _, _, info in out], by_id


def merge(shards: ShardSet, results: dict[int, ScanResult]) -> ScanResult:
    """One ScanResult from the shards' results: union of resources (by id), findings and gaps."""
    ordered = [results[i] for i in sorted(results)]
    resources: list[Resource] = []
    resolved: dict[str, list[ResolvedLocation]] = {}
    findings: list[Finding] = []
    owner_of: dict[str, int] = {}  # resource id -> the shard whose record of it is kept
    seen_fp: set[str] = set()
    gaps: list[Gap] = []
    api_calls: dict[str, int] = {}
    notes: list[str] = [f"merged from {len(ordered)} of {shards.count} shards of group {shards.group}"]
    for index, r in sorted(results.items()):
        for res in r.resources:
            if res.id not in owner_of:
                owner_of[res.id] = index
                resources.append(res)
                resolved[res.id] = r.resolved.get(res.id, [])
        for f in r.findings:
            if owner_of.get(f.resource.id) == index and f.fingerprint not in seen_fp:
                seen_fp.add(f.fingerprint)
                findings.append(f)
        gaps += [g for g in r.scan.gaps if g not in gaps]
        for k, n in r.scan.api_calls.items():
            api_calls[k] = api_calls.get(k, 0) + n
        notes += [f"shard {index}/{shards.count}: {n}" for n in r.scan.notes]
    gaps += shards.missing_gaps()
    for old in shards.superseded:
        notes.append(f"shard scan {old.id} was recorded again later; the later run is used")
    finished = [r.scan.finished_at for r in ordered if r.scan.finished_at is not None]
    scan = Scan(
        request=shards.request([r.scan.effective_request() for r in ordered]),
        id=shards.id,
        started_at=min(r.scan.started_at for r in ordered),
        finished_at=max(finished) if len(finished) == len(ordered) else None,
        gaps=gaps,
        interrupted=any(r.scan.interrupted for r in ordered),
        api_calls=dict(sorted(api_calls.items())),
        notes=notes,
    )
    return ScanResult(scan=scan, resources=resources, findings=findings, resolved=resolved)


def load(store: Store, scan_id: str, sets: dict[str, ShardSet], merged: dict[str, Merged]) -> ScanResult:
    """A scan by id: a recorded one as stored, a merged one from its shards (remembered in `merged`)."""
    shards = sets.get(scan_id)
    if shards is None:
        return store.load(scan_id)
    results = {i: store.load(info.id) for i, info in sorted(shards.members.items())}
    merged[scan_id] = Merged(shards, results)
    return merge(shards, results)
