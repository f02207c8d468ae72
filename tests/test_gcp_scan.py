"""`scan gcp` end to end: the real google-cloud clients and google-auth sessions over real
HTTP against the local fake GCP REST server, exact findings, recorded request logs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from residency_audit.providers.base import ReadOnlyViolation
from residency_audit.providers.gcp.client import READ_OPERATIONS, host_service, route_of
from residency_audit.providers.gcp.scan import GcpAdapter
from residency_emulator.gcp import CLEAN_RESOURCES, EXPECTED_FINDINGS, GcpEmulator

from .conftest import read_json, run_cli

ORG = "100000000001"
#: Resources of the clean project ledger-nl in the sample estate (every kind has one or more there).
LEDGER_RESOURCES = 30


def _key(f: dict[str, Any]) -> tuple[str, str, str, str, str]:
    return (f["rule_id"], f["resource_kind"], f["resource_name"], f["role"], f["region"])


def scan(
    emu: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "gcp.json"
    code, _, err = run_cli(
        ["scan", "gcp", "--endpoint", emu.url, "--anonymous", "-f", "json", "-o", str(out), "-q", *extra], capsys
    )
    assert "Traceback" not in err, err
    report: dict[str, Any] = read_json(out)
    return code, report


def test_exact_findings_with_per_service_fallback(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Asset Inventory is disabled in the fake: auto mode falls back to per-service listing."""
    code, report = scan(gcp, tmp_path, capsys)
    assert code == 1
    assert {_key(f) for f in report["findings"]} == EXPECTED_FINDINGS
    assert report["scan"]["complete"] is True and report["scan"]["gaps"] == []
    assert report["scan"]["request"]["options"]["inventory"] == {f"organizations/{ORG}": "services"}
    assert any("Cloud Asset Inventory not usable (403 SERVICE_DISABLED)" in n for n in report["scan"]["notes"])
    names = {r["name"] for r in report["resources"]}
    assert names >= CLEAN_RESOURCES
    assert not CLEAN_RESOURCES & {f["resource_name"] for f in report["findings"]}


