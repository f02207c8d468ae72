"""Read-only, proven: every operation the AWS adapter attempts, sends and the emulator sees is a listed read.

Three independent witnesses of one full scan of the sample estate:
botocore's `before-call` (what the adapter asked for), botocore's `before-send`
(what went to the wire, retries included) — both registered on the boto3
session the adapter is given, so its clients inherit them — and the emulator
front's request log (what arrived).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import boto3
import pytest

from residency_audit.core import Collector
from residency_audit.model import Scan, ScanRequest
from residency_audit.providers.aws.scan import (
    ALL_SERVICES,
    READ_OPERATIONS,
    AccountTarget,
    AwsAdapter,
    ReadOnlyViolation,
)
from residency_emulator.aws import AwsEmulator, operation_of, signed_scope
from residency_emulator.estate import REGIONS, seed_aws

#: What a read looks like. Anything else on the allow-list must be in READ_EXCEPTIONS with a reason.
READ_VERB = re.compile(r"^(List|Describe|Get|Search|BatchGet|Lookup)[A-Z]")
#: Operations that change nothing in the estate although their name is not a read verb.
READ_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("sts", "AssumeRole"): "returns temporary credentials for a member account; changes nothing",
    ("config", "SelectResourceConfig"): "a read-only SQL query over the recorded configuration items",
    ("config", "SelectAggregateResourceConfig"): "the same query over an aggregator's configuration items",
}
#: REST reads that AWS models as POST (the query goes in the body): each with why it changes nothing.
REST_POST_READS: dict[tuple[str, str], str] = {
    ("resource-explorer-2", op): "Resource Explorer's reads are all POSTs with the query in the body"
    for op in ("ListIndexes", "GetDefaultView", "GetView", "ListResources", "ListSupportedResourceTypes")
}
REST_POST_READS[("opensearch", "DescribeOutboundConnections")] = "a search over connections, its filter in the body"
_REST_PROTOCOLS = {"rest-json", "rest-xml"}


class Recorder:
    """botocore hooks on a session: operations attempted (before-call) and requests sent (before-send)."""

    def __init__(self, session: boto3.Session) -> None:
        self.attempted: list[tuple[str, str]] = []
        self.sent: list[tuple[str, str]] = []
        self._ids: dict[str, str] = {}
        session.events.register("before-call", self._call)
        session.events.register("before-send", self._send)

    def _call(self, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        self._ids[model.service_model.service_id.hyphenize()] = service
        self.attempted.append((service, model.name))

    def _send(self, event_name: str, **_: Any) -> None:
        _, service_id, operation = event_name.split(".")
        self.sent.append((self._ids.get(service_id, service_id), operation))


@pytest.fixture(scope="module")
def recorded_scan(aws_emu: AwsEmulator) -> dict[str, Any]:
    mp = pytest.MonkeyPatch()
    aws_emu.reset()
    for key, value in aws_emu.env().items():
        mp.setenv(key, value)
    mp.delenv("AWS_PROFILE", raising=False)
    try:
        seed_aws(aws_emu)
        aws_emu.front.clear_log()
        session = boto3.Session()
        recorder = Recorder(session)
        collector = Collector(Scan(ScanRequest("aws")))
        # Through Resource Explorer (its reads, the readers where it saw resources), then every
        # reader everywhere (the readers Explorer made unnecessary too): every operation is exercised.
        for inventory in ("explorer", "services"):
            AwsAdapter(targets=[AccountTarget(session)], regions=REGIONS, inventory=inventory).scan(collector)
        return {
            "recorder": recorder,
            "wire": list(aws_emu.front.log),
            "scan": collector.scan,
            "resources": collector.resources,
        }
    finally:
        mp.undo()


def test_every_attempted_operation_is_an_allow_listed_read(recorded_scan: dict[str, Any]) -> None:
    rec: Recorder = recorded_scan["recorder"]
    attempted = set(rec.attempted)
    assert attempted - READ_OPERATIONS == set()
    every = {"sts", "organizations", "resource-explorer-2", *ALL_SERVICES}
    assert {s for s, _ in attempted} == every, "every service must be exercised"
    for service, op in attempted:
        assert READ_VERB.match(op) or (service, op) in READ_EXCEPTIONS, (service, op)
    # The scan's own call counter is the same record (it is kept by the adapter's guard).
    assert recorded_scan["scan"].api_calls == dict(Counter(f"{s}:{o}" for s, o in rec.attempted))


def test_every_sent_request_is_an_allow_listed_read(recorded_scan: dict[str, Any]) -> None:
    rec: Recorder = recorded_scan["recorder"]
    assert rec.sent, "before-send must have fired"
    assert set(rec.sent) - READ_OPERATIONS == set()
    assert set(rec.sent) == set(rec.attempted)


def test_the_emulator_saw_exactly_what_botocore_sent(recorded_scan: dict[str, Any]) -> None:
    """The wire witness: one request per botocore send, query/JSON actions listed, REST calls all GETs."""
    rec: Recorder = recorded_scan["recorder"]
    wire = recorded_scan["wire"]
    assert len(wire) == len(rec.sent)
    allowed_names = {op for _, op in READ_OPERATIONS}
    services_on_wire = set()
    for req in wire:
        _, signed_service = signed_scope(req)
        services_on_wire.add(signed_service)
        _, op = operation_of(req)
        if " " in op:  # a REST API the emulator does not name: the wire shows "METHOD /path"
            assert req.method == "GET", (signed_service, op)
        else:
            assert op in allowed_names, (signed_service, op)
    # SigV4 signing names: EFS signs as elasticfilesystem, OpenSearch as es, Cognito as cognito-idp.
    session = boto3.Session(region_name="eu-west-1")._session
    signing = {session.get_service_model(s).signing_name for s in {"resource-explorer-2", *ALL_SERVICES}}
    assert services_on_wire == {"sts", "organizations", *signing}


def test_allow_list_names_real_read_operations() -> None:
    """Each entry exists in botocore's model, has a read verb, and REST ones are HTTP GETs."""
    session = boto3.Session(region_name="eu-west-1")
    for service, op in sorted(READ_OPERATIONS):
        model = session._session.get_service_model(service)
        assert op in model.operation_names, f"{service}:{op} is not an operation of {service}"
        assert READ_VERB.match(op) or (service, op) in READ_EXCEPTIONS, (service, op)
        if model.metadata["protocol"] in _REST_PROTOCOLS and (service, op) not in REST_POST_READS:
            assert model.operation_model(op).http["method"] in ("GET", "HEAD"), (service, op)


