"""`guardrails azure|gcp` read live: real azure-identity + azure-mgmt clients over HTTPS against the
fake ARM server, real google-auth/requests against the fake GCP REST server; exact findings,
allow-listed wire, and unreadable scopes as gaps (exit 3)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from residency_audit.providers.azure.client import operation_for
from residency_audit.providers.gcp.client import route_of
from residency_emulator.azure import SUB_ANALYTICS, SUB_LEGACY, SUB_PROD, TENANT, FakeArm, seed_azure
from residency_emulator.gcp import GcpEmulator

from .cloud_support import AZURE_IDENTITY_VARS
from .conftest import read_json, run_cli

POLICY_ACTIONS = {
    "Microsoft.Authorization/policyAssignments/read",
    "Microsoft.Authorization/policyExemptions/read",
    "Microsoft.Authorization/policyDefinitions/read",
    "Microsoft.Authorization/policySetDefinitions/read",
}
MG = "/providers/microsoft.management/managementgroups"


def _keys(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["rule_id"], f["owner_id"], f["region"]) for f in report["findings"]}


def _messages(report: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    return {(f["rule_id"], f["owner_id"], f["region"]): f["message"] for f in report["findings"]}


# --------------------------------------------------------------------------- Azure


@pytest.fixture(scope="module")
def arm() -> Iterator[FakeArm]:
    fake = FakeArm(client_secret="ra-guardrails-secret-" + secrets.token_hex(8)).start()
    yield fake
    fake.stop()


@pytest.fixture
def azure(arm: FakeArm, monkeypatch: pytest.MonkeyPatch) -> FakeArm:
    arm.reset()
    seed_azure(arm)
    for key in AZURE_IDENTITY_VARS:
        monkeypatch.delenv(key, raising=False)
    for key, value in arm.env().items():
        monkeypatch.setenv(key, value)
    return arm


def _azure(fake: FakeArm, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    out = tmp_path / "az.json"
    code, _, err = run_cli(
        ["guardrails", "azure", "--endpoint", fake.url, *extra, "-f", "json", "-o", str(out), "-q"], capsys
    )
    assert "Traceback" not in err, err
    report: dict[str, Any] = read_json(out)
    report["_exit"] = code
    report["_err"] = err
    return report


def _arm_wire(fake: FakeArm) -> list[Any]:
    return [e for e in fake.log if "/oauth2/" not in e.path and "/.well-known/" not in e.path]


def test_azure_exact_findings_and_scopes_to_fix(
    azure: FakeArm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _azure(azure, tmp_path, capsys)
    assert report["_exit"] == 1
    assert report["scan"]["complete"] is True and report["scan"]["gaps"] == []
    assert _keys(report) == {
        ("RA-GR-REGION", SUB_PROD, "uksouth"),  # the organisation's list still has UK South
        ("RA-GR-EXEMPTION", SUB_PROD, "*"),  # rg-apps waived
        ("RA-GR-LIMIT", SUB_PROD, "*"),
        ("RA-GR-LIMIT", SUB_ANALYTICS, "*"),  # narrowed to France Central + West Europe by a custom definition
        ("RA-GR-UNCOVERED", SUB_LEGACY, "*"),  # no assignment on its path
    }
    msg = _messages(report)
    assert msg[("RA-GR-REGION", SUB_PROD, "uksouth")].endswith(
        f"Fix at assignment 'Allowed locations (Europe)' at {MG}/mg-infogroen"
    )
    assert msg[("RA-GR-UNCOVERED", SUB_LEGACY, "*")].endswith(
        f"Fix at subscription 'infogroen-legacy' (/subscriptions/{SUB_LEGACY})"
    )
    exemption = msg[("RA-GR-EXEMPTION", SUB_PROD, "*")]
    assert f"resource group /subscriptions/{SUB_PROD}/resourcegroups/rg-apps" in exemption
    assert "exemption 'rg-apps: batch jobs may run anywhere' (Waiver, no expiry)" in exemption
    # the allowed set of the analytics subscription is the intersection of both assignments
    (limits,) = [
        r for r in report["resources"] if r["id"] == f"guardrail:azure:policy:/subscriptions/{SUB_ANALYTICS}:limits"
    ]
    assert limits["attributes"]["allowed_locations"] == ["francecentral", "westeurope"]


def test_azure_wire_is_allow_listed_reads_with_paging(
    azure: FakeArm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _azure(azure, tmp_path, capsys)
    wire = _arm_wire(azure)
    ops = [operation_for(e.method, urlsplit(e.path).path) for e in wire]
    assert None not in ops
    # the one POST is the Resource Graph query for the management-group chains (a read)
    assert {e.method for e in wire if "resourcegraph" not in e.path.lower()} == {"GET"}
    policy = [e for e in wire if "/providers/microsoft.authorization/" in e.path.lower()]
    assert {e.method for e in policy} == {"GET"}
    used = {op.permission for op in ops if op}
    assert used & POLICY_ACTIONS == POLICY_ACTIONS - {"Microsoft.Authorization/policySetDefinitions/read"}
    # management groups are read at their exact scope; subscriptions unfiltered (inherited + below)
    filters = {
        urlsplit(e.path).path.lower().split("/providers/microsoft.authorization/")[0]: parse_qs(
            urlsplit(e.path).query
        ).get("$filter", [""])[0]
        for e in policy
        if e.path.lower().endswith("policyassignments") or "policyassignments?" in e.path.lower()
    }
    assert filters == {
        f"{MG}/{TENANT}": "atExactScope()",
        f"{MG}/mg-infogroen": "atExactScope()",
        f"{MG}/mg-production": "atExactScope()",
        f"/subscriptions/{SUB_PROD}": "",
        f"/subscriptions/{SUB_ANALYTICS}": "",
        f"/subscriptions/{SUB_LEGACY}": "",
    }
    # three assignments apply to prod with pages of two: the nextLink was followed
    assert any("$skiptoken" in parse_qs(urlsplit(e.path).query) for e in policy)
    assert sum(report["scan"]["api_calls"].values()) == len(wire)
    assert all(e.status == 200 for e in wire)


def test_azure_permissions_include_the_policy_reads(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["permissions", "azure"], capsys)
    assert code == 0
    assert set(json.loads(out)["Actions"]) >= POLICY_ACTIONS


def test_azure_forbidden_scope_is_a_gap_and_fails_closed(
    azure: FakeArm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    azure.errors[f"/subscriptions/{SUB_ANALYTICS}/providers/microsoft.authorization/policyassignments".lower()] = (
        403,
        "AuthorizationFailed",
    )
    # findings win the exit code (1); with none at the threshold the gap decides: 3, never 0
    assert _azure(azure, tmp_path, capsys)["_exit"] == 1
    report = _azure(azure, tmp_path, capsys, "--fail-on", "critical")
    assert report["_exit"] == 3
    assert report["scan"]["complete"] is False
    assert [(g["scope"], g["service"], g["code"]) for g in report["scan"]["gaps"]] == [
        (SUB_ANALYTICS, "Microsoft.Authorization/policyAssignments", "AuthorizationFailed")
    ]
    # the unreadable subscription is not evaluated (not "clean", not guessed); the rest still is
    assert _keys(report) == {
        ("RA-GR-REGION", SUB_PROD, "uksouth"),
        ("RA-GR-EXEMPTION", SUB_PROD, "*"),
        ("RA-GR-LIMIT", SUB_PROD, "*"),
        ("RA-GR-UNCOVERED", SUB_LEGACY, "*"),
    }


def test_azure_unreadable_subscription_is_a_gap_not_uncovered(
    azure: FakeArm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A subscription the caller cannot read (403 below it, invisible to Resource Graph) is never 'uncovered'."""
    azure.denied = {SUB_LEGACY}
    report = _azure(azure, tmp_path, capsys)
    assert report["_exit"] == 1 and report["scan"]["complete"] is False
    assert {(g["scope"], g["service"], g["code"]) for g in report["scan"]["gaps"]} == {
        (SUB_LEGACY, "Microsoft.ResourceGraph", "NotVisible"),
        (SUB_LEGACY, "Microsoft.Authorization/policyAssignments", "AuthorizationFailed"),
    }
    assert SUB_LEGACY not in {f["owner_id"] for f in report["findings"]}


