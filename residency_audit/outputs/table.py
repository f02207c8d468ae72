"""Terminal output: findings, data per country, severities and coverage gaps.

Readable at any width, CI logs and pipes included (80 columns, no colour): findings
are a table when it fits the terminal with every resource name whole; otherwise each
finding takes two lines (severity, rule and the whole resource name, folded only when
longer than the line; then kind and location), so no column is ever squeezed to
nothing. Names and tags go into rich `Text` cells, never into markup.
"""

from __future__ import annotations

import heapq
import io
from collections import Counter

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..model import SEVERITIES, Finding, Gap, RunPolicy, ScanResult, coverage_by_type, holds_data, severity_rank
from ..safetext import terminal

#: How deeply a record was judged, in words (`Resource.judged`).
JUDGED = {
    "footprint": "footprint modelled",
    "primary": "primary location only",
    "parent": "with its parent",
    "undeclared": "depth not declared",
}

_SEV_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}

#: Space between two table columns.
GAP = 2
#: The narrowest error message a gaps table may fold into before gaps go two lines each.
ERROR_WIDTH = 30
#: A place of more countries than this (a multi-region such as GCS "EU") is named, not listed.
MANY_COUNTRIES = 3
#: The longest kind shown whole (every Azure type without its namespace fits); longer ones are cut.
KIND_WIDTH = 32


def _cell(value: str) -> Text:
    """Untrusted text (names, tags, errors) as a plain cell: `Text` is never parsed as markup, and
    no control character reaches the terminal (an ESC in a tag could clear the screen or recolour)."""
    return Text(terminal(value))


def short_kind(kind: str) -> str:
    """A kind as short as it stays clear: Azure's `microsoft.` namespace goes, and a nested
    type keeps its namespace and last part (`microsoft.sql/servers/databases` -> `sql/databases`)."""
    short = kind[len("microsoft.") :] if kind.startswith("microsoft.") else kind
    parts = short.split("/")
    if len(parts) > 2:
        short = f"{parts[0]}/{parts[-1]}"
    if len(short) > KIND_WIDTH:  # a long Terraform type: its start says what it is
        short = short[: KIND_WIDTH - 1] + "…"
    return short


def _countries(countries: tuple[str, ...] | list[str]) -> str:
    if not countries:
        return "unknown"
    if len(countries) > MANY_COUNTRIES:
        return f"{len(countries)} countries"
    return ", ".join(countries)


def location_text(f: Finding) -> str:
    """`us-east-1 (US)`, `eur8 (DE, CH)`, `eu (27 countries)`, `? (unknown)`: where, and in which countries."""
    return f"{f.region or '?'} ({_countries(f.countries)})"


def _order(f: Finding) -> tuple[int, str, str, str, str]:
    """Most severe first; a total order, so that the same result always prints the same."""
    return (-severity_rank(f.severity), f.rule_id, f.resource.name or f.resource.id, f.resource.id, f.fingerprint)


def _fits(columns: list[list[str]], width: int) -> bool:
    """Whether a table of these columns (header first) fits `width` with every cell whole."""
    from rich.cells import cell_len

    return sum(max(cell_len(c) for c in col) for col in columns) + GAP * (len(columns) - 1) <= width


def _finding_cells(f: Finding) -> list[str]:
    loc = f.location
    role = loc.location.role if loc else ""
    name = f.resource.name or f.resource.id
    return [terminal(x) for x in (f.severity, f.rule_id, short_kind(f.resource.kind), name, role, location_text(f))]


_FINDING_HEADERS = ["Severity", "Rule", "Kind", "Resource", "Role", "Location"]


def _severity(f: Finding) -> Text:
    return Text(f.severity, style=_SEV_STYLE.get(f.severity, ""))


