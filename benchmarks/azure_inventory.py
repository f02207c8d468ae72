"""Azure inventory: ARM listing vs one Resource Graph query, on a synthetic tenant.

Prints API calls and wall time for both modes against the fake ARM server (with
a fixed per-request latency standing in for the real service), and the ratios
graph/arm measured in the same run. Usage:

    python benchmarks/azure_inventory.py [SUBSCRIPTIONS] [RESOURCES_PER_SUBSCRIPTION] [LATENCY_S]
"""

from __future__ import annotations

import os
import sys
import time
import uuid

from residency_audit.core import run_scan
from residency_audit.engine import load_rules
from residency_audit.geography import default_catalog
from residency_audit.model import ScanRequest
from residency_audit.providers.azure.scan import AzureAdapter
from residency_emulator.azure import arm_location, arm_resource, azure_emulator

REGIONS = ["westeurope", "northeurope", "swedencentral", "francecentral", "uksouth", "eastus"]


def build(fake, subs: int, per_sub: int) -> None:
    fake.locations = [arm_location(r, r, "", "Europe", "") for r in REGIONS]
    for i in range(subs):
        sid = str(uuid.UUID(int=i + 1))
        fake.subscriptions[sid] = {"displayName": f"sub-{i}"}
        fake.ancestors[sid] = [{"name": fake.tenant_id, "displayName": "Tenant Root Group"}]
        fake.resource_groups[sid] = [
            {"id": f"/subscriptions/{sid}/resourceGroups/rg", "name": "rg", "location": "westeurope"}
        ]
        items = []
        for j in range(per_sub):
            region = REGIONS[j % len(REGIONS)]
            if j % 3 == 0:  # a geo-redundant storage account: needs its detail
                items.append(
                    arm_resource(
                        sid,
                        "rg",
                        "Microsoft.Storage/storageAccounts",
                        f"st{i}x{j}",
                        region,
                        sku={"name": "Standard_GRS"},
                        properties={"secondaryLocation": "northeurope"},
                    )
                )
            else:
                items.append(arm_resource(sid, "rg", "Microsoft.Compute/disks", f"disk{i}x{j}", region))
        fake.resources[sid] = items


def measure(fake, mode: str) -> tuple[int, float, int]:
    fake.clear_log()
    adapter = AzureAdapter.from_environment(endpoint=fake.url, inventory=mode)
    started = time.perf_counter()
    result = run_scan(adapter, ScanRequest("azure"), load_rules(None), default_catalog())
    elapsed = time.perf_counter() - started
    assert not result.scan.gaps, result.scan.gaps
    return sum(result.scan.api_calls.values()), elapsed, len(result.resources)


def main() -> None:
    subs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    per_sub = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    latency = float(sys.argv[3]) if len(sys.argv) > 3 else 0.02
    with azure_emulator(page_size=1000) as fake:
        build(fake, subs, per_sub)
        os.environ.update(fake.env())
        fake.latency = latency
        arm_calls, arm_time, arm_n = measure(fake, "arm")
        graph_calls, graph_time, graph_n = measure(fake, "graph")
    assert arm_n == graph_n
    print(f"tenant: {subs} subscriptions x {per_sub} resources, {latency * 1000:.0f} ms per request")
    print(f"arm:   {arm_calls:5d} calls  {arm_time:6.2f} s  {arm_n} resources")
    print(f"graph: {graph_calls:5d} calls  {graph_time:6.2f} s  {graph_n} resources")
    print(f"graph/arm: calls x{graph_calls / arm_calls:.3f}, time x{graph_time / arm_time:.3f}")


if __name__ == "__main__":
    main()
