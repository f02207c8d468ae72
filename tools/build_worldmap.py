"""Build the HTML report's map shapes: residency_audit/reporting/data/worldmap.json.

Source: Natural Earth 1:50m admin-0 countries (public domain), as the TopoJSON that the
`world-atlas` package ships (ISC licence, maintained by Mike Bostock). Country codes come
from ISO 3166-1 as Debian's `iso-codes` package (or pycountry's bundled copy) ships it:
world-atlas names countries by their numeric code only.

Two views are projected, simplified and stored as SVG path data in whole units:
  - europe: Lambert azimuthal equal-area centred on 10°E 52°N (the projection of
    EPSG:3035, the EU's own statistical maps), clipped to Iceland..Cyprus, Lisbon..Finland;
  - world: the Equal Earth projection (Šavrič, Patterson, Jenny 2018), without Antarctica.
Borders are simplified once per shared TopoJSON arc (Douglas-Peucker), so neighbours keep a
common border with no slivers. Nothing is downloaded at run time: the report reads the JSON.

Regenerate (a developer's step, never at run time; needs the npm client for the data):

    npm pack world-atlas@2.0.2
    python tools/build_worldmap.py world-atlas-2.0.2.tgz /usr/share/iso-codes/json/iso_3166-1.json
"""

from __future__ import annotations

import argparse
import json
import math
import tarfile
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "residency_audit" / "reporting" / "data" / "worldmap.json"
SOURCE_FILE = "package/countries-50m.json"

Point = tuple[float, float]
Ring = list[Point]

# ----------------------------------------------------------------------------- projections

#: Europe panel: centre of the projection, lon/lat frame, width in units.
EU_CENTRE = (10.0, 52.0)
EU_FRAME = (-25.0, 34.0, 42.0, 71.5)  # west, south, east, north (degrees)
EU_WIDTH = 560.0
WORLD_WIDTH = 560.0
WORLD_SOUTH = -58.0  # Antarctica and the far south are left out


def laea(lon: float, lat: float) -> Point:
    lam, phi = math.radians(lon - EU_CENTRE[0]), math.radians(lat)
    phi0 = math.radians(EU_CENTRE[1])
    k = math.sqrt(2 / (1 + math.sin(phi0) * math.sin(phi) + math.cos(phi0) * math.cos(phi) * math.cos(lam)))
    x = k * math.cos(phi) * math.sin(lam)
    y = k * (math.cos(phi0) * math.sin(phi) - math.sin(phi0) * math.cos(phi) * math.cos(lam))
    return x, -y


_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = math.sqrt(3) / 2


def equal_earth(lon: float, lat: float) -> Point:
    lam, phi = math.radians(lon), math.radians(lat)
    theta = math.asin(_M * math.sin(phi))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = lam * math.cos(theta) / (_M * (_A1 + 3 * _A2 * t2 + t6 * (7 * _A3 + 9 * _A4 * t2)))
    y = theta * (_A1 + _A2 * t2 + t6 * (_A3 + _A4 * t2))
    return x, -y


class View:
    """A projection fitted to a box of `width` units."""

    def __init__(self, project: Any, corners: list[Point], width: float) -> None:
        pts = [project(lon, lat) for lon, lat in corners]
        self.project = project
        self.x0 = min(p[0] for p in pts)
        self.y0 = min(p[1] for p in pts)
        self.scale = width / (max(p[0] for p in pts) - self.x0)
        self.width = width
        self.height = (max(p[1] for p in pts) - self.y0) * self.scale

    def __call__(self, lon: float, lat: float) -> Point:
        x, y = self.project(lon, lat)
        return (x - self.x0) * self.scale, (y - self.y0) * self.scale


def europe_view() -> View:
    w, s, e, n = EU_FRAME
    # The frame's corners and edge midpoints (the projection bends parallels).
    corners = [(w, s), (e, s), (w, n), (e, n), ((w + e) / 2, s), ((w + e) / 2, n), (EU_CENTRE[0], n)]
    return View(laea, corners, EU_WIDTH)


def world_view() -> View:
    corners = [(-180.0, 0.0), (180.0, 0.0), (0.0, 84.0), (0.0, WORLD_SOUTH)]
    return View(equal_earth, corners, WORLD_WIDTH)


# ----------------------------------------------------------------------------- TopoJSON