def _findings_table(findings: list[Finding]) -> Table:
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, GAP - 1, 0, 0))
    for header in _FINDING_HEADERS:
        t.add_column(header, no_wrap=header != "Resource", overflow="fold")
    for f in findings:
        t.add_row(_severity(f), *(_cell(c) for c in _finding_cells(f)[1:]))
    return t


def _findings_compact(findings: list[Finding]) -> Table:
    """Two lines per finding: severity, rule and the whole resource name (folded when it must
    be); then, under the rule, its kind, location role and location."""
    rule_width = max(len(f.rule_id) for f in findings)
    t = Table.grid(padding=(0, 1, 0, 0))
    t.add_column(no_wrap=True, min_width=len("critical"))
    t.add_column(overflow="fold", ratio=1)
    for f in findings:
        loc = f.location
        where = f"{loc.location.role} in " if loc else ""
        detail = Text(terminal(f"{short_kind(f.resource.kind)}, {where}{location_text(f)}"), style="dim")
        name = _cell(f.resource.name or f.resource.id)
        t.add_row(_severity(f), Text.assemble(f"{f.rule_id:<{rule_width}} ", name, "\n", detail))
    return t


def _gap_cells(g: Gap) -> list[str]:
    return [terminal(x) for x in (g.provider, g.scope or "-", g.region or "global", g.service, g.code)]


_GAP_HEADERS = ["Provider", "Scope", "Region", "Service", "Code"]


def _gaps_table(gaps: list[Gap], width: int) -> Table:
    """Where (provider, scope, region, service, code) whole, and why, folded: a table when the
    where-columns leave the error at least `ERROR_WIDTH`; otherwise two lines per gap."""
    where = [[h, *(_gap_cells(g)[i] for g in gaps)] for i, h in enumerate(_GAP_HEADERS)]
    if not _fits([*where, ["x" * ERROR_WIDTH]], width):
        t = Table.grid(padding=(0, 1))
        t.add_column(overflow="fold", ratio=1)
        for g in gaps:
            t.add_row(Text.assemble(_cell(" ".join(_gap_cells(g))), "\n", Text("  ") + _cell(g.error)))
        return t
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, GAP - 1, 0, 0))
    for name in _GAP_HEADERS:
        t.add_column(name, no_wrap=True)
    t.add_column("Error", overflow="fold", ratio=1)
    for g in gaps:
        t.add_row(*(_cell(x) for x in (*_gap_cells(g), g.error)))
    return t


def data_per_place(result: ScanResult) -> list[tuple[str, str, int]]:
    """(place, EU? 'yes'/'no'/'?', resources holding data there), most first.

    A resource counts once per country it has data in; a multi-region (GCS "EU": all
    27 member states) is one row of its own rather than 27."""
    from ..geography import eu_members

    per_place: Counter[str] = Counter()
    in_eu: dict[str, str] = {}
    for rls in result.data_locations():
        keys: set[str] = set()
        for rl in rls:
            place = rl.place
            if len(place.countries) > MANY_COUNTRIES:
                key = f"{place.code} ({len(place.countries)} countries)"
                in_eu[key] = "yes" if place.in_eu else "no"
                keys.add(key)
            else:
                keys.update(place.countries or ("unknown",))
        for key in keys:
            per_place[key] += 1
    eu = eu_members()
    rows = []
    for key, n in sorted(per_place.items(), key=lambda kv: (-kv[1], kv[0])):
        verdict = in_eu.get(key) or ("?" if key == "unknown" else "yes" if key in eu else "no")
        rows.append((key, verdict, n))
    return rows


def _print_titled(console: Console, title: str, table: Table, style: str = "bold") -> None:
    """A title on its own line: a table's own title would wrap to the (narrow) table's width."""
    console.print(Text(title, style=style))
    console.print(table)


