"""Secrets for Google Cloud and Azure: keys, client secrets, bearer tokens and signed URLs never reach an artefact.

Real `scan gcp` (a service-account key file with a recognisable key id and a
freshly generated private key; the self-signed JWTs it sends are collected from
the fake's log) and real `scan azure` (a recognisable AZURE_CLIENT_SECRET; the
fake's issued tokens), with a signed Cloud Storage URL planted in a bucket label
and SAS URLs in Azure tags. Every file written (JSON, table file, SQLite store)
and everything printed is searched for each secret.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from residency_audit.redact import MASK
from residency_emulator.azure import SUB_LEGACY, SUB_PROD, FakeArm
from residency_emulator.gcp import GcpEmulator

from .cloud_support import point_at_azure, reseed_gcp
from .conftest import read_json

GCS_SIGNED = (
    "https://storage.googleapis.com/trust-exports/x.csv?X-Goog-Algorithm=GOOG4-RSA-SHA256"
    "&X-Goog-Credential=scanner%40ledger-nl.iam.gserviceaccount.com%2F20261201%2Feurope-west4%2Fstorage%2Fgoog4_request"
    "&X-Goog-Date=20261201T000000Z&X-Goog-Expires=900&X-Goog-SignedHeaders=host&X-Goog-Signature=trustGcsSignature0123ab"
)
SAS_TAG = (
    "https://trustacct.blob.core.windows.net/exports/x.csv?sv=2022-11-02&sp=r&se=2030-01-01T00:00:00Z"
    "&sig=trustAzureSasSignature%2Babc%3D"
)
SAS_RG_TAG = "https://trustacct.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=co&sig=trustSasOnGroup0123"
KEY_ID = "trustGcpPrivateKeyId0123456789abcdef"
CLIENT_SECRET = "trustAzureClientSecret~" + secrets.token_hex(8)


def _run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "residency_audit", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )
    return proc.returncode, proc.stdout + proc.stderr


def _artefacts(root: Path) -> dict[str, str]:
    """Every file written, as text (the SQLite store decoded leniently)."""
    return {str(p.relative_to(root)): p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file()}


def _leaks(everything: dict[str, str], markers: list[str]) -> list[tuple[str, str]]:
    assert all(len(m) >= 12 for m in markers), markers
    return [(where, m) for where, text in everything.items() for m in markers if m in text]


def _runs(scan: list[str], env: dict[str, str], cwd: Path) -> tuple[dict[str, int], dict[str, str]]:
    codes, printed = {}, {}
    for label, extra in {
        "json": ["-f", "json", "-o", "out/report.json"],
        "table-file": ["-f", "table", "-o", "out/report.txt"],
        "table-terminal": [],
    }.items():
        codes[label], printed[label] = _run([*scan, "--store", "out/history.db", *extra], env, cwd)
    return codes, printed


# --------------------------------------------------------------------------- Google Cloud


@pytest.fixture
def gcp(monkeypatch: pytest.MonkeyPatch) -> Iterator[GcpEmulator]:
    emu = GcpEmulator(page_size=2)
    reseed_gcp(emu, monkeypatch)
    (bucket,) = [b for b in emu.projects["shop-prod"].items("buckets") if b["name"] == "invoices-eu"]
    bucket["labels"] = {"export": GCS_SIGNED}
    emu.fail("bigquery", 403, scope="data-platform")  # a gap, so the error path is searched too
    yield emu
    emu.stop()


def _key_file(tmp_path: Path) -> tuple[Path, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "ledger-nl",
        "private_key_id": KEY_ID,
        "private_key": pem,
        "client_email": "scanner@ledger-nl.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = tmp_path / "keys" / "sa.json"
    path.parent.mkdir()
    path.write_text(json.dumps(info))
    return path, pem


def test_gcp_no_key_token_or_signed_url_in_any_artefact(gcp: GcpEmulator, tmp_path: Path) -> None:
    key_file, pem = _key_file(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "GOOGLE_APPLICATION_CREDENTIALS": str(key_file), "COLUMNS": "200"}
    codes, printed = _runs(["scan", "gcp", "--endpoint", gcp.url, "--inventory", "services"], env, work)
    assert set(codes.values()) == {1}, printed  # findings (and a gap)

    # The key really was used: every request carries a JWT signed with it, naming its key id.
    tokens = {v.removeprefix("Bearer ") for r in gcp.log for k, v in r.headers.items() if k.lower() == "authorization"}
    assert tokens and all(t.count(".") == 2 for t in tokens)
    header = json.loads(_b64(next(iter(tokens)).split(".")[0]))
    assert header["kid"] == KEY_ID
    body_lines = [line for line in pem.splitlines() if "PRIVATE KEY" not in line]
    markers = [KEY_ID, *body_lines[:3], *(t.split(".")[2] for t in tokens), "trustGcsSignature"]

    artefacts = _artefacts(work)
    assert {"out/report.json", "out/report.txt", "out/history.db"} <= set(artefacts)
    everything = {
        **{f"file {k}": v for k, v in artefacts.items()},
        **{f"printed by {k}": v for k, v in printed.items()},
    }
    assert _leaks(everything, markers) == []

    report: dict[str, Any] = read_json(work / "out/report.json")
    (bucket,) = [r for r in report["resources"] if r["name"] == "invoices-eu"]
    assert bucket["tags"]["export"].endswith(f"X-Goog-Signature={MASK}")
    assert "storage.googleapis.com/trust-exports" in artefacts["out/history.db"], "the label reached the store"
    assert [(g["scope"], g["service"]) for g in report["scan"]["gaps"]] == [("data-platform", "bigquery")]


def _b64(part: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


# --------------------------------------------------------------------------- Azure


@pytest.fixture
def azure(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArm]:
    fake = FakeArm(client_secret=CLIENT_SECRET).start()
    point_at_azure(fake, monkeypatch)
    fake.denied = {SUB_LEGACY}  # a gap, so the error path is searched too
    (account,) = [r for r in fake.resources[SUB_PROD] if r["name"] == "stinvoiceswe"]
    account["tags"] = {"export": SAS_TAG}
    (group,) = [g for g in fake.resource_groups[SUB_PROD] if g["name"] == "rg-data"]
    group["tags"] = {"share": SAS_RG_TAG}
    yield fake
    fake.stop()


@pytest.mark.parametrize("mode", ["arm", "graph"])
def test_azure_no_client_secret_token_or_sas_in_any_artefact(azure: FakeArm, tmp_path: Path, mode: str) -> None:
    env = {**os.environ, **azure.env(), "COLUMNS": "200"}
    assert env["AZURE_CLIENT_SECRET"] == CLIENT_SECRET
    codes, printed = _runs(["scan", "azure", "--endpoint", azure.url, "--inventory", mode], env, tmp_path)
    assert set(codes.values()) == {1}, printed
    assert azure.token_scopes, "the client secret really was exchanged for a token"
    markers = [CLIENT_SECRET, "trustAzureClientSecret", "fake-arm-token-", "trustAzureSasSignature", "trustSasOnGroup"]

    artefacts = _artefacts(tmp_path)
    assert {"out/report.json", "out/report.txt", "out/history.db"} <= set(artefacts)
    everything = {
        **{f"file {k}": v for k, v in artefacts.items()},
        **{f"printed by {k}": v for k, v in printed.items()},
    }
    assert _leaks(everything, markers) == []

    report: dict[str, Any] = read_json(tmp_path / "out/report.json")
    by_name = {r["name"]: r for r in report["resources"]}
    assert by_name["stinvoiceswe"]["tags"]["export"].endswith(f"&sig={MASK}")
    assert "sv=2022-11-02" in by_name["stinvoiceswe"]["tags"]["export"]
    assert by_name["rg-data"]["tags"]["share"].endswith(f"&sig={MASK}")
    assert "trustacct.blob.core.windows.net" in artefacts["out/history.db"], "the tag reached the store, redacted"
    assert [g["scope"] for g in report["scan"]["gaps"]] == [SUB_LEGACY]
