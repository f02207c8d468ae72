"""Scan history: every recorded scan, in SQLite (default) or PostgreSQL.

This module stays light: SQLAlchemy and Alembic (~0.5 s to import) load only
when a store is opened, never on `--help` or on the gate path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError

if TYPE_CHECKING:
    from .sql import Store

#: Where scans are recorded when neither --store nor the environment says otherwise.
DEFAULT_PATH = Path("reports") / "residency.db"
#: Environment variable naming the store URL (e.g. postgresql://user@host/db).
ENV_VAR = "RESIDENCY_AUDIT_STORE"


def store_url(value: str | None = None) -> str:
    """The SQLAlchemy URL for --store VALUE, the environment, or the default SQLite file.

    A plain path means a SQLite file; `postgresql://` and `postgres://` use psycopg 3.
    """
    raw = value or os.environ.get(ENV_VAR) or str(DEFAULT_PATH)
    if "://" not in raw:
        return f"sqlite:///{Path(raw).expanduser()}"
    scheme, rest = raw.split("://", 1)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return f"postgresql+psycopg://{rest}"
    if scheme == "sqlite":
        return raw
    raise UserError(f"unsupported store URL scheme '{scheme}://' (use a file path, sqlite:///FILE or postgresql://...)")


def open_store(value: str | None = None, create: bool = True) -> Store:
    """Open (creating and migrating as needed) the store named by --store VALUE or the defaults.

    Commands that only read (`report`) pass `create=False`: a store that is not
    there is an input error, not an empty file left behind.
    """
    from .sql import Store

    return Store.open(store_url(value), create=create)