@pytest.mark.parametrize(
    ("service", "call", "kwargs"),
    [
        ("s3", "create_bucket", {"Bucket": "trust-probe"}),
        ("s3", "delete_bucket", {"Bucket": "invoices-ireland"}),
        ("ec2", "terminate_instances", {"InstanceIds": ["i-0123456789abcdef0"]}),
        ("dynamodb", "delete_table", {"TableName": "orders"}),
        ("sts", "get_session_token", {}),
    ],
)
def test_a_non_read_operation_is_refused_before_it_is_sent(
    aws_env: AwsEmulator, service: str, call: str, kwargs: dict[str, Any]
) -> None:
    """The adapter's own client factory: a write raises ReadOnlyViolation and nothing reaches the wire."""
    session = boto3.Session()
    recorder = Recorder(session)
    adapter = AwsAdapter(targets=[AccountTarget(session)], regions=["eu-west-1"])
    collector = Collector(Scan(ScanRequest("aws")))
    client = adapter._client(collector, session, service, "eu-west-1")
    aws_env.front.clear_log()
    with pytest.raises(ReadOnlyViolation, match="refusing non-read operation"):
        getattr(client, call)(**kwargs)
    assert aws_env.front.log == []
    assert recorder.sent == []
    assert collector.scan.api_calls == {}
    # The same client still does reads: the guard refuses the operation, not the client.
    if service == "s3":
        client.list_buckets()
        assert [operation_of(r)[1] for r in aws_env.front.log] == ["GET /"]
