"""Azure footprints beyond the primary location (issue 17): SQL backup storage and failover
groups, managed instance failover groups, PostgreSQL/MySQL geo-redundant backup and read
replicas, registry geo-replications, Redis geo-replication, Event Hubs / Service Bus geo-DR
aliases, object replication, App Service backups, Log Analytics workspaces and diagnostic
settings. Real azure-identity and azure-mgmt clients over HTTPS against the fake ARM server,
on both inventory paths, exact locations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from residency_audit.core import run_scan
from residency_audit.engine import load_rules
from residency_audit.geography import default_catalog
from residency_audit.model import Location, Resource, ScanRequest, ScanResult
from residency_audit.providers.azure import readers
from residency_audit.providers.azure.client import operation_for
from residency_audit.providers.azure.kinds import KINDS
from residency_emulator.azure import (
    BACKUP_SAS_SIGNATURE,
    DIAGNOSTIC_SETTINGS,
    SUB_ANALYTICS,
    SUB_LEGACY,
    SUB_PROD,
    FakeArm,
    arm_resource,
    diagnostic_setting,
    key_vault,
)

from .cloud_support import point_at_azure
from .conftest import read_json

MODES = ("arm", "graph")

#: name -> its locations as (region, role), with every subscription readable (both paths).
FOOTPRINTS: dict[str, set[tuple[str | None, str]]] = {
    # SQL: failover group partner; Geo backup storage (the default, and master too); Local stays home
    "sql-crm": {("westeurope", "primary"), ("francecentral", "replica")},
    "sql-crm/crm": {("westeurope", "primary"), ("francecentral", "replica"), ("northeurope", "backup")},
    "sql-crm/master": {("westeurope", "primary"), ("northeurope", "backup")},
    "sql-crm/reporting": {("westeurope", "primary")},
    "sql-hr-uk": {("uksouth", "primary")},
    "sql-hr-uk/hr": {("uksouth", "primary"), ("ukwest", "backup")},
    "sqlmi-core-we": {("westeurope", "primary"), ("northeurope", "backup"), ("northeurope", "replica")},
    # PostgreSQL / MySQL flexible servers
    "psql-orders-we": {("westeurope", "primary"), ("northeurope", "backup"), ("northeurope", "replica")},
    "psql-orders-ne": {("northeurope", "primary")},
    "psql-batch-ch": {("switzerlandnorth", "primary"), ("switzerlandwest", "backup")},
    "mysql-shop-fr": {("francecentral", "primary"), ("germanywestcentral", "replica")},
    "mysql-shop-fr-replica": {("germanywestcentral", "primary")},
    # registries, Redis, geo-DR aliases
    "acrsharedwe": {("westeurope", "primary"), ("eastus", "replica")},
    "acrplatformse": {("swedencentral", "primary"), ("northeurope", "replica")},
    "acrtoolsse": {("swedencentral", "primary")},
    "redis-sessions-we": {("westeurope", "primary"), ("northeurope", "replica")},
    "redis-sessions-ne": {("northeurope", "primary"), ("westeurope", "replica")},
    "redis-cache-se": {("swedencentral", "primary")},
    "sb-orders-we": {("westeurope", "primary"), ("uksouth", "replica")},
    "sb-orders-uk": {("uksouth", "primary"), ("westeurope", "replica")},
    "evh-telemetry-fr": {("francecentral", "primary"), ("francesouth", "replica")},
    "evh-telemetry-fs": {("francesouth", "primary"), ("francecentral", "replica")},
    # object replication (and the blob service's logs), App Service backups, workspaces, diagnostic settings
    "stinvoiceswe": {
        ("westeurope", "primary"),
        ("northeurope", "secondary"),
        ("eastus", "replica"),
        ("francecentral", "replica"),
    },
    "stmediade": {("germanywestcentral", "primary"), ("germanynorth", "secondary"), ("francecentral", "replica")},
    "stanalyticsfr": {("francecentral", "primary")},  # a destination keeps only its own location
    "stlegacyus": {("eastus", "primary")},
    "app-portal-we": {("westeurope", "primary"), ("swedencentral", "backup")},
    "log-central-we": {("westeurope", "primary"), ("northeurope", "replica")},
    "log-ops-us": {("eastus", "primary")},
    "kv-payments-we": {("westeurope", "primary"), ("northeurope", "secondary"), ("eastus", "replica")},
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeArm]:
    server = FakeArm().start()
    yield server
    server.stop()


@pytest.fixture
def azure(fake: FakeArm, monkeypatch: pytest.MonkeyPatch) -> FakeArm:
    point_at_azure(fake, monkeypatch)
    return fake


def _scan(fake: FakeArm, mode: str, subscriptions: list[str] | None = None) -> ScanResult:
    from residency_audit.providers.azure.scan import AzureAdapter

    fake.clear_log()
    adapter = AzureAdapter.from_environment(endpoint=fake.url, inventory=mode, subscriptions=subscriptions)
    return run_scan(adapter, ScanRequest("azure"), load_rules(), default_catalog())


@pytest.fixture(scope="module")
def scans(fake: FakeArm) -> dict[str, tuple[ScanResult, list[Any]]]:
    """The estate, every subscription readable, scanned once per inventory path, with its wire log."""
    mp = pytest.MonkeyPatch()
    try:
        out = {}
        for mode in MODES:
            point_at_azure(fake, mp)
            result = _scan(fake, mode)
            out[mode] = (result, [e for e in fake.log if "/oauth2/" not in e.path and "/.well-known/" not in e.path])
        return out
    finally:
        mp.undo()


def _by_name(result: ScanResult) -> dict[str, Resource]:
    return {r.name: r for r in result.resources}


def _locs(r: Resource) -> set[tuple[str | None, str]]:
    return {(loc.region, loc.role) for loc in r.locations}


def _paths(wire: list[Any]) -> list[str]:
    return [urlsplit(e.path).path.lower() for e in wire]


# --------------------------------------------------------------------------- what each family adds


@pytest.mark.parametrize("mode", MODES)
def test_every_copy_is_where_the_service_keeps_it(scans: dict[str, Any], mode: str) -> None:
    result, _ = scans[mode]
    assert result.scan.gaps == [] and result.scan.complete
    found = _by_name(result)
    assert {name: _locs(found[name]) for name in FOOTPRINTS} == FOOTPRINTS


def test_both_inventory_paths_give_the_same_locations_and_findings(scans: dict[str, Any]) -> None:
    (arm, _), (graph, _) = scans["arm"], scans["graph"]

    def described(result: ScanResult) -> dict[str, list[tuple[Any, ...]]]:
        """Every resource's places; for the families above, with the detail of each (a snapshot's
        detail, for one, is richer from Resource Graph, which names its source disk)."""
        return {
            r.id: sorted((str(x.region), x.role, x.detail if r.name in FOOTPRINTS else "") for x in r.locations)
            for r in result.resources
        }

    assert described(arm) == described(graph)
    keys = {(f.rule_id, f.resource.id, str(f.location.location.region if f.location else None)) for f in arm.findings}
    assert keys == {
        (f.rule_id, f.resource.id, str(f.location.location.region if f.location else None)) for f in graph.findings
    }


def test_details_say_where_each_copy_comes_from(scans: dict[str, Any]) -> None:
    found = _by_name(scans["graph"][0])

    def detail(name: str, region: str | None, role: str) -> str:
        (loc,) = [x for x in found[name].locations if (x.region, x.role) == (region, role)]
        return loc.detail

    assert detail("sql-hr-uk/hr", "ukwest", "backup").startswith("SQL database backups (Geo backup storage)")
    assert detail("sql-crm", "francecentral", "replica") == "failover group fg-crm: partner server sql-crm-dr (crm)"
    assert detail("sqlmi-core-we", "northeurope", "replica") == "instance failover group ifg-core (Secondary)"
    assert detail("psql-orders-we", "northeurope", "replica") == "read replica psql-orders-ne GeoAsyncReplica"
    assert detail("psql-orders-ne", "northeurope", "primary") == "read replica of psql-orders-we"
    assert detail("acrsharedwe", "eastus", "replica") == "geo-replication eastus"
    assert (
        detail("sb-orders-we", "uksouth", "replica")
        == "geo-DR alias sb-orders (Primary): partner namespace sb-orders-uk"
    )
    assert (
        detail("stinvoiceswe", "eastus", "replica")
        == "object replication policy orp-invoices: blobs copied to stlegacyus"
    )
    assert detail("app-portal-we", "swedencentral", "backup") == (
        "App Service backup app-portal-we_20250301 in storage account starchivesc"
    )
    assert detail("kv-payments-we", "eastus", "replica") == (
        "diagnostic setting to-ops: logs sent to Log Analytics workspace log-ops-us"
    )
    assert detail("log-central-we", "northeurope", "replica") == "workspace replication (configuration and logs)"


def test_each_new_kind_says_its_footprint_is_modelled(scans: dict[str, Any]) -> None:
    result, _ = scans["arm"]
    declared = {k.name: k for k in KINDS}
    seen = {r.kind for r in result.resources}
    new = {
        "microsoft.sql/servers",
        "microsoft.sql/managedinstances",
        "microsoft.dbforpostgresql/flexibleservers",
        "microsoft.dbformysql/flexibleservers",
        "microsoft.containerregistry/registries",
        "microsoft.cache/redis",
        "microsoft.eventhub/namespaces",
        "microsoft.servicebus/namespaces",
        "microsoft.web/sites",
        "microsoft.operationalinsights/workspaces",
    }
    assert new <= seen and new <= set(declared)
    for r in result.resources:
        if r.kind in new:
            assert (r.judged, r.category) == ("footprint", declared[r.kind].category), r.name


# --------------------------------------------------------------------------- what is read, and what not


def test_resource_graph_rows_carry_the_properties_so_no_document_is_read(scans: dict[str, Any]) -> None:
    documents = (
        "microsoft.sql/servers/sql-crm/databases/crm",
        "microsoft.sql/managedinstances/sqlmi-core-we",
        "microsoft.dbforpostgresql/flexibleservers/psql-orders-we",
        "microsoft.dbformysql/flexibleservers/mysql-shop-fr",
        "microsoft.operationalinsights/workspaces/log-central-we",
    )
    arm, graph = _paths(scans["arm"][1]), _paths(scans["graph"][1])
    for doc in documents:
        assert sum(p.endswith(doc) for p in arm) == 1, doc
        assert not [p for p in graph if p.endswith(doc)], doc
    # the children Resource Graph does not hold are read on both paths, once each
    for child in ("/replicationlinks", "/failovergroups", "/replicas", "/linkedservers", "/backups"):
        assert [p for p in arm if p.endswith(child)], child
        assert [p for p in graph if p.endswith(child)], child


def test_a_collection_is_read_only_where_it_can_hold_anything(scans: dict[str, Any]) -> None:
    for mode in MODES:
        paths = _paths(scans[mode][1])
        assert not [p for p in paths if "/acrtoolsse/" in p and p.endswith("/replications")]  # Basic
        assert not [p for p in paths if "/databases/master/replicationlinks" in p]  # master has none
        assert not [p for p in paths if p.endswith("psql-orders-ne/replicas")]  # a replica has none
        assert [p for p in paths if p.endswith("/databases/master/providers/microsoft.insights/diagnosticsettings")]
    # a cache without linked servers: its document says so on the graph path; the ARM listing cannot
    assert [p for p in _paths(scans["arm"][1]) if p.endswith("redis-cache-se/linkedservers")]
    assert not [p for p in _paths(scans["graph"][1]) if p.endswith("redis-cache-se/linkedservers")]


@pytest.mark.parametrize("mode", MODES)
def test_every_read_is_a_declared_get(scans: dict[str, Any], mode: str) -> None:
    result, wire = scans[mode]
    assert {e.method for e in wire} <= {"GET", "POST"}
    assert [e.path for e in wire if operation_for(e.method, urlsplit(e.path).path) is None] == []
    assert sum(result.scan.api_calls.values()) == len(wire)
    assert not [e for e in wire if e.status >= 400]  # every api-version is one ARM serves for the type


def test_the_fake_refuses_an_api_version_arm_does_not_serve(azure: FakeArm) -> None:
    """What makes the check above mean something: the fake answers 400 as ARM does."""
    from azure.core.exceptions import HttpResponseError

    from residency_audit.core import Collector
    from residency_audit.model import Scan
    from residency_audit.providers.azure.scan import AzureAdapter

    adapter = AzureAdapter.from_environment(endpoint=azure.url)
    collector = Collector(Scan(ScanRequest("azure")))
    server = f"/subscriptions/{SUB_PROD}/resourceGroups/rg-data/providers/Microsoft.DBforPostgreSQL/flexibleServers"
    assert adapter.get_by_id(collector, f"{server}/psql-orders-we", "2024-08-01")["location"] == "westeurope"
    with pytest.raises(HttpResponseError, match="NoRegisteredProviderFound"):
        adapter.get_by_id(collector, f"{server}/psql-orders-we", "2017-12-01")
    with pytest.raises(HttpResponseError, match="NoRegisteredProviderFound"):
        list(adapter.get_collection(collector, f"{server}/psql-orders-we/replicas", "2023-12-30"))


# --------------------------------------------------------------------------- failing closed


@pytest.mark.parametrize("mode", MODES)
def test_a_copy_held_by_a_resource_outside_the_scan_is_unknown(azure: FakeArm, mode: str) -> None:
    """Production alone: the legacy account (object replication) and the analytics account (blob
    logs) are not in the scan, so where those copies are cannot be shown: unknown, never dropped."""
    result = _scan(azure, mode, subscriptions=[SUB_PROD])
    invoices = _by_name(result)["stinvoiceswe"]
    (unknown,) = [loc for loc in invoices.locations if loc.region is None]
    assert unknown.role == "replica"
    assert "blobs copied to stlegacyus: not in this scan" in unknown.detail
    assert "logs sent to storage account stanalyticsfr: not in this scan" in unknown.detail
    assert ("RA-EU-UNKNOWN", "stinvoiceswe") in {(f.rule_id, f.resource.name) for f in result.findings}


@pytest.mark.parametrize("mode", MODES)
def test_an_unreadable_collection_is_a_gap_and_the_resource_still_counts(azure: FakeArm, mode: str) -> None:
    azure.errors = {"/psql-orders-we/replicas": (403, "AuthorizationFailed")}
    result = _scan(azure, mode)
    assert [(g.scope, g.service, g.code) for g in result.scan.gaps] == [
        (SUB_PROD, "Microsoft.DBforPostgreSQL/flexibleServers/replicas", "AuthorizationFailed")
    ]
    assert _locs(_by_name(result)["psql-orders-we"]) == {("westeurope", "primary"), ("northeurope", "backup")}


def test_an_unreadable_document_is_a_gap_and_adds_no_backup_location(azure: FakeArm) -> None:
    azure.errors = {"/databases/crm": (403, "AuthorizationFailed")}
    result = _scan(azure, "arm")
    gaps = {(g.scope, g.service, g.code) for g in result.scan.gaps}
    assert gaps == {
        (SUB_PROD, "microsoft.sql/servers/databases", "AuthorizationFailed"),
        # its children, below the same path, are refused too
        (SUB_PROD, "Microsoft.Sql/servers/databases/replicationLinks", "AuthorizationFailed"),
        (SUB_PROD, "Microsoft.Insights/diagnosticSettings", "AuthorizationFailed"),
    }
    # what the listing said still counts
    assert _locs(_by_name(result)["sql-crm/crm"]) == {("westeurope", "primary")}


def test_the_backup_sas_url_never_reaches_the_output(azure: FakeArm, tmp_path: Path) -> None:
    from residency_audit.cli import main

    out = tmp_path / "r.json"
    code = main(["scan", "azure", "--endpoint", azure.url, "--format", "json", "--output", str(out), "-q"])
    assert code == 1
    text = out.read_text("utf-8")
    assert "starchivesc" in text and "App Service backup" in text
    assert BACKUP_SAS_SIGNATURE not in text and "sig=" not in text and "blob.core.windows.net" not in text
    report = read_json(out)
    (site,) = [r for r in report["resources"] if r["name"] == "app-portal-we"]
    assert [(loc["region"], loc["role"]) for loc in site["locations"]] == [
        ("westeurope", "primary"),
        ("swedencentral", "backup"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_logs_sent_to_an_event_hub_are_where_its_namespace_is(azure: FakeArm, mode: str) -> None:
    """A diagnostic setting names an event hub by its namespace's authorization rule."""
    cosmos = f"/subscriptions/{SUB_PROD}/resourceGroups/rg-data/providers/Microsoft.DocumentDB/databaseAccounts/cosmos-orders"
    rule = (
        f"/subscriptions/{SUB_ANALYTICS}/resourceGroups/rg-analytics/providers/Microsoft.EventHub/namespaces/"
        "evh-telemetry-fs/authorizationrules/RootManageSharedAccessKey"
    )
    off = diagnostic_setting(cosmos, "switched-off", enabled=False, workspaceId="/subscriptions/x/nowhere")
    azure.add_children(
        cosmos, DIAGNOSTIC_SETTINGS, [diagnostic_setting(cosmos, "to-hub", eventHubAuthorizationRuleId=rule), off]
    )
    result = _scan(azure, mode)
    (hub,) = [loc for loc in _by_name(result)["cosmos-orders"].locations if loc.region == "francesouth"]
    assert (hub.role, hub.detail) == (
        "replica",
        "diagnostic setting to-hub: logs sent to event hub namespace evh-telemetry-fs",
    )
    assert not [
        loc for loc in _by_name(result)["cosmos-orders"].locations if loc.region is None
    ]  # the one sending nothing


