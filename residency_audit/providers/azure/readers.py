"""Where an Azure resource keeps its data, from its ARM document: one reader per kind
(`kinds.ArmKind.reader`), pure functions of what ARM or Resource Graph answered.

A reader gets the resource as listed (`id`, `type`, `location`, `sku`, `zones`...), with
the `properties` its detail read or its Resource Graph row gave (None when that read
failed: the resource still counts, where the listing put it) and, for a kind with child
collections, each collection under its key (`replicationLinks`, `diagnosticSettings`...;
absent when it was not read or could not be). Location names are codes (`westeurope`) or
display names (`West Europe`); `Places` turns both into codes and knows each region's pair
(from the subscription's location metadata, else the catalog).

A copy held by another resource (a geo-DR partner namespace, an object replication's
destination account, the workspace a diagnostic setting sends logs to) is a `Ref`: the scan
places it where that resource is once the whole inventory is in (`settle`), or, when that
resource is not in the scan, at an unknown location (fail closed).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...model import CopyLink, Location, Owner, OwnerNode

if TYPE_CHECKING:
    from ...geography import Catalog

PROVIDER = "azure"

GEO_STORAGE_SKUS = frozenset({"standard_grs", "standard_ragrs", "standard_gzrs", "standard_ragzrs"})
#: Replication types (storage SKUs without their tier) that keep a copy in the paired region.
GEO_REPLICATION = frozenset({"grs", "ragrs", "gzrs", "ragzrs"})

#: Regions whose Key Vaults are not replicated to their pair although they have one (zone-redundant
#: in the region instead): https://learn.microsoft.com/en-us/azure/key-vault/general/disaster-recovery-guidance
KEY_VAULT_IN_REGION = frozenset({"brazilsouth", "westus3"})


def lower(value: Any) -> str:
    return str(value or "").strip().lower()


def geo_redundant(value: Any) -> bool:
    """Whether a redundancy setting keeps a copy in the paired region: `Geo`/`GeoZone` (SQL backup
    storage), `GeoRedundant` (backup vaults), `Enabled` (PostgreSQL/MySQL `geoRedundantBackup`),
    GRS/RA-GRS/GZRS/RA-GZRS (storage), or true. The gate's extractors and the live readers share it."""
    if value is True:
        return True
    if not isinstance(value, str):
        return False
    text = lower(value).replace("-", "").replace("_", "")
    return text.startswith("geo") or text.removeprefix("standard") in GEO_REPLICATION or text == "enabled"


def last(resource_id: Any) -> str:
    """The name at the end of an ARM id (or the value itself)."""
    return str(resource_id or "").rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class Ref:
    """A copy kept by another resource, placed where that resource is once the scan is in.

    `target` is its ARM id (lower case), or `type:name` for a globally unique name (a storage
    account, a messaging namespace) where only the name is given.
    """

    target: str
    role: str
    detail: str


Found = Location | Ref


@dataclass
class LocationInfo:
    """What a subscription's `list_locations` says about a location."""

    name: str
    display_name: str = ""
    physical_location: str = ""
    geography_group: str = ""
    paired_region: str = ""
    region_type: str = ""


def location_info(loc: Any) -> LocationInfo:
    """A `Location` model of azure-mgmt-resource-subscriptions, as the fields we use."""
    meta = loc.metadata
    paired = [p.name for p in (meta.paired_region or []) if p.name] if meta else []
    return LocationInfo(
        name=lower(loc.name),
        display_name=str(loc.display_name or ""),
        physical_location=str(meta.physical_location or "") if meta else "",
        geography_group=str(meta.geography_group or "") if meta else "",
        paired_region=lower(paired[0]) if paired else "",
        region_type=str(meta.region_type or "") if meta else "",
    )


