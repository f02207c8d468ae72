"""The scan store against a real SQLite file and, when available, a real PostgreSQL server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from residency_audit.errors import UserError
from residency_audit.model import target_of
from residency_audit.outputs.jsonout import to_dict
from residency_audit.reporting import build
from residency_audit.store import open_store, store_url
from residency_audit.store.sql import HEAD, MIGRATIONS, Store

from .store_support import DATA, PROD, T0, fp, res, scan_of, sequence, store_urls

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from store_urls(request.param, tmp_path)


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    with open_store(url) as s:
        yield s


def test_migrations_create_the_schema_the_code_declares(store: Store) -> None:
    """The shipped Alembic head is HEAD, and the migrated database matches schema.py exactly."""
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from residency_audit.store.schema import metadata

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD
    assert store.revision() == HEAD
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_a_store_written_by_the_previous_version_is_upgraded_and_read(url: str) -> None:
    """Revision 0001 stores (before resources carried how they were judged) open, upgrade and read back."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if "://" not in url:  # a SQLite file path
        Path(url).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(store_url(url))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        old_columns = {c["name"] for c in sa.inspect(conn).get_columns("resources")}
    engine.dispose()
    assert "category" not in old_columns
    bucket = res("s3.bucket", "judged", DATA, ("primary", "eu-west-1"), ("replica", "us-east-1"))
    bucket.category, bucket.judged = "data", "footprint"
    policy = res("aws_s3_bucket_policy", "p", DATA, ("primary", "eu-west-1"))
    policy.category, policy.judged, policy.part_of = "data", "parent", bucket.id
    with open_store(url) as s:
        assert s.revision() == HEAD
        scan_id = s.record(scan_of([bucket, policy], T0))
        loaded = {r.id: r for r in s.load(scan_id).resources}
    assert (loaded[bucket.id].category, loaded[bucket.id].judged, loaded[bucket.id].part_of) == (
        "data",
        "footprint",
        "",
    )
    assert (loaded[policy.id].judged, loaded[policy.id].part_of) == ("parent", bucket.id)


_OPEN_AND_RECORD = """
import sys, time
from residency_audit.store import open_store
from tests.store_support import T0, scan_of
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # all jobs start at the same moment
with open_store(sys.argv[1]) as s:
    print(s.revision(), s.record(scan_of([], T0)))
"""


def test_jobs_opening_a_new_store_at_the_same_moment_all_succeed(url: str) -> None:
    """Shard jobs start together on a fresh store: one migrates, the others wait and find it current."""
    jobs = 4
    root = Path(__file__).resolve().parent.parent
    start_at = str(time.time() + 4)  # after every interpreter has imported the store
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN_AND_RECORD, url, start_at],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(jobs)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * jobs, [err for _, err in results]
    assert {out.split()[0] for out, _ in results} == {HEAD}
    ids = {out.split()[1] for out, _ in results}
    assert len(ids) == jobs
    with open_store(url) as s:
        assert {info.id for info in s.scans()} == ids


def test_round_trip_renders_exactly_as_recorded(store: Store) -> None:
    results = sequence()
    for r in results:
        store.record(r)
    for r in results:
        assert to_dict(store.load(r.scan.id)) == to_dict(r)
    infos = store.scans()
    assert [s.id for s in infos] == [r.scan.id for r in results]
    assert [s.complete for s in infos] == [True, True, False, True]
    assert [s.finding_count for s in infos] == [len(r.findings) for r in results]
    assert store.check() == []


def test_owner_chain_survives(store: Store) -> None:
    r = sequence()[0]
    store.record(r)
    loaded = store.load(r.scan.id)
    owners = {x.owner for x in loaded.resources}
    assert owners == {PROD, DATA}
    assert all(o.chain[0].id == "o-example" for o in owners)


def test_recording_twice_is_a_user_error_and_changes_nothing(store: Store) -> None:
    r = sequence()[0]
    store.record(r)
    with pytest.raises(UserError, match="already recorded"):
        store.record(r)
    assert len(store.scans()) == 1 and store.check() == []


