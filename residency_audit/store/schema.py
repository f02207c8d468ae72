"""The store's tables (SQLAlchemy Core). Alembic migrations create and evolve them.

Rows of one scan are keyed by (scan_id, position) so a scan is written with a
few executemany batches and read back in its original order, on SQLite and
PostgreSQL alike. Lists and mappings that reports only ever read whole (tags,
owner path, notes) are JSON columns.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

scans = Table(
    "scans",
    metadata,
    Column("id", String(64), primary_key=True),
    #: Scans are compared only with scans of the same target (provider, scopes, regions, options).
    Column("target", String(64), nullable=False),
    Column("target_label", Text, nullable=False),
    Column("provider", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("request", JSON, nullable=False),
    # Revision 0002: what the scan learned of its scope (organisation, accounts, inventory path).
    Column("context", JSON),
    Column("complete", Boolean, nullable=False),
    Column("interrupted", Boolean, nullable=False),
    Column("api_calls", JSON, nullable=False),
    Column("notes", JSON, nullable=False),
    Column("tool_version", String(32), nullable=False),
    Column("schema_version", String(16), nullable=False),
    Column("resource_count", Integer, nullable=False),
    Column("finding_count", Integer, nullable=False),
    Column("suppressed_count", Integer, nullable=False),
    Column("gap_count", Integer, nullable=False),
    Index("ix_scans_target_started", "target", "started_at"),
)

gaps = Table(
    "gaps",
    metadata,
    Column("scan_id", String(64), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("provider", String(64), nullable=False),
    Column("scope", Text, nullable=False),
    Column("region", String(128), nullable=False),
    Column("service", String(128), nullable=False),
    Column("error", Text, nullable=False),
    Column("code", String(128), nullable=False),
    ForeignKeyConstraint(["scan_id"], ["scans.id"], ondelete="CASCADE"),
)

resources = Table(
    "resources",
    metadata,
    Column("scan_id", String(64), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("resource_id", Text, nullable=False),
    Column("provider", String(64), nullable=False),
    Column("kind", String(128), nullable=False),
    Column("name", Text, nullable=False),
    Column("owner_kind", String(64), nullable=False),
    Column("owner_id", Text, nullable=False),
    Column("owner_name", Text, nullable=False),
    #: [{kind, id, name}, ...] from the top (organisation) down to the direct owner's parent.
    Column("owner_path", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("source", String(32), nullable=False),
    Column("attributes", JSON, nullable=False),
    # Revision 0002: how the record was judged (see model.Resource); "" in scans recorded before.
    Column("category", String(32), nullable=False, server_default=""),
    Column("judged", String(16), nullable=False, server_default=""),
    Column("part_of", Text, nullable=False, server_default=""),
    # Revision 0003: [{relation, target, how, detail}, ...] (model.CopyLink); NULL in scans recorded before.
    Column("links", JSON),
    ForeignKeyConstraint(["scan_id"], ["scans.id"], ondelete="CASCADE"),
    Index("ix_resources_scan_resource", "scan_id", "resource_id"),
)

locations = Table(
    "locations",
    metadata,
    Column("scan_id", String(64), primary_key=True),
    Column("resource_position", Integer, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("region", String(128)),
    Column("role", String(32), nullable=False),
    Column("zone", String(128)),
    Column("detail", Text, nullable=False),
    # What the catalog said at scan time: reports show history as it was judged then.
    Column("place_code", String(128), nullable=False),
    Column("place_name", Text, nullable=False),
    Column("place_kind", String(32), nullable=False),
    Column("countries", JSON, nullable=False),
    Column("in_eu", Boolean, nullable=False),
    Column("known", Boolean, nullable=False),
    Column("jurisdictions", JSON, nullable=False),
    Column("place_source", Text, nullable=False),
    ForeignKeyConstraint(
        ["scan_id", "resource_position"], ["resources.scan_id", "resources.position"], ondelete="CASCADE"
    ),
)

findings = Table(
    "findings",
    metadata,
    Column("scan_id", String(64), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("resource_position", Integer, nullable=False),
    #: Index into the resource's resolved locations; NULL for resource-level findings.
    Column("location_position", Integer),
    Column("rule_id", String(128), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("clause", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("suppressed_by", Text),
    ForeignKeyConstraint(
        ["scan_id", "resource_position"], ["resources.scan_id", "resources.position"], ondelete="CASCADE"
    ),
    Index("ix_findings_scan_fingerprint", "scan_id", "fingerprint"),
)
