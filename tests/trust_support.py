"""The trust harness: one entry per provider, so each trust guarantee is one test over all of them.

A provider's entry knows its emulator (start, seed the sample estate, point the
SDK at it), how to scan it in process and from the CLI, how to read the
emulator's request log (each request the tool made, attributed to a declared
read, with a read-only verdict), how to make one part of the estate keep
failing (throttling / 5xx / resets / stalls on one region, service, project or
subscription), how to slow one long listing down for Ctrl-C, and which secrets
to plant. The tests in tests/test_trust_*.py assert the same properties of every
entry; a new provider adds one `Harness` subclass to `HARNESSES`, not new tests.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from residency_audit.core import Collector, run_scan
from residency_audit.engine import load_rules
from residency_audit.geography import default_catalog
from residency_audit.model import Gap, Scan, ScanRequest, ScanResult
from residency_audit.redact import MASK
from residency_emulator.aws import AwsEmulator, operation_of, signed_scope
from residency_emulator.azure import SUB_ANALYTICS, SUB_LEGACY, SUB_PROD, FakeArm, arm_resource, seed_azure
from residency_emulator.estate import REGIONS, seed_aws
from residency_emulator.front import Faults, Request, Response
from residency_emulator.gcp import GcpEmulator, seed_gcp

from .cloud_support import AZURE_IDENTITY_VARS, GOOGLE_VARS, inventory, owners

PROVIDERS = ("aws", "gcp", "azure")
#: The transient fault kinds every client must ride out.
TRANSIENT = ("429", "500", "503", "reset")
Inventory = dict[str, list[tuple[str | None, str]]]
#: What an AWS read looks like. Anything else on the allow-list must be in READ_EXCEPTIONS with a reason.
READ_VERB = re.compile(r"^(List|Describe|Get|Search|BatchGet|Lookup)[A-Z]")
#: Operations that change nothing in the estate although their name is not a read verb.
READ_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("sts", "AssumeRole"): "returns temporary credentials for a member account; changes nothing",
    ("config", "SelectResourceConfig"): "a read-only SQL query over the recorded configuration items",
    ("config", "SelectAggregateResourceConfig"): "the same query over an aggregator's configuration items",
}
Op = tuple[str, str]


# --------------------------------------------------------------------------- what the tests compare


@dataclass
class Sent:
    """One request that reached the emulator, read off its log."""

    service: str  #: the API it went to (AWS: its SigV4 signing name)
    operation: Op | None  #: the declared read it is; None where the wire does not name it
    read: bool  #: the harness's verdict: a read the scan may make (on the wire: a GET, or a read sent as POST)
    path: str


@dataclass
class Scenario:
    """One scan (or one collector over several adapters) of the read-only proof."""

    name: str
    scan: Scan
    resources: int
    wire: list[Sent]
    #: the operations the SDK says it attempted and sent (AWS: botocore's before-call / before-send);
    #: None where the wire is the only witness
    attempted: list[Op] | None = None
    sent: list[Op] | None = None
    #: gap codes that are the nature of the mode, not a failed read (AWS's services mode lists only
    #: the services with a reader, and says so)
    expected_gaps: frozenset[str] = frozenset()


@dataclass
class ReadOnlyRun:
    scenarios: list[Scenario]
    allow_list: set[Op]
    #: the key the scan's call counter files an operation under
    counted_as: Callable[[Op], str]
    #: what "every read is exercised" is measured in (AWS: services; the REST clouds: operations)
    coverage: Callable[[Op], Hashable]
    #: allow-list entries no resource scan makes, each with the test that exercises it
    elsewhere: dict[Hashable, str]
    #: the API services the wire must show, exactly
    wire_services: set[str]
    #: the operation's name says read (AWS: a read verb or a documented exception); the REST clouds'
    #: verdict is the request's method and route, per request
    read_operation: Callable[[Op], bool] = lambda op: True
    #: named checks over the operations used: label -> (what the scans used, what they must use)
    pins: Callable[[set[Op]], dict[str, tuple[set[Any], set[Any]]]] = lambda used: {}


@dataclass
class Transient:
    """Faults retries must absorb: the same inventory as a fault-free scan, no gap."""

    faults: Faults
    mode: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Failing:
    """One part of the estate that keeps failing, and what the scan must then say."""

    faults: Faults
    options: dict[str, Any]
    #: (region or scope, service) of each gap, sorted; and the codes they may carry
    gaps: list[tuple[str, str]]
    codes: set[str]
    #: how many faults were injected: bounded retries, then a gap
    attempts: tuple[int, int]
    lost: set[str]
    expected: Inventory
    mode: str = ""
    error_says: str = ""
    #: what a resource that was listed but whose reader failed is judged as (None: it is not listed)
    judged_lost: str | None = None
    #: the scan never hangs: generous (a busy 2-core machine), only a hang exceeds it
    deadline: float = 60.0


@dataclass
class Denied:
    """One part the credential may not read: the scan must say incomplete and exit 3."""

    args: list[str]
    label: str  #: the gap as the warning line names it
    gap: tuple[str, str, str, str]  #: (scope, region, service, code) as JSON lists it
    code: str  #: the error code the table's gap row shows


@dataclass
class Interruptible:
    """A scan slowed down, with one long listing for the signal to land in."""

    args: list[str]
    env: dict[str, str]
    workers: int
    extras: list[str]  #: the long listing's resources (report names)
    answered: Callable[[float], set[str]]  #: extras whose answers left the emulator before a time
    ready: Callable[[], bool]  #: far enough into the long listing to send SIGINT
    requests: Callable[[], int]
    settle: float  #: time the client gets to collect what it was answered before the signal
    margin: int  #: the signal lands at least this far from the listing's end
    slack: int  #: extras answered around the signal that may still be collected
    kept: set[str]  #: names collected before the signal that must be in the output
    unreached: Callable[[dict[str, Any]], bool]  #: a report resource the scan cannot have reached
    not_asked: Callable[[], bool] = lambda: True  #: at the signal, that part was not yet asked for
    cleanup: Callable[[], None] = lambda: None


@dataclass
class Waiting:
    """A scan whose worker waits out a long server-requested delay (Retry-After)."""

    args: list[str]
    env: dict[str, str]
    workers: int
    waits: Callable[[], int]  #: throttled answers given so far
    requests: Callable[[], int]
    extras: list[str]  #: resources behind the throttled listing: none may be in the output


@dataclass
class Expect:
    """A planted value as the report must show it: redacted, not dropped."""

    select: tuple[str, str]  #: ("name" | "kind", value) picks the one resource
    field: str  #: "name" or "tags.KEY"
    op: str  #: "==" | "endswith" | "contains"
    value: str


@dataclass
class Planted:
    """Secrets in the environment, the credential file and the estate, for real CLI scans."""

    env: dict[str, str]
    scans: list[list[str]]  #: each scan command (before the output options)
    code: int  #: every run's exit code
    markers: Callable[[], list[str]]  #: substrings that must appear nowhere (some known only after the runs)
    used: Callable[[], bool]  #: the credential really was used
    expects: list[Expect]
    store_holds: str  #: a planted value that reached the SQLite store (redacted)
    gaps: list[dict[str, str]]  #: each gap's fields (subset) in the JSON report
    gap_error_has: str = ""


# --------------------------------------------------------------------------- the harness


class Harness:
    """A provider's emulator and everything the trust tests need to drive and observe it."""

    name: ClassVar[str]
    #: inventory modes the faults and read-only tests scan in ("" = the provider's default)
    modes: ClassVar[tuple[str, ...]] = ("",)
    #: does the scan's call counter count every attempt (retries too)?
    counts_retries: ClassVar[bool] = True
    #: does every fault-free scan of the sample estate make the same number of requests?
    same_requests: ClassVar[bool] = True
    #: example gaps as this provider's adapter records them (every output format must list them)
    sample_gaps: ClassVar[tuple[Gap, ...]] = ()

    def __init__(self, mp: pytest.MonkeyPatch) -> None:
        self.mp = mp

    def stop(self) -> None:
        """Stop what this harness started."""

    def tidy(self) -> None:
        """Undo what a test added: faults, hooks, latency (the estate stays)."""
        self.set_faults(None)

    def seed(self) -> None:
        """The sample estate, no faults, an empty log, and the SDK's variables pointing at the emulator."""
        raise NotImplementedError

    def scan(self, mode: str = "", **options: Any) -> ScanResult:
        raise NotImplementedError

    def wire(self) -> list[Sent]:
        """The tool's API requests since the log was last cleared."""
        raise NotImplementedError

    def clear_log(self) -> None:
        raise NotImplementedError

    def set_faults(self, faults: Faults | None) -> None:
        raise NotImplementedError

    def readonly_run(self) -> ReadOnlyRun:
        raise NotImplementedError

    def transient(self) -> list[Transient]:
        raise NotImplementedError

    def failing(self, kind: str, baseline: dict[str, Any]) -> Failing:
        raise NotImplementedError

    def denied(self) -> Denied:
        raise NotImplementedError

    def interruptible(self) -> Interruptible:
        raise NotImplementedError

    def waiting(self) -> Waiting | None:
        """None: this provider's client does not wait on a server-requested delay (the reason is
        `no_waiting`)."""
        return None

    no_waiting: ClassVar[str] = ""

    def plant_secrets(self, tmp: Path) -> Planted:
        raise NotImplementedError

    #: `permissions <provider>` invocations, each with the document's shape it must print
    policies: ClassVar[list[tuple[list[str], dict[str, Any]]]]
    #: a read permission's name, the names that are reads although they do not look like one, and
    #: what a write looks like (none may be printed)
    read_permission: ClassVar[re.Pattern[str]]
    read_permission_exceptions: ClassVar[frozenset[str]] = frozenset()
    write_permission: ClassVar[re.Pattern[str] | None] = None

    @classmethod
    def parse_policy(cls, out: str) -> tuple[list[str], dict[str, Any]]:
        """The printed policy's permission names (in order) and its shape (compared with `policies`)."""
        raise NotImplementedError

    def baseline(self) -> dict[str, dict[str, Any]]:
        """Mode -> a fault-free scan's inventory, owners and number of requests."""
        out: dict[str, dict[str, Any]] = {}
        for mode in self.modes:
            self.clear_log()
            result = self.scan(mode)
            assert result.scan.complete and result.resources, result.scan.gaps
            out[mode] = {
                "inventory": inventory(result),
                "owners": owners(result),
                "requests": len(self.wire()),
                "unreadable": {n for n in result.scan.notes if "not readable" in n},
            }
        return out


