"""The trust harness's Azure entry: the fake ARM server over TLS, which injects the same faults itself."""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from residency_audit.core import run_scan
from residency_audit.engine import load_rules
from residency_audit.geography import default_catalog
from residency_audit.model import Gap, ScanRequest, ScanResult
from residency_audit.redact import MASK
from residency_emulator.azure import SUB_ANALYTICS, SUB_LEGACY, SUB_PROD, FakeArm, arm_resource, seed_azure
from residency_emulator.front import Faults, Request

from ..cloud_support import AZURE_IDENTITY_VARS
from .base import (
    EXTRA,
    LATENCY,
    TRANSIENT,
    Denied,
    Expect,
    Failing,
    Harness,
    Interruptible,
    Planted,
    ReadOnlyRun,
    Scenario,
    Sent,
    Transient,
    Waiting,
    _cli_env,
    _unknown_first,
    _without,
)

# --------------------------------------------------------------------------- Azure (the fake ARM server over TLS)

SAS_TAG = (
    "https://trustacct.blob.core.windows.net/exports/x.csv?sv=2022-11-02&sp=r&se=2030-01-01T00:00:00Z"
    "&sig=trustAzureSasSignature%2Babc%3D"
)
SAS_RG_TAG = "https://trustacct.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=co&sig=trustSasOnGroup0123"
#: a custom role's fields that must be exactly these (no data actions, nothing excluded by NotActions)
_AZURE_ROLE: dict[str, Any] = {"IsCustom": True, "NotActions": [], "DataActions": [], "NotDataActions": []}
_AZURE_CODES = {"503": "InternalServerError", "429": "TooManyRequests", "reset": "ServiceResponseError"}


def _subscription(sub: str) -> Callable[[Request], bool]:
    def match(req: Request) -> bool:
        return req.path.lower().startswith(f"/subscriptions/{sub}/".lower())

    return match


