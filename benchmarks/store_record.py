"""How much recording a scan costs, against rendering its JSON report (baseline, same run).

    python benchmarks/store_record.py [RESOURCES] [STORE_URL]

Prints seconds for: building the ScanResult (catalog + rules), rendering JSON,
recording it in the store (one transaction), loading it back, and building an
HTML report; and the ratio of each to the JSON rendering.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from residency_audit.core import finish
from residency_audit.engine import load_rules
from residency_audit.geography import default_catalog
from residency_audit.model import Location, Owner, OwnerNode, Resource, Scan, ScanRequest
from residency_audit.outputs.jsonout import render as render_json

REGIONS = ["eu-west-1", "eu-west-2", "eu-central-1", "us-east-1", "ap-southeast-2", "eu-north-1"]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    owner = Owner("account", "123456789012", "prod", (OwnerNode("organization", "o-1"),))
    resources = [
        Resource(
            "aws",
            "s3.bucket",
            f"arn:aws:s3:::b{i}",
            f"b{i}",
            owner,
            [Location(REGIONS[i % 6]), Location(REGIONS[(i + 3) % 6], "replica")],
        )
        for i in range(n)
    ]
    t = time.perf_counter()
    result = finish(Scan(ScanRequest("aws")), resources, load_rules(), default_catalog())
    build = time.perf_counter() - t

    t = time.perf_counter()
    render_json(result)
    base = time.perf_counter() - t

    from residency_audit.reporting import build as build_report
    from residency_audit.reporting.html import render as render_html
    from residency_audit.store import open_store

    with tempfile.TemporaryDirectory() as d:
        url = sys.argv[2] if len(sys.argv) > 2 else str(Path(d) / "bench.db")
        t = time.perf_counter()
        store = open_store(url)
        opened = time.perf_counter() - t
        t = time.perf_counter()
        store.record(result)
        rec = time.perf_counter() - t
        t = time.perf_counter()
        store.load(result.scan.id)
        load = time.perf_counter() - t
        t = time.perf_counter()
        render_html(build_report(store, "bench"))
        html = time.perf_counter() - t
        store.close()
    print(f"resources={n} locations={2 * n} findings={len(result.findings)}")
    for label, secs in (
        ("build (catalog+rules)", build),
        ("render json [baseline]", base),
        ("open store (+migrate)", opened),
        ("record (1 transaction)", rec),
        ("load back", load),
        ("report html (load+render)", html),
    ):
        print(f"{label:28s} {secs:8.3f} s   x{secs / base:6.2f} of json")


if __name__ == "__main__":
    main()
