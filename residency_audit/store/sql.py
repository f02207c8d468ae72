"""The store itself: record a `ScanResult` in one transaction, read scans back.

One transaction per scan: a process killed while writing leaves no partial
scan behind (SQLite's journal / PostgreSQL's WAL roll it back). Scans are read
back into the same model records the outputs render, so a stored scan renders
exactly as it did when it ran.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError

from .. import __version__
from ..errors import UserError
from ..model import (
    SCHEMA_VERSION,
    CopyLink,
    Finding,
    Gap,
    Location,
    Owner,
    OwnerNode,
    Place,
    ResolvedLocation,
    Resource,
    Scan,
    ScanRequest,
    ScanResult,
    target_of,
    utcnow,
)
from . import schema as t

#: The newest migration; opening a store at this revision skips Alembic entirely.
HEAD = "0003"
MIGRATIONS = Path(__file__).with_name("migrations")

#: Rows per INSERT batch when a scan is recorded.
_BATCH = 1000


@dataclass(frozen=True, slots=True)
class ScanInfo:
    """A scan's summary row: enough for history, trends and choosing a baseline."""

    id: str
    target: str
    target_label: str
    provider: str
    started_at: _dt.datetime
    finished_at: _dt.datetime | None
    complete: bool
    interrupted: bool
    resource_count: int
    finding_count: int
    suppressed_count: int
    gap_count: int
    #: The scan's request as recorded (the report merges shards by its options).
    request: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def _utc(value: _dt.datetime | None) -> _dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite keeps no offset: everything is stored in UTC
        return value.replace(tzinfo=_dt.UTC)
    return value.astimezone(_dt.UTC)


def _to_db(value: _dt.datetime | None) -> _dt.datetime | None:
    return value.astimezone(_dt.UTC) if value is not None and value.tzinfo else value


def safe_url(url: str) -> str:
    """The URL with any password masked: store URLs end up in errors and reports.

    Masked by the redactor's userinfo rule, not by parsing: a password holding an
    unencoded '@' would otherwise leave its tail in the "host".
    """
    from ..redact import redact_userinfo

    return redact_userinfo(url)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any, busy_ms: int = 30_000) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    cur.close()


