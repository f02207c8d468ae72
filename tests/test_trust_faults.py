"""Faults, for every provider: throttling, 5xx, connection resets and stalls injected into its emulator.

When retries suffice, the scan must see exactly what a fault-free scan sees;
when they cannot (a region/service, project or subscription that keeps failing),
exactly that part becomes gaps, the retries are bounded, and everything else
still lands. Where and how each provider's faults are injected, and which part
fails, is its entry in tests/trust_support/.
"""

from __future__ import annotations

from typing import Any

import pytest

from .cloud_support import inventory, owners
from .trust_support import Harness


@pytest.fixture(scope="module")
def baseline(provider_harness: Harness) -> dict[str, dict[str, Any]]:
    """The sample estate, seeded once for the module, and a fault-free scan of it per inventory mode."""
    provider_harness.seed()
    return provider_harness.baseline()


def test_transient_faults_are_retried_and_nothing_is_lost(trust: Harness, baseline: dict[str, Any]) -> None:
    for case in trust.transient():
        trust.clear_log()
        trust.set_faults(case.faults)
        result = trust.scan(case.mode, **case.options)
        trust.set_faults(None)
        faults = case.faults
        assert len(faults.injected) == faults.budget and set(faults.injected) == set(faults.kinds), case.mode
        assert [(g.scope, g.region, g.service, g.code, g.error[:120]) for g in result.scan.gaps] == []
        assert result.scan.complete
        assert inventory(result) == baseline[case.mode]["inventory"]
        assert owners(result) == baseline[case.mode]["owners"]
        # nothing more is "not readable" than without faults (AWS's sample estate replicates to a bucket
        # of another account, whose region is never readable)
        assert {n for n in result.scan.notes if "not readable" in n} == baseline[case.mode]["unreadable"]
        # Retries were real: each fault cost exactly one more request than the scan made (the call
        # counter counts either every attempt or the scan's own calls)...
        wire = len(trust.wire())
        retries = 0 if trust.counts_retries else len(faults.injected)
        assert sum(result.scan.api_calls.values()) == wire - retries
        # ...and than the fault-free scan made, where that number is fixed.
        if trust.same_requests:
            assert wire == baseline[case.mode]["requests"] + len(faults.injected)


@pytest.mark.parametrize("kind", ["503", "429", "reset", "slow"])
def test_a_part_that_keeps_failing_is_exactly_its_gaps(trust: Harness, baseline: dict[str, Any], kind: str) -> None:
    """'slow': answers that never come (longer than the read timeout) are retried, then a gap; no hang."""
    part = trust.failing(kind, baseline)
    trust.set_faults(part.faults)
    result = trust.scan(part.mode, **part.options)
    gaps = result.scan.gaps
    assert sorted((g.region or g.scope, g.service) for g in gaps) == part.gaps, [(g.scope, g.service) for g in gaps]
    assert {g.code for g in gaps} <= part.codes, [g.code for g in gaps]
    assert all("\n" not in g.error for g in gaps)
    assert all(part.error_says in g.error for g in gaps)
    low, high = part.attempts
    assert low <= len(part.faults.injected) <= high, "bounded retries, then a gap"
    assert not result.scan.complete
    assert part.lost, "the failing part must have held resources"
    assert inventory(result) == part.expected
    if part.judged_lost:
        assert {r.judged for r in result.resources if r.id in part.lost} == {part.judged_lost}
