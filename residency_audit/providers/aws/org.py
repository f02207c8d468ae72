"""AWS Organizations: every member account, scanned in parallel through an assumed role.

The tree (root, OUs, accounts) is read once from the management account, so
the owner chain of every resource costs no per-account call. Each member
account gets one boto3 session, created once in the worker pool (role
assumption runs in parallel too) and sharing the botocore data loader, so
service models are parsed once per run, not once per account. An account
whose role cannot be assumed is a gap; the others are still scanned.

Shards (`Shard`) split the sorted, filtered account list round-robin, so N
independent jobs cover every account exactly once.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from ...core import Collector
from ...errors import CredentialsError, UserError
from ...model import Gap, Owner, OwnerNode, Resource
from ..base import error_code as _error_code
from ..base import one_line as _one_line
from .client import pages
from .scan import PROVIDER, AccountTarget, AwsAdapter
from .scp import Node, Organization

if TYPE_CHECKING:
    import boto3

DEFAULT_ROLE = "OrganizationAccountAccessRole"
SESSION_NAME = "residency-audit"


@dataclass(frozen=True, slots=True)
class OrgAccount:
    """One account of the organisation, with its place in the tree."""

    id: str
    name: str
    status: str
    #: organisation, then OUs from the top down (the root is not an owner level)
    path: tuple[OwnerNode, ...]

    @property
    def owner(self) -> Owner:
        return Owner("account", self.id, self.name, self.path)


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard `index` of `count` (1-based, as in `--shard 2/4`)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            left, right = text.split("/")
            index, count = int(left), int(right)
        except ValueError:
            raise UserError(f"--shard expects i/N (e.g. 1/4), got '{text}'") from None
        if count < 1 or not 1 <= index <= count:
            raise UserError(f"--shard {text}: need 1 <= i <= N")
        return cls(index, count)

    def select(self, account_ids: Iterable[str]) -> list[str]:
        """Round-robin over the sorted ids: deterministic, balanced to within one account."""
        return [a for n, a in enumerate(sorted(set(account_ids))) if n % self.count == self.index - 1]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def select_accounts(
    accounts: Iterable[OrgAccount],
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    shard: Shard | None = None,
) -> list[OrgAccount]:
    """Filters (ids or names) first, then the shard; an unknown id or name is an input error."""
    by_id = {a.id: a for a in accounts}

    def resolve(items: list[str], option: str) -> set[str]:
        out: set[str] = set()
        unknown = []
        for item in items:
            ids = {a.id for a in by_id.values() if item in (a.id, a.name)}
            if not ids:
                unknown.append(item)
            out |= ids
        if unknown:
            raise UserError(f"{option}: not in the organisation: {', '.join(unknown)}")
        return out

    chosen = set(by_id)
    if include:
        chosen = resolve(include, "--accounts")
    if exclude:
        chosen -= resolve(exclude, "--exclude-accounts")
    ids = shard.select(chosen) if shard else sorted(chosen)
    return [by_id[i] for i in ids]


#: CI variables that every job of one pipeline run shares (and a retried job keeps):
#: GitHub Actions, GitLab CI, Azure Pipelines, CircleCI, Buildkite, Jenkins.
RUN_ID_VARIABLES = (
    "GITHUB_RUN_ID",
    "CI_PIPELINE_ID",
    "BUILD_BUILDID",
    "CIRCLE_WORKFLOW_ID",
    "BUILDKITE_BUILD_ID",
    "BUILD_TAG",
)


def ci_run_id(environ: Mapping[str, str] | None = None) -> str | None:
    """`NAME=value` of the first pipeline-run variable set, or None outside a known CI."""
    env = os.environ if environ is None else environ
    return next((f"{name}={env[name]}" for name in RUN_ID_VARIABLES if env.get(name)), None)


def shard_group(org_id: str, shard: Shard, account_ids: Iterable[str], run_id: str | None = None) -> str:
    """Default shard-group id: equal for every shard of one split (and one CI run), without coordination."""
    text = f"{org_id}|{shard.count}|{','.join(sorted(account_ids))}" + (f"|{run_id}" if run_id else "")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_tree(
    org: Any, workers: int = 8, on_error: Callable[[Node, BaseException], None] | None = None
) -> Organization:
    """The whole tree (root, OUs, accounts) in 2 + 2 x (OUs + roots) calls, parents walked in
    parallel. One walker for the organisation scan and the guardrail audit: `on_error` gets a
    node whose children could not be listed (the audit records a gap and goes on); without it,
    the error is raised (a scan cannot choose accounts from half a tree)."""
    desc = org.describe_organization()["Organization"]
    roots = list(pages(org, "list_roots", "Roots"))
    if not roots:
        raise UserError(f"organisation {desc.get('Id', '?')} has no root")
    root_raw = roots[0]
    arn = str(desc.get("Arn", ""))
    mgmt = str(desc.get("MasterAccountId") or desc.get("ManagementAccountId") or "")
    root = Node("root", root_raw["Id"], root_raw.get("Name", "Root"))
    lock = threading.Lock()

    def children(node: Node) -> list[Node]:
        try:
            accounts = list(pages(org, "list_accounts_for_parent", "Accounts", ParentId=node.id))
            ous = list(pages(org, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=node.id))
        except Exception as exc:
            if on_error is None:
                raise
            on_error(node, exc)
            return []
        found = [Node("ou", ou["Id"], ou.get("Name", "")) for ou in ous]
        with lock:
            node.children.extend(found)
            node.children.extend(
                Node(
                    "account", a["Id"], a.get("Name", ""), management=a["Id"] == mgmt, status=a.get("Status", "ACTIVE")
                )
                for a in accounts
            )
        return found

    # Not `with`: on Ctrl-C or the deadline its exit would wait for a request stalled in the network.
    pool = cf.ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="aws-org")
    try:
        pending = {pool.submit(children, root)}
        while pending:
            done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                pending |= {pool.submit(children, ou) for ou in fut.result()}
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    enabled = desc.get("FeatureSet", "ALL") == "ALL" and any(
        t.get("Type") == "SERVICE_CONTROL_POLICY" and t.get("Status") == "ENABLED"
        for t in root_raw.get("PolicyTypes", [])
    )
    parts = arn.split(":")
    return Organization(
        id=str(desc["Id"]),
        root=root,
        management_account_id=mgmt,
        partition=parts[1] if len(parts) > 1 and parts[1] else "aws",
        scp_enabled=enabled,
    )


def org_accounts(org: Organization) -> tuple[OrgAccount, ...]:
    """Every account with its owner path (the organisation, then OUs from the top down), by id."""
    top = OwnerNode("organization", org.id)
    out = [
        OrgAccount(
            node.id, node.name, node.status, (top, *(OwnerNode("ou", n.id, n.name) for n in path if n.kind == "ou"))
        )
        for path, node in org.accounts()
    ]
    return tuple(sorted(out, key=lambda a: a.id))


@dataclass
class MemberTarget(AccountTarget):
    """A member account: its session is created by assuming `role_arn` in the worker pool."""

    role_arn: str = ""
    name: str = ""


class _CountingCollector:
    """Forwards to the scan's collector and counts what one account added (for its log event)."""

    def __init__(self, inner: Collector) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.added = 0

    def add(self, resource: Resource) -> None:
        self._inner.add(resource)
        with self._lock:
            self.added += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@dataclass
