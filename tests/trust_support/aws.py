"""The trust harness's AWS entry: moto behind the fault-injecting front, botocore's own witnesses."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

from residency_audit.core import Collector, run_scan
from residency_audit.engine import load_rules
from residency_audit.geography import default_catalog
from residency_audit.model import Gap, Scan, ScanRequest, ScanResult
from residency_audit.redact import MASK
from residency_emulator.aws import AwsEmulator, operation_of, signed_scope
from residency_emulator.estate import REGIONS, seed_aws
from residency_emulator.front import Faults, Request, Response

from .base import (
    LATENCY,
    TRANSIENT,
    Denied,
    Expect,
    Failing,
    Harness,
    Interruptible,
    Inventory,
    Op,
    Planted,
    ReadOnlyRun,
    Scenario,
    Sent,
    Transient,
    _cli_env,
)

#: What an AWS read looks like. Anything else on the allow-list must be in READ_EXCEPTIONS with a reason.
READ_VERB = re.compile(r"^(List|Describe|Get|Search|BatchGet|Lookup)[A-Z]")
#: Operations that change nothing in the estate although their name is not a read verb.
READ_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("sts", "AssumeRole"): "returns temporary credentials for a member account; changes nothing",
    ("config", "SelectResourceConfig"): "a read-only SQL query over the recorded configuration items",
    ("config", "SelectAggregateResourceConfig"): "the same query over an aggregator's configuration items",
}


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
TABLES = [f"ledger-{i:02d}" for i in range(60)]


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

    @property
    def front(self) -> Any:
        return self.emu.front

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
