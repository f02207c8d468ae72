"""Resources carry their copy links (`model.CopyLink`: copy-of / copies-to another resource), which
`copies` follows to list every place a data set lives.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.add_column(sa.Column("links", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("links")