# --------------------------------------------------------------------------- no reader: judged where it is


@pytest.mark.parametrize("mode", MODES)
def test_a_type_without_a_reader_is_still_judged_at_its_location(azure: FakeArm, mode: str) -> None:
    azure.resources[SUB_ANALYTICS].append(
        arm_resource(
            SUB_ANALYTICS,
            "rg-analytics",
            "Microsoft.Databricks/workspaces",
            "dbw-ml-us",
            "eastus",
            sku={"name": "premium"},
            properties={"workspaceUrl": "adb-1.1.azuredatabricks.net"},
        )
    )
    result = _scan(azure, mode, subscriptions=[SUB_ANALYTICS])
    (dbw,) = [r for r in result.resources if r.name == "dbw-ml-us"]
    assert (dbw.kind, dbw.judged, dbw.category) == ("microsoft.databricks/workspaces", "primary", "data")
    assert _locs(dbw) == {("eastus", "primary")}
    assert {(f.rule_id, f.resource.name) for f in result.findings} == {("RA-US-SOIL", "dbw-ml-us")}
    assert not [e for e in azure.log if "databricks" in e.path.lower()]  # judged from the inventory alone


# --------------------------------------------------------------------------- Key Vault and pairs


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("westeurope", ("northeurope", "secondary")),
        ("uksouth", ("ukwest", "secondary")),
        ("italynorth", None),  # documented as unpaired: zone-redundant in the region
        ("polandcentral", None),
        ("brazilsouth", None),  # paired, but Key Vault keeps them in the region
        ("westus3", None),
        ("jioindiawest", (None, "secondary")),  # no pair documented either way: fails closed
        ("centraluseuap", (None, "secondary")),
        ("belgiumcentral", (None, "secondary")),  # not (yet) transcribed as unpaired
        ("atlantis1", (None, "secondary")),  # not in the catalog
    ],
)
def test_key_vault_replica_by_region(region: str, expected: tuple[str | None, str] | None) -> None:
    replica = readers.key_vault_replica(default_catalog(), region)
    assert (None if replica is None else (replica.region, replica.role)) == expected


