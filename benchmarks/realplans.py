"""The gate over real plans of other projects: what it reads, judges and finds.

Reads every plan listed in ../shared/realplans/manifest.json in place (never copies them)
through the gate's JSON output and prints the corpus figures: plans read per format version,
exit codes, cloud resources judged, findings per rule, and the types judged at their primary
location only.

    python benchmarks/realplans.py [--dir ../shared/realplans] [--top 25]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=HERE.parent.parent / "shared" / "realplans")
    ap.add_argument("--top", type=int, default=25, help="how many primary-only types to list")
    args = ap.parse_args()
    manifest_path = args.dir / "manifest.json"
    if not manifest_path.is_file():
        print(f"no corpus at {args.dir}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(HERE.parent))
    from residency_audit.cli import main as cli

    manifest = json.loads(manifest_path.read_text("utf-8"))
    codes: Counter[int] = Counter()
    formats: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    judged: Counter[str] = Counter()
    primary_only: Counter[str] = Counter()
    resources = 0
    refused: list[str] = []
    started = time.perf_counter()
    for entry in manifest:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli(["gate", str(args.dir / entry["file"]), "-f", "json", "-q", "--exceptions", os.devnull])
        codes[code] += 1
        if code not in (0, 1, 3):
            refused.append(f"{entry['file']}: {err.getvalue().strip()}")
            continue
        formats[entry["format_version"]] += 1
        report = json.loads(out.getvalue())
        resources += len(report["resources"])
        for r in report["resources"]:
            categories[r["category"]] += 1
            judged[r["judged"]] += 1
        for f in report["findings"]:
            if not f["suppressed_by"]:
                rules[f["rule_id"]] += 1
        for row in report["scan"]["coverage"]:
            if row["judged"].get("primary"):
                primary_only[row["type"]] += row["judged"]["primary"]
    elapsed = time.perf_counter() - started
    print(
        f"plans: {len(manifest)} in the manifest, {sum(formats.values())} read, {len(refused)} refused ({elapsed:.1f} s)"
    )
    print("  by format_version: " + ", ".join(f"{k}: {v}" for k, v in sorted(formats.items())))
    print("  exit codes: " + ", ".join(f"{k}: {v}" for k, v in sorted(codes.items())))
    for line in refused:
        print(f"  refused: {line}")
    print(f"cloud resources judged: {resources}")
    print("  by how deeply: " + ", ".join(f"{k}: {v}" for k, v in judged.most_common()))
    print("  by category: " + ", ".join(f"{k}: {v}" for k, v in categories.most_common()))
    print("findings per rule: " + ", ".join(f"{k}: {v}" for k, v in rules.most_common()))
    print(f"types judged at their primary location only: {len(primary_only)} ({sum(primary_only.values())} resources)")
    for rtype, n in primary_only.most_common(args.top):
        print(f"  {n:5d}  {rtype}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
