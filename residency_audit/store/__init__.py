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
#: Seconds a store statement may wait for a lock or run (PostgreSQL lock_timeout and statement_timeout;
#: SQLite's busy timeout): a store held by another session ends the run with one line, never hangs it.
DEFAULT_TIMEOUT = 30.0
TIMEOUT_ENV_VAR = "RESIDENCY_AUDIT_STORE_TIMEOUT"


def store_timeout(value: float | None = None) -> float:
    """--store-timeout, else $RESIDENCY_AUDIT_STORE_TIMEOUT, else 30 s."""
    if value is None:
        raw = os.environ.get(TIMEOUT_ENV_VAR, "").strip()
        if not raw:
            return DEFAULT_TIMEOUT
        try:
            value = float(raw)
        except ValueError:
            raise UserError(f"{TIMEOUT_ENV_VAR}={raw!r} is not a number of seconds") from None
    if not 0 < value <= 24 * 3600:
        raise UserError(f"store timeout {value:g} s: give a number of seconds above 0 (at most a day)")
    return value


def store_url(value: str | None = None) -> str:
    """The SQLAlchemy URL for --store VALUE, the environment, or the default SQLite file.

    A plain path means a SQLite file; `postgresql://` and `postgres://` use psycopg 3.
    """
    raw = value or os.environ.get(ENV_VAR) or str(DEFAULT_PATH)
    if "://" not in raw:
        return f"sqlite:///{Path(raw).expanduser()}"
    scheme, rest = raw.split("://", 1)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return _checked(f"postgresql+psycopg://{_encode_userinfo(rest)}")
    if scheme == "sqlite":
        authority = rest.split("/", 1)[0]
        if authority:
            from ..redact import redact_userinfo

            shown = redact_userinfo(raw)
            raise UserError(f"store URL {shown}: a SQLite store is a file (sqlite:///PATH), with no user or host")
        return raw
    raise UserError(f"unsupported store URL scheme '{scheme}://' (use a file path, sqlite:///FILE or postgresql://...)")


def _encode_userinfo(rest: str) -> str:
    """Percent-encode the user and password, so that a password holding '@', ':', '/' or '#'
    connects as typed instead of spilling into the host name (and into error lines)."""
    from urllib.parse import quote, unquote

    # The host follows the last '@' before the query; a password may itself hold '/' or '@'.
    before, q, query = rest.partition("?")
    if "@" not in before:
        return rest
    userinfo, _, hostpath = before.rpartition("@")
    user, colon, password = userinfo.partition(":")
    encoded = quote(unquote(user), safe="") + (":" + quote(unquote(password), safe="") if colon else "")
    return f"{encoded}@{hostpath}{q}{query}"


def _checked(url: str) -> str:
    """A URL SQLAlchemy and psycopg will accept: a bad port or host is an input error here (exit 2),
    not an internal error when the store is opened."""
    from ..redact import redact_userinfo

    authority = url.split("://", 1)[1].split("/", 1)[0]
    hostport = authority.rpartition("@")[2]
    problem = ""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            problem = "unclosed '[' in the IPv6 host"
        else:
            port = hostport[end + 1 :]
            if port and (not port.startswith(":") or not port[1:].isdigit()):
                problem = f"port {port[1:]!r} is not a number"
    elif ":" in hostport:
        port = hostport.rsplit(":", 1)[1]
        if not port.isdigit() or not 0 < int(port) < 65536:
            problem = f"port {port!r} is not a number from 1 to 65535"
    if problem:
        raise UserError(f"store URL {redact_userinfo(url)}: {problem}")
    return url


def open_store(value: str | None = None, timeout: float | None = None, create: bool = True) -> Store:
    """Open (creating and migrating as needed) the store named by --store VALUE or the defaults.

    Commands that only read (`report`) pass `create=False`: a store that is not
    there is an input error, not an empty file left behind.
    """
    from .sql import Store

    return Store.open(store_url(value), timeout=store_timeout(timeout), create=create)
