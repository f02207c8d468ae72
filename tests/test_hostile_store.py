"""Stores and secrets under attack: URL userinfo redaction, malformed store URLs, a store held by
another session, a store written by a newer version. Each is one line and exit 2, never a hang or
a traceback, and no password reaches an output, the store or an error line."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from residency_audit.core import Collector
from residency_audit.model import Location, Owner, Resource, Scan, ScanRequest
from residency_audit.redact import Redactor, redact_userinfo
from residency_audit.store import open_store, store_url
from residency_audit.store.sql import safe_url

from .conftest import read_json, run_cli
from .store_support import fresh_pg_database, scan_of


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        (
            "DATABASE_URL=postgresql://app:PASSWORD@db.internal/app",
            "PASSWORD",
            "postgresql://app:REDACTED@db.internal/app",
        ),
        ("postgresql://audit:Tr0ub4dor@3xyz@127.0.0.1/db", "3xyz", "@127.0.0.1/db"),
        ("see https://x-access-token:ghs_abcdefgh@github.com/o/r.git", "ghs_abcdefgh", "github.com/o/r.git"),
        ("https://ghp_0123456789abcdefghij@github.com/o/r", "ghp_0123456789abcdefghij", "@github.com/o/r"),
        ("amqp://u:p:a:ss#w@mq:5672/vhost", "ss#w", "@mq:5672/vhost"),
    ],
)
def test_url_userinfo_is_redacted(text: str, secret: str, kept: str) -> None:
    out = Redactor().text(text)
    assert secret not in out and kept in out and "REDACTED" in out


def test_a_user_name_alone_is_not_a_secret() -> None:
    assert redact_userinfo("postgresql://audit@db.internal/residency") == "postgresql://audit@db.internal/residency"
    assert redact_userinfo("https://example.com/@someone") == "https://example.com/@someone"


def test_repro_database_url_tag_never_reaches_json_or_store(tmp_path: Path) -> None:
    scan = Scan(ScanRequest("aws"))
    collector = Collector(scan)
    tags = {"DATABASE_URL": "postgresql://app:PASSWORD123@db.internal/app"}
    collector.add(Resource("aws", "ec2.instance", "i-1", "app", Owner("account", "1"), [Location("eu-west-1")], tags))
    result = scan_of(collector.resources, scan.started_at)
    from residency_audit.outputs.jsonout import render

    assert "PASSWORD123" not in render(result)
    db = tmp_path / "s.db"
    with open_store(str(db)) as store:
        store.record(result)
    assert b"PASSWORD123" not in db.read_bytes()


def test_repro_unencoded_at_in_password_never_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://audit:Tr0ub4dor@3xyz@127.0.0.1:9/db"
    assert "3xyz" not in safe_url(store_url(url)) and "Tr0ub4dor" not in safe_url(store_url(url))
    # It is percent-encoded for the driver: the password as typed, the host as meant.
    assert store_url(url) == "postgresql+psycopg://audit:Tr0ub4dor%403xyz@127.0.0.1:9/db"
    code, out, err = run_cli(["report", "--store", url, "-o", str(tmp_path)], capsys)
    assert code == 2 and "3xyz" not in err + out and "Tr0ub4dor" not in err + out and "127.0.0.1" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:pw@127.0.0.1:notaport/db",
        "postgresql://u:pw@[::1",
        "postgresql://u:pw@[::1]x/db",
        "sqlite://u:pw@/x.db",
        "postgresql://u:pw@127.0.0.1:99999/db",
    ],
)
def test_repro_bad_store_urls_are_one_line_exit_2(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_cli(["report", "--store", url, "-o", str(tmp_path)], capsys)
    assert code == 2, err
    assert err.count("\n") == 1 and "internal error" not in err and "pw" not in err.replace("postgresql", "")


def test_repro_store_from_a_newer_version_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "newer.db"
    with open_store(str(db)):
        pass
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0042'")
    code, _, err = run_cli(["report", "--store", str(db), "-o", str(tmp_path)], capsys)
    assert code == 2 and "'0042'" in err and "upgrade residency-audit" in err and err.count("\n") == 1


def test_store_timeout_must_be_positive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["report", "--store", str(tmp_path / "x.db"), "--store-timeout", "0"], capsys)
    assert code == 2 and "store timeout" in err


# --------------------------------------------------------------------------- a locked PostgreSQL store


@pytest.fixture
def pg_url() -> object:
    yield from fresh_pg_database()


def test_repro_locked_postgresql_store_ends_with_exit_2_and_the_json_written(
    pg_url: str, aws_env: object, tmp_path: Path
) -> None:
    """Another session holds an exclusive lock on `scans`: the scan's recording gives up after
    --store-timeout (lock_timeout), one line, exit 2, and its JSON report is already on disk."""
    import psycopg

    with open_store(pg_url):
        pass  # schema in place
    holder = psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"))
    holder.execute("LOCK TABLE scans IN ACCESS EXCLUSIVE MODE")  # held until rollback
    out = tmp_path / "scan.json"
    env = {**os.environ, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    cmd = [sys.executable, "-m", "residency_audit", "scan", "aws", "--regions", "eu-west-1", "--services", "s3"]
    cmd += ["-f", "json", "-o", str(out), "-q", "--store", pg_url, "--store-timeout", "1"]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    finally:
        holder.rollback()
        holder.close()
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and "statement due to" in lines[0]
        and "gave up after 1 s" in lines[0]
        and "--store-timeout" in lines[0]
    ), lines
    assert read_json(out)["scan"]["id"]  # written before the store was tried


def test_postgresql_sessions_carry_the_timeouts(pg_url: str) -> None:
    with open_store(pg_url, timeout=7) as store, store.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SHOW lock_timeout")).scalar() == "7s"
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "7s"


def test_a_statement_longer_than_the_timeout_is_cancelled(pg_url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    with open_store(pg_url, timeout=1) as store, store.engine.connect() as conn:
        with pytest.raises(OperationalError) as info:
            conn.execute(text("SELECT pg_sleep(30)"))
        err = store.failed("cannot read store", info.value)
    assert "statement timeout" in str(err) and "gave up after 1 s" in str(err)
    assert json.dumps(str(err)).count("\\n") == 0


# --------------------------------------------------------------------------- a narrow scan cannot silence the alert


def test_repro_narrow_scan_does_not_silence_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from residency_audit.model import target_of

    from .store_support import PROD, T0, res

    full = scan_of([res("s3.bucket", "us-data", PROD, ("primary", "us-east-1"))], T0)
    narrow_request = ScanRequest("aws", regions=("eu-west-1",), options={"services": ["ec2"]})
    narrow = scan_of(
        [res("ec2.instance", "eu-vm", PROD, ("primary", "eu-west-1"))],
        T0 + dt.timedelta(hours=1),
        request=narrow_request,
    )
    db = str(tmp_path / "s.db")
    with open_store(db) as store:
        store.record(full)
        code, out, _ = run_cli(["report", "--store", db, "-o", str(tmp_path), "--fail-on", "high"], capsys)
        assert code == 1
        store.record(narrow)  # the later, narrower scan: its own target has no findings
    code, out, _ = run_cli(["report", "--store", db, "-o", str(tmp_path), "--fail-on", "high"], capsys)
    assert code == 1, out
    full_key, narrow_key = target_of(full.scan.request)[0], target_of(narrow_request)[0]
    assert "judged 2 target(s)" in out and f"{full_key} " in out and f"{narrow_key} " in out
    assert f"{full.scan.id}, 1 findings -> exit 1" in out
    # The same with --fail-on-new (everything is new against no baseline), and exactly one target when asked.
    assert run_cli(["report", "--store", db, "-o", str(tmp_path), "--fail-on-new", "high"], capsys)[0] == 1
    code, out, _ = run_cli(
        ["report", "--store", db, "-o", str(tmp_path), "--fail-on", "high", "--target", narrow_key], capsys
    )
    assert code == 0 and "judged 1 target(s)" in out
