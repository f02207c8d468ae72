"""AWS: the scan of one or more accounts, every region, every declared kind.

Per account: who it is and where it sits in the organisation, which regions are
enabled, then one task per (service, region) running that service's reader
(`readers.py`, chosen through the kind declarations in `kinds.py`). Every call goes
through the guarded clients of `client.py`; a failure is a gap for exactly that
account, region and service, never a crash and never a silent pass.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...core import Collector
from ...errors import CredentialsError, UserError
from ...model import CopyLink, Gap, Location, Owner, OwnerNode, Resource
from ..base import ReadOnlyViolation, WorkerPool, error_code, one_line
from . import inventory as inv
from . import readers, readers_more
from .client import NO_CREDENTIALS, READ_OPERATIONS, Clients, partition
from .client import session as make_session
from .inventory import BLIND_SPOT
from .kinds import GLOBAL_SERVICES, KINDS, SERVICES

if TYPE_CHECKING:  # boto3 is imported lazily: `--help` and the gate must not pay for it
    import boto3

PROVIDER = "aws"

REGIONAL_SERVICES = tuple(s for s in SERVICES if s not in GLOBAL_SERVICES)
ALL_SERVICES = GLOBAL_SERVICES + REGIONAL_SERVICES
#: service -> the reader its kinds name (one reader per service: one client, one pass)
READERS: dict[str, Callable[..., Any]] = {
    k.service: getattr(readers, k.reader, None) or getattr(readers_more, k.reader) for k in KINDS
}
_KINDS = {k.name: k for k in KINDS}
#: service -> the inventory types (`service:type` from the ARN) its kinds are listed as
SERVICE_TYPES: dict[str, frozenset[str]] = {
    s: frozenset(t for k in KINDS if k.service == s for t in k.inventory) for s in SERVICES
}
#: inventory type -> the kind it is, where only one kind is listed as that type (`rds:cluster` may be
#: an Aurora, DocumentDB or Neptune cluster: it keeps the name its ARN gives it)
TYPE_KIND: dict[str, str] = {
    t: names[0]
    for t, names in {t: [k.name for k in KINDS if t in k.inventory] for k in KINDS for t in k.inventory}.items()
    if len(names) == 1
}
#: Kinds whose ARNs have no region, sharing their inventory type with regional resources of another
#: kind (`s3:accesspoint`: a Multi-Region Access Point, or an access point of one bucket).
GLOBAL_ARN_KINDS = frozenset({"s3.multiregionaccesspoint"})
#: Services whose kinds only ever have their primary location: an inventory that lists them says
#: all their reader would (kind, ARN, region), so the reader is not asked where the index covers them.
PRIMARY_ONLY = frozenset(s for s in SERVICES if not any(k.footprint for k in KINDS if k.service == s))

__all__ = ["ALL_SERVICES", "PROVIDER", "READ_OPERATIONS", "AccountTarget", "AwsAdapter", "ReadOnlyViolation"]


_OFFERED: dict[tuple[tuple[str, ...], str], frozenset[str]] = {}
_KNOWN: list[set[str]] = []
_OFFERED_LOCK = threading.Lock()


def _offered(session: boto3.Session, regions: list[str], services: set[str]) -> dict[str, frozenset[str]]:
    """service -> the regions asked for in which botocore's endpoint data says it is not offered.

    Only regions botocore knows count: a region newer than the installed SDK is read (and an
    error there is a gap), never skipped on a guess. Asked only for the services that have work:
    botocore reads a service's endpoint prefix from its whole model, which then stays loaded."""
    asked = tuple(sorted(regions))
    found: dict[str, frozenset[str]] = {}
    with _OFFERED_LOCK:
        for service in sorted(services):
            absent = _OFFERED.get((asked, service))
            if absent is None:
                if not _KNOWN:
                    from .cli import botocore_regions

                    _KNOWN.append(botocore_regions())
                known = _KNOWN[0]
                absent = frozenset()
                for part in {partition(r) for r in regions}:
                    available = set(session.get_available_regions(service, partition_name=part))
                    if available:  # a partition botocore lists the service in: its other regions lack it
                        absent |= {r for r in regions if partition(r) == part and r in known and r not in available}
                _OFFERED[(asked, service)] = absent
            if absent:
                found[service] = absent
    return found


