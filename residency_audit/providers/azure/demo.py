"""Azure's part of `residency-audit demo`: the fake ARM server over HTTPS, seeded with the
sample estate; azure-identity and the SDK trust its certificate via REQUESTS_CA_BUNDLE."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...core import Adapter


@contextmanager
def demo_part() -> Iterator[Callable[[], Adapter]]:
    from residency_emulator.azure import azure_emulator, seed_azure

    from ...commands.demo import environment
    from .scan import AzureAdapter

    with azure_emulator() as fake:
        seed_azure(fake)
        with environment(fake.env()):
            yield lambda: AzureAdapter.from_environment(endpoint=fake.url)
