"""`copies` end to end on Google Cloud and Azure: the real CLI scans the fake GCP REST server and
the fake ARM server (real google-auth / azure-identity and SDK clients over real HTTP) into a
SQLite store, then lists every copy of a data set labelled `customer=acme`, follows the links the
adapters record (a VM's disks, their snapshots, images and restored disks, a machine image, a
Cloud SQL replica, a Pub/Sub subscription exporting to a bucket in another project, a log sink
into that bucket; an Azure snapshot of a disk, a geo-secondary database), and, after parts of it
are deleted in the fakes, verifies the erasure. Unrelated resources must never appear."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from residency_audit.model import CopyLink
from residency_emulator.azure import (
    _LOCATIONS,
    TENANT,
    FakeArm,
    arm_location,
    disk,
    replication_link,
    resource_group,
    snapshot,
    sql_database,
    sql_server,
    storage_account,
)
from residency_emulator.gcp import FakeProject, GcpEmulator

from .cloud_support import AZURE_IDENTITY_VARS, GOOGLE_VARS
from .conftest import read_json, run_cli

ACME = {"customer": "acme"}
GLOBEX = {"customer": "globex"}
SUB_ACME = "5e1c7a2b-3d4f-4a6b-8c9d-0e1f2a3b4c51"
SUB_OTHER = "6f2d8b3c-4e5a-4b7c-9d0e-1f2a3b4c5d62"

Row = tuple[str, str, str, str | None]  # (status, resource id, role, region)


# --------------------------------------------------------------------------- the estates


def gce(project: str, *path: str) -> str:
    return f"//compute.googleapis.com/projects/{project}/" + "/".join(path)


def arm(sub: str, rg: str, ptype: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{ptype}/{name}"


BUCKET = "//storage.googleapis.com/acme-media"
ARCHIVE = "//storage.googleapis.com/acme-archive-fi"
TOPIC = "//pubsub.googleapis.com/projects/acme-prod/topics/acme-events"
SUBSCRIPTION = "//pubsub.googleapis.com/projects/acme-prod/subscriptions/acme-events-archive"
SINK = "//logging.googleapis.com/projects/acme-prod/sinks/acme-audit"
VM = gce("acme-prod", "zones/europe-west4-a/instances/acme-app")
BOOT = gce("acme-prod", "zones/europe-west4-a/disks/acme-app")
DATA = gce("acme-prod", "zones/europe-west4-a/disks/acme-data")
NIGHTLY = gce("acme-prod", "global/snapshots/acme-data-nightly")
US_COPY = gce("acme-prod", "global/snapshots/acme-data-us")
MACHINE_IMAGE = gce("acme-prod", "global/machineImages/acme-app-mi")
IMAGE = gce("acme-prod", "global/images/acme-data-image")
RESTORED = gce("acme-dr", "zones/europe-north1-b/disks/acme-data-restore")
CRM = "//cloudsql.googleapis.com/projects/acme-prod/instances/acme-crm"
CRM_REPLICA = "//cloudsql.googleapis.com/projects/acme-prod/instances/acme-crm-replica"

ST = arm(SUB_ACME, "rg-acme", "Microsoft.Storage/storageAccounts", "stacmegrs")
AZ_DISK = arm(SUB_ACME, "rg-acme", "Microsoft.Compute/disks", "disk-acme-data")
AZ_SNAP = arm(SUB_ACME, "rg-acme", "Microsoft.Compute/snapshots", "snap-acme-data")
AZ_DB = arm(SUB_ACME, "rg-acme", "Microsoft.Sql/servers", "sql-acme/databases/crm")
AZ_DB_DR = arm(SUB_ACME, "rg-acme", "Microsoft.Sql/servers", "sql-acme-dr/databases/crm")

#: every copy of the acme data set, as `copies` must list it
CHECKLIST: set[Row] = {
    ("present", BUCKET, "primary", "eu"),
    ("present", TOPIC, "primary", "europe-west4"),
    ("present", SUBSCRIPTION, "primary", "europe-west4"),
    ("present", SUBSCRIPTION, "replica", "europe-north1"),  # written to the archive bucket
    ("present", ARCHIVE, "primary", "europe-north1"),
    # not the project's log sink that writes into the same bucket: it carries other data there
    ("present", VM, "primary", "europe-west4"),
    ("present", BOOT, "primary", "europe-west4"),
    ("present", DATA, "primary", "europe-west4"),
    ("present", NIGHTLY, "backup", "eu"),
    ("present", US_COPY, "backup", "us"),
    ("present", MACHINE_IMAGE, "backup", "europe-west4"),
    ("present", IMAGE, "backup", "europe-west1"),
    ("present", RESTORED, "primary", "europe-north1"),
    ("present", CRM, "primary", "europe-west4"),
    ("present", CRM, "backup", "eu"),
    ("present", CRM, "replica", "europe-west1"),
    ("present", CRM_REPLICA, "primary", "europe-west1"),
    ("present", CRM_REPLICA, "replica", "europe-west4"),
    ("present", ST, "primary", "westeurope"),
    ("present", ST, "secondary", "northeurope"),
    ("present", AZ_DISK, "primary", "westeurope"),
    ("present", AZ_SNAP, "backup", "swedencentral"),
    ("present", AZ_DB, "primary", "westeurope"),
    ("present", AZ_DB, "replica", "francecentral"),
    ("present", AZ_DB_DR, "primary", "francecentral"),
}
#: deleted first: a snapshot, the machine image, the restored disk, both replicas, the Azure snapshot
FIRST = {US_COPY, MACHINE_IMAGE, RESTORED, CRM_REPLICA, AZ_SNAP, AZ_DB_DR}
#: ... and with the replicas, their sources' replica locations
FIRST_FOOTPRINT = {(CRM, "replica", "europe-west1"), (AZ_DB, "replica", "francecentral")}


def seed_gcp_acme(emu: GcpEmulator) -> dict[str, FakeProject]:
    emu.reset()
    prod = emu.project("acme-prod", "400000000001", "Acme (production)")
    dr = emu.project("acme-dr", "400000000002", "Acme (disaster recovery)")
    other = emu.project("globex-prod", "400000000003", "Globex")
    emu.bucket(prod, "acme-media", "EU", "multi-region", labels=ACME)
    emu.bucket(dr, "acme-archive-fi", "EUROPE-NORTH1", "region")
    topic = emu.topic(prod, "acme-events", ["europe-west4"], labels=ACME)
    emu.subscription(prod, "acme-events-archive", topic, bucket="acme-archive-fi")
    emu.log_sink(prod, "acme-audit", "storage.googleapis.com/acme-archive-fi")
    data = emu.disk(prod, "acme-data", "europe-west4-a")
    vm = emu.instance(prod, "acme-app", "europe-west4-a", labels=ACME, data_disks=[data])
    nightly = emu.snapshot(prod, "acme-data-nightly", data, ["eu"])
    emu.snapshot(prod, "acme-data-us", data, ["us"])
    emu.machine_image(prod, "acme-app-mi", vm, ["europe-west4"])
    emu.image(prod, "acme-data-image", nightly, ["europe-west1"], key="sourceSnapshot")
    emu.disk(dr, "acme-data-restore", "europe-north1-b", source_snapshot=nightly)
    emu.sql(prod, "acme-crm", "europe-west4", backup_location="eu", labels=ACME)
    emu.sql(prod, "acme-crm-replica", "europe-west1", master="acme-crm")
    # Not the data set: a VM made from the same public image, its snapshot, other teams' resources.
    emu.instance(prod, "build-runner", "europe-west4-b")
    emu.snapshot(prod, "build-runner-nightly", prod.items("disks")[-1], ["europe-west4"])
    emu.bucket(prod, "acme-prod-tfstate", "EUROPE-WEST4", "region")
    emu.sql(prod, "tooling", "europe-west4")
    emu.instance(other, "globex-app", "europe-west1-b", labels=GLOBEX)
    emu.snapshot(other, "globex-app-nightly", other.items("disks")[-1], ["us"])
    emu.bucket(other, "globex-media", "EU", "multi-region", labels=GLOBEX)
    emu.front.clear_log()
    return {"prod": prod, "dr": dr, "other": other}


def seed_azure_acme(fake: FakeArm) -> None:
    fake.reset()
    fake.tenant_id = TENANT
    fake.locations = [arm_location(*loc) for loc in _LOCATIONS]
    fake.subscriptions = {SUB_ACME: {"displayName": "acme"}, SUB_OTHER: {"displayName": "globex"}}
    a, o = SUB_ACME, SUB_OTHER
    fake.resource_groups = {
        a: [resource_group(a, "rg-acme", "westeurope")],
        o: [resource_group(o, "rg-g", "westeurope")],
    }
    lrs = {"currentBackupStorageRedundancy": "Local", "requestedBackupStorageRedundancy": "Local"}
    partner = replication_link(AZ_DB, "5b1a0f0e-0000-4000-8000-000000000001", "sql-acme-dr", "crm", "France Central")
    fake.add_children(AZ_DB, "replicationLinks", [partner])
    fake.resources = {
        a: [
            storage_account(
                a,
                "rg-acme",
                "stacmegrs",
                "westeurope",
                tags=ACME,
                sku={"name": "Standard_GRS", "tier": "Standard"},
                kind="StorageV2",
                properties={"primaryLocation": "westeurope", "secondaryLocation": "northeurope"},
            ),
            disk(a, "rg-acme", "disk-acme-data", "westeurope", tags=ACME, sku={"name": "Premium_LRS"}),
            # ARM spells the source disk's id in its own case here: the link still finds the disk
            snapshot(
                a,
                "rg-acme",
                "snap-acme-data",
                "swedencentral",
                properties={"creationData": {"createOption": "Copy", "sourceResourceId": AZ_DISK.lower()}},
            ),
            sql_server(a, "rg-acme", "sql-acme", "westeurope"),
            sql_server(a, "rg-acme", "sql-acme-dr", "francecentral"),
            sql_database(a, "rg-acme", "sql-acme/crm", "westeurope", tags=ACME, properties={"status": "Online", **lrs}),
            sql_database(
                a,
                "rg-acme",
                "sql-acme-dr/crm",
                "francecentral",
                properties={"status": "Online", "createMode": "Secondary", "sourceDatabaseId": AZ_DB, **lrs},
            ),
        ],
        o: [
            storage_account(o, "rg-g", "stglobex", "westeurope", tags=GLOBEX, sku={"name": "Standard_LRS"}),
            disk(o, "rg-g", "disk-globex", "westeurope", tags=GLOBEX),
            snapshot(
                o,
                "rg-g",
                "snap-globex",
                "eastus",
                properties={
                    "creationData": {"sourceResourceId": arm(o, "rg-g", "Microsoft.Compute/disks", "disk-globex")}
                },
            ),
        ],
    }


def delete_gcp(emu: GcpEmulator, ids: set[str]) -> None:
    """The test's own emulator state: what 'deleting' in the cloud leaves behind (the tool never writes)."""
    for p in emu.projects.values():
        for collection, items in p.resources.items():
            items[:] = [i for i in items if _gcp_id(p, collection, i) not in ids]
        for inst in p.items("sql"):  # a deleted replica leaves its master's list
            names = [
                f"//cloudsql.googleapis.com/projects/{p.project_id}/instances/{n}" for n in inst.get("replicaNames", [])
            ]
            inst["replicaNames"] = [n.rsplit("/", 1)[-1] for n in names if n not in ids]