def decode_arcs(topo: dict[str, Any]) -> list[list[Point]]:
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def rings_of(geometry: dict[str, Any]) -> list[list[int]]:
    if geometry["type"] == "Polygon":
        return list(geometry["arcs"])
    if geometry["type"] == "MultiPolygon":
        return [ring for polygon in geometry["arcs"] for ring in polygon]
    return []


def assemble(ring: list[int], arcs: Any) -> Ring:
    out: Ring = []
    for index in ring:
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        out.extend(points if not out else points[1:])
    return out


# ----------------------------------------------------------------------------- geometry


def simplify(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas-Peucker, iterative; keeps both ends (shared arc end points stay shared)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (ax, ay), (bx, by) = points[first], points[last]
        dx, dy = bx - ax, by - ay
        norm = math.hypot(dx, dy)
        worst, at = 0.0, -1
        for i in range(first + 1, last):
            px, py = points[i]
            d = abs(dy * (px - ax) - dx * (py - ay)) / norm if norm else math.hypot(px - ax, py - ay)
            if d > worst:
                worst, at = d, i
        if worst > tolerance:
            keep[at] = True
            stack.extend(((first, at), (at, last)))
    return [p for p, k in zip(points, keep, strict=True) if k]


def clip(ring: Ring, width: float, height: float) -> Ring:
    """Sutherland-Hodgman against the view's rectangle."""
    edges = [
        (lambda p: p[0] >= 0, lambda a, b: _cross_x(a, b, 0.0)),
        (lambda p: p[0] <= width, lambda a, b: _cross_x(a, b, width)),
        (lambda p: p[1] >= 0, lambda a, b: _cross_y(a, b, 0.0)),
        (lambda p: p[1] <= height, lambda a, b: _cross_y(a, b, height)),
    ]
    out = ring
    for inside, cross in edges:
        if not out:
            break
        src, out = out, []
        prev = src[-1]
        for cur in src:
            if inside(cur):
                if not inside(prev):
                    out.append(cross(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross(prev, cur))
            prev = cur
    return out


def _cross_x(a: Point, b: Point, x: float) -> Point:
    t = (x - a[0]) / (b[0] - a[0])
    return x, a[1] + t * (b[1] - a[1])


def _cross_y(a: Point, b: Point, y: float) -> Point:
    t = (y - a[1]) / (b[1] - a[1])
    return a[0] + t * (b[0] - a[0]), y


def area(ring: Ring) -> float:
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))) / 2


def centroid(ring: Ring) -> Point:
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(a) < 1e-9:
        return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)
    return cx / (3 * a), cy / (3 * a)


def path_data(rings: list[list[tuple[int, int]]]) -> str:
    """Absolute first point, then relative moves, in whole units: the shortest plain SVG path."""
    parts = []
    for ring in rings:
        x, y = ring[0]
        cmd = [f"M{x} {y}"]
        for nx, ny in ring[1:]:
            cmd.append(_pair(nx - x, ny - y))
            x, y = nx, ny
        parts.append(cmd[0] + "l" + "".join(cmd[1:]).lstrip(" ") + "z")
    return "".join(parts)


def _pair(dx: int, dy: int) -> str:
    return (f" {dx}" if dx >= 0 else f"{dx}") + (f" {dy}" if dy >= 0 else f"{dy}")


# ----------------------------------------------------------------------------- build


def build_view(
    view: View,
    countries: list[tuple[str, list[list[int]]]],
    arcs: list[list[Point]],
    tolerance: float,
    clip_to_view: bool,
    unit: float,
) -> dict[str, Any]:
    """{code: {"d": path, "c": [x, y]}} in units of `unit` (path coordinates are integers)."""
    raw: dict[int, list[Point]] = {}
    simple: dict[int, list[Point]] = {}

    def raw_arc(i: int) -> list[Point]:
        if i not in raw:
            raw[i] = [(x / unit, y / unit) for x, y in (view(lon, max(lat, WORLD_SOUTH - 2)) for lon, lat in arcs[i])]
        return raw[i]

    def simple_arc(i: int) -> list[Point]:
        if i not in simple:
            simple[i] = simplify(raw_arc(i), tolerance / unit)
        return simple[i]

    w, h = view.width / unit, view.height / unit
    shapes: dict[str, Any] = {}
    for code, rings in countries:
        out: list[list[tuple[int, int]]] = []
        best: Ring = []  # the largest ring, unsimplified: where a marker for the country goes
        for ring in rings:
            whole = assemble(ring, _Arcs(raw_arc))
            pts = assemble(ring, _Arcs(simple_arc))
            if clip_to_view:
                whole, pts = clip(whole, w, h), clip(pts, w, h)
            if len(whole) >= 3 and area(whole) > area(best):
                best = whole
            snapped: list[tuple[int, int]] = []
            for x, y in pts:
                q = (round(x), round(y))
                if not snapped or snapped[-1] != q:
                    snapped.append(q)
            if len(snapped) >= 3 and area([(float(a), float(b)) for a, b in snapped]) >= 0.5:
                out.append(snapped)
        if not best:
            continue  # outside the view
        cx, cy = centroid(best)
        entry: dict[str, Any] = {"c": [round(cx), round(cy)]}
        if out:
            entry["d"] = path_data(out)
        shapes[code] = entry
    return {"width": round(w), "height": round(h), "unit": unit, "countries": dict(sorted(shapes.items()))}


