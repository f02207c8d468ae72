"""Read an AWS Organization's tree and its service control policies, read-only.

The tree comes from the one organisation walker (`org.read_tree`) over the provider's
guarded clients (`client.Clients`, whose allow-list `permissions aws` prints). Whatever
cannot be read becomes a `Gap`, and is evaluated fail-closed: an unreadable target or
policy counts as "allows everything, denies nothing".
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ...core import Collector
from ...errors import CredentialsError
from ...model import Gap
from ..base import ReadOnlyViolation, error_code, one_line
from .client import NO_CREDENTIALS, Clients, pages
from .org import read_tree
from .scp import FULL_ACCESS_ID, Node, Organization, Policy, PolicyError, parse_policy

if TYPE_CHECKING:
    import boto3

PROVIDER = "aws"
SCP = "SERVICE_CONTROL_POLICY"

_ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


class _Unreadable(Exception):
    """The organisation could not be read at all; the gap is already recorded."""


class PolicyReader:
    def __init__(self, session: boto3.Session, collector: Collector, workers: int = 8) -> None:
        self.session = session
        self.collector = collector
        self.workers = workers
        self.clients = Clients(collector.count_call, threading.Event(), max_workers=workers)
        self.home = session.region_name or "us-east-1"
        self.account_id = ""

    def client(self, service: str) -> Any:
        return self.clients.client(self.session, service, self.home)

    def gap(self, scope: str, exc: BaseException, what: str) -> None:
        if isinstance(exc, ReadOnlyViolation):
            raise exc  # a bug in this module, never a coverage gap
        self.collector.gap(Gap(PROVIDER, scope, "", "organizations", f"{what}: {one_line(exc)}", error_code(exc)))

    def caller(self) -> str:
        from botocore.exceptions import NoCredentialsError

        try:
            self.account_id = str(self.client("sts").get_caller_identity()["Account"])
        except NoCredentialsError:
            raise CredentialsError(NO_CREDENTIALS) from None
        return self.account_id

    def read(self) -> Organization | None:
        """The organisation tree with every SCP; None when not in an organisation."""
        self.caller()
        try:
            org = read_tree(
                self.client("organizations"),
                self.workers,
                on_error=lambda node, exc: self.gap(node.id, exc, f"cannot list the children of {node.label()}"),
            )
        except Exception as exc:  # noqa: BLE001 - every API failure is a gap or a finding
            if error_code(exc) == "AWSOrganizationsNotInUseException":
                return None
            self.gap(
                self.account_id,
                exc,
                "cannot read the organisation (run from the management account or a delegated administrator "
                "for Organizations)",
            )
            raise _Unreadable from None
        cache: dict[str, Policy] = {}
        for _, node in org.nodes():
            node.policies = self._policies(node, cache)
        return org

    def _policies(self, node: Node, cache: dict[str, Policy]) -> list[Policy]:
        try:
            summaries = list(
                pages(
                    self.client("organizations"), "list_policies_for_target", "Policies", TargetId=node.id, Filter=SCP
                )
            )
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


def read_organization(session: boto3.Session, collector: Collector) -> tuple[Organization | None, str, bool]:
    """(organisation or None, caller account id, readable)."""
    reader = PolicyReader(session, collector)
    try:
        org = reader.read()
    except _Unreadable:
        return None, reader.account_id, False
    return org, reader.account_id, True