def test_azure_initiative_is_read_and_evaluated(
    azure: FakeArm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An initiative (policySetDefinition) wrapping the built-in closes the legacy subscription's gap."""
    from residency_emulator.azure import ALLOWED_LOCATIONS, policy_assignment

    legacy = f"/subscriptions/{SUB_LEGACY}"
    initiative = f"{legacy}/providers/Microsoft.Authorization/policySetDefinitions/eu-baseline"
    azure.policy_definitions[initiative.lower()] = {
        "id": initiative,
        "name": "eu-baseline",
        "type": "Microsoft.Authorization/policySetDefinitions",
        "properties": {
            "displayName": "EU baseline",
            "parameters": {"regions": {"type": "Array"}},
            "policyDefinitions": [
                {
                    "policyDefinitionId": ALLOWED_LOCATIONS,
                    "policyDefinitionReferenceId": "locations",
                    "parameters": {"listOfAllowedLocations": {"value": "[parameters('regions')]"}},
                }
            ],
        },
    }
    azure.policy_assignments.append(
        policy_assignment(
            legacy, "eu-baseline", initiative, "EU baseline", parameters={"regions": {"value": ["westeurope"]}}
        )
    )
    report = _azure(azure, tmp_path, capsys, "--subscription", SUB_LEGACY)
    assert _keys(report) == {("RA-GR-LIMIT", SUB_LEGACY, "*")}
    (limits,) = [r for r in report["resources"] if r["id"].endswith(":limits")]
    assert limits["attributes"]["allowed_locations"] == ["westeurope"]
    wire = [urlsplit(e.path).path for e in _arm_wire(azure)]
    assert wire.count(f"{legacy}/providers/Microsoft.Authorization/policySetDefinitions/eu-baseline") == 1
    assert not any("/policyDefinitions/" in p for p in wire)  # the built-in member is known by id


def test_azure_subscription_scope(azure: FakeArm, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = _azure(azure, tmp_path, capsys, "--subscription", SUB_ANALYTICS)
    assert _keys(report) == {("RA-GR-LIMIT", SUB_ANALYTICS, "*")}
    assert report["_exit"] == 0
    paths = {urlsplit(e.path).path.lower() for e in _arm_wire(azure)}
    assert not any(SUB_PROD in p or SUB_LEGACY in p for p in paths)


def test_azure_from_file_excludes_live_options(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    doc = tmp_path / "x.json"
    doc.write_text("{}", "utf-8")
    code, _, err = run_cli(["guardrails", "azure", "--from-file", str(doc), "--endpoint", "https://x"], capsys)
    assert code == 2
    assert err == "residency-audit: error: --from-file cannot be combined with --endpoint or --cloud\n"


# --------------------------------------------------------------------------- Google Cloud

ORG = "organizations/100000000001"
SHOP, DATA, LEDGER = "projects/300000000001", "projects/300000000002", "projects/300000000003"
EU_WORKLOADS = "folders/200000000002"


def _gcp(emu: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    out = tmp_path / "gcp.json"
    code, _, err = run_cli(
        ["guardrails", "gcp", "--endpoint", emu.url, *extra, "-f", "json", "-o", str(out), "-q"], capsys
    )
    assert "Traceback" not in err, err
    report: dict[str, Any] = read_json(out)
    report["_exit"] = code
    return report


GCP_EXPECTED = {
    # eu-workloads merges in:europe-locations: Europe, not the EU
    ("RA-GR-REGION", SHOP, "europe-west2"),
    ("RA-GR-REGION", SHOP, "europe-west6"),
    ("RA-GR-REGION", SHOP, "eur5"),
    ("RA-GR-REGION-UNKNOWN", SHOP, "europe-west15"),
    # data-platform stops inheriting and allows everything
    ("RA-GR-UNCOVERED", DATA, "*"),
    # the policy applies only to new resources
    ("RA-GR-LIMIT", ORG, "*"),
}


def test_gcp_exact_findings_and_scopes_to_fix(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _gcp(gcp, tmp_path, capsys, "--anonymous")
    assert report["_exit"] == 1
    assert report["scan"]["complete"] is True and report["scan"]["gaps"] == []
    assert _keys(report) == GCP_EXPECTED
    assert LEDGER not in {f["owner_id"] for f in report["findings"]}  # inherits the organisation's EU-only list
    msg = _messages(report)
    london = msg[("RA-GR-REGION", SHOP, "europe-west2")]
    assert "admitted by 'in:europe-locations' set at folder 'eu-workloads' (folders/200000000002)" in london
    assert london.endswith("Fix at folder 'eu-workloads' (folders/200000000002)")
    assert msg[("RA-GR-UNCOVERED", DATA, "*")].endswith("Fix at project 'Data platform' (projects/300000000002)")


def test_gcp_wire_is_allow_listed_gets(gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = _gcp(gcp, tmp_path, capsys, "--anonymous")
    log = list(gcp.log)
    assert {r.method for r in log} == {"GET"}
    routes = [route_of(r.method, urlsplit(r.path).path) for r in log]
    assert None not in routes
    policy_nodes = {
        urlsplit(r.path).path.removeprefix("/v2/").split("/policies/")[0]
        for r, rt in zip(log, routes, strict=True)
        if rt and rt.service == "orgpolicy"
    }
    assert policy_nodes == {
        ORG,
        "folders/200000000001",
        EU_WORKLOADS,
        "folders/200000000003",
        SHOP,
        DATA,
        LEDGER,
    }
    assert {(rt.service, rt.method) for rt in routes if rt} == {
        ("cloudresourcemanager", "projects.search"),
        ("cloudresourcemanager", "folders.search"),
        ("cloudresourcemanager", "organizations.search"),
        ("orgpolicy", "policies.get"),
    }
    assert sum(report["scan"]["api_calls"].values()) == len(log)


def test_gcp_permissions_include_orgpolicy(capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    code, out, _ = run_cli(["permissions", "gcp"], capsys)
    assert code == 0
    assert "orgpolicy.policy.get" in yaml.safe_load(out)["includedPermissions"]


def test_gcp_forbidden_folder_is_a_gap_and_fails_closed(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gcp.fail("orgpolicy", 403, "", scope=EU_WORKLOADS)
    report = _gcp(gcp, tmp_path, capsys, "--anonymous", "--fail-on", "critical")
    assert report["_exit"] == 3  # nothing critical: the gap decides, never 0
    assert [(g["scope"], g["service"], g["code"]) for g in report["scan"]["gaps"]] == [
        (EU_WORKLOADS, "orgpolicy", "403")
    ]
    # shop-prod sits below the unreadable folder: not evaluated, never reported clean
    assert _keys(report) == {("RA-GR-UNCOVERED", DATA, "*"), ("RA-GR-LIMIT", ORG, "*")}


def test_gcp_service_account_key_and_project_scope(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Real google-auth service-account credentials (a self-signed JWT per request) and --project."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    creds = tmp_path / "sa.json"
    creds.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "ledger-nl",
                "private_key_id": "k1",
                "private_key": pem,
                "client_email": "auditor@ledger-nl.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        ),
        "utf-8",
    )
    report = _gcp(gcp, tmp_path, capsys, "--credentials", str(creds), "--project", "ledger-nl")
    assert report["_exit"] == 0  # the coverage note is informational
    assert _keys(report) == {("RA-GR-LIMIT", ORG, "*")}
    policy = [r for r in gcp.log if "/policies/" in r.path]
    assert {urlsplit(r.path).path for r in policy} == {
        f"/v2/{n}/policies/gcp.resourceLocations" for n in (ORG, "folders/200000000003", LEDGER)
    }
    assert all(
        next(v for k, v in r.headers.items() if k.lower() == "authorization").startswith("Bearer ey") for r in policy
    )
    assert pem not in json.dumps(report)