@dataclass
class Places:
    """Location names to codes, and each region's pair, for one scan."""

    catalog: Catalog
    locations: dict[str, LocationInfo] = field(default_factory=dict)
    display: dict[str, str] = field(default_factory=dict)

    def learn(self, info: LocationInfo) -> None:
        self.locations[info.name] = info
        if info.display_name:
            self.display[lower(info.display_name)] = info.name

    def code(self, name: Any) -> str | None:
        """A location code from a code or a display name ("East US" -> "eastus")."""
        text = lower(name)
        if not text:
            return None
        if text in self.locations:
            return text
        return self.display.get(text) or text.replace(" ", "")

    def paired(self, code: str | None) -> str | None:
        """The pair the subscription's metadata names, else the catalog's."""
        if not code:
            return None
        info = self.locations.get(code)
        if info and info.paired_region:
            return info.paired_region
        return self.catalog.resolve(PROVIDER, code).paired_region or None

    def paired_location(self, where: str | None, role: str, crr: bool, what: str) -> Location:
        paired = self.paired(where)
        detail = f"{what}: geo-redundant copy in the paired region of {where}"
        if crr:
            detail += ", readable there (cross-region restore)"
        if not paired:
            detail += " (paired region unknown)"
        return Location(paired, role=role, detail=detail)


def owner(subscription: str, name: str, tenant: str, chain: list[dict[str, Any]]) -> Owner:
    """subscription -> management groups (root first) -> tenant.

    The tenant root group has the tenant's id; it is shown once, as the tenant.
    """
    path: list[OwnerNode] = [OwnerNode("tenant", tenant)] if tenant else []
    for mg in reversed(chain):  # the chain runs from the immediate parent up to the root
        mg_name = str(mg.get("name", ""))
        if mg_name and mg_name.lower() != tenant.lower():
            path.append(OwnerNode("management-group", mg_name, str(mg.get("displayName", ""))))
    return Owner("subscription", subscription, name, tuple(path))


def resource_group_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    return parts[4] if len(parts) > 4 and parts[3].lower() == "resourcegroups" else ""


def sku_of(raw: dict[str, Any]) -> str:
    return str((raw.get("sku") or {}).get("name") or "")


# ------------------------------------------------------------------------------ readers


