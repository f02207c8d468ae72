"""`scan azure` end to end: the real azure-identity flow and azure-mgmt clients over real
HTTPS against the fake ARM server (a certificate generated per session), exact findings."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from residency_audit.providers.azure.client import operation_for
from residency_audit.providers.azure.kinds import read_operations
from residency_emulator.azure import (
    SUB_ANALYTICS,
    SUB_LEGACY,
    SUB_PROD,
    TENANT,
    FakeArm,
    seed_azure,
)

from .cloud_support import AZURE_IDENTITY_VARS
from .conftest import read_json, run_cli

STORAGE = "microsoft.storage/storageaccounts"
COSMOS = "microsoft.documentdb/databaseaccounts"
VM = "microsoft.compute/virtualmachines"
KEY_VAULT = "microsoft.keyvault/vaults"
POSTGRES = "microsoft.dbforpostgresql/flexibleservers"
SQL_SERVER = "microsoft.sql/servers"
SQL_DB = "microsoft.sql/servers/databases"
REGISTRY = "microsoft.containerregistry/registries"
SERVICE_BUS = "microsoft.servicebus/namespaces"
WORKSPACE = "microsoft.operationalinsights/workspaces"

#: The copies services keep elsewhere (residency_emulator.azure._copies), one trap per family.
COPIES = {
    # geo-redundant backup of a Switzerland North server: Switzerland West (neither is EU)
    ("RA-EU-OUTSIDE", POSTGRES, "psql-batch-ch", "primary", "switzerlandnorth"),
    ("RA-EU-OUTSIDE", POSTGRES, "psql-batch-ch", "backup", "switzerlandwest"),
    # a UK South SQL database with Geo backup storage: backups in UK West
    ("RA-EU-OUTSIDE", SQL_SERVER, "sql-hr-uk", "primary", "uksouth"),
    ("RA-EU-OUTSIDE", SQL_DB, "sql-hr-uk/hr", "primary", "uksouth"),
    ("RA-EU-OUTSIDE", SQL_DB, "sql-hr-uk/hr", "backup", "ukwest"),
    # a West Europe registry geo-replicated to East US
    ("RA-US-SOIL", REGISTRY, "acrsharedwe", "replica", "eastus"),
    # a Service Bus geo-DR alias whose partner namespace is in UK South
    ("RA-EU-OUTSIDE", SERVICE_BUS, "sb-orders-we", "replica", "uksouth"),
    ("RA-EU-OUTSIDE", SERVICE_BUS, "sb-orders-uk", "primary", "uksouth"),
    # a West Europe Key Vault whose diagnostic setting sends its logs to an East US workspace
    ("RA-US-SOIL", KEY_VAULT, "kv-payments-we", "replica", "eastus"),
    ("RA-US-SOIL", WORKSPACE, "log-ops-us", "primary", "eastus"),
}
# (rule, kind, name, role, region): what the estate must yield with the legacy subscription unreadable.
EXPECTED = {
    ("RA-EU-OUTSIDE", STORAGE, "stexportsuk", "primary", "uksouth"),
    ("RA-US-SOIL", COSMOS, "cosmos-orders", "replica", "eastus"),
    ("RA-EU-OUTSIDE", VM, "vm-batch-ch", "primary", "switzerlandnorth"),
    *COPIES,
    # object replication to the legacy account, which this scan cannot see: fails closed
    ("RA-EU-UNKNOWN", STORAGE, "stinvoiceswe", "replica", None),
}
#: The legacy subscription, readable: an East US account, and a UK South Key Vault whose
#: contents Azure replicates to the pair, UK West (both outside the EU).
LEGACY_EXPECTED = {
    ("RA-US-SOIL", STORAGE, "stlegacyus", "primary", "eastus"),
    ("RA-EU-OUTSIDE", KEY_VAULT, "kv-legacy-uk", "primary", "uksouth"),
    ("RA-EU-OUTSIDE", KEY_VAULT, "kv-legacy-uk", "secondary", "ukwest"),
}
#: The demo reads the legacy subscription too: the object replication's destination is in East US.
DEMO_EXPECTED = (
    (EXPECTED - {("RA-EU-UNKNOWN", STORAGE, "stinvoiceswe", "replica", None)})
    | LEGACY_EXPECTED
    | {("RA-US-SOIL", STORAGE, "stinvoiceswe", "replica", "eastus")}
)

CLEAN = {
    "starchivesc",  # Sweden Central
    "stmediade",  # RA-GZRS Germany, secondary from the paired region; object replication to France
    "stanalyticsfr",
    "vm-app-se",
    "vm-app-se-osdisk",
    "vm-app-se-nightly",
    "sql-crm",
    "sql-crm/crm",  # geo-replica in France Central
    "rsv-backup-we",  # geo-redundant backups in North Europe
    "bv-analytics",
    "rg-data",
    "rg-apps",
    "rg-analytics",
    # their counterparts of the copies' traps
    "sql-crm/master",
    "sql-crm/reporting",  # Local backup storage
    "sqlmi-core-we",  # geo backups and failover group in North Europe
    "psql-orders-we",  # geo-redundant backup in North Europe, read replica there
    "psql-orders-ne",
    "mysql-shop-fr",  # read replica in Germany
    "mysql-shop-fr-replica",
    "acrplatformse",  # replicated to North Europe
    "acrtoolsse",  # Basic: no geo-replication
    "redis-sessions-we",  # linked to North Europe
    "redis-sessions-ne",
    "redis-cache-se",
    "evh-telemetry-fr",  # geo-DR alias to France South
    "evh-telemetry-fs",
    "app-portal-we",  # backups in the Sweden Central archive account
    "log-central-we",  # replicated to North Europe
}

SECRET_PREFIX = "ra-test-secret-DO-NOT-LEAK-"
READ_OPERATIONS = read_operations()


def _key(f: dict[str, Any]) -> tuple[str, str, str, str, str]:
    return (f["rule_id"], f["resource_kind"], f["resource_name"], f["role"], f["region"])


def _arm(fake: FakeArm) -> list[Any]:
    """Requests to ARM (not to the token endpoint)."""
    return [e for e in fake.log if "/oauth2/" not in e.path and "/.well-known/" not in e.path]


@pytest.fixture(scope="session")
def azure_fake() -> Iterator[FakeArm]:
    fake = FakeArm(client_secret=SECRET_PREFIX + secrets.token_hex(8)).start()
    yield fake
    fake.stop()


def _point_at(fake: FakeArm, mp: pytest.MonkeyPatch) -> None:
    fake.reset()
    seed_azure(fake)
    fake.denied = {SUB_LEGACY}
    for key in AZURE_IDENTITY_VARS:
        mp.delenv(key, raising=False)
    for key, value in fake.env().items():
        mp.setenv(key, value)


@pytest.fixture
def azure_env(azure_fake: FakeArm, monkeypatch: pytest.MonkeyPatch) -> FakeArm:
    """The sample estate (legacy subscription unreadable) and azure-identity's variables pointing at it."""
    _point_at(azure_fake, monkeypatch)
    return azure_fake


