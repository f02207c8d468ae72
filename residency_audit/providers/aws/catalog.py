"""The AWS catalog's freshness: botocore's region lists against the geography catalog
(`regions --check`, and the drift tests)."""

from __future__ import annotations

import json
from typing import Any

from ...geography import Catalog
from ...geography.drift import Drift, catalogued

BOTOCORE_FILES = ("partitions.json", "endpoints.json")


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
        if not catalogued(catalog, "aws", code):
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
