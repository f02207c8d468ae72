"""A scan spooled to disk (`--spool-after`) reports exactly what the same scan held in memory
reports: every output format, the store, exceptions, and the adapters' closing passes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from residency_audit.core import Collector
from residency_audit.model import Location, Owner, Resource, Scan, ScanRequest
from residency_audit.spool import Spool
from residency_emulator.aws import AwsEmulator
from residency_emulator.azure import FakeArm
from residency_emulator.estate import seed_aws
from residency_emulator.gcp import GcpEmulator

from .cloud_support import point_at_azure
from .conftest import read_json, run_cli
from .test_copies_live_gcp_azure import AZ_DISK, AZ_SNAP, seed_azure_acme
from .test_exceptions import LATER, YESTERDAY, entry, exceptions_file

# --------------------------------------------------------------------------- the spool itself

items = st.one_of(
    st.text(max_size=30),
    st.integers(),
    st.tuples(st.text(max_size=5), st.lists(st.integers(), max_size=4)),
    st.binary(min_size=0, max_size=64),
)


@given(
    batches=st.lists(st.lists(items, max_size=40), max_size=6),
    big=st.booleans(),
)
def test_spool_reads_back_what_a_list_holds(batches: list[list[Any]], big: bool) -> None:
    spool: Spool[Any] = Spool()
    model: list[Any] = []
    try:
        for batch in batches:
            spool.extend(batch)
            model.extend(batch)
            if big:  # an item larger than one read (`_CHUNK`)
                spool.append(b"x" * 300_000)
                model.append(b"x" * 300_000)
            assert len(spool) == len(model) and bool(spool) == bool(model)
            assert list(spool) == model
        for i in range(-len(model), len(model)):
            assert spool[i] == model[i]
        assert spool[1:7:2] == model[1:7:2]
        with pytest.raises(IndexError):
            spool[len(model)]
        # two readers at once, each on its own offsets
        assert [(a, b) for a, b in zip(spool, reversed(list(spool)), strict=True)] == list(
            zip(model, reversed(model), strict=True)
        )
        spool.rewrite(lambda x: (x,))
        assert list(spool) == [(x,) for x in model]
    finally:
        spool.close()


def _res(i: int, region: str, role: str = "primary") -> Resource:
    owner = Owner("account", "111122223333", "prod")
    return Resource(
        "aws", "s3.bucket", f"arn:aws:s3:::b{i}", f"b{i}", owner, [Location(region, role)], tags={"n": str(i)}
    )


@pytest.mark.parametrize("spool_after", [0, 2, None])
def test_collector_merges_a_second_sighting_spooled_or_not(spool_after: int | None) -> None:
    collector = Collector(Scan(ScanRequest(provider="aws")), spool_after=spool_after)
    for i in range(5):
        collector.add(_res(i, "eu-west-1"))
    collector.add(_res(1, "us-east-1", "replica"))  # seen again from another region
    collector.add(_res(1, "eu-west-1"))  # and once more, nothing new
    collector.add(_res(4, "eu-central-1", "backup"))
    got = [(r.id, [(loc.region, loc.role) for loc in r.locations], r.tags) for r in collector.collected()]
    assert got == [
        ("arn:aws:s3:::b0", [("eu-west-1", "primary")], {"n": "0"}),
        ("arn:aws:s3:::b1", [("eu-west-1", "primary"), ("us-east-1", "replica")], {"n": "1"}),
        ("arn:aws:s3:::b2", [("eu-west-1", "primary")], {"n": "2"}),
        ("arn:aws:s3:::b3", [("eu-west-1", "primary")], {"n": "3"}),
        ("arn:aws:s3:::b4", [("eu-west-1", "primary"), ("eu-central-1", "backup")], {"n": "4"}),
    ]
    assert (collector.spool is not None) == (spool_after is not None and spool_after < 5)
    # a closing pass (canonical link targets) changes what is kept, on disk too
    collector.rewrite(lambda r: r.tags.update(seen="twice") if r.name == "b1" else None)
    assert [r.tags.get("seen") for r in collector.collected()] == [None, "twice", None, None, None]


class _SameHash(str):
    """An id whose hash every other one shares: the spool's index must still tell them apart."""

    __slots__ = ()

    def __hash__(self) -> int:
        return 42


def test_ids_that_share_a_hash_stay_apart_spooled() -> None:
    collector = Collector(Scan(ScanRequest(provider="aws")), spool_after=0)
    owner = Owner("account", "111122223333")
    for rid, region in (
        ("arn:a", "eu-west-1"),
        ("arn:b", "eu-west-1"),
        ("arn:a", "us-east-1"),
        ("arn:c", "eu-north-1"),
    ):
        collector.add(Resource("aws", "s3.bucket", _SameHash(rid), rid, owner, [Location(region)]))
    got = [(r.id, [loc.region for loc in r.locations]) for r in collector.collected()]
    assert got == [("arn:a", ["eu-west-1", "us-east-1"]), ("arn:b", ["eu-west-1"]), ("arn:c", ["eu-north-1"])]


