"""Keeping a long scan's resident memory flat where the C allocator would let it creep.

Measured on the organisation benchmark (issue 20, 26,560 resources over 101 accounts): the
live Python objects and the bytes glibc had in use stayed flat through the scan, yet the
resident size climbed by ~30 MB. glibc gives each thread that allocates its own arena (up to 8
per core), and each arena keeps the high-water mark of the responses parsed in it; under the
GIL those arenas buy no parallelism. Two arenas, and the free pages handed back once the scan
is judged, keep what the process holds close to what it uses.

Both are glibc calls (Linux); elsewhere these functions do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache

_M_ARENA_MAX = -8  # glibc malloc.h


@cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    if not (hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim")):
        return None  # musl and other C libraries
    return libc


def limit_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas for the rest of the process. Effective only before the
    process has made 9 of them (the scan calls it before starting its workers)."""
    libc = _libc()
    return bool(libc is not None and libc.mallopt(_M_ARENA_MAX, arenas) == 1)


def trim() -> bool:
    """Hand the allocator's free pages back to the system (after a scan's transient peak)."""
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))
