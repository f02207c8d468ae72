"""The AWS part of `residency-audit demo`: moto behind the loopback front, seeded with the sample estate."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ...commands.demo import environment

if TYPE_CHECKING:
    from ...core import Adapter


@contextmanager
def part() -> Iterator[Callable[[], Adapter]]:
    from residency_emulator.aws import aws_emulator
    from residency_emulator.estate import seed_aws

    from .scan import AwsAdapter

    with aws_emulator() as emu:
        seed_aws(emu)
        with environment(emu.env()):
            yield lambda: AwsAdapter.from_profile(None)