def test_judging_resources_read_back_does_not_keep_their_locations() -> None:
    """Read back from a spool every resource has its own Location: the judge's memo of shared
    locations stays bounded, and each is judged as a lone resource is."""
    from residency_audit.engine import _LOCATION_MEMO, Judge, evaluate, load_rules
    from residency_audit.geography import default_catalog

    rules, catalog = load_rules(), default_catalog()
    alone = evaluate([_res(0, "us-east-1")], rules, catalog)
    assert alone, "a bucket in Virginia has findings"
    judge = Judge(rules, catalog)
    for i in range(3 * _LOCATION_MEMO):
        found: list[Any] = []
        judge(_res(i, "us-east-1" if i % 2 else "eu-west-1"), found)
        assert len(judge._memo) <= _LOCATION_MEMO
        if i % 2:
            assert [(f.rule_id, f.location.place.code if f.location else None) for f in found] == [
                (f.rule_id, f.location.place.code if f.location else None) for f in alone
            ]


# --------------------------------------------------------------------------- whole scans


def _normal(report: dict[str, Any]) -> dict[str, Any]:
    """A JSON report without what differs between two runs of one scan (ids, times, thread order)."""
    scan = report["scan"]
    for key in ("id", "started_at", "finished_at"):
        scan.pop(key)
    scan["notes"] = sorted(scan["notes"])
    scan["gaps"] = sorted(json.dumps(g, sort_keys=True) for g in scan["gaps"])
    report["resources"] = sorted(report["resources"], key=lambda r: r["id"])
    report["findings"] = sorted(report["findings"], key=lambda f: json.dumps(f, sort_keys=True))
    return report


_VOLATILE = re.compile(r"[0-9a-f]{32}|\d{4}-\d\d-\d\dT[\d:.]+(\+00:00|Z)?|\d+(\.\d+)? ?(s|ms)\b")


def _sarif(path: Path) -> list[Any]:
    run = read_json(path)["runs"][0]
    return sorted((json.dumps(r, sort_keys=True) for r in run["results"]), key=str)


