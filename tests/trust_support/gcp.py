"""The trust harness's Google Cloud entry: the fake REST server behind the fault-injecting front."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
import yaml

from residency_audit.core import run_scan
from residency_audit.engine import load_rules
from residency_audit.geography import default_catalog
from residency_audit.model import Gap, ScanRequest, ScanResult
from residency_audit.redact import MASK
from residency_emulator.front import Faults, Request, Response
from residency_emulator.gcp import GcpEmulator, seed_gcp

from ..cloud_support import GOOGLE_VARS
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
    _without,
)

# --------------------------------------------------------------------------- Google Cloud (the fake REST server)

GCS_SIGNED = (
    "https://storage.googleapis.com/trust-exports/x.csv?X-Goog-Algorithm=GOOG4-RSA-SHA256"
    "&X-Goog-Credential=scanner%40ledger-nl.iam.gserviceaccount.com%2F20261201%2Feurope-west4%2Fstorage%2Fgoog4_request"
    "&X-Goog-Date=20261201T000000Z&X-Goog-Expires=900&X-Goog-SignedHeaders=host&X-Goog-Signature=trustGcsSignature0123ab"
)
KEY_ID = "trustGcpPrivateKeyId0123456789abcdef"
_GCP_CODES = {"503": "503", "429": "429", "reset": "ConnectionError"}


def _project(project: str) -> Callable[[Request], bool]:
    """Every resource request of one project (each API names it in the path, Cloud Storage in the query)."""

    def match(req: Request) -> bool:
        return (
            f"/projects/{project}/" in req.path
            or f"project={project}" in req.path
            or f"/namespaces/{project}/" in req.path
        )

    return match


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class GcpHarness(Harness):
    name = "gcp"
    sample_gaps = (
        Gap("gcp", "data-platform", "", "bigquery", "RATE_LIMIT_EXCEEDED: quota exceeded", "429"),
        Gap("gcp", "organizations/100000000001", "", "cloudasset", "SERVICE_DISABLED: Cloud Asset API", "403"),
        Gap("gcp", "shop-prod", "europe-west9", "cloudfunctions", "location unreachable", ""),
    )

    policies: ClassVar[list[tuple[list[str], dict[str, Any]]]] = [(["permissions", "gcp"], {"stage": "GA"})]
    read_permission = re.compile(r"\.(list|get|search[A-Za-z]*|getIamPolicy|listEffectiveTags|analyze[A-Za-z]*)$")

    @classmethod
    def parse_policy(cls, out: str) -> tuple[list[str], dict[str, Any]]:
        role = yaml.safe_load(out)
        return list(role["includedPermissions"]), {"stage": role["stage"]}

    def __init__(self, mp: pytest.MonkeyPatch) -> None:
        super().__init__(mp)
        self.emu = GcpEmulator(page_size=2)
        self._hooks: list[Callable[[Request], Response | None]] = []

    def stop(self) -> None:
        self.emu.stop()

    def seed(self) -> None:
        self.tidy()
        self.emu.reset()
        seed_gcp(self.emu)
        self.emu.front.clear_log()
        for key in GOOGLE_VARS:
            self.mp.delenv(key, raising=False)

    def tidy(self) -> None:
        self.emu.front.faults = None
        self.emu.front.latency = 0.0
        self.emu.front.response_hooks.clear()
        for hook in self._hooks:
            self.emu.front.request_hooks.remove(hook)
        self._hooks.clear()

    def scan(self, mode: str = "", **options: Any) -> ScanResult:
        from residency_audit.providers.gcp.scan import GcpAdapter

        options.setdefault("inventory", mode or "services")
        adapter = GcpAdapter.create(anonymous=True, endpoints={"*": self.emu.url}, **options)
        return run_scan(adapter, ScanRequest("gcp"), load_rules(), default_catalog())

    def wire(self) -> list[Sent]:
        from residency_audit.providers.gcp.client import host_service, route_of

        out = []
        for r in list(self.emu.log):
            path = urlsplit(r.path).path
            # Paths repeat across APIs (Spanner and Cloud SQL): each request is attributed by its Host.
            route = route_of(r.method, path, host_service(r.headers))
            # Organisation policy: a scan reads only the Pub/Sub persistence constraint (topics without a
            # storage policy); gcp.resourceLocations is the guardrail audit's alone.
            policy = path.rsplit("/", 1)[-1] if "/policies/" in path else "pubsub.allowedPersistenceRegions"
            read = r.method == "GET" and policy == "pubsub.allowedPersistenceRegions"
            out.append(Sent(route.service if route else "?", route.op.key if route else None, read, r.path))
        return out

    @property
    def front(self) -> Any:
        return self.emu.front

    def readonly_run(self) -> ReadOnlyRun:
        from residency_audit.providers.gcp.client import READ_OPERATIONS

        self.seed()
        scenarios = []

        def scenario(name: str, **options: Any) -> None:
            self.clear_log()
            result = self.scan(**options)
            scenarios.append(Scenario(name, result.scan, len(result.resources), self.wire()))

        scenario("services", inventory="services")
        scenario("named project", inventory="services", projects=["ledger-nl"])  # projects.get
        self.emu.unsearchable_folders.add("200000000002")
        scenario("folder missing from search", inventory="services", projects=["shop-prod"])  # folders.get
        self.emu.unsearchable_folders.clear()
        self.emu.asset_enabled.add("organizations/100000000001")
        scenario("asset inventory", inventory="asset")
        self.emu.asset_enabled.clear()
        allow = set(READ_OPERATIONS)
        guardrail_audit = {op for op in allow if op[0] == "orgpolicy"}  # tests/test_guardrails_live_clouds.py
        return ReadOnlyRun(
            scenarios,
            allow,
            counted_as=lambda op: f"{op[0]}:{op[1]}",
            coverage=lambda op: op,
            elsewhere={},
            wire_services={op[0] for op in allow},
            # the Pub/Sub constraint is read by a scan (checked per request); the rest is the guardrail audit's
            pins=lambda used: {"org policy reads": (used & guardrail_audit, guardrail_audit)},
        )

    def transient(self) -> list[Transient]:
        # A third of the requests throttled, failing or reset, 12 in all.
        return [Transient(Faults(rate=0.35, kinds=TRANSIENT, budget=12, seed=11))]

    def failing(self, kind: str, baseline: dict[str, Any]) -> Failing:
        from residency_audit.providers.gcp.client import MAX_ATTEMPTS
        from residency_audit.providers.gcp.scan import ALL_SERVICES

        base = baseline[""]
        if kind == "slow":
            # Stalls longer than the read timeout on one project's BigQuery: retried, then one gap.
            only = _path("/bigquery/v2/projects/data-platform/")
            lost = {
                rid for rid in base["inventory"] if rid.startswith("//bigquery.googleapis.com/projects/data-platform/")
            }
            expected = _without(base["inventory"], lost)
            # The log sink that routes to one of those datasets cannot be placed any more: unknown (fail closed).
            sink = "//logging.googleapis.com/projects/data-platform/sinks/audit-to-bigquery"
            assert expected[sink] != [(None, "replica")]
            expected[sink] = [(None, "replica")]
            return Failing(
                Faults(rate=1.0, kinds=("slow",), budget=100, slow_seconds=1.5, only=only),
                {"read_timeout": 0.5},
                gaps=[("data-platform", "bigquery")],
                codes={"ReadTimeout"},
                attempts=(MAX_ATTEMPTS, MAX_ATTEMPTS),
                lost=lost,
                expected=expected,
            )
        lost = {rid for rid, owner in base["owners"].items() if owner == "data-platform"}
        # Bounded: every service's first request tried MAX_ATTEMPTS times, then a gap.
        return Failing(
            Faults(rate=1.0, kinds=(kind,), budget=10_000, only=_project("data-platform")),
            {},
            gaps=sorted(("data-platform", service) for service in ALL_SERVICES),
            codes={_GCP_CODES[kind]},
            attempts=(len(ALL_SERVICES) * MAX_ATTEMPTS, len(ALL_SERVICES) * MAX_ATTEMPTS),
            lost=lost,
            expected=_without(base["inventory"], lost),
        )

    def denied(self) -> Denied:
        self.seed()
        self.emu.fail("bigquery", 403, scope="ledger-nl")
        return Denied(
            [
                *("scan", "gcp", "--endpoint", self.emu.url, "--anonymous", "--project", "ledger-nl"),
                *("--inventory", "services", "--services", "storage,bigquery"),
            ],
            "gcp:ledger-nl:global:bigquery",
            ("ledger-nl", "", "bigquery", "403"),
            "scripted 403",
        )

    def interruptible(self) -> Interruptible:
        """The sample estate plus 60 buckets in shop-prod (its storage listing: 32 pages), answering in 150 ms."""
        self.seed()
        shop = self.emu.projects["shop-prod"]
        for name in EXTRA:
            self.emu.bucket(shop, name, "EUROPE-WEST4")
        self.emu.front.latency = LATENCY
        answered: dict[str, float] = {}  # bucket -> when the page naming it left the fake
        lock = threading.Lock()

        def record(req: Request, resp: Response) -> Response:
            if resp.status == 200 and urlsplit(req.path).path == "/storage/v1/b":
                with lock:
                    for item in json.loads(resp.body).get("items") or []:
                        answered[item["name"]] = time.monotonic()
            return resp

        self.emu.front.response_hooks.append(record)

        def before(cutoff: float) -> set[str]:
            with lock:
                return {b for b, when in answered.items() if when < cutoff and b in EXTRA}

        return Interruptible(
            args=[
                "scan",
                "gcp",
                "--endpoint",
                self.emu.url,
                "--anonymous",
                "--inventory",
                "services",
                "--workers",
                "2",
            ],
            env=_cli_env(),
            workers=2,
            extras=EXTRA,
            answered=before,
            ready=lambda: len(before(time.monotonic())) >= 16,
            requests=lambda: len(self.emu.log),
            settle=0.2,
            margin=10,
            slack=4,
            kept=set(),
            unreached=lambda r: r["owner"]["id"] == "ledger-nl",  # the last project's services
            cleanup=self.tidy,
        )

    def waiting(self) -> Waiting:
        """A worker waiting out `Retry-After: 30` (the client caps it at BACKOFF_CAP) on the bucket
        listings, throttled for good."""
        self.seed()
        throttled: list[str] = []
        lock = threading.Lock()

        def throttle(req: Request) -> Response | None:
            if urlsplit(req.path).path != "/storage/v1/b":
                return None
            with lock:
                throttled.append(req.path)
            body = json.dumps({"error": {"code": 429, "message": "throttled (fake)", "status": "RESOURCE_EXHAUSTED"}})
            return Response(429, {"Content-Type": "application/json", "Retry-After": "30"}, body.encode())

        self.emu.front.request_hooks.insert(0, throttle)
        self._hooks.append(throttle)

        def waits() -> int:
            with lock:
                return len(throttled)

        args = ["scan", "gcp", "--endpoint", self.emu.url, "--anonymous", "--inventory", "services"]
        return Waiting(
            [*args, "--services", "storage", "--workers", "1"], _cli_env(), 1, waits, lambda: len(self.emu.log), EXTRA
        )

    def plant_secrets(self, tmp: Path) -> Planted:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.seed()
        (bucket,) = [b for b in self.emu.projects["shop-prod"].items("buckets") if b["name"] == "invoices-eu"]
        bucket["labels"] = {"export": GCS_SIGNED}
        self.emu.fail("bigquery", 403, scope="data-platform")  # a gap, so the error path is searched too
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        info = {
            "type": "service_account",
            "project_id": "ledger-nl",
            "private_key_id": KEY_ID,
            "private_key": pem,
            "client_email": "scanner@ledger-nl.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
        key_file = tmp / "keys" / "sa.json"
        key_file.parent.mkdir()
        key_file.write_text(json.dumps(info))

        def tokens() -> set[str]:
            return {
                v.removeprefix("Bearer ")
                for r in self.emu.log
                for k, v in r.headers.items()
                if k.lower() == "authorization"
            }

        def used() -> bool:
            # The key really was used: every request carries a JWT signed with it, naming its key id.
            seen = tokens()
            return bool(seen) and all(
                t.count(".") == 2 and json.loads(_b64(t.split(".")[0]))["kid"] == KEY_ID for t in seen
            )

        def markers() -> list[str]:
            body_lines = [line for line in pem.splitlines() if "PRIVATE KEY" not in line]
            return [KEY_ID, *body_lines[:3], *(t.split(".")[2] for t in tokens()), "trustGcsSignature"]

        return Planted(
            env=_cli_env({"GOOGLE_APPLICATION_CREDENTIALS": str(key_file)}),
            scans=[["scan", "gcp", "--endpoint", self.emu.url, "--inventory", "services"]],
            code=1,  # findings (and a gap)
            markers=markers,
            used=used,
            expects=[Expect(("name", "invoices-eu"), "tags.export", "endswith", f"X-Goog-Signature={MASK}")],
            store_holds="storage.googleapis.com/trust-exports",
            gaps=[{"scope": "data-platform", "service": "bigquery"}],
        )


def _path(prefix: str) -> Callable[[Request], bool]:
    def match(req: Request) -> bool:
        return req.path.startswith(prefix)

    return match
