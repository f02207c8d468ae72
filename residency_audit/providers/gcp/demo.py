"""The Google Cloud part of `residency-audit demo`: the fake REST server, seeded with the sample estate."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...core import Adapter


@contextmanager
def part() -> Iterator[Callable[[], Adapter]]:
    from residency_emulator.gcp import gcp_emulator, seed_gcp

    from .scan import GcpAdapter

    with gcp_emulator() as emu:
        seed_gcp(emu)
        yield lambda: GcpAdapter.create(anonymous=True, endpoints={"*": emu.url}, inventory="services")
