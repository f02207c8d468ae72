"""Least privilege, generated: `residency-audit permissions` derives policies from the read allow-lists."""

from __future__ import annotations

import importlib.util
import json
import re

import pytest
import yaml

from residency_audit.adapters.aws import READ_OPERATIONS
from residency_audit.commands.permissions import UnmappedOperation, aws_policy, iam_action

from .conftest import run_cli

IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$")
READ_ACTION = re.compile(r"^[a-z0-9-]+:(List|Describe|Get|Search|BatchGet|Lookup)[A-Z]")
#: IAM actions that are not named as reads but change nothing in the estate.
READ_ACTION_EXCEPTIONS = {"sts:AssumeRole"}
WRITE_VERBS = re.compile(
    r":(Create|Put|Delete|Update|Modify|Attach|Detach|Start|Stop|Terminate|Run|Copy|Restore|Tag|Untag|Set|Enable"
    r"|Disable|Invoke|Publish|Send|Associate|Disassociate|Reboot|Revoke|Authorize|Import|Export|Register|Deregister"
    r"|Cancel|Accept|Reject|Replace|Reset|Add|Remove|Pass|Upload|Write|Purge|Promote|Failover|Restart)"
)


def test_every_aws_operation_maps_to_an_iam_action() -> None:
    actions = {op: iam_action(*op) for op in READ_OPERATIONS}
    assert all(IAM_ACTION.match(a) for a in actions.values()), actions
    # The S3 names that differ from the API, and the EFS prefix.
    s3 = {op: a for op, a in actions.items() if op[0] == "s3"}
    assert s3 == {
        ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
        ("s3", "GetBucketLocation"): "s3:GetBucketLocation",
        ("s3", "GetBucketReplication"): "s3:GetReplicationConfiguration",
    }
    assert actions[("efs", "DescribeFileSystems")] == "elasticfilesystem:DescribeFileSystems"
    assert actions[("ec2", "DescribeInstances")] == "ec2:DescribeInstances"


def test_an_unmapped_s3_operation_is_an_error_not_a_guess() -> None:
    with pytest.raises(UnmappedOperation, match="s3:GetBucketEncryption"):
        iam_action("s3", "GetBucketEncryption")  # IAM calls it s3:GetEncryptionConfiguration
    with pytest.raises(UnmappedOperation):
        iam_action("kms", "ListKeys")


def test_cli_prints_a_valid_minimal_iam_policy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["permissions", "aws"], capsys)
    assert code == 0 and err == ""
    policy = json.loads(out)
    assert policy == aws_policy()
    assert set(policy) == {"Version", "Statement"}
    assert policy["Version"] == "2012-10-17"
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert re.fullmatch(r"[A-Za-z0-9]+", statement["Sid"])
    assert set(statement) == {"Sid", "Effect", "Action", "Resource"}  # no NotAction, no Condition tricks
    actions = statement["Action"]
    assert actions == sorted(set(actions)), "sorted, no duplicates"
    assert set(actions) == {iam_action(*op) for op in READ_OPERATIONS}, "exactly the allow-list, nothing else"
    for action in actions:
        assert "*" not in action and "?" not in action, action
        assert not WRITE_VERBS.search(action), action
        assert READ_ACTION.match(action) or action in READ_ACTION_EXCEPTIONS, action


_GCP_READ = re.compile(r"\.(list|get|search[A-Za-z]*|getIamPolicy|listEffectiveTags|analyze[A-Za-z]*)$")


@pytest.mark.parametrize("provider", ["gcp", "azure"])
def test_gcp_and_azure_policies_follow_their_adapters(provider: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Until an adapter lands: one clear line, exit 2. Once it has: a read-only custom role."""
    code, out, err = run_cli(["permissions", provider], capsys)
    if importlib.util.find_spec(f"residency_audit.adapters.{provider}") is None:
        assert code == 2 and out == ""
        assert (
            err
            == f"residency-audit: error: no {provider} adapter in this version: nothing to derive permissions from\n"
        )
        return
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
    """Not a superset, not a subset: the permission names of the adapters' own READ_OPERATIONS."""
    from residency_audit.adapters import azure, gcp

    code, out, _ = run_cli(["permissions", "gcp"], capsys)
    assert code == 0
    assert yaml.safe_load(out)["includedPermissions"] == sorted(set(gcp.READ_OPERATIONS.values()))
    mg = "/providers/Microsoft.Management/managementGroups/mg"
    code, out, _ = run_cli(["permissions", "azure", "--scope", mg], capsys)
    role = json.loads(out)
    assert code == 0 and role["AssignableScopes"] == [mg]
    assert role["Actions"] == sorted({op.action for op in azure.READ_OPERATIONS})
    assert role["NotActions"] == role["DataActions"] == role["NotDataActions"] == []
