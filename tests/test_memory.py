"""`memory`: the glibc settings that keep a long scan's resident size close to what it uses."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest

from residency_audit import memory

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only"
)

_PROBE = textwrap.dedent(
    """
    import ctypes, sys, threading
    from residency_audit import memory
    if sys.argv[1] == "cap":
        assert memory.limit_arenas()
    barrier = threading.Barrier(8)
    def work():
        keep = [bytearray(100_000) for _ in range(5)]  # above pymalloc's 512 bytes: glibc's malloc
        barrier.wait()  # every thread alive at once, each asking for memory
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ctypes.CDLL("libc.so.6").malloc_stats()  # one "Arena N:" block per arena, on stderr
    """
)


def _arenas(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return sum(1 for line in done.stderr.splitlines() if line.startswith("Arena "))


@glibc
def test_eight_threads_share_two_arenas_once_capped() -> None:
    assert _arenas("free") > 2  # glibc's default: an arena per thread that allocates, up to 8 per core
    assert _arenas("cap") <= 2


def test_trim_is_safe_to_call_anywhere() -> None:
    """A no-op without glibc (macOS, musl), never an error."""
    on_glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    released = memory.trim()
    assert isinstance(released, bool) and (on_glibc or not released)
