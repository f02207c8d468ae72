"""The report as JSON: the covered scans exactly as `outputs.jsonout` writes them, plus the diff."""

from __future__ import annotations

from typing import Any

from .. import jsonio
from ..outputs.jsonout import finding_dict, to_dict
from . import Report

REPORT_SCHEMA = "1.0"


def diff_dict(report: Report) -> dict[str, Any]:
    d = report.diff
    return {
        "new_findings": [finding_dict(f) for f in d.new],
        "resolved_findings": [finding_dict(f) for f in d.resolved],
        "moved_resources": [
            {
                "resource_id": m.resource_id,
                "kind": m.kind,
                "name": m.name,
                "before": list(m.before),
                "after": list(m.after),
                "countries_before": list(m.countries_before),
                "countries_after": list(m.countries_after),
            }
            for m in d.moved
        ],
        "added_resources": list(d.added_resources),
        "removed_resources": list(d.removed_resources),
        "gaps_appeared": [{**g.gap.to_dict(), "scan_id": g.scan_id} for g in d.gaps_appeared],
        "unconfirmed_findings": [finding_dict(f) for f in d.unconfirmed],
    }


def to_report_dict(report: Report, scans: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    cur, base = report.current, report.baseline
    return {
        "report_schema_version": REPORT_SCHEMA,
        "generated_at": report.generated_at.isoformat(),
        "store": report.store,
        "target": {"key": report.target, "label": report.target_label},
        "current_scan_id": cur.scan.id if cur else None,
        "baseline_scan_id": base.scan.id if base else None,
        "partial": report.partial,
        "newer_incomplete_scan_ids": [r.scan.id for r in report.newer_incomplete],
        "merged_scans": [
            {
                "id": sid,
                "shard_group": m.shards.group,
                "shard_count": m.shards.count,
                "shard_scan_ids": {str(i): m.shards.members[i].id for i in sorted(m.shards.members)},
                "missing_shards": m.shards.missing,
                "superseded_scan_ids": [s.id for s in m.shards.superseded],
            }
            for sid, m in sorted(report.merged.items())
        ],
        "history": [
            {
                "id": s.id,
                "started_at": s.started_at.isoformat(),
                "complete": s.complete,
                "interrupted": s.interrupted,
                "resources": s.resource_count,
                "findings": s.finding_count,
                "suppressed": s.suppressed_count,
                "gaps": s.gap_count,
                "shard_scan_ids": list(s.request.get("options", {}).get("shard_scan_ids", [])),
            }
            for s in report.history
        ],
        "diff": diff_dict(report),
        "groups": {
            "by_owner": [
                {"organisation": g.organisation, "owner": g.owner, "findings": g.findings, "by_severity": g.by_severity}
                for g in report.by_owner()
            ],
            "by_country": dict(report.by_country()),
            "by_rule": [{"rule_id": r, "severity": s, "title": t, "findings": n} for r, s, t, n in report.by_rule()],
        },
        "data_by_country": [{"country": c, "locations": n, "eu": eu} for c, n, eu in report.data_by_country()],
        "scans": scans if scans is not None else [to_dict(r) for r in _results(report)],
    }


def _results(report: Report) -> list[Any]:
    seen: dict[str, Any] = {}
    for r in (report.baseline, report.current, *report.newer_incomplete):
        if r is not None:
            seen[r.scan.id] = r
    return sorted(seen.values(), key=lambda r: r.scan.started_at)


def render(report: Report) -> str:
    return jsonio.dumps(to_report_dict(report), indent=True) + "\n"
