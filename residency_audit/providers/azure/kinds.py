"""Azure kinds, each declared once (see `providers.base.Kind`).

Transitional: the read operations still live in the adapter (`adapters/azure.py`
`READ_OPERATIONS`); the provider package takes them over with its kind declarations.
"""

from __future__ import annotations

from ..base import Kind, ReadOperation

KINDS: tuple[Kind, ...] = ()


def read_operations() -> tuple[ReadOperation, ...]:
    from ...adapters.azure import READ_OPERATIONS

    return tuple(ReadOperation("arm", op.purpose, op.action, op.method, op.path) for op in READ_OPERATIONS)
