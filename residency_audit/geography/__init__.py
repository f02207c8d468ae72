"""Where a location code physically is, and whose law reaches it.

The catalog is data (`data/<provider>.yaml`), loaded once per process. A code
the catalog does not know resolves to an *unknown* `Place` with no countries:
never "in the EU", so the rules fail closed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from importlib import resources
from typing import Any

import yaml

from ..model import Location, Place

PROVIDERS = ("aws", "gcp", "azure")

_AZ_SUFFIX = re.compile(r"^(?P<region>[a-z]{2,}(?:-[a-z]+)+-\d+)[a-z]$")
# Google Cloud zones are "<region>-<letter>" (europe-west4-a; Cloud Storage
# zonal buckets report them upper-case).
_GCP_ZONE = re.compile(r"^(?P<region>[a-z]+-[a-z]+\d+)-[a-z]$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")

try:  # libyaml is several times faster; the catalog is read on every run
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader


class CatalogError(Exception):
    """The bundled catalog itself is broken (a packaging bug, not user input)."""


def _load(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data", f"{name}.yaml").read_text("utf-8")
    data = yaml.load(text, Loader=_Loader)
    if not isinstance(data, dict):
        raise CatalogError(f"geography/data/{name}.yaml: not a mapping")
    return data


@functools.lru_cache(maxsize=1)
def eu_members() -> frozenset[str]:
    return frozenset(_load("eu")["members"])


class Catalog:
    """Resolves provider location codes to `Place`s."""

    def __init__(self, providers: Iterable[str] = PROVIDERS) -> None:
        self._eu = eu_members()
        self._places: dict[tuple[str, str], Place] = {}
        self._aliases: dict[tuple[str, str], str] = {}
        self._raw: dict[str, dict[str, Any]] = {}
        for provider in providers:
            try:
                data = _load(provider)
            except FileNotFoundError:
                continue
            self._raw[provider] = data
            self._index(provider, data)

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
            for member in members:
                place = self._places.get((provider, member))
                if place is None or not place.known:
                    countries = []  # one unknown member makes the whole unknown
                    break
                countries.extend(c for c in place.countries if c not in countries)
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
        )

    def resolve(self, provider: str, code: str | None, zone: str | None = None) -> Place:
        """The place for a region (and, where it can differ in country, a zone)."""
        if zone:
            # Only zones the catalog lists on their own (Local Zones, Wavelength)
            # can differ in country from their region; a plain AZ never does.
            zplace = self._places.get((provider, zone.strip().lower()))
            if zplace is not None and zplace.kind == "zone":
                return zplace
        if code is None:
            return self.unknown(provider, "", "the provider did not report a location")
        place = self._lookup(provider, code)
        if place is not None:
            return place
        return self.unknown(provider, code, "not in the residency-audit location catalog")

    def resolve_location(self, provider: str, location: Location) -> Place:
        return self.resolve(provider, location.region, location.zone)

    def _lookup(self, provider: str, code: str) -> Place | None:
        key = code.strip().lower()
        key = self._aliases.get((provider, key), key)
        place = self._places.get((provider, key))
        if place is None:
            m = _AZ_SUFFIX.match(key)  # an availability zone of a known region
            if m is None and provider == "gcp":
                m = _GCP_ZONE.match(key)
            if m:
                place = self._places.get((provider, m["region"]))
        return place

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

    def add(self, place: Place) -> None:
        """Teach the catalog a place learnt at scan time (e.g. Azure location metadata)."""
        self._places.setdefault((place.provider, place.code.lower()), place)

    def is_eu(self, country: str) -> bool:
        return country in self._eu

    def places(self, provider: str | None = None) -> Iterator[Place]:
        for (prov, _), place in sorted(self._places.items()):
            if provider is None or prov == provider:
                yield place

    def raw(self, provider: str) -> dict[str, Any]:
        return self._raw.get(provider, {})


@functools.lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    return Catalog()
