"""The one path every scan takes: adapter -> collector -> catalog -> rules -> result.

Adapters push into a `Collector` (thread-safe) rather than returning lists, so
that whatever was collected before an error or a Ctrl-C is never lost.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from .errors import SpoolError
from .kinds import classify
from .model import Finding, Gap, Place, ResolvedLocation, Resource, Scan, ScanRequest, ScanResult, utcnow
from .redact import Redactor

if TYPE_CHECKING:
    from .engine import RuleSet
    from .geography import Catalog
    from .spool import ResourceSpool


class Progress(Protocol):
    """What a scan reports while it runs; the CLI draws it, tests may ignore it."""

    def add_work(self, label: str, count: int) -> None: ...

    def done(self, label: str, description: str) -> None: ...


class NullProgress:
    def add_work(self, label: str, count: int) -> None:
        pass

    def done(self, label: str, description: str) -> None:
        pass


class _TrackedProgress:
    """Forwards to the scan's progress sinks and counts the work still open per label (account,
    project, ...), so that a scan stopped by its deadline can name what it did not read."""

    def __init__(self, inner: Progress) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.open: dict[str, list[int]] = {}  # label -> [added, done]

    def add_work(self, label: str, count: int) -> None:
        with self._lock:
            self.open.setdefault(label, [0, 0])[0] += count
        self._inner.add_work(label, count)

    def done(self, label: str, description: str) -> None:
        with self._lock:
            self.open.setdefault(label, [0, 0])[1] += 1
        self._inner.done(label, description)

    def event(self, kind: str, fields: dict[str, Any]) -> None:
        sink = getattr(self._inner, "event", None)
        if callable(sink):
            sink(kind, fields)

    def unfinished(self) -> dict[str, tuple[int, int]]:
        """label -> (units not done, units planned), for labels with work left."""
        with self._lock:
            return {k: (a - d, a) for k, (a, d) in self.open.items() if d < a}


class Collector:
    """Where adapters put resources, gaps and call counts, from any thread."""

    def __init__(self, scan: Scan, progress: Progress | None = None, spool_after: int | None = None) -> None:
        self.scan = scan
        self.tracked = _TrackedProgress(progress or NullProgress())
        self.progress: Progress = self.tracked
        self._lock = threading.Lock()
        self.places: dict[tuple[str, str], Place] = {}
        self._resources: dict[str, Resource] = {}
        # Beyond `spool_after` resources they go to a temporary file (`spool`), so that memory
        # stays flat however large the estate; None keeps them all in memory.
        self._spool_after = spool_after
        self.spool: ResourceSpool | None = None
        #: Set when the spool could not be written: the scan then ends with it (what was lost
        #: is not a gap to report around, it is a scan that cannot say what it saw).
        self.spool_error: SpoolError | None = None
        # Everything collected is redacted on the way in: outputs and the store
        # then never see a signed URL or a credential, whatever renders them.
        self._redact = Redactor.from_environ()

    def _clean(self, resource: Resource) -> Resource:
        r = self._redact
        resource.name = r.text(resource.name)
        if resource.tags:
            resource.tags = r.mapping(resource.tags)
        locations = resource.locations
        for i, loc in enumerate(locations):
            if loc.detail:
                clean = r.text(loc.detail)
                if clean != loc.detail:  # Location is frozen: copy only what changed
                    locations[i] = dataclasses.replace(loc, detail=clean)
        if resource.attributes:
            resource.attributes = r.mapping(resource.attributes)
        return resource

    def add(self, resource: Resource) -> None:
        resource = self._clean(resource)
        if not resource.category:
            resource.category = classify(resource.provider, resource.kind).category
        with self._lock:
            try:
                if self.spool is not None:
                    self.spool.add(resource)
                else:
                    self._keep(resource)
            except SpoolError as exc:
                self.spool_error = self.spool_error or exc
                raise

    def _keep(self, resource: Resource) -> None:
        # The same resource can be seen twice (e.g. a global service listed
        # from two regions); the first sighting wins, locations are merged.
        existing = self._resources.get(resource.id)
        if existing is None:
            self._resources[resource.id] = resource
            if self._spool_after is not None and len(self._resources) > self._spool_after:
                self._spill()
        else:
            for loc in resource.locations:
                if loc not in existing.locations:
                    existing.locations.append(loc)

    def _spill(self) -> None:
        from .spool import ResourceSpool

        self.spool = ResourceSpool()
        for r in self._resources.values():
            self.spool.add(r)
        self._resources.clear()

    def extend(self, resources: Iterable[Resource]) -> None:
        for r in resources:
            self.add(r)

    def gap(self, gap: Gap) -> None:
        gap = dataclasses.replace(gap, error=self._redact.text(gap.error))
        with self._lock:
            new = gap not in self.scan.gaps
            if new:
                self.scan.gaps.append(gap)
        if new:
            self.event("gap", **gap.to_dict())

    def event(self, kind: str, **fields: Any) -> None:
        """A machine-readable event (account started/finished, gap) for progress sinks that
        take them (`--log-json`); a `Progress` without an `event` method ignores them."""
        sink = getattr(self.progress, "event", None)
        if callable(sink):
            sink(kind, fields)

    def note(self, text: str) -> None:
        text = self._redact.text(text)
        with self._lock:
            if text not in self.scan.notes:
                self.scan.notes.append(text)

    def learn_place(self, place: Place) -> None:
        """A place this scan learnt (Azure location metadata for a region the catalog lacks):
        the scan's judgement sees it, the process-wide catalog does not (`Catalog.with_places`)."""
        with self._lock:
            self.places.setdefault((place.provider, place.code.lower()), place)

    def learn(self, key: str, value: Any, scope: str | None = None) -> None:
        """Record a fact about the scan's scope (`Scan.context`): `scope` files it under a
        mapping (e.g. the inventory path per project), without it the value is the fact."""
        with self._lock:
            if scope is None:
                self.scan.context[key] = value
            else:
                self.scan.context.setdefault(key, {})[scope] = value

    def count_call(self, operation: str) -> None:
        with self._lock:
            self.scan.api_calls[operation] = self.scan.api_calls.get(operation, 0) + 1

    @property
    def resources(self) -> list[Resource]:
        """What was collected, as a list (a spooled collector reads its file back: see `collected`)."""
        with self._lock:
            if self.spool is not None:
                return list(self.spool)
            return list(self._resources.values())

    def rewrite(self, change: Callable[[Resource], object]) -> None:
        """Apply `change` to every resource collected so far and keep what it did, in memory or in
        the spool (where changing a resource read back would be lost)."""
        with self._lock:
            if self.spool is not None:
                self.spool.rewrite(change)
            else:
                for r in self._resources.values():
                    change(r)

    def collected(self) -> Iterable[Resource]:
        """What was collected, each resource once, in the order first seen: from memory, or read
        back one at a time from the spool."""
        if self.spool is not None:
            return self.spool
        return self.resources


