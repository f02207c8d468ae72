"""Evidence bundles against someone who can rewrite them: Ed25519-signed manifests, and a
`--verify` that tells unsigned, valid and invalid apart and never crashes on a bad manifest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from residency_audit.store import open_store

from .conftest import run_cli
from .store_support import PROD, T0, res, scan_of


@pytest.fixture
def store(tmp_path: Path) -> str:
    db = str(tmp_path / "s.db")
    with open_store(db) as s:
        s.record(scan_of([res("s3.bucket", "a", PROD, ("primary", "us-east-1"))], T0))
        s.record(scan_of([res("s3.bucket", "b", PROD, ("primary", "eu-west-1"))], T0.replace(day=3)))
    return db


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(private PEM, its public PEM, another key's public PEM)."""
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    private = tmp_path / "signing.pem"
    private.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    public = tmp_path / "signing.pub.pem"
    public.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    stranger = tmp_path / "other.pub.pem"
    stranger.write_bytes(other.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return private, public, stranger


def _bundle(capsys: pytest.CaptureFixture[str], store: str, out: Path, *extra: str) -> Path:
    code, _, err = run_cli(["report", "--store", store, "-o", str(out), "--bundle", "-f", "md", "-q", *extra], capsys)
    assert code == 0, err
    (bundle,) = out.glob("evidence-*")
    return bundle


def _verify(capsys: pytest.CaptureFixture[str], bundle: Path, *extra: str) -> tuple[int, str]:
    code, out, err = run_cli(["report", "--verify", str(bundle), *extra], capsys)
    return code, out + err


def _consistent_deletion(bundle: Path) -> None:
    """The issue's attack: delete a scan file, then rewrite manifest.json and SHA256SUMS to match."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    victim = next(e for e in manifest["files"] if e["path"].startswith("scans/"))
    (bundle / victim["path"]).unlink()
    manifest["files"].remove(victim)
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    sums = [f"{e['sha256']}  {e['path']}" for e in manifest["files"]]
    sums.append(f"{hashlib.sha256((bundle / 'manifest.json').read_bytes()).hexdigest()}  manifest.json")
    (bundle / "SHA256SUMS").write_text("\n".join(sums) + "\n")


def test_repro_consistent_rewrite_fails_a_signed_bundle(
    store: str, keys: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private, public, stranger = keys
    bundle = _bundle(capsys, store, tmp_path / "out", "--sign-key", str(private))
    code, out = _verify(capsys, bundle, "--verify-key", str(public))
    assert code == 0 and "signature VALID" in out and "OK, every file matches" in out
    code, out = _verify(capsys, bundle, "--verify-key", str(stranger))
    assert code == 1 and "signature INVALID" in out
    _consistent_deletion(bundle)
    code, out = _verify(capsys, bundle)  # checksums alone: the rewrite is consistent
    assert code == 0 and "signature UNVERIFIED" in out
    code, out = _verify(capsys, bundle, "--verify-key", str(public))
    assert code == 1 and "signature INVALID" in out


def test_unsigned_bundle_is_reported_unsigned_and_fails_when_a_key_is_expected(
    store: str, keys: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, public, _ = keys
    bundle = _bundle(capsys, store, tmp_path / "out")
    code, out = _verify(capsys, bundle)
    assert code == 0 and "signature UNSIGNED" in out and "VALID" not in out
    code, out = _verify(capsys, bundle, "--verify-key", str(public))
    assert code == 1 and "signature UNSIGNED" in out
    # Stripping the signature from a signed bundle makes it unsigned, never valid.
    _consistent_deletion(bundle)
    assert _verify(capsys, bundle, "--verify-key", str(public))[0] == 1


def test_signing_key_from_the_environment_with_a_passphrase(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Ed25519PrivateKey.generate()
    private = tmp_path / "enc.pem"
    private.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"s3cret-pass")))
    public = tmp_path / "enc.pub.pem"
    public.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    monkeypatch.setenv("RESIDENCY_AUDIT_SIGNING_KEY", str(private))
    code, _, err = run_cli(["report", "--store", store, "-o", str(tmp_path / "x"), "--bundle", "-q"], capsys)
    assert code == 2 and "not a usable PEM private key" in err  # encrypted, no passphrase given
    monkeypatch.setenv("RESIDENCY_AUDIT_SIGNING_KEY_PASSPHRASE", "s3cret-pass")
    bundle = _bundle(capsys, store, tmp_path / "out")
    assert _verify(capsys, bundle, "--verify-key", str(public))[0] == 0
    assert "s3cret-pass" not in (bundle / "manifest.sig").read_text()


def test_a_non_ed25519_key_is_an_input_error(store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = tmp_path / "ec.pem"
    pem.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    code, _, err = run_cli(
        ["report", "--store", store, "-o", str(tmp_path), "--bundle", "--sign-key", str(pem)], capsys
    )
    assert code == 2 and "must be Ed25519" in err and not list(tmp_path.glob("evidence-*"))


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        ([], "expected an object with a 'files' list"),
        ({"files": [{"sha256": "00"}]}, "files[0] has no 'path'"),
        ({"files": ["x"]}, "files[0] has no 'path'"),
        ({"files": [{"path": "../../etc/passwd", "sha256": "00"}]}, "leaves the bundle"),
        ({"files": [{"path": "a.json"}]}, "has no 'sha256'"),
    ],
)
def test_repro_malformed_manifest_is_one_line_exit_2(
    manifest: object, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "SHA256SUMS").write_text("")
    code, out, err = run_cli(["report", "--verify", str(tmp_path)], capsys)
    assert code == 2 and out == "" and problem in err and err.count("\n") == 1