@pytest.mark.parametrize("mode", MODES)
def test_a_vault_in_a_region_without_a_documented_pair_fails_closed(azure: FakeArm, mode: str) -> None:
    azure.resources[SUB_LEGACY] = [key_vault(SUB_LEGACY, "rg-old", "kv-lab-jio", "jioindiawest")]
    result = _scan(azure, mode, subscriptions=[SUB_LEGACY])
    assert {(f.rule_id, f.location.location.role if f.location else "") for f in result.findings} == {
        ("RA-EU-OUTSIDE", "primary"),
        ("RA-EU-UNKNOWN", "secondary"),
    }


# --------------------------------------------------------------------------- the readers, directly


def _places() -> readers.Places:
    return readers.Places(default_catalog())


@pytest.mark.parametrize(
    ("properties", "backup"),
    [
        ({"currentBackupStorageRedundancy": "Geo", "requestedBackupStorageRedundancy": "Geo"}, "northeurope"),
        ({"currentBackupStorageRedundancy": "GeoZone"}, "northeurope"),
        ({"currentBackupStorageRedundancy": "Geo", "requestedBackupStorageRedundancy": "Local"}, "northeurope"),
        ({"currentBackupStorageRedundancy": "Local"}, None),
        ({"currentBackupStorageRedundancy": "Zone"}, None),
        ({"status": "Online"}, "northeurope"),  # not reported: Geo is the default
    ],
)
def test_sql_backup_storage_redundancy(properties: dict[str, str], backup: str | None) -> None:
    raw = {"id": "/x/databases/d", "name": "s/d", "location": "westeurope", "properties": properties}
    got = [loc.region for loc in readers.sql_database(raw, _places()) if loc.role == "backup"]
    assert got == ([backup] if backup else [])