class OrganizationAdapter(AwsAdapter):
    """`scan aws --organization`: `targets[0]` holds the caller's (management account) session."""

    role_name: str = DEFAULT_ROLE
    external_id: str | None = None
    include: list[str] | None = None
    exclude: list[str] | None = None
    shard: Shard | None = None
    shard_group: str | None = None
    #: accounts scanned at once (default: workers // 16, at least 2). Each account in flight
    #: holds ~60 clients (one per service and region); a window keeps peak memory flat
    #: however large the organisation, while its tasks still keep every worker busy.
    accounts_in_flight: int | None = None
    #: filled by `scan`: the organisation as read, its accounts, and the accounts chosen
    organization: Organization | None = field(default=None, init=False)
    accounts: tuple[OrgAccount, ...] = field(default=(), init=False)
    selected: list[OrgAccount] = field(default_factory=list, init=False)
    _done_accounts: int = field(default=0, init=False)
    _base: Any = field(default=None, init=False)  # the caller's session

    def scan(self, collector: Collector) -> None:
        from botocore.exceptions import NoCredentialsError

        base = self._base = self.targets[0].session
        home = base.region_name or "us-east-1"
        try:
            caller = self._client(collector, base, "sts", home).get_caller_identity()["Account"]
            org = self.organization = read_tree(self._client(collector, base, "organizations", home), self.max_workers)
            self.accounts = org_accounts(org)
        except NoCredentialsError:
            raise CredentialsError(
                "no AWS credentials found (set AWS_PROFILE, run 'aws sso login', or export AWS_ACCESS_KEY_ID/"
                "AWS_SECRET_ACCESS_KEY)"
            ) from None
        except Exception as exc:  # noqa: BLE001 - not an organisation, or not allowed to read it
            raise UserError(
                f"--organization: cannot read the organisation's accounts ({_error_code(exc)}: {_one_line(exc)}); "
                "run from the management account or a delegated administrator"
            ) from None
        chosen = select_accounts(self.accounts, self.include, self.exclude, self.shard)
        inactive = [a for a in chosen if a.status != "ACTIVE"]
        for a in inactive:
            collector.note(f"aws: account {a.id} ({a.name}) is {a.status}: not scanned")
        self.selected = [a for a in chosen if a.status == "ACTIVE"]
        self._record(collector, org, chosen)
        self.targets = [self._target(org, a, caller, base) for a in self.selected]
        collector.event("organization", organization=org.id, accounts=len(self.accounts), selected=len(self.selected))
        if self.targets:
            try:
                self._scan_window(collector)
            finally:  # interrupted too: what the inventories listed is judged, never dropped
                self._judge_inventory(collector)

    def _scan_window(self, collector: Collector) -> None:
        """The base scan loop, admitting the next account whenever one finishes."""
        window = self.accounts_in_flight or max(2, self.max_workers // 16)
        queue = deque(self.targets)
        admitted = 0
        # Not `with`: on Ctrl-C or the deadline its exit would wait for requests stalled in the network.
        pool = cf.ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="aws")
        pending: set[cf.Future[Any]] = set()

        def admit() -> None:
            nonlocal admitted
            while queue and admitted - self._done_accounts < window:
                pending.add(pool.submit(self._plan_account, collector, queue.popleft()))
                admitted += 1

        try:
            admit()
            while pending:
                done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    for task in fut.result() or []:
                        pending.add(pool.submit(task))
                admit()
        except BaseException:
            # Ctrl-C, the deadline or a fatal error: running tasks stop at their next API call.
            self._stop.set()
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    def _record(self, collector: Collector, org: Organization, chosen: list[OrgAccount]) -> None:
        """What the scan learned of its scope (the organisation, the accounts it chose, the shard
        group), in the scan's context: the report merges shards by these facts."""
        collector.learn("scopes", [a.id for a in chosen])
        collector.learn("organization", org.id)
        collector.learn("accounts_in_organization", len(self.accounts))
        if self.shard:
            run_id = ci_run_id()
            group = self.shard_group or shard_group(
                org.id, self.shard, [a.id for a in select_accounts(self.accounts, self.include, self.exclude)], run_id
            )
            if not self.shard_group and run_id is None:
                collector.note(
                    f"shard group {group} is derived from the organisation, N and the filters only (no --shard-group, "
                    "no CI run id): every run of this split shares it, so in reports each shard run replaces the "
                    "previous one instead of adding a round; pass --shard-group RUN_ID"
                )
            collector.learn("shard_group", group)

    def _target(self, org: Organization, account: OrgAccount, caller: str, base: boto3.Session) -> AccountTarget:
        if account.id == caller:  # the management account itself: the caller's own session
            return AccountTarget(base, account.id, account.owner)
        arn = f"arn:{org.partition}:iam::{account.id}:role/{self.role_name}"
        return MemberTarget(base, account.id, account.owner, role_arn=arn, name=account.name)

    # ------------------------------------------------------------ per account

    def _plan_account(self, collector: Collector, target: AccountTarget) -> list[Callable[[], Any]]:
        started = time.monotonic()
        name = target.owner.name if target.owner else ""
        collector.event("account_started", provider=PROVIDER, account=target.account_id, name=name)
        if isinstance(target, MemberTarget) and target.role_arn:
            try:
                target.session = self._assume(collector, target)
            except Exception as exc:  # noqa: BLE001 - a role we cannot assume is a gap, not a crash
                collector.gap(
                    Gap(
                        PROVIDER,
                        target.account_id,
                        "",
                        "sts",
                        f"cannot assume {target.role_arn}: {_one_line(exc)}",
                        _error_code(exc),
                    )
                )
                self._finished(collector, target, started, 0)
                return []
            target.role_arn = ""  # assumed once; the session refreshes its own credentials
        counting = _CountingCollector(collector)
        tasks = super()._plan_account(cast(Collector, counting), target)
        return self._track(collector, target, tasks, started, counting)

    def _assume(self, collector: Collector, target: MemberTarget) -> boto3.Session:
        """A session on refreshable assumed-role credentials, sharing the base session's loader."""
        import boto3
        import botocore.session
        from botocore.credentials import RefreshableCredentials

        base = target.session  # the caller's, until the role is assumed
        home = base.region_name or "us-east-1"
        sts = self._client(collector, base, "sts", home)
        params: dict[str, Any] = {"RoleArn": target.role_arn, "RoleSessionName": SESSION_NAME}
        if self.external_id:
            params["ExternalId"] = self.external_id

        def fetch() -> dict[str, str]:
            c = sts.assume_role(**params)["Credentials"]
            return {
                "access_key": c["AccessKeyId"],
                "secret_key": c["SecretAccessKey"],
                "token": c["SessionToken"],
                "expiry_time": c["Expiration"].isoformat(),
            }

        creds = RefreshableCredentials.create_from_metadata(fetch(), refresh_using=fetch, method="sts-assume-role")
        base_core = base._session
        core = botocore.session.Session(profile=base_core.profile)
        core.register_component("data_loader", base_core.get_component("data_loader"))
        core._credentials = creds
        return boto3.Session(botocore_session=core, region_name=home)

    def _track(
        self,
        collector: Collector,
        target: AccountTarget,
        tasks: list[Callable[[], Any]],
        started: float,
        counting: _CountingCollector,
    ) -> list[Callable[[], Any]]:
        """Wraps the account's tasks (and the tasks they spawn) to know when the account is done."""
        left = [len(tasks)]
        lock = threading.Lock()

        def wrap(task: Callable[[], Any]) -> Callable[[], Any]:
            def run() -> Any:
                more = task()
                spawned = [wrap(t) for t in more] if isinstance(more, list) else []
                with lock:
                    left[0] += len(spawned) - 1
                    finished = left[0] == 0
                if finished:
                    self._finished(collector, target, started, counting.added)
                return spawned

            return run

        if not tasks:
            self._finished(collector, target, started, counting.added)
        return [wrap(t) for t in tasks]

    def _finished(self, collector: Collector, target: AccountTarget, started: float, resources: int) -> None:
        base = self._base
        if isinstance(target, MemberTarget) and base is not None and target.session is not base:
            # Its tasks are all done: drop its clients (before the session can be freed, so
            # no cache key of a dead session's id() survives) and the session itself. No
            # gc.collect() here: botocore clients hold reference cycles, but a full collection
            # per account walked the whole heap (a quarter of the scan's CPU) and freed no more
            # than the collector's own gen-2 passes do; those keep the garbage proportional to
            # what is live, and the window keeps that flat.
            self._forget(target.session)
            target.session = base
        with self._lock:
            self._done_accounts += 1
        gaps = sum(1 for g in list(collector.scan.gaps) if g.scope == target.account_id)
        collector.event(
            "account_finished",
            account=target.account_id,
            name=target.owner.name if target.owner else "",
            resources=resources,
            gaps=gaps,
            seconds=round(time.monotonic() - started, 3),
        )