def _props(raw: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = raw.get("properties") or {}
    return props


def _zone(raw: dict[str, Any]) -> str | None:
    zones = [str(z) for z in raw.get("zones") or []]
    return zones[0] if len(zones) == 1 else None


def generic(raw: dict[str, Any], at: Places) -> list[Location]:
    """Its own location (and zone, when it has exactly one); `global` for a global resource."""
    where = at.code(raw.get("location"))
    return [Location(where, role="global" if where == "global" else "primary", zone=_zone(raw))]


def resource_group(raw: dict[str, Any], at: Places) -> list[Location]:
    return [Location(at.code(raw.get("location")), detail="resource group metadata")]


def storage_account(raw: dict[str, Any], at: Places) -> list[Found]:
    """A geo-redundant SKU keeps a secondary: the one reported, else the primary's pair. An object
    replication policy whose source is this account copies its blobs to the destination account."""
    props, sku = _props(raw), sku_of(raw)
    primary = at.code(props.get("primaryLocation")) or at.code(raw.get("location"))
    locations: list[Found] = [Location(primary)]
    if sku.lower() in GEO_STORAGE_SKUS:
        secondary = at.code(props.get("secondaryLocation"))
        if secondary:
            locations.append(Location(secondary, role="secondary", detail=f"{sku} geo-redundant secondary"))
        else:
            paired = at.paired(primary)
            locations.append(
                Location(
                    paired,
                    role="secondary",
                    detail=f"{sku} geo-redundant secondary: the paired region of {primary}"
                    + ("" if paired else " (unknown)"),
                )
            )
    me = lower(raw.get("name"))  # account names are unique in Azure: a name or an id's last part is the account
    for policy in raw.get("objectReplicationPolicies") or []:
        p = policy.get("properties") or {}
        source, dest = lower(p.get("sourceAccount")), lower(p.get("destinationAccount"))
        if last(source) == me and dest and last(dest) != me:
            target = dest if "/" in dest else f"microsoft.storage/storageaccounts:{dest}"
            why = (
                f"object replication policy {p.get('policyId') or last(policy.get('id'))}: blobs copied to {last(dest)}"
            )
            locations.append(Ref(target, "replica", why))
    return locations


def cosmos_account(raw: dict[str, Any], at: Places) -> list[Location]:
    """Every region of the account (its locations, write and read regions) as a replica."""
    locations = generic(raw, at)
    seen = {locations[0].region}
    props = _props(raw)
    for key in ("locations", "writeLocations", "readLocations"):
        for loc in props.get(key) or []:
            code = at.code(loc.get("locationName"))
            if code and code not in seen:
                seen.add(code)
                prio = loc.get("failoverPriority")
                locations.append(
                    Location(
                        code,
                        role="replica",
                        detail="Cosmos DB region" + (f" (failover priority {prio})" if prio is not None else ""),
                    )
                )
    return locations


def _backup_storage(raw: dict[str, Any], where: str | None, at: Places, what: str) -> list[Location]:
    """SQL backup storage redundancy: Geo and GeoZone keep the backups in the paired region.
    Geo is the default, so a document without the setting counts as Geo; no document (its
    read failed, a gap says so) adds nothing."""
    props = raw.get("properties")
    if props is None:
        return []
    values = [
        str(v)
        for v in (props.get("currentBackupStorageRedundancy"), props.get("requestedBackupStorageRedundancy"))
        if v
    ]
    if values and not any(geo_redundant(v) for v in values):
        return []
    shown = "/".join(dict.fromkeys(values)) or "Geo (default)"
    return [at.paired_location(where, "backup", False, f"{what} backups ({shown} backup storage)")]


def sql_server(raw: dict[str, Any], at: Places) -> list[Location]:
    """Each failover group replicates its databases to its partner servers."""
    locations = generic(raw, at)
    home = locations[0].region
    for group in raw.get("failoverGroups") or []:
        p = group.get("properties") or {}
        databases = ", ".join(last(d) for d in p.get("databases") or [])
        for partner in p.get("partnerServers") or []:
            where = at.code(partner.get("location"))
            if where != home:
                why = f"failover group {group.get('name', '')}: partner server {last(partner.get('id'))}"
                locations.append(Location(where, role="replica", detail=why + (f" ({databases})" if databases else "")))
    return locations


def sql_database(raw: dict[str, Any], at: Places) -> list[Location]:
    """Its server's location, each geo-replication partner as a replica, and geo backups."""
    locations = generic(raw, at)
    for link in raw.get("replicationLinks") or []:
        props = link.get("properties") or {}
        partner = at.code(props.get("partnerLocation"))
        if partner and partner != locations[0].region:
            locations.append(
                Location(
                    partner,
                    role="replica",
                    detail=f"geo-replica {props.get('partnerServer', '')}/"
                    f"{props.get('partnerDatabase', '')} ({props.get('linkType', 'GEO')})",
                )
            )
    return locations + _backup_storage(raw, locations[0].region, at, "SQL database")


def sql_managed_instance(raw: dict[str, Any], at: Places) -> list[Location]:
    """Geo backups in the pair, and the partner region of each failover group it is in."""
    locations = generic(raw, at)
    home = locations[0].region
    locations += _backup_storage(raw, home, at, "SQL managed instance")
    me = lower(raw.get("id"))
    for group in raw.get("instanceFailoverGroups") or []:
        p = group.get("properties") or {}
        pairs = p.get("managedInstancePairs") or []
        if not any(
            me in (lower(x.get("primaryManagedInstanceId")), lower(x.get("partnerManagedInstanceId"))) for x in pairs
        ):
            continue
        for region in p.get("partnerRegions") or []:
            where = at.code(region.get("location"))
            if where != home:
                why = f"instance failover group {group.get('name', '')} ({region.get('replicationRole', 'partner')})"
                locations.append(Location(where, role="replica", detail=why))
    return locations


def flexible_server(raw: dict[str, Any], at: Places) -> list[Location]:
    """PostgreSQL and MySQL flexible servers: geo-redundant backup in the pair; a source server's
    read replicas (each a server of its own, judged at its own location too) as replicas."""
    locations = generic(raw, at)
    home = locations[0].region
    props = raw.get("properties")
    if props is not None:
        backup = props.get("backup") or {}
        if geo_redundant(backup.get("geoRedundantBackup")):
            locations.append(at.paired_location(home, "backup", False, "geo-redundant backup"))
        source = props.get("sourceServerResourceId")
        if source:
            locations[0] = Location(home, zone=locations[0].zone, detail=f"read replica of {last(source)}")
    for replica in raw.get("replicas") or []:
        where = at.code(replica.get("location"))
        if where != home and lower(replica.get("id")) != lower(raw.get("id")):
            role = (replica.get("properties") or {}).get("replicationRole", "")
            locations.append(
                Location(where, role="replica", detail=f"read replica {replica.get('name', '')} {role}".strip())
            )
    return locations


def container_registry(raw: dict[str, Any], at: Places) -> list[Location]:
    """Every geo-replication is a full copy of the registry (the home region's is its own)."""
    locations = generic(raw, at)
    for replication in raw.get("replications") or []:
        where = at.code(replication.get("location"))
        if where != locations[0].region:
            locations.append(Location(where, role="replica", detail=f"geo-replication {replication.get('name', '')}"))
    return locations


def redis_cache(raw: dict[str, Any], at: Places) -> list[Location]:
    """Geo-replication links: the linked cache holds a copy (the primary's data, either way round)."""
    locations = generic(raw, at)
    for link in raw.get("linkedServers") or []:
        p = link.get("properties") or {}
        where = at.code(p.get("linkedRedisCacheLocation"))
        if where != locations[0].region:
            why = f"geo-replication link to {last(p.get('linkedRedisCacheId')) or link.get('name', '')}"
            locations.append(Location(where, role="replica", detail=f"{why} ({p.get('serverRole', 'linked')})"))
    return locations


def messaging_namespace(raw: dict[str, Any], at: Places) -> list[Found]:
    """Event Hubs and Service Bus geo-disaster-recovery aliases: the partner namespace holds the
    entities (metadata) and takes the traffic after a failover; it is wherever that namespace is."""
    locations: list[Found] = list(generic(raw, at))
    kind = lower(raw.get("type"))
    for alias in raw.get("disasterRecoveryConfigs") or []:
        p = alias.get("properties") or {}
        partner = lower(p.get("partnerNamespace"))
        if partner:
            target = partner if "/" in partner else f"{kind}:{partner}"
            why = f"geo-DR alias {alias.get('name', '')} ({p.get('role', '')}): partner namespace {last(partner)}"
            locations.append(Ref(target, "replica", why))
    return locations


_BLOB_HOST = re.compile(r"([a-z0-9]{3,24})\.blob\.core\.[a-z0-9.]+")
_ACCOUNT_NAME = re.compile(r"(?:^|;)\s*AccountName=([A-Za-z0-9]{3,24})\s*(?:;|$)", re.I)


def storage_account_of(url: Any) -> str:
    """The storage account a backup URL or connection string names (never the URL itself: it may
    carry a SAS signature or an account key)."""
    text = str(url or "").strip()
    found = _ACCOUNT_NAME.search(text)
    if found:
        return found.group(1).lower()
    try:
        host = (urllib.parse.urlsplit(text).hostname or "").lower()
    except ValueError:
        return ""
    match = _BLOB_HOST.fullmatch(host)
    return match.group(1) if match else ""


def web_site(raw: dict[str, Any], at: Places) -> list[Found]:
    """Each backup is a copy of the app (and its linked databases) in a storage account."""
    locations: list[Found] = list(generic(raw, at))
    accounts: dict[str, str] = {}
    unnamed = 0
    for backup in raw.get("backups") or []:
        account = storage_account_of((backup.get("properties") or {}).get("storageAccountUrl"))
        if account:
            accounts.setdefault(account, str((backup.get("properties") or {}).get("name") or backup.get("name", "")))
        else:
            unnamed += 1
    for account, example in sorted(accounts.items()):
        why = f"App Service backup {example} in storage account {account}"
        locations.append(Ref(f"microsoft.storage/storageaccounts:{account}", "backup", why))
    if unnamed:
        locations.append(
            Location(None, role="backup", detail=f"{unnamed} App Service backup(s) in an unnamed storage account")
        )
    return locations


def log_analytics_workspace(raw: dict[str, Any], at: Places) -> list[Location]:
    """Logs live where the workspace is; workspace replication keeps a copy in its replication location."""
    locations = generic(raw, at)
    replication = _props(raw).get("replication") or {}
    if replication.get("enabled") is True:
        where = at.code(replication.get("location"))
        locations.append(Location(where, role="replica", detail="workspace replication (configuration and logs)"))
    return locations


def recovery_services_vault(raw: dict[str, Any], at: Places) -> list[Location]:
    locations = generic(raw, at)
    settings = _props(raw).get("redundancySettings") or {}
    geo = lower(settings.get("standardTierStorageRedundancy")) == "georedundant"
    crr = lower(settings.get("crossRegionRestore")) == "enabled"
    if geo or crr:
        locations.append(at.paired_location(locations[0].region, "backup", crr, "Recovery Services vault"))
    return locations


def backup_vault(raw: dict[str, Any], at: Places) -> list[Location]:
    locations = generic(raw, at)
    props = _props(raw)
    geo = any(lower(s.get("type")) == "georedundant" for s in props.get("storageSettings") or [])
    crr_state = (props.get("featureSettings") or {}).get("crossRegionRestoreSettings") or {}
    crr = lower(crr_state.get("state")) == "enabled"
    if geo or crr:
        locations.append(at.paired_location(locations[0].region, "backup", crr, "backup vault"))
    return locations


def snapshot(raw: dict[str, Any], at: Places) -> list[Location]:
    source = str((_props(raw).get("creationData") or {}).get("sourceResourceId") or "")
    detail = f"snapshot of {source.rsplit('/', 1)[-1]}" if source else "snapshot"
    return [Location(at.code(raw.get("location")), role="backup", zone=_zone(raw), detail=detail)]


def key_vault_replica(catalog: Catalog, region: str | None) -> Location | None:
    """Key Vault replicates its contents to the region's pair. A region Microsoft documents as
    unpaired (Italy North, Poland Central...), and Brazil South and West US 3, keep them in the
    region (zone-redundant); a region whose pair is not documented fails closed.
    The gate (`terraform._key_vault`) and the live scan both judge a vault by this."""
    if region is None:
        return None
    place = catalog.resolve(PROVIDER, region)
    if not place.known:
        return Location(None, role="secondary", detail="Key Vault replica: pair of an unknown region")
    if region in KEY_VAULT_IN_REGION or catalog.unpaired(PROVIDER, region):
        return None
    if place.paired_region:
        why = f"Key Vault replicates its contents: paired region of {region}"
        return Location(place.paired_region, role="secondary", detail=why)
    return Location(None, role="secondary", detail=f"Key Vault replica: no documented pair for {region} (unknown)")


def key_vault(raw: dict[str, Any], at: Places) -> list[Location]:
    locations = generic(raw, at)
    replica = key_vault_replica(at.catalog, locations[0].region)
    return locations if replica is None else [*locations, replica]


# ------------------------------------------------------------------------------ copies elsewhere

#: Where a diagnostic setting sends: its property, and what the destination is.
_DESTINATIONS = (
    ("workspaceId", "Log Analytics workspace"),
    ("storageAccountId", "storage account"),
    ("eventHubAuthorizationRuleId", "event hub namespace"),
    ("serviceBusRuleId", "Service Bus namespace"),
    ("marketplacePartnerId", "partner resource"),
)


def diagnostic_copies(raw: dict[str, Any]) -> list[Ref]:
    """Each destination of a diagnostic setting that sends anything holds a copy of the resource's logs."""
    out: list[Ref] = []
    for setting in raw.get("diagnosticSettings") or []:
        p = setting.get("properties") or {}
        streams = [*(p.get("logs") or []), *(p.get("metrics") or [])]
        if streams and not any(s.get("enabled") is not False for s in streams):
            continue  # every category switched off: it sends nothing
        for key, what in _DESTINATIONS:
            target = lower(p.get(key))
            if target:
                target = target.split("/authorizationrules/", 1)[0]  # an event hub rule -> its namespace
                why = f"diagnostic setting {setting.get('name', '')}: logs sent to {what} {last(target)}"
                out.append(Ref(target, "replica", why))
    return out


def copy_links(raw: dict[str, Any]) -> list[CopyLink]:
    """What this resource was copied from, as ARM says it (`copies` follows these): a snapshot or
    a disk created from another disk or snapshot, a read replica's source server, a database
    copy's source database, and each geo-replication partner database."""
    props = _props(raw)
    links: list[CopyLink] = []
    source = (props.get("creationData") or {}).get("sourceResourceId")
    if isinstance(source, str) and source:
        how = "snapshot" if lower(raw.get("type")).endswith("/snapshots") else "created from"
        links.append(CopyLink("copy-of", source, how))
    for key, how in (("sourceServerResourceId", "read replica"), ("sourceDatabaseId", "database copy")):
        value = props.get(key)
        if isinstance(value, str) and value:
            links.append(CopyLink("copy-of", value, how))
    for link in raw.get("replicationLinks") or []:
        partner = (link.get("properties") or {}).get("partnerDatabaseId")
        if isinstance(partner, str) and partner:
            links.append(CopyLink("copies-to", partner, "geo-replication"))
    return links


def settle(ref: Ref, where: str | None, found: bool) -> Location:
    """A `Ref` placed: at the region of the resource it names, or unknown when the scan did not see it."""
    if found:
        return Location(where, role=ref.role, detail=ref.detail)
    return Location(None, role=ref.role, detail=f"{ref.detail}: not in this scan, so its location is unknown")


# ------------------------------------------------------------------------------ when to read


def geo_redundant_sku(raw: dict[str, Any]) -> bool:
    """A storage account's GET only when the SKU says geo-redundant (or says nothing)."""
    sku = lower(sku_of(raw))
    return not sku or sku in GEO_STORAGE_SKUS


def may_replicate_objects(raw: dict[str, Any]) -> bool:
    """Object replication needs a general-purpose v2 or premium block blob account."""
    return lower(raw.get("kind")) in ("", "storagev2", "blockblobstorage")


def not_master(raw: dict[str, Any]) -> bool:
    """`master` is the server's own metadata database: it has no replication links of its own."""
    return lower(raw.get("name")).rsplit("/", 1)[-1] != "master"


def may_have_replicas(raw: dict[str, Any]) -> bool:
    """A read replica has no replicas of its own; anything else (or a server not read) may have."""
    role = lower(_props(raw).get("replicationRole"))
    return role not in ("asyncreplica", "geoasyncreplica", "replica")


def premium_sku(raw: dict[str, Any]) -> bool:
    """Container Registry geo-replication and Service Bus geo-DR need the Premium tier."""
    sku = lower(sku_of(raw))
    return not sku or sku == "premium"


def not_basic_sku(raw: dict[str, Any]) -> bool:
    """Event Hubs geo-DR needs Standard or above."""
    return lower(sku_of(raw)) != "basic"


def may_be_linked(raw: dict[str, Any]) -> bool:
    """A cache's document lists its linked servers' ids; without the document (the ARM listing), read."""
    props = raw.get("properties")
    return props is None or bool(props.get("linkedServers"))


Reader = Callable[[dict[str, Any], Places], Sequence[Found]]
Predicate = Callable[[dict[str, Any]], bool]


def reader(name: str) -> Reader:
    found: Reader = globals()[name]
    return found


def predicate(name: str) -> Predicate:
    """A `when` of the kind declarations; an empty name always holds."""
    if not name:
        return lambda raw: True
    found: Predicate = globals()[name]
    return found


def locate(name: str, raw: dict[str, Any], at: Places) -> list[Found]:
    """A kind's reader, and the copies its diagnostic settings send elsewhere."""
    return [*reader(name)(raw, at), *diagnostic_copies(raw)]
