"""Evidence bundles: the report, the raw JSON of every scan it covers, and checksums.

`manifest.json` lists each file with its SHA-256 and size; `SHA256SUMS` holds the
same digests (plus the manifest's) in the format `sha256sum -c` reads, so an
auditor can verify a bundle without this tool.

Checksums alone prove nothing against someone who can rewrite the bundle: delete a
scan, rewrite the manifest and SHA256SUMS to match, and it still verifies. With a
signing key (`--sign-key`, an Ed25519 private key in PEM) the manifest's exact bytes
are signed into `manifest.sig` (JSON: algorithm, key id, base64 signature), and
`--verify DIR --verify-key PUBLIC.pem` tells a valid signature from an invalid one
and from none at all ("unsigned").
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..outputs.jsonout import render as scan_json
from . import Report
from .jsonreport import _results

if TYPE_CHECKING:
    from ..model import ScanResult

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SIGNATURE = "manifest.sig"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def write_bundle(
    report: Report, directory: Path, report_name: str, report_text: str, sign_key: Path | None = None
) -> list[Path]:
    """Write the report's bundle into `directory` (created; must not hold a bundle yet), signed when given a key."""
    shards: list[ScanResult] = []
    for result in _results(report):
        merged = report.merged.get(result.scan.id)
        shards.extend(merged.results.values() if merged else ())  # each shard's scan exactly as recorded
    manifest: dict[str, Any] = {
        "generated_at": report.generated_at.isoformat(),
        "store": report.store,
        "target": {"key": report.target, "label": report.target_label},
        "current_scan_id": report.current.scan.id if report.current else None,
        "baseline_scan_id": report.baseline.scan.id if report.baseline else None,
        "scan_ids": [r.scan.id for r in _results(report)],
        "shard_scan_ids": {sid: m.shards.scan_ids for sid, m in sorted(report.merged.items())},
    }
    return write_evidence(directory, {report_name: report_text}, list(_results(report)), manifest, sign_key, shards)


