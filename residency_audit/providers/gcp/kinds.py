"""Google Cloud kinds, each declared once (see `providers.base.Kind`).

Transitional: the routes still live in the adapter (`adapters/gcp.py` `_ROUTES`); the
provider package takes them over with its kind declarations.
"""

from __future__ import annotations

from ..base import Kind, ReadOperation

KINDS: tuple[Kind, ...] = ()


def read_operations() -> tuple[ReadOperation, ...]:
    from ...adapters.gcp import _ROUTES

    return tuple(ReadOperation(r.service, r.method, r.permission, r.http, r.path.pattern) for r in _ROUTES)