class Adapter(Protocol):
    provider: str

    def scan(self, collector: Collector) -> None:
        """Inventory everything in scope into the collector; never raise for one region/service."""


class MultiAdapter:
    """Several adapters as one scan (e.g. the demo's AWS, Google Cloud and Azure parts).

    They run one after the other into the same collector: each adapter is already
    parallel inside, and a sequential outer loop keeps Ctrl-C handling simple.
    """

    provider = "multi"

    def __init__(self, adapters: list[Adapter]) -> None:
        self.adapters = adapters

    def scan(self, collector: Collector) -> None:
        for adapter in self.adapters:
            adapter.scan(collector)


def finish(
    scan: Scan, resources: Iterable[Resource], ruleset: RuleSet, catalog: Catalog, spool: bool = False
) -> ScanResult:
    """Judge every resource. With `spool`, each is read, judged and written on to disk one at a
    time with its resolved locations and findings, and the result reads them back from there."""
    from .engine import Judge, evaluate

    if not spool:
        resolved: dict[str, list[ResolvedLocation]] = {}
        listed = resources if isinstance(resources, list) else list(resources)
        findings = evaluate(listed, ruleset, catalog, resolved)
        scan.finished_at = scan.finished_at or utcnow()
        return ScanResult(scan=scan, resources=listed, findings=findings, resolved=resolved)
    from .spool import JudgedSpool, Spool

    judged = JudgedSpool()
    spooled: Spool[Finding] = Spool(judged.items.shared)
    judge = Judge(ruleset, catalog)
    batch: list[Finding] = []
    for resource in resources:
        judged.append(resource, judge(resource, batch))
        if batch:
            spooled.extend(batch)
            batch.clear()
    scan.finished_at = scan.finished_at or utcnow()
    return ScanResult(scan=scan, resources=judged.resources, findings=spooled, resolved=judged.resolved)


def run_scan(
    adapter: Adapter,
    request: ScanRequest,
    ruleset: RuleSet,
    catalog: Catalog,
    progress: Progress | None = None,
    deadline: float | None = None,
    spool_after: int | None = None,
) -> ScanResult:
    """Scan, then evaluate. Ctrl-C keeps what was collected and marks the scan incomplete;
    `deadline` (seconds) stops it the same way, and what it did not read becomes gaps.
    Beyond `spool_after` resources the scan and its result live in a temporary file (`spool`)."""
    from . import interrupts

    scan = Scan(request=request)
    collector = Collector(scan, progress, spool_after)
    try:
        with interrupts.deadline(deadline) as timer:
            adapter.scan(collector)
            timer["armed"] = False
    except KeyboardInterrupt:
        interrupts.handled()
        scan.interrupted = True
        collector.note("scan interrupted before it finished: results are partial")
    except interrupts.DeadlineExceeded:
        interrupts.stopped()
        deadline_gaps(collector, request.provider, deadline or 0)
    if collector.spool_error is not None:  # what it collected could not be kept: no result to give
        raise collector.spool_error
    catalog = catalog.with_places(collector.places)
    result = finish(scan, collector.collected(), ruleset, catalog, spool=collector.spool is not None)
    if collector.spool is not None:
        collector.spool.close()  # every resource was judged and written on with its findings
    return result


def deadline_gaps(collector: Collector, provider: str, seconds: float) -> None:
    """A scan stopped by its deadline is incomplete: one gap per scope with work left, and one for the scan."""
    for label, (left, planned) in sorted(collector.tracked.unfinished().items()):
        prov, _, scope = label.partition(":")
        collector.gap(
            Gap(
                prov or provider,
                scope,
                "",
                "*",
                f"{left} of {planned} reads of {label} not done by the deadline",
                "Deadline",
            )
        )
    collector.gap(
        Gap(
            provider,
            "",
            "",
            "*",
            f"scan stopped at its --deadline ({seconds:g} s): whatever is not in the results was not read",
            "Deadline",
        )
    )