def write_evidence(
    directory: Path,
    documents: dict[str, str],
    scans: list[ScanResult],
    manifest_fields: dict[str, Any],
    sign_key: Path | None = None,
    shards: list[ScanResult] | None = None,
) -> list[Path]:
    """An evidence bundle: `documents` (name -> text), the raw JSON of every scan (and shard scan) they
    rest on, `manifest.json` (`manifest_fields` plus every file's SHA-256 and size), `SHA256SUMS`, and
    `manifest.sig` when given a key. `directory` is created and must not exist yet."""
    from .. import __version__

    private = load_private_key(sign_key) if sign_key is not None else None  # a bad key fails before writing
    try:
        directory.mkdir(parents=True, exist_ok=False)
    except FileExistsError:
        from ..errors import UserError

        raise UserError(f"{directory}: already exists (a bundle is written once, into a new directory)") from None
    files: list[Path] = []
    for name, text in documents.items():
        (directory / name).write_text(text, "utf-8")
        files.append(directory / name)
    scans_dir = directory / "scans"
    scans_dir.mkdir()
    for sub, results in (("", scans), ("shards", shards or [])):
        for result in results:
            folder = scans_dir / sub if sub else scans_dir
            folder.mkdir(exist_ok=True)
            p = folder / f"{result.scan.started_at:%Y%m%dT%H%M%SZ}-{result.scan.id}.json"
            p.write_text(scan_json(result), "utf-8")
            files.append(p)
    entries = [
        {"path": p.relative_to(directory).as_posix(), "sha256": sha256(p), "bytes": p.stat().st_size} for p in files
    ]
    manifest: dict[str, Any] = {
        "tool": {"name": "residency-audit", "version": __version__},
        **manifest_fields,
        "files": entries,
        "verify": f"cd <bundle> && sha256sum -c {SUMS}   (or: residency-audit report --verify <bundle>)",
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    sums = [f"{e['sha256']}  {e['path']}" for e in entries]
    sums.append(f"{sha256(directory / MANIFEST)}  {MANIFEST}")
    (directory / SUMS).write_text("\n".join(sums) + "\n", "utf-8")
    written = [*files, directory / MANIFEST, directory / SUMS]
    if private is not None:
        signature = private.sign((directory / MANIFEST).read_bytes())
        doc = {"algorithm": "ed25519", "key_id": key_id(private.public_key()), "signature": _b64(signature)}
        (directory / SIGNATURE).write_text(json.dumps(doc, indent=2) + "\n", "utf-8")
        written.append(directory / SIGNATURE)
    return written


# --------------------------------------------------------------------------- keys and signatures


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def key_id(public: Any) -> str:
    """SHA-256 of the raw Ed25519 public key: what a verifier compares with the key it trusts."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return "sha256:" + hashlib.sha256(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()


def load_private_key(path: Path) -> Any:
    """An Ed25519 private key from PEM; the passphrase, if any, from $RESIDENCY_AUDIT_SIGNING_KEY_PASSPHRASE."""
    import os

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from ..errors import UserError

    passphrase = os.environ.get("RESIDENCY_AUDIT_SIGNING_KEY_PASSPHRASE")
    try:
        key = load_pem_private_key(path.read_bytes(), passphrase.encode() if passphrase else None)
    except OSError as exc:
        raise UserError(f"{path}: cannot read the signing key: {exc.strerror}") from None
    except (ValueError, TypeError) as exc:
        raise UserError(f"{path}: not a usable PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(f"{path}: the signing key must be Ed25519 (openssl genpkey -algorithm ed25519)")
    return key


def load_public_key(path: Path) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from ..errors import UserError

    try:
        key = load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise UserError(f"{path}: cannot read the verification key: {exc.strerror}") from None
    except (ValueError, TypeError) as exc:
        raise UserError(f"{path}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UserError(f"{path}: the verification key must be an Ed25519 public key")
    return key


def signature_status(directory: Path, public_key: Path | None) -> tuple[str, str]:
    """("unsigned" | "valid" | "invalid" | "unverified", detail) for the bundle's manifest signature."""
    import base64
    import binascii

    sig_path = directory / SIGNATURE
    if not sig_path.is_file():
        return "unsigned", f"no {SIGNATURE}: nothing proves who wrote this bundle"
    try:
        doc = json.loads(sig_path.read_text("utf-8"))
        if not isinstance(doc, dict) or doc.get("algorithm") != "ed25519":
            return "invalid", f"{SIGNATURE} is not an ed25519 signature document"
        signature = base64.b64decode(str(doc.get("signature", "")), validate=True)
    except (OSError, ValueError, binascii.Error) as exc:
        return "invalid", f"{SIGNATURE} cannot be read ({exc})"
    signer = str(doc.get("key_id", "?"))
    if public_key is None:
        return "unverified", f"signed by key {signer}; pass --verify-key PUBLIC.pem to check the signature"
    from cryptography.exceptions import InvalidSignature

    key = load_public_key(public_key)
    try:
        key.verify(signature, (directory / MANIFEST).read_bytes())
    except (InvalidSignature, OSError):
        return "invalid", f"the signature does not match {MANIFEST} under key {key_id(key)}"
    return "valid", f"manifest signed by key {key_id(key)}"


def verify_bundle(directory: Path) -> list[str]:
    """Problems found (empty: every file listed is present and unchanged, and nothing was added)."""
    from ..errors import UserError

    try:
        manifest = json.loads((directory / MANIFEST).read_text("utf-8"))
        sums = (directory / SUMS).read_text("utf-8").splitlines()
    except (OSError, ValueError) as exc:
        raise UserError(f"{directory}: not a readable evidence bundle ({exc})") from None
    expected = _listed(directory, manifest)
    problems: list[str] = []
    for line in sums:
        digest, _, name = line.partition("  ")
        if name == MANIFEST:
            expected[MANIFEST] = digest
        elif expected.get(name) != digest:
            problems.append(f"{name}: SHA256SUMS and {MANIFEST} disagree")
    for name, digest in sorted(expected.items()):
        p = directory / name
        if not p.is_file():
            problems.append(f"{name}: missing")
        elif sha256(p) != digest:
            problems.append(f"{name}: changed (SHA-256 differs)")
    listed = set(expected) | {SUMS, SIGNATURE}
    for p in sorted(directory.rglob("*")):
        if p.is_file() and p.relative_to(directory).as_posix() not in listed:
            problems.append(f"{p.relative_to(directory).as_posix()}: not in the manifest")
    return problems


def _listed(directory: Path, manifest: Any) -> dict[str, str]:
    """path -> SHA-256 from the manifest, every entry checked: a malformed manifest is an input error."""
    from pathlib import PurePosixPath

    from ..errors import UserError

    def bad(problem: str) -> UserError:
        return UserError(f"{directory}: not a valid evidence bundle: {MANIFEST}: {problem}")

    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise bad("expected an object with a 'files' list")
    out: dict[str, str] = {}
    for i, entry in enumerate(manifest["files"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"]:
            raise bad(f"files[{i}] has no 'path'")
        if not isinstance(entry.get("sha256"), str):
            raise bad(f"files[{i}] ({entry['path']!r}) has no 'sha256'")
        pure = PurePosixPath(entry["path"])
        if pure.is_absolute() or ".." in pure.parts or "\\" in entry["path"]:
            raise bad(f"files[{i}] path {entry['path']!r} leaves the bundle")
        out[entry["path"]] = entry["sha256"]
    return out
