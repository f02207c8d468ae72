"""Read an AWS Organization's tree and SCPs, read-only, into `aws_scp.Organization`.

Same pattern as adapters/aws.py: every call goes through a client whose
botocore before-call hook refuses any operation not in `READ_OPERATIONS`.
Whatever cannot be read becomes a `Gap`, and is evaluated fail-closed: an
unreadable target or policy counts as "allows everything, denies nothing".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..core import Collector
from ..errors import CredentialsError
from ..model import Gap
from ..providers.aws.kinds import read_operations
from ..providers.base import allow_list
from .aws_scp import FULL_ACCESS_ID, Node, Organization, Policy, PolicyError, parse_policy

if TYPE_CHECKING:
    import boto3

PROVIDER = "aws"

#: Every operation the guardrail reader may send (the AWS provider's one allow-list,
#: `providers/aws/kinds.py`, which `permissions aws` prints). Tests check the wire against it.
READ_OPERATIONS: frozenset[tuple[str, str]] = allow_list(read_operations())

SCP = "SERVICE_CONTROL_POLICY"

_ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


class ReadOnlyViolation(RuntimeError):
    """Raised before sending any operation that is not on the read allow-list."""


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", "")) or type(exc).__name__
    return type(exc).__name__


def _line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


class OrgReader:
    """The read-only client layer: one guarded client per service."""

    def __init__(self, session: boto3.Session, collector: Collector) -> None:
        self.session = session
        self.collector = collector
        self._clients: dict[str, Any] = {}
        self.account_id = ""

    def client(self, service: str) -> Any:
        if service not in self._clients:
            from botocore.config import Config

            config = Config(
                retries={"mode": "standard", "max_attempts": 6},
                connect_timeout=5,
                read_timeout=30,
                user_agent_extra="residency-audit-guardrails",
            )
            region = self.session.region_name or "us-east-1"
            client = self.session.client(service, region_name=region, config=config)

            def guard(model: Any, **_: Any) -> None:
                op = (model.service_model.service_name, model.name)
                if op not in READ_OPERATIONS:
                    raise ReadOnlyViolation(f"refusing non-read operation {op[0]}:{op[1]}")
                self.collector.count_call(f"{op[0]}:{op[1]}")

            client.meta.events.register("before-call", guard)
            self._clients[service] = client
        return self._clients[service]

    def pages(self, operation: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        org = self.client("organizations")
        for page in org.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])

    def gap(self, scope: str, exc: BaseException, what: str) -> None:
        if isinstance(exc, ReadOnlyViolation):
            raise exc  # a bug in this module, never a coverage gap
        self.collector.gap(Gap(PROVIDER, scope, "", "organizations", f"{what}: {_line(exc)}", _code(exc)))

    # ---------------------------------------------------------------- reading

    def caller(self) -> str:
        from botocore.exceptions import NoCredentialsError

        try:
            self.account_id = str(self.client("sts").get_caller_identity()["Account"])
        except NoCredentialsError:
            raise CredentialsError(
                "no AWS credentials found (set AWS_PROFILE, run 'aws sso login', or export AWS_ACCESS_KEY_ID/"
                "AWS_SECRET_ACCESS_KEY)"
            ) from None
        return self.account_id

    def read(self) -> Organization | None:
        """The organisation tree with every SCP; None when not in an organisation (or unreadable)."""
        self.caller()
        org_api = self.client("organizations")
        try:
            desc = org_api.describe_organization()["Organization"]
        except Exception as exc:  # noqa: BLE001 - every API failure is a gap or a finding
            if _code(exc) == "AWSOrganizationsNotInUseException":
                return None
            self.gap(self.account_id, exc, "cannot describe the organisation")
            raise _Unreadable from None
        arn = str(desc.get("Arn", "arn:aws:"))
        partition = arn.split(":")[1] if arn.count(":") >= 2 else "aws"
        mgmt = str(desc.get("MasterAccountId") or desc.get("ManagementAccountId") or "")
        try:
            roots = list(self.pages("list_roots", "Roots"))
        except Exception as exc:  # noqa: BLE001
            self.gap(
                self.account_id,
                exc,
                "cannot list the organisation root (run from the management account "
                "or a delegated administrator for Organizations)",
            )
            raise _Unreadable from None
        if not roots:
            self.collector.gap(Gap(PROVIDER, self.account_id, "", "organizations", "the organisation has no root", ""))
            raise _Unreadable
        root_raw = roots[0]
        enabled = desc.get("FeatureSet", "ALL") == "ALL" and any(
            t.get("Type") == SCP and t.get("Status") == "ENABLED" for t in root_raw.get("PolicyTypes", [])
        )
        root = Node("root", root_raw["Id"], root_raw.get("Name", "Root"))
        org = Organization(
            id=str(desc["Id"]), root=root, management_account_id=mgmt, partition=partition, scp_enabled=enabled
        )
        cache: dict[str, Policy] = {}
        self._fill(root, cache, mgmt)
        return org

    def _fill(self, node: Node, cache: dict[str, Policy], mgmt: str, depth: int = 0) -> None:
        node.policies = self._policies(node, cache)
        if node.kind == "account" or depth > 6:
            return
        try:
            for ou in self.pages("list_organizational_units_for_parent", "OrganizationalUnits", ParentId=node.id):
                child = Node("ou", ou["Id"], ou.get("Name", ""))
                node.children.append(child)
                self._fill(child, cache, mgmt, depth + 1)
            for acct in self.pages("list_accounts_for_parent", "Accounts", ParentId=node.id):
                child = Node(
                    "account",
                    acct["Id"],
                    acct.get("Name", ""),
                    management=acct["Id"] == mgmt,
                    status=acct.get("Status", "ACTIVE"),
                )
                node.children.append(child)
                self._fill(child, cache, mgmt, depth + 1)
        except Exception as exc:  # noqa: BLE001 - the rest of the tree is still worth evaluating
            self.gap(node.id, exc, f"cannot list the children of {node.label()}")

    def _policies(self, node: Node, cache: dict[str, Policy]) -> list[Policy]:
        try:
            summaries = list(self.pages("list_policies_for_target", "Policies", TargetId=node.id, Filter=SCP))
        except Exception as exc:  # noqa: BLE001
            self.gap(node.id, exc, f"cannot list the SCPs of {node.label()}; evaluated as allowing everything")
            return [parse_policy(_ALLOW_ALL, "unreadable", "(unreadable: assumed to allow everything)")]
        out = []
        for s in summaries:
            pid = s["Id"]
            if pid not in cache:
                cache[pid] = self._policy(node, s)
            out.append(cache[pid])
        return out

    def _policy(self, node: Node, summary: dict[str, Any]) -> Policy:
        pid, name = summary["Id"], summary.get("Name", "")
        kw = {
            "aws_managed": bool(summary.get("AwsManaged", pid == FULL_ACCESS_ID)),
            "description": summary.get("Description", "") or "",
        }
        try:
            content = self.client("organizations").describe_policy(PolicyId=pid)["Policy"]["Content"]
            return parse_policy(content, pid, name, **kw)
        except PolicyError as exc:
            self.collector.gap(Gap(PROVIDER, node.id, "", "organizations", str(exc), "MalformedPolicy"))
        except Exception as exc:  # noqa: BLE001
            self.gap(node.id, exc, f"cannot read SCP {name or pid}")
        return parse_policy(_ALLOW_ALL, pid, f"{name or pid} (unreadable: assumed to allow everything)", **kw)


class _Unreadable(Exception):
    """The organisation could not be read at all; the gap is already recorded."""


def read_organization(session: boto3.Session, collector: Collector) -> tuple[Organization | None, str, bool]:
    """(organisation or None, caller account id, readable)."""
    reader = OrgReader(session, collector)
    try:
        org = reader.read()
    except _Unreadable:
        return None, reader.account_id, False
    return org, reader.account_id, True
