"""Azure: every resource in scope, with every location that holds its data.

Scope is a tenant's subscriptions (all the credential can list, a list of ids, or those
under one management group). Inventory comes from one of two sources:

- ``arm``: ``resources.list`` and ``resource_groups.list`` per subscription. The listing
  is authoritative and a subscription that cannot be read answers 403, which becomes a gap.
- ``graph``: one paged Resource Graph query across all subscriptions (the fast path for
  large tenants: one call per 1,000 resources instead of one listing per subscription
  plus one GET per detailed resource). Resource Graph silently leaves out what the caller
  cannot read, so every subscription in scope must show up in the ``ResourceContainers``
  answer, or it becomes a gap.

Where data leaves the primary location (the kinds in `kinds.KINDS`), the detail is read
per resource with ``resources.get_by_id``: the resource's own document where the listing
lacks its ``properties`` (Resource Graph rows carry them, so both paths share one reader per
kind), and its child collections on both paths. Every other resource is judged at its own
location (`kinds.GENERIC`). A copy that another resource holds (a geo-DR partner, an object
replication destination, a diagnostic setting's workspace) is placed where that resource is
once the whole inventory is in, and is unknown when the scan did not see it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...core import Collector
from ...errors import UserError
from ...model import CopyLink, Gap, Location, Owner, Resource
from ..base import WorkerPool, error_code
from . import readers
from .client import ArmClient, connect, describe, plain, reraise_violation
from .kinds import GENERIC, KINDS, ArmKind, Child, kind
from .readers import LocationInfo, Places, Ref, lower

if TYPE_CHECKING:
    from ...geography import Catalog

PROVIDER = "azure"
RESOURCE_GROUP = "microsoft.resources/resourcegroups"

#: Resource Graph for more subscriptions than this in `auto` mode.
GRAPH_THRESHOLD = 10
INVENTORY_MODES = ("auto", "graph", "arm")

_RESOURCES_QUERY = (
    "Resources"
    " | project id, name, type, location, subscriptionId, resourceGroup, kind, sku, zones, tags,"
    " properties = iff(type in~ ({types}), properties, dynamic(null))"
)
_CONTAINERS_QUERY = (
    "ResourceContainers"
    " | where type in~ ('microsoft.resources/subscriptions', 'microsoft.resources/subscriptions/resourcegroups')"
    " | project id, name, type, location, subscriptionId, tenantId, tags, properties"
)
#: Only the subscriptions (and their management-group chains), for the ARM path and the guardrail audit.
SUBSCRIPTIONS_QUERY = (
    "ResourceContainers"
    " | where type =~ 'microsoft.resources/subscriptions'"
    " | project id, name, type, subscriptionId, tenantId, properties"
)


@dataclass
class Subscription:
    id: str
    name: str = ""
    tenant_id: str = ""
    state: str = ""
    owner: Owner | None = None


def owner_of(sub: Subscription, chain: list[dict[str, Any]] | None = None) -> Owner:
    return readers.owner(sub.id, sub.name, sub.tenant_id, chain or [])


def _child_service(child: Child) -> str:
    """What a gap of a child collection's read names: its RBAC resource."""
    return child.read.permission.removesuffix("/read")


def _child_path(child: Child, raw: dict[str, Any]) -> str:
    rid = str(raw["id"])
    parts = rid.split("/")
    return child.path.format(id=rid, group="/".join(parts[:5]), location=lower(raw.get("location")).replace(" ", ""))


