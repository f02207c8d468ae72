"""A GitHub-flavoured Markdown summary (job summaries, merge-request comments).

Provider-agnostic: findings, per-country counts, coverage gaps, suppressed
findings and notes, with table cells escaped so resource names cannot break
the layout.
"""

from __future__ import annotations

from collections import Counter

from ..model import SEVERITIES, RunPolicy, ScanResult, coverage_by_type, severity_rank
from ..safetext import md_cell as _cell
from ..safetext import md_text

MAX_ROWS = 500


def render(result: ScanResult, policy: RunPolicy | None = None) -> str:
    threshold = severity_rank((policy or RunPolicy()).fail_on)
    active = sorted(
        (f for f in result.findings if not f.suppressed_by),
        key=lambda f: (-severity_rank(f.severity), f.resource.id, f.rule_id),
    )
    suppressed = [f for f in result.findings if f.suppressed_by]
    failing = [f for f in active if severity_rank(f.severity) >= threshold]
    scan = result.scan
    if failing:
        status = f":x: **{len(failing)} failing finding(s)**"
    elif not scan.complete:
        status = ":warning: **scan incomplete**"
    else:
        status = ":white_check_mark: **no failing findings**"
    sev = Counter(f.severity for f in active)
    lines = [
        f"## residency-audit ({md_text(scan.request.provider)}): {status}",
        "",
        f"{len(result.resources)} resources checked, {len(active)} findings"
        + (f", {len(suppressed)} suppressed by exceptions" if suppressed else "")
        + (", coverage complete" if scan.complete else f", **{len(scan.gaps)} coverage gap(s)**"),
        "",
        "| " + " | ".join(reversed(SEVERITIES)) + " |",
        "|" + "---:|" * len(SEVERITIES),
        "| " + " | ".join(str(sev.get(s, 0)) for s in reversed(SEVERITIES)) + " |",
        "",
    ]
    if active:
        lines += [
            "### Findings",
            "",
            "| Severity | Rule | Resource | Role | Region | Country | Where | Message |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for f in active[:MAX_ROWS]:
            loc = f.location
            r = f.resource
            where = ""
            if isinstance(r.attributes.get("file"), str):
                where = f"{r.attributes['file']}:{r.attributes.get('line', '')}".rstrip(":")
            lines.append(
                "| "
                + " | ".join(
                    _cell(x)
                    for x in (
                        f.severity,
                        f.rule_id,
                        r.attributes.get("address") or r.id,
                        loc.location.role if loc else "",
                        f.region or "?",
                        ", ".join(f.countries) or "?",
                        where,
                        f.message,
                    )
                )
                + " |"
            )
        if len(active) > MAX_ROWS:
            lines.append(f"\n... and {len(active) - MAX_ROWS} more (see the JSON or SARIF report)")
        lines.append("")
    per_country: Counter[str] = Counter()
    for rls in result.data_locations():
        for country in {c for rl in rls for c in (rl.place.countries or ("unknown",))}:
            per_country[country] += 1
    if per_country:
        from ..geography import eu_members

        eu = eu_members()
        lines += ["### Resources per country", "", "| Country | EU | Resources |", "|---|:---:|---:|"]
        for country, n in sorted(per_country.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"| {_cell(country)} | {'yes' if country in eu else 'no'} | {n} |")
        lines.append("")
    if scan.gaps:
        lines += [
            "### Coverage gaps (the scan is incomplete)",
            "",
            "| Provider | Scope | Region | Service | Code | Error |",
        ]
        lines.append("|---|---|---|---|---|---|")
        for g in scan.gaps:
            lines.append(
                "| "
                + " | ".join(_cell(x) for x in (g.provider, g.scope, g.region or "global", g.service, g.code, g.error))
                + " |"
            )
        lines.append("")
    if suppressed:
        lines += [f"<details><summary>Suppressed by exceptions ({len(suppressed)})</summary>", ""]
        lines += ["| Rule | Resource | Region | Exception |", "|---|---|---|---|"]
        for f in suppressed[:MAX_ROWS]:
            lines.append(
                "| " + " | ".join(_cell(x) for x in (f.rule_id, f.resource.id, f.region or "?", f.suppressed_by)) + " |"
            )
        lines += ["", "</details>", ""]
    primary_only = [c for c in coverage_by_type(result.resources) if c["judged"].get("primary")]
    if primary_only:
        n = sum(c["judged"]["primary"] for c in primary_only)
        lines += [
            f"<details><summary>{n} resources judged at only their primary location "
            f"({len(primary_only)} types; copies they may keep elsewhere are not modelled)</summary>",
            "",
            "| Type | Category | Resources |",
            "|---|---|---:|",
        ]
        lines += [f"| {_cell(c['type'])} | {_cell(c['category'])} | {c['judged']['primary']} |" for c in primary_only]
        lines += ["", "</details>", ""]
    if scan.notes:
        lines += ["<details><summary>Notes</summary>", ""]
        lines += [f"- {md_text(n)}" for n in scan.notes]
        lines += ["", "</details>", ""]
    return "\n".join(lines) + "\n"
