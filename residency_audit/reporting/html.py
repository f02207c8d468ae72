"""The report as one self-contained HTML file: inline CSS, SVG and script, nothing fetched.

A residency report that loads a font or a script from a US CDN would be absurd,
and auditors open it offline years later: everything it shows is inside it.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ..model import coverage_by_type, holds_data
from . import Report


def places_rows(report: Report) -> list[dict[str, Any]]:
    """The table under the map (the bar chart it replaced): a row per country, and a
    multi-region as one row, its resources counted once."""
    from .worldmap import country_name

    places = report.data_places()
    top = max((p.resources for p in places), default=1)
    rows = []
    for p in places:
        if p.multi:
            name = f"multi-region: {len(p.countries)} countries ({', '.join(p.countries)})"
            key = f"region:{p.label}"
        elif p.countries:
            name, key = country_name(p.label), f"country:{p.label}"
        else:
            name, key = "locations nobody can place in a country", "country:??"
        rows.append(
            {
                "label": p.label,
                "name": name,
                "filter": key,
                "verdict": p.verdict,
                "eu": {"eu": "yes", "outside": "no"}.get(p.verdict, "?"),
                "resources": p.resources,
                "width": max(1, round(100 * p.resources / top)),
            }
        )
    return rows


def map_svg(report: Report) -> str:
    from .worldmap import render as render_map

    unknown = next((p.resources for p in report.data_places() if p.verdict == "unknown"), 0)
    return render_map(report.data_countries(), unknown)


def trend_chart(points: list[tuple[str, int, bool]]) -> str:
    """Findings per recorded scan (oldest left); hollow points are incomplete scans."""
    if not points:
        return ""
    width, height, pad = 640, 180, 36
    top = max(max(n for _, n, _ in points), 1)
    step = (width - 2 * pad) / max(len(points) - 1, 1)

    def xy(i: int, n: int) -> tuple[float, float]:
        return pad + i * step, height - pad - (height - 2 * pad) * n / top

    coords = [xy(i, n) for i, (_, n, _) in enumerate(points)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords))
    parts = [
        f'<svg id="trend-chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>Findings per recorded scan</title>',
        f'<line class="axis" x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}"></line>',
        f'<text x="4" y="{pad}">{top}</text><text x="4" y="{height - pad}">0</text>',
        f'<path class="trend" d="{path}"></path>',
    ]
    for (label, n, complete), (x, y) in zip(points, coords, strict=True):
        cls = "complete" if complete else "incomplete"
        parts.append(
            f'<circle class="{cls}" cx="{x:.1f}" cy="{y:.1f}" r="5"><title>{escape(label)}: {n} findings'
            f"{'' if complete else ' (incomplete scan)'}</title></circle>"
        )
    parts.append(
        f'<text x="{pad}" y="{height - 8}">{escape(points[0][0])}</text>'
        f'<text x="{width - pad}" y="{height - 8}" text-anchor="end">{escape(points[-1][0])}</text></svg>'
    )
    return "".join(parts)


def context(report: Report) -> dict[str, Any]:
    cur = report.current
    rows = []
    if cur is not None:
        for f in cur.findings:
            loc = f.location
            rows.append(
                {
                    "change": "suppressed" if f.suppressed_by else report.status_of(f),
                    "severity": f.severity,
                    "rule": f.rule_id,
                    "resource": f.resource.name or f.resource_id,
                    "resource_id": f.resource_id,
                    "kind": f.resource.kind,
                    "owner": f"{f.resource.owner.kind} {f.resource.owner.id}",
                    "role": loc.location.role if loc else "",
                    "region": f.region or "?",
                    "countries": " ".join(f.countries) or "??",
                    "message": f.message,
                    "suppressed_by": f.suppressed_by or "",
                }
            )
    points = [(f"{s.started_at:%Y-%m-%d %H:%M}", s.finding_count, s.complete) for s in report.history]
    from . import target

    scanned = report.current
    return {
        "r": report,
        "rows": rows,
        "map_svg": map_svg(report) if scanned else "",
        "places": places_rows(report),
        "trend_svg": trend_chart(points),
        "what": target.what(scanned) if scanned else report.target_label,
        "scope": target.scope(scanned) if scanned else "",
        "owners": target.owners(scanned) if scanned else "",
        "coverage": coverage_by_type([r for r in scanned.resources if holds_data(r)]) if scanned else [],
    }


def render(report: Report) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("residency_audit.reporting", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html.j2").render(**context(report))
