"""Azure resources in Terraform plans (azurerm and azapi): the modelled footprints, and the rest.

An Azure resource carries its `location`; one without (a subnet, an NSG rule, a Key
Vault secret, an association) lives where the planned parent it refers to lives.
Geo-redundant copies go to the region's pair, as the catalog records it.
"""

from __future__ import annotations

from ...model import Location
from ...terraform.adapter import (
    Change,
    Extractor,
    Link,
    LinkExtractor,
    PlanAdapter,
    blocks,
)
from .readers import geo_redundant, key_vault_replica

PROVIDER = "azure"
GLOBAL_LOCATION = "global"

#: Never taken as a parent's location: a resource group holds resources of any region.
NOT_PARENTS = frozenset({"azurerm_resource_group"})


def normalise(code: str) -> str:
    """Azure accepts `West Europe` for westeurope."""
    return code.replace(" ", "").lower()


def azure_location(ch: Change, attr: str = "location", role: str = "primary") -> Location:
    value = ch.text(attr)
    if value:
        return Location(normalise(value), role=role, detail=f"{attr} {value}")
    if ch.is_unknown(attr):
        return Location(None, role=role, detail=f"{attr} is computed: known only after apply")
    return Location(None, role=role, detail=f"no {attr} in the plan")


def _azure_simple(role: str = "primary") -> Extractor:
    def extract(a: PlanAdapter, ch: Change) -> list[Location]:
        return [azure_location(ch, role=role)]

    return extract


def _storage_account(a: PlanAdapter, ch: Change) -> list[Location]:
    primary = azure_location(ch)
    rtype = ch.get("account_replication_type")
    if not isinstance(rtype, str):
        return [primary, Location(None, role="secondary", detail="account_replication_type is computed: unknown")]
    if geo_redundant(rtype):
        return [primary, a.paired(primary, "secondary", f"account_replication_type {rtype}", PROVIDER)]
    return [primary]


def _mssql_database(a: PlanAdapter, ch: Change) -> list[Location]:
    """A database lives where its server is; geo-redundant backups (the default) in the pair."""
    servers = a.references(ch, a.expr(ch, "server_id"), "azurerm_mssql_server")
    sat = ch.get("storage_account_type")
    geo = geo_redundant(sat) or (sat is None and "storage_account_type" not in ch.after)  # Geo is the default
    if not servers:
        locs = [Location(None, detail="server_id is not a planned server: location unknown")]
        if geo:
            locs.append(Location(None, role="backup", detail="geo-redundant backups of a server of unknown location"))
        return locs
    a.link(Link(ch, Location(None, detail="on server"), like=servers))
    if geo:
        why = f"storage_account_type {sat or 'Geo (default)'}: geo-redundant backups"
        a.link(Link(ch, Location(None, role="backup", detail=why), like=servers, paired=True))
    return []


def _cosmosdb(a: PlanAdapter, ch: Change) -> list[Location]:
    locs = []
    for geo, _, _ in blocks(ch, "geo_location"):
        region = geo.get("location")
        role = "primary" if geo.get("failover_priority") == 0 else "replica"
        if isinstance(region, str) and region:
            locs.append(Location(normalise(region), role=role, detail="geo_location"))
        else:
            locs.append(Location(None, role=role, detail="geo_location is computed: unknown"))
    return locs or [azure_location(ch)]


def _geo_backup(flag: str, default: bool) -> Extractor:
    """Servers and vaults whose backups go to the paired region when a flag says so."""

    def extract(a: PlanAdapter, ch: Change) -> list[Location]:
        primary = azure_location(ch)
        value = ch.get(flag)
        if value is None and ch.is_unknown(flag):
            return [primary, Location(None, role="backup", detail=f"{flag} is computed: unknown")]
        on = default if value is None else value
        if geo_redundant(on):  # the live readers' rule
            shown = value if value is not None else "(default)"
            return [primary, a.paired(primary, "backup", f"{flag} {shown}", PROVIDER)]
        return [primary]

    return extract


def _key_vault(a: PlanAdapter, ch: Change) -> list[Location]:
    """Where a vault's contents are replicated: the live scan's rule (`readers.key_vault_replica`)."""
    primary = azure_location(ch)
    replica = key_vault_replica(a.catalog, primary.region)
    return [primary] if replica is None else [primary, replica]


