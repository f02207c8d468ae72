"""Azure kinds are declared once (`providers/azure/kinds.py`): what the scan, the gate, the
classification tables, the demo estate and `permissions azure` hold must agree with them."""

from __future__ import annotations

import re

import pytest

import residency_emulator.azure as estate
from residency_audit.kinds import classify
from residency_audit.providers import api
from residency_audit.providers.azure import readers
from residency_audit.providers.azure.client import operation_for
from residency_audit.providers.azure.kinds import (
    GENERIC,
    GUARDRAIL_READS,
    KINDS,
    LIST_RESOURCE_GROUPS,
    ArmKind,
    kind,
    read_operations,
)
from residency_audit.providers.azure.terraform import TYPES

NAMES = [k.name for k in KINDS]


def test_names_are_unique_lower_case_arm_types() -> None:
    assert len(set(NAMES)) == len(NAMES)
    assert all(re.fullmatch(r"microsoft\.[a-z]+(/[a-z]+)+", n) for n in NAMES), NAMES
    assert kind("microsoft.compute/virtualmachines") is GENERIC and kind(NAMES[0]) is KINDS[0]


@pytest.mark.parametrize("k", KINDS, ids=NAMES)
def test_terraform_types_are_exactly_those_the_gate_maps_to_the_kind(k: ArmKind) -> None:
    assert set(k.terraform) == {t for t, (name, _) in TYPES.items() if name == k.name}


@pytest.mark.parametrize("k", KINDS, ids=NAMES)
def test_category_is_the_classification_tables(k: ArmKind) -> None:
    """The scan sets the kind's category; the rules would otherwise take the table's: they must agree."""
    assert k.category == classify("azure", k.name).category


@pytest.mark.parametrize("k", [*KINDS, GENERIC], ids=[*NAMES, "generic"])
def test_reader_and_seed_exist(k: ArmKind) -> None:
    assert callable(readers.reader(k.reader))
    if k is not GENERIC:
        assert callable(getattr(estate, k.seed, None)), f"no {k.seed}() in residency_emulator.azure"


def test_the_demo_estate_holds_every_declared_kind() -> None:
    fake = estate.FakeArm()
    estate.seed_azure(fake)
    planted = {str(r["type"]).lower() for rs in (*fake.resources.values(), *fake.resource_groups.values()) for r in rs}
    assert set(NAMES) - planted == set()


def _sample_id(k: ArmKind) -> str:
    """An id of a resource of the kind: `.../providers/microsoft.sql/servers/n1/databases/n2`."""
    namespace, *types = k.name.split("/")
    return (
        "/subscriptions/s/resourcegroups/g/providers/" + namespace + "".join(f"/{t}/n{i}" for i, t in enumerate(types))
    )


@pytest.mark.parametrize("k", KINDS, ids=NAMES)
def test_a_detail_read_is_declared_with_its_kind(k: ArmKind) -> None:
    """Each read beyond the listing is the kind's own GET (with its api-version) or one of its
    children's, every child's read is declared, and every `when` names a predicate of the readers."""
    own = [op for op in k.reads if op not in {*GENERIC.reads, LIST_RESOURCE_GROUPS}]  # beyond the listings
    get = operation_for("GET", _sample_id(k))
    assert (get in own) == bool(k.api_version), k.name
    assert set(own) == {c.read for c in k.children} | ({get} if k.api_version else set()), k.name
    for name in (k.get_when, *(c.when for c in k.children)):
        assert callable(readers.predicate(name)), name
    for child in k.children:
        raw = {"id": _sample_id(k), "location": "westeurope"}
        path = child.path.format(id=raw["id"], group="/subscriptions/s/resourcegroups/g", location="westeurope")
        assert operation_for("GET", path.lower()) == child.read, (k.name, child.key)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}(-preview)?", child.api_version), child
    assert not k.get_when or k.api_version, k.name


def test_every_declared_read_is_what_the_guard_lets_through() -> None:
    """One sample request per declared read is matched to exactly that read; a write never is."""
    samples = {
        "/subscriptions": "GET",
        "/subscriptions/s/locations": "GET",
        "/subscriptions/s/resources": "GET",
        "/subscriptions/s/resourcegroups": "GET",
        "/providers/microsoft.resourcegraph/resources": "POST",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.storage/storageaccounts/a": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.documentdb/databaseaccounts/a": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.compute/snapshots/n": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.sql/servers/v/databases/d/replicationlinks": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.recoveryservices/vaults/v": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.dataprotection/backupvaults/v": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.storage/storageaccounts/a/objectreplicationpolicies": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.keyvault/vaults/v/providers/microsoft.insights/"
        "diagnosticsettings": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.sql/servers/v/failovergroups": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.sql/servers/v/databases/d": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.sql/managedinstances/m": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.sql/locations/westeurope/instancefailovergroups": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.dbforpostgresql/flexibleservers/p": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.dbforpostgresql/flexibleservers/p/replicas": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.dbformysql/flexibleservers/m": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.dbformysql/flexibleservers/m/replicas": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.containerregistry/registries/r/replications": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.cache/redis/r/linkedservers": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.eventhub/namespaces/n/disasterrecoveryconfigs": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.servicebus/namespaces/n/disasterrecoveryconfigs": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.web/sites/w/backups": "GET",
        "/subscriptions/s/resourcegroups/g/providers/microsoft.operationalinsights/workspaces/w": "GET",
        "/subscriptions/s/providers/microsoft.authorization/policyassignments": "GET",
        "/subscriptions/s/providers/microsoft.authorization/policyexemptions": "GET",
        "/providers/microsoft.authorization/policydefinitions/d": "GET",
        "/providers/microsoft.authorization/policysetdefinitions/d": "GET",
    }
    matched = {operation_for(method, path) for path, method in samples.items()}
    assert matched == set(read_operations())
    assert set(GUARDRAIL_READS) <= matched
    assert operation_for("PUT", "/subscriptions/s/resourcegroups/g") is None
    assert operation_for("POST", "/subscriptions/s/resourcegroups/g/providers/microsoft.storage/register") is None
    assert (
        operation_for("DELETE", "/subscriptions/s/resourcegroups/g/providers/microsoft.storage/storageaccounts/a")
        is None
    )
    # the config/backup/list POST returns the backup container's SAS URL: never sent
    assert (
        operation_for("POST", "/subscriptions/s/resourcegroups/g/providers/microsoft.web/sites/w/config/backup/list")
        is None
    )
    assert (
        operation_for("GET", "/subscriptions/s/resourcegroups/g/providers/microsoft.web/sites/w/config/backup") is None
    )


def test_the_provider_api_answers_from_the_declarations() -> None:
    azure = api("azure")
    assert azure.kinds() == (*KINDS, GENERIC)
    assert azure.read_operations() == read_operations()
