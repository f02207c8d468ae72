"""Where a location code physically is, and whose law reaches it.

The catalog is data (`data/<provider>.yaml`), loaded once per process. A code
the catalog does not know resolves to an *unknown* `Place` with no countries:
never "in the EU", so the rules fail closed.

Two questions are kept apart: *location* (the countries that can hold the data,
`Place.countries` / `Place.in_eu`) and *jurisdiction* (whose law reaches the
operator, `Place.jurisdictions`). The default rules judge location; the opt-in
strict profile (`rules/profiles/strict-jurisdiction.yaml`) also judges jurisdiction.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..model import Location, Place

#: The catalog files ship inside the package (never zipped): a plain path, no importlib.resources to import.
DATA_DIR = Path(__file__).parent / "data"

_COUNTRY = re.compile(r"^[A-Z]{2}$")


class CatalogError(Exception):
    """The bundled catalog itself is broken (a packaging bug, not user input)."""


def _load(name: str) -> dict[str, Any]:
    """A catalog file's data: from its compiled JSON twin when that was built from this very YAML.

    The YAML (with its comments and sources) is what people edit; parsing it
    costs more than the rest of a small gate run, so `compile.py` writes
    `data/<name>.json` with the YAML's SHA-256. A twin that does not match
    (someone edited the YAML and did not recompile) is ignored, never trusted.
    """
    return load_data(DATA_DIR, name)


def load_data(data_dir: Path, name: str) -> dict[str, Any]:
    import hashlib

    source = (data_dir / f"{name}.yaml").read_bytes()
    try:
        compiled = json.loads((data_dir / f"{name}.json").read_bytes())
    except (FileNotFoundError, ValueError):
        compiled = None
    if isinstance(compiled, dict) and compiled.get("source_sha256") == hashlib.sha256(source).hexdigest():
        data = compiled.get("data")
    else:
        data = parse_yaml(name, source)
    if not isinstance(data, dict):
        raise CatalogError(f"geography/data/{name}.yaml: not a mapping")
    return data


def parse_yaml(name: str, source: bytes) -> Any:
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the build has it
    try:
        return yaml.load(source, Loader=loader)
    except yaml.YAMLError as exc:
        raise CatalogError(f"geography/data/{name}.yaml: {exc}") from None


@functools.lru_cache(maxsize=1)
def eu_members() -> frozenset[str]:
    return frozenset(_load("eu")["members"])


class Catalog:
    """Resolves provider location codes to `Place`s."""

    def __init__(self, providers: Iterable[str] | None = None) -> None:
        if providers is None:
            from ..providers import names

            providers = names()
        self._eu = eu_members()
        self._places: dict[tuple[str, str], Place] = {}
        self._aliases: dict[tuple[str, str], str] = {}
        #: provider -> [(prefix, rule)]: codes resolved by rule (`derived` in the YAML)
        self._rules: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        #: per provider, from its YAML's `zones`: a zone of a catalogued region, and zones that may
        #: lie in another country than their region (an unlisted one is unknown), with why
        self._zone: dict[str, re.Pattern[str]] = {}
        self._edge: dict[str, tuple[re.Pattern[str], str]] = {}
        self._derived: dict[tuple[str, str], Place | None] = {}
        self._raw: dict[str, dict[str, Any]] = {}
        # A provider's file is parsed on first use: a gate over an AWS plan
        # should not pay for parsing the Azure and GCP catalogs.
        self._todo = set(providers)
        self._lock = threading.Lock()

    def _ensure(self, provider: str) -> None:
        if provider not in self._todo:  # fast path; removed only once fully indexed
            return
        with self._lock:
            if provider not in self._todo:
                return
            try:
                data = _load(provider)
            except FileNotFoundError:
                data = None
            if data is not None:
                self._raw[provider] = data
                self._index(provider, data)
            self._todo.discard(provider)

    def _index(self, provider: str, data: dict[str, Any]) -> None:
        sources: dict[str, str] = data.get("sources") or {}
        operators: dict[str, dict[str, Any]] = data.get("operators") or {}
        entries: dict[str, dict[str, Any]] = data.get("locations") or {}
        pending = dict(entries)
        # Composite locations (multi/dual-regions) take their countries from
        # their members, so resolve plain entries first.
        for _ in range(3):
            for code, entry in list(pending.items()):
                members = [m.lower() for m in entry.get("members") or []]
                if any((provider, m) not in self._places for m in members if m in pending):
                    continue
                self._places[(provider, code.lower())] = self._make(provider, code, entry, members, sources, operators)
                del pending[code]
        if pending:
            raise CatalogError(f"{provider}: unresolvable members in {sorted(pending)}")
        for alias, spec in (data.get("aliases") or {}).items():
            target = spec["to"] if isinstance(spec, dict) else spec
            self._aliases[(provider, str(alias).lower())] = str(target).lower()
        rules = []
        for prefix, rule in (data.get("derived") or {}).items():
            if not isinstance(rule, dict) or bool(rule.get("region")) == bool(rule.get("unknown")):
                raise CatalogError(f"{provider}: derived rule {prefix!r} needs exactly one of 'region' or 'unknown'")
            source_key = str(rule.get("source", ""))
            rules.append((str(prefix).lower(), {**rule, "source": sources.get(source_key, source_key)}))
        # Longest prefix first, so a narrower rule wins over a broader one.
        self._rules[provider] = sorted(rules, key=lambda r: -len(r[0]))
        zones = data.get("zones") or {}
        try:
            if zones.get("zone"):
                self._zone[provider] = re.compile(str(zones["zone"]))
            if zones.get("edge"):
                self._edge[provider] = (re.compile(str(zones["edge"])), str(zones.get("edge_note") or "an edge zone"))
        except re.error as exc:
            raise CatalogError(f"{provider}: zones: not a pattern: {exc}") from None

    def _make(
        self,
        provider: str,
        code: str,
        entry: dict[str, Any],
        members: list[str],
        sources: dict[str, str],
        operators: dict[str, dict[str, Any]],
    ) -> Place:
        countries: list[str] = list(entry.get("countries") or [])
        if entry.get("countries_from") == "eu":
            countries = sorted(self._eu)
        bad = [c for c in countries if not isinstance(c, str) or not _COUNTRY.match(c)]
        if bad:  # e.g. an unquoted NO that YAML read as false
            raise CatalogError(f"{provider}:{code}: not ISO 3166 alpha-2 country codes: {bad!r}")
        if members:
            countries = self._member_countries(provider, members)
        if entry.get("unpaired") and entry.get("paired_region"):
            raise CatalogError(f"{provider}:{code}: both unpaired and paired with {entry['paired_region']}")
        op_key = entry.get("operator", "")
        operator = operators.get(op_key, {})
        source_key = entry.get("source", "")
        known = bool(countries)
        return Place(
            provider=provider,
            code=code,
            name=str(entry.get("name", code)),
            kind=str(entry.get("kind", "region")),
            countries=tuple(countries),
            in_eu=known and all(c in self._eu for c in countries),
            known=known,
            members=tuple(members),
            jurisdictions=tuple(operator.get("jurisdictions") or ()),
            operator=str(operator.get("name", op_key)),
            source=sources.get(source_key, source_key),
            note=str(entry.get("note", "")),
            paired_region=str(entry.get("paired_region", "")),
            partition=str(entry.get("partition", "")),
            physical_location=str(entry.get("physical_location", "")),
            parent=str(entry.get("parent", "")),
        )

    def _member_countries(self, provider: str, members: Sequence[str]) -> list[str]:
        """Union of the members' countries; empty (unknown) if any member is unknown."""
        countries: list[str] = []
        for member in members:
            place = self._find(provider, member)
            if place is None or not place.known:
                return []  # one unknown member makes the whole unknown
            countries.extend(c for c in place.countries if c not in countries)
        return countries

    def resolve(self, provider: str, code: str | None, zone: str | None = None) -> Place:
        """The place for a region (and, where it can differ in country, a zone)."""
        self._ensure(provider)
        if zone:
            zkey = zone.strip().lower()
            # Only zones the catalog lists on their own (Local Zones, Wavelength)
            # can differ in country from their region; a plain AZ never does.
            zplace = self._places.get((provider, zkey))
            if zplace is not None and zplace.kind == "zone":
                return zplace
            edge = self._edge.get(provider)
            if edge is not None and edge[0].match(zkey):
                return self.unknown(provider, zone, f"{edge[1]}; it may be in another country than its parent region")
        if code is None:
            return self.unknown(provider, "", "the provider did not report a location")
        place = self._lookup(provider, code)
        if place is not None:
            return place
        edge = self._edge.get(provider)
        if edge is not None and edge[0].match(code.strip().lower()):
            return self.unknown(provider, code, f"{edge[1]}; fails closed")
        return self.unknown(provider, code, "not in the residency-audit location catalog")

    def resolve_location(self, provider: str, location: Location) -> Place:
        return self.resolve(provider, location.region, location.zone)

    def resolve_composite(
        self,
        provider: str,
        members: Sequence[str],
        code: str = "",
        kind: str = "dual-region",
        name: str = "",
    ) -> Place:
        """A location made of explicit member regions, e.g. a Cloud Storage
        configurable dual-region (`customPlacementConfig.dataLocations`)."""
        self._ensure(provider)
        keys = [m.strip().lower() for m in members]
        code = code or "+".join(keys)
        if not keys:
            return self.unknown(provider, code, "a composite location without member regions")
        countries = self._member_countries(provider, keys)
        unknown = [m for m in keys if (p := self._lookup(provider, m)) is None or not p.known]
        first = self._lookup(provider, keys[0])
        known = bool(countries)
        return Place(
            provider=provider,
            code=code,
            name=name or f"{kind} of {', '.join(keys)}",
            kind=kind,
            countries=tuple(countries),
            in_eu=known and all(c in self._eu for c in countries),
            known=known,
            members=tuple(keys),
            jurisdictions=first.jurisdictions if first else (),
            operator=first.operator if first else "",
            source=first.source if first else "",
            note=f"unknown member(s): {', '.join(unknown)}" if unknown else "",
        )

    def _lookup(self, provider: str, code: str) -> Place | None:
        self._ensure(provider)
        return self._find(provider, code)

    def _find(self, provider: str, code: str) -> Place | None:
        key = code.strip().lower()
        key = self._aliases.get((provider, key), key)
        place = self._places.get((provider, key))
        if place is None:
            zone = self._zone.get(provider)
            m = zone.match(key) if zone is not None else None  # a zone of a known region
            if m:
                place = self._places.get((provider, m["region"]))
        if place is None and self._rules.get(provider):
            place = self._by_rule(provider, key)
        return place

    def _by_rule(self, provider: str, key: str) -> Place | None:
        """A code the YAML's `derived` rules cover, e.g. Spanner's `spanner/regional-<region>`.

        A region rule resolves only when the rest of the code is a catalogued
        region (never a zone or a multi-region); the place takes that region's
        countries, so a region of unknown country stays unknown.
        """
        cache_key = (provider, key)
        if cache_key in self._derived:
            return self._derived[cache_key]
        place: Place | None = None
        for prefix, rule in self._rules.get(provider, ()):
            if not key.startswith(prefix) or key == prefix:
                continue
            rest = key[len(prefix) :]
            if rule.get("unknown"):
                place = Place(
                    provider=provider,
                    code=key,
                    name="unknown",
                    kind="unknown",
                    countries=(),
                    in_eu=False,
                    known=False,
                    source=str(rule.get("source", "")),
                    note=str(rule["unknown"]),
                )
                break
            region = self._places.get((provider, rest))
            if region is None or region.kind != "region":
                break  # not a catalogued region: the code stays unknown
            template = str(rule.get("name") or "{code}: {region} ({city})")
            place = Place(
                provider=provider,
                code=key,
                name=template.format(code=key, region=rest, city=region.name),
                kind=str(rule.get("kind", "region")),
                countries=region.countries,
                in_eu=region.in_eu,
                known=region.known,
                members=(rest,),
                jurisdictions=region.jurisdictions,
                operator=region.operator,
                source=str(rule.get("source", "")) or region.source,
                note=f"all replicas in region {rest}" + (f"; {region.note}" if region.note else ""),
                partition=region.partition,
            )
            break
        self._derived[cache_key] = place
        return place

    def alias_of(self, provider: str, code: str) -> str | None:
        """The catalog code an alias stands for (e.g. S3's legacy "EU" -> eu-west-1)."""
        self._ensure(provider)
        return self._aliases.get((provider, code.strip().lower()))

    def unknown(self, provider: str, code: str, why: str) -> Place:
        return Place(
            provider=provider,
            code=code,
            name="unknown",
            kind="unknown",
            countries=(),
            in_eu=False,
            known=False,
            note=why,
        )

    def with_places(self, places: Mapping[tuple[str, str], Place]) -> Catalog:
        """This catalog with places one scan learnt (Azure's location metadata for a region the
        catalog lacks): a view for that scan, so what one scan learns never leaks into another's
        judgement. A catalogued entry always wins over a learnt one."""
        if not places:
            return self
        return _Overlay(self, places)  # type: ignore[return-value]

    def add(self, place: Place) -> None:
        """Teach the catalog a place learnt at scan time (e.g. Azure location metadata)."""
        self._ensure(place.provider)  # a catalogued entry always wins over a learnt one
        self._places.setdefault((place.provider, place.code.lower()), place)

    def knows(self, provider: str, code: str) -> bool:
        return self._lookup(provider, code) is not None

    def region_codes(self, provider: str) -> set[str]:
        """The provider's catalogued regions (not zones, multi-regions or aliases), lower-case."""
        return {p.code.lower() for p in self.places(provider) if p.kind == "region"}

    def suggest(self, provider: str, code: str, candidates: Iterable[str] = ()) -> str | None:
        """What a code nobody knows probably meant: the nearest spellings (eu-westt-1 ->
        eu-west-1; us-est-1 -> us-east-1 or us-west-1), else the one region whose name
        holds the word ('Frankfurt' -> eu-central-1)."""
        regions = {p.code.lower(): p for p in self.places(provider) if p.kind == "region"}
        known = sorted(set(regions) | {c.lower() for c in candidates})
        wanted = code.strip().lower()
        distances = {k: _edit_distance(wanted, k) for k in known}
        best = min(distances.values(), default=0)
        nearest = [k for k in known if distances[k] == best]
        if 0 < best <= 2 and len(nearest) <= 3:
            return " or ".join(nearest)
        word = re.sub(r"[^a-z]", "", wanted)
        if len(word) >= 4:
            by_name = sorted(c for c, p in regions.items() if word in re.sub(r"[^a-z]", "", p.name.lower()))
            if len(by_name) == 1:
                return by_name[0]
        return None

    def is_eu(self, country: str) -> bool:
        return country in self._eu

    def places(self, provider: str | None = None) -> Iterator[Place]:
        for prov in sorted(self._todo) if provider is None else [provider]:
            self._ensure(prov)
        for (prov, _), place in sorted(self._places.items()):
            if provider is None or prov == provider:
                yield place

    def raw(self, provider: str) -> dict[str, Any]:
        self._ensure(provider)
        return self._raw.get(provider, {})

    def unpaired(self, provider: str, code: str) -> bool:
        """Whether the catalog's source documents the location as having no paired region
        (`unpaired: true`), as opposed to the catalog not knowing its pair."""
        entry = (self.raw(provider).get("locations") or {}).get(code.strip().lower()) or {}
        return entry.get("unpaired") is True

    def explain(self, place: Place) -> list[str]:
        """Why a place is (not) in the EU, member by member for composites."""
        eu = self._eu
        lines = [f"{place.provider}:{place.code} — {place.name} ({place.kind})"]
        if place.physical_location:
            lines.append(f"  physical location: {place.physical_location}")
        if place.parent:
            parent = self._lookup(place.provider, place.parent)
            where = ",".join(parent.countries) if parent and parent.countries else "?"
            here = ",".join(place.countries) or "?"
            lines.append(f"  zone of region {place.parent} ({where}); the zone itself is in {here}")
        if place.members:
            breakers = []
            lines.append("  members:")
            for member in place.members:
                mp = self._lookup(place.provider, member)
                if mp is None or not mp.known:
                    lines.append(f"    {member}: unknown")
                    breakers.append(f"{member} (unknown)")
                    continue
                bad = [c for c in mp.countries if c not in eu]
                verdict = "EU" if not bad else f"NOT EU ({', '.join(bad)})"
                lines.append(f"    {member} ({mp.name}): {', '.join(mp.countries)} — {verdict}")
                if bad:
                    breakers.append(f"{member} ({', '.join(bad)})")
            if breakers:
                lines.append(f"  not EU-only because of: {'; '.join(breakers)}")
        if not place.known:
            lines.append(f"  unknown: {place.note}. Unknown locations count as outside the EU (fail closed).")
        else:
            if not place.members and len(place.countries) <= 3:
                for c in place.countries:
                    lines.append(f"  {c}: {'EU member state' if c in eu else 'NOT an EU member state'}")
            elif not place.members:
                outside = [c for c in place.countries if c not in eu]
                lines.append(
                    f"  countries: {', '.join(place.countries)}"
                    + (f" (NOT EU: {', '.join(outside)})" if outside else " (all EU member states)")
                )
            verdict = "in the EU" if place.in_eu else "NOT in the EU"
            lines.append(
                f"  verdict: {verdict}" + (" (every country must be an EU member state)" if place.members else "")
            )
        if place.paired_region:
            pp = self._lookup(place.provider, place.paired_region)
            where = ",".join(pp.countries) if pp and pp.countries else "unknown"
            pair_eu = bool(pp and pp.in_eu)
            lines.append(
                f"  paired region: {place.paired_region} ({where}{'' if pair_eu else ', NOT EU'})"
                " — where geo-redundant copies go"
            )
        if place.operator:
            lines.append(f"  operator: {place.operator}; jurisdictions: {', '.join(place.jurisdictions) or '?'}")
        if place.note and place.known:
            lines.append(f"  note: {place.note}")
        if place.source:
            lines.append(f"  source: {place.source}")
        return lines


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions), for spelling suggestions."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@functools.lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    return Catalog()


class _Overlay:
    """A catalog view with learnt places underneath the catalogued ones (`Catalog.with_places`)."""

    def __init__(self, base: Catalog, places: Mapping[tuple[str, str], Place]) -> None:
        self._base = base
        self._places = {(p, c.lower()): place for (p, c), place in places.items()}

    def resolve(self, provider: str, code: str | None, zone: str | None = None) -> Place:
        place = self._base.resolve(provider, code, zone)
        if place.known or code is None:
            return place
        return self._places.get((provider, code.strip().lower()), place)

    def resolve_location(self, provider: str, location: Location) -> Place:
        return self.resolve(provider, location.region, location.zone)

    def knows(self, provider: str, code: str) -> bool:
        return self._base.knows(provider, code) or (provider, code.strip().lower()) in self._places

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)