def _server(geo_flag: str, default: bool, source_attr: str, source_type: str) -> Extractor:
    """PostgreSQL/MySQL servers: geo-redundant backups in the pair, and a read replica's data is its source's."""
    geo = _geo_backup(geo_flag, default)

    def extract(a: PlanAdapter, ch: Change) -> list[Location]:
        locs = geo(a, ch)
        sources = a.references(ch, a.expr(ch, source_attr), source_type)
        if sources:
            replica = Location(locs[0].region, role="replica", detail=f"read replica {ch.address}")
            a.link(Link(ch, replica, attach_to=sources))
            a.link(Link(ch, Location(None, role="primary", detail="source of this replica"), like=sources))
        elif ch.text(source_attr) or ch.is_unknown(source_attr):
            locs.append(Location(None, role="primary", detail=f"{source_attr}: the source server is not planned"))
        return locs

    return extract


def _registry(a: PlanAdapter, ch: Change) -> list[Location]:
    """A container registry and its geo-replications (each a full copy of the registry)."""
    locs = [azure_location(ch)]
    for rep, mark, _ in blocks(ch, "georeplications"):
        where = rep.get("location")
        if isinstance(where, str) and where:
            locs.append(Location(normalise(where), role="replica", detail="georeplications"))
        else:
            why = "computed" if mark.get("location") else "missing"
            locs.append(Location(None, role="replica", detail=f"georeplications location {why}"))
    return locs


def _pair_of(primary_attr: str, partner_attr: str, rtypes: tuple[str, ...], what: str) -> Extractor:
    """A failover group or geo-disaster-recovery alias: data in the primary's region is replicated to the partner's."""

    def extract(a: PlanAdapter, ch: Change) -> list[Location]:
        locs: list[Location] = []
        for attr, role in ((primary_attr, "primary"), (partner_attr, "replica")):
            expr = a.expr(ch, attr)
            if expr is None:  # nested block, e.g. partner_server { id = ... }
                block = blocks(ch, attr.split(".", 1)[0])
                expr = block[0][2].get(attr.split(".", 1)[1]) if block and "." in attr else None
            refs = [r for t in rtypes for r in a.references(ch, expr, t)]
            if refs:
                a.link(Link(ch, Location(None, role=role, detail=f"{what}: {attr}"), like=refs))
            else:
                locs.append(Location(None, role=role, detail=f"{what}: {attr} is not a planned resource: unknown"))
        return locs

    return extract


def _object_replication(a: PlanAdapter, ch: Change) -> None:
    """Object replication copies blobs from the source account to the destination account's region."""
    sources = a.references(ch, a.expr(ch, "source_storage_account_id"), "azurerm_storage_account")
    dests = a.references(ch, a.expr(ch, "destination_storage_account_id"), "azurerm_storage_account")
    if dests:
        loc = Location(None, role="replica", detail=f"object replication {ch.address}")
        a.link(Link(ch, loc, attach_to=sources, like=dests, fallback_kind="microsoft.storage/objectreplication"))
    else:
        loc = Location(None, role="replica", detail=f"object replication {ch.address}: destination not planned")
        a.link(Link(ch, loc, attach_to=sources, fallback_kind="microsoft.storage/objectreplication"))


def _redis_link(a: PlanAdapter, ch: Change) -> None:
    """Redis geo-replication: the linked (secondary) cache keeps a copy of the primary cache's data."""
    where = ch.text("linked_redis_cache_location")
    if where:
        loc = Location(normalise(where), role="replica", detail=f"geo-replication link {ch.address}")
    else:
        loc = Location(None, role="replica", detail=f"geo-replication link {ch.address}: location is computed")
    primaries = a.references(ch, a.expr(ch, "target_redis_cache_name"), "azurerm_redis_cache")
    name = ch.text("target_redis_cache_name")
    if not primaries and name:
        primaries = a.by_value("azurerm_redis_cache", "name", name)
    a.link(Link(ch, loc, attach_to=primaries, fallback_kind="microsoft.cache/redis/linkedservers"))


def generic(a: PlanAdapter, ch: Change) -> list[Location]:
    """Its own `location`; without one (a subnet, an NSG rule, a secret, a child resource
    of azapi), the location of the planned parent it refers to."""
    value = ch.text("location")
    if value or (ch.is_unknown("location") and ch.sets("location")):
        return [azure_location(ch)]
    # not set: a child resource (azapi computes its location from the parent) or a type without one
    return a.inherit(ch, f"{ch.type} has no location")