def test_diff_over_the_sequence(store: Store) -> None:
    """Additions, removals, a region move; the interrupted scan never becomes the baseline."""
    s1, s2, s3, s4 = sequence()
    store.record(s1)
    store.record(s2)
    rep = build(store, "test")
    assert rep.current is not None and rep.baseline is not None
    assert (rep.current.scan.id, rep.baseline.scan.id) == (s2.scan.id, s1.scan.id)
    assert {f.fingerprint for f in rep.diff.new} == {
        fp("RA-EU-OUTSIDE", "photos", "primary", "ap-southeast-2"),
        fp("RA-US-SOIL", "invoices", "primary", "us-east-2"),
    }
    assert {f.fingerprint for f in rep.diff.resolved} == {
        fp("RA-US-SOIL", "runner", "primary", "us-east-1", DATA, "ec2.instance")
    }
    assert [(m.name, m.before, m.after) for m in rep.diff.moved] == [
        ("invoices", ("primary:eu-west-1",), ("primary:us-east-2",))
    ]
    assert [m.countries_after for m in rep.diff.moved] == [("US",)]
    assert len(rep.diff.added_resources) == 1 and len(rep.diff.removed_resources) == 1
    assert rep.diff.gaps_appeared == [] and rep.diff.unconfirmed == []

    store.record(s3)  # interrupted: does not replace scan 2
    rep = build(store, "test")
    assert rep.current is not None and rep.baseline is not None
    assert (rep.current.scan.id, rep.baseline.scan.id) == (s2.scan.id, s1.scan.id)
    assert [r.scan.id for r in rep.newer_incomplete] == [s3.scan.id]
    assert [(g.gap.region, g.gap.service, g.scan_id) for g in rep.diff.gaps_appeared] == [
        ("eu-central-1", "rds", s3.scan.id)
    ]
    assert {f.fingerprint for f in rep.diff.unconfirmed} == {
        fp("RA-US-SOIL", "ohio-vm", "primary", "us-east-2", DATA, "ec2.instance")
    }
    assert {f.fingerprint for f in rep.diff.resolved} == {
        fp("RA-US-SOIL", "runner", "primary", "us-east-1", DATA, "ec2.instance")
    }

    store.record(s4)
    rep = build(store, "test")
    assert rep.current is not None and rep.baseline is not None
    assert (rep.current.scan.id, rep.baseline.scan.id) == (s4.scan.id, s2.scan.id)
    assert rep.diff.new == [] and rep.newer_incomplete == [] and rep.diff.gaps_appeared == []
    assert {f.fingerprint for f in rep.diff.resolved} == {
        fp("RA-EU-OUTSIDE", "exports", "primary", "eu-west-2"),
        fp("RA-EU-OUTSIDE", "crm", "replica", "eu-west-2", DATA, "rds.instance"),
    }
    assert sorted((m.name, m.before, m.after) for m in rep.diff.moved) == [
        ("crm", ("primary:eu-central-1", "replica:eu-west-2"), ("primary:eu-central-1",)),
        ("exports", ("primary:eu-west-2",), ("primary:eu-west-3",)),
    ]
    assert [s.id for s in rep.history] == [r.scan.id for r in (s1, s2, s3, s4)]
    # --last 1 still diffs against the previous complete scan, and covers it.
    rep = build(store, "test", last=1)
    assert rep.baseline is not None
    assert rep.baseline.scan.id == s2.scan.id and [s.id for s in rep.history] == [s2.scan.id, s4.scan.id]


def test_groups(store: Store) -> None:
    store.record(sequence()[0])
    rep = build(store, "test")
    assert [(g.organisation, g.owner, g.findings) for g in rep.by_owner()] == [
        ("organization o-example (Example BV)", "account 111111111111 (prod)", 1),
        ("organization o-example (Example BV)", "account 222222222222 (data)", 2),
    ]
    assert rep.by_country() == [("GB", 2), ("US", 1)]
    assert [(r, n) for r, _, _, n in rep.by_rule()] == [("RA-US-SOIL", 1), ("RA-EU-OUTSIDE", 2)]
    assert rep.data_by_country() == [("GB", 2, False), ("DE", 1, True), ("IE", 1, True), ("US", 1, False)]