@dataclass
class AzureAdapter(ArmClient):
    """Scans Azure subscriptions. Construct with `from_environment` for the usual case."""

    subscriptions: list[str] | None = None
    management_group: str | None = None
    inventory: str = "auto"
    max_workers: int = 8
    catalog: Catalog | None = None
    provider: str = PROVIDER
    _places: Places | None = field(default=None, init=False, repr=False)
    _seen_by_graph: set[str] = field(default_factory=set, init=False, repr=False)
    #: Resources with copies other resources hold (`readers.Ref`), placed once the inventory is in.
    _pending: list[tuple[Resource, list[Ref]]] = field(default_factory=list, init=False, repr=False)
    _pending_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def from_environment(
        cls,
        cloud: str = "public",
        endpoint: str | None = None,
        subscriptions: list[str] | None = None,
        management_group: str | None = None,
        inventory: str = "auto",
        max_workers: int = 8,
    ) -> AzureAdapter:
        """DefaultAzureCredential on the cloud's ARM endpoint (or `endpoint`); see `client.connect`."""
        if inventory not in INVENTORY_MODES:
            raise UserError(f"unknown inventory mode '{inventory}' (known: {', '.join(INVENTORY_MODES)})")
        credential, base, scopes = connect(cloud, endpoint)
        return cls(
            credential=credential,
            endpoint=base,
            credential_scopes=scopes,
            subscriptions=subscriptions,
            management_group=management_group,
            inventory=inventory,
            max_workers=max_workers,
            cloud=cloud,
        )

    @property
    def places(self) -> Places:
        if self._places is None:
            from ...geography import default_catalog

            self._places = Places(self.catalog or default_catalog())
        return self._places

    # ----------------------------------------------------------------- scanning

    def scan(self, collector: Collector) -> None:
        self._stop.clear()
        self._places = None
        self._pending = []
        try:
            self._scan(collector)
        finally:  # Ctrl-C or a deadline: what was read is still placed and kept
            self._settle(collector)
            self._canonical_links(collector)

    def _scan(self, collector: Collector) -> None:
        self.check_credential()
        subs = self.scope(collector)
        if not subs:
            return
        self.learn_locations(collector, subs)
        graph = self.inventory == "graph" or (self.inventory == "auto" and len(subs) > GRAPH_THRESHOLD)
        containers = self.containers(collector, subs, _CONTAINERS_QUERY if graph else SUBSCRIPTIONS_QUERY)
        if graph and containers is not None:
            self._scan_graph(collector, subs, containers)
        else:
            if graph:
                collector.note("azure: Resource Graph not readable; listed every subscription through ARM instead")
            self._scan_arm(collector, subs)
        self._settle(collector)
        self._place_unknown(collector)

    def list_locations(self, collector: Collector) -> list[LocationInfo]:
        """What the first readable subscription in scope lists as locations (`regions --check`)."""
        self.check_credential()
        subs = self.scope(collector)
        if subs:
            self.learn_locations(collector, subs)
        return list(self.places.locations.values())

    def scope(self, collector: Collector) -> list[Subscription]:
        """The subscriptions to read: listed, named (`--subscription`) or under a management group."""
        sc = self.client(collector, "subscriptions")
        listed: dict[str, Subscription] = {}
        try:
            for s in sc.subscriptions.list():
                sid = str(s.subscription_id or "")
                if sid:
                    listed[sid.lower()] = Subscription(sid, s.display_name or "", s.tenant_id or "", str(s.state or ""))
        except Exception as exc:  # noqa: BLE001 - a scan that cannot list its scope is a gap
            reraise_violation(exc)
            collector.gap(Gap(PROVIDER, "", "", "Microsoft.Resources/subscriptions", describe(exc), error_code(exc)))
            if not self.subscriptions:
                return []
        if self.management_group and not self.subscriptions:
            return self._under_management_group(collector, listed)
        if self.subscriptions:
            chosen = []
            for sid in self.subscriptions:
                sub = listed.get(sid.lower())
                if sub is None:
                    if listed:
                        collector.gap(
                            Gap(
                                PROVIDER,
                                sid,
                                "",
                                "Microsoft.Resources/subscriptions",
                                "subscription not visible to this credential",
                                "SubscriptionNotFound",
                            )
                        )
                        continue
                    sub = Subscription(sid)
                chosen.append(sub)
            return chosen
        if not listed:
            collector.note("azure: the credential can list no subscription")
        return sorted(listed.values(), key=lambda s: s.id)

    def _under_management_group(self, collector: Collector, listed: dict[str, Subscription]) -> list[Subscription]:
        assert self.management_group is not None
        try:
            under = {
                lower(r.get("subscriptionId"))
                for r in self.graph_rows(collector, SUBSCRIPTIONS_QUERY, None, self.management_group)
                if lower(r.get("type")) == "microsoft.resources/subscriptions"
            }
        except Exception as exc:  # noqa: BLE001
            reraise_violation(exc)
            collector.gap(
                Gap(
                    PROVIDER,
                    self.management_group,
                    "",
                    "Microsoft.ResourceGraph",
                    f"cannot list the subscriptions under management group {self.management_group}: {describe(exc)}",
                    error_code(exc),
                )
            )
            return []
        chosen = [listed[s] if s in listed else Subscription(s) for s in sorted(under)]
        if not chosen:
            collector.note(f"azure: management group {self.management_group} holds no readable subscription")
        return chosen

    def learn_locations(self, collector: Collector, subs: list[Subscription]) -> None:
        """Location metadata from the first subscription that answers (it is the same tenant-wide)."""
        sc = self.client(collector, "subscriptions")
        for sub in subs[:3]:
            try:
                for loc in sc.subscriptions.list_locations(sub.id):
                    self.places.learn(readers.location_info(loc))
                return
            except Exception as exc:  # noqa: BLE001 - the catalog still knows every documented region
                reraise_violation(exc)
                collector.note(f"azure: location metadata of subscription {sub.id} not readable ({error_code(exc)})")

    def containers(self, collector: Collector, subs: list[Subscription], query: str) -> list[dict[str, Any]] | None:
        """Subscriptions' management-group chains (and resource groups) from Resource Graph; sets owners."""
        try:
            rows = list(self.graph_rows(collector, query, [s.id for s in subs], self.management_group))
        except Exception as exc:  # noqa: BLE001 - owners then show the tenant only
            reraise_violation(exc)
            collector.note(
                f"azure: management-group hierarchy not readable through Resource Graph ({error_code(exc)}); "
                "owners show the tenant only"
            )
            for sub in subs:
                sub.owner = owner_of(sub)
            return None
        chains: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            if lower(row.get("type")) == "microsoft.resources/subscriptions":
                sid = lower(row.get("subscriptionId"))
                chains[sid] = list((row.get("properties") or {}).get("managementGroupAncestorsChain") or [])
                for sub in subs:
                    if sub.id.lower() == sid and not sub.tenant_id:
                        sub.tenant_id = str(row.get("tenantId") or "")
        for sub in subs:
            sub.owner = owner_of(sub, chains.get(sub.id.lower(), []))
        self._seen_by_graph = set(chains)
        return rows

    # ----------------------------------------------------------------- graph path

    def _scan_graph(self, collector: Collector, subs: list[Subscription], containers: list[dict[str, Any]]) -> None:
        by_id = {s.id.lower(): s for s in subs}
        for sid, sub in by_id.items():
            if sid not in self._seen_by_graph:
                collector.gap(
                    Gap(
                        PROVIDER,
                        sub.id,
                        "",
                        "Microsoft.ResourceGraph",
                        "subscription not visible to Resource Graph (no read access to it?)",
                        "NotVisible",
                    )
                )
        collector.progress.add_work("azure:graph", 1)
        for row in containers:
            if lower(row.get("type")) == "microsoft.resources/subscriptions/resourcegroups":
                owner = by_id.get(lower(row.get("subscriptionId")))
                if owner is not None:
                    collector.add(self._resource_group(row, owner))
        types = ", ".join(f"'{k.name}'" for k in KINDS if k.graph_properties)
        children: list[Callable[[], None]] = []
        try:
            for row in self.graph_rows(collector, _RESOURCES_QUERY.format(types=types), [s.id for s in subs]):
                found = by_id.get(lower(row.get("subscriptionId")))
                if found is None:
                    continue
                k = kind(lower(row.get("type")))
                if _wants_detail(k, row, graph=True):
                    children.append(lambda r=row, s=found, k=k: self._detailed(collector, r, s, k, graph=True))  # type: ignore[misc]
                else:
                    self._record(collector, row, found)
        except Exception as exc:  # noqa: BLE001 - what was read so far stays collected
            reraise_violation(exc)
            collector.gap(Gap(PROVIDER, "", "", "Microsoft.ResourceGraph", describe(exc), error_code(exc)))
        finally:
            collector.progress.done("azure:graph", "Resource Graph")
        self._run(collector, children)

    # ----------------------------------------------------------------- ARM path

    def _scan_arm(self, collector: Collector, subs: list[Subscription]) -> None:
        detail: list[Callable[[], None]] = []
        detail_lock = threading.Lock()

        def list_subscription(sub: Subscription) -> None:
            # Per subscription too, so that a scan stopped by its deadline names the unread ones.
            collector.progress.add_work(f"azure:{sub.id}", 1)
            try:
                _list_subscription(sub)
            finally:
                collector.progress.done(f"azure:{sub.id}", "resources")

        def _list_subscription(sub: Subscription) -> None:
            if sub.owner is None:
                sub.owner = owner_of(sub)
            rm = self.client(collector, "resources", sub.id)
            try:
                for rg in rm.resource_groups.list():
                    collector.add(self._resource_group(plain(rg), sub))
                for item in rm.resources.list():
                    raw = plain(item)
                    k = kind(lower(raw.get("type")))
                    if _wants_detail(k, raw, graph=False):
                        with detail_lock:
                            detail.append(lambda raw=raw, k=k: self._detailed(collector, raw, sub, k, graph=False))  # type: ignore[misc]
                    else:
                        self._record(collector, raw, sub)
            except Exception as exc:  # noqa: BLE001 - one unreadable subscription is a gap, not the end
                reraise_violation(exc)
                collector.gap(Gap(PROVIDER, sub.id, "", "Microsoft.Resources", describe(exc), error_code(exc)))

        self._run(collector, [lambda s=s: list_subscription(s) for s in subs], label="subscriptions")  # type: ignore[misc]
        self._run(collector, detail)

    def _detailed(self, collector: Collector, raw: dict[str, Any], sub: Subscription, k: ArmKind, graph: bool) -> None:
        """The kind's detail reads: its own document where the inventory lacks it, then each child
        collection that can hold anything. A failed read is a gap; the resource still counts, with
        what was read."""
        if _needs_document(k, raw, graph):
            try:
                full = self.get_by_id(collector, raw["id"], k.api_version, sub.id)
                raw = {**raw, "properties": full.get("properties") or {}}
            except Exception as exc:  # noqa: BLE001
                reraise_violation(exc)
                collector.gap(Gap(PROVIDER, sub.id, lower(raw.get("location")), k.name, describe(exc), error_code(exc)))
                raw = {**raw, "properties": None}
        for child in k.children:
            if not readers.predicate(child.when)(raw):
                continue
            try:
                items = list(self.get_collection(collector, _child_path(child, raw), child.api_version))
            except Exception as exc:  # noqa: BLE001
                reraise_violation(exc)
                collector.gap(
                    Gap(
                        PROVIDER,
                        sub.id,
                        lower(raw.get("location")),
                        _child_service(child),
                        describe(exc),
                        error_code(exc),
                    )
                )
                continue
            raw = {**raw, child.key: items}
        self._record(collector, raw, sub)

    def _run(self, collector: Collector, tasks: list[Callable[[], None]], label: str = "detail") -> None:
        """The tasks on the scan's worker pool; Ctrl-C stops it (the guard raises ScanCancelled)."""
        if not tasks:
            return
        collector.progress.add_work(f"azure:{label}", len(tasks))

        def counted(task: Callable[[], None]) -> Callable[[], None]:
            def run() -> None:
                task()
                collector.progress.done(f"azure:{label}", label)

            return run

        WorkerPool(self.max_workers, "azure", stop=self._stop).run([counted(t) for t in tasks])

    # ----------------------------------------------------------------- records

    def _resource_group(self, raw: dict[str, Any], sub: Subscription) -> Resource:
        k = kind(RESOURCE_GROUP)
        return Resource(
            provider=PROVIDER,
            kind=RESOURCE_GROUP,
            id=str(raw["id"]),
            name=str(raw.get("name", "")),
            owner=sub.owner or owner_of(sub),
            locations=[f for f in readers.reader(k.reader)(raw, self.places) if not isinstance(f, Ref)],
            tags=dict(raw.get("tags") or {}),
            category=k.category,
            judged=k.judged,
        )

    def _record(self, collector: Collector, raw: dict[str, Any], sub: Subscription) -> None:
        """The resource into the collector, or, with copies other resources hold, into `_pending`."""
        resource, refs = self._resource(raw, sub)
        if refs:
            with self._pending_lock:
                self._pending.append((resource, refs))
        else:
            collector.add(resource)

    def _resource(self, raw: dict[str, Any], sub: Subscription) -> tuple[Resource, list[Ref]]:
        name = lower(raw.get("type"))
        k = kind(name)
        attributes: dict[str, Any] = {
            "resource_group": readers.resource_group_of(str(raw["id"])) or raw.get("resourceGroup", "")
        }
        sku = readers.sku_of(raw)
        if sku:
            attributes["sku"] = sku
        found = readers.locate(k.reader, raw, self.places)
        resource = Resource(
            provider=PROVIDER,
            kind=name,
            id=str(raw["id"]),
            name=str(raw.get("name", "")),
            owner=sub.owner or owner_of(sub),
            locations=[f for f in found if not isinstance(f, Ref)],
            tags={str(key): str(value) for key, value in (raw.get("tags") or {}).items()},
            attributes=attributes,
            category="" if k is GENERIC else k.category,  # the generic path: classified by its ARM type
            judged=k.judged,
            links=readers.copy_links(raw),
        )
        return resource, [f for f in found if isinstance(f, Ref)]

    def _settle(self, collector: Collector) -> None:
        """Place the copies other resources hold where those resources are (their primary location),
        now that the inventory is in; one the scan did not see is unknown. A copy in the resource's
        own region adds nothing; copies in one region and role are one location."""
        with self._pending_lock:
            pending, self._pending = self._pending, []
        if not pending:
            return
        where: dict[str, set[str | None]] = {}
        ids: dict[str, set[str]] = {}
        for r in [*(r for r in collector.collected() if r.provider == PROVIDER), *(r for r, _ in pending)]:
            home = next((loc.region for loc in r.locations if loc.role in ("primary", "global")), None)
            for key in (r.id.lower(), f"{r.kind}:{r.name.lower()}"):
                where.setdefault(key, set()).add(home)
                ids.setdefault(key, set()).add(r.id)
        for resource, refs in pending:
            home = resource.locations[0].region if resource.locations else None
            for ref in refs:
                regions = where.get(ref.target, set())
                found = len(regions) == 1 and len(ids.get(ref.target, ())) == 1  # a shared name is no answer
                loc = readers.settle(ref, next(iter(regions)) if found else None, found)
                if loc.region is None or loc.region != home:
                    _merge(resource.locations, loc)
                # `copies` follows the copy to the resource holding it (or lists the name it could not find)
                target = next(iter(ids[ref.target])) if found else ref.target
                resource.links.append(CopyLink("copies-to", target, ref.role, ref.detail))
            collector.add(resource)

    def _canonical_links(self, collector: Collector) -> None:
        """ARM ids are case-insensitive and ARM spells one id differently in different places
        (a snapshot's `sourceResourceId`, the disk's own `id`): a link names the target as its
        own record does, so `copies` finds it."""
        spelled = {r.id.lower(): r.id for r in collector.collected() if r.provider == PROVIDER}

        def respell(r: Resource) -> None:
            if r.provider == PROVIDER and r.links:
                r.links[:] = [
                    CopyLink(x.relation, spelled.get(x.target.lower(), x.target), x.how, x.detail) for x in r.links
                ]

        collector.rewrite(respell)

    def _place_unknown(self, collector: Collector) -> None:
        """Places for locations the catalog lacks, from the subscription's metadata (with a note),
        for this scan only (`Collector.learn_place`)."""
        from .catalog import place_from_metadata

        catalog = self.places.catalog
        codes = {
            loc.region
            for r in collector.collected()
            if r.provider == PROVIDER
            for loc in r.locations
            if loc.region and not catalog.knows(PROVIDER, loc.region)
        }
        cloud = {"public": "AzureCloud", "usgov": "AzureUSGovernment", "china": "AzureChinaCloud"}[self.cloud]
        for code in sorted(codes):
            info = self.places.locations.get(code)
            if info is None:
                continue  # the rules flag it as unknown (fail closed)
            place, note = place_from_metadata(
                info.name,
                info.display_name,
                info.physical_location,
                info.geography_group,
                info.paired_region,
                info.region_type,
                cloud=cloud,
                catalog=catalog,
            )
            collector.learn_place(place)
            if note:
                collector.note(note)


def _needs_document(k: ArmKind, raw: dict[str, Any], graph: bool) -> bool:
    """The resource's own GET: where its reader needs `properties` the inventory did not carry."""
    if not k.api_version or (graph and k.graph_properties):
        return False
    return readers.predicate(k.get_when)(raw)


def _wants_detail(k: ArmKind, raw: dict[str, Any], graph: bool) -> bool:
    """Any detail read at all. On the ARM path a child's `when` may need the document first, so a
    kind with children always gets its detail task there (which then reads only what applies)."""
    if k is GENERIC:
        return False
    if _needs_document(k, raw, graph):
        return True
    if not graph:
        return bool(k.children)
    return any(readers.predicate(c.when)(raw) for c in k.children)


def _merge(locations: list[Location], new: Location) -> None:
    """Add a location, or fold its detail into the one already there for the same region and role."""
    for i, loc in enumerate(locations):
        if (loc.region, loc.role, loc.zone) == (new.region, new.role, new.zone):
            if new.detail and new.detail not in loc.detail:
                locations[i] = Location(
                    loc.region, loc.role, loc.zone, f"{loc.detail}; {new.detail}" if loc.detail else new.detail
                )
            return
    locations.append(new)