def test_aws_scan_spooled_reports_what_the_scan_in_memory_reports(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_aws(aws_env)
    base = ["scan", "aws", "--regions", "eu-west-1,eu-west-2,us-east-1", "--workers", "1", "--exit-zero"]
    # one finding suppressed, one expired exception reported (a resource and a finding added after judging)
    first = ["--regions", "eu-west-1,eu-west-2,us-east-1", "--workers", "1", "-q", "-f", "json", "--no-store"]
    run_cli(["scan", "aws", *first, "-o", str(tmp_path / "probe.json")], capsys)
    probe = read_json(tmp_path / "probe.json")
    target = next(f for f in probe["findings"] if f["region"] == "us-east-1")
    exc = exceptions_file(
        tmp_path,
        entry(target["rule_id"], target["resource_id"], LATER, ident="EX-1"),
        entry("RA-*", "arn:aws:s3:::nothing-*", YESTERDAY, ident="EX-OLD"),
    )
    runs: dict[str, dict[str, Any]] = {}
    for label, spool in (("memory", "1000000"), ("spooled", "0"), ("spilled", "3")):
        d = tmp_path / label
        d.mkdir()
        common = [*base, "--spool-after", spool, "--exceptions", str(exc)]
        outs: dict[str, Any] = {}
        for fmt in ("json", "sarif", "markdown", "junit"):
            out = d / f"scan.{fmt}"
            store = ["--store", str(d / "history.db")] if fmt == "json" else ["--no-store"]
            code, _, err = run_cli([*common, "-q", "-f", fmt, "-o", str(out), *store], capsys)
            assert code == 0 and "Traceback" not in err, err
            outs[fmt] = out
        code, table, _ = run_cli([*common, "--no-store", "-f", "table"], capsys)
        assert code == 0
        from residency_audit.outputs import jsonout
        from residency_audit.store import open_store

        with open_store(str(d / "history.db")) as st_:
            (info,) = st_.scans()
            loaded = _normal(jsonout.to_dict(st_.load(info.id)))
        runs[label] = {
            "json": _normal(read_json(outs["json"])),
            "sarif": _sarif(outs["sarif"]),
            "markdown": sorted(_VOLATILE.sub("~", outs["markdown"].read_text("utf-8")).splitlines()),
            "junit": sorted(_VOLATILE.sub("~", outs["junit"].read_text("utf-8")).splitlines()),
            "table": _VOLATILE.sub("~", table),
            "store": loaded,
        }
    memory = runs["memory"]
    rep = memory["json"]
    assert any(f["suppressed_by"] == "EX-1" for f in rep["findings"])
    assert "exception:EX-OLD" in {r["id"] for r in rep["resources"]}
    assert len(rep["resources"]) > 10 and len(rep["findings"]) > 3
    for label in ("spooled", "spilled"):
        for key, value in memory.items():
            assert runs[label][key] == value, (label, key)


def test_gcp_scan_spooled_reports_what_the_scan_in_memory_reports(
    gcp: GcpEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Google Cloud's closing pass respells link targets (a backup names its instance by project
    number, the instance list by project id): what it changed is kept on disk too."""
    p = gcp.project("acme-prod", "400000000001")
    share = gcp.filestore_instance(p, "acme-share", "europe-west4-a")
    backup = gcp.filestore_backup(p, "acme-share-nightly", "europe-west4", share)
    backup["sourceInstance"] = share["name"].replace("projects/acme-prod/", "projects/400000000001/")
    target = "//file.googleapis.com/projects/acme-prod/locations/europe-west4-a/instances/acme-share"
    reports = []
    for spool in ("1000000", "0"):
        out = tmp_path / f"gcp-{spool}.json"
        args = ["scan", "gcp", "--endpoint", gcp.url, "--anonymous", "-f", "json", "-o", str(out), "-q", "--no-store"]
        run_cli([*args, "--spool-after", spool], capsys)
        reports.append(_normal(read_json(out)))
        (record,) = [r for r in reports[-1]["resources"] if r["name"] == "acme-share-nightly"]
        assert record["links"] == [{"relation": "copy-of", "target": target, "how": "backup"}]
    assert len(reports[0]["resources"]) > 30
    assert reports[1] == reports[0]


@pytest.fixture(scope="module")
def azure_fake() -> Any:
    fake = FakeArm().start()
    yield fake
    fake.stop()


def test_azure_scan_spooled_reports_what_the_scan_in_memory_reports(
    azure_fake: FakeArm, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Azure's closing passes settle copies from the whole inventory and respell ARM ids (a
    snapshot names its source disk in another case): what they changed is kept on disk too."""
    point_at_azure(azure_fake, monkeypatch)
    azure_fake.reset()  # the copies tests' estate instead of the sample one
    seed_azure_acme(azure_fake)
    reports = []
    for spool in ("1000000", "0"):
        out = tmp_path / f"azure-{spool}.json"
        args = ["scan", "azure", "--endpoint", azure_fake.url, "-f", "json", "-o", str(out), "-q", "--no-store"]
        run_cli([*args, "--spool-after", spool], capsys)
        reports.append(_normal(read_json(out)))
        (snap,) = [r for r in reports[-1]["resources"] if r["id"].lower() == AZ_SNAP.lower()]
        assert {link["target"] for link in snap["links"]} == {AZ_DISK}
    assert reports[1] == reports[0]


_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
from residency_audit.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_a_spool_that_cannot_be_written_stops_the_scan_with_one_line(aws_env: AwsEmulator) -> None:
    """A full disk or a file-size limit: the scan cannot keep what it saw, so it says so and exits 2,
    rather than reporting less; the same limit does not touch a scan held in memory."""
    import subprocess
    import sys

    if not hasattr(__import__("resource"), "RLIMIT_FSIZE"):
        pytest.skip("no file-size limit on this platform")
    seed_aws(aws_env)
    args = ["scan", "aws", "--regions", "eu-west-1,us-east-1", "-f", "json", "-q", "--no-store", "--exit-zero"]

    def run(spool: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-c", _LIMITED, "4096", *args, "--spool-after", spool]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300)

    spooled = run("0")
    assert spooled.returncode == 2, spooled.stderr
    (line,) = spooled.stderr.strip().splitlines()
    assert "cannot write the scan's temporary file" in line and "--spool-after" in line
    assert "Traceback" not in spooled.stderr and spooled.stdout == ""
    in_memory = run("1000000")
    assert in_memory.returncode == 0, in_memory.stderr
    assert json.loads(in_memory.stdout)["resources"]


_SWALLOWED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, hard))  # a full disk while the scan collects
from residency_audit.core import run_scan
from residency_audit.engine import load_rules
from residency_audit.errors import SpoolError
from residency_audit.geography import default_catalog
from residency_audit.model import Location, Owner, Resource, ScanRequest

class Adapter:  # like every adapter's task wrapper: a failure becomes a gap, the scan goes on
    provider = "aws"
    failures = 0
    def scan(self, collector):
        for i in range(2000):
            r = Resource("aws", "s3.bucket", f"arn:aws:s3:::b{i}", f"b{i}", Owner("account", "1"),
                         [Location("eu-west-1")], tags={"pad": "x" * 500})
            try:
                collector.add(r)
            except Exception:
                Adapter.failures += 1
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # room again: judging could write
try:
    run_scan(Adapter(), ScanRequest("aws"), load_rules(), default_catalog(), spool_after=0)
except SpoolError as exc:
    print("stopped", Adapter.failures > 0, exc)
else:
    print("reported", Adapter.failures)
"""


def test_a_spool_failure_a_reader_swallowed_still_stops_the_scan() -> None:
    """Adapters turn a failed task into a gap and go on; resources the spool could not keep must
    not end up as a smaller, seemingly complete scan, even when the disk has room again by the
    time the scan is judged."""
    import subprocess
    import sys

    if not hasattr(__import__("resource"), "RLIMIT_FSIZE"):
        pytest.skip("no file-size limit on this platform")
    done = subprocess.run([sys.executable, "-c", _SWALLOWED], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("stopped True cannot write the scan's temporary file"), done.stdout