def test_sql_backups_of_a_region_without_a_pair_fail_closed() -> None:
    raw = {"id": "/x/databases/d", "name": "s/d", "location": "italynorth", "properties": {}}
    (backup,) = [loc for loc in readers.sql_database(raw, _places()) if loc.role == "backup"]
    assert backup.region is None and "paired region unknown" in backup.detail


def test_a_document_that_could_not_be_read_adds_no_backup() -> None:
    raw = {"id": "/x/databases/d", "name": "s/d", "location": "westeurope", "properties": None}
    assert readers.sql_database(raw, _places()) == [Location("westeurope")]


@pytest.mark.parametrize(
    ("url", "account"),
    [
        ("https://stbackups.blob.core.windows.net/backups?sv=2022-11-02&sig=abc%3D", "stbackups"),
        ("DefaultEndpointsProtocol=https;AccountName=storagesample;AccountKey=<account-key>", "storagesample"),
        ("https://stgov.blob.core.usgovcloudapi.net/c", "stgov"),
        ("https://evil.example.com/stbackups.blob.core.windows.net", ""),
        ("not a url", ""),
        (None, ""),
    ],
)
def test_the_storage_account_a_backup_url_names(url: str | None, account: str) -> None:
    assert readers.storage_account_of(url) == account


def test_a_diagnostic_setting_that_sends_nothing_is_no_copy() -> None:
    off = diagnostic_setting("/r", "off", enabled=False, workspaceId="/subscriptions/s/w")
    on = diagnostic_setting("/r", "on", storageAccountId="/subscriptions/S/providers/X/storageAccounts/St1")
    refs = readers.diagnostic_copies({"diagnosticSettings": [off, on]})
    assert refs == [readers.Ref("/subscriptions/s/providers/x/storageaccounts/st1", "replica", refs[0].detail)]


def test_a_reference_is_settled_where_its_resource_is_or_unknown() -> None:
    ref = readers.Ref("/subscriptions/s/x", "replica", "geo-DR alias a")
    assert readers.settle(ref, "uksouth", True) == Location("uksouth", "replica", detail="geo-DR alias a")
    unknown = readers.settle(ref, None, False)
    assert unknown.region is None and unknown.detail.endswith("not in this scan, so its location is unknown")
