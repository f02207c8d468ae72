"""`scan gcp` beyond the first ten kinds: every resource of every type through Cloud Asset
Inventory, and the footprint of the services that keep copies elsewhere (Secret Manager,
Spanner, Bigtable, Firestore, Cloud Logging, KMS, Artifact Registry, Memorystore, Filestore,
Dataproc, Composer, Vertex AI, Pub/Sub's organisation policy). The real google-auth session
over real HTTP against the fake REST server, on both inventory paths; exact findings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from residency_audit.providers.base import ReadOnlyViolation
from residency_audit.providers.gcp.client import host_service, route_of
from residency_audit.providers.gcp.kinds import ASSET_TYPES, KINDS
from residency_audit.providers.gcp.scan import GcpAdapter
from residency_emulator.gcp import EXPECTED_FINDINGS, GcpEmulator

from .conftest import read_json, run_cli

ORG = "100000000001"


def _key(f: dict[str, Any]) -> tuple[str, str, str, str, str | None]:
    return (f["rule_id"], f["resource_kind"], f["resource_name"], f["role"], f["region"])


def scan(
    emu: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str, fmt: str = "json"
) -> tuple[int, Any]:
    out = tmp_path / f"gcp.{fmt}"
    code, _, err = run_cli(
        ["scan", "gcp", "--endpoint", emu.url, "--anonymous", "-f", fmt, "-o", str(out), "-q", *extra], capsys
    )
    assert "Traceback" not in err, err
    return code, read_json(out) if fmt == "json" else out.read_text("utf-8")


def _by_name(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["kind"], r["name"]): r for r in report["resources"]}


def _where(r: dict[str, Any]) -> list[tuple[str | None, str, str | None]]:
    return [(loc["region"], loc["role"], loc.get("zone")) for loc in r["locations"]]


def _view(report: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(r["id"], r["owner"]["id"], r["judged"], json.dumps(r["locations"])) for r in report["resources"]}


# --------------------------------------------------------------------------- the sample estate


def test_the_copies_services_keep_are_located_on_both_paths(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, report = scan(gcp, tmp_path, capsys, "--inventory", "services")
    assert report["scan"]["gaps"] == []
    r = _by_name(report)
    # Spanner: the configuration's members (the catalog), or a custom configuration's replicas (read).
    nam3 = r[("spanner.instance", "payments-nam3")]["locations"]
    assert [(loc["region"], loc["countries"]) for loc in nam3] == [("spanner/nam3", ["US"])]
    assert _where(r[("spanner.instance", "checkout-custom")]) == [
        ("europe-west1", "primary", None),
        ("europe-west4", "replica", None),
        ("europe-north1", "replica", None),
    ]
    assert "witness replica of custom configuration custom-eur3-nl-reads" in json.dumps(
        r[("spanner.instance", "checkout-custom")]["locations"][2]
    )
    # Secret Manager: automatic replication is `global`, which fails closed; user-managed: each replica.
    (auto,) = r[("secretmanager.secret", "api-key-auto")]["locations"]
    assert (auto["region"], auto["known"], auto["in_eu"]) == ("global", False, False)
    assert r[("secretmanager.secret", "api-key-auto")]["id"] == (
        "//secretmanager.googleapis.com/projects/300000000001/secrets/api-key-auto"
    )
    assert _where(r[("secretmanager.secret", "checkout-signing-key")]) == [
        ("europe-west1", "primary", None),
        ("europe-west4", "replica", None),
    ]
    # Bigtable: every cluster holds a replica, at its zone.
    assert _where(r[("bigtable.instance", "metrics")]) == [
        ("europe-west4", "primary", "europe-west4-a"),
        ("australia-southeast1", "replica", "australia-southeast1-b"),
    ]
    # Firestore multi-regions, Memorystore zones, log buckets, KMS, Artifact Registry, Filestore, ...
    assert [loc["countries"] for loc in r[("firestore.database", "events-nam5")]["locations"]] == [["US"]]
    assert set(r[("firestore.database", "orders-eur3")]["locations"][0]["countries"]) == {"BE", "NL", "FI"}
    (london,) = r[("redis.instance", "sessions-london")]["locations"]
    assert (london["region"], london["zone"], london["countries"]) == ("europe-west2", "europe-west2-a", ["GB"])
    assert "europe-west2-b" in london["detail"]
    shop_default = next(
        x for x in report["resources"] if x["kind"] == "logging.bucket" and x["owner"]["id"] == "shop-prod"
    )
    assert shop_default["id"] == "//logging.googleapis.com/projects/shop-prod/locations/global/buckets/_Default"
    assert [(loc["region"], loc["known"]) for loc in shop_default["locations"]] == [("global", False)]
    assert _where(r[("kms.keyring", "ledger-keys")]) == [("europe-west4", "primary", None)]
    assert _where(r[("artifactregistry.repository", "ledger-images")]) == [("europe-west4", "primary", None)]
    assert _where(r[("filestore.instance", "ledger-share")]) == [("europe-west4", "primary", "europe-west4-a")]
    nightly = r[("filestore.backup", "ledger-share-nightly")]
    assert _where(nightly) == [("europe-west4", "backup", None)]
    assert nightly["attributes"]["source_instance"].endswith("/instances/ledger-share")
    assert _where(r[("dataproc.cluster", "ledger-etl")]) == [("europe-west4", "primary", "europe-west4-b")]
    assert _where(r[("composer.environment", "ledger-airflow")]) == [("europe-west4", "primary", None)]
    assert _where(r[("vertexai.dataset", "ledger-training")]) == [("europe-west4", "primary", None)]
    assert _where(r[("vertexai.endpoint", "ledger-scoring")]) == [("europe-west4", "primary", None)]
    # Every record of a modelled kind says its footprint is modelled.
    declared = {k.name for k in KINDS}
    assert {x["judged"] for x in report["resources"] if x["kind"] in declared} == {"footprint", "primary"}
    assert {x["kind"] for x in report["resources"] if x["judged"] == "primary"} == {"bigquery.dataset"}

    gcp.asset_enabled.add(f"organizations/{ORG}")
    _, by_asset = scan(gcp, tmp_path, capsys, "--inventory", "asset")
    assert _view(by_asset) == _view(report)
    assert {_key(f) for f in by_asset["findings"]} == {_key(f) for f in report["findings"]} == EXPECTED_FINDINGS


def test_log_sinks_are_copies_at_their_destination(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sink's logs are where its destination is: a log bucket at the location in its name, a bucket,
    dataset or topic of the scan where that resource is; anything else is unknown."""
    data = gcp.projects["data-platform"]
    gcp.log_sink(data, "to-eu-bucket", "storage.googleapis.com/invoices-eu")
    gcp.log_sink(data, "to-topic", "pubsub.googleapis.com/projects/ledger-nl/topics/ledger-notifications")
    gcp.log_sink(data, "to-foreign-bucket", "storage.googleapis.com/someone-elses-bucket")
    gcp.log_sink(data, "to-foreign-log-bucket", "logging.googleapis.com/projects/x/locations/us-east1/buckets/b")
    gcp.log_sink(data, "to-other-project", "logging.googleapis.com/projects/other-project")
    _, report = scan(gcp, tmp_path, capsys, "--services", "logging,storage,pubsub,bigquery", "--inventory", "services")
    sinks = {x["name"]: x for x in report["resources"] if x["kind"] == "logging.sink"}
    assert _where(sinks["audit-to-bigquery"]) == [("us", "replica", None)]
    assert _where(sinks["audit-archive"]) == [("europe-west4", "replica", None)]
    assert _where(sinks["to-eu-bucket"]) == [("eu", "replica", None)]
    assert _where(sinks["to-topic"]) == [("europe-west4", "replica", None)]  # the topic's organisation policy
    assert _where(sinks["to-foreign-log-bucket"]) == [("us-east1", "replica", None)]
    for name in ("to-foreign-bucket", "to-other-project"):
        (loc,) = sinks[name]["locations"]
        assert loc["region"] is None and loc["known"] is False and "unknown" in loc["detail"]
    assert sinks["to-eu-bucket"]["attributes"]["destination"] == "storage.googleapis.com/invoices-eu"
    assert {_key(f) for f in report["findings"] if f["resource_kind"] == "logging.sink"} == {
        ("RA-EU-UNKNOWN", "logging.sink", "_Default", "replica", "global"),
        ("RA-EU-UNKNOWN", "logging.sink", "_Required", "replica", "global"),
        ("RA-US-SOIL", "logging.sink", "audit-to-bigquery", "replica", "us"),
        ("RA-US-SOIL", "logging.sink", "to-foreign-log-bucket", "replica", "us-east1"),
        ("RA-EU-UNKNOWN", "logging.sink", "to-foreign-bucket", "replica", None),
        ("RA-EU-UNKNOWN", "logging.sink", "to-other-project", "replica", None),
    }


