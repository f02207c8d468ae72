"""Resources carry how they were judged (category, depth: footprint / primary / parent, part_of);
scans carry what they learned of their scope (context), apart from what was asked (request).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scans") as batch:
        batch.add_column(sa.Column("context", sa.JSON))
    with op.batch_alter_table("resources") as batch:
        batch.add_column(sa.Column("category", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("judged", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("part_of", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("part_of")
        batch.drop_column("judged")
        batch.drop_column("category")
    with op.batch_alter_table("scans") as batch:
        batch.drop_column("context")