def _cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, **(extra or {})}


def _without(baseline: Inventory, lost: set[str]) -> Inventory:
    return {rid: locs for rid, locs in baseline.items() if rid not in lost}


def _unknown_first(loc: tuple[str | None, str]) -> tuple[bool, str, str]:
    return (loc[0] is not None, loc[0] or "", loc[1])


# --------------------------------------------------------------------------- AWS (moto behind the front)

_AWS_FAILING = {
    "503": ("eu-west-2", "rds", "ServiceUnavailable"),
    "429": ("eu-central-2", "ec2", "RequestLimitExceeded"),
    "reset": ("eu-central-1", "dynamodb", "ConnectionClosedError"),
    "slow": ("us-east-2", "ec2", "ReadTimeoutError"),
}
ACCESS_KEY_ID = "AKIATRUSTFAKE0000042"
ENV_SECRETS = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": "trustSecretAws/Key+0123456789abcdefABCDEF",
    "AWS_SESSION_TOKEN": "trustSessionTokenFwoGZXIvYXdzEJr//////////wEaDOrTrUsT",
    "AZURE_CLIENT_SECRET": "trustAzureClientSecret~0123456789",
    "GOOGLE_OAUTH_ACCESS_TOKEN": "ya29.trustGoogleAccessToken0123456789",
}
SAS_URL = (
    "https://trustacct.blob.core.windows.net/exports/x.csv?sv=2022-11-02&sp=r&se=2030-01-01T00:00:00Z"
    "&sig=trustSasSignature%2Babc%3D"
)
PRESIGNED_URL = (
    "https://b.s3.eu-west-1.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    f"&X-Amz-Credential={ACCESS_KEY_ID}%2F20261201%2Feu-west-1%2Fs3%2Faws4_request"
    "&X-Amz-Security-Token=trustPresignToken0123&X-Amz-Signature=trustAmzSignature0123abcdef"
)
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEtrustPemPrivateKeyBody0123\n-----END PRIVATE KEY-----"
NAME_WITH_SIG = "backup?sig=trustSasInName0123"
ERROR_WITH_SIG = "https://trustacct.blob.core.windows.net/c?sv=2022-11-02&sig=trustSasInError0123"
AWS_MARKERS = [
    *ENV_SECRETS.values(),
    "trustSasSignature",
    "trustAmzSignature",
    "trustPresignToken",
    "trustPemPrivateKey",
    "trustSasInName",
    "trustSasInError",
]
EXTRA = [f"bulk-{i:02d}" for i in range(60)]
TABLES = [f"ledger-{i:02d}" for i in range(60)]
LATENCY = 0.15


