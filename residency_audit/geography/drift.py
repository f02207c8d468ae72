"""Catalog freshness: what a provider publishes that the catalog does not know.

`residency-audit regions --check` compares the catalog with the installed
botocore (`partitions.json`, which lists announced regions before any service
endpoint does, and `endpoints.json`) and with an Azure subscription's
`list_locations` (names, `physicalLocation`, `pairedRegion`). A code the
provider lists and the catalog lacks is *new*; a code both know but on which
they disagree (AWS partition, Azure country or pair) is *changed*. Either is
drift: the catalog needs an update. The scan itself already fails closed on an
unknown code; this is how the maintainers learn about it before a user does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import Catalog, azure_physical_country

BOTOCORE_FILES = ("partitions.json", "endpoints.json")

#: The catalog's `partition` of an Azure cloud's locations.
AZURE_CLOUD_PARTITIONS = {"public": "", "usgov": "AzureUSGovernment", "china": "AzureChinaCloud"}


@dataclass
class Drift:
    """The outcome of comparing one provider's published locations with the catalog."""

    provider: str
    source: str
    #: (code, what the source says about it): listed by the source, unknown to the catalog
    new: list[tuple[str, str]] = field(default_factory=list)
    #: (code, the disagreement): known to both, but they disagree
    changed: list[tuple[str, str]] = field(default_factory=list)
    #: (code, why it may be absent): catalogued, not listed by this source (closed, restricted,
    #: not in this SDK release yet); informational, not drift
    unlisted: list[tuple[str, str]] = field(default_factory=list)
    #: facts worth a line that are not drift (a pair the catalog leaves out on purpose, ...)
    notes: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.new or self.changed)

    def to_dict(self) -> dict[str, Any]:
        def rows(items: list[tuple[str, str]]) -> list[dict[str, str]]:
            return [{"code": c, "detail": d} for c, d in items]

        return {
            "provider": self.provider,
            "source": self.source,
            "drift": self.drifted,
            "new": rows(self.new),
            "changed": rows(self.changed),
            "unlisted": rows(self.unlisted),
            "notes": list(self.notes),
        }


def _catalogued(catalog: Catalog, provider: str, code: str) -> bool:
    """The code is an entry or an alias of the catalog (not merely a zone-shaped match of one)."""
    data = catalog.raw(provider)
    key = code.strip().lower()
    entries = {str(k).lower() for k in data.get("locations") or {}}
    aliases = {str(k).lower() for k in data.get("aliases") or {}}
    return key in entries or key in aliases


# --------------------------------------------------------------------------- AWS


def botocore_data() -> dict[str, Any]:
    """The installed botocore's partitions.json and endpoints.json, by file name."""
    from importlib import resources

    data_dir = resources.files("botocore").joinpath("data")
    return {name: json.loads(data_dir.joinpath(name).read_text("utf-8")) for name in BOTOCORE_FILES}


def botocore_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("botocore")
    except metadata.PackageNotFoundError:
        return "?"


def aws_published(data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Region code -> (partition, AWS's description), from partitions.json and endpoints.json.

    partitions.json comes first: it names regions (and each partition's global
    pseudo-region) before they appear in endpoints.json.
    """
    out: dict[str, tuple[str, str]] = {}
    for part in (data.get("partitions.json") or {}).get("partitions") or []:
        for code, meta in (part.get("regions") or {}).items():
            out.setdefault(code, (str(part.get("id", "")), str((meta or {}).get("description", ""))))
    for part in (data.get("endpoints.json") or {}).get("partitions") or []:
        for code, meta in (part.get("regions") or {}).items():
            out.setdefault(code, (str(part.get("partition", "")), str((meta or {}).get("description", ""))))
    return out


def check_aws(catalog: Catalog, data: dict[str, Any] | None = None) -> Drift:
    """The catalog against botocore's region lists (the installed botocore unless `data` is given)."""
    data = botocore_data() if data is None else data
    published = aws_published(data)
    drift = Drift("aws", f"botocore {botocore_version()}: " + " + ".join(BOTOCORE_FILES))
    for code, (partition, description) in sorted(published.items()):
        if not _catalogued(catalog, "aws", code):
            drift.new.append((code, f"{description or code} (partition {partition})"))
            continue
        place = catalog.resolve("aws", code)
        if place.partition != partition:
            drift.changed.append((code, f"botocore puts it in partition {partition}, the catalog in {place.partition}"))
    partitions = {p for p, _ in published.values()}
    for code, entry in sorted((catalog.raw("aws").get("locations") or {}).items()):
        if entry.get("kind", "region") != "region" or code in published:
            continue
        if entry.get("partition", "aws") in partitions:
            drift.unlisted.append(
                (code, f"catalogued in partition {entry.get('partition', 'aws')}; not in this botocore")
            )
    return drift


# --------------------------------------------------------------------------- Azure


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
        country = None if logical else azure_physical_country(loc.physical_location)
        if not _catalogued(catalog, "azure", code):
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
    partition = AZURE_CLOUD_PARTITIONS.get(cloud, "")
    for code, entry in sorted((catalog.raw("azure").get("locations") or {}).items()):
        if entry.get("kind", "region") != "region" or code in seen:
            continue
        if str(entry.get("partition", "")) == partition:
            drift.unlisted.append((code, "catalogued; not offered to this subscription (restricted or retired?)"))
    return drift
