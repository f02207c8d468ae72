"""`copies` output: the checklist, and the verification after a deletion, as a terminal
table, JSON, CSV and Markdown (a checklist a person can work through and tick off).

Names, ids and reasons come from the clouds (strangers write them): every renderer
passes them through `safetext`, as the scan outputs do.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from ..copies import Checklist, Copy, Verification
from ..safetext import csv_cell, md_code, md_text, terminal

FORMATS = ("table", "json", "csv", "markdown")

HEADERS = [
    "outcome",
    "status",
    "resource_id",
    "kind",
    "name",
    "provider",
    "owner",
    "role",
    "region",
    "place",
    "countries",
    "in_eu",
    "how",
    "via",
    "controlled",
    "earliest_deletion",
    "scan_id",
    "reason",
    "detail",
]


def _where(c: Copy) -> str:
    countries = ", ".join(c.countries) if c.countries else "unknown"
    return f"{c.region or '?'} ({countries})"


def _order(copies: list[Copy]) -> list[Copy]:
    """Outside the EU first, then by owner, resource and role: the rows to act on first lead."""
    return sorted(copies, key=lambda c: (c.in_eu, c.owner, c.resource_id, c.role, c.region or ""))


# --------------------------------------------------------------------------- JSON


def render_json(thing: Checklist | Verification) -> str:
    from .. import jsonio

    doc: dict[str, Any] = {"tool": "residency-audit copies", **thing.to_dict()}
    return jsonio.dumps(doc, indent=True) + "\n"


# --------------------------------------------------------------------------- CSV


def _csv_row(outcome: str, c: Copy) -> list[str]:
    values = [
        outcome,
        c.status,
        c.resource_id,
        c.kind,
        c.name,
        c.provider,
        c.owner,
        c.role,
        c.region or "",
        c.place,
        ",".join(c.countries),
        "yes" if c.in_eu else "no",
        c.how,
        c.via,
        c.controlled,
        c.earliest_deletion,
        c.scan_id,
        c.reason,
        c.detail,
    ]
    return [csv_cell(v) for v in values]


def render_csv(thing: Checklist | Verification) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADERS)
    for outcome, c in _outcomes(thing):
        w.writerow(_csv_row(outcome, c))
    return buf.getvalue()


def _outcomes(thing: Checklist | Verification) -> list[tuple[str, Copy]]:
    if isinstance(thing, Checklist):
        return [("copy" if c.status == "present" else "not verifiable", c) for c in _order(thing.copies)]
    rows: list[tuple[str, Copy]] = []
    rows += [("retained beyond deadline" if r.retained_beyond else "remains", r.copy) for r in thing.remaining]
    rows += [("appeared", c) for c in _order(thing.appeared)]
    rows += [("not verifiable", c) for c in thing.unverifiable]
    rows += [("erased", c) for c in _order(thing.erased)]
    return rows


# --------------------------------------------------------------------------- Markdown


def _md_line(c: Copy, done: bool = False) -> str:
    box = "[x]" if done else "[ ]"
    if c.status == "not verifiable":
        what = f"{md_text(c.kind)} " if c.kind else ""
        return f"- {box} {what}{md_code(c.name or c.resource_id)}: {md_text(c.reason)}"
    via = f", {md_text(c.how)} of {md_code(c.via)}" if c.via else ""
    when = f"; earliest deletion {md_text(c.earliest_deletion)}" if c.earliest_deletion else ""
    eu = "" if c.in_eu else " **outside the EU**"
    return (
        f"- {box} {md_text(c.kind)} {md_code(c.name or c.resource_id)}: {md_text(c.role)} in "
        f"{md_text(_where(c))}{eu}, {md_text(c.owner)}{via}{when}  \n"
        f"  id {md_code(c.resource_id)}"
    )


def _md_scans(lines: list[str], title: str, checklist: Checklist) -> None:
    lines += [f"**{title}**", ""]
    for s in checklist.scans:
        state = "complete" if s.complete else "**incomplete**"
        lines.append(f"- {md_code(s.id)} {md_text(s.target)}, started {md_text(s.started_at)} ({state})")
    if not checklist.scans:
        lines.append("- none")
    lines.append("")


def render_markdown(thing: Checklist | Verification) -> str:
    if isinstance(thing, Verification):
        return _verification_markdown(thing)
    c = thing
    lines = [f"# Copies of the data set: {md_text(c.selector.describe())}", ""]
    outside = sum(1 for x in c.present if not x.in_eu)
    lines += [
        f"{len(c.present)} copies in {len({x.resource_id for x in c.present})} resources "
        f"({outside} outside the EU); {len(c.unverifiable)} not verifiable.",
        "",
    ]
    _md_scans(lines, "Made from the scans", c)
    lines += ["## Every copy (delete each, then verify with `copies --verify-erased`)", ""]
    lines += [_md_line(x) for x in _order(c.present)] or ["- none found"]
    lines += ["", "## Not verifiable (the tool cannot see whether these exist: check them by hand)", ""]
    lines += [_md_line(x) for x in c.unverifiable] or ["- none: every copy the data set can have was seen"]
    return "\n".join(lines) + "\n"


def _verification_markdown(v: Verification) -> str:
    lines = [
        f"# Erasure of the data set: {md_text(v.checklist.selector.describe())}",
        "",
        f"**Verdict: {md_text(v.verdict)}.** Deletion began {v.since.isoformat()}; "
        f"the one-month limit ends {v.deadline.isoformat()}.",
        "",
    ]
    _md_scans(lines, "Checklist made from the scans", v.checklist)
    _md_scans(lines, "Verified against the scans", v.after)
    if v.unscanned:
        lines += ["**No scan since the deletion began covers:**", ""]
        lines += [f"- {md_text(t)}" for t in v.unscanned] + [""]
    sections: list[tuple[str, list[str]]] = [
        (
            "Copies that remain",
            [
                _md_line(r.copy) + ("  \n  **kept beyond the deadline by its retention**" if r.retained_beyond else "")
                for r in v.remaining
            ],
        ),
        ("Copies that appeared since", [_md_line(c) for c in _order(v.appeared)]),
        ("Not verifiable", [_md_line(c) for c in v.unverifiable]),
        ("Erased", [_md_line(c, done=True) for c in _order(v.erased)]),
    ]
    for title, rows in sections:
        lines += [f"## {title} ({len(rows)})", ""]
        lines += rows or ["- none"]
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- terminal


def print_table(thing: Checklist | Verification, console: Any) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    def cell(value: str) -> Text:
        return Text(terminal(value))

    checklist = thing.checklist if isinstance(thing, Verification) else thing
    if isinstance(thing, Verification):
        style = "bold green" if thing.verdict.startswith("erased") else "bold red"
        console.print(Text(f"Verdict: {thing.verdict}", style=style))
        console.print(
            Text(f"deletion began {thing.since.isoformat()}; the one-month limit ends {thing.deadline.isoformat()}")
        )
    else:
        console.print(Text(f"Copies of the data set: {terminal(checklist.selector.describe())}", style="bold"))
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    for header in ("Outcome", "Resource", "Role", "Location", "Owner", "Reached"):
        t.add_column(header, overflow="fold")
    # the resource a copy was reached from, by the name the table shows it under (ids are in JSON/Markdown)
    names = {c.resource_id: c.name for c in checklist.copies if c.name}
    for outcome, c in _outcomes(thing):
        name = f"{c.kind} {c.name or c.resource_id}".strip()
        via = names.get(c.via) or c.via.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        reached = "selected" if not c.via else f"{c.how} of {via}"
        where = _where(c) if c.status == "present" else c.reason
        out_style = {"remains": "red", "retained beyond deadline": "bold red", "appeared": "red", "erased": "green"}
        t.add_row(
            Text(outcome, style=out_style.get(outcome, "yellow" if c.status != "present" else "")),
            cell(name),
            cell(c.role or "-"),
            cell(where),
            cell(c.owner or "-"),
            cell(reached),
        )
    console.print(t)
    scans = ", ".join(f"{s.id[:12]}{'' if s.complete else ' (incomplete)'}" for s in checklist.scans) or "none"
    console.print(Text(f"scans: {scans}", style="dim"))
    present = checklist.present
    console.print(
        Text(
            f"{len(present)} copies, {sum(1 for c in present if not c.in_eu)} outside the EU, "
            f"{len(checklist.unverifiable)} not verifiable"
        )
    )


def render(thing: Checklist | Verification, fmt: str) -> str:
    if fmt == "json":
        return render_json(thing)
    if fmt == "csv":
        return render_csv(thing)
    if fmt == "markdown":
        return render_markdown(thing)
    from rich.console import Console

    buf = io.StringIO()
    print_table(thing, Console(file=buf, width=120, no_color=True))
    return buf.getvalue()
