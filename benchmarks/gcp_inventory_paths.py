"""Google Cloud: API calls and wall time of the two inventory paths on one generated estate.

Baseline: per-service listing (8 services x N projects). Candidate: one Cloud Asset
Inventory searchAllResources call per organisation. Both scan the same fake estate
in the same run, with a fixed per-request latency like a real API's.

    python benchmarks/gcp_inventory_paths.py [PROJECTS] [LATENCY_SECONDS]
"""

from __future__ import annotations

import sys
import time

from residency_audit.core import Collector
from residency_audit.model import Scan, ScanRequest
from residency_audit.providers.gcp.scan import GcpAdapter
from residency_emulator.gcp import GcpEmulator


def build(emu: GcpEmulator, projects: int) -> None:
    org = emu.organization("1", "bench.example")
    folder = emu.folder("2", "all", org)
    for i in range(projects):
        p = emu.project(f"p{i:04d}", str(900000 + i), parent=folder)
        emu.bucket(p, f"b{i}", "EU", "multi-region")
        emu.instance(p, f"vm{i}", "europe-west4-a")
        emu.sql(p, f"db{i}", "europe-west4")
        emu.dataset(p, f"ds{i}", "EU")
    emu.asset_enabled.add("organizations/1")


def run(emu: GcpEmulator, inventory: str) -> tuple[int, float, int]:
    emu.front.clear_log()
    adapter = GcpAdapter.create(anonymous=True, endpoints={"*": emu.url}, inventory=inventory)
    collector = Collector(Scan(ScanRequest("gcp")))
    start = time.perf_counter()
    adapter.scan(collector)
    elapsed = time.perf_counter() - start
    assert not collector.scan.gaps, collector.scan.gaps
    return len(emu.log), elapsed, len(collector.resources)


def main() -> None:
    projects = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    latency = float(sys.argv[2]) if len(sys.argv) > 2 else 0.03
    emu = GcpEmulator(page_size=100, latency=latency)
    try:
        build(emu, projects)
        base_calls, base_time, base_res = run(emu, "services")
        calls, elapsed, res = run(emu, "auto")
    finally:
        emu.stop()
    assert res == base_res
    print(f"estate: {projects} projects, {res} resources, {latency * 1000:.0f} ms per request")
    print(f"per-service listing : {base_calls:5d} requests  {base_time:6.2f} s")
    print(f"asset inventory     : {calls:5d} requests  {elapsed:6.2f} s")
    print(f"ratio (asset/per-service): requests {calls / base_calls:.3f}, time {elapsed / base_time:.3f}")


if __name__ == "__main__":
    main()
