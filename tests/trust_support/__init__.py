"""The trust harness: one entry per provider, so each trust guarantee is one test over all of them.

A provider's entry knows its emulator (start, seed the sample estate, point the
SDK at it), how to scan it in process and from the CLI, how to read the
emulator's request log (each request the tool made, attributed to a declared
read, with a read-only verdict), how to make one part of the estate keep
failing (throttling / 5xx / resets / stalls on one region, service, project or
subscription), how to slow one long listing down for Ctrl-C, and which secrets
to plant. The tests in tests/test_trust_*.py assert the same properties of every
entry (aws.py, gcp.py, azure.py; the shared part in base.py); a new provider adds one module
with a `Harness` subclass and its `HARNESSES` entry, not new tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .aws import AWS_MARKERS, ENV_SECRETS, READ_EXCEPTIONS, READ_VERB, AwsHarness, Recorder
from .azure import AzureHarness
from .base import (
    EXTRA,
    LATENCY,
    PROVIDERS,
    TRANSIENT,
    Denied,
    Expect,
    Failing,
    Harness,
    Interruptible,
    Inventory,
    Op,
    Planted,
    ReadOnlyRun,
    Scenario,
    Sent,
    Transient,
    Waiting,
    counted,
)
from .gcp import GcpHarness

__all__ = [
    "AWS_MARKERS",
    "ENV_SECRETS",
    "EXTRA",
    "HARNESSES",
    "LATENCY",
    "PROVIDERS",
    "READ_EXCEPTIONS",
    "READ_VERB",
    "TRANSIENT",
    "AwsHarness",
    "AzureHarness",
    "Denied",
    "Expect",
    "Failing",
    "GcpHarness",
    "Harness",
    "Interruptible",
    "Inventory",
    "Op",
    "Planted",
    "ReadOnlyRun",
    "Recorder",
    "Scenario",
    "Sent",
    "Transient",
    "Waiting",
    "counted",
    "start",
]


def start(provider: str, request: pytest.FixtureRequest) -> Iterator[Harness]:
    """Start `provider`'s harness for a module (AWS shares the session's moto server: moto keeps its
    state per process, so a second server would share and reset it)."""
    mp = pytest.MonkeyPatch()
    harness = AwsHarness(mp, request.getfixturevalue("aws_emu")) if provider == "aws" else HARNESSES[provider](mp)
    try:
        yield harness
    finally:
        harness.tidy()
        harness.stop()
        mp.undo()


HARNESSES: dict[str, type[Harness]] = {"aws": AwsHarness, "gcp": GcpHarness, "azure": AzureHarness}
assert tuple(HARNESSES) == PROVIDERS