def test_clean_project_has_no_finding(gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = scan(gcp, tmp_path, capsys, "--project", "ledger-nl")
    assert code == 0
    assert report["findings"] == []
    kinds = {r["kind"] for r in report["resources"]}
    assert kinds == {
        "storage.bucket",
        "compute.instance",
        "compute.disk",
        "compute.snapshot",
        "cloudsql.instance",
        "bigquery.dataset",
        "gke.cluster",
        "run.service",
        "functions.function",
        "pubsub.topic",
        "pubsub.subscription",
        "secretmanager.secret",
        "spanner.instance",
        "bigtable.instance",
        "firestore.database",
        "logging.bucket",
        "logging.sink",
        "kms.keyring",
        "artifactregistry.repository",
        "redis.instance",
        "filestore.instance",
        "filestore.backup",
        "dataproc.cluster",
        "composer.environment",
        "vertexai.dataset",
        "vertexai.endpoint",
    }
    regions = {loc["region"] for r in report["resources"] for loc in r["locations"]}
    assert regions == {"europe-west4", "spanner/regional-europe-west4"}  # a Spanner configuration in that region
    assert all(loc["in_eu"] and loc["countries"] == ["NL"] for r in report["resources"] for loc in r["locations"])


def test_locations_and_owner_chain(gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, report = scan(gcp, tmp_path, capsys, "--inventory", "services")
    by_name = {(r["kind"], r["name"]): r for r in report["resources"]}
    dual = by_name[("storage.bucket", "backups-custom-dual")]
    assert [(loc["region"], loc["in_eu"]) for loc in dual["locations"]] == [
        ("europe-west1", True),
        ("europe-west4", True),
    ]
    eu = by_name[("storage.bucket", "invoices-eu")]
    assert [(loc["region"], loc["in_eu"]) for loc in eu["locations"]] == [("eu", True)]
    eur8 = by_name[("storage.bucket", "media-eur8")]
    assert eur8["attributes"]["turbo_replication"] is True and eur8["attributes"]["location_type"] == "dual-region"
    assert set(eur8["locations"][0]["countries"]) == {"DE", "CH"}
    vm = by_name[("compute.instance", "batch-zurich")]
    assert vm["locations"] == [
        {
            "region": "europe-west6",
            "role": "primary",
            "zone": "europe-west6-a",
            "countries": ["CH"],
            "in_eu": False,
            "place": vm["locations"][0]["place"],
            "known": True,
        }
    ]
    assert vm["id"] == "//compute.googleapis.com/projects/data-platform/zones/europe-west6-a/instances/batch-zurich"
    crm = by_name[("cloudsql.instance", "crm")]
    assert [(loc["region"], loc["role"]) for loc in crm["locations"]] == [
        ("europe-west3", "primary"),
        ("us-central1", "replica"),
    ]
    orders = by_name[("cloudsql.instance", "orders")]
    assert [(loc["region"], loc["role"]) for loc in orders["locations"]] == [
        ("europe-west1", "primary"),
        ("eu", "backup"),
    ]
    assert vm["owner"] == {
        "kind": "project",
        "id": "data-platform",
        "name": "Data platform",
        "path": [
            {"kind": "organization", "id": ORG, "name": "example.nl"},
            {"kind": "folder", "id": "200000000001", "name": "production"},
        ],
    }
    shop = by_name[("run.service", "shop")]["owner"]
    assert [n["name"] for n in shop["path"]] == ["example.nl", "production", "eu-workloads"]
    assert by_name[("run.service", "shop")]["attributes"]["project_number"] == "300000000001"


def test_every_request_is_an_allow_listed_read(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, report = scan(gcp, tmp_path, capsys)
    log = list(gcp.log)
    assert log
    assert {r.method for r in log} == {"GET"}
    routes = [route_of(r.method, urlsplit(r.path).path, host_service(r.headers)) for r in log]
    assert None not in routes
    seen = {(rt.service, rt.method) for rt in routes if rt}
    assert seen <= set(READ_OPERATIONS)
    # The allow-list is what the scan used, and the call counts are the wire.
    assert seen == set(READ_OPERATIONS) - {
        ("cloudresourcemanager", "projects.get"),
        ("cloudresourcemanager", "folders.get"),
        ("cloudresourcemanager", "organizations.get"),
    }
    # Organisation policy: the scan reads only the Pub/Sub persistence constraint (for a topic without a
    # storage policy, along its project's chain); gcp.resourceLocations is the guardrail audit's.
    policies = {urlsplit(r.path).path for r, rt in zip(log, routes, strict=True) if rt and rt.service == "orgpolicy"}
    assert policies == {
        f"/v2/{node}/policies/pubsub.allowedPersistenceRegions"
        for node in (f"organizations/{ORG}", "folders/200000000003", "projects/300000000003")
    }
    assert sum(report["scan"]["api_calls"].values()) == len(log)
    # Pages are small in the fake: paging really happened, with each API's own token parameter.
    paged = {
        (rt.service, rt.method)
        for r, rt in zip(log, routes, strict=True)
        if rt and {"pageToken", "continue"} & parse_qs(urlsplit(r.path).query).keys()
    }
    assert paged == {
        ("cloudresourcemanager", "projects.search"),
        ("cloudresourcemanager", "folders.search"),
        ("storage", "buckets.list"),
        ("sqladmin", "instances.list"),
        ("logging", "sinks.list"),
        ("compute", "regions.list"),
        ("cloudkms", "locations.list"),
        ("artifactregistry", "locations.list"),
        ("aiplatform", "locations.list"),
    }
    assert all(READ_OPERATIONS[k].count(".") >= 2 for k in READ_OPERATIONS)  # IAM permission names


def test_asset_inventory_path_gives_the_same_result(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, by_services = scan(gcp, tmp_path, capsys, "--inventory", "services")
    gcp.asset_enabled.add(f"organizations/{ORG}")
    gcp.front.clear_log()
    code, by_asset = scan(gcp, tmp_path, capsys)
    assert code == 1
    assert by_asset["scan"]["request"]["options"]["inventory"] == {f"organizations/{ORG}": "asset"}
    assert {_key(f) for f in by_asset["findings"]} == EXPECTED_FINDINGS

    def view(report: dict[str, Any]) -> set[tuple[str, str, str]]:
        return {(r["id"], r["owner"]["id"], json.dumps(r["locations"])) for r in report["resources"]}

    assert view(by_asset) == view(by_services)
    reads = {route_of(r.method, urlsplit(r.path).path, host_service(r.headers)) for r in gcp.log}
    assert {rt.service for rt in reads if rt} == {"cloudresourcemanager", "cloudasset", "spanner", "orgpolicy"}
    # Besides the search, only what the resources' own JSON cannot say: a custom Spanner configuration's
    # replicas, and the organisation policy over a topic without a storage policy.
    assert {(rt.service, rt.method) for rt in reads if rt and rt.service in ("spanner", "orgpolicy")} == {
        ("spanner", "instanceConfigs.get"),
        ("orgpolicy", "policies.get"),
    }
    asset_calls = [r for r in gcp.log if ":searchAllResources" in r.path]
    assert all(r.path.startswith(f"/v1/organizations/{ORG}:searchAllResources") for r in asset_calls)
    assert len(asset_calls) > 1  # paged


def test_the_inventory_path_a_scan_took_does_not_make_it_another_target(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The path is what the scan learnt (Scan.context), not what was asked: an auto scan that used
    Asset Inventory today and per-service listing yesterday is compared with it, not started afresh."""
    from residency_audit.store import open_store

    store = str(tmp_path / "history.db")
    scan(gcp, tmp_path, capsys, "--store", store)  # Asset Inventory disabled: services
    gcp.asset_enabled.add(f"organizations/{ORG}")
    _, by_asset = scan(gcp, tmp_path, capsys, "--store", store)
    assert by_asset["scan"]["context"]["inventory"] == {f"organizations/{ORG}": "asset"}
    with open_store(store) as s:
        first, second = s.scans()
    assert first.target == second.target
    assert first.request["options"]["inventory"] != second.request["options"]["inventory"]  # still shown


def test_asset_only_mode_records_a_gap_when_disabled(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = scan(gcp, tmp_path, capsys, "--inventory", "asset")
    assert code == 3
    assert [(g["scope"], g["service"], g["code"]) for g in report["scan"]["gaps"]] == [
        (f"organizations/{ORG}", "cloudasset", "403")
    ]
    assert report["scan"]["gaps"][0]["error"].startswith("SERVICE_DISABLED")


def test_403_on_one_project_is_a_gap_and_the_scan_goes_on(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gcp.fail("compute", 403, scope="data-platform")
    gcp.fail("run", 403, "SERVICE_DISABLED", scope="ledger-nl")
    code, report = scan(gcp, tmp_path, capsys, "--inventory", "services")
    gaps = {(g["provider"], g["scope"], g["region"], g["service"], g["code"]) for g in report["scan"]["gaps"]}
    assert gaps == {
        ("gcp", "data-platform", "", "compute", "403"),
        ("gcp", "ledger-nl", "", "run", "403"),
        # Dataproc and Composer are listed per Compute Engine region: without regions.list, not at all.
        ("gcp", "data-platform", "", "dataproc", "403"),
        ("gcp", "data-platform", "", "composer", "403"),
    }
    assert all("\n" not in g["error"] for g in report["scan"]["gaps"])
    disabled = next(g for g in report["scan"]["gaps"] if g["service"] == "run")
    assert disabled["error"].startswith("SERVICE_DISABLED")
    expected = {k for k in EXPECTED_FINDINGS if k[2] != "batch-zurich"}
    assert {_key(f) for f in report["findings"]} == expected
    assert report["scan"]["complete"] is False
    assert code == 1


def test_429_is_retried_then_succeeds(gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gcp.fail("sqladmin", 429, "RATE_LIMIT_EXCEEDED", scope="shop-prod", count=2)
    code, report = scan(gcp, tmp_path, capsys, "--inventory", "services")
    assert code == 1 and report["scan"]["gaps"] == []
    assert {_key(f) for f in report["findings"]} == EXPECTED_FINDINGS
    sql = [r for r in gcp.log if host_service(r.headers) == "sqladmin"]  # Spanner lists the same path
    sql_shop = [r for r in sql if r.path.startswith("/v1/projects/shop-prod/instances")]
    assert len(sql_shop) == 2 + 2  # two 429s, then two pages of three instances
    sql_all = [r for r in sql if "/instances" in r.path and r.path.startswith("/v1/")]
    assert report["scan"]["api_calls"]["sqladmin:instances.list"] == len(sql_all)


def test_429_that_never_ends_is_a_bounded_gap(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gcp.fail("bigquery", 429, "RATE_LIMIT_EXCEEDED", scope="data-platform")
    code, report = scan(gcp, tmp_path, capsys, "--inventory", "services", "--fail-on", "critical")
    assert [(g["scope"], g["service"], g["code"]) for g in report["scan"]["gaps"]] == [
        ("data-platform", "bigquery", "429")
    ]
    assert len([r for r in gcp.log if r.path.startswith("/bigquery/v2/projects/data-platform/")]) == 5
    assert code == 1  # critical findings elsewhere still fail the run


def test_scopes_select_projects(gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def owners(*args: str) -> set[str]:
        _, report = scan(gcp, tmp_path, capsys, "--inventory", "services", *args)
        return {r["owner"]["id"] for r in report["resources"]}

    assert owners("--folder", "200000000001") == {"shop-prod", "data-platform"}
    assert owners("--folder", "folders/200000000002") == {"shop-prod"}
    assert owners("--organization", ORG) == {"shop-prod", "data-platform", "ledger-nl"}
    assert owners("--project", "ledger-nl,data-platform") == {"ledger-nl", "data-platform"}


def test_unreadable_project_is_a_gap(gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = scan(gcp, tmp_path, capsys, "--project", "ledger-nl", "--project", "not-mine")
    assert [(g["scope"], g["service"], g["code"]) for g in report["scan"]["gaps"]] == [
        ("not-mine", "cloudresourcemanager", "403")
    ]
    assert {r["owner"]["id"] for r in report["resources"]} == {"ledger-nl"}
    assert code == 3


def test_guard_refuses_anything_not_allow_listed(gcp: GcpEmulator) -> None:
    adapter = GcpAdapter.create(anonymous=True, endpoints={"*": gcp.url})
    for method, path in (
        ("DELETE", "/storage/v1/b/invoices-eu"),
        ("POST", "/storage/v1/b"),
        ("GET", "/storage/v1/b/invoices-eu/o"),  # a read, but not one the scanner needs
        ("POST", "/v3/projects:search"),
    ):
        with pytest.raises(ReadOnlyViolation):
            adapter.session.request(method, gcp.url + path)
    assert gcp.log == []


def _service_account(tmp_path: Path, emu: GcpEmulator) -> tuple[Path, bytes, str, str]:
    """A service-account key file with a freshly generated RSA key: (file, public PEM, email, private PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    email = "scanner@ledger-nl.iam.gserviceaccount.com"
    sa = {
        "type": "service_account",
        "project_id": "ledger-nl",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": email,
        "client_id": "1",
        "token_uri": emu.url + "/token",
    }
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps(sa))
    return key_file, public, email, pem


def _bearer(req: Any) -> str:
    auth = next((v for k, v in req.headers.items() if k.lower() == "authorization"), "")
    return str(auth)


def test_service_account_key_signs_its_own_jwt(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """GOOGLE_APPLICATION_CREDENTIALS with a generated key: a self-signed JWT, no token endpoint."""
    from google.auth import jwt

    #: google-auth ships no annotations: the signature as this test uses it
    decode: Callable[..., dict[str, Any]] = jwt.decode

    key_file, public, email, pem = _service_account(tmp_path, gcp)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    out = tmp_path / "r.json"
    args = ["scan", "gcp", "--endpoint", gcp.url, "--project", "ledger-nl", "--quota-project", "billing-nl"]
    code, stdout, err = run_cli([*args, "-f", "json", "-o", str(out), "-q"], capsys)
    assert (code, err) == (0, "")
    report = read_json(out)
    assert report["scan"]["gaps"] == [] and len(report["resources"]) == LEDGER_RESOURCES
    quota = {next((v for k, v in r.headers.items() if k.lower() == "x-goog-user-project"), "") for r in gcp.log}
    assert quota == {"billing-nl"}
    assert pem.splitlines()[1] not in json.dumps(report) + stdout  # no key material in output
    assert gcp.log and not any("/token" in r.path for r in gcp.log)
    tokens = {_bearer(r) for r in gcp.log}
    assert all(t.startswith("Bearer ") for t in tokens)
    for token in tokens:
        claims = decode(token.removeprefix("Bearer "), certs=public, verify=True)
        assert claims["iss"] == email and claims["sub"] == email
        assert claims["scope"] == "https://www.googleapis.com/auth/cloud-platform.read-only"


def test_impersonation_exchanges_a_token_once(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file, _, _, _ = _service_account(tmp_path, gcp)
    target = "auditor@security-nl.iam.gserviceaccount.com"
    out = tmp_path / "r.json"
    code, _, err = run_cli(
        ["scan", "gcp", "--endpoint", gcp.url, "--credentials", str(key_file), "--impersonate-service-account",
         target, "--project", "ledger-nl", "-f", "json", "-o", str(out), "-q"],
        capsys,
    )  # fmt: skip
    assert (code, err) == (0, "")
    exchanges = [r for r in gcp.log if r.method == "POST"]
    assert [r.path for r in exchanges] == [f"/v1/projects/-/serviceAccounts/{target}:generateAccessToken"]
    reads = [r for r in gcp.log if r.method == "GET"]
    assert reads and {_bearer(r) for r in reads} == {f"Bearer ya29.fake-{target}"}
    assert len(read_json(out)["resources"]) == LEDGER_RESOURCES


def test_missing_credentials_is_one_line_exit_2(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    code, _, err = run_cli(["scan", "gcp", "--endpoint", gcp.url, "-q"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "no usable Google credentials" in err and "Traceback" not in err
    assert gcp.log == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--anonymous"], "--anonymous needs --endpoint"),
        (["--endpoint", "ftp://x"], "expected http(s)://HOST"),
        (["--endpoint", "nosuch=http://127.0.0.1:1"], "unknown service 'nosuch'"),
        (["--services", "storage,s3"], "unknown Google Cloud service(s) s3"),
    ],
)
def test_bad_options_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, _, err = run_cli(["scan", "gcp", "-q", *args], capsys)
    assert code == 2 and message in err and err.count("\n") == 1


def test_plain_http_endpoint_refuses_real_credentials(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "authorized_user.json"
    key_file.write_text(
        json.dumps({"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r"})
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    code, _, err = run_cli(["scan", "gcp", "--endpoint", "http://scanner-proxy.example.com", "-q"], capsys)
    assert code == 2 and "refusing to send Google credentials over plain http" in err


def test_json_to_stdout(gcp: GcpEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        ["scan", "gcp", "--endpoint", gcp.url, "--anonymous", "--project", "data-platform", "-f", "json", "-q"], capsys
    )
    report = json.loads(out)
    assert code == 1
    assert {_key(f) for f in report["findings"]} == {
        k
        for k in EXPECTED_FINDINGS
        if k[2]
        in (
            "analytics_us",
            "batch-zurich",
            "ml-training",
            "events-nam5",
            "metrics",
            "sessions-london",
            "audit-to-bigquery",
        )
    }
    assert report["scan"]["request"]["scopes"] == ["projects/data-platform"]


def test_demo_includes_google_cloud(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from residency_audit.providers import names

    assert "gcp" in names()
    monkeypatch.chdir(tmp_path)
    code, _, _ = run_cli(["demo", "--providers", "gcp", "-q"], capsys)
    assert code == 0
    (report_file,) = (tmp_path / "reports").glob("demo-*.json")
    report = read_json(report_file)
    assert {_key(f) for f in report["findings"] if f["provider"] == "gcp"} == EXPECTED_FINDINGS
    assert report["scan"]["complete"] is True


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read credentials"),
        ("{not json", "not usable Google credentials (not a JSON credentials file)"),
        ('{"type": "service_account", "client_email": "x@y"}', "not usable Google credentials"),
    ],
)
def test_broken_key_file_is_one_line_exit_2(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    key = tmp_path / "key.json"
    if content is not None:
        key.write_text(content)
    code, _, err = run_cli(["scan", "gcp", "--endpoint", gcp.url, "--credentials", str(key), "-q"], capsys)
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert gcp.log == []


def test_owner_chain_from_folder_gets_when_search_misses_a_folder(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gcp.unsearchable_folders.add("200000000002")
    _, report = scan(gcp, tmp_path, capsys, "--project", "shop-prod", "--services", "run")
    (path,) = {json.dumps(r["owner"]["path"]) for r in report["resources"]}
    assert [n["name"] for n in json.loads(path)] == ["example.nl", "production", "eu-workloads"]
    assert [urlsplit(r.path).path for r in gcp.log if r.path.startswith("/v3/folders/")] == ["/v3/folders/200000000002"]

    gcp.front.clear_log()
    gcp.fail("cloudresourcemanager", 403, scope="200000000002")
    _, report = scan(gcp, tmp_path, capsys, "--project", "shop-prod", "--services", "run")
    (path,) = {json.dumps(r["owner"]["path"]) for r in report["resources"]}
    assert json.loads(path) == [{"kind": "folder", "id": "200000000002", "name": ""}]
    assert "gcp: folders/200000000002 not readable (403); owner chains stop there" in report["scan"]["notes"]
    assert report["scan"]["gaps"] == []


def test_asset_results_without_versioned_resources_fall_back_to_their_location(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, by_services = scan(gcp, tmp_path, capsys, "--inventory", "services")
    gcp.asset_enabled.add(f"organizations/{ORG}")
    gcp.asset_versioned = False
    _, report = scan(gcp, tmp_path, capsys, "--inventory", "asset")
    assert {r["id"] for r in report["resources"]} == {r["id"] for r in by_services["resources"]}
    # Only the search result's location is known: the Cloud SQL replica link is not visible, and
    # neither are a secret's replication nor a log sink's destination, so those fail closed.
    lost = {("RA-US-SOIL", "cloudsql.instance", "crm", "replica", "us-central1")}
    lost |= {k for k in EXPECTED_FINDINGS if k[1] in ("secretmanager.secret", "logging.sink")}
    # (and a subscription's topic, so its location too)
    unknown = (
        {
            ("RA-EU-UNKNOWN", "secretmanager.secret", name, "primary", None)
            for name in ("api-key-auto", "checkout-signing-key", "ledger-db-password")
        }
        | {
            ("RA-EU-UNKNOWN", "logging.sink", name, "replica", None)
            for name in ("_Default", "_Required", "audit-archive", "audit-to-bigquery")
        }
        | {("RA-EU-UNKNOWN", "pubsub.subscription", "ledger-notifications-worker", "primary", None)}
    )
    assert {_key(f) for f in report["findings"]} == (EXPECTED_FINDINGS - lost) | unknown
    assert any("68 Asset Inventory results without versionedResources" in n for n in report["scan"]["notes"])
    dual = next(r for r in report["resources"] if r["name"] == "backups-custom-dual")
    assert [loc["region"] for loc in dual["locations"]] == ["eu"]


def test_pubsub_topics_are_where_their_storage_policy_allows(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A topic's messages are stored only in its allowed persistence regions; a topic without a
    storage policy may store them in any region: unknown, so it fails closed. Both inventory
    paths give the same topics and locations."""
    shop = gcp.projects["shop-prod"]
    gcp.topic(shop, "orders-eu", ["europe-west1", "europe-west4"], labels={"team": "shop"})
    gcp.topic(shop, "audit-iowa", ["us-central1"])
    gcp.topic(shop, "events-anywhere")
    gcp.topic(shop, "mixed-london", ["europe-west3", "europe-west2"])
    gcp.topic(gcp.projects["ledger-nl"], "ledger-events", ["europe-west4"])

    code, report = scan(gcp, tmp_path, capsys, "--services", "pubsub", "--inventory", "services")
    assert code == 1 and report["scan"]["gaps"] == []
    assert {_key(f) for f in report["findings"]} == {
        ("RA-US-SOIL", "pubsub.topic", "audit-iowa", "primary", "us-central1"),
        ("RA-EU-OUTSIDE", "pubsub.topic", "mixed-london", "primary", "europe-west2"),
        ("RA-EU-UNKNOWN", "pubsub.topic", "events-anywhere", "primary", None),
    }
    topics = {r["name"]: r for r in report["resources"] if r["kind"] == "pubsub.topic"}
    assert set(topics) == {
        "orders-eu",
        "audit-iowa",
        "events-anywhere",
        "mixed-london",
        "ledger-events",
        "ledger-notifications",  # the sample estate's: pinned by ledger-nl's organisation policy
    }
    orders = topics["orders-eu"]
    assert orders["id"] == "//pubsub.googleapis.com/projects/shop-prod/topics/orders-eu"
    assert [(loc["region"], loc["in_eu"]) for loc in orders["locations"]] == [
        ("europe-west1", True),
        ("europe-west4", True),
    ]
    assert orders["tags"] == {"team": "shop"} and orders["category"] == "data"
    (anywhere,) = topics["events-anywhere"]["locations"]
    assert anywhere["region"] is None and anywhere["known"] is False and "any region" in anywhere["detail"]
    listed = sorted(urlsplit(r.path).path for r in gcp.log if "/topics" in r.path)
    assert listed == sorted(  # four topics in pages of two: shop-prod is read twice
        ["/v1/projects/shop-prod/topics"] * 2 + ["/v1/projects/data-platform/topics", "/v1/projects/ledger-nl/topics"]
    )

    gcp.asset_enabled.add(f"organizations/{ORG}")
    code, by_asset = scan(gcp, tmp_path, capsys, "--services", "pubsub")
    assert by_asset["scan"]["context"]["inventory"] == {f"organizations/{ORG}": "asset"}
    assert {_key(f) for f in by_asset["findings"]} == {_key(f) for f in report["findings"]}

    def view(r: dict[str, Any]) -> set[tuple[str, str, str]]:
        return {(x["id"], x["owner"]["id"], json.dumps(x["locations"])) for x in r["resources"]}

    assert view(by_asset) == view(report)
