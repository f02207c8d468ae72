"""Azure inventory: API calls per resource, CPU per call and peak memory, ARM listing vs Resource Graph.

A synthetic tenant on the fake ARM server, each subscription a block of 60 resources: 36 with
no footprint reader (VMs, disks, NICs, NSGs, public IPs) and 24 of the kinds whose copies are
read (storage accounts, Key Vaults, a SQL server and databases, App Service apps, PostgreSQL
and MySQL flexible servers, a registry, a cache, Event Hubs and Service Bus namespaces, a
Log Analytics workspace, a Cosmos DB account): a data-heavy estate, so the figures are an
upper bound for a typical one. The fake runs in its own process with a fixed latency per
request; each inventory path is scanned in a fresh process, so its CPU seconds and peak RSS
are the scanner's alone. Prints, per path: calls, resources, calls per resource, wall time,
CPU seconds per call, peak RSS and its growth over the process after its imports, and the
calls per RBAC action. The estate uses only the fake's generic builders, so the same script
measures an older checkout (PYTHONPATH=that checkout) for a before/after comparison.

    python benchmarks/azure_inventory.py [SUBSCRIPTIONS] [BLOCKS_PER_SUBSCRIPTION] [LATENCY_S]
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import sys
import time
import uuid
from typing import Any

REGIONS = ["westeurope", "northeurope", "swedencentral", "francecentral", "germanywestcentral", "uksouth"]
PAIRS = {
    "westeurope": "northeurope",
    "northeurope": "westeurope",
    "swedencentral": "swedensouth",
    "francecentral": "francesouth",
    "germanywestcentral": "germanynorth",
    "uksouth": "ukwest",
}


def _block(sid: str, b: int) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    """60 resources and their (empty) child collections, the ones a scanner may read."""
    from residency_emulator.azure import arm_resource

    rg = "rg"
    items: list[dict[str, Any]] = []
    children: dict[str, list[Any]] = {}

    def add(ptype: str, name: str, i: int, **extra: Any) -> dict[str, Any]:
        doc = arm_resource(sid, rg, ptype, name, REGIONS[i % len(REGIONS)], **extra)
        items.append(doc)
        return doc

    for i in range(12):
        add("Microsoft.Compute/virtualMachines", f"vm{b}x{i}", i, properties={})
        add("Microsoft.Compute/disks", f"disk{b}x{i}", i, sku={"name": "Premium_LRS"}, properties={})
    for i in range(6):
        add("Microsoft.Network/networkInterfaces", f"nic{b}x{i}", i, properties={})
    for i in range(3):
        add("Microsoft.Network/networkSecurityGroups", f"nsg{b}x{i}", i, properties={})
        add("Microsoft.Network/publicIPAddresses", f"pip{b}x{i}", i, properties={})
    tag = sid[-6:] + str(b)
    for i in range(6):
        geo = i < 3
        add(
            "Microsoft.Storage/storageAccounts",
            f"st{tag}x{i}",
            i,
            sku={"name": "Standard_GRS" if geo else "Standard_LRS"},
            kind="StorageV2",
            properties={
                "primaryLocation": REGIONS[i % 6],
                **({"secondaryLocation": PAIRS[REGIONS[i % 6]]} if geo else {}),
            },
        )
    for i in range(3):
        add("Microsoft.KeyVault/vaults", f"kv{tag}x{i}", i, properties={"tenantId": "t"})
        add("Microsoft.Web/sites", f"app{tag}x{i}", i, kind="app", properties={"state": "Running"})
    add("Microsoft.Sql/servers", f"sql{tag}", 0, kind="v12.0", properties={})
    for i in range(3):
        db = add(
            "Microsoft.Sql/servers/databases",
            f"sql{tag}/db{i}",
            0,
            sku={"name": "GP_Gen5_2"},
            properties={"currentBackupStorageRedundancy": "Geo", "requestedBackupStorageRedundancy": "Geo"},
        )
        children[f"{db['id']}/replicationlinks".lower()] = []
    geo_backup = {"backup": {"geoRedundantBackup": "Enabled"}}
    add(
        "Microsoft.DBforPostgreSQL/flexibleServers",
        f"psql{tag}",
        0,
        properties={**geo_backup, "replicationRole": "Primary"},
    )
    add("Microsoft.DBforMySQL/flexibleServers", f"mysql{tag}", 1, properties={**geo_backup, "replicationRole": "None"})
    add("Microsoft.ContainerRegistry/registries", f"acr{tag}", 2, sku={"name": "Premium"}, properties={})
    add("Microsoft.Cache/Redis", f"redis{tag}", 3, properties={"linkedServers": []})
    add("Microsoft.EventHub/namespaces", f"evh{tag}", 4, sku={"name": "Standard"}, properties={})
    add("Microsoft.ServiceBus/namespaces", f"sb{tag}", 5, sku={"name": "Standard"}, properties={})
    add("Microsoft.OperationalInsights/workspaces", f"log{tag}", 0, properties={"retentionInDays": 30})
    add(
        "Microsoft.DocumentDB/databaseAccounts",
        f"cosmos{tag}",
        1,
        properties={"locations": [{"locationName": "North Europe", "failoverPriority": 0}]},
    )
    return items, children


def serve(conn: Any, subs: int, blocks: int, latency: float) -> None:
    """The fake ARM server, seeded, until told to stop (its own process)."""
    from residency_emulator.azure import FakeArm, arm_location

    fake = FakeArm(page_size=1000).start()
    fake.locations = [arm_location(r, r, "", "Europe", PAIRS[r]) for r in REGIONS]
    for s in range(subs):
        sid = str(uuid.UUID(int=s + 1))
        fake.subscriptions[sid] = {"displayName": f"sub-{s}"}
        fake.ancestors[sid] = [{"name": fake.tenant_id, "displayName": "Tenant Root Group"}]
        fake.resource_groups[sid] = [
            {"id": f"/subscriptions/{sid}/resourceGroups/rg", "name": "rg", "location": "westeurope"}
        ]
        fake.resources[sid] = []
        for b in range(blocks):
            items, children = _block(sid, b)
            fake.resources[sid] += items
            fake.children.update(children)
    fake.latency = latency
    conn.send(fake.env() | {"_url": fake.url})
    conn.recv()  # stop
    fake.stop()


def measure(conn: Any, env: dict[str, str], mode: str) -> None:
    """One scan in a fresh process: calls, resources, wall and CPU seconds, peak RSS."""
    os.environ.update({k: v for k, v in env.items() if not k.startswith("_")})
    from residency_audit.core import run_scan
    from residency_audit.engine import load_rules
    from residency_audit.geography import default_catalog
    from residency_audit.model import ScanRequest
    from residency_audit.providers.azure.scan import AzureAdapter

    adapter = AzureAdapter.from_environment(endpoint=env["_url"], inventory=mode)
    rules, catalog = load_rules(None), default_catalog()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu, wall = time.process_time(), time.perf_counter()
    result = run_scan(adapter, ScanRequest("azure"), rules, catalog)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    conn.send(
        {
            "gaps": [f"{g.scope} {g.service} {g.code}" for g in result.scan.gaps],
            "calls": dict(result.scan.api_calls),
            "resources": len(result.resources),
            "wall": wall,
            "cpu": cpu,
            "rss_kib": rss,
            "rss_growth_kib": rss - rss_before,
        }
    )


def _in_process(target: Any, *args: Any) -> Any:
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=target, args=(theirs, *args))
    proc.start()
    return proc, ours


def main() -> None:
    subs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    blocks = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    latency = float(sys.argv[3]) if len(sys.argv) > 3 else 0.02
    server, conn = _in_process(serve, subs, blocks, latency)
    env = conn.recv()
    results = {}
    try:
        for mode in ("arm", "graph"):
            proc, pipe = _in_process(measure, env, mode)
            results[mode] = pipe.recv()
            proc.join()
    finally:
        conn.send("stop")
        server.join()
    import residency_audit

    print(f"code: {os.path.dirname(residency_audit.__file__)}")
    print(f"tenant: {subs} subscriptions x {blocks * 60} resources, {latency * 1000:.0f} ms per request")
    for mode, r in results.items():
        assert not r["gaps"], r["gaps"]
        calls = sum(r["calls"].values())
        print(
            f"{mode:5s}: {calls:5d} calls  {r['resources']} resources  {calls / r['resources']:.3f} calls/resource  "
            f"{r['wall']:6.2f} s  {r['cpu'] / calls * 1000:.2f} ms CPU/call ({r['cpu']:.2f} s)  "
            f"peak RSS {r['rss_kib'] / 1024:.0f} MiB (+{r['rss_growth_kib'] / 1024:.0f} MiB scanning)"
        )
        for action, n in sorted(r["calls"].items(), key=lambda kv: -kv[1]):
            print(f"         {n:5d}  {action}")
    arm, graph = results["arm"], results["graph"]
    ratio = sum(graph["calls"].values()) / sum(arm["calls"].values())
    print(f"graph/arm: calls x{ratio:.3f}, time x{graph['wall'] / arm['wall']:.3f}")


if __name__ == "__main__":
    main()
