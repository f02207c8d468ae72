"""Read-only, proven for every provider: each request a scan makes is a declared read, and nothing else is sent.

Witnesses per provider (tests/trust_support/): the emulator's request log (what
arrived), each request attributed to an allow-list entry with a read verdict, and
where the SDK has its own record (botocore's before-call and before-send for AWS)
that too. The scans reach every code path (AWS: Resource Explorer and every
reader; Google Cloud: per service, named projects, a folder missing from search,
Asset Inventory; Azure: ARM and Resource Graph), so the union of what they used
must be the allow-list: an entry no scan uses is a permission nobody needs. The
few that only another command uses are named with the test that exercises them.
"""

from __future__ import annotations

from typing import Any

import pytest

from residency_audit.core import Collector
from residency_audit.model import Scan, ScanRequest
from residency_emulator.aws import operation_of

from .trust_support import READ_EXCEPTIONS, READ_VERB, Harness, ReadOnlyRun, counted


@pytest.fixture(scope="module")
def recorded(provider_harness: Harness) -> ReadOnlyRun:
    return provider_harness.readonly_run()


def test_every_request_of_every_scan_is_an_allow_listed_read(recorded: ReadOnlyRun) -> None:
    run = recorded
    used: set[tuple[str, str]] = set()
    services: set[str] = set()
    for sc in run.scenarios:
        assert sc.resources, sc.name
        assert [g for g in sc.scan.gaps if g.code not in sc.expected_gaps] == [], sc.name
        assert sc.wire, f"{sc.name}: the emulator saw no request"
        assert [s.path for s in sc.wire if not s.read] == [], f"{sc.name}: not a read on the wire"
        services |= {s.service for s in sc.wire}
        if sc.attempted is not None:
            # The SDK's own witnesses: what the client asked for, and what it put on the wire.
            ops = sc.attempted
            assert sc.sent, "before-send must have fired"
            assert set(sc.sent) - run.allow_list == set()
            assert set(sc.sent) == set(sc.attempted)
            assert len(sc.wire) == len(sc.sent), "the emulator saw exactly what the SDK sent"
        else:
            unattributed = [s.path for s in sc.wire if s.operation is None]
            assert unattributed == [], f"{sc.name}: requests that are no declared read"
            ops = [s.operation for s in sc.wire if s.operation is not None]
        assert set(ops) - run.allow_list == set(), sc.name
        assert sorted(op for op in set(ops) if not run.read_operation(op)) == [], sc.name
        # The scan's own call counter is the same record (it is kept by the client's guard).
        assert sc.scan.api_calls == counted(ops, run.counted_as), sc.name
        used |= set(ops)
    coverage = {run.coverage(op) for op in used}
    assert coverage & set(run.elsewhere) == set(), "documented as exercised elsewhere, yet a scan used it"
    assert coverage | set(run.elsewhere) == {run.coverage(op) for op in run.allow_list}, "every entry exercised"
    assert services == run.wire_services
    for label, (actual, expected) in run.pins(used).items():
        assert actual == expected, label


# --------------------------------------------------------------------------- AWS: the allow-list against botocore

#: REST reads that AWS models as POST (the query goes in the body): each with why it changes nothing.
REST_POST_READS: dict[tuple[str, str], str] = {
    ("resource-explorer-2", op): "Resource Explorer's reads are all POSTs with the query in the body"
    for op in ("ListIndexes", "GetDefaultView", "GetView", "ListResources", "ListSupportedResourceTypes")
}
REST_POST_READS[("opensearch", "DescribeOutboundConnections")] = "a search over connections, its filter in the body"
_REST_PROTOCOLS = {"rest-json", "rest-xml"}


def test_aws_allow_list_names_real_read_operations() -> None:
    """Each entry exists in botocore's model, has a read verb, and REST ones are HTTP GETs."""
    import boto3

    from residency_audit.providers.aws.scan import READ_OPERATIONS

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
def test_aws_a_non_read_operation_is_refused_before_it_is_sent(
    aws_env: Any, service: str, call: str, kwargs: dict[str, Any]
) -> None:
    """The adapter's own client factory: a write raises ReadOnlyViolation and nothing reaches the wire."""
    import boto3

    from residency_audit.providers.aws.scan import AccountTarget, AwsAdapter, ReadOnlyViolation

    from .trust_support import Recorder

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
