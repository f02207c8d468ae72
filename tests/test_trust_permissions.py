"""Least privilege, generated: `residency-audit permissions` derives policies from the read allow-lists."""

from __future__ import annotations

import re

import pytest

from residency_audit.commands.permissions import UnmappedOperation, permissions_of
from residency_audit.providers import api, names
from residency_audit.providers.base import ReadOperation

from .conftest import run_cli
from .trust_support import HARNESSES, PROVIDERS

IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$")


def _aws_actions() -> dict[tuple[str, str], str]:
    return {op.key: op.permission for op in api("aws").read_operations()}


def test_every_aws_operation_declares_its_iam_action() -> None:
    actions = _aws_actions()
    assert all(IAM_ACTION.match(a) for a in actions.values()), actions
    # The S3 names that differ from the API, and the EFS prefix.
    s3 = {op: a for op, a in actions.items() if op[0] == "s3"}
    assert s3 == {
        ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
        ("s3", "GetBucketLocation"): "s3:GetBucketLocation",
        ("s3", "GetBucketReplication"): "s3:GetReplicationConfiguration",
        ("s3", "GetBucketTagging"): "s3:GetBucketTagging",
    }
    assert actions[("efs", "DescribeFileSystems")] == "elasticfilesystem:DescribeFileSystems"
    assert actions[("ec2", "DescribeInstances")] == "ec2:DescribeInstances"
    # the guardrail audit's reads are in the one allow-list (they were missing from the printed policy)
    assert {("organizations", "ListPoliciesForTarget"), ("organizations", "DescribePolicy")} <= set(actions)


def test_an_ill_formed_permission_is_an_error_not_a_guess(monkeypatch: pytest.MonkeyPatch) -> None:
    aws = api("aws")
    bad = (*aws.read_operations(), ReadOperation("s3", "GetBucketEncryption", "GetEncryptionConfiguration"))
    monkeypatch.setattr(type(aws), "read_operations", lambda self: bad)
    with pytest.raises(UnmappedOperation, match="s3:GetBucketEncryption"):
        permissions_of("aws", IAM_ACTION)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_permissions_prints_a_read_only_policy_of_exactly_the_allow_list(
    provider: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not a superset, not a subset: the permission names of the provider's own read operations."""
    trust = HARNESSES[provider]  # the policy's shape and what a read looks like (no emulator needed)
    allow_list = {op.permission for op in api(provider).read_operations()}
    for args, shape in trust.policies:
        code, out, err = run_cli(args, capsys)
        assert code == 0 and err == "", err
        actions, printed_shape = trust.parse_policy(out)
        assert printed_shape == shape
        assert actions, "an empty policy"
        assert actions == sorted(set(actions)), "sorted, no duplicates"
        assert set(actions) == allow_list, "exactly the allow-list, nothing else"
        for action in actions:
            assert "*" not in action and "?" not in action, action
            assert trust.write_permission is None or not trust.write_permission.search(action), action
            read = trust.read_permission.search(action) or action in trust.read_permission_exceptions
            assert read, action


def test_every_provider_prints_a_policy(capsys: pytest.CaptureFixture[str]) -> None:
    for name in names():
        code, out, err = run_cli(["permissions", name], capsys)
        assert code == 0 and out and err == "", name