#: PostgreSQL advisory lock key held while migrating (any constant bigint unique to this tool).
MIGRATION_LOCK = 0x52414D4947  # "RAMIG"


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = str(engine.url)
        self.timeout = 30.0

    @classmethod
    def open(cls, url: str, timeout: float = 30.0, create: bool = True) -> Store:
        """Open the store, migrating its schema to HEAD; `create=False` only reads:
        it never makes a file, a directory or the tables of a store that is not there."""
        try:
            u = make_url(url)
        except (ArgumentError, ValueError) as exc:
            raise UserError(f"store URL {safe_url(url)}: {exc}") from None
        connect_args: dict[str, Any] = {}
        if u.get_backend_name() == "sqlite":
            if not create and u.database and u.database != ":memory:" and not Path(u.database).is_file():
                raise UserError(
                    f"no scans recorded in {u.database}: there is no store (scans record into it by default; "
                    "--store or $RESIDENCY_AUDIT_STORE name another one)"
                )
            if create and u.database and u.database != ":memory:":
                try:
                    Path(u.database).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise UserError(f"store {u.database}: cannot create its directory: {exc.strerror}") from None
        elif u.get_backend_name() == "postgresql":
            ms = max(1, round(timeout * 1000))
            connect_args = {
                "application_name": "residency-audit",
                "connect_timeout": max(1, min(10, round(timeout))),
                # A session holding a lock on the store must not hang a scheduled job for ever.
                "options": f"-c lock_timeout={ms} -c statement_timeout={ms}",
            }
        try:
            engine = create_engine(u, connect_args=connect_args)
        except (ArgumentError, ValueError, ImportError) as exc:
            raise UserError(f"store URL {safe_url(url)}: {exc}") from None
        if u.get_backend_name() == "sqlite":
            event.listen(engine, "connect", functools.partial(_sqlite_pragmas, busy_ms=round(timeout * 1000)))
        store = cls(engine)
        store.url = url
        store.timeout = timeout
        try:
            if not create and store.revision() is None:
                engine.dispose()
                raise UserError(f"{safe_url(url)}: no scans recorded there (not a residency-audit store yet)")
            store.migrate()
        except SQLAlchemyError as exc:
            engine.dispose()
            raise store.failed("cannot open store", exc) from None
        except ValueError as exc:  # e.g. a port psycopg cannot parse
            engine.dispose()
            raise UserError(f"cannot open store {safe_url(url)}: {exc}") from None
        return store

    def failed(self, what: str, exc: SQLAlchemyError) -> UserError:
        """The one line for a store error; a lock or statement timeout says which setting to raise."""
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        code = getattr(getattr(exc, "orig", None), "sqlstate", None)
        if code in ("55P03", "57014") or "database is locked" in reason:
            reason = (
                f"{reason} (gave up after {self.timeout:g} s: another session holds the store; "
                "--store-timeout or RESIDENCY_AUDIT_STORE_TIMEOUT sets the wait)"
            )
        return UserError(f"{what} {safe_url(self.url)}: {reason}")

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ schema

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            if not conn.dialect.has_table(conn, "alembic_version"):
                return None
            rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return str(rev) if rev is not None else None

    def migrate(self) -> None:
        """Bring the schema to HEAD with the shipped Alembic migrations (no-op when current)."""
        current = self.revision()
        if current == HEAD:
            return
        from alembic import command
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        known = {rev.revision for rev in ScriptDirectory.from_config(cfg).walk_revisions()}
        if current is not None and current not in known:
            raise UserError(
                f"store {safe_url(self.url)} has schema revision {current!r}, which this residency-audit "
                f"({__version__}, schema {HEAD}) does not know: a newer version wrote it; upgrade residency-audit"
            )
        with self.engine.begin() as conn:
            # Shard jobs often start together on a new store: take the store-wide write
            # lock before Alembic reads the revision, so one job migrates and the others
            # wait, then find the schema current (they used to fail on "already exists").
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            elif conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # the DDL below runs in this transaction too
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    # ------------------------------------------------------------ writing

    def record(self, result: ScanResult) -> str:
        """Write one scan, all or nothing; returns its id."""
        scan = result.scan
        key, label = target_of(scan.effective_request())
        position = result.position_of()
        active = 0
        for f in result.findings:  # checked before the transaction starts, as when the rows were built first
            if position(f.resource.id) is None:
                raise ValueError(f"finding {f.fingerprint} names a resource that is not in the scan")
            active += not f.suppressed_by
        scan_row = {
            "id": scan.id,
            "target": key,
            "target_label": label,
            "provider": scan.request.provider,
            "started_at": _to_db(scan.started_at),
            "finished_at": _to_db(scan.finished_at),
            "recorded_at": _to_db(utcnow()),
            "request": scan.request.to_dict(),
            "context": json.loads(json.dumps(scan.context, default=str)),
            "complete": scan.complete,
            "interrupted": scan.interrupted,
            "api_calls": dict(sorted(scan.api_calls.items())),
            "notes": list(scan.notes),
            "tool_version": __version__,
            "schema_version": SCHEMA_VERSION,
            "resource_count": len(result.resources),
            "finding_count": active,
            "suppressed_count": len(result.findings) - active,
            "gap_count": len(scan.gaps),
        }
        gap_rows = [{"scan_id": scan.id, "position": i, **g.to_dict()} for i, g in enumerate(scan.gaps)]

        def res_row(i: int, r: Resource) -> dict[str, Any]:
            return {
                "scan_id": scan.id,
                "position": i,
                "resource_id": r.id,
                "provider": r.provider,
                "kind": r.kind,
                "name": r.name,
                "owner_kind": r.owner.kind,
                "owner_id": r.owner.id,
                "owner_name": r.owner.name,
                "owner_path": [n.to_dict() for n in r.owner.path],
                "tags": dict(r.tags),
                "source": r.source,
                "attributes": json.loads(json.dumps(r.attributes, default=str)),
                "category": r.category,
                "judged": r.judged,
                "part_of": r.part_of,
                "links": [link.to_dict() for link in r.links] or None,
            }

        def loc_rows(i: int, r: Resource) -> Iterator[dict[str, Any]]:
            for j, rl in enumerate(result.resolved.get(r.id, [])):
                loc, place = rl.location, rl.place
                yield {
                    "scan_id": scan.id,
                    "resource_position": i,
                    "position": j,
                    "region": loc.region,
                    "role": loc.role,
                    "zone": loc.zone,
                    "detail": loc.detail,
                    "place_code": place.code,
                    "place_name": place.name,
                    "place_kind": place.kind,
                    "countries": list(place.countries),
                    "in_eu": place.in_eu,
                    "known": place.known,
                    "jurisdictions": list(place.jurisdictions),
                    "place_source": place.source,
                }

        def resource_batches() -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
            """Resource rows with their location rows, one pass over the resources (a spooled
            scan reads them back from disk), a batch at a time."""
            resources: list[dict[str, Any]] = []
            locations: list[dict[str, Any]] = []
            for i, r in enumerate(result.resources):
                resources.append(res_row(i, r))
                locations.extend(loc_rows(i, r))
                if len(resources) >= _BATCH:
                    yield resources, locations
                    resources, locations = [], []
            if resources:
                yield resources, locations

        def finding_rows() -> Iterator[dict[str, Any]]:
            for i, f in enumerate(result.findings):
                rpos = position(f.resource.id)
                lpos = None
                if f.location is not None:
                    resolved = result.resolved.get(f.resource.id, [])
                    lpos = next((k for k, rl in enumerate(resolved) if rl is f.location or rl == f.location), None)
                yield {
                    "scan_id": scan.id,
                    "position": i,
                    "resource_position": rpos,
                    "location_position": lpos,
                    "rule_id": f.rule_id,
                    "severity": f.severity,
                    "title": f.title,
                    "clause": f.clause,
                    "message": f.message,
                    "fingerprint": f.fingerprint,
                    "suppressed_by": f.suppressed_by,
                }

        try:
            with self.engine.begin() as conn:
                conn.execute(t.scans.insert(), [scan_row])
                # in batches: an estate of any size holds one batch of rows, not every row, at once
                if gap_rows:
                    conn.execute(t.gaps.insert(), gap_rows)
                for resources, locations in resource_batches():
                    conn.execute(t.resources.insert(), resources)
                    if locations:
                        conn.execute(t.locations.insert(), locations)
                rows = finding_rows()
                while batch := list(islice(rows, _BATCH)):
                    conn.execute(t.findings.insert(), batch)
        except IntegrityError:
            raise UserError(f"scan {scan.id} is already recorded in this store") from None
        except SQLAlchemyError as exc:
            raise self.failed(f"cannot record scan {scan.id} in", exc) from None
        return scan.id

    # ------------------------------------------------------------ reading

    def scans(self, target: str | None = None) -> list[ScanInfo]:
        """Every recorded scan (of one target), oldest first."""
        q = select(t.scans).order_by(t.scans.c.started_at, t.scans.c.recorded_at, t.scans.c.id)
        if target is not None:
            q = q.where(t.scans.c.target == target)
        with self.engine.connect() as conn:
            return [_info(row._mapping) for row in conn.execute(q)]

    def targets(self) -> dict[str, str]:
        """target key -> label, for every target with at least one recorded scan."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.scans.c.target, func.max(t.scans.c.target_label)).group_by(t.scans.c.target))
            return {k: v for k, v in rows}

    def load(self, scan_id: str) -> ScanResult:
        """A recorded scan as the `ScanResult` it was."""
        with self.engine.connect() as conn:
            row = conn.execute(select(t.scans).where(t.scans.c.id == scan_id)).one_or_none()
            if row is None:
                raise UserError(f"no scan {scan_id} in this store")
            s = row._mapping
            req = s["request"]
            gaps = [
                Gap(g.provider, g.scope, g.region, g.service, g.error, g.code)
                for g in conn.execute(select(t.gaps).where(t.gaps.c.scan_id == scan_id).order_by(t.gaps.c.position))
            ]
            scan = Scan(
                request=ScanRequest.from_dict(req),
                context=dict(s["context"] or {}),
                id=s["id"],
                started_at=_utc(s["started_at"]) or utcnow(),
                finished_at=_utc(s["finished_at"]),
                gaps=gaps,
                interrupted=bool(s["interrupted"]),
                api_calls=dict(s["api_calls"]),
                notes=list(s["notes"]),
            )
            resources: list[Resource] = []
            for r in conn.execute(
                select(t.resources).where(t.resources.c.scan_id == scan_id).order_by(t.resources.c.position)
            ):
                owner = Owner(
                    r.owner_kind,
                    r.owner_id,
                    r.owner_name,
                    tuple(OwnerNode(n["kind"], n["id"], n.get("name", "")) for n in r.owner_path),
                )
                resources.append(
                    Resource(
                        r.provider,
                        r.kind,
                        r.resource_id,
                        r.name,
                        owner,
                        [],
                        dict(r.tags),
                        r.source,
                        dict(r.attributes),
                        category=r.category,
                        judged=r.judged,
                        part_of=r.part_of,
                        links=[CopyLink.from_dict(d) for d in r.links or ()],
                    )
                )
            resolved: dict[str, list[ResolvedLocation]] = {r.id: [] for r in resources}
            for loc in conn.execute(
                select(t.locations)
                .where(t.locations.c.scan_id == scan_id)
                .order_by(t.locations.c.resource_position, t.locations.c.position)
            ):
                res = resources[loc.resource_position]
                location = Location(loc.region, loc.role, loc.zone, loc.detail)
                place = Place(
                    provider=res.provider,
                    code=loc.place_code,
                    name=loc.place_name,
                    kind=loc.place_kind,
                    countries=tuple(loc.countries),
                    in_eu=bool(loc.in_eu),
                    known=bool(loc.known),
                    jurisdictions=tuple(loc.jurisdictions),
                    source=loc.place_source,
                )
                res.locations.append(location)
                resolved[res.id].append(ResolvedLocation(location, place))
            findings: list[Finding] = []
            for f in conn.execute(
                select(t.findings).where(t.findings.c.scan_id == scan_id).order_by(t.findings.c.position)
            ):
                res = resources[f.resource_position]
                rl = resolved[res.id][f.location_position] if f.location_position is not None else None
                findings.append(Finding(f.rule_id, f.severity, res, rl, f.message, f.clause, f.title, f.suppressed_by))
        return ScanResult(scan=scan, resources=resources, findings=findings, resolved=resolved)

    def iter_load(self, scan_ids: Sequence[str]) -> Iterator[ScanResult]:
        for sid in scan_ids:
            yield self.load(sid)

    def check(self) -> list[str]:
        """Consistency problems (empty when sound): counts that disagree with rows, orphans."""
        problems: list[str] = []
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                ok = conn.execute(text("PRAGMA integrity_check")).scalar()
                if ok != "ok":
                    problems.append(f"sqlite integrity_check: {ok}")
            counted = {
                "resource_count": (t.resources, None),
                "finding_count": (t.findings, t.findings.c.suppressed_by.is_(None)),
                "suppressed_count": (t.findings, t.findings.c.suppressed_by.is_not(None)),
                "gap_count": (t.gaps, None),
            }
            for s in conn.execute(select(t.scans)):
                for column, (table, cond) in counted.items():
                    q = select(func.count()).select_from(table).where(table.c.scan_id == s.id)
                    if cond is not None:
                        q = q.where(cond)
                    n = conn.execute(q).scalar_one()
                    if n != getattr(s, column):
                        problems.append(f"scan {s.id}: {column} is {getattr(s, column)} but {n} rows are stored")
            for table in (t.gaps, t.resources, t.locations, t.findings):
                orphans = conn.execute(
                    select(func.count()).select_from(table).where(table.c.scan_id.not_in(select(t.scans.c.id)))
                ).scalar_one()
                if orphans:
                    problems.append(f"{table.name}: {orphans} rows belong to no scan")
        return problems


def _info(m: Any) -> ScanInfo:
    return ScanInfo(
        id=m["id"],
        target=m["target"],
        target_label=m["target_label"],
        provider=m["provider"],
        started_at=_utc(m["started_at"]) or utcnow(),
        finished_at=_utc(m["finished_at"]),
        complete=bool(m["complete"]),
        interrupted=bool(m["interrupted"]),
        resource_count=m["resource_count"],
        finding_count=m["finding_count"],
        suppressed_count=m["suppressed_count"],
        gap_count=m["gap_count"],
        request=Scan(ScanRequest.from_dict(m["request"] or {}), context=dict(m["context"] or {}))
        .effective_request()
        .to_dict(),
    )
