"""`copies`: every copy of a data set, from recorded scans (real stores) and scan files, and the
verification after a deletion. Scans are built through the real catalog and rule engine
(`core.finish`), stored in real SQLite / PostgreSQL stores and read back by the command.
The end-to-end runs against the emulators are in tests/test_copies_live_aws.py and
tests/test_copies_live_gcp_azure.py.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from residency_audit.model import (
    ATTR_EARLIEST_DELETION,
    CopyLink,
    Gap,
    Location,
    Owner,
    Resource,
    ScanResult,
)
from residency_audit.outputs.jsonout import render as scan_json
from residency_audit.scanfile import read_scan
from residency_audit.store import open_store

from .conftest import run_cli
from .store_support import DATA, PROD, scan_of, store_urls

OTHER = Owner("account", "333333333333", "partner")  # never scanned
T0 = dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)
DELETION = "2026-11-20"
AFTER = dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)
ACME = {"customer": "acme"}


def r(
    kind: str,
    name: str,
    owner: Owner,
    *locs: tuple[str, str],
    tags: dict[str, str] | None = None,
    links: list[CopyLink] | None = None,
    judged: str = "footprint",
    attributes: dict[str, Any] | None = None,
) -> Resource:
    return Resource(
        "aws",
        kind,
        f"arn:aws:{kind}:{owner.id}:{name}",
        name,
        owner,
        [Location(region, role) for role, region in locs],
        dict(tags or {}),
        attributes=dict(attributes or {}),
        judged=judged,
        links=list(links or []),
    )


def rid(kind: str, name: str, owner: Owner) -> str:
    return f"arn:aws:{kind}:{owner.id}:{name}"


VOLUME = rid("ec2.volume", "acme-db-disk", PROD)
SNAP = rid("ec2.snapshot", "snap-acme", PROD)
TABLE = rid("dynamodb.table", "acme-orders", DATA)


def estate() -> list[Resource]:
    """The acme data set spread over kinds, regions and accounts, plus what must stay out of it."""
    return [
        r("ec2.volume", "acme-db-disk", PROD, ("primary", "eu-central-1"), tags=ACME),
        r(
            "ec2.snapshot",
            "snap-acme",
            PROD,
            ("backup", "eu-central-1"),
            links=[CopyLink("copy-of", VOLUME, "snapshot")],
        ),
        r(
            "ec2.snapshot",
            "snap-acme-virginia",
            PROD,
            ("backup", "us-east-1"),
            links=[CopyLink("copy-of", SNAP, "snapshot copy")],
        ),
        r("ec2.image", "ami-acme", PROD, ("backup", "eu-west-2"), links=[CopyLink("copy-of", SNAP, "image")]),
        r(
            "s3.bucket",
            "acme-exports",
            PROD,
            ("primary", "eu-west-1"),
            ("replica", "eu-north-1"),
            tags=ACME,
            links=[CopyLink("copies-to", rid("s3.bucket", "partner-inbox", OTHER), "replication")],
        ),
        r("dynamodb.table", "acme-orders", DATA, ("primary", "eu-west-1"), ("replica", "us-east-1"), tags=ACME),
        r(
            "backup.recovery_point",
            "rp-acme-orders",
            DATA,
            ("backup", "eu-west-1"),
            links=[CopyLink("copy-of", TABLE, "backup")],
            attributes={ATTR_EARLIEST_DELETION: "2027-06-01"},
        ),
        r("glue.database", "acme-catalog", DATA, ("primary", "eu-west-1"), tags=ACME, judged="primary"),
        # not the data set: another customer's bucket, and a snapshot of another volume
        r("s3.bucket", "globex-exports", PROD, ("primary", "us-west-2"), tags={"customer": "globex"}),
        r(
            "ec2.snapshot",
            "snap-other",
            PROD,
            ("backup", "us-west-2"),
            links=[CopyLink("copy-of", rid("ec2.volume", "other", PROD), "snapshot")],
        ),
    ]


def rows(doc: dict[str, Any], key: str = "copies") -> set[tuple[str, str, str | None, str]]:
    return {(c["name"] or c["resource_id"], c["role"], c["region"], c["status"]) for c in doc[key]}


EXPECTED = {
    ("acme-db-disk", "primary", "eu-central-1", "present"),
    ("snap-acme", "backup", "eu-central-1", "present"),
    ("snap-acme-virginia", "backup", "us-east-1", "present"),
    ("ami-acme", "backup", "eu-west-2", "present"),
    ("acme-exports", "primary", "eu-west-1", "present"),
    ("acme-exports", "replica", "eu-north-1", "present"),
    (rid("s3.bucket", "partner-inbox", OTHER), "", None, "not verifiable"),
    ("acme-orders", "primary", "eu-west-1", "present"),
    ("acme-orders", "replica", "us-east-1", "present"),
    ("rp-acme-orders", "backup", "eu-west-1", "present"),
    ("acme-catalog", "primary", "eu-west-1", "present"),
    ("acme-catalog", "", None, "not verifiable"),  # its copies elsewhere are not modelled
}


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from store_urls(request.param, tmp_path)


def record(url: str, *results: ScanResult) -> None:
    with open_store(url) as store:
        for result in results:
            store.record(result)


def test_links_survive_the_store_and_the_scan_file(store_url: str, tmp_path: Path) -> None:
    result = scan_of(estate(), T0)
    record(store_url, result)
    with open_store(store_url, create=False) as store:
        back = store.load(result.scan.id)
    path = tmp_path / "scan.json"
    path.write_text(scan_json(result), "utf-8")
    from_file = read_scan(path)
    for loaded in (back, from_file):
        assert {x.id: x.links for x in loaded.resources} == {x.id: x.links for x in result.resources}
        assert {x.id: [rl.place.countries for rl in loaded.resolved[x.id]] for x in loaded.resources} == {
            x.id: [rl.place.countries for rl in result.resolved[x.id]] for x in result.resources
        }


def test_the_checklist_follows_every_link_and_lists_what_it_cannot_see(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    record(store_url, scan_of(estate(), T0))
    code, out, err = run_cli(["copies", "--tag", "customer=acme", "--store", store_url, "-f", "json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert rows(doc) == EXPECTED
    by_name = {c["name"]: c for c in doc["copies"] if c["status"] == "present"}
    assert by_name["snap-acme-virginia"]["via"] == SNAP and by_name["snap-acme"]["via"] == VOLUME
    assert by_name["snap-acme-virginia"]["countries"] == ["US"] and not by_name["snap-acme-virginia"]["in_eu"]
    assert by_name["rp-acme-orders"]["earliest_deletion"] == "2027-06-01"
    assert doc["summary"] == {"copies": 10, "not_verifiable": 2, "outside_eu": 3, "complete": False}


def test_links_are_followed_the_way_the_data_flows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two buckets replicate into one shared destination: selecting one lists the destination but
    not the other source (it holds other data); selecting the destination lists both sources
    (what it holds came from them) and their other copies (the same data lives there too)."""
    shared = rid("s3.bucket", "shared-archive", PROD)
    mine = r(
        "s3.bucket",
        "acme-in",
        PROD,
        ("primary", "eu-west-1"),
        tags=ACME,
        links=[CopyLink("copies-to", shared, "replication")],
    )
    theirs = r(
        "s3.bucket",
        "globex-in",
        PROD,
        ("primary", "us-west-2"),
        links=[
            CopyLink("copies-to", shared, "replication"),
            CopyLink("copies-to", rid("s3.bucket", "globex-dr", PROD), "replication"),
        ],
    )
    estate_ = [
        mine,
        theirs,
        r("s3.bucket", "shared-archive", PROD, ("primary", "eu-central-1")),
        r("s3.bucket", "globex-dr", PROD, ("primary", "us-east-1")),
    ]
    path = tmp_path / "scan.json"
    path.write_text(scan_json(scan_of(estate_, T0)), "utf-8")

    def names(*selector: str) -> set[str]:
        code, out, err = run_cli(["copies", *selector, "--scan", str(path), "-f", "json"], capsys)
        assert code == 0, err
        return {c["name"] for c in json.loads(out)["copies"] if c["status"] == "present"}

    assert names("--tag", "customer=acme") == {"acme-in", "shared-archive"}
    assert names("--resource", "shared-archive") == {"shared-archive", "acme-in", "globex-in", "globex-dr"}