def test_data_per_country_leaves_out_what_guardrails_only_allow(store: Store) -> None:
    """Stored and loaded back, a guardrail's allowed regions still do not count as data in a country."""
    from .store_support import res

    data = res("s3.bucket", "b", PROD, ("primary", "eu-central-1"))
    guard = res("guardrail.aws-scp", "scp", PROD, ("primary", "us-east-1"), ("primary", "eu-west-2"))
    store.record(scan_of([data, guard], T0))
    rep = build(store, "test")
    assert rep.data_by_country() == [("DE", 1, True)]
    assert rep.current is not None and {r.kind for r in rep.current.resources} == {"s3.bucket", "guardrail.aws-scp"}


def test_only_scans_of_the_same_target_are_compared(store: Store) -> None:
    from residency_audit.model import ScanRequest

    s1, s2, _, _ = sequence()
    narrow = scan_of(
        list(s2.resources)[:1], s2.scan.started_at.replace(hour=7), request=ScanRequest("aws", regions=("us-east-2",))
    )
    store.record(s1)
    store.record(s2)
    store.record(narrow)
    rep = build(store, "test")  # the latest scan's target: the narrow one, with no baseline
    assert rep.current is not None
    assert rep.current.scan.id == narrow.scan.id and rep.baseline is None
    assert set(rep.other_targets) == {target_of(s1.scan.request)[0]}
    rep = build(store, "test", target=target_of(s1.scan.request)[0][:6])
    assert rep.current is not None and rep.baseline is not None
    assert (rep.current.scan.id, rep.baseline.scan.id) == (s2.scan.id, s1.scan.id)


def test_no_complete_scan_is_reported_as_partial(store: Store) -> None:
    s3 = sequence()[2]
    store.record(s3)
    rep = build(store, "test")
    assert rep.current is not None
    assert rep.partial and rep.current.scan.id == s3.scan.id and rep.baseline is None
    assert [g.gap.service for g in rep.diff.gaps_appeared] == ["rds"]


_WRITER = """
import sys, time
from sqlalchemy import event
from residency_audit.store import open_store
from tests.store_support import res, scan_of, sequence, PROD, T0
import datetime as dt

store = open_store(sys.argv[1])
store.record(sequence()[0])
big = scan_of([res("s3.bucket", f"b{i}", PROD, ("primary", "eu-west-2")) for i in range(200)], T0 + dt.timedelta(days=9))

@event.listens_for(store.engine, "after_cursor_execute")
def _pause(conn, cursor, statement, *args):
    if statement.lstrip().upper().startswith("INSERT INTO LOCATIONS"):
        print("mid-write", flush=True)
        time.sleep(120)

store.record(big)
print("committed", flush=True)
"""


def test_killed_while_writing_leaves_no_partial_scan(url: str) -> None:
    """SIGKILL after the scan, gap and resource rows went in but before commit: none of them is visible."""
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, url], cwd=root, stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "mid-write"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    with open_store(url) as store:
        first = sequence()[0]  # the same scan as the writer's first, but with its own id
        (only,) = store.scans()
        assert (only.started_at, only.resource_count, only.complete) == (T0, 4, True)
        assert store.check() == []
        assert to_dict(store.load(only.id))["summary"] == to_dict(first)["summary"]
        # and the store takes new scans afterwards
        nxt = scan_of(first.resources, T0.replace(hour=9))
        store.record(nxt)
        assert len(store.scans()) == 2


def test_store_url_forms(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RESIDENCY_AUDIT_STORE", raising=False)
    assert store_url(None) == "sqlite:///reports/residency.db"
    assert store_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert store_url("postgres://h/db") == "postgresql+psycopg://h/db"
    monkeypatch.setenv("RESIDENCY_AUDIT_STORE", str(tmp_path / "x.db"))
    assert store_url(None) == f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(UserError, match="unsupported store URL scheme 'mysql://'"):
        store_url("mysql://h/db")


def test_unreachable_postgres_is_one_line_without_the_password() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(UserError) as info:
        open_store(f"postgresql://auditor:s3cret@127.0.0.1:{port}/history")
    msg = str(info.value)
    assert "s3cret" not in msg and "\n" not in msg and f"127.0.0.1:{port}" in msg
