"""The GCP org-policy and Azure Policy evaluators over exported API JSON, and `guardrails gcp|azure`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from residency_audit.engine import evaluate, load_rules
from residency_audit.geography import Catalog, default_catalog
from residency_audit.guardrails import InputError
from residency_audit.model import Place
from residency_audit.providers.azure import policy as azure_policy
from residency_audit.providers.gcp import orgpolicy as gcp_orgpolicy

from .conftest import read_json, run_cli

# Facts the GCP/Azure catalogs hold once their adapters land (add() never overrides a
# place the catalog already knows, so after that merge these tests run on the real data).
PLACES = {
    "gcp": {
        "europe-west1": ["BE"],
        "europe-west3": ["DE"],
        "europe-west4": ["NL"],
        "europe-north1": ["FI"],
        "europe-north2": ["SE"],
        "europe-central2": ["PL"],
        "europe-southwest1": ["ES"],
        "europe-west8": ["IT"],
        "europe-west9": ["FR"],
        "europe-west10": ["DE"],
        "europe-west12": ["IT"],
        "europe-west2": ["GB"],
        "europe-west6": ["CH"],
        "us-east1": ["US"],
        "eu": ["BE", "DE", "FI", "NL"],
        "eur4": ["FI", "NL"],
        "eur5": ["BE", "GB"],
    },
    "azure": {
        "westeurope": ["NL"],
        "northeurope": ["IE"],
        "germanywestcentral": ["DE"],
        "swedencentral": ["SE"],
        "uksouth": ["GB"],
        "switzerlandnorth": ["CH"],
        "eastus": ["US"],
    },
}


def teach(catalog: Catalog) -> Catalog:
    eu = {"BE", "DE", "NL", "FI", "SE", "PL", "ES", "IT", "FR", "IE"}
    for provider, places in PLACES.items():
        for code, countries in places.items():
            catalog.add(Place(provider, code, code, "region", tuple(countries), set(countries) <= eu, True))
    return catalog


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return teach(default_catalog())


# --------------------------------------------------------------------------- GCP


def _policy(parent: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"name": f"{parent}/policies/gcp.resourceLocations", "spec": spec}


def _allow(*values: str, inherit: bool = False, denied: tuple[str, ...] = ()) -> dict[str, Any]:
    v: dict[str, Any] = {"allowedValues": list(values)}
    if denied:
        v["deniedValues"] = list(denied)
    return {"rules": [{"values": v}], "inheritFromParent": inherit}


GCP_EXPORT: dict[str, Any] = {
    "organizations": [
        {"name": "organizations/100", "displayName": "example.com"},
        {"name": "organizations/200", "displayName": "acquired.example"},
    ],
    "folders": [
        {"name": "folders/1", "parent": "organizations/100", "displayName": "eu-only"},
        {"name": "folders/2", "parent": "organizations/100", "displayName": "europe"},
        {"name": "folders/3", "parent": "organizations/100", "displayName": "override"},
        {"name": "folders/4", "parent": "organizations/100", "displayName": "merge-london"},
        {"name": "folders/5", "parent": "folders/2", "displayName": "europe-minus-non-eu"},
    ],
    "projects": [
        {"name": "projects/11", "projectId": "inherits-eu", "parent": "folders/1"},
        {"name": "projects/21", "projectId": "europe-app", "parent": "folders/2"},
        {"name": "projects/31", "projectId": "override-app", "parent": "folders/3"},
        {"name": "projects/41", "projectId": "london-app", "parent": "folders/4"},
        {"name": "projects/51", "projectId": "fixed-app", "parent": "folders/5"},
        {"name": "projects/12", "projectId": "reset-app", "parent": "folders/1"},
        {"name": "projects/13", "projectId": "v1-app", "parent": "folders/1"},
        {"name": "projects/201", "projectId": "acquired-app", "parent": "organizations/200"},
    ],
    "policies": [
        _policy("organizations/100", _allow("in:eu-locations")),
        _policy("folders/2", _allow("in:europe-locations")),
        _policy("folders/3", _allow("in:europe-west4-locations", "us-east1")),
        _policy("folders/4", _allow("europe-west2", inherit=True)),
        _policy("folders/5", _allow(inherit=True, denied=("europe-west2", "europe-west6", "eur5", "europe-west15"))),
        _policy("projects/reset-app", {"reset": True}),
        {
            "resource": "projects/13",
            "policy": {
                "constraint": "constraints/gcp.resourceLocations",
                "listPolicy": {"allowedValues": ["in:europe-west3-locations"]},
            },
        },
        _policy("organizations/100", _allow("in:eu-locations"))
        | {"name": "organizations/100/policies/compute.vmExternalIpAccess"},
    ],
}


@pytest.mark.parametrize(
    ("project", "mode", "admitted"),
    [
        ("inherits-eu", "list", gcp_orgpolicy.expand("in:eu-locations")),
        (
            "europe-app",
            "list",
            gcp_orgpolicy.expand("in:eu-locations") | {"eur5", "europe-west2", "europe-west6", "europe-west15"},
        ),
        ("override-app", "list", {"europe-west4", "us-east1"}),
        ("london-app", "list", gcp_orgpolicy.expand("in:eu-locations") | {"europe-west2"}),
        ("fixed-app", "list", gcp_orgpolicy.expand("in:eu-locations")),
        ("reset-app", "all", set()),
        ("v1-app", "list", {"europe-west3"}),
        ("acquired-app", "all", set()),
    ],
)
def test_gcp_effective_policy_per_project(project: str, mode: str, admitted: set[str]) -> None:
    assert gcp_orgpolicy.allowed_locations(GCP_EXPORT, project) == (mode, admitted)


def test_gcp_value_groups_eu_versus_europe(catalog: Catalog) -> None:
    eu = gcp_orgpolicy.expand("in:eu-locations")
    europe = gcp_orgpolicy.expand("europe-locations")  # the API adds the in: prefix
    assert {"europe-west2", "europe-west6"} <= europe and not {"europe-west2", "europe-west6"} & eu
    assert all(catalog.resolve("gcp", loc).in_eu for loc in eu)
    assert gcp_orgpolicy.expand("in:europe-west4-locations") == {"europe-west4"}
    assert gcp_orgpolicy.expand("in:no-such-group") == {"in:no-such-group"}  # unknown stays unknown


def test_gcp_findings(catalog: Catalog) -> None:
    resources = gcp_orgpolicy.resources_from_export(GCP_EXPORT, catalog)
    findings = evaluate(resources, load_rules(), catalog)
    got = {(f.rule_id, f.resource.owner.id, f.region, f.resource.attributes["fix_scope"]) for f in findings}
    europe = "'in:europe-locations' set at folder 'europe' (folders/2)"
    assert got == {
        ("RA-GR-REGION", "projects/21", "europe-west2", "folder 'europe' (folders/2)"),
        ("RA-GR-REGION", "projects/21", "europe-west6", "folder 'europe' (folders/2)"),
        ("RA-GR-REGION", "projects/21", "eur5", "folder 'europe' (folders/2)"),
        ("RA-GR-REGION-UNKNOWN", "projects/21", "europe-west15", "folder 'europe' (folders/2)"),
        ("RA-GR-REGION", "projects/31", "us-east1", "folder 'override' (folders/3)"),
        ("RA-GR-REGION", "projects/41", "europe-west2", "folder 'merge-london' (folders/4)"),
        ("RA-GR-UNCOVERED", "projects/12", "*", "project 'reset-app' (projects/12)"),
        ("RA-GR-UNCOVERED", "projects/201", "*", "organization 'acquired.example' (organizations/200)"),
        ("RA-GR-LIMIT", "organizations/100", "*", "organization 'example.com' (organizations/100)"),
        ("RA-GR-LIMIT", "organizations/200", "*", "organization 'acquired.example' (organizations/200)"),
    }
    london = next(f for f in findings if f.region == "europe-west2" and f.resource.owner.id == "projects/21")
    assert europe in london.message
    assert {f.severity for f in findings if f.rule_id == "RA-GR-LIMIT"} == {"info"}


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ({"projects": "nope"}, "'projects' must be a list"),
        ({"projects": [{"projectId": "x"}]}, "needs a 'name'"),
        (
            {"projects": [{"name": "projects/1"}], "policies": [{"name": "projects/1/gcp.resourceLocations"}]},
            "policies/",
        ),
        ({"organizations": [{"name": "organizations/1"}]}, "no projects"),
    ],
)
def test_gcp_bad_exports(doc: dict[str, Any], problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        gcp_orgpolicy.resources_from_export(doc)


# --------------------------------------------------------------------------- Azure

MG = "/providers/Microsoft.Management/managementGroups"
ALLOWED = "/providers/Microsoft.Authorization/policyDefinitions/e56962a6-4747-49cd-b67b-bf8b01975c4c"
CUSTOM = (
    "/providers/Microsoft.Management/managementGroups/root/providers/Microsoft.Authorization/policyDefinitions/eu-only"
)
SET = "/providers/Microsoft.Management/managementGroups/root/providers/Microsoft.Authorization/policySetDefinitions/baseline"
RG_ALLOWED = "/providers/Microsoft.Authorization/policyDefinitions/e765b5de-1225-4ba3-bd56-1ac6695af988"
LITERAL = "/subscriptions/s6/providers/Microsoft.Authorization/policyDefinitions/literal-list"


def _assignment(
    scope: str, name: str, definition: str, locations: list[str] | None = None, **props: Any
) -> dict[str, Any]:
    p: dict[str, Any] = {"displayName": name, "scope": scope, "policyDefinitionId": definition, **props}
    if locations is not None:
        p["parameters"] = {"listOfAllowedLocations": {"value": locations}}
    return {"id": f"{scope}/providers/Microsoft.Authorization/policyAssignments/{name}", "name": name, "properties": p}


def _sub(sid: str, name: str, parent: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sid}",
        "type": "/subscriptions",
        "name": sid,
        "properties": {"displayName": name, "parent": {"id": f"{MG}/{parent}"}},
    }


def _mg(mid: str, parent: str) -> dict[str, Any]:
    return {
        "id": f"{MG}/{mid}",
        "type": "Microsoft.Management/managementGroups",
        "name": mid,
        "properties": {"displayName": mid, "parent": {"id": f"{MG}/{parent}"}},
    }


AZ_EXPORT: dict[str, Any] = {
    "managementGroupDescendants": {
        "value": [
            _mg("eu-corp", "root"),
            _mg("labs", "root"),
            _sub("s1", "prod", "eu-corp"),
            _sub("s2", "dev", "eu-corp"),
            _sub("s3", "lab", "labs"),
            _sub("s4", "audit-only", "root"),
            _sub("s5", "do-not-enforce", "root"),
            _sub("s6", "literal", "root"),
            _sub("s7", "rg-only", "root"),
            _sub("s8", "initiative", "root"),
        ]
    },
    "policyAssignments": {
        "value": [
            _assignment(
                f"{MG}/eu-corp",
                "eu-corp-locations",
                ALLOWED,
                ["westeurope", "northeurope", "UK South"],
                notScopes=["/subscriptions/s1/resourceGroups/legacy"],
            ),
            _assignment(
                "/subscriptions/s2", "dev-locations", ALLOWED, ["westeurope", "northeurope", "germanywestcentral"]
            ),
            _assignment(
                "/subscriptions/s4",
                "audit-locations",
                CUSTOM,
                ["westeurope"],
            ),
            _assignment("/subscriptions/s5", "dne-locations", ALLOWED, ["westeurope"], enforcementMode="DoNotEnforce"),
            _assignment("/subscriptions/s6", "literal-locations", LITERAL),
            _assignment("/subscriptions/s7", "rg-locations", RG_ALLOWED, ["westeurope"]),
            {
                "id": "/subscriptions/s8/providers/Microsoft.Authorization/policyAssignments/baseline",
                "properties": {
                    "displayName": "baseline",
                    "scope": "/subscriptions/s8",
                    "policyDefinitionId": SET,
                    "parameters": {"regions": {"value": ["westeurope", "East US"]}},
                },
            },
        ]
    },
    "policySetDefinitions": {
        "value": [
            {
                "id": SET,
                "properties": {
                    "parameters": {"regions": {"type": "Array"}},
                    "policyDefinitions": [
                        {
                            "policyDefinitionId": ALLOWED,
                            "policyDefinitionReferenceId": "loc",
                            "parameters": {"listOfAllowedLocations": {"value": "[parameters('regions')]"}},
                        }
                    ],
                },
            }
        ]
    },
    "policyDefinitions": [
        {
            "id": CUSTOM,
            "properties": {
                "policyType": "Custom",
                "mode": "Indexed",
                "parameters": {
                    "listOfAllowedLocations": {"type": "Array"},
                    "effect": {"type": "String", "defaultValue": "audit"},
                },
                "policyRule": {
                    "if": {
                        "allOf": [
                            {"field": "location", "notIn": "[parameters('listOfAllowedLocations')]"},
                            {"field": "location", "notEquals": "global"},
                        ]
                    },
                    "then": {"effect": "[parameters('effect')]"},
                },
            },
        },
        {
            "id": LITERAL,
            "properties": {
                "policyType": "Custom",
                "mode": "All",
                "policyRule": {
                    "if": {"not": {"field": "location", "in": ["westeurope", "switzerlandnorth"]}},
                    "then": {"effect": "Deny"},
                },
            },
        },
    ],
    "policyExemptions": [
        {
            "id": "/subscriptions/s2/resourceGroups/sandbox/providers/Microsoft.Authorization/policyExemptions/sbx",
            "properties": {
                "policyAssignmentId": "/subscriptions/s2/providers/Microsoft.Authorization/policyAssignments/dev-locations",
                "exemptionCategory": "Waiver",
                "displayName": "sandbox waiver",
            },
        },
        {
            "id": "/subscriptions/s1/providers/Microsoft.Authorization/policyExemptions/old",
            "properties": {
                "policyAssignmentId": f"{MG}/eu-corp/providers/Microsoft.Authorization/policyAssignments/eu-corp-locations",
                "exemptionCategory": "Waiver",
                "expiresOn": "2020-01-01T00:00:00Z",
            },
        },
    ],
}


def test_azure_allowed_locations_per_subscription() -> None:
    t = azure_policy.tree(AZ_EXPORT)
    ctrls = azure_policy.controls(AZ_EXPORT)
    exs = azure_policy.exemptions(AZ_EXPORT, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    got = {s: azure_policy.evaluate_scope(t.chain(s), ctrls, exs).allowed for s in t.subscriptions}
    assert got == {
        "/subscriptions/s1": frozenset({"westeurope", "northeurope", "uksouth"}),
        "/subscriptions/s2": frozenset({"westeurope", "northeurope"}),  # intersection of both assignments
        "/subscriptions/s3": None,
        "/subscriptions/s4": None,  # audit effect: prevents nothing
        "/subscriptions/s5": None,  # DoNotEnforce
        "/subscriptions/s6": frozenset({"westeurope", "switzerlandnorth"}),
        "/subscriptions/s7": None,  # resource-group metadata only
        "/subscriptions/s8": frozenset({"westeurope", "eastus"}),  # through an initiative
    }
    assert t.chain("/subscriptions/s1") == [f"{MG}/root".lower(), f"{MG}/eu-corp".lower(), "/subscriptions/s1"]


def test_azure_findings(catalog: Catalog) -> None:
    resources = azure_policy.resources_from_export(AZ_EXPORT, catalog, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    findings = evaluate(resources, load_rules(), catalog)
    got = {(f.rule_id, f.resource.id.removeprefix("guardrail:azure:policy:"), f.region) for f in findings}
    assert got == {
        ("RA-GR-REGION", "/subscriptions/s1", "uksouth"),
        ("RA-GR-LIMIT", "/subscriptions/s1:limits", "*"),
        ("RA-GR-EXEMPTION", "/subscriptions/s1/resourcegroups/legacy", "*"),
        ("RA-GR-LIMIT", "/subscriptions/s2:limits", "*"),
        ("RA-GR-EXEMPTION", "/subscriptions/s2/resourcegroups/sandbox", "uksouth"),
        ("RA-GR-UNCOVERED", "/subscriptions/s3", "*"),
        ("RA-GR-NOT-ENFORCED", "/subscriptions/s4", "*"),
        ("RA-GR-NOT-ENFORCED", "/subscriptions/s5", "*"),
        ("RA-GR-REGION", "/subscriptions/s6", "switzerlandnorth"),
        ("RA-GR-LIMIT", "/subscriptions/s6:limits", "*"),
        ("RA-GR-UNCOVERED", "/subscriptions/s7", "*"),
        ("RA-GR-REGION", "/subscriptions/s8", "eastus"),
        ("RA-GR-LIMIT", "/subscriptions/s8:limits", "*"),
    }
    msg = {
        (f.rule_id, f.resource.id.removeprefix("guardrail:azure:policy:").removesuffix(":limits")): f.message
        for f in findings
    }
    assert "Fix at management group 'labs'" in msg[("RA-GR-UNCOVERED", "/subscriptions/s3")]
    assert "effect is 'audit', not deny" in msg[("RA-GR-NOT-ENFORCED", "/subscriptions/s4")]
    assert "enforcementMode is DoNotEnforce" in msg[("RA-GR-NOT-ENFORCED", "/subscriptions/s5")]
    assert (
        "exemption 'sandbox waiver' (Waiver, no expiry)"
        in msg[("RA-GR-EXEMPTION", "/subscriptions/s2/resourcegroups/sandbox")]
    )
    assert (
        "notScopes of assignment 'eu-corp-locations'"
        in msg[("RA-GR-EXEMPTION", "/subscriptions/s1/resourcegroups/legacy")]
    )
    assert "Fix at assignment 'eu-corp-locations'" in msg[("RA-GR-REGION", "/subscriptions/s1")]
    assert "only 'Allowed locations for resource groups' is assigned" in msg[("RA-GR-UNCOVERED", "/subscriptions/s7")]
    assert "geo-redundant secondaries" in msg[("RA-GR-LIMIT", "/subscriptions/s1")]


def test_azure_expired_exemption_counts_before_expiry(catalog: Catalog) -> None:
    before = azure_policy.resources_from_export(AZ_EXPORT, catalog, dt.datetime(2019, 6, 1, tzinfo=dt.UTC))
    s1 = next(r for r in before if r.id == "guardrail:azure:policy:/subscriptions/s1")
    assert s1.attributes["gap"] == "exemption"


# --------------------------------------------------------------------------- CLI


@pytest.mark.parametrize(
    ("provider", "export", "rules"),
    [
        ("gcp", GCP_EXPORT, {"RA-GR-REGION", "RA-GR-REGION-UNKNOWN", "RA-GR-UNCOVERED", "RA-GR-LIMIT"}),
        (
            "azure",
            AZ_EXPORT,
            {"RA-GR-REGION", "RA-GR-EXEMPTION", "RA-GR-UNCOVERED", "RA-GR-NOT-ENFORCED", "RA-GR-LIMIT"},
        ),
    ],
)
def test_cli_from_file(
    provider: str,
    export: dict[str, Any],
    rules: set[str],
    catalog: Catalog,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    src = tmp_path / "export.json"
    src.write_text(json.dumps(export))
    out = tmp_path / "r.json"
    code, _, _ = run_cli(["guardrails", provider, "--from-file", str(src), "-f", "json", "-o", str(out), "-q"], capsys)
    report = read_json(out)
    assert code == 1
    assert {f["rule_id"] for f in report["findings"]} == rules
    assert report["scan"]["request"]["provider"] == provider and report["scan"]["complete"] is True


@pytest.mark.parametrize("provider", ["gcp", "azure"])
def test_cli_bad_file_is_exit_2(provider: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "export.json"
    src.write_text(json.dumps({"projects": 3, "managementGroupDescendants": 3}))
    code, _, err = run_cli(["guardrails", provider, "--from-file", str(src), "-q"], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    code, _, err = run_cli(["guardrails", provider, "--from-file", str(tmp_path / "missing.json"), "-q"], capsys)
    assert code == 2 and "cannot read" in err
