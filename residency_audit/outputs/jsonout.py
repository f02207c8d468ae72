"""The JSON contract (schema_version 1.x): other tools parse it, keep keys stable."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import IO, Any

from .. import jsonio
from ..model import SCHEMA_VERSION, Finding, ResolvedLocation, Resource, RunPolicy, ScanResult, coverage_by_type


def _location(rl: ResolvedLocation) -> dict[str, Any]:
    out = rl.location.to_dict()
    out["countries"] = list(rl.place.countries)
    out["in_eu"] = rl.place.in_eu
    out["place"] = rl.place.name
    out["known"] = rl.place.known
    return out


def finding_dict(f: Finding) -> dict[str, Any]:
    loc = f.location
    return {
        "rule_id": f.rule_id,
        "severity": f.severity,
        "title": f.title,
        "resource_id": f.resource_id,
        "resource_kind": f.resource.kind,
        "resource_name": f.resource.name,
        "provider": f.resource.provider,
        "owner_id": f.resource.owner.id,
        "region": f.region,
        "role": loc.location.role if loc else None,
        "country": ",".join(f.countries) if f.countries else None,
        "countries": list(f.countries),
        "message": f.message,
        "clause": f.clause,
        "fingerprint": f.fingerprint,
        "suppressed_by": f.suppressed_by,
    }


def resource_dict(result: ScanResult, r: Resource) -> dict[str, Any]:
    item: dict[str, Any] = {
        "provider": r.provider,
        "kind": r.kind,
        "id": r.id,
        "name": r.name,
        "owner": r.owner.to_dict(),
        "locations": [_location(rl) for rl in result.resolved.get(r.id, [])],
        "tags": dict(r.tags),
        "source": r.source,
        "category": r.category or "unknown",
        "judged": r.judged,
    }
    if r.part_of:
        item["part_of"] = r.part_of
    if r.attributes:
        item["attributes"] = dict(r.attributes)
    if r.links:
        item["links"] = [link.to_dict() for link in r.links]
    return item


def _head(result: ScanResult) -> dict[str, Any]:
    """Everything but the two long lists, which close the document (`resources`, `findings`)."""
    scan = result.scan
    # counted in one pass, not listed: a spooled scan's findings are read back from disk
    by_severity: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    for f in result.findings:
        if not f.suppressed_by:
            by_severity[f.severity] += 1
            by_rule[f.rule_id] += 1
    active = sum(by_severity.values())
    kinds: Counter[str] = Counter()

    def counted() -> Iterator[Resource]:  # one pass over the resources for both (a spool reads from disk)
        for r in result.resources:
            kinds[r.kind] += 1
            yield r

    coverage = coverage_by_type(counted())
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "residency-audit", "version": _version()},
        "scan": {
            "id": scan.id,
            "started_at": scan.started_at.isoformat(),
            "finished_at": scan.finished_at.isoformat() if scan.finished_at else None,
            "request": scan.effective_request().to_dict(),
            "context": dict(scan.context),
            "complete": scan.complete,
            "interrupted": scan.interrupted,
            "gaps": [g.to_dict() for g in scan.gaps],
            "api_calls": dict(sorted(scan.api_calls.items())),
            "api_calls_total": sum(scan.api_calls.values()),
            "api_calls_by_service": _by_service(scan.api_calls),
            "resources_by_kind": dict(sorted(kinds.items())),
            "coverage": coverage,
            "notes": list(scan.notes),
        },
        "summary": {
            "resources": len(result.resources),
            "findings": active,
            "suppressed": len(result.findings) - active,
            "by_severity": dict(by_severity),
            "by_rule": dict(by_rule),
        },
    }


def to_dict(result: ScanResult) -> dict[str, Any]:
    out = _head(result)
    out["resources"] = [resource_dict(result, r) for r in result.resources]
    out["findings"] = [finding_dict(f) for f in result.findings]
    return out


def _chunks(result: ScanResult) -> Iterator[str]:
    """The indented document in pieces, the same text as `dumps(to_dict(result), indent=True)`:
    one resource or finding is built and serialised at a time, so an estate of any size costs
    the memory of one item, not of a second copy of the whole scan as dicts, bytes and text."""
    head = jsonio.dumps(_head(result), indent=True)
    yield head[: head.rindex("\n}")]

    def items(key: str, dicts: Iterable[dict[str, Any]]) -> Iterator[str]:
        yield f',\n  "{key}": ['
        first = True
        for d in dicts:
            yield ("\n    " if first else ",\n    ") + jsonio.dumps(d, indent=True).replace("\n", "\n    ")
            first = False
        yield "]" if first else "\n  ]"

    yield from items("resources", (resource_dict(result, r) for r in result.resources))
    yield from items("findings", (finding_dict(f) for f in result.findings))
    yield "\n}\n"


def write(result: ScanResult, out: IO[str], policy: RunPolicy | None = None) -> None:
    """`render`, streamed to a text file."""
    for chunk in _chunks(result):
        out.write(chunk)


def _by_service(calls: dict[str, int]) -> dict[str, int]:
    out: Counter[str] = Counter()
    for op, n in calls.items():
        out[op.split(":", 1)[0]] += n
    return dict(sorted(out.items()))


def _version() -> str:
    from .. import __version__

    return __version__


def render(result: ScanResult, policy: RunPolicy | None = None) -> str:
    return jsonio.dumps(to_dict(result), indent=True) + "\n"  # what `write` streams (a test holds them equal)