class AzureHarness(Harness):
    name = "azure"
    modes = ("arm", "graph")
    # the guard counts in the pipeline after azure-core's retry policy: every attempt
    sample_gaps = (
        Gap(
            "azure",
            "3d6a0e4c-1b5f-4c8d-a03e-7f9b1c4d5e03",
            "",
            "Microsoft.Resources",
            "The client does not have authorization",
            "AuthorizationFailed",
        ),
        Gap(
            "azure",
            "1b4e8c2a-9f3d-4a6b-8e1c-5d7f9a2b3c01",
            "westeurope",
            "microsoft.documentdb/databaseaccounts",
            "not registered",
            "MissingSubscriptionRegistration",
        ),
    )

    policies: ClassVar[list[tuple[list[str], dict[str, Any]]]] = [
        (
            ["permissions", "azure"],
            {**_AZURE_ROLE, "AssignableScopes": ["/subscriptions/00000000-0000-0000-0000-000000000000"]},
        ),
        (
            ["permissions", "azure", "--scope", "/providers/Microsoft.Management/managementGroups/mg"],
            {**_AZURE_ROLE, "AssignableScopes": ["/providers/Microsoft.Management/managementGroups/mg"]},
        ),
    ]
    read_permission = re.compile(r"^Microsoft\.[A-Za-z]+/[^*]+/read$")
    write_permission = re.compile(r"/(write|delete|action)$")

    @classmethod
    def parse_policy(cls, out: str) -> tuple[list[str], dict[str, Any]]:
        role = json.loads(out)
        return list(role["Actions"]), {k: role[k] for k in (*_AZURE_ROLE, "AssignableScopes")}

    def __init__(self, mp: pytest.MonkeyPatch) -> None:
        super().__init__(mp)
        self.fake = FakeArm().start()

    def stop(self) -> None:
        self.fake.stop()

    def tidy(self) -> None:
        self.fake.faults = None
        self.fake.latency = 0.0
        self.fake.throttle.clear()

    def seed(self) -> None:
        """The sample estate, every subscription readable, and azure-identity's variables pointing at the fake."""
        self.fake.reset()
        self.fake.latency = 0.0
        seed_azure(self.fake)
        for key in AZURE_IDENTITY_VARS:
            self.mp.delenv(key, raising=False)
        for key, value in self.fake.env().items():
            self.mp.setenv(key, value)

    def scan(self, mode: str = "", read_timeout: float | None = None, **options: Any) -> ScanResult:
        from residency_audit.providers.azure.scan import AzureAdapter

        adapter = AzureAdapter.from_environment(endpoint=self.fake.url, inventory=mode or "arm", **options)
        if read_timeout is not None:
            adapter.read_timeout = read_timeout
        return run_scan(adapter, ScanRequest("azure"), load_rules(), default_catalog())

    def wire(self) -> list[Sent]:
        from residency_audit.providers.azure.client import operation_for

        out = []
        for e in list(self.fake.log):
            if "/oauth2/" in e.path or "/.well-known/" in e.path:
                continue  # the token exchange: a credential call, not an ARM request
            op = operation_for(e.method, urlsplit(e.path).path)
            # Resource Graph queries are reads sent as POST (the query is the body); the guard knows them.
            read = e.method == "GET" or (op is not None and op.http == "POST")
            out.append(Sent(op.service if op else "?", op.key if op else None, read, e.path))
        return out

    @property
    def front(self) -> Any:
        return self.fake

    def readonly_run(self) -> ReadOnlyRun:
        from residency_audit.providers.azure.kinds import read_operations

        self.seed()
        scenarios = []
        for mode in self.modes:
            self.clear_log()
            result = self.scan(mode)
            scenarios.append(Scenario(mode, result.scan, len(result.resources), self.wire()))
        allowed = read_operations()
        permission = {op.key: op.permission for op in allowed}
        guardrail_audit = {op.key for op in allowed if "guardrail audit" in op.operation}
        footprint = {"Microsoft.Insights/diagnosticSettings/read", "Microsoft.Web/sites/backups/read"}
        return ReadOnlyRun(
            scenarios,
            {op.key for op in allowed},
            counted_as=lambda op: permission[op],
            coverage=lambda op: op,
            # a resource scan never reads Azure Policy
            elsewhere={op: "the guardrail audit (tests/test_guardrails_live_clouds.py)" for op in guardrail_audit},
            wire_services={op.service for op in allowed if op.key not in guardrail_audit},
            pins=lambda used: {
                "footprint reads": (
                    {
                        p
                        for p in map(permission.__getitem__, used)
                        if p.startswith(("Microsoft.Insights", "Microsoft.Web"))
                    },
                    footprint,
                )
            },
        )

    def transient(self) -> list[Transient]:
        # Throttling, 5xx and resets on half the ARM requests, 8 in all (Resource Graph POSTs included);
        # then a reset Graph query: a POST, which azure-core does not repeat after a reset; it is a read, so we do.
        mixed = [Transient(Faults(rate=0.5, kinds=TRANSIENT, budget=8, seed=14), mode=mode) for mode in self.modes]
        post = Faults(rate=1.0, kinds=("reset",), budget=2, only=lambda r: r.method == "POST")
        return [*mixed, Transient(post, mode="graph")]

    def failing(self, kind: str, baseline: dict[str, Any]) -> Failing:
        base = baseline["arm"]
        lost = {rid for rid, owner in base["owners"].items() if owner == SUB_ANALYTICS}
        kept = _without(base["inventory"], lost)
        # Copies that the failing subscription's account holds (stmediade's object replication and
        # stinvoiceswe's blob logs, both to stanalyticsfr) cannot be placed any more: they fail closed.
        held = [rid for rid in kept if rid.endswith(("/stmediade", "/stinvoiceswe"))]
        assert len(held) == 2
        for rid in held:
            assert ("francecentral", "replica") in kept[rid]
            kept[rid] = sorted(
                (
                    (None, role) if (region, role) == ("francecentral", "replica") else (region, role)
                    for region, role in kept[rid]
                ),
                key=_unknown_first,
            )
        if kind == "slow":
            # Stalls longer than the read timeout on one subscription: azure-core retries, then one gap.
            faults = Faults(rate=1.0, kinds=("slow",), budget=100, slow_seconds=1.5, only=_subscription(SUB_ANALYTICS))
            return Failing(
                faults,
                {"read_timeout": 0.5},
                gaps=[(SUB_ANALYTICS, "Microsoft.Resources")],
                codes={"ServiceResponseError", "ServiceResponseTimeoutError"},
                attempts=(2, 7),
                lost=lost,
                expected=kept,
                mode="arm",
            )
        return Failing(
            Faults(rate=1.0, kinds=(kind,), budget=10_000, only=_subscription(SUB_ANALYTICS)),
            {},
            gaps=[(SUB_ANALYTICS, "Microsoft.Resources")],
            codes={_AZURE_CODES[kind]},
            attempts=(2, 8),
            lost=lost,
            expected=kept,
            mode="arm",
        )

    def denied(self) -> Denied:
        self.seed()
        self.fake.denied = {SUB_LEGACY}
        return Denied(
            ["scan", "azure", "--endpoint", self.fake.url, "--inventory", "arm", "--subscription", SUB_LEGACY],
            f"azure:{SUB_LEGACY}:global:Microsoft.Resources",
            (SUB_LEGACY, "", "Microsoft.Resources", "AuthorizationFailed"),
            "AuthorizationFailed",
        )

    def _slow(self) -> None:
        """The sample estate plus 60 VMs in the analytics subscription (31 pages of resources), 150 ms per answer."""
        self.seed()
        for name in EXTRA:
            vm = arm_resource(SUB_ANALYTICS, "rg-analytics", "Microsoft.Compute/virtualMachines", name, "francecentral")
            self.fake.resources[SUB_ANALYTICS].append(vm)
        self.fake.latency = LATENCY

    def _scan_args(self) -> list[str]:
        return ["scan", "azure", "--endpoint", self.fake.url, "--inventory", "arm", "--workers", "2"]

    def interruptible(self) -> Interruptible:
        self._slow()
        names = [r["name"] for r in self.fake.resources[SUB_ANALYTICS]]
        listing = f"/subscriptions/{SUB_ANALYTICS}/resources".lower()

        def before(cutoff: float) -> set[str]:
            """Resources on the analytics listing pages answered (arrival + latency) before `cutoff`."""
            seen: set[str] = set()
            for entry in list(self.fake.log):
                url = urlsplit(entry.path)
                if url.path.lower() != listing or entry.status != 200 or entry.at + LATENCY >= cutoff:
                    continue
                start = int(parse_qs(url.query).get("$skiptoken", ["0"])[0])
                seen.update(names[start : start + self.fake.page_size])
            return seen & set(EXTRA)

        return Interruptible(
            args=self._scan_args(),
            env=_cli_env(),
            workers=2,
            extras=EXTRA,
            answered=before,
            ready=lambda: len(before(time.monotonic())) >= 14,
            requests=lambda: len(self.fake.log),
            settle=0.2,
            margin=10,
            slack=4,
            kept=set(),
            # The detail reads come after every listing: never reached (the Cosmos DB account needs one).
            unreached=lambda r: r["name"] == "cosmos-orders",
        )

    def waiting(self) -> Waiting:
        """A worker waiting out `Retry-After: 30` on the analytics listing, throttled for good."""
        self._slow()
        listing = f"/subscriptions/{SUB_ANALYTICS}/resources".lower()
        self.fake.latency = 0.0
        self.fake.throttle[listing] = 1000
        self.fake.retry_after = "30"

        def throttled() -> int:
            return sum(1 for e in list(self.fake.log) if e.status == 429 and urlsplit(e.path).path.lower() == listing)

        return Waiting(self._scan_args(), _cli_env(), 2, throttled, lambda: len(self.fake.log), EXTRA)

    def plant_secrets(self, tmp: Path) -> Planted:
        self.fake.client_secret = "trustAzureClientSecret~" + secrets.token_hex(8)
        self.seed()
        self.fake.denied = {SUB_LEGACY}  # a gap, so the error path is searched too
        (account,) = [r for r in self.fake.resources[SUB_PROD] if r["name"] == "stinvoiceswe"]
        account["tags"] = {"export": SAS_TAG}
        (group,) = [g for g in self.fake.resource_groups[SUB_PROD] if g["name"] == "rg-data"]
        group["tags"] = {"share": SAS_RG_TAG}
        secret = self.fake.client_secret
        env = _cli_env()
        assert env["AZURE_CLIENT_SECRET"] == secret
        return Planted(
            env=env,
            scans=[["scan", "azure", "--endpoint", self.fake.url, "--inventory", mode] for mode in self.modes],
            code=1,
            markers=lambda: [
                secret,
                "trustAzureClientSecret",
                "fake-arm-token-",
                "trustAzureSasSignature",
                "trustSasOnGroup",
            ],
            used=lambda: bool(self.fake.token_scopes),  # the client secret really was exchanged for a token
            expects=[
                Expect(("name", "stinvoiceswe"), "tags.export", "endswith", f"&sig={MASK}"),
                Expect(("name", "stinvoiceswe"), "tags.export", "contains", "sv=2022-11-02"),
                Expect(("name", "rg-data"), "tags.share", "endswith", f"&sig={MASK}"),
            ],
            store_holds="trustacct.blob.core.windows.net",
            gaps=[{"scope": SUB_LEGACY}],
        )
