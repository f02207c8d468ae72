"""The report's map of where the data lives: inline SVG, Europe large with the world beside it.

Shapes: data/worldmap.json, built by tools/build_worldmap.py from Natural Earth's public-domain
1:50m countries (via the world-atlas TopoJSON, ISC licence; see data/WORLDMAP-SOURCES.txt).
The report embeds them, so it needs no network, ever. Each country holding data is shaded by
verdict (EU blue, outside red) and by how much is there (four steps); a multi-region's
members are each shaded, the resources counted once in the table under the map. A country too
small to see at this scale (Singapore, Malta, Bahrain...) gets a dot. Every shaded country
carries `data-country`, which the report's script turns into a findings filter on click.
"""

from __future__ import annotations

import functools
import json
from html import escape
from pathlib import Path
from typing import Any

from . import CountryData

DATA = Path(__file__).parent / "data" / "worldmap.json"
#: The world panel, scaled against the Europe panel; the gap between them, in map units.
WORLD_SCALE = 0.62
GAP = 40
#: A country whose shape is smaller than this (in map units squared) also gets a dot.
DOT_BELOW = 400


_FOCUSABLE = 'tabindex="0" role="button"'


@functools.lru_cache(maxsize=1)
def shapes() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text("utf-8"))
    return data


def level(n: int, top: int) -> int:
    """1..4: how much of the estate's data is in a country, relative to the country with most."""
    ratio = n / top if top else 0
    return 4 if ratio > 0.66 else 3 if ratio > 0.33 else 2 if ratio > 0.1 else 1


def country_name(code: str) -> str:
    return str(shapes()["names"].get(code, code))


def _title(code: str, d: CountryData) -> str:
    where = "in the EU" if d.verdict == "eu" else "outside the EU"
    text = f"{country_name(code)} ({code}), {where}: {d.resources} resource{'s' if d.resources != 1 else ''} hold data"
    if d.via_multi:
        text += f" ({d.via_multi} only as part of a multi-region)"
    return text


def _panel(
    view: dict[str, Any], data: dict[str, CountryData], top: int, name: str, no_dots: frozenset[str] = frozenset()
) -> list[str]:
    """One view's sea, land and shaded countries; `no_dots`: countries shown large elsewhere."""
    width, height = view["width"], view["height"]
    parts = [f'<rect class="sea" width="{width}" height="{height}" rx="10"></rect>']
    dots = []
    for code, shape in view["countries"].items():
        d = data.get(code)
        path = shape.get("d")
        if d is None:
            if path:
                parts.append(f'<path class="land" d="{path}"></path>')
            continue
        cls = f"c {d.verdict} l{level(d.resources, top)}"
        attrs = f'class="{cls}" data-country="{escape(code)}" data-filter="country:{escape(code)}" {_FOCUSABLE}'
        title = f"<title>{escape(_title(code, d))}</title>"
        if path:
            parts.append(f'<path {attrs} d="{path}">{title}</path>')
        if code not in no_dots and (not path or _small(path)):
            x, y = shape["c"]
            dots.append(f'<circle {attrs} cx="{x}" cy="{y}" r="9">{title}</circle>')
    parts.extend(dots)  # on top of the land
    parts.append(f'<text class="panel-name" x="16" y="{height - 16}">{name}</text>')
    return parts


def _small(path: str) -> bool:
    """Roughly: a shape whose bounding box is tiny (coordinates are relative after the first)."""
    import re

    xs, ys = [], []
    for ring in path.split("M")[1:]:
        numbers = [int(n) for n in re.findall(r"-?\d+", ring.rstrip("z"))]
        x, y = numbers[0], numbers[1]
        xs.append(x)
        ys.append(y)
        for dx, dy in zip(numbers[2::2], numbers[3::2], strict=False):
            x, y = x + dx, y + dy
            xs.append(x)
            ys.append(y)
    return (max(xs) - min(xs)) * (max(ys) - min(ys)) < DOT_BELOW


