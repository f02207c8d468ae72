"""Scan history: scans, gaps, resources with owner chain and resolved locations, findings.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "scans",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("target_label", sa.Text, nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("started_at", _TZ, nullable=False),
        sa.Column("finished_at", _TZ),
        sa.Column("recorded_at", _TZ, nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("interrupted", sa.Boolean, nullable=False),
        sa.Column("api_calls", sa.JSON, nullable=False),
        sa.Column("notes", sa.JSON, nullable=False),
        sa.Column("tool_version", sa.String(32), nullable=False),
        sa.Column("schema_version", sa.String(16), nullable=False),
        sa.Column("resource_count", sa.Integer, nullable=False),
        sa.Column("finding_count", sa.Integer, nullable=False),
        sa.Column("suppressed_count", sa.Integer, nullable=False),
        sa.Column("gap_count", sa.Integer, nullable=False),
    )
    op.create_index("ix_scans_target_started", "scans", ["target", "started_at"])
    op.create_table(
        "gaps",
        sa.Column("scan_id", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("region", sa.String(128), nullable=False),
        sa.Column("service", sa.String(128), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("code", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], ondelete="CASCADE"),
    )
    op.create_table(
        "resources",
        sa.Column("scan_id", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("resource_id", sa.Text, nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(128), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("owner_kind", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.Text, nullable=False),
        sa.Column("owner_name", sa.Text, nullable=False),
        sa.Column("owner_path", sa.JSON, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_resources_scan_resource", "resources", ["scan_id", "resource_id"])
    op.create_table(
        "locations",
        sa.Column("scan_id", sa.String(64), primary_key=True),
        sa.Column("resource_position", sa.Integer, primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("region", sa.String(128)),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("zone", sa.String(128)),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("place_code", sa.String(128), nullable=False),
        sa.Column("place_name", sa.Text, nullable=False),
        sa.Column("place_kind", sa.String(32), nullable=False),
        sa.Column("countries", sa.JSON, nullable=False),
        sa.Column("in_eu", sa.Boolean, nullable=False),
        sa.Column("known", sa.Boolean, nullable=False),
        sa.Column("jurisdictions", sa.JSON, nullable=False),
        sa.Column("place_source", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["scan_id", "resource_position"], ["resources.scan_id", "resources.position"], ondelete="CASCADE"
        ),
    )
    op.create_table(
        "findings",
        sa.Column("scan_id", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("resource_position", sa.Integer, nullable=False),
        sa.Column("location_position", sa.Integer),
        sa.Column("rule_id", sa.String(128), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("clause", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("suppressed_by", sa.Text),
        sa.ForeignKeyConstraint(
            ["scan_id", "resource_position"], ["resources.scan_id", "resources.position"], ondelete="CASCADE"
        ),
    )
    op.create_index("ix_findings_scan_fingerprint", "findings", ["scan_id", "fingerprint"])


def downgrade() -> None:
    op.drop_table("findings")
    op.drop_table("locations")
    op.drop_table("resources")
    op.drop_table("gaps")
    op.drop_table("scans")