def print_result(result: ScanResult, console: Console, max_findings: int = 200) -> None:
    # One pass over the findings, holding only the ones shown: a spooled scan's are read from disk.
    sev: Counter[str] = Counter()
    shown: list[Finding] = []
    for f in result.findings:
        if not f.suppressed_by:
            sev[f.severity] += 1
            shown.append(f)
            if len(shown) >= 2 * max_findings + 64:
                shown = heapq.nsmallest(max_findings, shown, key=_order)
    shown = heapq.nsmallest(max_findings, shown, key=_order)
    n_active = sum(sev.values())

    if shown:
        cells = [_finding_cells(f) for f in shown]
        columns = [[h, *(row[i] for row in cells)] for i, h in enumerate(_FINDING_HEADERS)]
        table = _findings_table(shown) if _fits(columns, console.width) else _findings_compact(shown)
        _print_titled(console, f"Findings ({n_active})", table)
        if n_active > max_findings:
            console.print(f"[dim]... and {n_active - max_findings} more (use --format json for all)[/]")

    rows = data_per_place(result)
    if rows:
        t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, GAP - 1, 0, 0))
        t.add_column("Country")
        t.add_column("EU", justify="center")
        t.add_column("Resources", justify="right")
        for place, verdict, n in rows:
            style = {"yes": "green", "no": "red"}.get(verdict, "yellow")
            t.add_row(_cell(place), Text(verdict, style=style), str(n))
        _print_titled(console, "Resources per country (any location role)", t)

    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, GAP - 1, 0, 0))
    for s in reversed(SEVERITIES):
        t.add_column(s, justify="right")
    t.add_row(*(str(sev.get(s, 0)) for s in reversed(SEVERITIES)))
    _print_titled(console, "Findings per severity", t)

    live = coverage_by_type(r for r in result.resources if r.source == "api" and holds_data(r))
    if live:
        t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, GAP - 1, 0, 0))
        t.add_column("Type")
        t.add_column("Category")
        t.add_column("Resources", justify="right")
        t.add_column("Judged")
        for row in live:
            judged = ", ".join(f"{JUDGED.get(k, k)} {n}" for k, n in sorted(row["judged"].items()))
            t.add_row(_cell(row["type"]), row["category"], str(row["resources"]), judged)
        _print_titled(console, "Resources by type, and how deeply each was judged", t)

    scan = result.scan
    if scan.gaps:
        title = f"Coverage gaps ({len(scan.gaps)}): this scan is INCOMPLETE"
        _print_titled(console, title, _gaps_table(scan.gaps, console.width), style="bold red")
    suppressed = len(result.findings) - n_active
    calls = sum(scan.api_calls.values())
    status = Text("complete", style="green") if scan.complete else Text("incomplete", style="bold red")
    console.print(
        Text.assemble(
            f"{len(result.resources)} resources, {n_active} findings"
            + (f" ({suppressed} suppressed)" if suppressed else "")
            + f", {calls} API calls, coverage ",
            status,
        )
    )
    from ..reporting.target import inventory_line  # not at import: the gate's table never needs it

    inventory = inventory_line(result)
    if inventory:
        console.print(Text(terminal(inventory), style="dim"))
    primary_only = [c for c in coverage_by_type(result.resources) if c["judged"].get("primary")]
    if primary_only and not live:
        types = ", ".join(c["type"] for c in primary_only[:8]) + (" ..." if len(primary_only) > 8 else "")
        n = sum(c["judged"]["primary"] for c in primary_only)
        console.print(
            Text(
                f"{n} resources of {len(primary_only)} types judged at their primary location only "
                f"(copies they may keep elsewhere are not modelled): {terminal(types)}",
                style="dim",
            )
        )
    for note in sorted(scan.notes):  # threads add them in any order: the same result prints the same
        console.print(Text(f"note: {terminal(note)}", style="dim"))


def render(result: ScanResult, policy: RunPolicy | None = None) -> str:
    buf = io.StringIO()
    print_result(result, Console(file=buf, width=140, color_system=None, force_terminal=False), max_findings=10_000)
    return buf.getvalue()