@dataclass
class AccountTarget:
    """One account to scan, with the session that reaches it."""

    session: boto3.Session
    account_id: str = ""
    owner: Owner | None = None


class _Context:
    """A reader's view of one account (`readers.ReadContext`)."""

    def __init__(self, adapter: AwsAdapter, collector: Collector, target: AccountTarget) -> None:
        self._adapter = adapter
        self._collector = collector
        self._target = target
        self.account_id = target.account_id
        self.home = target.session.region_name or "us-east-1"
        #: ARNs the readers added: an inventory item with one of these is judged by its reader
        self.added: set[str] = set()
        self._added_lock = threading.Lock()
        #: what the account's inventory path listed (set before any reader runs)
        self.listing = inv.Listing("services")
        self._seen: dict[str, set[str]] = {}

    def inventory_tags(self, arn: str) -> dict[str, str] | None:
        return self.listing.tags_of(arn)

    def may_hold(self, region: str, resource_type: str) -> bool:
        """False only when an index that covers `resource_type` in `region` listed none there."""
        listing = self.listing
        if listing.indexed is None or resource_type not in listing.indexed or region in listing.blind:
            return True
        return resource_type in self._seen.get(region, ())

    def client(self, service: str, region: str) -> Any:
        return self._adapter._client(self._collector, self._target.session, service, region)

    def add(
        self,
        kind: str,
        arn: str,
        name: str,
        locations: list[Location],
        tags: dict[str, str] | None = None,
        links: list[CopyLink] | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> None:
        declared = _KINDS[kind]
        with self._added_lock:
            self.added.add(arn)
        self._collector.add(
            Resource(
                provider=PROVIDER,
                kind=kind,
                id=arn,
                name=name,
                owner=self._target.owner or Owner("account", self.account_id),
                locations=locations,
                tags=tags or {},
                category=declared.category,
                judged=declared.judged,
                links=links or [],
                attributes=attributes or {},
            )
        )

    def gone(self, arn: str) -> None:
        """A resource its reader saw end (a terminated instance): an inventory still listing it is stale."""
        with self._added_lock:
            self.added.add(arn)

    def note(self, text: str) -> None:
        self._collector.note(text)

    def task(self, service: str, region: str, fn: Callable[[], Any]) -> Callable[[], Any]:
        return self._adapter._guarded(self._collector, self._target, region, service, fn)


@dataclass
class AwsAdapter:
    """Scans one or more AWS accounts. Construct with `from_profile` for the usual case."""

    targets: list[AccountTarget]
    regions: list[str] | None = None
    services: tuple[str, ...] = ALL_SERVICES
    max_workers: int = 16
    #: Per-attempt socket timeouts and total attempts (botocore standard retry mode).
    connect_timeout: float = 5
    read_timeout: float = 30
    max_attempts: int = 6
    #: `--inventory`: how every resource of every type is listed (see `inventory`).
    inventory: str = "auto"
    _clients: Clients | None = field(default=None, init=False)
    #: per account: what its inventory listed, and the reader context (which ARNs readers added)
    _listings: list[tuple[inv.Listing, _Context]] = field(default_factory=list, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    provider: str = PROVIDER

    @classmethod
    def from_profile(
        cls,
        profile: str | None = None,
        regions: list[str] | None = None,
        services: tuple[str, ...] = ALL_SERVICES,
        max_workers: int = 16,
        inventory: str = "auto",
    ) -> AwsAdapter:
        return cls(
            targets=[AccountTarget(make_session(profile))],
            regions=regions,
            services=services,
            max_workers=max_workers,
            inventory=inventory,
        )

    # ----------------------------------------------------------------- plumbing

    def _client(self, collector: Collector, session: boto3.Session, service: str, region: str) -> Any:
        with self._lock:
            if self._clients is None:
                self._clients = Clients(
                    collector.count_call,
                    self._stop,
                    self.max_workers,
                    self.connect_timeout,
                    self.read_timeout,
                    self.max_attempts,
                )
        return self._clients.client(session, service, region)

    def _forget(self, session: boto3.Session) -> None:
        if self._clients is not None:
            self._clients.forget(session)

    # ----------------------------------------------------------------- scanning

    def scan(self, collector: Collector) -> None:
        try:
            WorkerPool(self.max_workers, "aws", self._stop).run(
                [lambda t=t: self._plan_account(collector, t) for t in self.targets]  # type: ignore[misc]
            )
        finally:  # interrupted too: what the inventories listed is judged, never dropped
            self._judge_inventory(collector)

    def _judge_inventory(self, collector: Collector) -> None:
        """Every inventoried resource no reader added, judged at its ARN's region (global ARNs at
        `aws-global`) under the kind its ARN names; its category comes from `classes.py`."""
        with self._lock:
            listings, self._listings = self._listings, []
        for listing, ctx in listings:
            owner = ctx._target.owner or Owner("account", ctx.account_id)
            words = inv.WORDS.get(listing.path, listing.path)
            with ctx._added_lock:
                added = set(ctx.added)
            for item in listing.items.values():
                if item.arn in added:
                    continue
                where = Location(item.region or inv.GLOBAL_REGION, detail=f"listed by {words}")
                kind = TYPE_KIND.get(item.type, item.kind)
                if kind in GLOBAL_ARN_KINDS and item.region:  # a regional S3 access point shares the MRAP's type
                    kind = item.kind
                collector.add(
                    Resource(
                        provider=PROVIDER,
                        kind=kind,
                        id=item.arn,
                        name=item.name,
                        owner=owner,
                        locations=[where],
                        tags=dict(item.tags),
                        category=_KINDS[kind].category if kind in _KINDS else "",
                        judged="primary",
                        attributes={"inventory": listing.path},
                    )
                )

    def _guarded(
        self, collector: Collector, target: AccountTarget, region: str, service: str, fn: Callable[[], Any]
    ) -> Callable[[], Any]:
        """Wraps a unit of work so that a failure becomes a gap, never a crash."""

        def run() -> Any:
            label = f"aws:{target.account_id}"
            try:
                more = fn()
                if isinstance(more, list) and more:
                    # Tasks it spawns (one per S3 bucket) are announced before this one is
                    # done, so the progress display never counts work it was not told of.
                    collector.progress.add_work(label, len(more))
                return more
            except ReadOnlyViolation:
                raise
            except Exception as exc:  # noqa: BLE001 - every API failure is a gap
                collector.gap(Gap(PROVIDER, target.account_id, region, service, one_line(exc), error_code(exc)))
                return None
            finally:
                collector.progress.done(label, f"{service} {region or 'global'}")

        return run

    def _plan_account(self, collector: Collector, target: AccountTarget) -> list[Callable[[], Any]]:
        from botocore.exceptions import ConfigParseError, NoCredentialsError

        session = target.session
        home = session.region_name or "us-east-1"
        try:
            if not target.account_id:
                ident = self._client(collector, session, "sts", home).get_caller_identity()
                target.account_id = ident["Account"]
            if target.owner is None:
                target.owner = self._owner(collector, session, home, target.account_id)
        except NoCredentialsError:
            if len(self.targets) == 1:
                raise CredentialsError(NO_CREDENTIALS) from None
            collector.gap(Gap(PROVIDER, target.account_id, "", "sts", "no credentials", "NoCredentials"))
            return []
        except ConfigParseError as exc:  # e.g. a broken shared credentials file
            path = exc.kwargs.get("path", "AWS config")
            raise UserError(f"{path}: cannot parse the AWS credentials/config file") from None
        except Exception as exc:  # noqa: BLE001
            collector.gap(Gap(PROVIDER, target.account_id, "", "sts", one_line(exc), error_code(exc)))
            return []
        regions = self.regions
        if regions is None:
            try:
                ec2 = self._client(collector, session, "ec2", home)
                regions = sorted(r["RegionName"] for r in ec2.describe_regions()["Regions"])
            except Exception as exc:  # noqa: BLE001
                why = f"cannot list enabled regions: {one_line(exc)}"
                collector.gap(Gap(PROVIDER, target.account_id, home, "ec2", why, error_code(exc)))
                return []
        ctx = _Context(self, collector, target)
        chosen = regions
        collector.progress.add_work(f"aws:{target.account_id}", 1)
        task = self._guarded(collector, target, "", "inventory", lambda: self._inventory(collector, ctx, chosen))
        return [task]

    def _inventory(self, collector: Collector, ctx: _Context, regions: list[str]) -> list[Callable[[], Any]]:
        """List the account through its inventory path, record the path per region, report what
        the path cannot see, then plan the readers: everywhere, or (Resource Explorer, which
        says which types it indexes) only where the index saw a resource of theirs."""
        account = ctx.account_id
        mode = self.inventory if set(self.services) >= set(ALL_SERVICES) else "services"

        def client(service: str, region: str) -> Any:
            return ctx.client(service, region)

        try:
            listing = inv.take(mode, client, account, ctx.home, regions, collector.note)
        except ReadOnlyViolation:
            raise
        except Exception as exc:  # noqa: BLE001 - the path asked for failed: a gap, and the readers everywhere
            why = f"{inv.WORDS.get(mode, mode)} failed: {one_line(exc)}"
            collector.gap(Gap(PROVIDER, account, "", "inventory", why, error_code(exc)))
            listing = inv.Listing(f"{mode} (failed)")
        if mode != self.inventory:
            # --services asks a narrower question, as --regions does: what the other services hold is out
            # of the scan's scope (the request and every report say which services), not a gap in it.
            listing.cannot_see = ""
            listing.limits = f"--services: only {', '.join(self.services)} read; no inventory of other services"
        in_scope = {*regions, ""}  # an aggregator index or aggregator lists every region: keep those asked for
        listing.items = {arn: it for arn, it in listing.items.items() if it.region in in_scope}
        with self._lock:
            self._listings.append((listing, ctx))
        for region in regions:
            path = "services" if region in listing.blind else listing.path
            collector.learn("inventory", path, scope=f"{account}/{region}")
        if listing.limits:
            collector.note(f"aws: account {account}: {listing.limits}")
        if listing.cannot_see:
            collector.gap(Gap(PROVIDER, account, "", "inventory", listing.cannot_see, BLIND_SPOT))
        for region, why in sorted(listing.blind.items()):
            collector.gap(Gap(PROVIDER, account, region, "inventory", why, BLIND_SPOT))
        seen = listing.seen()
        ctx.listing, ctx._seen = listing, seen

        def wanted(service: str, region: str) -> bool:
            types = SERVICE_TYPES.get(service, frozenset())
            if listing.indexed is None or region in listing.blind or not types or not types <= listing.indexed:
                return True
            return service not in PRIMARY_ONLY and bool(types & seen.get(region, set()))

        def reading(service: str, region: str) -> Callable[[], Any]:
            read = READERS[service]
            return self._guarded(collector, ctx._target, region, service, lambda: read(ctx, region))

        pairs = [(s, r) for r in regions for s in REGIONAL_SERVICES if s in self.services and wanted(s, r)]
        absent = _offered(ctx._target.session, regions, {s for s, _ in pairs})
        skipped: dict[str, list[str]] = {}
        for s, r in pairs:
            if r in absent.get(s, ()):
                skipped.setdefault(s, []).append(r)
        for service, where in sorted(skipped.items()):
            collector.note(
                f"aws: {service} is not offered in {', '.join(where)} (botocore's endpoint data): not read there"
            )
        tasks = [reading(s, "") for s in GLOBAL_SERVICES if s in self.services]
        return tasks + [reading(s, r) for s, r in pairs if r not in absent.get(s, ())]

    def _owner(self, collector: Collector, session: boto3.Session, region: str, account_id: str) -> Owner:
        """Account name and OU path where Organizations is readable; just the id otherwise."""
        try:
            org = self._client(collector, session, "organizations", region)
            org_id = org.describe_organization()["Organization"]["Id"]
        except Exception:  # noqa: BLE001 - not in an organisation, or not allowed to see it
            return Owner("account", account_id)
        path: list[OwnerNode] = []
        name = ""
        try:
            name = org.describe_account(AccountId=account_id)["Account"].get("Name", "")
            child = account_id
            for _ in range(6):  # OUs nest at most five deep
                parent = org.list_parents(ChildId=child)["Parents"][0]
                if parent["Type"] == "ROOT":
                    break
                ou = org.describe_organizational_unit(OrganizationalUnitId=parent["Id"])["OrganizationalUnit"]
                path.insert(0, OwnerNode("ou", ou["Id"], ou.get("Name", "")))
                child = parent["Id"]
        except Exception:  # noqa: BLE001 - member accounts usually cannot read the tree
            collector.note(
                f"aws: account {account_id}: organisation tree not readable; owner shows the organisation id only"
            )
        return Owner("account", account_id, name, (OwnerNode("organization", org_id), *path))
