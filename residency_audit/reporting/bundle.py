"""Evidence bundles: the report, the raw JSON of every scan it covers, and checksums.

`manifest.json` lists each file with its SHA-256 and size; `SHA256SUMS` holds the
same digests (plus the manifest's) in the format `sha256sum -c` reads, so an
auditor can verify a bundle without this tool.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..outputs.jsonout import render as scan_json
from . import Report
from .jsonreport import _results

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def write_bundle(report: Report, directory: Path, report_name: str, report_text: str) -> list[Path]:
    """Write the bundle into `directory` (created; must not hold a bundle yet)."""
    from .. import __version__

    directory.mkdir(parents=True, exist_ok=False)
    files: list[Path] = []
    (directory / report_name).write_text(report_text, "utf-8")
    files.append(directory / report_name)
    scans_dir = directory / "scans"
    scans_dir.mkdir()
    for result in _results(report):
        p = scans_dir / f"{result.scan.started_at:%Y%m%dT%H%M%SZ}-{result.scan.id}.json"
        p.write_text(scan_json(result), "utf-8")
        files.append(p)
        merged = report.merged.get(result.scan.id)
        for shard in merged.results.values() if merged else ():  # each shard's scan exactly as recorded
            (scans_dir / "shards").mkdir(exist_ok=True)
            p = scans_dir / "shards" / f"{shard.scan.started_at:%Y%m%dT%H%M%SZ}-{shard.scan.id}.json"
            p.write_text(scan_json(shard), "utf-8")
            files.append(p)
    entries = [
        {"path": p.relative_to(directory).as_posix(), "sha256": sha256(p), "bytes": p.stat().st_size} for p in files
    ]
    manifest: dict[str, Any] = {
        "tool": {"name": "residency-audit", "version": __version__},
        "generated_at": report.generated_at.isoformat(),
        "store": report.store,
        "target": {"key": report.target, "label": report.target_label},
        "current_scan_id": report.current.scan.id if report.current else None,
        "baseline_scan_id": report.baseline.scan.id if report.baseline else None,
        "scan_ids": [r.scan.id for r in _results(report)],
        "shard_scan_ids": {sid: m.shards.scan_ids for sid, m in sorted(report.merged.items())},
        "files": entries,
        "verify": f"cd <bundle> && sha256sum -c {SUMS}   (or: residency-audit report --verify <bundle>)",
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    sums = [f"{e['sha256']}  {e['path']}" for e in entries]
    sums.append(f"{sha256(directory / MANIFEST)}  {MANIFEST}")
    (directory / SUMS).write_text("\n".join(sums) + "\n", "utf-8")
    return [*files, directory / MANIFEST, directory / SUMS]


def verify_bundle(directory: Path) -> list[str]:
    """Problems found (empty: every file listed is present and unchanged, and nothing was added)."""
    from ..errors import UserError

    try:
        manifest = json.loads((directory / MANIFEST).read_text("utf-8"))
        sums = (directory / SUMS).read_text("utf-8").splitlines()
    except (OSError, ValueError) as exc:
        raise UserError(f"{directory}: not a readable evidence bundle ({exc})") from None
    problems: list[str] = []
    expected = {e["path"]: e["sha256"] for e in manifest.get("files", [])}
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
    listed = set(expected) | {SUMS}
    for p in sorted(directory.rglob("*")):
        if p.is_file() and p.relative_to(directory).as_posix() not in listed:
            problems.append(f"{p.relative_to(directory).as_posix()}: not in the manifest")
    return problems
