"""Shared fixtures: a real moto server (behind the emulator front) over real HTTP."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from residency_emulator.aws import AwsEmulator
from residency_emulator.gcp import GcpEmulator, seed_gcp

from .hypothesis_support import FULL
from .trust_support import PROVIDERS, Harness, start

os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

# CI replays the same generated examples every run (a CI failure is then reproducible
# and never depends on luck); developers' runs keep exploring new ones.
# Developers' runs draw a quarter of the examples (`hypothesis_support.examples`), CI all of them.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", max_examples=25)
settings.register_profile("full", max_examples=100)
settings.load_profile("ci" if os.environ.get("CI") else "full" if FULL else "dev")


@pytest.fixture(scope="session", autouse=True)
def _scan_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Scans are recorded by default: keep the tests' history out of the working tree's reports/."""
    mp = pytest.MonkeyPatch()
    mp.setenv("RESIDENCY_AUDIT_STORE", str(tmp_path_factory.mktemp("store") / "residency.db"))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def aws_emu() -> Iterator[AwsEmulator]:
    emu = AwsEmulator()
    yield emu
    emu.stop()


@pytest.fixture
def aws_env(aws_emu: AwsEmulator, monkeypatch: pytest.MonkeyPatch) -> AwsEmulator:
    """A clean emulator, and boto3's standard variables pointing at it."""
    aws_emu.reset()
    for key in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in aws_emu.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    return aws_emu


@pytest.fixture(scope="module")
def gcp_server() -> Iterator[GcpEmulator]:
    emu = GcpEmulator(page_size=2)
    yield emu
    emu.stop()


@pytest.fixture
def gcp(gcp_server: GcpEmulator, monkeypatch: pytest.MonkeyPatch) -> GcpEmulator:
    """A freshly seeded fake, and no ambient Google credentials or config."""
    gcp_server.reset()
    seed_gcp(gcp_server)
    gcp_server.front.clear_log()
    for key in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    return gcp_server


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from residency_audit.cli import main

    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def read_json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


@pytest.fixture(scope="module", params=PROVIDERS)
def provider_harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """One provider's trust harness (tests/trust_support/) for a module: each trust test runs once per provider."""
    yield from start(request.param, request)


@pytest.fixture
def trust(provider_harness: Harness) -> Iterator[Harness]:
    yield provider_harness
    provider_harness.tidy()
