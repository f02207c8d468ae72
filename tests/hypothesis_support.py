"""How many generated examples a property test runs: all of them in CI (derandomized, so a
failure there is reproducible), a quarter on a developer's machine, where every run draws new
ones. Set RESIDENCY_AUDIT_FULL_TESTS=1 for CI's number locally."""

from __future__ import annotations

import os

FULL = bool(os.environ.get("CI") or os.environ.get("RESIDENCY_AUDIT_FULL_TESTS"))


def examples(n: int) -> int:
    """`n` examples in CI, a quarter of them (at least 10) in the developer loop."""
    return n if FULL else max(10, n // 4)
