"""Terminal output: findings, data per country, severities and coverage gaps."""

from __future__ import annotations

import io
from collections import Counter

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..model import SEVERITIES, ScanResult, coverage_by_type, severity_rank
from ..safetext import terminal


def cell(value: object) -> str:
    """Data as a table cell: no control character reaches the terminal, no markup reaches rich."""
    return escape(terminal(value))


_SEV_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}


def print_result(result: ScanResult, console: Console, max_findings: int = 200) -> None:
    active = [f for f in result.findings if not f.suppressed_by]
    active.sort(key=lambda f: (-severity_rank(f.severity), f.resource.id))

    if active:
        t = Table(title=f"Findings ({len(active)})", title_justify="left", expand=False)
        t.add_column("Severity")
        t.add_column("Rule")
        t.add_column("Kind", no_wrap=True)
        t.add_column("Resource", overflow="fold", ratio=1)
        t.add_column("Role", no_wrap=True)
        t.add_column("Region", no_wrap=True)
        t.add_column("Country", no_wrap=True)
        for f in active[:max_findings]:
            loc = f.location
            t.add_row(
                f"[{_SEV_STYLE.get(f.severity, '')}]{f.severity}[/]",
                cell(f.rule_id),
                cell(f.resource.kind),
                cell(f.resource.name),
                cell(loc.location.role) if loc else "",
                cell(f.region or "?"),
                cell(", ".join(f.countries) or "?"),
            )
        console.print(t)
        if len(active) > max_findings:
            console.print(f"[dim]... and {len(active) - max_findings} more (use --format json for all)[/]")

    per_country: Counter[str] = Counter()
    in_eu: dict[str, bool] = {}
    for rls in result.data_locations():
        keys: set[str] = set()
        for rl in rls:
            place = rl.place
            if len(place.countries) > 3:
                # A multi-region (e.g. GCS "EU": all 27 member states) is one row, not 27.
                key = f"{place.code} ({len(place.countries)} countries)"
                in_eu[key] = place.in_eu
                keys.add(key)
            else:
                keys.update(place.countries or ("unknown",))
        for key in keys:
            per_country[key] += 1
    if per_country:
        t = Table(title="Resources per country (any location role)", title_justify="left")
        t.add_column("Country")
        t.add_column("EU", justify="center")
        t.add_column("Resources", justify="right")
        from ..geography import eu_members

        eu = eu_members()
        for country, n in sorted(per_country.items(), key=lambda kv: (-kv[1], kv[0])):
            mark = "[green]yes[/]" if in_eu.get(country, country in eu) else "[red]no[/]"
            t.add_row(cell(country), mark, str(n))
        console.print(t)

    sev = Counter(f.severity for f in active)
    t = Table(title="Findings per severity", title_justify="left")
    for s in reversed(SEVERITIES):
        t.add_column(s, justify="right")
    t.add_row(*(str(sev.get(s, 0)) for s in reversed(SEVERITIES)))
    console.print(t)

    scan = result.scan
    if scan.gaps:
        t = Table(
            title=f"Coverage gaps ({len(scan.gaps)}): this scan is INCOMPLETE",
            title_justify="left",
            title_style="bold red",
        )
        # Where and why must survive a narrow terminal whole; the message folds.
        t.add_column("Provider", no_wrap=True)
        t.add_column("Scope", no_wrap=True)
        t.add_column("Region", no_wrap=True)
        t.add_column("Service", no_wrap=True)
        t.add_column("Code", no_wrap=True)
        t.add_column("Error", overflow="fold", ratio=1)
        for g in scan.gaps:
            t.add_row(*(cell(x) for x in (g.provider, g.scope, g.region or "global", g.service, g.code, g.error)))
        console.print(t)
    suppressed = len(result.findings) - len(active)
    calls = sum(scan.api_calls.values())
    status = "[green]complete[/]" if scan.complete else "[bold red]incomplete[/]"
    console.print(
        f"{len(result.resources)} resources, {len(active)} findings"
        + (f" ({suppressed} suppressed)" if suppressed else "")
        + f", {calls} API calls, coverage {status}"
    )
    primary_only = [c for c in coverage_by_type(result.resources) if c["judged"].get("primary")]
    if primary_only:
        shown = ", ".join(c["type"] for c in primary_only[:8]) + (" ..." if len(primary_only) > 8 else "")
        n = sum(c["judged"]["primary"] for c in primary_only)
        console.print(
            f"[dim]{n} resources of {len(primary_only)} types judged at their primary location only "
            f"(copies they may keep elsewhere are not modelled): {cell(shown)}[/]"
        )
    for note in scan.notes:
        console.print(f"[dim]note: {cell(note)}[/]")


def render(result: ScanResult) -> str:
    buf = io.StringIO()
    print_result(result, Console(file=buf, width=140, color_system=None, force_terminal=False), max_findings=10_000)
    return buf.getvalue()
