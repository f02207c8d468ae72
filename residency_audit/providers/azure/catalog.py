"""Azure locations the catalog may not know yet: a subscription's `list_locations` metadata
(`physicalLocation`, `pairedRegion`) placed in a country at scan time, and compared with the
catalog by `regions --check`."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Protocol

from ...geography import Catalog, CatalogError, default_catalog
from ...geography.drift import Drift, catalogued
from ...model import Place

_COUNTRY = re.compile(r"^[A-Z]{2}$")

#: The catalog's `partition` of an Azure cloud's locations.
CLOUD_PARTITIONS = {"public": "", "usgov": "AzureUSGovernment", "china": "AzureChinaCloud"}

_CLOUD_OPERATORS = {
    "azurecloud": "microsoft",
    "azureusgovernment": "microsoft-gov",
    "azurechinacloud": "21vianet",
}


@functools.lru_cache(maxsize=1)
def _physical_map() -> tuple[dict[str, str], str]:
    section = default_catalog().raw("azure").get("physical_locations") or {}
    table = {str(k).strip().casefold(): str(v) for k, v in (section.get("map") or {}).items()}
    bad = sorted(v for v in table.values() if not _COUNTRY.match(v))
    if bad:
        raise CatalogError(f"azure physical_locations: not ISO 3166 alpha-2 country codes: {bad!r}")
    return table, str(section.get("source", ""))


def physical_country(physical_location: str) -> str | None:
    """The country of an Azure `metadata.physicalLocation` string, or None if not in the table.

    Tries the whole string, then its comma-separated parts ("Tokyo, Saitama").
    """
    table, _ = _physical_map()
    text = physical_location.strip().casefold()
    if not text:
        return None
    if text in table:
        return table[text]
    found = {table[p.strip()] for p in text.split(",") if p.strip() in table}
    return found.pop() if len(found) == 1 else None


def place_from_metadata(
    name: str,
    display_name: str = "",
    physical_location: str = "",
    geography_group: str = "",
    paired_region: str = "",
    region_type: str = "",
    cloud: str = "AzureCloud",
    catalog: Catalog | None = None,
) -> tuple[Place, str | None]:
    """A `Place` for an Azure location, from a subscription's `list_locations` metadata.

    Returns the catalog's own entry (and no note) when the catalog knows `name`.
    Otherwise builds a place from the metadata and returns a one-line note saying
    the catalog is missing it (the adapter passes it to `Collector.note`). A
    physical location the table cannot map to a country gives an unknown place,
    which the rules treat as outside the EU (fail closed). The caller decides
    whether to `Catalog.add` the result.
    """
    cat = catalog or default_catalog()
    key = name.strip().lower()
    if cat.knows("azure", key):
        return cat.resolve("azure", key), None
    country = physical_country(physical_location) if region_type.lower() != "logical" else None
    data = cat.raw("azure")
    op_key = _CLOUD_OPERATORS.get(cloud.strip().lower(), "")
    operator = (data.get("operators") or {}).get(op_key, {})
    _, table_source = _physical_map()
    countries = (country,) if country else ()
    where = f"physicalLocation {physical_location!r}" if physical_location else "no physicalLocation"
    if country:
        note = f"azure location {key!r} is not in the residency-audit catalog; placed in {country} from its {where}"
    else:
        note = (
            f"azure location {key!r} is not in the residency-audit catalog and its {where} maps to no known "
            "country; it counts as outside the EU (fail closed)"
        )
    if geography_group:
        note += f" (geography group {geography_group!r})"
    place = Place(
        provider="azure",
        code=key,
        name=display_name or key,
        kind="logical" if region_type.lower() == "logical" else "region",
        countries=countries,
        in_eu=bool(country) and cat.is_eu(country or ""),
        known=bool(country),
        jurisdictions=tuple(operator.get("jurisdictions") or ()),
        operator=str(operator.get("name", "")),
        source=f"subscription list-locations metadata; country table: {table_source}",
        note=note,
        paired_region=paired_region.strip().lower(),
        partition="" if op_key in ("", "microsoft") else cloud,
        physical_location=physical_location,
    )
    return place, note


class AzureLocation(Protocol):
    """What `subscriptions.list_locations` says about one location (providers.azure.readers.LocationInfo)."""

    name: str
    display_name: str
    physical_location: str
    paired_region: str
    region_type: str


def check_azure(catalog: Catalog, locations: Iterable[AzureLocation], cloud: str = "public") -> Drift:
    """The catalog against a subscription's `list_locations` metadata."""
    drift = Drift("azure", f"subscription list-locations ({cloud} cloud)")
    seen: set[str] = set()
    for loc in sorted(locations, key=lambda x: x.name):
        code = loc.name.strip().lower()
        if not code:
            continue
        seen.add(code)
        logical = loc.region_type.strip().lower() == "logical"
        country = None if logical else physical_country(loc.physical_location)
        if not catalogued(catalog, "azure", code):
            where = (
                "a logical location"
                if logical
                else f"physicalLocation {loc.physical_location!r} -> {country or 'no known country (fails closed)'}"
            )
            pair = f"; paired with {loc.paired_region}" if loc.paired_region else ""
            drift.new.append((code, f"{loc.display_name or code}: {where}{pair}"))
            continue
        place = catalog.resolve("azure", code)
        if catalog.alias_of("azure", code) is not None:
            continue  # a staging name the catalog maps to its region
        if country and place.known and place.countries != (country,):
            drift.changed.append(
                (
                    code,
                    f"the catalog says {','.join(place.countries)}, physicalLocation "
                    f"{loc.physical_location!r} says {country}",
                )
            )
        elif loc.physical_location and not logical and country is None:
            drift.notes.append(
                f"{code}: physicalLocation {loc.physical_location!r} is not in the country table "
                "(a new location there would fail closed)"
            )
        listed_pair = loc.paired_region.strip().lower()
        if listed_pair and place.paired_region and listed_pair != place.paired_region:
            drift.changed.append(
                (code, f"paired with {listed_pair} by list-locations, with {place.paired_region} by the catalog")
            )
        elif listed_pair and not place.paired_region and not logical:
            drift.notes.append(
                f"{code}: list-locations pairs it with {listed_pair}; the catalog claims no pair "
                "(no published pair table lists one), so a geo-redundant copy there stays unknown"
            )
    partition = CLOUD_PARTITIONS.get(cloud, "")
    for code, entry in sorted((catalog.raw("azure").get("locations") or {}).items()):
        if entry.get("kind", "region") != "region" or code in seen:
            continue
        if str(entry.get("partition", "")) == partition:
            drift.unlisted.append((code, "catalogued; not offered to this subscription (restricted or retired?)"))
    return drift