def _scan(args: list[str], out: Path, fake: FakeArm) -> dict[str, Any]:
    from residency_audit.cli import main

    code = main(["scan", "azure", "--endpoint", fake.url, *args, "--format", "json", "--output", str(out), "-q"])
    report: dict[str, Any] = read_json(out)
    report["_exit"] = code
    report["_text"] = out.read_text("utf-8")
    return report


@pytest.fixture(scope="module", params=["arm", "graph"])
def estate(request: pytest.FixtureRequest, azure_fake: FakeArm, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Scan the estate once per inventory mode; share the report and the wire log."""
    mp = pytest.MonkeyPatch()
    try:
        _point_at(azure_fake, mp)
        report = _scan(["--inventory", request.param], tmp_path_factory.mktemp("az") / "r.json", azure_fake)
        report["_mode"] = request.param
        report["_wire"] = _arm(azure_fake)
        return report
    finally:
        mp.undo()


def _resource(report: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any]
    (found,) = [r for r in report["resources"] if r["name"] == name]
    return found


def _locs(r: dict[str, Any]) -> set[tuple[str | None, str]]:
    return {(loc["region"], loc["role"]) for loc in r["locations"]}


# --------------------------------------------------------------------------- the estate


def test_exact_findings(estate: dict[str, Any]) -> None:
    assert {_key(f) for f in estate["findings"]} == EXPECTED
    us = [f for f in estate["findings"] if f["rule_id"] == "RA-US-SOIL"]
    assert {f["severity"] for f in us} == {"critical"} and len(us) == 4


def test_clean_resources_are_seen_and_have_no_finding(estate: dict[str, Any]) -> None:
    names = {r["name"] for r in estate["resources"]}
    assert names >= CLEAN
    assert not CLEAN & {f["resource_name"] for f in estate["findings"]}
    assert "stlegacyus" not in names  # behind the 403


def test_unreadable_subscription_is_the_only_gap(estate: dict[str, Any]) -> None:
    gaps = estate["scan"]["gaps"]
    expected_code = "AuthorizationFailed" if estate["_mode"] == "arm" else "NotVisible"
    assert [(g["scope"], g["code"]) for g in gaps] == [(SUB_LEGACY, expected_code)]
    assert estate["scan"]["complete"] is False
    assert estate["_exit"] == 1  # findings outrank the incomplete scan's 3


def test_locations_where_data_leaves_the_primary_region(estate: dict[str, Any]) -> None:
    assert _locs(_resource(estate, "starchivesc")) == {("swedencentral", "primary")}
    media = _resource(estate, "stmediade")
    assert _locs(media) == {
        ("germanywestcentral", "primary"),
        ("germanynorth", "secondary"),
        ("francecentral", "replica"),  # object replication to stanalyticsfr
    }
    assert "paired region" in media["locations"][1]["detail"]
    assert _locs(_resource(estate, "cosmos-orders")) == {("westeurope", "primary"), ("eastus", "replica")}
    assert _locs(_resource(estate, "sql-crm/crm")) == {
        ("westeurope", "primary"),
        ("francecentral", "replica"),
        ("northeurope", "backup"),  # Geo backup storage
    }
    invoices = _resource(estate, "stinvoiceswe")
    assert _locs(invoices) == {
        ("westeurope", "primary"),
        ("northeurope", "secondary"),
        (None, "replica"),  # object replication to stlegacyus, in the unreadable subscription
        ("francecentral", "replica"),  # the blob service's logs, sent to stanalyticsfr
    }
    assert "not in this scan" in next(loc["detail"] for loc in invoices["locations"] if loc["region"] is None)
    rsv = _resource(estate, "rsv-backup-we")
    assert _locs(rsv) == {("westeurope", "primary"), ("northeurope", "backup")}
    assert "cross-region restore" in rsv["locations"][1]["detail"]
    assert _locs(_resource(estate, "bv-analytics")) == {("francecentral", "primary")}
    assert _locs(_resource(estate, "vm-app-se-nightly")) == {("swedencentral", "backup")}
    vm = _resource(estate, "vm-app-se")
    assert vm["locations"][0].get("zone") == "1"
    by_country = {loc["region"]: loc["countries"] for r in estate["resources"] for loc in r["locations"]}
    assert by_country["westeurope"] == ["NL"] and by_country["switzerlandnorth"] == ["CH"]


@pytest.mark.parametrize("mode", ["arm", "graph"])
def test_key_vault_contents_are_in_the_paired_region(azure_env: FakeArm, tmp_path: Path, mode: str) -> None:
    """Key Vault replicates its contents to the region's pair: UK South -> UK West. An EU region
    Microsoft documents as unpaired (Italy North) keeps them in the region. The vault itself
    needs no read: only its diagnostic settings are read."""
    from residency_emulator.azure import key_vault

    azure_env.denied = set()
    azure_env.resources[SUB_LEGACY].append(key_vault(SUB_LEGACY, "rg-old", "kv-lab-it", "italynorth"))
    report = _scan(["--subscription", SUB_LEGACY, "--inventory", mode], tmp_path / "r.json", azure_env)
    assert {_key(f) for f in report["findings"]} == LEGACY_EXPECTED
    vault = _resource(report, "kv-legacy-uk")
    assert [(loc["region"], loc["role"], loc["countries"]) for loc in vault["locations"]] == [
        ("uksouth", "primary", ["GB"]),
        ("ukwest", "secondary", ["GB"]),
    ]
    assert vault["locations"][1]["detail"] == "Key Vault replicates its contents: paired region of uksouth"
    assert (vault["category"], vault["judged"]) == ("data", "footprint")
    assert _locs(_resource(report, "kv-lab-it")) == {("italynorth", "primary")}
    assert report["scan"]["gaps"] == [] and report["_exit"] == 1
    vault_reads = [e.path.lower().split("?")[0] for e in _arm(azure_env) if "microsoft.keyvault" in e.path.lower()]
    assert len(vault_reads) == 2  # kv-legacy-uk and kv-lab-it
    assert all(p.endswith("/providers/microsoft.insights/diagnosticsettings") for p in vault_reads), vault_reads


def test_owner_chain_subscription_management_groups_tenant(estate: dict[str, Any]) -> None:
    owner = _resource(estate, "cosmos-orders")["owner"]
    assert (owner["kind"], owner["id"], owner["name"]) == ("subscription", SUB_PROD, "infogroen-prod")
    assert [(n["kind"], n["id"]) for n in owner["path"]] == [
        ("tenant", TENANT),
        ("management-group", "mg-infogroen"),
        ("management-group", "mg-production"),
    ]
    analytics = _resource(estate, "stanalyticsfr")["owner"]
    assert [n["id"] for n in analytics["path"]] == [TENANT, "mg-infogroen"]


def test_every_wire_call_is_an_allowed_read(estate: dict[str, Any]) -> None:
    wire = estate["_wire"]
    assert wire
    refused = [(e.method, e.path) for e in wire if operation_for(e.method, e.path.split("?")[0]) is None]
    assert refused == []
    assert {e.method for e in wire} <= {"GET", "POST"}
    assert all("resourcegraph" in e.path.lower() for e in wire if e.method == "POST")
    assert sum(estate["scan"]["api_calls"].values()) == len(wire)
    assert set(estate["scan"]["api_calls"]) <= {op.permission for op in READ_OPERATIONS}


def test_paging_is_followed(estate: dict[str, Any]) -> None:
    paths = [e.path for e in estate["_wire"]]
    assert any(p.startswith("/subscriptions?") and "$skiptoken=2" in p for p in paths)  # 3 subscriptions, pages of 2
    if estate["_mode"] == "arm":
        prod = [p for p in paths if p.startswith(f"/subscriptions/{SUB_PROD}/resources?")]
        assert len(prod) == 16  # 32 resources, pages of 2
    else:
        assert sum(1 for e in estate["_wire"] if e.method == "POST") > 2  # $skipToken pages
    prod_names = {r["name"] for r in estate["resources"] if r["owner"]["id"] == SUB_PROD}
    assert len(prod_names) == 32 + 2  # resources + resource groups


def test_secret_never_in_the_output(estate: dict[str, Any], azure_fake: FakeArm) -> None:
    assert azure_fake.client_secret.startswith(SECRET_PREFIX)
    assert SECRET_PREFIX not in estate["_text"]
    assert "fake-arm-token-" not in estate["_text"]


# --------------------------------------------------------------------------- throttling, errors


def test_throttled_then_success_is_retried_not_a_gap(
    azure_env: FakeArm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    needle = f"/subscriptions/{SUB_ANALYTICS}/resources".lower()
    azure_env.throttle = {needle: 1}
    report = _scan(["--inventory", "arm"], tmp_path / "r.json", azure_env)
    hits = [e for e in azure_env.log if e.path.lower().startswith(needle + "?") and "skiptoken" not in e.path.lower()]
    assert [e.status for e in hits] == [429, 200]  # the first page
    assert hits[1].at - hits[0].at >= 0.9  # Retry-After: 1 honoured
    assert [g["scope"] for g in report["scan"]["gaps"]] == [SUB_LEGACY]
    assert "stanalyticsfr" in {r["name"] for r in report["resources"]}


def test_throttling_is_bounded(azure_env: FakeArm) -> None:
    """A server that keeps saying 429 / Retry-After: 3600 costs a bounded number of short waits, then a gap."""
    from residency_audit.core import run_scan
    from residency_audit.engine import load_rules
    from residency_audit.geography import default_catalog
    from residency_audit.model import ScanRequest
    from residency_audit.providers.azure.client import MAX_RETRIES
    from residency_audit.providers.azure.scan import AzureAdapter

    needle = f"/subscriptions/{SUB_ANALYTICS}/resources".lower()
    azure_env.throttle = {needle: 100}
    azure_env.retry_after = "3600"
    adapter = AzureAdapter.from_environment(endpoint=azure_env.url, inventory="arm")
    adapter.max_retry_after = 0.05
    results: list[Any] = []
    worker = threading.Thread(
        target=lambda: results.append(run_scan(adapter, ScanRequest("azure"), load_rules(None), default_catalog())),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=30)
    assert results, "the scan waited as long as the server asked: Retry-After is not capped"
    result = results[0]
    hits = [e for e in azure_env.log if e.path.lower().startswith(needle + "?")]
    assert len(hits) == 1 + MAX_RETRIES
    assert {(g.scope, g.code) for g in result.scan.gaps} == {
        (SUB_LEGACY, "AuthorizationFailed"),
        (SUB_ANALYTICS, "TooManyRequests"),
    }
    assert "starchivesc" in {r.name for r in result.resources}  # the other subscription still landed


def test_unreadable_detail_is_a_gap_and_never_triggers_provider_registration(
    azure_env: FakeArm, tmp_path: Path
) -> None:
    """409 MissingSubscriptionRegistration: azure-mgmt-core would POST .../register; it is not in our pipeline."""
    azure_env.errors = {"/microsoft.documentdb/databaseaccounts/": (409, "MissingSubscriptionRegistration")}
    report = _scan(["--inventory", "arm"], tmp_path / "r.json", azure_env)
    gaps = {(g["scope"], g["service"], g["code"]) for g in report["scan"]["gaps"]}
    assert gaps == {
        (SUB_LEGACY, "Microsoft.Resources", "AuthorizationFailed"),
        (SUB_PROD, COSMOS, "MissingSubscriptionRegistration"),
        # the account's diagnostic settings sit below its id: the fake's error answers them too
        (SUB_PROD, "Microsoft.Insights/diagnosticSettings", "MissingSubscriptionRegistration"),
    }
    assert {e.method for e in azure_env.log if "/oauth2/" not in e.path} == {"GET", "POST"}
    assert not [e for e in azure_env.log if "register" in e.path.lower()]
    # Without its detail the account still counts, with the location the listing gave.
    assert _locs(_resource(report, "cosmos-orders")) == {("westeurope", "primary")}


def test_a_write_is_refused_before_it_leaves_the_process(azure_env: FakeArm) -> None:
    from residency_audit.core import Collector
    from residency_audit.model import Scan, ScanRequest
    from residency_audit.providers.azure.scan import AzureAdapter
    from residency_audit.providers.base import ReadOnlyViolation

    adapter = AzureAdapter.from_environment(endpoint=azure_env.url)
    rm = adapter.client(Collector(Scan(ScanRequest("azure"))), "resources", SUB_PROD)
    with pytest.raises(ReadOnlyViolation):
        rm.resource_groups.create_or_update("rg-new", {"location": "westeurope"})
    with pytest.raises(ReadOnlyViolation):
        rm.resources.begin_delete_by_id(f"/subscriptions/{SUB_PROD}/resourceGroups/rg-data", api_version="2021-04-01")
    assert [
        e for e in azure_env.log if e.method not in ("GET", "POST") or "resourcegroups/rg-new" in e.path.lower()
    ] == []


def test_a_next_link_to_another_host_is_not_followed(azure_env: FakeArm, tmp_path: Path) -> None:
    """The bearer token only ever goes to the ARM endpoint; a foreign nextLink is a gap, not a leak."""
    azure_env.next_link_base = azure_env.url.replace("127.0.0.1", "localhost")
    report = _scan(["--subscription", SUB_PROD, "--inventory", "arm"], tmp_path / "r.json", azure_env)
    assert {(g["scope"], g["code"]) for g in report["scan"]["gaps"]} == {("", "RefusedHost"), (SUB_PROD, "RefusedHost")}
    assert [e.path for e in azure_env.log if "$skiptoken" in e.path] == []
    # What came before the refused page is kept (both resource groups, the first page of resources).
    assert {r["name"] for r in report["resources"]} == {"rg-data", "rg-apps", "stinvoiceswe", "starchivesc"}


def test_wrong_secret_is_exit_2_on_one_line_without_the_secret(
    azure_env: FakeArm, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = SECRET_PREFIX + "wrong-" + secrets.token_hex(4)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", wrong)
    code, out, err = run_cli(["scan", "azure", "--endpoint", azure_env.url, "-q"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "Azure credentials" in err and "AADSTS7000215" in err
    assert SECRET_PREFIX not in err + out and "Traceback" not in err


def test_credential_error_is_one_line_on_a_real_terminal(azure_env: FakeArm, tmp_path: Path) -> None:
    """In a real process (no pytest log capture) azure-identity's multi-line warnings must not reach stderr."""
    env = {**os.environ, "AZURE_CLIENT_SECRET": SECRET_PREFIX + "wrong"}
    proc = subprocess.run(
        [sys.executable, "-m", "residency_audit", "scan", "azure", "--endpoint", azure_env.url, "-q"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("residency-audit: error: no usable Azure")
    assert SECRET_PREFIX not in proc.stderr + proc.stdout


def test_throttled_resource_graph_is_retried(azure_env: FakeArm, tmp_path: Path) -> None:
    azure_env.throttle = {"/providers/microsoft.resourcegraph/resources": 1}
    azure_env.retry_after = "0.2"
    report = _scan(["--inventory", "graph"], tmp_path / "r.json", azure_env)
    assert [e.status for e in azure_env.log if "resourcegraph" in e.path.lower()][:2] == [429, 200]
    assert [g["scope"] for g in report["scan"]["gaps"]] == [SUB_LEGACY]
    assert {_key(f) for f in report["findings"]} == EXPECTED


def test_plain_http_endpoint_is_refused(azure_env: FakeArm, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["scan", "azure", "--endpoint", azure_env.url.replace("https", "http"), "-q"], capsys)
    assert code == 2 and "https://" in err and err.count("\n") == 1


# --------------------------------------------------------------------------- scope, clouds, locations


def test_subscription_option_limits_the_scan(azure_env: FakeArm, tmp_path: Path) -> None:
    report = _scan(["--subscription", SUB_ANALYTICS], tmp_path / "r.json", azure_env)
    assert {r["owner"]["id"] for r in report["resources"]} == {SUB_ANALYTICS}
    assert report["scan"]["gaps"] == [] and report["_exit"] == 0
    assert not [e for e in _arm(azure_env) if SUB_PROD in e.path and "/resources" in e.path]


def test_unknown_subscription_is_a_gap(azure_env: FakeArm, tmp_path: Path) -> None:
    missing = "9f9f9f9f-0000-4000-8000-000000000009"
    report = _scan(["--subscription", f"{SUB_ANALYTICS},{missing}"], tmp_path / "r.json", azure_env)
    assert [(g["scope"], g["code"]) for g in report["scan"]["gaps"]] == [(missing, "SubscriptionNotFound")]
    assert report["_exit"] == 3


def test_bad_subscription_id_is_exit_2(azure_env: FakeArm, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["scan", "azure", "--subscription", "prod", "-q"], capsys)
    assert code == 2 and "GUID" in err


def test_management_group_scope(azure_env: FakeArm, tmp_path: Path) -> None:
    report = _scan(["--management-group", "mg-production", "--inventory", "arm"], tmp_path / "r.json", azure_env)
    assert {r["owner"]["id"] for r in report["resources"]} == {SUB_PROD}
    # stmediade replicates its blobs to stanalyticsfr, in a subscription outside this scope: unknown
    assert {_key(f) for f in report["findings"]} == EXPECTED | {
        ("RA-EU-UNKNOWN", STORAGE, "stmediade", "replica", None)
    }
    assert report["scan"]["gaps"] == []


def test_sovereign_cloud_picks_its_token_audience(azure_env: FakeArm, tmp_path: Path) -> None:
    report = _scan(["--cloud", "china", "--subscription", SUB_ANALYTICS], tmp_path / "r.json", azure_env)
    assert report["scan"]["gaps"] == []
    assert set(azure_env.token_scopes) == {"https://management.chinacloudapi.cn/.default"}


@pytest.fixture
def fresh_catalog() -> Iterator[None]:
    """The scan teaches the process-wide catalog; give later tests the bundled one back."""
    from residency_audit.geography import default_catalog

    default_catalog.cache_clear()
    yield
    default_catalog.cache_clear()


def test_locations_the_catalog_lacks_are_placed_from_list_locations_metadata(
    azure_env: FakeArm, tmp_path: Path, fresh_catalog: None
) -> None:
    from residency_emulator.azure import arm_location, arm_resource

    lab_eu, lab_x = "nllab", "atlantislab"
    azure_env.locations += [
        arm_location(lab_eu, "NL Lab", "Amsterdam", "Europe", "westeurope"),
        arm_location(lab_x, "Atlantis Lab", "Atlantis", "Europe", ""),
    ]
    a = SUB_ANALYTICS
    azure_env.resources[a] += [
        arm_resource(a, "rg-analytics", "Microsoft.Compute/virtualMachines", "vm-lab-nl", lab_eu),
        arm_resource(a, "rg-analytics", "Microsoft.Compute/virtualMachines", "vm-lab-x", lab_x),
    ]
    report = _scan(["--subscription", a], tmp_path / "r.json", azure_env)
    assert {_key(f) for f in report["findings"]} == {("RA-EU-UNKNOWN", VM, "vm-lab-x", "primary", lab_x)}
    assert _resource(report, "vm-lab-nl")["locations"][0]["countries"] == ["NL"]
    notes = " ".join(report["scan"]["notes"])
    assert f"'{lab_eu}' is not in the residency-audit catalog; placed in NL" in notes
    assert f"'{lab_x}'" in notes and "fail closed" in notes
    # what one scan learnt stays in that scan: the process-wide catalog still does not know it
    from residency_audit.geography import default_catalog

    assert not default_catalog().knows("azure", lab_eu)
    assert report["scan"]["request"]["options"]["inventory"] == "auto"  # what was asked, not a path taken


# --------------------------------------------------------------------------- CLI and demo


def test_help_does_not_import_the_azure_sdk() -> None:
    code = (
        "import sys\n"
        "from residency_audit.cli import main\n"
        "try:\n    main(['scan', 'azure', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('azure')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ)
    assert "--management-group" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_demo_includes_the_azure_part(
    azure_fake: FakeArm, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from residency_audit.providers import names

    assert "azure" in names()
    for key in (
        *AZURE_IDENTITY_VARS,
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "REQUESTS_CA_BUNDLE",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    code, _, _ = run_cli(["demo", "-q", "--providers", "azure"], capsys)
    assert code == 0
    (report_file,) = (tmp_path / "reports").glob("demo-*.json")
    report = read_json(report_file)
    assert {_key(f) for f in report["findings"]} == DEMO_EXPECTED
    assert report["scan"]["complete"] is True
    assert "AZURE_CLIENT_SECRET" not in os.environ  # the demo restored the environment
    assert json.dumps(report).count("fake-arm-secret-") == 0


def test_read_operations_name_their_rbac_action() -> None:
    """`permissions azure` takes each read's `permission` as an RBAC action of the custom role."""
    import re

    assert READ_OPERATIONS
    for op in READ_OPERATIONS:
        assert re.fullmatch(r"Microsoft\.[A-Za-z0-9.]+(/[A-Za-z0-9.{}-]+)+", op.permission), op
        assert op.http in ("GET", "POST") and (op.http == "GET" or "resourcegraph" in op.path)
        assert op.permission.endswith("/read")
