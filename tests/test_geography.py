"""The location catalog: complete against botocore, right about the traps, fail closed."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from residency_audit.geography import Catalog, eu_members


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog()


def _botocore_regions() -> dict[str, set[str]]:
    data = json.loads(resources.files("botocore").joinpath("data", "endpoints.json").read_text())
    return {p["partition"]: set(p["regions"]) for p in data["partitions"]}


def test_every_botocore_region_is_catalogued(catalog: Catalog) -> None:
    """A region that a new botocore release adds fails here until it is catalogued."""
    missing = sorted(
        f"{part}:{code}"
        for part, codes in _botocore_regions().items()
        for code in codes
        if not any(p.code == code for p in catalog.places("aws"))
    )
    assert missing == []


def test_every_catalogued_aws_region_has_a_source(catalog: Catalog) -> None:
    for place in catalog.places("aws"):
        assert place.source.startswith("https://"), place.code


def test_eu_has_27_members() -> None:
    assert len(eu_members()) == 27
    assert {"GB", "CH", "NO", "IS", "LI"}.isdisjoint(eu_members())


@pytest.mark.parametrize(
    ("code", "countries", "in_eu"),
    [
        ("eu-west-2", ("GB",), False),  # London: European, not EU
        ("eu-central-2", ("CH",), False),  # Zurich
        ("eu-west-1", ("IE",), True),
        ("eu-south-2", ("ES",), True),
        ("eu-north-1", ("SE",), True),
        ("il-central-1", ("IL",), False),
        ("eusc-de-east-1", ("DE",), True),
        ("EU-WEST-3", ("FR",), True),  # codes match case-insensitively
        ("eu", ("IE",), True),  # legacy S3 location constraint
        ("", ("US",), False),  # empty S3 location constraint is us-east-1
    ],
)
def test_aws_traps(catalog: Catalog, code: str, countries: tuple[str, ...], in_eu: bool) -> None:
    place = catalog.resolve("aws", code)
    assert place.known
    assert place.countries == countries
    assert place.in_eu is in_eu


@pytest.mark.parametrize("code", ["eu-west-9", "europe-nowhere1", "mars-1", None])
def test_unknown_is_never_eu(catalog: Catalog, code: str | None) -> None:
    place = catalog.resolve("aws", code)
    assert not place.known and not place.in_eu and place.countries == ()


def test_plain_availability_zone_resolves_to_its_region(catalog: Catalog) -> None:
    assert catalog.resolve("aws", "eu-west-1", zone="eu-west-1b").countries == ("IE",)
    assert catalog.resolve("aws", "eu-central-2a").countries == ("CH",)
