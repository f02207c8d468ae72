"""Read back a scan written by `scan ... --format json` (the JSON contract, schema 1.x).

`copies --scan FILE` works from such files as well as from the store: a scan run in a
pipeline whose store is elsewhere, or handed over by another team. The file is input
from outside, so every member the reader uses is checked, and a wrong one is one line
naming the file and the member (exit 2), never a traceback.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from .errors import UserError
from .model import (
    CopyLink,
    Finding,
    Gap,
    Location,
    Owner,
    OwnerNode,
    Place,
    ResolvedLocation,
    Resource,
    Scan,
    ScanRequest,
    ScanResult,
)

_GAP_FIELDS = ("provider", "scope", "region", "service", "error", "code")


class _Reader:
    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, where: str, problem: str) -> UserError:
        return UserError(f"{self.label}: not a usable scan file: {where} {problem}")

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "is not an object")
        return value

    def lst(self, value: Any, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(where, "is not a list")
        return value

    def text(self, value: Any, where: str, optional: bool = False) -> str:
        if value is None and optional:
            return ""
        if not isinstance(value, str):
            raise self.fail(where, "is not a string")
        return value

    def when(self, value: Any, where: str) -> dt.datetime | None:
        if value is None:
            return None
        try:
            parsed = dt.datetime.fromisoformat(self.text(value, where))
        except ValueError:
            raise self.fail(where, "is not an ISO 8601 time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)

    def strings(self, value: Any, where: str) -> dict[str, str]:
        out = {}
        for k, v in self.obj(value or {}, where).items():
            out[str(k)] = self.text(v, f"{where}.{k}", optional=True)
        return out


def read_scan(path: Path) -> ScanResult:
    """The scan in a JSON file, as the `ScanResult` it was written from (places as judged then)."""
    from . import jsonio

    label = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{label}: cannot read: {exc.strerror}") from None
    try:
        doc = jsonio.loads(raw)
    except ValueError as exc:
        raise UserError(f"{label}: invalid JSON ({exc})") from None
    return scan_from_dict(doc, label)


def scan_from_dict(doc: Any, label: str = "scan") -> ScanResult:
    r = _Reader(label)
    if not isinstance(doc, dict) or not str(doc.get("schema_version", "")).startswith("1."):
        raise UserError(f"{label}: not a residency-audit scan (the JSON that 'scan --format json' writes)")
    s = r.obj(doc.get("scan"), "scan")
    request = r.obj(s.get("request"), "scan.request")
    scan = Scan(
        request=ScanRequest.from_dict(request),
        id=r.text(s.get("id"), "scan.id"),
        started_at=r.when(s.get("started_at"), "scan.started_at") or dt.datetime.now(dt.UTC),
        finished_at=r.when(s.get("finished_at"), "scan.finished_at"),
        interrupted=bool(s.get("interrupted")),
        notes=[r.text(n, "scan.notes[]") for n in r.lst(s.get("notes"), "scan.notes")],
        context=dict(r.obj(s.get("context") or {}, "scan.context")),
    )
    for i, g in enumerate(r.lst(s.get("gaps"), "scan.gaps")):
        g = r.obj(g, f"scan.gaps[{i}]")
        scan.gaps.append(Gap(*(r.text(g.get(k), f"scan.gaps[{i}].{k}", optional=True) for k in _GAP_FIELDS)))
    if not s.get("complete", True) and not scan.gaps and not scan.interrupted:
        # "complete": false with no gap recorded: keep it incomplete rather than trust it whole
        scan.gaps.append(Gap(scan.request.provider, "", "", "scan", "the scan file says it is incomplete"))
    resources: list[Resource] = []
    resolved: dict[str, list[ResolvedLocation]] = {}
    for i, item in enumerate(r.lst(doc.get("resources"), "resources")):
        at = f"resources[{i}]"
        item = r.obj(item, at)
        o = r.obj(item.get("owner"), f"{at}.owner")
        path = tuple(
            OwnerNode(*(r.text(n.get(k), f"{at}.owner.path[].{k}", optional=True) for k in ("kind", "id", "name")))
            for n in (r.obj(n, f"{at}.owner.path[]") for n in r.lst(o.get("path"), f"{at}.owner.path"))
        )
        owner = Owner(
            r.text(o.get("kind"), f"{at}.owner.kind"),
            r.text(o.get("id"), f"{at}.owner.id"),
            r.text(o.get("name"), f"{at}.owner.name", optional=True),
            path,
        )
        provider = r.text(item.get("provider"), f"{at}.provider")
        res = Resource(
            provider,
            r.text(item.get("kind"), f"{at}.kind"),
            r.text(item.get("id"), f"{at}.id"),
            r.text(item.get("name"), f"{at}.name", optional=True),
            owner,
            [],
            r.strings(item.get("tags"), f"{at}.tags"),
            r.text(item.get("source"), f"{at}.source", optional=True) or "api",
            dict(r.obj(item.get("attributes") or {}, f"{at}.attributes")),
            category=r.text(item.get("category"), f"{at}.category", optional=True),
            judged=r.text(item.get("judged"), f"{at}.judged", optional=True),
            part_of=r.text(item.get("part_of"), f"{at}.part_of", optional=True),
        )
        for j, link in enumerate(r.lst(item.get("links"), f"{at}.links")):
            link = r.obj(link, f"{at}.links[{j}]")
            for key in ("relation", "target", "how"):
                r.text(link.get(key), f"{at}.links[{j}].{key}")
            res.links.append(CopyLink.from_dict(link))
        places = resolved.setdefault(res.id, [])
        for j, loc in enumerate(r.lst(item.get("locations"), f"{at}.locations")):
            w = f"{at}.locations[{j}]"
            loc = r.obj(loc, w)
            region = loc.get("region")
            if region is not None:
                r.text(region, f"{w}.region")
            location = Location(
                region,
                r.text(loc.get("role"), f"{w}.role", optional=True) or "primary",
                r.text(loc.get("zone"), f"{w}.zone", optional=True) or None,
                r.text(loc.get("detail"), f"{w}.detail", optional=True),
            )
            countries = tuple(r.text(c, f"{w}.countries[]") for c in r.lst(loc.get("countries"), f"{w}.countries"))
            known = bool(loc.get("known", bool(countries)))
            place = Place(
                provider=provider,
                code=region or "unknown",
                name=r.text(loc.get("place"), f"{w}.place", optional=True) or (region or "unknown"),
                kind="region" if known else "unknown",
                countries=countries,
                # a file cannot make an unknown place EU: in_eu needs known countries too
                in_eu=bool(loc.get("in_eu")) and known and bool(countries),
                known=known,
            )
            res.locations.append(location)
            places.append(ResolvedLocation(location, place))
        resources.append(res)
    by_id = {res.id: res for res in resources}
    findings: list[Finding] = []
    for i, f in enumerate(r.lst(doc.get("findings"), "findings")):
        at = f"findings[{i}]"
        f = r.obj(f, at)
        res_found = by_id.get(r.text(f.get("resource_id"), f"{at}.resource_id"))
        if res_found is None:
            raise r.fail(f"{at}.resource_id", "names no resource of the file")
        rl = next(
            (
                x
                for x in resolved.get(res_found.id, [])
                if x.location.region == f.get("region") and x.location.role == f.get("role")
            ),
            None,
        )
        findings.append(
            Finding(
                r.text(f.get("rule_id"), f"{at}.rule_id"),
                r.text(f.get("severity"), f"{at}.severity"),  # type: ignore[arg-type]
                res_found,
                rl,
                r.text(f.get("message"), f"{at}.message", optional=True),
                r.text(f.get("clause"), f"{at}.clause", optional=True),
                r.text(f.get("title"), f"{at}.title", optional=True),
                r.text(f.get("suppressed_by"), f"{at}.suppressed_by", optional=True) or None,
            )
        )
    return ScanResult(scan=scan, resources=resources, findings=findings, resolved=resolved)