def _gcp_id(p: FakeProject, collection: str, item: dict[str, Any]) -> str:
    if "selfLink" in item and "/projects/" in str(item["selfLink"]):
        return "//compute.googleapis.com/projects/" + str(item["selfLink"]).split("/projects/", 1)[1]
    if collection == "buckets":
        return f"//storage.googleapis.com/{item['name']}"
    if collection == "sql":
        return f"//cloudsql.googleapis.com/projects/{p.project_id}/instances/{item['name']}"
    if collection == "logSinks":
        return f"//logging.googleapis.com/projects/{p.project_id}/sinks/{item['name']}"
    return f"//pubsub.googleapis.com/{item.get('name', '')}"


def delete_azure(fake: FakeArm, ids: set[str]) -> None:
    for items in fake.resources.values():
        items[:] = [r for r in items if r["id"] not in ids]
    if AZ_DB_DR in ids or AZ_DB in ids:  # the geo-replication link goes with the secondary
        fake.children.pop(f"{AZ_DB}/replicationLinks".lower(), None)


# --------------------------------------------------------------------------- running the CLI


@pytest.fixture(scope="module")
def arm_fake() -> Iterator[FakeArm]:
    server = FakeArm().start()
    yield server
    server.stop()


@pytest.fixture
def clouds(
    gcp_server: GcpEmulator, arm_fake: FakeArm, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[GcpEmulator, FakeArm, str]:
    seed_gcp_acme(gcp_server)
    seed_azure_acme(arm_fake)
    for key in (*GOOGLE_VARS, *AZURE_IDENTITY_VARS):
        monkeypatch.delenv(key, raising=False)
    for key, value in arm_fake.env().items():
        monkeypatch.setenv(key, value)
    return gcp_server, arm_fake, str(tmp_path / "residency.db")


def scan_both(
    gcp: GcpEmulator, azure: FakeArm, store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    """`scan gcp` and `scan azure`, recorded in `store`; their JSON reports."""
    reports = {}
    for cloud, target in (("gcp", ["--anonymous", "--endpoint", gcp.url]), ("azure", ["--endpoint", azure.url])):
        out = tmp_path / f"{cloud}-{len(list(tmp_path.glob(cloud + '-*')))}.json"
        code, _, err = run_cli(["scan", cloud, *target, "--store", store, "-f", "json", "-o", str(out), "-q"], capsys)
        assert code in (0, 1, 3) and "Traceback" not in err, err
        reports[cloud] = read_json(out)
    return reports


def copies(store: str, capsys: pytest.CaptureFixture[str], *extra: str, fmt: str = "json") -> tuple[int, str]:
    code, out, err = run_cli(["copies", "--tag", "customer=acme", "--store", store, "-f", fmt, *extra], capsys)
    assert code in (0, 1, 3) and "Traceback" not in err, err
    return code, out


def rows(items: list[dict[str, Any]]) -> set[Row]:
    return {(c["status"], c["resource_id"], c["role"], c["region"]) for c in items}


def keys(items: list[dict[str, Any]]) -> set[tuple[str, str, str | None]]:
    return {(c["resource_id"], c["role"], c["region"]) for c in items}


def json_to(path: Path) -> list[str]:
    return ["-f", "json", "-o", str(path), "-q"]


def since_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


UNRELATED = re.compile(r"globex|build-runner|tooling|tfstate|stglobex")


# --------------------------------------------------------------------------- the tests


def test_every_copy_of_the_data_set_is_listed_and_its_erasure_verified(
    clouds: tuple[GcpEmulator, FakeArm, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gcp, azure, store = clouds
    reports = scan_both(gcp, azure, store, tmp_path, capsys)
    assert reports["gcp"]["scan"]["gaps"] == [] and reports["azure"]["scan"]["gaps"] == []

    # 1. the checklist: exactly the data set's copies, and nothing unrelated
    code, out = copies(store, capsys)
    assert code == 0
    doc = json.loads(out)
    assert rows(doc["copies"]) == CHECKLIST
    assert doc["summary"] == {"copies": len(CHECKLIST), "not_verifiable": 0, "outside_eu": 1, "complete": True}
    assert not UNRELATED.search(out)
    by_key = {(c["resource_id"], c["role"], c["region"]): c for c in doc["copies"]}
    assert by_key[(DATA, "primary", "europe-west4")]["via"] == VM  # reached through the VM's labels
    assert by_key[(RESTORED, "primary", "europe-north1")]["via"] == NIGHTLY  # in another project
    assert by_key[(AZ_SNAP, "backup", "swedencentral")]["via"] == AZ_DISK  # whatever case ARM spelled it in
    assert by_key[(AZ_DB_DR, "primary", "francecentral")]["via"] == AZ_DB
    assert by_key[(US_COPY, "backup", "us")]["countries"] == ["US"]
    checklist = tmp_path / "checklist.json"
    checklist.write_text(out, "utf-8")

    # the Markdown checklist: one unticked line per copy, naming its id
    code, md = copies(store, capsys, fmt="markdown")
    every = md.split("## Every copy", 1)[1].split("## Not verifiable", 1)[0]
    assert every.count("- [ ] ") == len(CHECKLIST)
    assert set(re.findall(r"id `([^`]+)`", every)) == {rid for _, rid, _, _ in CHECKLIST}
    assert "- none: every copy the data set can have was seen" in md and not UNRELATED.search(md)

    # 2. part of it deleted: exactly the rest remains (exit 1)
    since = since_now()
    delete_gcp(gcp, FIRST)
    delete_azure(azure, FIRST)
    scan_both(gcp, azure, store, tmp_path, capsys)
    code, out = copies(store, capsys, "--verify-erased", "--since", since)
    doc = json.loads(out)
    gone = keys(doc["erased"])
    expected_gone = {(rid, role, region) for _, rid, role, region in CHECKLIST if rid in FIRST} | FIRST_FOOTPRINT
    assert code == 1 and doc["verdict"] == "copies remain"
    assert gone == expected_gone
    assert keys(doc["remaining"]) == {(rid, role, region) for _, rid, role, region in CHECKLIST} - gone
    assert doc["appeared"] == [] and doc["not_verifiable"] == [] and not UNRELATED.search(out)

    # 3. everything deleted: proven erased (exit 0), with its evidence bundle
    since = since_now()
    delete_gcp(gcp, {rid for _, rid, _, _ in CHECKLIST})
    delete_azure(azure, {rid for _, rid, _, _ in CHECKLIST})
    scan_both(gcp, azure, store, tmp_path, capsys)
    bundle = tmp_path / "evidence"
    args = ("--verify-erased", "--since", since, "--checklist", str(checklist))
    code, out = copies(store, capsys, *args, "--bundle", str(bundle))
    doc = json.loads(out)
    assert code == 0 and doc["verdict"] == "erased: no copy remains", doc["verdict"]
    assert keys(doc["erased"]) == {(rid, role, region) for _, rid, role, region in CHECKLIST}
    assert doc["remaining"] == [] and doc["appeared"] == [] and doc["not_verifiable"] == []
    names = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    assert {"SHA256SUMS", "erasure.json", "erasure.md", "manifest.json", "checklist.json"} <= set(names)
    assert sum(1 for n in names if n.startswith("scans/")) == 2  # the two scans it rests on
    erasure_md = (bundle / "erasure.md").read_text("utf-8")
    assert "**Verdict: erased: no copy remains.**" in erasure_md
    assert erasure_md.count("- [x] ") == len(CHECKLIST)
    code, verified, _ = run_cli(["report", "--verify", str(bundle)], capsys)
    assert code == 0, verified

    # 4. a rescan that could not read a project and a subscription proves nothing (exit 3)
    since = since_now()
    gcp.fail("compute", 403, "", scope="acme-dr")
    azure.denied.add(SUB_OTHER)
    reports = scan_both(gcp, azure, store, tmp_path, capsys)
    assert reports["gcp"]["scan"]["gaps"] and reports["azure"]["scan"]["gaps"]
    code, out = copies(store, capsys, *args)
    doc = json.loads(out)
    assert code == 3 and doc["verdict"].startswith("not proven"), doc["verdict"]
    blind = {(c["provider"], c["owner"]) for c in doc["not_verifiable"]}
    assert blind == {("gcp", "acme-dr"), ("azure", SUB_OTHER)}, doc["not_verifiable"]
    assert all(c["how"] == "not read" and c["status"] == "not verifiable" for c in doc["not_verifiable"])
    code, md = copies(store, capsys, *args, fmt="markdown")
    blind_md = md.split("## Not verifiable", 1)[1].split("## Erased", 1)[0]
    assert code == 3 and blind_md.startswith(f" ({len(doc['not_verifiable'])})"), blind_md
    assert blind_md.count("- [ ] ") == len(doc["not_verifiable"]) and "acme-dr" in blind_md and SUB_OTHER in blind_md


def test_google_cloud_links_are_the_same_on_both_inventory_paths(
    clouds: tuple[GcpEmulator, FakeArm, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Asset Inventory's versionedResources are the services' own JSON: the same links come out of it."""
    gcp, _, _ = clouds
    gcp.asset_enabled.update(f"projects/{p}" for p in gcp.projects)
    views = {}
    for path in ("services", "asset"):
        out = tmp_path / f"{path}.json"
        code, _, err = run_cli(
            ["scan", "gcp", "--anonymous", "--endpoint", gcp.url, "--inventory", path, "--no-store", *json_to(out)],
            capsys,
        )
        assert code in (0, 1) and "Traceback" not in err, err
        report = read_json(out)
        assert report["scan"]["gaps"] == []
        views[path] = {(r["id"], json.dumps(r.get("links", []), sort_keys=True)) for r in report["resources"]}
    assert views["services"] == views["asset"]
    links = {
        (rid, link["relation"], link["target"], link["how"]) for rid, ls in views["asset"] for link in json.loads(ls)
    }
    assert {
        (VM, "copies-to", BOOT, "attached disk"),
        (VM, "copies-to", DATA, "attached disk"),
        (NIGHTLY, "copy-of", DATA, "snapshot"),
        (IMAGE, "copy-of", NIGHTLY, "image of snapshot"),
        (MACHINE_IMAGE, "copy-of", VM, "machine image"),
        (RESTORED, "copy-of", NIGHTLY, "restored from snapshot"),
        (CRM_REPLICA, "copy-of", CRM, "read replica"),
        (CRM, "copies-to", CRM_REPLICA, "read replica"),
        (SUBSCRIPTION, "copy-of", TOPIC, "subscription"),
        (SUBSCRIPTION, "copies-to", ARCHIVE, "export"),
        (SINK, "copies-to", ARCHIVE, "log export"),
    } <= links
    # a boot disk made from a public image is not linked to it (every VM's disk would share it)
    assert not any("debian-cloud" in target for _, _, target, _ in links)


@pytest.mark.parametrize(
    ("ref", "name"),
    [
        (
            "https://www.googleapis.com/compute/v1/projects/p/zones/europe-west4-a/disks/d",
            "//compute.googleapis.com/projects/p/zones/europe-west4-a/disks/d",
        ),
        (
            "https://compute.googleapis.com/compute/beta/projects/p/global/snapshots/s?alt=json",
            "//compute.googleapis.com/projects/p/global/snapshots/s",
        ),
        ("projects/p/regions/europe-west4/disks/d", "//compute.googleapis.com/projects/p/regions/europe-west4/disks/d"),
        ("zones/europe-west4-a/disks/d", "//compute.googleapis.com/projects/home/zones/europe-west4-a/disks/d"),
        ("", ""),
        ("disks/d", ""),
    ],
)
def test_a_compute_reference_is_named_as_its_target_names_itself(ref: str, name: str) -> None:
    from residency_audit.providers.gcp.readbase import compute_name

    assert compute_name(ref, "home") == name


def test_a_link_spelled_with_the_project_number_names_the_project_id_record(
    gcp_server: GcpEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filestore names a backup's instance by project number, the instance list by project id."""
    from residency_audit.core import run_scan
    from residency_audit.engine import load_rules
    from residency_audit.geography import default_catalog
    from residency_audit.model import ScanRequest
    from residency_audit.providers.gcp.scan import GcpAdapter

    for key in GOOGLE_VARS:
        monkeypatch.delenv(key, raising=False)
    gcp_server.reset()
    p = gcp_server.project("acme-prod", "400000000001")
    share = gcp_server.filestore_instance(p, "acme-share", "europe-west4-a")
    backup = gcp_server.filestore_backup(p, "acme-share-nightly", "europe-west4", share)
    backup["sourceInstance"] = share["name"].replace("projects/acme-prod/", "projects/400000000001/")
    adapter = GcpAdapter.create(
        anonymous=True, endpoints={"*": gcp_server.url}, inventory="services", services=("file",)
    )
    result = run_scan(adapter, ScanRequest("gcp"), load_rules(), default_catalog())
    (record,) = [r for r in result.resources if r.kind == "filestore.backup"]
    target = "//file.googleapis.com/projects/acme-prod/locations/europe-west4-a/instances/acme-share"
    assert record.links == [CopyLink("copy-of", target, "backup")]
    assert target in {r.id for r in result.resources}
