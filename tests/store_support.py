"""Helpers for the store and report tests: real stores (SQLite file, PostgreSQL) and real scans.

ScanResults are built through the real catalog and rule engine (`core.finish`)
from Resource records, exactly as a scan produces them.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from residency_audit.core import finish
from residency_audit.engine import load_rules
from residency_audit.geography import default_catalog
from residency_audit.model import Gap, Location, Owner, OwnerNode, Resource, Scan, ScanRequest, ScanResult

PG_ENV = "RESIDENCY_AUDIT_TEST_PG"
ORG = (OwnerNode("organization", "o-example", "Example BV"),)
PROD = Owner("account", "111111111111", "prod", ORG)
DATA = Owner("account", "222222222222", "data", ORG)

_RULES = load_rules()
_CATALOG = default_catalog()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pg_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        if in_ci():
            pytest.fail(f"{PG_ENV} is not set in CI: .ci/run must start PostgreSQL for the store tests")
        pytest.skip(f"PostgreSQL not available: set {PG_ENV}=postgresql://... (.ci/run starts one)")
    return url


def fresh_pg_database() -> Iterator[str]:
    """A new, empty database on the test server; dropped afterwards."""
    import psycopg

    admin = pg_admin_url()
    name = f"ra_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def store_urls(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield str(tmp_path / "history" / "residency.db")
    else:
        yield from fresh_pg_database()


def res(kind: str, name: str, owner: Owner, *locs: tuple[str, str]) -> Resource:
    """A resource whose locations are (role, region) pairs."""
    provider = "aws"
    rid = f"arn:aws:{kind.split('.')[0]}:::{owner.id}/{name}"
    return Resource(
        provider, kind, rid, name, owner, [Location(region, role) for role, region in locs], tags={"team": "x"}
    )


def scan_of(
    resources: Iterable[Resource],
    at: dt.datetime,
    gaps: list[Gap] | None = None,
    interrupted: bool = False,
    request: ScanRequest | None = None,
) -> ScanResult:
    scan = Scan(request=request or ScanRequest("aws", regions=None, options={"services": ["s3", "ec2", "rds"]}))
    scan.started_at = at
    scan.finished_at = at + dt.timedelta(seconds=30)
    scan.gaps = list(gaps or [])
    scan.interrupted = interrupted
    scan.api_calls = {"s3:ListBuckets": 1}
    return finish(scan, resources, _RULES, _CATALOG)


T0 = dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)


def sequence() -> list[ScanResult]:
    """Four scans of one estate: additions, removals, a region move, and an interrupted scan in between.

    1 (complete)   : invoices (eu-west-1), exports (London), runner (Virginia), crm (Frankfurt + London replica)
    2 (complete)   : runner removed; photos (Sydney) added; invoices moved eu-west-1 -> us-east-2
    3 (interrupted): only exports seen, plus a gap; a new Ohio VM seen before the interruption
    4 (complete)   : exports moved London -> Paris; crm's London replica removed
    """

    def invoices(region: str) -> Resource:
        return res("s3.bucket", "invoices", PROD, ("primary", region))

    def exports(region: str) -> Resource:
        return res("s3.bucket", "exports", PROD, ("primary", region))

    runner = res("ec2.instance", "runner", DATA, ("primary", "us-east-1"))
    crm_rep = res("rds.instance", "crm", DATA, ("primary", "eu-central-1"), ("replica", "eu-west-2"))
    crm = res("rds.instance", "crm", DATA, ("primary", "eu-central-1"))
    photos = res("s3.bucket", "photos", PROD, ("primary", "ap-southeast-2"))
    ohio = res("ec2.instance", "ohio-vm", DATA, ("primary", "us-east-2"))
    day = dt.timedelta(days=1)
    gap = Gap("aws", "222222222222", "eu-central-1", "rds", "AccessDenied: not authorised", "AccessDenied")
    return [
        scan_of([invoices("eu-west-1"), exports("eu-west-2"), runner, crm_rep], T0),
        scan_of([invoices("us-east-2"), exports("eu-west-2"), crm_rep, photos], T0 + day),
        scan_of([exports("eu-west-2"), ohio], T0 + 2 * day, gaps=[gap], interrupted=True),
        scan_of([invoices("us-east-2"), exports("eu-west-3"), crm, photos], T0 + 3 * day),
    ]


def fp(rule: str, name: str, role: str, region: str, owner: Owner = PROD, kind: str = "s3.bucket") -> str:
    return f"{rule}|arn:aws:{kind.split('.')[0]}:::{owner.id}/{name}|{role}:{region}:"