def render(data: dict[str, CountryData], unknown: int) -> str:
    """The map as one <svg> element; `unknown`: resources with data nobody can place."""
    m = shapes()
    europe, world = m["views"]["europe"], m["views"]["world"]
    top = max((d.resources for d in data.values()), default=0)
    wx = europe["width"] + GAP
    ww, wh = world["width"] * WORLD_SCALE, world["height"] * WORLD_SCALE
    width = round(wx + ww)
    height = europe["height"]
    out = [
        f'<svg id="map" role="img" viewBox="0 0 {width} {height}" aria-labelledby="map-title">',
        '<title id="map-title">Where the data lives: countries holding data, in the EU (blue) and outside '
        "it (red), darker where more is; click a country to filter the findings</title>",
        '<g id="map-europe">',
        *_panel(europe, data, top, "Europe"),
        "</g>",
        f'<g id="map-world" transform="translate({wx} 0) scale({WORLD_SCALE})">',
        *_panel(world, data, top, "World", frozenset(europe["countries"])),
        f'<path class="frame" d="{world["europe_frame"]}"></path>',
        "</g>",
    ]
    legend = _legend(wx, wh + 40, unknown)
    out.extend(legend)
    out.extend(_outside(data, wx, wh + 40 + (5 if unknown else 4) * 44 + 30, height))
    out.append("</svg>")
    return "".join(out)


def _outside(data: dict[str, CountryData], x: float, y: float, bottom: float) -> list[str]:
    """The verdict in words beside the maps: the countries outside the EU holding data, most first."""
    outside = sorted((d for d in data.values() if d.verdict == "outside"), key=lambda d: (-d.resources, d.country))
    if not outside:
        return [f'<text class="verdict ok" x="{x:.0f}" y="{y + 30:.0f}">No data outside the EU.</text>']
    out = [f'<text class="verdict" x="{x:.0f}" y="{y + 30:.0f}">Outside the EU: {len(outside)} countries</text>']
    rows = int((bottom - y - 60) // 40)
    for i, d in enumerate(outside[:rows]):
        more = len(outside) - rows
        if i == rows - 1 and more > 0:
            out.append(f'<text x="{x:.0f}" y="{y + 80 + i * 40:.0f}">and {more + 1} more (see the table)</text>')
            break
        out.append(
            f'<g class="outside-item" data-country="{escape(d.country)}" data-filter="country:{escape(d.country)}" '
            f'tabindex="0" role="button"><text x="{x:.0f}" y="{y + 80 + i * 40:.0f}">'
            f'<tspan class="code">{escape(d.country)}</tspan> {escape(country_name(d.country))}: {d.resources}'
            "</text></g>"
        )
    return out


def _legend(x: float, y: float, unknown: int) -> list[str]:
    rows = [
        ("eu l4", "in the EU"),
        ("outside l4", "outside the EU"),
        ("land", "no data"),
    ]
    out = [f'<g id="map-legend" transform="translate({x:.0f} {y:.0f})">']
    for i, (cls, label) in enumerate(rows):
        out.append(
            f'<rect class="{cls}" x="0" y="{i * 44}" width="30" height="30" rx="4"></rect>'
            f'<text x="44" y="{i * 44 + 23}">{label}</text>'
        )
    steps = "".join(
        f'<rect class="eu l{n}" x="{(n - 1) * 34}" y="{len(rows) * 44}" width="30" height="30" rx="4"></rect>'
        for n in range(1, 5)
    )
    out.append(steps + f'<text x="148" y="{len(rows) * 44 + 23}">more data: darker</text>')
    if unknown:
        yy = (len(rows) + 1) * 44
        out.append(
            f'<g class="c unknown" data-country="??" data-filter="country:??" tabindex="0" role="button">'
            f"<title>Locations nobody can place in a country: {unknown} resource{'s' if unknown != 1 else ''}</title>"
            f'<rect x="0" y="{yy}" width="30" height="30" rx="4"></rect>'
            f'<text x="44" y="{yy + 23}">unknown location: {unknown} (click to filter)</text></g>'
        )
    out.append("</g>")
    return out