class _Arcs:
    """Index -> projected, simplified arc, computed on first use."""

    def __init__(self, get: Any) -> None:
        self._get = get

    def __getitem__(self, i: int) -> list[Point]:
        return list(self._get(i))


def iso_3166(iso_json: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(numeric code -> alpha-2, alpha-2 -> short English name)."""
    data = json.loads(iso_json.read_text("utf-8"))["3166-1"]
    names = {e["alpha_2"]: e.get("common_name") or e["name"] for e in data}
    return {e["numeric"]: e["alpha_2"] for e in data}, names


def frame_in(view: View, unit: float) -> str:
    """The Europe panel's frame, drawn on the world view (where the big panel is)."""
    w, s, e, n = EU_FRAME
    steps = 24
    edge = (
        [(w + (e - w) * i / steps, s) for i in range(steps + 1)]
        + [(e, n)]
        + [(e - (e - w) * i / steps, n) for i in range(steps + 1)]
    )
    pts = [(round(x / unit), round(y / unit)) for x, y in (view(lon, lat) for lon, lat in edge)]
    return path_data([pts])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("atlas", type=Path, help="world-atlas-2.0.2.tgz (npm pack world-atlas@2.0.2)")
    parser.add_argument("iso", type=Path, help="iso_3166-1.json (Debian iso-codes, or pycountry's databases/)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tarfile.open(args.atlas) as tar:
        member = tar.extractfile(SOURCE_FILE)
        assert member is not None, f"{SOURCE_FILE} not in {args.atlas}"
        topo = json.load(member)
        meta = json.load(tar.extractfile("package/package.json"))  # type: ignore[arg-type]
    alpha2, names = iso_3166(args.iso)
    arcs = decode_arcs(topo)
    # Several features can share a code (Australia and its Ashmore and Cartier Islands): one shape
    # per code. Land without an ISO code (Kosovo, Northern Cyprus, Somaliland...) is drawn as ""
    # (never shaded).
    by_code: dict[str, list[list[int]]] = {}
    for geometry in topo["objects"]["countries"]["geometries"]:
        code = alpha2.get(str(geometry.get("id", "")), "")
        if code != "AQ":
            by_code.setdefault(code, []).extend(rings_of(geometry))
    countries = sorted(by_code.items())
    views = {}
    for name, view, tol, clip_to_view in (
        ("europe", europe_view(), 0.9, True),
        ("world", world_view(), 0.9, False),
    ):
        built = build_view(view, countries, arcs, tol, clip_to_view, unit=0.5)
        views[name] = built
    views["world"]["europe_frame"] = frame_in(world_view(), 0.5)
    shown = {c for v in views.values() for c in v["countries"]}
    out = {
        "names": {c: names[c] for c in sorted(shown) if c in names},
        "source": "Natural Earth 1:50m Admin 0 - Countries (public domain), via the world-atlas "
        f"{meta['version']} TopoJSON (ISC licence, Mike Bostock); ISO 3166-1 codes from iso-codes",
        "built_by": "tools/build_worldmap.py",
        "projections": {
            "europe": f"Lambert azimuthal equal-area, centre {EU_CENTRE[0]}E {EU_CENTRE[1]}N",
            "world": "Equal Earth",
        },
        "europe_frame": list(EU_FRAME),
        "views": views,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, separators=(",", ":"), ensure_ascii=True) + "\n", "utf-8")
    print(f"wrote {args.out}: {args.out.stat().st_size:,} bytes, {len(views['world']['countries'])} shapes")


if __name__ == "__main__":
    main()
