"""The report as Markdown: for a ticket, a wiki page or a pull request."""

from __future__ import annotations

from collections.abc import Iterable

from ..model import Finding
from ..safetext import md_cell as _cell
from ..safetext import md_code, md_text
from . import Report


def _table(headers: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*out, ""]


def _finding_rows(findings: Iterable[Finding]) -> list[list[object]]:
    return [
        [
            f.severity,
            f.rule_id,
            f.resource.name or f.resource_id,
            f.region or "?",
            ",".join(f.countries) or "?",
            f.message,
        ]
        for f in findings
    ]


FINDING_HEADERS = ["severity", "rule", "resource", "region", "countries", "message"]


def render(report: Report) -> str:
    cur, base, d = report.current, report.baseline, report.diff
    lines = ["# Data-residency compliance report", ""]
    lines.append(f"- Generated: {report.generated_at:%Y-%m-%d %H:%M:%S} UTC")
    lines.append(f"- Target: {md_code(report.target_label)} ({md_text(report.target)})")
    if cur:
        lines.append(f"- Current state: scan {md_code(cur.scan.id)} of {cur.scan.started_at:%Y-%m-%d %H:%M} UTC")
    lines.append(
        f"- Compared with: scan {md_code(base.scan.id)} of {base.scan.started_at:%Y-%m-%d %H:%M} UTC"
        if base
        else "- Compared with: no earlier complete scan (every finding counts as new)"
    )
    for label, res in (("Current state", cur), ("Compared with", base)):
        if res is not None and res.scan.id in report.merged:
            lines.append(f"- {label} {md_text(report.merged[res.scan.id].shards.describe())}")
    lines.append(f"- Store: {md_text(report.store)}")
    lines.append("")
    if report.partial:
        lines += ["> **No complete scan in this window: the state below is partial and proves nothing.**", ""]
    if report.newer_incomplete:
        lines += [
            f"> **{len(report.newer_incomplete)} newer scan(s) were incomplete** and do not replace the current "
            "state; their gaps and findings are listed below.",
            "",
        ]
    lines += ["## Summary", ""]
    lines += _table(
        ["findings", "suppressed", "resources", "new", "resolved", "moved", "gaps appeared"],
        [
            [
                len(report.active),
                len(report.suppressed),
                len(cur.resources) if cur else 0,
                len(d.new),
                len(d.resolved),
                len(d.moved),
                len(d.gaps_appeared),
            ]
        ],
    )
    lines += ["## Where the data lives", ""]
    lines += _table(
        ["country", "locations", "EU"],
        [[c, n, "yes" if eu else "no"] for c, n, eu in report.data_by_country()],
    )
    lines += ["## Changes since the previous complete scan", ""]
    lines += [f"### New findings ({len(d.new)})", ""] + (
        _table(FINDING_HEADERS, _finding_rows(d.new)) if d.new else ["None.", ""]
    )
    lines += [f"### Resolved findings ({len(d.resolved)})", ""] + (
        _table(FINDING_HEADERS, _finding_rows(d.resolved)) if d.resolved else ["None.", ""]
    )
    lines += [f"### Resources that moved ({len(d.moved)})", ""] + (
        _table(
            ["resource", "kind", "before", "after"],
            [[m.name or m.resource_id, m.kind, ", ".join(m.before), ", ".join(m.after)] for m in d.moved],
        )
        if d.moved
        else ["None.", ""]
    )
    lines += [f"### Coverage gaps that appeared ({len(d.gaps_appeared)})", ""] + (
        _table(
            ["scan", "provider", "scope", "region", "service", "code", "error"],
            [
                [g.scan_id, g.gap.provider, g.gap.scope, g.gap.region, g.gap.service, g.gap.code, g.gap.error]
                for g in d.gaps_appeared
            ],
        )
        if d.gaps_appeared
        else ["None.", ""]
    )
    if d.unconfirmed:
        lines += [f"### Seen only in newer incomplete scans ({len(d.unconfirmed)})", ""]
        lines += _table(FINDING_HEADERS, _finding_rows(d.unconfirmed))
    if d.added_resources or d.removed_resources:
        lines += [
            f"Resources added: {len(d.added_resources)}; removed: {len(d.removed_resources)}.",
            "",
        ]
    lines += ["## Findings by owner", ""]
    lines += _table(
        ["organisation", "owner", "findings", "by severity"],
        [
            [g.organisation, g.owner, g.findings, ", ".join(f"{k} {v}" for k, v in g.by_severity.items())]
            for g in report.by_owner()
        ],
    )
    lines += ["## Findings by country", ""]
    lines += _table(["country", "findings"], [[c, n] for c, n in report.by_country()])
    lines += ["## Findings by rule", ""]
    lines += _table(["rule", "severity", "title", "findings"], [list(x) for x in report.by_rule()])
    lines += ["## All current findings", ""]
    lines += _table(
        ["change", *FINDING_HEADERS, "suppressed by"],
        [
            [report.status_of(f), *row, f.suppressed_by or ""]
            for f, row in zip(cur.findings, _finding_rows(cur.findings), strict=True)
        ]
        if cur
        else [],
    )
    lines += ["## Scan history", ""]
    lines += _table(
        ["started (UTC)", "scan", "complete", "resources", "findings", "gaps"],
        [
            [
                f"{s.started_at:%Y-%m-%d %H:%M:%S}",
                s.id,
                "yes" if s.complete else ("interrupted" if s.interrupted else "no"),
                s.resource_count,
                s.finding_count,
                s.gap_count,
            ]
            for s in report.history
        ],
    )
    if report.other_targets:
        lines += [
            "Other targets in this store (use `--target KEY`): "
            + "; ".join(f"{md_code(k)} {md_text(v)}" for k, v in sorted(report.other_targets.items())),
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"