def test_a_topic_without_a_storage_policy_follows_the_organisation_policy(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`pubsub.allowedPersistenceRegions` along project -> folders -> organisation (Org Policy v2, each
    node's own policy read once per scan); no policy anywhere: any region, so unknown."""
    org, eu_folder = f"organizations/{ORG}", "folders/200000000002"
    constraint = "pubsub.allowedPersistenceRegions"
    gcp.org_policy(org, {"rules": [{"values": {"allowedValues": ["in:eu-locations"]}}]}, constraint)
    gcp.org_policy(  # eu-workloads merges in London, then denies Belgium
        eu_folder,
        {"rules": [{"values": {"allowedValues": ["europe-west2"], "deniedValues": ["europe-west1"]}}],
         "inheritFromParent": True},
        constraint,
    )  # fmt: skip
    shop, data = gcp.projects["shop-prod"], gcp.projects["data-platform"]
    for i in range(3):
        gcp.topic(shop, f"shop-events-{i}")
    gcp.topic(data, "data-events")
    _, report = scan(gcp, tmp_path, capsys, "--services", "pubsub", "--inventory", "services")
    topics = {x["name"]: x for x in report["resources"]}
    shop_regions = {loc["region"] for loc in topics["shop-events-0"]["locations"]}
    assert "europe-west2" in shop_regions and "europe-west1" not in shop_regions and "europe-west4" in shop_regions
    assert all("set at folders/200000000002" in loc["detail"] for loc in topics["shop-events-0"]["locations"])
    data_regions = {loc["region"] for loc in topics["data-events"]["locations"]}
    assert "europe-west1" in data_regions and "europe-west2" not in data_regions  # the organisation's list
    assert _where(topics["ledger-notifications"]) == [("europe-west4", "primary", None)]
    assert {_key(f) for f in report["findings"]} == {
        ("RA-EU-OUTSIDE", "pubsub.topic", f"shop-events-{i}", "primary", "europe-west2") for i in range(3)
    }
    reads = [urlsplit(r.path).path for r in gcp.log if "/policies/" in r.path]
    assert sorted(reads) == sorted(set(reads))  # each node once, however many topics and projects
    assert {p.rsplit("/policies/", 1)[1] for p in reads} == {constraint}
    assert f"/v2/{org}/policies/{constraint}" in reads

    gcp.fail("orgpolicy", 403, scope=eu_folder)
    _, report = scan(gcp, tmp_path, capsys, "--services", "pubsub", "--inventory", "services")
    (loc,) = next(x for x in report["resources"] if x["name"] == "shop-events-0")["locations"]
    assert loc["region"] is None and "not readable (403)" in loc["detail"]  # fails closed, not a gap
    assert report["scan"]["gaps"] == []


def test_a_custom_spanner_configuration_that_cannot_be_read_fails_closed(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gcp.spanner_instance(gcp.projects["data-platform"], "orphan-config", "custom-gone")  # no instanceConfigs entry
    _, report = scan(gcp, tmp_path, capsys, "--services", "spanner", "--inventory", "services")
    (loc,) = _by_name(report)[("spanner.instance", "orphan-config")]["locations"]
    assert loc["region"] == "spanner/custom-gone" and loc["known"] is False and "not readable (404)" in loc["detail"]
    assert ("RA-EU-UNKNOWN", "spanner.instance", "orphan-config", "primary", "spanner/custom-gone") in {
        _key(f) for f in report["findings"]
    }


def test_a_location_that_does_not_answer_is_a_gap_for_that_location_only(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """APIs without a project-wide list are read per location: one failing location is one gap."""
    ledger = gcp.projects["ledger-nl"]
    gcp.key_ring(ledger, "ledger-keys-be", "europe-west1")
    gcp.fail("cloudkms", 403, scope="ledger-nl@europe-west4")
    code, report = scan(gcp, tmp_path, capsys, "--services", "cloudkms", "--inventory", "services")
    assert [(g["scope"], g["region"], g["service"], g["code"]) for g in report["scan"]["gaps"]] == [
        ("ledger-nl", "europe-west4", "cloudkms", "403")
    ]
    assert {x["name"] for x in report["resources"]} == {"ledger-keys-be"}
    assert code == 3 and report["scan"]["complete"] is False


def test_vertex_ai_is_read_on_its_regional_endpoints(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scan(gcp, tmp_path, capsys, "--services", "aiplatform", "--project", "ledger-nl", "--inventory", "services")
    hosts = {
        next(v for k, v in r.headers.items() if k.lower() == "host")
        for r in gcp.log
        if "/datasets" in r.path or "/endpoints" in r.path
    }
    assert hosts == {f"{loc}-aiplatform.googleapis.com" for loc in ("europe-west1", "europe-west4", "us-central1")}
    listed = [r for r in gcp.log if urlsplit(r.path).path == "/v1/projects/ledger-nl/locations"]
    assert {next(v for k, v in r.headers.items() if k.lower() == "host") for r in listed} == {
        "aiplatform.googleapis.com"
    }


# --------------------------------------------------------------------------- every other type


def test_a_type_without_a_reader_is_still_judged_at_its_location(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cloud Asset Inventory searches every asset type: what no kind reads is judged where Asset
    Inventory says it is, by the category the classification table gives its type (none: as data)."""
    data = gcp.projects["data-platform"]
    gcp.asset(
        data, "dataflow.googleapis.com/Job", "projects/data-platform/locations/us-central1/jobs/nightly", "us-central1"
    )
    gcp.asset(
        data,
        "workflows.googleapis.com/Workflow",
        "projects/data-platform/locations/europe-west4/workflows/w",
        "europe-west4",
    )
    gcp.asset(
        data,
        "example.googleapis.com/Widget",
        "projects/data-platform/locations/europe-west2-a/widgets/w1",
        "europe-west2-a",
    )
    gcp.asset(data, "compute.googleapis.com/Network", "projects/data-platform/global/networks/default", "global")
    gcp.asset(data, "example.googleapis.com/Gadget", "projects/data-platform/gadgets/g", "")  # no location
    # Inside a modelled record: judged with it (its footprint), not on its own.
    gcp.asset(
        gcp.projects["shop-prod"],
        "secretmanager.googleapis.com/SecretVersion",
        "projects/300000000001/secrets/api-key-auto/versions/1",
        "global",
    )
    gcp.asset(
        gcp.projects["ledger-nl"],
        "cloudkms.googleapis.com/CryptoKey",
        "projects/ledger-nl/locations/europe-west4/keyRings/ledger-keys/cryptoKeys/k",
        "europe-west4",
    )
    gcp.asset_enabled.add(f"organizations/{ORG}")
    code, report = scan(gcp, tmp_path, capsys)
    assert code == 1 and report["scan"]["gaps"] == []
    assert report["scan"]["context"]["inventory"] == {f"organizations/{ORG}": "asset"}
    search = [r for r in gcp.log if ":searchAllResources" in r.path]
    assert search and not any("assetTypes" in r.path for r in search)  # no type filter
    generic = {x["kind"]: x for x in report["resources"] if x["kind"] not in {k.name for k in KINDS}}
    assert set(generic) == {
        "dataflow.googleapis.com/Job",
        "workflows.googleapis.com/Workflow",
        "example.googleapis.com/Widget",
        "example.googleapis.com/Gadget",
        "compute.googleapis.com/Network",
        "secretmanager.googleapis.com/SecretVersion",
        "cloudkms.googleapis.com/CryptoKey",
    }
    job = generic["dataflow.googleapis.com/Job"]
    assert job["id"] == "//dataflow.googleapis.com/projects/data-platform/locations/us-central1/jobs/nightly"
    assert (job["judged"], job["category"], job["owner"]["id"]) == ("primary", "compute", "data-platform")
    assert generic["example.googleapis.com/Widget"]["category"] == "unknown"
    assert _where(generic["example.googleapis.com/Widget"]) == [("europe-west2", "primary", "europe-west2-a")]
    assert generic["compute.googleapis.com/Network"]["category"] == "control"
    found = {_key(f) for f in report["findings"]}
    assert found - EXPECTED_FINDINGS == {
        ("RA-US-SOIL", "dataflow.googleapis.com/Job", "nightly", "primary", "us-central1"),
        ("RA-EU-OUTSIDE", "example.googleapis.com/Widget", "w1", "primary", "europe-west2"),
        ("RA-CONTROL-PLANE", "compute.googleapis.com/Network", "default", "primary", "global"),
        ("RA-EU-UNKNOWN", "example.googleapis.com/Gadget", "g", "primary", None),
    }
    version = generic["secretmanager.googleapis.com/SecretVersion"]
    assert (version["judged"], version["part_of"]) == (
        "parent",
        "//secretmanager.googleapis.com/projects/300000000001/secrets/api-key-auto",
    )
    key = generic["cloudkms.googleapis.com/CryptoKey"]
    assert key["part_of"].endswith("/keyRings/ledger-keys") and key["judged"] == "parent"
    assert found >= EXPECTED_FINDINGS
    coverage = {c["type"]: c for c in report["scan"]["coverage"]}
    assert coverage["dataflow.googleapis.com/Job"]["judged"] == {"primary": 1}
    assert coverage["spanner.instance"]["judged"] == {"footprint": 3}

    # Never twice: a resource a kind reads is its kind's record (its footprint), not also a generic one.
    ids = [x["id"] for x in report["resources"]]
    assert len(ids) == len(set(ids))
    assert not {x["kind"] for x in report["resources"]} & set(ASSET_TYPES)
    _, by_services = scan(gcp, tmp_path, capsys, "--inventory", "services")
    assert {x["id"] for x in report["resources"]} - {x["id"] for x in by_services["resources"]} == {
        x["id"] for x in generic.values()
    }


def test_the_per_service_path_says_what_it_cannot_see_in_every_output(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gcp.asset(
        gcp.projects["data-platform"], "dataflow.googleapis.com/Job", "projects/data-platform/jobs/j", "us-central1"
    )
    _, report = scan(gcp, tmp_path, capsys, "--inventory", "services")
    assert not any(x["kind"] == "dataflow.googleapis.com/Job" for x in report["resources"])  # not seen here
    (note,) = [n for n in report["scan"]["notes"] if "listed per service" in n]
    assert note.startswith(f"gcp: organizations/{ORG}: listed per service, which reads only the {len(KINDS)} modelled")
    assert "resources of every other type are not seen or judged on this path" in note
    assert all(f"{k.name}," in note or f"{k.name})" in note for k in KINDS)
    for fmt in ("table", "markdown", "sarif", "junit"):
        _, text = scan(gcp, tmp_path, capsys, "--inventory", "services", fmt=fmt)
        assert "not seen or judged on this path" in " ".join(text.split()), fmt


# --------------------------------------------------------------------------- the guard


def test_a_request_that_does_not_name_its_api_is_refused_where_paths_repeat(gcp: GcpEmulator) -> None:
    """Spanner and Cloud SQL both list `/v1/projects/P/instances`; Memorystore and Filestore both
    `/v1/projects/P/locations/-/instances`: the guard must know which API a request is for."""
    adapter = GcpAdapter.create(anonymous=True, endpoints={"*": gcp.url})
    for path in ("/v1/projects/shop-prod/instances", "/v1/projects/shop-prod/locations/-/instances"):
        assert route_of("GET", path) is None
        with pytest.raises(ReadOnlyViolation):
            adapter.session.request("GET", gcp.url + path)
    assert gcp.log == []
    doc = adapter.get_json("spanner", "/v1/projects/shop-prod/instances")
    assert {i["name"].rsplit("/", 1)[-1] for i in doc["instances"]} <= {"payments-nam3", "checkout-custom"}
    (req,) = gcp.log
    assert host_service(req.headers) == "spanner"
    assert route_of("GET", "/v1/projects/shop-prod/instances", "spanner").method == "instances.list"  # type: ignore[union-attr]


def test_subscriptions_are_where_their_topic_keeps_messages_and_where_they_write_them(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shop, data = gcp.projects["shop-prod"], gcp.projects["data-platform"]
    orders = gcp.topic(shop, "orders-eu", ["europe-west1", "europe-west4"])
    gcp.subscription(shop, "orders-to-bq", orders, bigquery_table="data-platform.analytics_us.orders")
    gcp.subscription(shop, "orders-to-gcs", orders, bucket="invoices-eu")
    gcp.subscription(data, "foreign", "projects/someone-else/topics/t")
    _, report = scan(gcp, tmp_path, capsys, "--services", "pubsub,bigquery,storage", "--inventory", "services")
    subs = {x["name"]: x for x in report["resources"] if x["kind"] == "pubsub.subscription"}
    assert _where(subs["orders-to-bq"]) == [
        ("europe-west1", "primary", None),
        ("europe-west4", "primary", None),
        ("us", "replica", None),
    ]
    assert _where(subs["orders-to-gcs"])[-1] == ("eu", "replica", None)
    assert _where(subs["ledger-notifications-worker"]) == [("europe-west4", "primary", None)]
    (foreign,) = subs["foreign"]["locations"]
    assert foreign["region"] is None and "not in this scan" in foreign["detail"]
    assert {_key(f) for f in report["findings"] if f["resource_kind"] == "pubsub.subscription"} == {
        ("RA-US-SOIL", "pubsub.subscription", "orders-to-bq", "replica", "us"),
        ("RA-EU-UNKNOWN", "pubsub.subscription", "foreign", "primary", None),
    }
    gcp.asset_enabled.add(f"organizations/{ORG}")
    _, by_asset = scan(gcp, tmp_path, capsys, "--services", "pubsub,bigquery,storage")
    assert _view(by_asset) == _view(report)


def test_a_resolver_that_fails_is_a_gap_and_keeps_what_was_read(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed organisation policy: the topic it governs is kept (unknown: fails closed), and the
    scan says it is incomplete, on both paths."""
    gcp.org_policy("projects/ledger-nl", {"rules": "not a list"}, "pubsub.allowedPersistenceRegions")
    for extra in (("--inventory", "services"), ("--inventory", "asset")):
        gcp.asset_enabled.add(f"organizations/{ORG}")
        code, report = scan(gcp, tmp_path, capsys, "--services", "pubsub", *extra)
        assert [(g["scope"], g["service"]) for g in report["scan"]["gaps"]] == [("ledger-nl", "pubsub")], extra
        topic = next(x for x in report["resources"] if x["name"] == "ledger-notifications")
        assert [loc["region"] for loc in topic["locations"]] == [None]
        assert ("RA-EU-UNKNOWN", "pubsub.topic", "ledger-notifications", "primary", None) in {
            _key(f) for f in report["findings"]
        }
        assert code == 1
