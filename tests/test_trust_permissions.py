"""Least privilege, generated: `residency-audit permissions` derives policies from the read allow-lists."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from residency_audit.commands.permissions import UnmappedOperation, permissions_of
from residency_audit.providers import api, names
from residency_audit.providers.base import ReadOperation

from .conftest import run_cli

IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$")
READ_ACTION = re.compile(r"^[a-z0-9-]+:(List|Describe|Get|Search|BatchGet|Lookup)[A-Z]")
#: IAM actions that are not named as reads but change nothing in the estate.
READ_ACTION_EXCEPTIONS = {"sts:AssumeRole", "config:SelectResourceConfig", "config:SelectAggregateResourceConfig"}
WRITE_VERBS = re.compile(
    r":(Create|Put|Delete|Update|Modify|Attach|Detach|Start|Stop|Terminate|Run|Copy|Restore|Tag|Untag|Set|Enable"
    r"|Disable|Invoke|Publish|Send|Associate|Disassociate|Reboot|Revoke|Authorize|Import|Export|Register|Deregister"
    r"|Cancel|Accept|Reject|Replace|Reset|Add|Remove|Pass|Upload|Write|Purge|Promote|Failover|Restart)"
)


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


def test_cli_prints_a_valid_minimal_iam_policy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["permissions", "aws"], capsys)
    assert code == 0 and err == ""
    policy = json.loads(out)
    assert set(policy) == {"Version", "Statement"}
    assert policy["Version"] == "2012-10-17"
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert re.fullmatch(r"[A-Za-z0-9]+", statement["Sid"])
    assert set(statement) == {"Sid", "Effect", "Action", "Resource"}  # no NotAction, no Condition tricks
    actions = statement["Action"]
    assert actions == sorted(set(actions)), "sorted, no duplicates"
    assert set(actions) == set(_aws_actions().values()), "exactly the allow-list, nothing else"
    for action in actions:
        assert "*" not in action and "?" not in action, action
        assert not WRITE_VERBS.search(action), action
        assert READ_ACTION.match(action) or action in READ_ACTION_EXCEPTIONS, action


_GCP_READ = re.compile(r"\.(list|get|search[A-Za-z]*|getIamPolicy|listEffectiveTags|analyze[A-Za-z]*)$")


@pytest.mark.parametrize("provider", ["gcp", "azure"])
def test_gcp_and_azure_policies_are_read_only_roles(provider: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["permissions", provider], capsys)
    assert code == 0, err
    if provider == "gcp":
        role = yaml.safe_load(out)
        perms = role["includedPermissions"]
        assert perms and role["stage"] == "GA"
        assert all(_GCP_READ.search(p) for p in perms), perms
    else:
        role = json.loads(out)
        assert role["IsCustom"] is True and role["DataActions"] == [] and role["AssignableScopes"]
        assert role["Actions"] and all(a.endswith("/read") for a in role["Actions"]), role["Actions"]
        assert not any("*" in a for a in role["Actions"])


def test_gcp_and_azure_roles_list_exactly_the_allow_lists(capsys: pytest.CaptureFixture[str]) -> None:
    """Not a superset, not a subset: the permission names of the providers' own read operations."""
    code, out, _ = run_cli(["permissions", "gcp"], capsys)
    assert code == 0
    assert yaml.safe_load(out)["includedPermissions"] == sorted({op.permission for op in api("gcp").read_operations()})
    mg = "/providers/Microsoft.Management/managementGroups/mg"
    code, out, _ = run_cli(["permissions", "azure", "--scope", mg], capsys)
    role = json.loads(out)
    assert code == 0 and role["AssignableScopes"] == [mg]
    assert role["Actions"] == sorted({op.permission for op in api("azure").read_operations()})
    assert role["NotActions"] == role["DataActions"] == role["NotDataActions"] == []


def test_every_provider_prints_a_policy(capsys: pytest.CaptureFixture[str]) -> None:
    for name in names():
        code, out, err = run_cli(["permissions", name], capsys)
        assert code == 0 and out and err == "", name
