"""The location catalog: complete against botocore, right about the traps, fail closed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from residency_audit.engine import evaluate, load_rules
from residency_audit.geography import Catalog, eu_members, load_data
from residency_audit.geography import compile as compile_catalog
from residency_audit.model import Location, Owner, Resource
from residency_audit.providers import names
from residency_audit.providers.aws.catalog import botocore_data, check_aws
from residency_audit.providers.azure.catalog import check_azure
from residency_audit.providers.azure.catalog import physical_country as azure_physical_country
from residency_audit.providers.azure.catalog import place_from_metadata as place_from_azure_metadata
from residency_audit.providers.azure.readers import LocationInfo
from residency_audit.providers.gcp.catalog import spanner_config
from residency_emulator.azure import FakeArm, arm_location

from .cloud_support import point_at_azure
from .conftest import run_cli

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"
STRICT = RULES_DIR / "profiles" / "strict-jurisdiction.yaml"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog()


def _botocore_regions() -> dict[str, set[str]]:
    data = json.loads(resources.files("botocore").joinpath("data", "endpoints.json").read_text())
    return {p["partition"]: set(p["regions"]) for p in data["partitions"]}


def _res(provider: str, *locations: Location, name: str = "r") -> Resource:
    return Resource(provider, "storage.bucket", f"{provider}:{name}", name, Owner("account", "1"), list(locations))


# --------------------------------------------------------------------------- completeness and hygiene


def test_every_botocore_region_is_catalogued(catalog: Catalog) -> None:
    """A region that a new botocore release adds fails here until it is catalogued."""
    missing = sorted(
        f"{part}:{code}"
        for part, codes in _botocore_regions().items()
        for code in codes
        if not any(p.code == code for p in catalog.places("aws"))
    )
    assert missing == []


def test_aws_regions_carry_their_botocore_partition(catalog: Catalog) -> None:
    wrong = {
        code: (part, catalog.resolve("aws", code).partition)
        for part, codes in _botocore_regions().items()
        for code in codes
        if catalog.resolve("aws", code).partition != part
    }
    assert wrong == {}


@pytest.mark.parametrize("provider", names())
def test_every_entry_has_an_https_source_and_an_operator(catalog: Catalog, provider: str) -> None:
    places = list(catalog.places(provider))
    assert len(places) > 40
    assert [p.code for p in places if not p.source.startswith("https://")] == []
    assert [p.code for p in places if not p.jurisdictions or not p.operator] == []


@pytest.mark.parametrize("provider", names())
def test_every_composite_member_exists(catalog: Catalog, provider: str) -> None:
    entries = catalog.raw(provider)["locations"]
    dangling = {(code, m) for code, e in entries.items() for m in e.get("members") or [] if m.lower() not in entries}
    assert dangling == set()


@pytest.mark.parametrize("provider", names())
def test_every_alias_points_at_an_entry(catalog: Catalog, provider: str) -> None:
    data = catalog.raw(provider)
    targets = {str(spec["to"]) for spec in (data.get("aliases") or {}).values()}
    assert targets - set(data["locations"]) == set()


def test_compiled_catalog_twins_are_built_from_the_current_yaml() -> None:
    """The run-time catalog is read from data/*.json; editing a YAML without recompiling fails here."""
    data_dir = Path(str(resources.files("residency_audit.geography").joinpath("data")))
    assert compile_catalog.stale(data_dir) == [], "run: python -m residency_audit.geography.compile"
    for name in compile_catalog.NAMES:
        twin = json.loads((data_dir / f"{name}.json").read_text("utf-8"))
        assert twin["data"] == yaml.safe_load((data_dir / f"{name}.yaml").read_text("utf-8"))


def test_a_stale_twin_is_ignored_and_a_current_one_is_used(tmp_path: Path) -> None:
    source = b"members: [DE, FR]\n"
    (tmp_path / "eu.yaml").write_bytes(source)
    lie = {"source_sha256": "0" * 64, "data": {"members": ["GB"]}}  # built from another YAML
    (tmp_path / "eu.json").write_text(json.dumps(lie), "utf-8")
    assert load_data(tmp_path, "eu") == {"members": ["DE", "FR"]}
    (tmp_path / "eu.json").write_text("{not json", "utf-8")
    assert load_data(tmp_path, "eu") == {"members": ["DE", "FR"]}
    (tmp_path / "eu.json").write_text(compile_catalog.compiled("eu", source), "utf-8")
    (tmp_path / "eu.yaml").write_bytes(source)
    twin = json.loads((tmp_path / "eu.json").read_text("utf-8"))
    twin["data"]["members"].append("IT")  # same hash, other data: proves the twin is what is read
    (tmp_path / "eu.json").write_text(json.dumps(twin), "utf-8")
    assert load_data(tmp_path, "eu") == {"members": ["DE", "FR", "IT"]}
    (tmp_path / "eu.json").unlink()
    assert load_data(tmp_path, "eu") == {"members": ["DE", "FR"]}


def test_compile_check_reports_a_stale_twin(tmp_path: Path) -> None:
    for name in compile_catalog.NAMES:
        (tmp_path / f"{name}.yaml").write_text("members: [DE]\n" if name == "eu" else "locations: {}\n", "utf-8")
        (tmp_path / f"{name}.json").write_text(
            compile_catalog.compiled(name, (tmp_path / f"{name}.yaml").read_bytes()), "utf-8"
        )
    assert compile_catalog.stale(tmp_path) == []
    (tmp_path / "gcp.yaml").write_text("locations: {x: {}}\n", "utf-8")
    assert compile_catalog.stale(tmp_path) == ["gcp.json"]


def test_eu_has_27_members() -> None:
    assert len(eu_members()) == 27
    assert {"GB", "CH", "NO", "IS", "LI"}.isdisjoint(eu_members())


def test_azure_paired_regions_exist(catalog: Catalog) -> None:
    pairs = {p.code: p.paired_region for p in catalog.places("azure") if p.paired_region}
    assert len(pairs) >= 50
    assert {c: t for c, t in pairs.items() if not catalog.knows("azure", t)} == {}


#: Every paired region the catalog may claim. From Microsoft's regions list
#: (learn.microsoft.com/azure/reliability/regions-list) unless marked otherwise.
AZURE_PAIRS = {
    "australiacentral": "australiacentral2",
    "australiacentral2": "australiacentral",
    "australiaeast": "australiasoutheast",
    "australiasoutheast": "australiaeast",
    "brazilsouth": "southcentralus",  # leaves the Brazil geography
    "brazilsoutheast": "brazilsouth",
    "canadacentral": "canadaeast",
    "canadaeast": "canadacentral",
    "centralindia": "southindia",
    "centralus": "eastus2",
    "eastasia": "southeastasia",
    "eastus": "westus",
    "eastus2": "centralus",
    "francecentral": "francesouth",
    "francesouth": "francecentral",
    "germanynorth": "germanywestcentral",
    "germanywestcentral": "germanynorth",
    "japaneast": "japanwest",
    "japanwest": "japaneast",
    "koreacentral": "koreasouth",
    "koreasouth": "koreacentral",
    "northcentralus": "southcentralus",
    "northeurope": "westeurope",
    "norwayeast": "norwaywest",
    "norwaywest": "norwayeast",
    "southafricanorth": "southafricawest",
    "southafricawest": "southafricanorth",
    "southcentralus": "northcentralus",
    "southeastasia": "eastasia",
    "southindia": "centralindia",
    "swedencentral": "swedensouth",
    "switzerlandnorth": "switzerlandwest",
    "switzerlandwest": "switzerlandnorth",
    "uaecentral": "uaenorth",
    "uaenorth": "uaecentral",
    "uksouth": "ukwest",
    "ukwest": "uksouth",
    "westcentralus": "westus2",
    "westeurope": "northeurope",
    "westindia": "southindia",  # one-way: South India pairs with Central India
    "westus": "eastus",
    "westus2": "westcentralus",
    "westus3": "eastus",  # one-way: East US pairs with West US
    # the older cross-region-replication pairs table
    "swedensouth": "swedencentral",
    "chinanorth": "chinaeast",
    "chinaeast": "chinanorth",
    "chinanorth2": "chinaeast2",
    "chinaeast2": "chinanorth2",
    "chinanorth3": "chinaeast3",
    "chinaeast3": "chinanorth3",
    "usdodeast": "usdodcentral",
    "usdodcentral": "usdodeast",
    "usgovarizona": "usgovtexas",
    "usgovvirginia": "usgovtexas",
    "usgovtexas": "usgovarizona",  # the table pairs Texas with both Arizona and Virginia
    # Microsoft Cloud Deutschland (closed): not in the tables that could be read
    "germanycentral": "germanynortheast",
    "germanynortheast": "germanycentral",
}

#: Regions the regions list marks "N/A" (no pair), and ones no published pair table lists.
AZURE_UNPAIRED = {
    "austriaeast",
    "belgiumcentral",
    "chilecentral",
    "denmarkeast",
    "indonesiacentral",
    "israelcentral",
    "italynorth",
    "malaysiawest",
    "mexicocentral",
    "newzealandnorth",
    "polandcentral",
    "qatarcentral",
    "spaincentral",
    "jioindiawest",  # used to claim jioindiacentral
    "jioindiacentral",  # used to claim jioindiawest
    "centraluseuap",  # used to claim eastus2euap
    "eastus2euap",  # used to claim centraluseuap
    "usgoviowa",
}


def test_azure_pairs_are_exactly_the_documented_ones(catalog: Catalog) -> None:
    """GRS/GZRS secondaries and geo-backups go to the paired region, so a wrong pair misplaces data."""
    claimed = {p.code: p.paired_region for p in catalog.places("azure") if p.paired_region}
    assert claimed == AZURE_PAIRS


@pytest.mark.parametrize("code", sorted(AZURE_UNPAIRED))
def test_azure_region_without_a_documented_pair_claims_none(catalog: Catalog, code: str) -> None:
    place = catalog.resolve("azure", code)
    assert place.known and place.paired_region == ""


def test_azure_geo_secondary_of_an_unpaired_region_fails_closed(catalog: Catalog) -> None:
    from residency_audit.model import Location
    from residency_audit.terraform.adapter import PlanAdapter

    def paired_region(code: str) -> str | None:
        return PlanAdapter({}, catalog=catalog).paired(Location(code), "secondary", "GRS", "azure").region

    assert paired_region("jioindiawest") is None
    assert paired_region("italynorth") is None
    assert paired_region("westeurope") == "northeurope"
    assert paired_region("brazilsouth") == "southcentralus"


@pytest.mark.parametrize(
    ("physical", "country"),
    [("Hong Kong SAR", "HK"), ("Hong Kong", "HK"), ("Gävle", "SE"), ("Querétaro State", "MX"), ("Netherlands", "NL")],
)
def test_azure_physical_locations_as_the_regions_list_spells_them(physical: str, country: str) -> None:
    assert azure_physical_country(physical) == country


def test_azure_physical_location_table_agrees_with_the_catalog(catalog: Catalog) -> None:
    """Every physicalLocation the catalog names maps, via the scan-time table, to the entry's own country."""
    disagree = {
        p.code: (p.physical_location, azure_physical_country(p.physical_location), p.countries)
        for p in catalog.places("azure")
        if p.physical_location and (azure_physical_country(p.physical_location),) != p.countries
    }
    assert disagree == {}


def test_aws_edge_zones_name_their_parent_region(catalog: Catalog) -> None:
    zones = [p for p in catalog.places("aws") if p.kind == "zone"]
    assert len(zones) >= 40
    assert [z.code for z in zones if not z.parent or not z.code.startswith(z.parent + "-")] == []
    assert [z.code for z in zones if not catalog.knows("aws", z.parent)] == []


#: (zone, parent, countries) as AWS's "Available Local Zones" / "Available Wavelength Zones" pages list them.
AWS_CHECKED_ZONES = [
    ("us-east-1-qro-1a", "us-east-1", ("MX",)),  # México (Querétaro), geography Mexico
    ("us-east-1-atl-2a", "us-east-1", ("US",)),  # Georgia, United States of America
    ("us-east-1-atl-1a", "us-east-1", ("US",)),
    ("us-east-1-bos-1a", "us-east-1", ("US",)),  # Massachusetts
    ("us-east-1-chi-2a", "us-east-1", ("US",)),  # Illinois
    ("us-east-1-chi-1a", "us-east-1", ("US",)),
    ("us-east-1-dfw-2a", "us-east-1", ("US",)),
    ("us-west-2-lax-1a", "us-west-2", ("US",)),  # the page's example: Los Angeles
    ("us-east-1-wl1-atl-wlz-1", "us-east-1", ("US",)),  # Verizon, Atlanta
    ("us-east-1-wl1-bos-wlz-1", "us-east-1", ("US",)),
    ("us-east-1-wl1-clt-wlz-1", "us-east-1", ("US",)),
    ("us-east-1-wl1-chi-wlz-1", "us-east-1", ("US",)),
    ("us-east-1-wl1-dfw-wlz-1", "us-east-1", ("US",)),
]


@pytest.mark.parametrize(("zone", "parent", "countries"), AWS_CHECKED_ZONES)
def test_aws_zones_checked_against_aws_docs(
    catalog: Catalog, zone: str, parent: str, countries: tuple[str, ...]
) -> None:
    place = catalog.resolve("aws", parent, zone)
    assert (place.kind, place.parent, place.countries) == ("zone", parent, countries)


def test_an_uncatalogued_wavelength_zone_of_paris_is_not_paris(catalog: Catalog) -> None:
    """AWS lists "Morocco (Casablanca)" Wavelength Zones under eu-west-3: such a zone must not resolve to France."""
    place = catalog.resolve("aws", "eu-west-3", "eu-west-3-wl1-xyz-wlz-1")  # illustrative, uncatalogued name
    assert (place.known, place.in_eu, place.countries) == (False, False, ())
    assert catalog.resolve("aws", "eu-west-3").countries == ("FR",)


def test_gcp_predefined_dual_regions_and_members(catalog: Catalog) -> None:
    duals = {p.code: p.members for p in catalog.places("gcp") if p.kind == "dual-region"}
    assert duals == {
        "asia1": ("asia-northeast1", "asia-northeast2", "asia-northeast3"),  # + KMS's third replica
        "eur4": ("europe-north1", "europe-west4", "europe-west1"),  # + KMS's third replica
        "eur5": ("europe-west1", "europe-west2"),
        "eur7": ("europe-west2", "europe-west3"),
        "eur8": ("europe-west3", "europe-west6"),
        "nam4": ("us-central1", "us-east1", "us-central2"),
    }


#: Cloud Storage "predefined dual-regions" table (cloud.google.com/storage/docs/locations): all of them.
GCS_PREDEFINED_DUAL_REGIONS = {
    "asia1": ("asia-northeast1", "asia-northeast2"),  # Tokyo + Osaka
    "eur4": ("europe-north1", "europe-west4"),  # Finland + Netherlands
    "eur5": ("europe-west1", "europe-west2"),  # Belgium + London
    "eur7": ("europe-west2", "europe-west3"),  # London + Frankfurt
    "eur8": ("europe-west3", "europe-west6"),  # Frankfurt + Zurich
    "nam4": ("us-central1", "us-east1"),  # Iowa + South Carolina
}


@pytest.mark.parametrize(("code", "pair"), sorted(GCS_PREDEFINED_DUAL_REGIONS.items()))
def test_gcs_predefined_dual_region_is_the_documented_pair(catalog: Catalog, code: str, pair: tuple[str, str]) -> None:
    """The two Cloud Storage regions come first; any further member is a Cloud KMS extra (see gcp.yaml)."""
    place = catalog.resolve("gcp", code.upper())
    assert place.kind == "dual-region"
    assert place.members[:2] == pair


def test_every_catalogued_gcp_dual_region_is_a_documented_one(catalog: Catalog) -> None:
    assert {p.code for p in catalog.places("gcp") if p.kind == "dual-region"} == set(GCS_PREDEFINED_DUAL_REGIONS)


# (code, countries, a word of the name) as Google's per-product location tables give them.
GCP_CHECKED_REGIONS = [
    ("asia-southeast3", ("TH",), "Bangkok"),  # was catalogued as unknown
    ("europe-west10", ("DE",), "Berlin"),
    ("europe-west12", ("IT",), "Turin"),
    ("europe-southwest1", ("ES",), "Madrid"),
    ("europe-north2", ("SE",), "Stockholm"),
    ("europe-central2", ("PL",), "Warsaw"),
    ("me-central1", ("QA",), "Doha"),
    ("me-central2", ("SA",), "Dammam"),
    ("northamerica-south1", ("MX",), "Querétaro"),
    ("us-central2", ("US",), "Oklahoma"),
    ("us-east7", ("US",), "Alabama"),
    ("us-west8", ("US",), "Phoenix"),
]


@pytest.mark.parametrize(("code", "countries", "word"), GCP_CHECKED_REGIONS)
def test_gcp_region_countries_checked_against_google_docs(
    catalog: Catalog, code: str, countries: tuple[str, ...], word: str
) -> None:
    place = catalog.resolve("gcp", code)
    assert (place.known, place.countries) == (True, countries)
    assert word in place.name


def test_gcs_eu_multi_region_is_exactly_the_eu(catalog: Catalog) -> None:
    place = catalog.resolve("gcp", "EU")
    assert set(place.countries) == eu_members()
    assert place.in_eu and place.kind == "multi-region"


# --------------------------------------------------------------------------- traps

# (provider, code, zone, countries, in_eu)
TRAPS = [
    # names that sound European, but are not the EU
    ("aws", "eu-west-2", None, ("GB",), False),  # London
    ("aws", "eu-central-2", None, ("CH",), False),  # Zurich
    ("aws", "eu-west-2", "eu-west-2-wl1-lon-wlz-1", ("GB",), False),
    ("gcp", "europe-west2", None, ("GB",), False),
    ("gcp", "EUROPE-WEST6", None, ("CH",), False),
    ("gcp", "europe-west2-b", None, ("GB",), False),  # a zone resolves to its region
    ("gcp", "EUR5", None, ("BE", "GB"), False),  # Belgium + London
    ("gcp", "EUR7", None, ("GB", "DE"), False),  # London + Frankfurt
    ("gcp", "eur8", None, ("DE", "CH"), False),  # Frankfurt + Zurich
    ("azure", "uksouth", None, ("GB",), False),
    ("azure", "ukwest", None, ("GB",), False),
    ("azure", "switzerlandnorth", None, ("CH",), False),
    ("azure", "switzerlandwest", None, ("CH",), False),
    ("azure", "norwayeast", None, ("NO",), False),
    ("azure", "norwaywest", None, ("NO",), False),
    ("azure", "uk", None, ("GB",), False),  # logical geography
    # neighbours of Europe that are not the EU
    ("aws", "il-central-1", None, ("IL",), False),
    ("gcp", "me-west1", None, ("IL",), False),
    ("azure", "israelcentral", None, ("IL",), False),
    ("azure", "israelnorthwest", None, ("IL",), False),
    # a zone of a US region that is in South America
    ("aws", "us-east-1", "us-east-1-bue-1a", ("AR",), False),
    ("aws", "us-east-1", "us-east-1-qro-1a", ("MX",), False),
    ("aws", "ap-northeast-1", "ap-northeast-1-tpe-1a", ("TW",), False),
    ("aws", "ap-southeast-1", "ap-southeast-1-bkk-1a", ("TH",), False),
    ("azure", "eastus2", "attatlanta1", ("US",), False),  # an Azure edge zone (extendedLocation)
    # EU locations whose names do not say "EU"/"Europe" or say it misleadingly
    ("azure", "westeurope", None, ("NL",), True),
    ("azure", "northeurope", None, ("IE",), True),
    ("azure", "germanywestcentral", None, ("DE",), True),
    ("azure", "swedencentral", None, ("SE",), True),
    ("azure", "italynorth", None, ("IT",), True),
    ("azure", "polandcentral", None, ("PL",), True),
    ("azure", "spaincentral", None, ("ES",), True),
    ("azure", "austriaeast", None, ("AT",), True),
    ("azure", "belgiumcentral", None, ("BE",), True),
    ("azure", "denmarkeast", None, ("DK",), True),
    ("azure", "francecentral", None, ("FR",), True),
    ("azure", "europe", None, ("IE", "NL"), True),
    ("gcp", "EUR4", None, ("FI", "NL", "BE"), True),
    ("gcp", "eur3", None, ("BE", "NL", "FI"), True),
    ("gcp", "europe-north2", None, ("SE",), True),
    ("gcp", "europe-west4-a", None, ("NL",), True),
    ("aws", "eusc-de-east-1", None, ("DE",), True),
    ("aws", "eu-central-1", "eu-central-1-waw-1a", ("PL",), True),
    ("aws", "eu-north-1", "eu-north-1-cph-1a", ("DK",), True),
    ("aws", "eu-north-1", "eu-north-1-hel-1a", ("FI",), True),
    ("aws", "eu-central-1", "eu-central-1-ham-1a", ("DE",), True),
    # plain EU regions, and codes matched case-insensitively
    ("aws", "eu-west-1", None, ("IE",), True),
    ("aws", "eu-south-2", None, ("ES",), True),
    ("aws", "EU-WEST-3", None, ("FR",), True),
    # S3 location-constraint quirks
    ("aws", "EU", None, ("IE",), True),  # legacy constraint
    ("aws", "", None, ("US",), False),  # empty constraint is us-east-1
    # global services, and clouds of other jurisdictions
    ("aws", "global", None, ("US",), False),
    ("aws", "aws-global", None, ("US",), False),
    ("aws", "cn-north-1", None, ("CN",), False),
    ("azure", "chinanorth3", None, ("CN",), False),
    ("azure", "usgovvirginia", None, ("US",), False),
    ("azure", "usdodcentral", None, ("US",), False),
    ("azure", "brazilsouth", None, ("BR",), False),
    ("gcp", "NAM4", None, ("US",), False),
    ("gcp", "nam5", None, ("US",), False),
    ("gcp", "ASIA1", None, ("JP", "KR"), False),
]


@pytest.mark.parametrize(("provider", "code", "zone", "countries", "in_eu"), TRAPS)
def test_traps(
    catalog: Catalog, provider: str, code: str, zone: str | None, countries: tuple[str, ...], in_eu: bool
) -> None:
    place = catalog.resolve(provider, code, zone)
    assert place.known
    assert place.countries == countries
    assert place.in_eu is in_eu


@pytest.mark.parametrize(
    ("provider", "code", "zone"),
    [
        ("aws", "eu-west-9", None),
        ("aws", "europe-nowhere1", None),
        ("aws", "mars-1", None),
        ("aws", None, None),
        ("aws", "eu-central-1", "eu-central-1-zzz-1a"),  # a Local Zone we do not know: not Frankfurt
        ("aws", "eu-west-2-wl9-xyz-wlz-1", None),
        ("gcp", "europe-west99", None),
        ("gcp", "europe-west15", None),  # catalogued code, country not yet known
        ("gcp", "EUROPE-WEST15-A", None),
        ("gcp", "global", None),
        ("gcp", "ASIA", None),  # Google does not list the member regions
        ("gcp", "europe", None),  # KMS/Artifact Registry "europe": members unpublished
        ("azure", "global", None),
        ("azure", "atlantiscentral", None),
        ("azure", "westeurope2", None),
    ],
)
def test_unknown_is_never_eu(catalog: Catalog, provider: str, code: str | None, zone: str | None) -> None:
    place = catalog.resolve(provider, code, zone)
    assert not place.known and not place.in_eu and place.countries == ()


def test_plain_availability_zone_resolves_to_its_region(catalog: Catalog) -> None:
    assert catalog.resolve("aws", "eu-west-1", zone="eu-west-1b").countries == ("IE",)
    assert catalog.resolve("aws", "eu-central-2a").countries == ("CH",)
    assert catalog.resolve("gcp", "us-central1", zone="us-central1-f").countries == ("US",)


def test_composite_with_an_unknown_member_is_unknown(catalog: Catalog) -> None:
    """Configurable dual-regions (customPlacementConfig.dataLocations) resolve from their members."""
    both = catalog.resolve_composite("gcp", ["EUROPE-WEST1", "EUROPE-WEST4"])
    assert (both.countries, both.in_eu, both.members) == (("BE", "NL"), True, ("europe-west1", "europe-west4"))
    london = catalog.resolve_composite("gcp", ["europe-west3", "europe-west2"])
    assert (london.countries, london.in_eu) == (("DE", "GB"), False)
    broken = catalog.resolve_composite("gcp", ["europe-west1", "europe-west77"])
    assert (broken.known, broken.in_eu, broken.countries) == (False, False, ())
    assert "europe-west77" in broken.note
    assert not catalog.resolve_composite("gcp", []).known


# --------------------------------------------------------------------------- rules on top of the catalog


def test_unknown_codes_are_violations_under_the_default_rules(catalog: Catalog) -> None:
    resources_ = [
        _res("aws", Location("eu-west-9"), name="aws-unknown"),
        _res("aws", Location("eu-central-1", zone="eu-central-1-zzz-1a"), name="aws-unknown-zone"),
        _res("gcp", Location("global"), name="gcp-global"),
        _res("gcp", Location("EUR4"), name="gcp-eur4"),
        _res("azure", Location("atlantiscentral"), name="azure-unknown"),
        _res("azure", Location("westeurope"), Location("northeurope", role="secondary"), name="azure-grs"),
    ]
    got = {(f.resource.name, f.rule_id) for f in evaluate(resources_, load_rules(), catalog)}
    assert got == {
        ("aws-unknown", "RA-EU-UNKNOWN"),
        ("aws-unknown-zone", "RA-EU-UNKNOWN"),
        ("gcp-global", "RA-EU-UNKNOWN"),
        ("azure-unknown", "RA-EU-UNKNOWN"),
    }


def test_composites_and_secondaries_under_the_default_rules(catalog: Catalog) -> None:
    resources_ = [
        _res("gcp", Location("EUR7"), name="eur7"),
        _res("gcp", Location("NAM4"), name="nam4"),
        _res("azure", Location("brazilsouth"), Location("southcentralus", role="secondary"), name="br"),
        _res("aws", Location("us-east-1", zone="us-east-1-bue-1a"), name="bue"),
    ]
    got = {(f.resource.name, f.rule_id, f.region) for f in evaluate(resources_, load_rules(), catalog)}
    assert got == {
        ("eur7", "RA-EU-OUTSIDE", "EUR7"),
        ("nam4", "RA-US-SOIL", "NAM4"),
        ("br", "RA-EU-OUTSIDE", "brazilsouth"),
        ("br", "RA-US-SOIL", "southcentralus"),
        ("bue", "RA-EU-OUTSIDE", "us-east-1"),
    }


def test_default_rule_directory_does_not_load_profiles() -> None:
    ids = {r.id for r in load_rules().rules}
    assert {"RA-EU-UNKNOWN", "RA-EU-OUTSIDE", "RA-US-SOIL"} <= ids
    assert not {i for i in ids if i.startswith("RA-JUR-")}, "profiles/ must be opt-in"


def test_strict_profile_is_packaged() -> None:
    bundled = resources.files("residency_audit._rules").joinpath("profiles", "strict-jurisdiction.yaml")
    assert bundled.is_file()
    assert {r.id for r in load_rules([str(bundled)]).rules} == {"RA-JUR-US-OPERATOR", "RA-JUR-UNKNOWN"}


def test_strict_profile_flags_us_parented_operators_in_the_eu(catalog: Catalog) -> None:
    resources_ = [
        _res("aws", Location("eu-central-1"), name="aws-frankfurt"),
        _res("aws", Location("eusc-de-east-1"), name="aws-eusc"),  # EU entity, US parent
        _res("gcp", Location("europe-west4"), name="gcp-eemshaven"),
        _res("azure", Location("westeurope"), name="azure-amsterdam"),
        _res("azure", Location("germanycentral"), name="azure-t-systems"),  # German data trustee
        _res("aws", Location("us-east-1"), name="aws-virginia"),  # already RA-US-SOIL, not repeated
    ]
    default = {(f.resource.name, f.rule_id) for f in evaluate(resources_, load_rules(), catalog)}
    assert default == {("aws-virginia", "RA-US-SOIL")}
    strict = load_rules([str(RULES_DIR), str(STRICT)])
    got = {(f.resource.name, f.rule_id) for f in evaluate(resources_, strict, catalog)}
    assert got == {
        ("aws-frankfurt", "RA-JUR-US-OPERATOR"),
        ("aws-eusc", "RA-JUR-US-OPERATOR"),
        ("gcp-eemshaven", "RA-JUR-US-OPERATOR"),
        ("azure-amsterdam", "RA-JUR-US-OPERATOR"),
        ("aws-virginia", "RA-US-SOIL"),
    }
    (finding,) = [f for f in evaluate(resources_[:1], strict, catalog)]
    assert "Amazon Web Services" in finding.message and "US law" in finding.message
    assert "art. 6" in finding.clause


def test_strict_profile_fails_closed_on_unknown_jurisdiction(catalog: Catalog) -> None:
    learnt, _ = place_from_azure_metadata("newcentral", "New Central", "Athens", cloud="SomeOtherCloud")
    cat = Catalog()
    cat.add(learnt)
    strict = load_rules([str(RULES_DIR), str(STRICT)])
    got = {f.rule_id for f in evaluate([_res("azure", Location("newcentral"))], strict, cat)}
    assert got == {"RA-JUR-UNKNOWN"}


# --------------------------------------------------------------------------- Azure scan-time metadata


def test_azure_metadata_for_a_catalogued_location_is_the_catalog_entry(catalog: Catalog) -> None:
    place, note = place_from_azure_metadata("WestEurope", "West Europe", "Somewhere Else", catalog=catalog)
    assert note is None
    assert place == catalog.resolve("azure", "westeurope")


@pytest.mark.parametrize(
    ("physical", "countries", "in_eu"),
    [
        ("Athens", ("GR",), True),
        ("NETHERLANDS", ("NL",), True),
        ("Tokyo, Saitama", ("JP",), False),
        ("Zurich", ("CH",), False),
        ("Atlantis", (), False),
        ("", (), False),
    ],
)
def test_azure_metadata_places_a_missing_location(
    catalog: Catalog, physical: str, countries: tuple[str, ...], in_eu: bool
) -> None:
    place, note = place_from_azure_metadata(
        "newregioncentral", "New Region Central", physical, "Europe", "westeurope", "Physical", catalog=catalog
    )
    assert (place.countries, place.in_eu, place.known) == (countries, in_eu, bool(countries))
    assert note is not None and "not in the residency-audit catalog" in note
    assert (place.paired_region, place.jurisdictions) == ("westeurope", ("US",))
    assert not catalog.knows("azure", "newregioncentral")  # the caller decides whether to add it


def test_azure_metadata_logical_location_is_unknown_and_china_is_21vianet(catalog: Catalog) -> None:
    logical, _ = place_from_azure_metadata("newgeo", "New Geo", "Netherlands", region_type="Logical", catalog=catalog)
    assert not logical.known and logical.kind == "logical"
    cn, _ = place_from_azure_metadata("chinanorth9", "China North 9", "Beijing", cloud="AzureChinaCloud")
    assert (cn.countries, cn.jurisdictions, cn.partition) == (("CN",), ("CN",), "AzureChinaCloud")


def test_learnt_azure_location_is_evaluated(catalog: Catalog) -> None:
    cat = Catalog()
    athens, _ = place_from_azure_metadata("greececentral", "Greece Central", "Athens", catalog=cat)
    nowhere, _ = place_from_azure_metadata("atlantisnorth", "Atlantis North", "Atlantis", catalog=cat)
    cat.add(athens)
    cat.add(nowhere)
    res = [_res("azure", Location("greececentral"), name="gr"), _res("azure", Location("atlantisnorth"), name="x")]
    got = {(f.resource.name, f.rule_id) for f in evaluate(res, load_rules(), cat)}
    assert got == {("x", "RA-EU-UNKNOWN")}


# --------------------------------------------------------------------------- CLI


REQUIRED_KEYS = {"provider", "code", "name", "countries", "in_eu", "kind", "members", "source"}


def test_regions_json_lists_every_provider(capsys: pytest.CaptureFixture[str], catalog: Catalog) -> None:
    code, out, _ = run_cli(["regions", "--format", "json"], capsys)
    assert code == 0
    rows = json.loads(out)
    assert {r["provider"] for r in rows} == set(names())
    assert len(rows) == sum(1 for _ in catalog.places())
    assert [r["code"] for r in rows if not set(r) >= REQUIRED_KEYS] == []
    assert all(re.fullmatch(r"[A-Z]{2}", c) for r in rows for c in r["countries"])
    eur5 = next(r for r in rows if (r["provider"], r["code"]) == ("gcp", "eur5"))
    assert (eur5["countries"], eur5["in_eu"], eur5["members"], eur5["kind"]) == (
        ["BE", "GB"],
        False,
        ["europe-west1", "europe-west2"],
        "dual-region",
    )
    assert all(r["in_eu"] == (bool(r["countries"]) and set(r["countries"]) <= eu_members()) for r in rows)


def test_regions_json_for_one_provider(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["regions", "--provider", "azure", "-f", "json"], capsys)
    assert code == 0
    rows = {r["code"]: r for r in json.loads(out)}
    assert {r["provider"] for r in rows.values()} == {"azure"}
    assert (rows["westeurope"]["countries"], rows["westeurope"]["paired_region"]) == (["NL"], "northeurope")


def test_explain_says_which_member_breaks_eu_only(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["regions", "--explain", "EUR7"], capsys)
    assert code == 0
    assert "europe-west2 (London, England): GB — NOT EU (GB)" in out
    assert "europe-west3 (Frankfurt, Germany): DE — EU" in out
    assert "not EU-only because of: europe-west2 (GB)" in out
    assert "verdict: NOT in the EU" in out


def test_explain_takes_the_provider_code_form_it_prints(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["regions", "--explain", "EUR8"], capsys)
    heading = out.splitlines()[0].split(" — ")[0]
    assert heading == "gcp:eur8"
    code2, out2, _ = run_cli(["regions", "--explain", heading], capsys)
    assert (code, code2) == (0, 0) and out2 == out
    code, _, err = run_cli(["regions", "--explain", "gcp:eur8", "--provider", "aws"], capsys)
    assert code == 2 and "names gcp, but --provider says aws" in err


def test_explain_json_and_alias(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["regions", "--explain", "eu", "--provider", "aws", "-f", "json"], capsys)
    assert code == 0
    (row,) = json.loads(out)
    assert (row["code"], row["countries"], row["in_eu"]) == ("eu-west-1", ["IE"], True)
    assert "  'eu' is an alias of eu-west-1" in row["explanation"]


def test_explain_zone_and_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["regions", "--explain", "us-east-1-bue-1a"], capsys)
    assert code == 0
    assert "zone of region us-east-1 (US); the zone itself is in AR" in out
    code, out, _ = run_cli(["regions", "--explain", "nowhere-9"], capsys)
    assert code == 0
    assert "unknown to the catalog for every provider" in out and "fail closed" in out


def test_regions_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["regions", "--provider", "gcp"], capsys)
    assert code == 0
    (row,) = [line for line in out.splitlines() if "│ eur5 " in line]
    assert "BE,GB" in row and "│ no " in row
    assert "Locations (" in out and "westeurope" not in out and "eu-west-1" not in out


def test_lazy_loading_is_thread_safe() -> None:
    """Providers load on first use; concurrent first uses see one complete catalog."""
    from concurrent.futures import ThreadPoolExecutor

    fresh = Catalog()
    codes = [("azure", "europe"), ("gcp", "EUR8"), ("aws", "eu-west-1"), ("azure", "westeurope")] * 25
    with ThreadPoolExecutor(8) as pool:
        got = set(pool.map(lambda pc: (pc[0], pc[1], fresh.resolve(*pc).countries), codes))
    assert got == {
        ("azure", "europe", ("IE", "NL")),
        ("gcp", "EUR8", ("DE", "CH")),
        ("aws", "eu-west-1", ("IE",)),
        ("azure", "westeurope", ("NL",)),
    }
    only_aws = Catalog(["aws"])
    assert not only_aws.resolve("gcp", "europe-west4").known
    assert {p.provider for p in only_aws.places()} == {"aws"}


# --------------------------------------------------------------------------- product vocabularies (Spanner, ...)

PUBLISHED = Path(__file__).parent / "fixtures" / "published_locations"


def _published(provider: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((PUBLISHED / f"{provider}.yaml").read_text("utf-8"))
    return data


SPANNER = _published("gcp")["spanner"]


@pytest.mark.parametrize("config", sorted(SPANNER["configurations"]))
def test_spanner_configuration_holds_data_in_every_region_google_lists(catalog: Catalog, config: str) -> None:
    """Read-write, read-only and witness regions all hold data: each is a member."""
    spec = SPANNER["configurations"][config]
    regions = [*spec["read_write"], *spec.get("read_only", []), *spec.get("witness", [])]
    place = catalog.resolve("gcp", spanner_config(config))
    assert place.known and place.source == SPANNER["source"]
    assert sorted(place.members) == sorted(regions)
    expected = {c for r in regions for c in catalog.resolve("gcp", r).countries}
    assert set(place.countries) == expected
    if "resource_location" in spec:  # Google's own word for where the data rests agrees
        assert set(place.countries) <= set(catalog.resolve("gcp", spec["resource_location"]).countries)


@pytest.mark.parametrize("region", SPANNER["regional"])
def test_spanner_regional_configuration_is_its_region(catalog: Catalog, region: str) -> None:
    place = catalog.resolve("gcp", f"spanner/regional-{region}")
    assert place.known and place.members == (region,)
    assert (place.countries, place.in_eu) == (
        catalog.resolve("gcp", region).countries,
        catalog.resolve("gcp", region).in_eu,
    )
    assert place.source == SPANNER["source"]


@pytest.mark.parametrize(
    ("config", "countries", "in_eu"),
    [
        ("eur3", ("BE", "NL", "FI"), True),
        ("eur5", ("GB", "BE", "NL"), False),  # London leads
        ("eur6", ("NL", "DE", "CH"), False),  # the witness is in Zurich
        ("eur7", ("IT", "DE"), True),  # not Cloud Storage's EUR7 (London + Frankfurt)
        ("nam3", ("US",), False),
        ("nam14", ("US", "CA"), False),
        ("nam-eur-asia1", ("US", "BE", "TW"), False),
        ("dual-region-germany1", ("DE",), True),
        ("regional-europe-west4", ("NL",), True),
        ("regional-europe-west2", ("GB",), False),
        ("projects/p/instanceConfigs/regional-europe-west3", ("DE",), True),
    ],
)
def test_spanner_traps(catalog: Catalog, config: str, countries: tuple[str, ...], in_eu: bool) -> None:
    place = catalog.resolve("gcp", spanner_config(config))
    assert (place.known, place.countries, place.in_eu) == (True, countries, in_eu)


def test_spanner_codes_do_not_change_what_other_products_codes_mean(catalog: Catalog) -> None:
    """Cloud Storage EUR7 / Cloud KMS nam3 keep their own members; only `spanner/...` is Spanner's."""
    assert catalog.resolve("gcp", "EUR7").members == ("europe-west2", "europe-west3")
    assert catalog.resolve("gcp", "nam3").members == ("us-east4", "us-east1")
    assert catalog.resolve("gcp", "spanner/eur7").members == ("europe-west8", "europe-west3", "europe-west12")
    assert not catalog.resolve("gcp", "regional-us-central1").known  # Spanner's name, unqualified


@pytest.mark.parametrize(
    "code",
    [
        "spanner/custom-eur3-plus-us",  # custom: replicas chosen per project
        "spanner/regional-europe-west99",  # no such region
        "spanner/regional-europe-west15",  # catalogued region, country unknown
        "spanner/regional-europe-west4-a",  # a zone is not a configuration
        "spanner/regional-eur3",  # a multi-region is not a region
        "spanner/regional-",
        "spanner/nam99",
        "spanner/",
    ],
)
def test_spanner_codes_that_fail_closed(catalog: Catalog, code: str) -> None:
    place = catalog.resolve("gcp", code)
    assert (place.known, place.in_eu, place.countries) == (False, False, ())


def test_spanner_custom_configuration_says_why_it_is_unknown(catalog: Catalog) -> None:
    place = catalog.resolve("gcp", spanner_config("projects/p/instanceConfigs/custom-nam3-eu"))
    assert not place.known and "custom Spanner instance configuration" in place.note


def test_spanner_config_code() -> None:
    assert spanner_config("nam3") == "spanner/nam3"
    assert spanner_config(" projects/p/instanceConfigs/NAM-EUR-ASIA1 ") == "spanner/nam-eur-asia1"


@pytest.mark.parametrize(("code", "country"), [("DE", "DE"), ("IT", "IT"), ("in", "IN"), ("AU", "AU"), ("jp", "JP")])
def test_country_level_location_codes(catalog: Catalog, code: str, country: str) -> None:
    place = catalog.resolve("gcp", code)
    assert (place.known, place.countries, place.in_eu) == (True, (country,), country in eu_members())


def test_explain_a_spanner_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["regions", "--explain", "gcp:spanner/eur6"], capsys)
    assert code == 0
    assert out.splitlines()[0].startswith("gcp:spanner/eur6 — ")
    assert "europe-west6 (Zurich, Switzerland): CH — NOT EU (CH)" in out
    assert "not EU-only because of: europe-west6 (CH)" in out
    code, out, _ = run_cli(["regions", "--explain", "spanner/regional-europe-west4"], capsys)
    assert code == 0 and "europe-west4 (Eemshaven, Netherlands): NL — EU" in out and "verdict: in the EU" in out
    code, out, _ = run_cli(["regions", "--explain", "gcp:spanner/custom-x"], capsys)
    assert code == 0 and "custom Spanner instance configuration" in out and "fail closed" in out


FIRESTORE = _published("gcp")["firestore"]


@pytest.mark.parametrize("code", sorted(FIRESTORE["multi_regions"]))
def test_firestore_multi_region_holds_data_in_its_read_write_and_witness_regions(catalog: Catalog, code: str) -> None:
    spec = FIRESTORE["multi_regions"][code]
    place = catalog.resolve("gcp", code)
    assert place.known and sorted(place.members) == sorted([*spec["read_write"], *spec["witness"]])


# --------------------------------------------------------------------------- catalog freshness (drift)
#
# Every code a provider's source lists must be in the catalog: botocore's partitions.json
# (announced regions first) and endpoints.json as installed, and Google's and Microsoft's
# location pages as transcribed in tests/fixtures/published_locations/.


def _botocore_file(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files("botocore").joinpath("data", name).read_text())
    return data


def test_every_region_in_botocore_partitions_is_catalogued_in_its_partition(catalog: Catalog) -> None:
    """partitions.json names regions (and each partition's global endpoint) before endpoints.json does."""
    listed = {code: part["id"] for part in _botocore_file("partitions.json")["partitions"] for code in part["regions"]}
    assert len(listed) > 40
    entries = catalog.raw("aws")["locations"]
    assert sorted(code for code in listed if code not in entries) == []
    assert {
        c: (p, catalog.resolve("aws", c).partition)
        for c, p in listed.items()
        if catalog.resolve("aws", c).partition != p
    } == {}


@pytest.mark.parametrize(
    ("code", "countries", "partition"),
    [
        ("me-west-1", ("SA",), "aws"),  # "Middle East (Saudi Arabia)": partitions.json only
        ("sa-west-1", ("CL",), "aws"),  # "South America (Chile)": partitions.json only
        ("aws-iso-global", ("US",), "aws-iso"),
        ("aws-iso-b-global", ("US",), "aws-iso-b"),
        ("aws-iso-f-global", ("US",), "aws-iso-f"),
    ],
)
def test_regions_botocore_announces_before_their_endpoints(
    catalog: Catalog, code: str, countries: tuple[str, ...], partition: str
) -> None:
    place = catalog.resolve("aws", code)
    assert (place.known, place.countries, place.in_eu, place.partition) == (True, countries, False, partition)


def test_isolated_eu_partition_global_endpoint_fails_closed(catalog: Catalog) -> None:
    place = catalog.resolve("aws", "aws-iso-e-global")
    assert catalog.knows("aws", "aws-iso-e-global") and not place.known and place.partition == "aws-iso-e"


def test_aws_drift_check_finds_nothing_against_the_installed_botocore(catalog: Catalog) -> None:
    drift = check_aws(catalog)
    assert (drift.new, drift.changed, drift.drifted) == ([], [], False)


def test_aws_drift_check_reports_a_new_region_and_a_wrong_partition(catalog: Catalog) -> None:
    """The real botocore data with one announced region more and one region moved."""
    data = botocore_data()
    aws = next(p for p in data["partitions.json"]["partitions"] if p["id"] == "aws")
    aws["regions"]["eu-west-9"] = {"description": "Europe (Atlantis)"}
    iso = next(p for p in data["endpoints.json"]["partitions"] if p["partition"] == "aws-iso")
    for part in data["partitions.json"]["partitions"]:
        part["regions"].pop("eu-west-1", None)
    for part in data["endpoints.json"]["partitions"]:
        part["regions"].pop("eu-west-1", None)
    iso["regions"]["eu-west-1"] = {"description": "moved"}
    drift = check_aws(catalog, data)
    assert drift.new == [("eu-west-9", "Europe (Atlantis) (partition aws)")]
    assert drift.changed == [("eu-west-1", "botocore puts it in partition aws-iso, the catalog in aws")]
    assert drift.drifted


PUBLISHED_GCP = _published("gcp")


def test_every_cloud_storage_location_is_catalogued(catalog: Catalog) -> None:
    gcs = PUBLISHED_GCP["storage"]
    codes = [
        *gcs["regions"],
        *gcs["predefined_dual_regions"],
        *gcs["multi_regions"],
        *gcs["configurable_dual_regions"],
    ]
    assert [c for c in codes if not catalog.knows("gcp", c)] == []
    assert [r for r in gcs["regions"] if catalog.resolve("gcp", r).kind != "region"] == []


@pytest.mark.parametrize("code", sorted(PUBLISHED_GCP["storage"]["configurable_dual_regions"]))
def test_configurable_dual_region_code_covers_every_region_it_offers(catalog: Catalog, code: str) -> None:
    """A bucket reported only by its location code (no dataLocations) is in at most that code's countries."""
    place = catalog.resolve("gcp", code)
    regions = PUBLISHED_GCP["storage"]["configurable_dual_regions"][code]
    countries = {c for r in regions for c in catalog.resolve("gcp", r).countries}
    if place.known:
        assert countries <= set(place.countries)
        assert place.in_eu == all(c in eu_members() for c in countries)
    else:  # ASIA: Google names no member list for the multi-region itself
        assert code == "asia" and not place.in_eu


@pytest.mark.parametrize(("code", "pair"), sorted(PUBLISHED_GCP["storage"]["predefined_dual_regions"].items()))
def test_cloud_storage_predefined_dual_region_starts_with_its_pair(
    catalog: Catalog, code: str, pair: list[str]
) -> None:
    assert list(catalog.resolve("gcp", code).members[:2]) == pair


@pytest.mark.parametrize("code", sorted(PUBLISHED_GCP["kms"]["multi_regions"]))
def test_cloud_kms_multi_region_is_the_cities_google_names(catalog: Catalog, code: str) -> None:
    assert sorted(catalog.resolve("gcp", code).members) == sorted(PUBLISHED_GCP["kms"]["multi_regions"][code])


def test_cloud_kms_country_multi_regions(catalog: Catalog) -> None:
    got = {c: list(catalog.resolve("gcp", c).countries) for c in PUBLISHED_GCP["kms"]["countries"]}
    assert got == PUBLISHED_GCP["kms"]["countries"]


def test_every_code_google_publishes_for_spanner_and_firestore_is_catalogued(catalog: Catalog) -> None:
    codes = [spanner_config(c) for c in SPANNER["configurations"]]
    codes += [f"spanner/regional-{r}" for r in SPANNER["regional"]]
    codes += [s["resource_location"] for s in SPANNER["configurations"].values() if "resource_location" in s]
    codes += list(FIRESTORE["multi_regions"])
    assert [c for c in codes if not catalog.knows("gcp", c)] == []


PUBLISHED_AZURE = _published("azure")


@pytest.mark.parametrize("code", sorted(PUBLISHED_AZURE["regions"]))
def test_azure_region_as_microsoft_lists_it(catalog: Catalog, code: str) -> None:
    """Name, paired region and physical location's country, as the regions list gives them."""
    row = PUBLISHED_AZURE["regions"][code]
    place = catalog.resolve("azure", code)
    assert place.known and place.source
    assert (place.paired_region or None) == row["pair"]
    if row["physical"] is not None:
        assert (azure_physical_country(row["physical"]),) == place.countries


def test_azure_regions_documented_as_unpaired_are_exactly_the_regions_lists(catalog: Catalog) -> None:
    """`unpaired: true` (Key Vault then keeps a vault's copies in the region) only where the
    transcribed regions list says "N/A"; every other region without a pair fails closed."""
    marked = {p.code for p in catalog.places("azure") if catalog.unpaired("azure", p.code)}
    assert marked == {code for code, row in PUBLISHED_AZURE["regions"].items() if row["pair"] is None}
    assert all(not catalog.resolve("azure", code).paired_region for code in marked)
    assert not catalog.unpaired("azure", "jioindiawest") and not catalog.unpaired("azure", "westeurope")
    assert not catalog.unpaired("azure", "no-such-region")


def _listed(*rows: tuple[str, str, str, str]) -> list[LocationInfo]:
    return [LocationInfo(name, display, physical, "", pair, "Physical") for name, display, physical, pair in rows]


def test_azure_drift_check_against_list_locations(catalog: Catalog) -> None:
    drift = check_azure(
        catalog,
        [
            *_listed(
                ("westeurope", "West Europe", "Netherlands", "northeurope"),
                ("westus3", "West US 3", "Phoenix", "eastus"),
                ("eastusstage", "East US (Stage)", "", ""),  # an alias the catalog maps to eastus
                ("taiwannorth", "Taiwan North", "Taipei", "taiwannorthwest"),  # not catalogued
                ("newcentral", "New Central", "Atlantis", ""),  # not catalogued, no known country
                ("northeurope", "North Europe", "Frankfurt", "uksouth"),  # disagrees twice
                ("italynorth", "Italy North", "Milan", "germanywestcentral"),  # a pair the catalog leaves out
            ),
            LocationInfo("europe", "Europe", "", "", "", "Logical"),
            LocationInfo("atlantis", "Atlantis", "", "", "", "Logical"),
        ],
    )
    assert drift.new == [
        ("atlantis", "Atlantis: a logical location"),
        ("newcentral", "New Central: physicalLocation 'Atlantis' -> no known country (fails closed)"),
        ("taiwannorth", "Taiwan North: physicalLocation 'Taipei' -> TW; paired with taiwannorthwest"),
    ]
    assert drift.changed == [
        ("northeurope", "the catalog says IE, physicalLocation 'Frankfurt' says DE"),
        ("northeurope", "paired with uksouth by list-locations, with westeurope by the catalog"),
    ]
    assert [n.split(":")[0] for n in drift.notes] == ["italynorth"]
    assert "swedencentral" in {code for code, _ in drift.unlisted} and drift.drifted
    quiet = check_azure(catalog, _listed(("westeurope", "West Europe", "Netherlands", "northeurope")))
    assert (quiet.new, quiet.changed, quiet.drifted) == ([], [], False)


# --------------------------------------------------------------------------- regions --check (CLI)


def test_regions_check_aws_against_the_installed_botocore(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["regions", "--check"], capsys)
    assert code == 0
    assert out.startswith("aws: catalog checked against botocore ") and "no drift" in out
    code, out, _ = run_cli(["regions", "--check", "--provider", "aws", "--format", "json"], capsys)
    report = json.loads(out)
    assert (code, report["provider"], report["drift"], report["new"], report["complete"]) == (0, "aws", False, [], True)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["regions", "--check", "--provider", "gcp"], "Google Cloud publishes no location list"),
        (["regions", "--check", "--subscription", "x"], "only with --check --provider azure"),
        (["regions", "--endpoint", "https://127.0.0.1:1"], "only with --check --provider azure"),
        (["regions", "--check", "--explain", "eu"], "--check and --explain do not go together"),
        (["regions", "--check", "--provider", "azure", "--subscription", "not-a-guid"], "not a subscription id"),
    ],
)
def test_regions_check_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, _, err = run_cli(argv, capsys)
    assert code == 2 and message in err and "Traceback" not in err


@pytest.fixture(scope="module")
def arm() -> Iterator[FakeArm]:
    fake = FakeArm().start()
    yield fake
    fake.stop()


@pytest.fixture
def arm_env(arm: FakeArm, monkeypatch: pytest.MonkeyPatch) -> FakeArm:
    """The sample estate, and azure-identity's variables pointing at the fake ARM server."""
    point_at_azure(arm, monkeypatch)
    return arm


def _check_azure(capsys: pytest.CaptureFixture[str], fake: FakeArm, *extra: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run_cli(
        ["regions", "--check", "--provider", "azure", "--endpoint", fake.url, "--format", "json", *extra], capsys
    )
    assert "Traceback" not in err
    report: dict[str, Any] = json.loads(out)
    return code, report


def test_regions_check_azure_reads_list_locations_read_only(
    capsys: pytest.CaptureFixture[str], arm_env: FakeArm
) -> None:
    code, report = _check_azure(capsys, arm_env)
    assert (code, report["drift"], report["new"], report["changed"], report["complete"]) == (0, False, [], [], True)
    assert {r["code"] for r in report["unlisted"]} >= {"italynorth", "polandcentral"}  # not in the fake's list
    wire = [e for e in arm_env.log if "/oauth2/" not in e.path and "/.well-known/" not in e.path]
    assert wire and {e.method for e in wire} == {"GET"}
    assert any(e.path.split("?")[0].endswith("/locations") for e in wire)


def test_regions_check_azure_reports_a_new_region_and_a_disagreement(
    capsys: pytest.CaptureFixture[str], arm_env: FakeArm
) -> None:
    arm_env.locations += [
        arm_location("taiwannorth", "Taiwan North", "Taipei", "Asia Pacific", "taiwannorthwest"),
        arm_location("newcentral", "New Central", "Atlantis", "Europe", "westeurope"),
    ]
    swiss = next(loc for loc in arm_env.locations if loc["name"] == "switzerlandnorth")
    swiss["metadata"]["physicalLocation"] = "Frankfurt"  # the catalog says Zurich (CH)
    code, report = _check_azure(capsys, arm_env)
    assert (code, report["drift"], report["complete"]) == (1, True, True)
    assert {r["code"]: r["detail"] for r in report["new"]} == {
        "newcentral": "New Central: physicalLocation 'Atlantis' -> no known country (fails closed); paired with westeurope",
        "taiwannorth": "Taiwan North: physicalLocation 'Taipei' -> TW; paired with taiwannorthwest",
    }
    assert report["changed"] == [
        {"code": "switzerlandnorth", "detail": "the catalog says CH, physicalLocation 'Frankfurt' says DE"}
    ]
    code, out, _ = run_cli(["regions", "--check", "--provider", "azure", "--endpoint", arm_env.url], capsys)
    assert code == 1
    assert "    taiwannorth: Taiwan North: physicalLocation 'Taipei' -> TW; paired with taiwannorthwest" in out
    assert "drift: 2 new, 1 changed; update geography/data/azure.yaml" in out


def test_regions_check_azure_unreadable_is_incomplete(capsys: pytest.CaptureFixture[str], arm_env: FakeArm) -> None:
    arm_env.denied = set(arm_env.subscriptions)
    code, report = _check_azure(capsys, arm_env)
    assert (code, report["complete"], report["new"]) == (3, False, [])
    assert "no subscription's list-locations could be read" in report["incomplete"]
    assert "AuthorizationFailed" in report["incomplete"]


def test_regions_check_azure_without_credentials_is_one_line(
    capsys: pytest.CaptureFixture[str], arm_env: FakeArm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "wrong-" + "x" * 8)
    code, out, err = run_cli(["regions", "--check", "--provider", "azure", "--endpoint", arm_env.url], capsys)
    assert code == 2 and out == "" and "no usable Azure credentials" in err
    assert "wrong-xxxxxxxx" not in err and "Traceback" not in err