def _lambda_denied(message: str) -> Callable[[Request], Response | None]:
    def deny(req: Request) -> Response | None:
        if req.path.startswith("/2015-03-31/functions"):
            body = json.dumps({"Type": "User", "Message": message}).encode()
            return Response(
                403, {"Content-Type": "application/json", "x-amzn-ErrorType": "AccessDeniedException"}, body
            )
        return None

    return deny


class Recorder:
    """botocore hooks on a session: operations attempted (before-call) and requests sent (before-send)."""

    def __init__(self, session: Any) -> None:
        self.attempted: list[Op] = []
        self.sent: list[Op] = []
        self._ids: dict[str, str] = {}
        session.events.register("before-call", self._call)
        session.events.register("before-send", self._send)

    def _call(self, model: Any, **kwargs: Any) -> None:
        service = model.service_model.service_name
        self._ids[model.service_model.service_id.hyphenize()] = service
        self.attempted.append((service, model.name))

    def _send(self, event_name: str, **kwargs: Any) -> None:
        _, service_id, operation = event_name.split(".")
        self.sent.append((self._ids.get(service_id, service_id), operation))


class AwsHarness(Harness):
    name = "aws"
    counts_retries = False  # the counter counts the adapter's calls; botocore's retries are below it
    # not quite: two scans of the same estate were seen to differ by one request (113 / 114), so
    # AWS's extra request per fault is measured against the scan's own call counter only
    same_requests = False
    sample_gaps = (
        Gap("aws", "111122223333", "ap-southeast-2", "rds", "throttled after 6 attempts", "Throttling"),
        Gap("aws", "111122223333", "", "s3", "access denied", "AccessDenied"),
    )
    no_waiting = (
        "not wired for AWS: the front has no long server-requested wait for botocore to honour "
        "(its standard retry mode backs off by itself, jittered, at most 20 s)"
    )

    policies: ClassVar[list[tuple[list[str], dict[str, Any]]]] = [
        (
            ["permissions", "aws"],
            {
                "keys": ["Statement", "Version"],
                "version": "2012-10-17",
                "statements": 1,
                "effect": "Allow",
                # no NotAction, no Condition tricks
                "statement keys": ["Action", "Effect", "Resource", "Sid"],
                "sid is a word": True,
            },
        )
    ]
    read_permission = re.compile(r"^[a-z0-9-]+:(List|Describe|Get|Search|BatchGet|Lookup)[A-Z]")
    #: IAM actions that are not named as reads but change nothing in the estate.
    read_permission_exceptions = frozenset(
        {"sts:AssumeRole", "config:SelectResourceConfig", "config:SelectAggregateResourceConfig"}
    )
    write_permission = re.compile(
        r":(Create|Put|Delete|Update|Modify|Attach|Detach|Start|Stop|Terminate|Run|Copy|Restore|Tag|Untag|Set|Enable"
        r"|Disable|Invoke|Publish|Send|Associate|Disassociate|Reboot|Revoke|Authorize|Import|Export|Register|Deregister"
        r"|Cancel|Accept|Reject|Replace|Reset|Add|Remove|Pass|Upload|Write|Purge|Promote|Failover|Restart)"
    )

    @classmethod
    def parse_policy(cls, out: str) -> tuple[list[str], dict[str, Any]]:
        policy = json.loads(out)
        statement = policy["Statement"][0]
        shape = {
            "keys": sorted(policy),
            "version": policy["Version"],
            "statements": len(policy["Statement"]),
            "effect": statement["Effect"],
            "statement keys": sorted(statement),
            "sid is a word": bool(re.fullmatch(r"[A-Za-z0-9]+", statement["Sid"])),
        }
        return list(statement["Action"]), shape

    def __init__(self, mp: pytest.MonkeyPatch, emu: AwsEmulator) -> None:
        super().__init__(mp)
        self.emu = emu
        self._hooks: list[Callable[[Request], Response | None]] = []
        self._response_hooks: list[Callable[[Request, Response], Response]] = []

    def _point(self) -> None:
        for key in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            self.mp.delenv(key, raising=False)
        for key, value in self.emu.env().items():
            self.mp.setenv(key, value)
        self.mp.setenv("AWS_CONFIG_FILE", os.devnull)
        self.mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)

    def reset(self) -> None:
        """An empty estate (what the narrow CLI scans of one region start from)."""
        self.tidy()
        self.emu.reset()
        self._point()

    def seed(self) -> None:
        self.reset()
        seed_aws(self.emu)
        self.emu.front.clear_log()

    def tidy(self) -> None:
        """Undo what a test added to the front: faults, hooks, latency."""
        self.emu.front.faults = None
        self.emu.front.latency = 0.0
        for hook in self._hooks:
            self.emu.front.request_hooks.remove(hook)
        for rhook in self._response_hooks:
            self.emu.front.response_hooks.remove(rhook)
        self._hooks.clear()
        self._response_hooks.clear()

    def scan(self, mode: str = "", **options: Any) -> ScanResult:
        import boto3

        from residency_audit.providers.aws.scan import AccountTarget, AwsAdapter

        if mode:
            options["inventory"] = mode
        adapter = AwsAdapter(targets=[AccountTarget(boto3.Session())], regions=REGIONS, **options)
        return run_scan(adapter, ScanRequest("aws"), load_rules(), default_catalog())

    def _sent(self, req: Request) -> Sent:
        from residency_audit.providers.aws.scan import READ_OPERATIONS

        _, signing = signed_scope(req)
        _, op = operation_of(req)
        if " " in op:  # a REST API the emulator does not name: the wire shows "METHOD /path"
            return Sent(signing, None, req.method == "GET", req.path)
        names = {name for _, name in READ_OPERATIONS}
        return Sent(signing, None, op in names, req.path)

    def wire(self) -> list[Sent]:
        return [self._sent(r) for r in list(self.emu.front.log)]

    def clear_log(self) -> None:
        self.emu.front.clear_log()

    def set_faults(self, faults: Faults | None) -> None:
        self.emu.front.faults = faults

    def readonly_run(self) -> ReadOnlyRun:
        import boto3

        from residency_audit.providers.aws.scan import ALL_SERVICES, READ_OPERATIONS, AccountTarget, AwsAdapter

        self.seed()
        session = boto3.Session()
        recorder = Recorder(session)
        collector = Collector(Scan(ScanRequest("aws")))
        # Through Resource Explorer (its reads, the readers where it saw resources), then every
        # reader everywhere (the readers Explorer made unnecessary too): every operation is exercised.
        for mode in ("explorer", "services"):
            AwsAdapter(targets=[AccountTarget(session)], regions=REGIONS, inventory=mode).scan(collector)
        scenario = Scenario(
            "explorer+services",
            collector.scan,
            len(collector.resources),
            self.wire(),
            attempted=recorder.attempted,
            sent=recorder.sent,
            expected_gaps=frozenset({"InventoryBlindSpot"}),
        )
        # SigV4 signing names: EFS signs as elasticfilesystem, OpenSearch as es, Cognito as cognito-idp.
        botocore = boto3.Session(region_name="eu-west-1")._session
        every = {"resource-explorer-2", *ALL_SERVICES}
        signing = {botocore.get_service_model(s).signing_name for s in every}
        return ReadOnlyRun(
            [scenario],
            set(READ_OPERATIONS),
            counted_as=lambda op: f"{op[0]}:{op[1]}",
            coverage=lambda op: op[0],
            elsewhere={
                "config": "the config inventory mode (tests/test_aws_inventory.py)",
                "resourcegroupstaggingapi": "the tagging inventory mode (tests/test_aws_inventory.py)",
            },
            wire_services={"sts", "organizations", *signing},
            read_operation=lambda op: bool(READ_VERB.match(op[1])) or op in READ_EXCEPTIONS,
        )

    def transient(self) -> list[Transient]:
        # A third of the requests throttled (429), failing (500/503) or reset, 40 in all.
        return [Transient(Faults(rate=0.35, kinds=TRANSIENT, budget=40, seed=11), options={"max_attempts": 10})]

    def failing(self, kind: str, baseline: dict[str, Any]) -> Failing:
        region, service, code = _AWS_FAILING[kind]

        def only(req: Request) -> bool:
            return signed_scope(req) == (region, service)

        if kind == "slow":
            faults = Faults(rate=1.0, kinds=("slow",), budget=1000, slow_seconds=3.0, only=only)
            options: dict[str, Any] = {"max_attempts": 2, "read_timeout": 1.5}
        else:
            faults = Faults(rate=1.0, kinds=(kind,), budget=1000, only=only)
            options = {"max_attempts": 3}
        attempts = options["max_attempts"]
        base: Inventory = baseline[""]["inventory"]
        lost = {rid for rid in base if f":{service}:" in rid and rid.split(":")[3] == region}
        # What a scan whose reader failed still holds: what the inventory listed of that reader's part,
        # judged at its ARN's region only (its copies are unknown: the gap says so); the rest unchanged.
        expected: Inventory = {
            rid: ([(rid.split(":")[3], "primary")] if rid in lost else locs) for rid, locs in base.items()
        }
        return Failing(
            faults,
            options,
            gaps=[(region, service)],
            codes={code},
            attempts=(attempts, attempts),
            lost=lost,
            expected=expected,
            error_says="max retries" if kind in ("503", "429") else "",
            judged_lost="primary",
            deadline=20.0 if kind == "slow" else 60.0,
        )

    def denied(self) -> Denied:
        self.reset()
        self._deny(_lambda_denied("not authorised to list functions"))
        return Denied(
            ["scan", "aws", "--regions", "eu-west-1", "--services", "lambda,ec2"],
            "aws:123456789012:eu-west-1:lambda",
            ("123456789012", "eu-west-1", "lambda", "AccessDeniedException"),
            "AccessDeniedException",
        )

    def _deny(self, hook: Callable[[Request], Response | None]) -> None:
        self.emu.front.request_hooks.insert(0, hook)
        self._hooks.append(hook)

    def interruptible(self) -> Interruptible:
        """The sample estate plus 60 tables in eu-west-1 (one long task: 61 calls), answering in 150 ms."""
        import boto3

        self.seed()
        ddb = boto3.client("dynamodb", region_name="eu-west-1", endpoint_url=self.emu.url)
        for name in TABLES:
            ddb.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        self.emu.front.clear_log()
        self.emu.front.latency = LATENCY
        regions: dict[str, float] = {}  # region -> when its DescribeInstances answer left the front
        tables: dict[str, float] = {}  # eu-west-1 table -> when its DescribeTable answer left the front
        lock = threading.Lock()

        def record(req: Request, resp: Response) -> Response:
            op = operation_of(req)[1]
            if resp.status == 200 and op == "DescribeInstances":
                with lock:
                    regions.setdefault(signed_scope(req)[0], time.monotonic())
            if resp.status == 200 and op == "DescribeTable" and signed_scope(req)[0] == "eu-west-1":
                with lock:
                    tables[json.loads(req.body)["TableName"]] = time.monotonic()
            return resp

        self.emu.front.response_hooks.append(record)
        self._response_hooks.append(record)

        def answered(cutoff: float) -> set[str]:
            with lock:
                return {t for t, when in tables.items() if when < cutoff}

        def reached(region: str) -> bool:
            with lock:
                return region in regions

        # the first seven services, region by region (the timing counts on their order and number)
        args = ["scan", "aws", "--regions", ",".join(REGIONS), "--services", "s3,ec2,rds,dynamodb,lambda,efs,backup"]
        return Interruptible(
            args=[*args, "--workers", "2"],
            env=_cli_env({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}),
            workers=2,
            extras=TABLES,
            answered=answered,
            ready=lambda: reached("eu-central-1"),  # the 4th region of 10: well into the scan, far from its end
            requests=lambda: len(self.emu.front.log),
            settle=0.5,
            margin=5,
            slack=3,
            kept={"app-frankfurt"},  # eu-central-1's instance, collected before the signal
            unreached=lambda r: r["name"] == "ci-runner-ohio",  # us-east-2 is the 9th region
            not_asked=lambda: not reached("us-east-2"),
            cleanup=self.tidy,
        )

    def plant_secrets(self, tmp: Path) -> Planted:
        import boto3

        self.reset()
        for key, value in ENV_SECRETS.items():
            self.mp.setenv(key, value)
        ec2 = boto3.client("ec2", region_name="eu-west-1", endpoint_url=self.emu.url)
        tags = {"Name": NAME_WITH_SIG, "export": SAS_URL, "presigned": PRESIGNED_URL, "key": PEM}
        ec2.run_instances(
            ImageId="ami-12345678",
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.micro",
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
        )
        self._deny(_lambda_denied(f"denied by policy for {ERROR_WITH_SIG}"))
        self.emu.front.clear_log()
        vm = ("kind", "ec2.instance")
        return Planted(
            env=_cli_env({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}),
            scans=[["scan", "aws", "--regions", "eu-west-1", "--services", "ec2,lambda"]],
            code=3,  # the lambda gap
            markers=lambda: AWS_MARKERS,
            used=lambda: any(ACCESS_KEY_ID in r.headers.get("Authorization", "") for r in self.emu.front.log),
            expects=[
                Expect(vm, "name", "==", f"backup?sig={MASK}"),
                Expect(vm, "tags.export", "endswith", f"&sig={MASK}"),
                Expect(vm, "tags.export", "contains", "sv=2022-11-02"),
                Expect(vm, "tags.presigned", "contains", f"X-Amz-Signature={MASK}"),
                Expect(vm, "tags.key", "==", MASK),
            ],
            store_holds="trustacct.blob.core.windows.net",
            gaps=[{"service": "lambda"}],
            gap_error_has=f"sig={MASK}",
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

    def clear_log(self) -> None:
        self.emu.front.clear_log()

    def set_faults(self, faults: Faults | None) -> None:
        self.emu.front.faults = faults

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
                deadline=30.0,
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

    def clear_log(self) -> None:
        self.fake.clear_log()

    def set_faults(self, faults: Faults | None) -> None:
        self.fake.faults = faults

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
                deadline=30.0,
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
            deadline=30.0,
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


# --------------------------------------------------------------------------- the fixture


def start(provider: str, request: pytest.FixtureRequest) -> Iterator[Harness]:
    """Start `provider`'s harness for a module (AWS shares the session's moto server: moto keeps its
    state per process, so a second server would share and reset it)."""
    mp = pytest.MonkeyPatch()
    harness = AwsHarness(mp, request.getfixturevalue("aws_emu")) if provider == "aws" else HARNESSES[provider](mp)
    try:
        yield harness
    finally:
        harness.tidy()
        harness.stop()
        mp.undo()


HARNESSES: dict[str, type[Harness]] = {"aws": AwsHarness, "gcp": GcpHarness, "azure": AzureHarness}
assert tuple(HARNESSES) == PROVIDERS


def counted(ops: list[Op], key: Callable[[Op], str]) -> dict[str, int]:
    return dict(Counter(key(op) for op in ops))
