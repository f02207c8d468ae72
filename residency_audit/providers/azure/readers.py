"""Where an Azure resource keeps its data, from its ARM document: one reader per kind
(`kinds.ArmKind.reader`), pure functions of what ARM or Resource Graph answered.

A reader gets the resource as listed (`id`, `type`, `location`, `sku`, `zones`...), with
the `properties` its detail read or its Resource Graph row gave (None when that read
failed: the resource still counts, where the listing put it) and, for a kind with a child
collection, that collection under its name (`replicationLinks`). Location names are
codes (`westeurope`) or display names (`West Europe`); `Places` turns both into codes and
knows each region's pair (from the subscription's location metadata, else the catalog).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...model import Location, Owner, OwnerNode

if TYPE_CHECKING:
    from ...geography import Catalog

PROVIDER = "azure"

GEO_STORAGE_SKUS = frozenset({"standard_grs", "standard_ragrs", "standard_gzrs", "standard_ragzrs"})

#: Regions whose Key Vaults are not replicated to their pair although they have one (zone-redundant
#: in the region instead): https://learn.microsoft.com/en-us/azure/key-vault/general/disaster-recovery-guidance
KEY_VAULT_IN_REGION = frozenset({"brazilsouth", "westus3"})


def lower(value: Any) -> str:
    return str(value or "").strip().lower()


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


def storage_account(raw: dict[str, Any], at: Places) -> list[Location]:
    """A geo-redundant SKU keeps a secondary: the one reported, else the primary's pair."""
    props, sku = _props(raw), sku_of(raw)
    primary = at.code(props.get("primaryLocation")) or at.code(raw.get("location"))
    locations = [Location(primary)]
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
    return locations


def storage_account_needs_detail(raw: dict[str, Any]) -> bool:
    """A GET only when the SKU says geo-redundant (or says nothing)."""
    sku = lower(sku_of(raw))
    return not sku or sku in GEO_STORAGE_SKUS


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


def sql_database(raw: dict[str, Any], at: Places) -> list[Location]:
    """Its server's location, and each geo-replication partner as a replica."""
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
    return locations


def sql_database_needs_detail(raw: dict[str, Any]) -> bool:
    """`master` is the server's own metadata database: it has no replication links of its own."""
    return lower(raw.get("name")).rsplit("/", 1)[-1] != "master"


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


Reader = Callable[[dict[str, Any], Places], list[Location]]

#: Kinds whose detail read is only worth sending for some resources (by reader name).
NEEDS_DETAIL: dict[str, Callable[[dict[str, Any]], bool]] = {
    "storage_account": storage_account_needs_detail,
    "sql_database": sql_database_needs_detail,
}


def reader(name: str) -> Reader:
    found: Reader = globals()[name]
    return found
