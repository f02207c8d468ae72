"""Google Cloud: what each inventory path costs per resource, on one generated estate.

Per path (per-service listing, and one Cloud Asset Inventory searchAllResources scope per
organisation) it prints the API calls, the resources found, calls per resource, the wall
time, the scanner's CPU seconds (and per call) and its peak RSS. The fake REST server runs
in its own process, so the CPU and memory figures are the scanner's alone; each path is
scanned in a fresh process, so each peak RSS is that path's own. Both paths scan the same
estate in the same run, with a fixed per-request latency like a real API's.

    python benchmarks/gcp_inventory_paths.py [PROJECTS] [LATENCY_SECONDS] [basic|full]

`basic`: a bucket, a VM (and its boot disk), a Cloud SQL instance and a dataset per project
(the estate every version of the fake can build). `full`: also one resource of every kind
the fake has a builder for (`kinds.KINDS[*].seed`), a topic without a storage policy and a
Spanner instance on a custom configuration (the two reads the Asset Inventory path makes
besides its search), and two types no reader lists (Asset Inventory only), per project.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

ORG = "1"


def build(emu: Any, projects: int, estate: str) -> None:
    org = emu.organization(ORG, "bench.example")
    folder = emu.folder("2", "all", org)
    for i in range(projects):
        p = emu.project(f"p{i:04d}", str(900000 + i), parent=folder)
        emu.bucket(p, f"b{i}", "EU", "multi-region")
        emu.instance(p, f"vm{i}", "europe-west4-a")
        emu.sql(p, f"db{i}", "europe-west4")
        emu.dataset(p, f"ds{i}", "EU")
        if estate == "full":
            _full(emu, p, i)
    emu.asset_enabled.add(f"organizations/{ORG}")


def _full(emu: Any, p: Any, i: int) -> None:
    """One resource of every newer kind, and resources of types no reader lists."""
    emu.topic(p, f"t{i}", ["europe-west4"])
    emu.topic(p, f"t{i}-open")  # no storage policy: the organisation policy is read (once per node)
    emu.spanner_instance(p, f"spc{i}", f"custom-{i}", [("europe-west4", "READ_WRITE")])  # instanceConfigs.get
    emu.secret(p, f"s{i}", ["europe-west4"])
    emu.spanner_instance(p, f"sp{i}", "regional-europe-west4")
    emu.bigtable_instance(p, f"bt{i}", ["europe-west4-a"])
    emu.firestore_database(p, "(default)", "eur3")
    emu.log_buckets(p, "europe-west4")
    emu.key_ring(p, f"kr{i}", "europe-west4")
    emu.repository(p, f"ar{i}", "europe-west4")
    emu.redis_instance(p, f"r{i}", "europe-west4-a")
    emu.filestore_instance(p, f"fs{i}", "europe-west4-a")
    emu.dataproc_cluster(p, f"dp{i}", "europe-west4")
    emu.composer_environment(p, f"cp{i}", "europe-west4")
    emu.vertex_dataset(p, f"vd{i}", "europe-west4")
    emu.vertex_endpoint(p, f"ve{i}", "europe-west4")
    emu.asset(
        p, "dataflow.googleapis.com/Job", f"projects/{p.project_id}/locations/europe-west4/jobs/j{i}", "europe-west4"
    )
    emu.asset(
        p,
        "workflows.googleapis.com/Workflow",
        f"projects/{p.project_id}/locations/europe-west4/workflows/w{i}",
        "europe-west4",
    )


def serve(conn: Connection, projects: int, latency: float, estate: str) -> None:
    """The fake, in its own process: seeded, then serving until the parent says stop."""
    from residency_emulator.gcp import GcpEmulator

    emu = GcpEmulator(page_size=500, latency=latency)
    build(emu, projects, estate)
    conn.send(emu.url)
    conn.recv()
    emu.stop()


def scan(conn: Connection, url: str, inventory: str) -> None:
    """One scan in a fresh process: calls, resources, wall, CPU seconds, peak RSS (KiB)."""
    from residency_audit.core import Collector
    from residency_audit.model import Scan, ScanRequest
    from residency_audit.providers.gcp.scan import GcpAdapter

    adapter = GcpAdapter.create(anonymous=True, endpoints={"*": url}, inventory=inventory)
    collector = Collector(Scan(ScanRequest("gcp")))
    cpu, wall = time.process_time(), time.perf_counter()
    adapter.scan(collector)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    gaps = [g.to_dict() for g in collector.scan.gaps]
    conn.send((sum(collector.scan.api_calls.values()), len(collector.resources), wall, cpu, rss, gaps))


def run(ctx: Any, url: str, inventory: str) -> tuple[int, int, float, float, int]:
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=scan, args=(child, url, inventory))
    proc.start()
    calls, resources, wall, cpu, rss, gaps = parent.recv()
    proc.join()
    assert not gaps, gaps
    return calls, resources, wall, cpu, rss


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("projects", nargs="?", type=int, default=40, help="projects in the estate (default 40)")
    ap.add_argument("latency", nargs="?", type=float, default=0.03, help="seconds added per request (default 0.03)")
    ap.add_argument(
        "estate",
        nargs="?",
        choices=("basic", "full"),
        default="basic",
        help="basic: four kinds a project; full: every kind",
    )
    args = ap.parse_args()
    projects, latency, estate = args.projects, args.latency, args.estate
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(child, projects, latency, estate))
    server.start()
    try:
        url = parent.recv()
        rows = {mode: run(ctx, url, mode) for mode in ("services", "asset")}
    finally:
        parent.send("stop")
        server.join()
    print(f"estate: {estate}, {projects} projects, {latency * 1000:.0f} ms per request")
    print(
        f"{'path':10} {'calls':>6} {'resources':>9} {'calls/res':>9} {'wall s':>7} {'cpu s':>6} "
        f"{'cpu ms/call':>11} {'cpu ms/res':>10} {'peak RSS MiB':>12}"
    )
    for mode, (calls, res, wall, cpu, rss) in rows.items():
        print(
            f"{mode:10} {calls:6d} {res:9d} {calls / res:9.3f} {wall:7.2f} {cpu:6.2f} "
            f"{cpu / calls * 1000:11.2f} {cpu / res * 1000:10.2f} {rss / 1024:12.1f}"
        )
    (s_calls, s_res, s_wall, *_), (a_calls, a_res, a_wall, *_) = rows["services"], rows["asset"]
    print(f"ratio asset/services: calls {a_calls / s_calls:.3f}, wall {a_wall / s_wall:.3f}")
    if a_res != s_res:
        print(f"note: the Asset Inventory path found {a_res - s_res:+d} resources the per-service path does not list")
    if a_calls > a_res:
        print(f"FAIL: the Asset Inventory path made {a_calls / a_res:.3f} calls per resource (budget: 1.0)")
        sys.exit(1)


if __name__ == "__main__":
    main()