def test_owner_and_resource_selectors(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    record(store_url, scan_of(estate(), T0))

    def names(*selector: str) -> set[str]:
        code, out, err = run_cli(["copies", *selector, "--store", store_url, "-f", "json"], capsys)
        assert code == 0, err
        return {c["name"] for c in json.loads(out)["copies"] if c["status"] == "present"}

    # the organisation above the account selects the account's resources, and their copies elsewhere
    assert names("--owner", DATA.id) == {"acme-orders", "rp-acme-orders", "acme-catalog"}
    assert "acme-orders" in names("--owner", "o-example")
    assert names("--resource", "*globex*") == {"globex-exports"}
    # a selected snapshot reaches its volume, and from there every other copy of the volume's data
    assert names("--resource", "snap-acme-virginia") == {"acme-db-disk", "snap-acme", "snap-acme-virginia", "ami-acme"}
    # tags combine: both must match
    assert names("--tag", "customer=acme", "--tag", "team") == set()


def test_a_gap_in_the_data_sets_account_is_not_verifiable(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    gap = Gap("aws", DATA.id, "eu-west-1", "rds", "AccessDenied: not authorised", "AccessDenied")
    other_gap = Gap("aws", "444444444444", "eu-west-1", "s3", "AccessDenied", "AccessDenied")
    record(store_url, scan_of(estate(), T0, gaps=[gap, other_gap]))
    _code, out, _ = run_cli(["copies", "--owner", DATA.id, "--store", store_url, "-f", "json"], capsys)
    blind = [c for c in json.loads(out)["copies"] if c["how"] == "not read"]
    assert [(c["owner"], c["region"]) for c in blind] == [(DATA.id, "eu-west-1")]  # not the other account's gap
    assert "AccessDenied" in blind[0]["reason"]


def _markup(text: str) -> list[str]:
    """Block and inline markup tokens, text excluded: markup smuggled in by a name shows up as an extra token."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    kinds = [t.type for t in tokens if t.type != "inline"]
    return kinds + [c.type for t in tokens for c in t.children or () if c.type not in ("text", "softbreak")]


HOSTILE = [
    "x](javascript:alert(1)) <img src=x onerror=alert(1)>",
    "a\n# Owned\n- [x] erased",
    "`code` *em* <!-- hide",
    '=HYPERLINK("http://x")',
    "\u202eevil\u202c\x1b[2J",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_markdown_csv_and_table_keep_hostile_names_inert(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def outputs(bucket: str) -> dict[str, str]:
        url = str(tmp_path / f"{len(list(tmp_path.iterdir()))}.db")
        evil = r(
            "s3.bucket", bucket, PROD, ("primary", "us-east-1"), tags=ACME, links=[CopyLink("copies-to", bucket, "x")]
        )
        record(url, scan_of([evil], T0))
        out = {}
        for fmt in ("markdown", "csv", "table"):
            code, out[fmt], err = run_cli(["copies", "--tag", "customer=acme", "--store", url, "-f", fmt], capsys)
            assert code == 0, err
        return out

    plain, hostile = outputs("plain-bucket"), outputs(name)
    assert _markup(hostile["markdown"]) == _markup(plain["markdown"])
    import csv
    import io

    table = list(csv.reader(io.StringIO(hostile["csv"])))
    assert len(table) == len(list(csv.reader(io.StringIO(plain["csv"]))))
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in table[1:] for cell in row)
    assert "\x1b" not in hostile["table"] and "\u202e" not in hostile["table"]
    # a line break in a name is shown as an escape, never a line of its own in the table
    assert not any(line.lstrip().startswith(("# Owned", "- [x]")) for line in hostile["table"].splitlines())


# --------------------------------------------------------------------------- after the deletion


def after_deletion(*, keep_snapshot: bool = True, keep_rp: bool = True, new_bucket: bool = True) -> list[Resource]:
    """The estate after acme's deletion began: the disk, exports and table are gone."""
    left = [x for x in estate() if x.name in ("globex-exports", "snap-other", "acme-catalog")]
    left = [x for x in left if x.name != "acme-catalog"]
    if keep_snapshot:
        left += [x for x in estate() if x.name == "snap-acme-virginia"]
    if keep_rp:
        left += [x for x in estate() if x.name == "rp-acme-orders"]
    if new_bucket:
        left.append(r("s3.bucket", "acme-reupload", PROD, ("primary", "ap-southeast-2"), tags=ACME))
    return left


def verify(url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, Any], str]:
    args = ["copies", "--tag", "customer=acme", "--verify-erased", "--since", DELETION, "--store", url]
    code, out, err = run_cli([*args, "-f", "json", *extra], capsys)
    return code, json.loads(out) if out.strip() else {}, err


def test_verify_reports_what_remains_what_is_kept_too_long_and_what_appeared(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    record(store_url, scan_of(estate(), T0), scan_of(after_deletion(), AFTER))
    code, doc, err = verify(store_url, capsys)
    assert code == 1, err
    assert doc["verdict"] == "copies remain" and doc["deadline"] == "2026-12-20"
    assert rows(doc, "remaining") == {
        ("snap-acme-virginia", "backup", "us-east-1", "present"),
        ("rp-acme-orders", "backup", "eu-west-1", "present"),
    }
    kept = {c["name"]: c["retained_beyond_deadline"] for c in doc["remaining"]}
    assert kept == {"snap-acme-virginia": False, "rp-acme-orders": True}  # its retention runs to 2027-06-01
    assert rows(doc, "appeared") == {("acme-reupload", "primary", "ap-southeast-2", "present")}
    assert ("acme-db-disk", "primary", "eu-central-1", "present") in rows(doc, "erased")
    assert ("acme-catalog", "primary", "eu-west-1", "present") in rows(doc, "erased")


def test_verify_is_not_proven_while_a_copy_cannot_be_seen(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Everything seen is gone, but the partner's replica and the catalog's unmodelled copies cannot be checked."""
    record(
        store_url,
        scan_of(estate(), T0),
        scan_of(after_deletion(keep_snapshot=False, keep_rp=False, new_bucket=False), AFTER),
    )
    code, doc, _ = verify(store_url, capsys)
    assert code == 3 and doc["verdict"].startswith("not proven")
    assert {c["resource_id"] for c in doc["not_verifiable"]} >= {rid("s3.bucket", "partner-inbox", OTHER)}
    code, _, _ = verify(store_url, capsys, "--allow-gaps")
    assert code == 0


def test_verify_erased_with_everything_seen_and_gone_is_exit_0_and_bundles_its_evidence(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = [x for x in estate() if x.name not in ("acme-exports", "acme-catalog")]  # every copy modelled and in scope
    record(
        store_url,
        scan_of(seen, T0),
        scan_of(after_deletion(keep_snapshot=False, keep_rp=False, new_bucket=False), AFTER),
    )
    bundle = tmp_path / "evidence"
    code, doc, err = verify(store_url, capsys, "--bundle", str(bundle))
    assert code == 0, err
    assert doc["verdict"] == "erased: no copy remains" and doc["summary"]["erased"] == 7
    names = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    assert names[:2] == ["SHA256SUMS", "erasure.json"] and "erasure.md" in names and "manifest.json" in names
    assert sum(1 for n in names if n.startswith("scans/")) == 2
    code, out, _ = run_cli(["report", "--verify", str(bundle)], capsys)
    assert code == 0, out
    (bundle / "erasure.md").write_text("# nothing to see\n", "utf-8")
    code, out, _ = run_cli(["report", "--verify", str(bundle)], capsys)
    assert code == 1 and "erasure.md: changed" in out


def test_a_target_not_scanned_again_is_not_proven(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from residency_audit.model import ScanRequest

    other_target = ScanRequest("aws", scopes=("data",), options={"services": ["dynamodb"]})
    seen = [x for x in estate() if x.name in ("acme-db-disk", "snap-acme")]
    table = [x for x in estate() if x.name == "acme-orders"]
    record(store_url, scan_of(seen, T0), scan_of(table, T0, request=other_target), scan_of([], AFTER))
    code, doc, _ = verify(store_url, capsys)
    assert code == 3 and doc["summary"]["unscanned_targets"] and doc["summary"]["remaining"] == 0


def test_verify_from_a_checklist_file_and_scan_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    before.write_text(scan_json(scan_of(estate(), T0)), "utf-8")
    after.write_text(scan_json(scan_of(after_deletion(), AFTER)), "utf-8")
    code, out, _ = run_cli(["copies", "--tag", "customer=acme", "--scan", str(before), "-f", "json"], capsys)
    assert code == 0 and rows(json.loads(out)) == EXPECTED
    checklist = tmp_path / "checklist.json"
    checklist.write_text(out, "utf-8")
    args = ["copies", "--tag", "customer=acme", "--verify-erased", "--since", DELETION, "--checklist", str(checklist)]
    code, out, _ = run_cli([*args, "--scan", str(after), "-f", "json"], capsys)
    doc = json.loads(out)
    assert code == 1 and {c["name"] for c in doc["remaining"]} == {"snap-acme-virginia", "rp-acme-orders"}


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["copies"], "say which data set"),
        (["copies", "--tag", "=x"], "give KEY or KEY=VALUE"),
        (["copies", "--tag", "a", "--bundle", "x"], "--bundle goes with --verify-erased"),
        (["copies", "--tag", "a", "--verify-erased"], "needs --since"),
        (["copies", "--tag", "a", "--since", "yesterday"], "not an ISO 8601 date"),
    ],
)
def test_usage_errors_are_one_line(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(argv, capsys)
    assert code == 2 and needle in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{", "invalid JSON"),
        ('{"schema_version": "2.0"}', "not a residency-audit scan"),
        ('{"schema_version": "1.0", "scan": {"id": "x", "request": {}}, "resources": [1]}', "resources[0] is not"),
        (
            '{"schema_version": "1.0", "scan": {"id": "x", "request": {}}, "resources": '
            '[{"provider": "aws", "kind": "k", "id": "i", "owner": {"kind": "a", "id": "1"}, "links": [{"target": 1}]}]}',
            "links[0].relation is not a string",
        ),
    ],
)
def test_a_broken_scan_file_is_one_line(
    content: str, needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "scan.json"
    path.write_text(content, "utf-8")
    code, _, err = run_cli(["copies", "--tag", "a", "--scan", str(path)], capsys)
    assert code == 2 and needle in err and err.count("\n") == 1, err