def kind_of(ch: Change) -> str:
    """azapi resources are kinds by their ARM type (`Microsoft.Storage/storageAccounts@2023-01-01`)."""
    if ch.family == "azapi":
        arm = ch.text("type")
        if arm:
            return arm.split("@", 1)[0].lower()
    return ch.type


#: Terraform type -> (our kind, how to find its locations). Kinds are the ARM resource types,
#: as the live Azure adapter reports them.
TYPES: dict[str, tuple[str, Extractor]] = {
    "azurerm_storage_account": ("microsoft.storage/storageaccounts", _storage_account),
    "azurerm_linux_virtual_machine": ("microsoft.compute/virtualmachines", _azure_simple()),
    "azurerm_windows_virtual_machine": ("microsoft.compute/virtualmachines", _azure_simple()),
    "azurerm_virtual_machine": ("microsoft.compute/virtualmachines", _azure_simple()),
    "azurerm_managed_disk": ("microsoft.compute/disks", _azure_simple()),
    "azurerm_snapshot": ("microsoft.compute/snapshots", _azure_simple(role="backup")),
    "azurerm_mssql_server": ("microsoft.sql/servers", _azure_simple()),
    "azurerm_mssql_database": ("microsoft.sql/servers/databases", _mssql_database),
    "azurerm_mssql_managed_instance": (
        "microsoft.sql/managedinstances",
        _geo_backup("storage_account_type", True),
    ),
    "azurerm_mssql_failover_group": (
        "microsoft.sql/servers/failovergroups",
        _pair_of("server_id", "partner_server.id", ("azurerm_mssql_server",), "failover group"),
    ),
    "azurerm_mssql_managed_instance_failover_group": (
        "microsoft.sql/locations/instancefailovergroups",
        _pair_of(
            "managed_instance_id",
            "partner_managed_instance_id",
            ("azurerm_mssql_managed_instance",),
            "managed instance failover group",
        ),
    ),
    "azurerm_cosmosdb_account": ("microsoft.documentdb/databaseaccounts", _cosmosdb),
    "azurerm_kubernetes_cluster": ("microsoft.containerservice/managedclusters", _azure_simple()),
    "azurerm_postgresql_flexible_server": (
        "microsoft.dbforpostgresql/flexibleservers",
        _server("geo_redundant_backup_enabled", False, "source_server_id", "azurerm_postgresql_flexible_server"),
    ),
    "azurerm_mysql_flexible_server": (
        "microsoft.dbformysql/flexibleservers",
        _server("geo_redundant_backup_enabled", False, "source_server_id", "azurerm_mysql_flexible_server"),
    ),
    "azurerm_postgresql_server": (
        "microsoft.dbforpostgresql/servers",
        _server("geo_redundant_backup_enabled", False, "creation_source_server_id", "azurerm_postgresql_server"),
    ),
    "azurerm_mysql_server": (
        "microsoft.dbformysql/servers",
        _server("geo_redundant_backup_enabled", False, "creation_source_server_id", "azurerm_mysql_server"),
    ),
    "azurerm_recovery_services_vault": ("microsoft.recoveryservices/vaults", _geo_backup("storage_mode_type", True)),
    "azurerm_data_protection_backup_vault": ("microsoft.dataprotection/backupvaults", _geo_backup("redundancy", False)),
    "azurerm_key_vault": ("microsoft.keyvault/vaults", _key_vault),
    "azurerm_container_registry": ("microsoft.containerregistry/registries", _registry),
    "azurerm_eventhub_namespace_disaster_recovery_config": (
        "microsoft.eventhub/namespaces/disasterrecoveryconfigs",
        _pair_of("namespace_name", "partner_namespace_id", ("azurerm_eventhub_namespace",), "geo-DR alias"),
    ),
    "azurerm_servicebus_namespace_disaster_recovery_config": (
        "microsoft.servicebus/namespaces/disasterrecoveryconfigs",
        _pair_of("primary_namespace_id", "partner_namespace_id", ("azurerm_servicebus_namespace",), "geo-DR alias"),
    ),
    "azurerm_linux_web_app": ("microsoft.web/sites", _azure_simple()),
    "azurerm_windows_web_app": ("microsoft.web/sites", _azure_simple()),
    "azurerm_linux_function_app": ("microsoft.web/sites", _azure_simple()),
    "azurerm_windows_function_app": ("microsoft.web/sites", _azure_simple()),
}

LINKS: dict[str, LinkExtractor] = {
    "azurerm_storage_object_replication": _object_replication,
    "azurerm_redis_linked_server": _redis_link,
}
