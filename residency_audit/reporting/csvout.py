"""The report as CSV: one row per finding (current, and resolved since the baseline), for spreadsheets."""

from __future__ import annotations

import csv
import io

from ..model import Finding
from ..safetext import csv_cell
from . import Report, organisation_of

HEADERS = [
    "change",
    "scan_id",
    "rule_id",
    "severity",
    "provider",
    "organisation",
    "owner_kind",
    "owner_id",
    "owner_name",
    "resource_kind",
    "resource_id",
    "resource_name",
    "role",
    "region",
    "countries",
    "in_eu",
    "message",
    "fingerprint",
    "suppressed_by",
    "shard_scan_id",
]


def _row(change: str, scan_id: str, f: Finding, shard: str = "") -> list[str]:
    """Every cell through `csv_cell`: a name like `=HYPERLINK(...)` stays text in a spreadsheet."""
    o = f.resource.owner
    loc = f.location
    cells = [
        change,
        scan_id,
        f.rule_id,
        f.severity,
        f.resource.provider,
        organisation_of(f),
        o.kind,
        o.id,
        o.name,
        f.resource.kind,
        f.resource_id,
        f.resource.name,
        loc.location.role if loc else "",
        f.region or "",
        " ".join(f.countries),
        ("yes" if loc.place.in_eu else "no") if loc else "",
        f.message,
        f.fingerprint,
        f.suppressed_by or "",
        shard,
    ]
    return [csv_cell(c) for c in cells]


def _shard_of(report: Report, scan_id: str) -> dict[str, str]:
    """resource id -> the shard scan that recorded it, when `scan_id` was merged from shards."""
    m = report.merged.get(scan_id)
    if m is None:
        return {}
    out: dict[str, str] = {}
    for _, r in sorted(m.results.items()):
        for res in r.resources:
            out.setdefault(res.id, r.scan.id)
    return out


def render(report: Report) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADERS)
    if report.current is not None:
        sid = report.current.scan.id
        shard = _shard_of(report, sid)
        for f in report.current.findings:
            change = "suppressed" if f.suppressed_by else report.status_of(f)
            w.writerow(_row(change, sid, f, shard.get(f.resource_id, "")))
    if report.baseline is not None:
        shard = _shard_of(report, report.baseline.scan.id)
        for f in report.diff.resolved:
            w.writerow(_row("resolved", report.baseline.scan.id, f, shard.get(f.resource_id, "")))
    first_seen: dict[str, str] = {}
    for res in report.newer_incomplete:
        for f in res.findings:
            first_seen.setdefault(f.fingerprint, res.scan.id)
    for f in report.diff.unconfirmed:
        w.writerow(_row("unconfirmed", first_seen.get(f.fingerprint, ""), f))
    return buf.getvalue()
