"""Azure kinds, each declared once: its reads (-> the guard's allow-list and `permissions
azure`), its reader, its Terraform types, its category and whether its footprint is modelled.

Every ARM resource is listed (`resources.list` per subscription, or one Resource Graph
query) and judged at its own location by the `GENERIC` path. The kinds in `KINDS` are
the ones whose footprint the scan models: where their data leaves the primary location
(geo-redundant secondaries, replicas, geo-redundant backups, failover partners, logs sent
elsewhere) is read per resource: its own document with `resources.get_by_id` (one generic
client, not one SDK per service) where the listing lacks its `properties` (Resource Graph
rows carry them), and its `children`, collections under it such as a SQL database's
`replicationLinks` or a resource's diagnostic settings, on both inventory paths.

Adding a kind: an `ArmKind` here, its reader in `readers.py` (under the same name), its
seed in the demo estate (`residency_emulator.azure`), and a test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..base import Kind, ReadOperation

_SUB = r"/subscriptions/[^/]+"
_RG = _SUB + r"/resourcegroups/[^/]+"
_PROVIDERS = _RG + r"/providers/"
_MG = r"/providers/microsoft\.management/managementgroups/[^/]+"
_POLICY_SCOPE = rf"({_MG}|{_SUB}|{_RG})"
_DEFINITION_SCOPE = rf"({_MG}|{_SUB})?"


def _r(permission: str, path: str, purpose: str, http: str = "GET") -> ReadOperation:
    """One request the guard lets through: its HTTP method and a regular expression over the
    lower-case URL path; the RBAC action that allows it; its resource provider as the service."""
    return ReadOperation(permission.split("/", 1)[0], purpose, permission, http, path)


@dataclass(frozen=True, slots=True)
class Child:
    """A collection read under each resource of a kind (a SQL database's `replicationLinks`,
    a resource's diagnostic settings): `path` is a template over the resource's `{id}`, its
    resource `{group}` and `{location}`; the reader finds the items under `key`. `when` names
    a predicate in `readers` that says, from what is known of the resource by then, whether
    it can have any (a Basic namespace has no geo-DR alias): no read where it cannot."""

    key: str
    path: str
    api_version: str
    read: ReadOperation
    when: str = ""


@dataclass(frozen=True, slots=True)
class ArmKind(Kind):
    """An Azure kind (`name` is the lower-case ARM type) and how its footprint is read.

    `api_version`: the resource's own document (`properties`) is read with a GET at this
    api-version where the inventory did not carry it (the ARM listing never does; Resource
    Graph does when `graph_properties`), and only where the `get_when` predicate of
    `readers`, given the listing, says it matters. `children`: collections read under each
    resource, on both inventory paths (Resource Graph does not hold them).
    """

    api_version: str = ""
    get_when: str = ""
    graph_properties: bool = False
    children: tuple[Child, ...] = ()


LIST_SUBSCRIPTIONS = _r("Microsoft.Resources/subscriptions/read", r"/subscriptions", "list subscriptions")
LIST_LOCATIONS = _r(
    "Microsoft.Resources/subscriptions/locations/read",
    _SUB + r"/locations",
    "location metadata (physical location, paired region)",
)
LIST_RESOURCES = _r("Microsoft.Resources/subscriptions/resources/read", _SUB + r"/resources", "list resources")
LIST_RESOURCE_GROUPS = _r(
    "Microsoft.Resources/subscriptions/resourceGroups/read", _SUB + r"/resourcegroups", "list resource groups"
)
GRAPH_QUERY = _r(
    "Microsoft.ResourceGraph/resources/read",
    r"/providers/microsoft\.resourcegraph/resources",
    "Resource Graph query (read-only; a query is a POST)",
    http="POST",
)

#: The scope (subscriptions, management-group chains through Resource Graph) and the location
#: metadata every scan, guardrail audit and `regions --check` reads.
BASE_READS: tuple[ReadOperation, ...] = (LIST_SUBSCRIPTIONS, LIST_LOCATIONS, GRAPH_QUERY)

#: How every resource is found: the ARM listing per subscription, or Resource Graph.
LISTING: tuple[ReadOperation, ...] = (LIST_RESOURCES, GRAPH_QUERY)


def _type_path(arm: str) -> str:
    """`Microsoft.Sql/servers/databases` -> the lower-case id path that names one, as a pattern."""
    namespace, *types = arm.lower().split("/")
    return re.escape(namespace) + "".join(f"/{re.escape(t)}/[^/]+" for t in types)


def _get(arm: str, purpose: str) -> ReadOperation:
    """The GET of one resource of an ARM type (its `properties`)."""
    return _r(f"{arm}/read", _PROVIDERS + _type_path(arm), purpose)


def _child(arm: str, key: str, api_version: str, purpose: str, when: str = "") -> Child:
    """The collection `{id}/{key}` under each resource of an ARM type, with its RBAC action."""
    read = _r(f"{arm}/{key}/read", _PROVIDERS + _type_path(arm) + "/" + re.escape(key.lower()), purpose)
    return Child(key, "{id}/" + key, api_version, read, when)


#: Diagnostic settings: where a resource's logs and metrics are sent (a Log Analytics workspace,
#: a storage account, an event hub, a partner solution), each a copy of them at its own location.
DIAGNOSTIC_SETTINGS = _r(
    "Microsoft.Insights/diagnosticSettings/read",
    _PROVIDERS + r"microsoft\.[a-z0-9]+/.+/providers/microsoft\.insights/diagnosticsettings",
    "diagnostic settings (where a resource's logs are sent)",
)
_DIAGNOSTICS_API = "2021-05-01-preview"
DIAGNOSTICS = Child(
    "diagnosticSettings", "{id}/providers/Microsoft.Insights/diagnosticSettings", _DIAGNOSTICS_API, DIAGNOSTIC_SETTINGS
)
#: A storage account's own settings carry metrics only; the blob service's carry its access logs.
BLOB_DIAGNOSTICS = Child(
    "diagnosticSettings",
    "{id}/blobServices/default/providers/Microsoft.Insights/diagnosticSettings",
    _DIAGNOSTICS_API,
    DIAGNOSTIC_SETTINGS,
)

#: `guardrails azure`: Azure Policy at management-group, subscription and resource-group scope,
#: and the custom definitions / initiatives the assignments name.
GUARDRAIL_READS: tuple[ReadOperation, ...] = (
    _r(
        "Microsoft.Authorization/policyAssignments/read",
        _POLICY_SCOPE + r"/providers/microsoft\.authorization/policyassignments",
        "policy assignments of a scope (guardrail audit)",
    ),
    _r(
        "Microsoft.Authorization/policyExemptions/read",
        _POLICY_SCOPE + r"/providers/microsoft\.authorization/policyexemptions",
        "policy exemptions of a scope (guardrail audit)",
    ),
    _r(
        "Microsoft.Authorization/policyDefinitions/read",
        _DEFINITION_SCOPE + r"/providers/microsoft\.authorization/policydefinitions/[^/]+",
        "a policy definition an assignment names (guardrail audit)",
    ),
    _r(
        "Microsoft.Authorization/policySetDefinitions/read",
        _DEFINITION_SCOPE + r"/providers/microsoft\.authorization/policysetdefinitions/[^/]+",
        "an initiative an assignment names (guardrail audit)",
    ),
)

_BACKUP = "backup redundancy and cross-region restore"
_SQL_API = "2021-11-01"

#: Every other ARM resource: listed, and judged at its own location (and zone).
GENERIC = ArmKind(
    "*",
    service="Microsoft.Resources",
    category="unknown",  # each resource's category comes from classes.py, by its ARM type
    reads=LISTING,
    reader="generic",
    doc="every other ARM resource, at its own location (a zonal resource with its zone); `global` fails closed",
)


def _reads(*extra: ReadOperation | Child) -> tuple[ReadOperation, ...]:
    """The listing, plus a kind's own GET and the reads of its children."""
    return (*LISTING, *(e.read if isinstance(e, Child) else e for e in extra))


_SQL_DATABASE_CHILDREN = (
    _child("Microsoft.Sql/servers/databases", "replicationLinks", _SQL_API, "SQL geo-replicas", when="not_master"),
    DIAGNOSTICS,
)
_SQL_FAILOVER_GROUPS = _child(
    "Microsoft.Sql/servers", "failoverGroups", _SQL_API, "SQL failover groups (partner servers)"
)
_INSTANCE_FAILOVER_GROUPS = Child(
    "instanceFailoverGroups",
    "{group}/providers/Microsoft.Sql/locations/{location}/instanceFailoverGroups",
    _SQL_API,
    _r(
        "Microsoft.Sql/locations/instanceFailoverGroups/read",
        _PROVIDERS + r"microsoft\.sql/locations/[^/]+/instancefailovergroups",
        "SQL managed instance failover groups (partner regions)",
    ),
)
_OBJECT_REPLICATION = _child(
    "Microsoft.Storage/storageAccounts",
    "objectReplicationPolicies",
    "2023-05-01",
    "object replication policies (destination accounts)",
    when="may_replicate_objects",
)
_POSTGRES_REPLICAS = _child(
    "Microsoft.DBforPostgreSQL/flexibleServers", "replicas", "2024-08-01", "read replicas", when="may_have_replicas"
)
_MYSQL_REPLICAS = _child(
    "Microsoft.DBforMySQL/flexibleServers", "replicas", "2023-12-30", "read replicas", when="may_have_replicas"
)
_REGISTRY_REPLICATIONS = _child(
    "Microsoft.ContainerRegistry/registries", "replications", "2023-07-01", "geo-replications", when="premium_sku"
)
_REDIS_LINKS = _child(
    "Microsoft.Cache/redis", "linkedServers", "2024-03-01", "geo-replication links", when="may_be_linked"
)
_EVENT_HUB_ALIASES = _child(
    "Microsoft.EventHub/namespaces",
    "disasterRecoveryConfigs",
    "2021-11-01",
    "geo-disaster-recovery aliases",
    when="not_basic_sku",
)
_SERVICE_BUS_ALIASES = _child(
    "Microsoft.ServiceBus/namespaces",
    "disasterRecoveryConfigs",
    "2021-11-01",
    "geo-disaster-recovery aliases",
    when="premium_sku",
)
_SITE_BACKUPS = _child("Microsoft.Web/sites", "backups", "2023-12-01", "App Service backups (their storage accounts)")

KINDS: tuple[ArmKind, ...] = (
    ArmKind(
        "microsoft.resources/resourcegroups",
        service="Microsoft.Resources",
        category="control",
        reads=(LIST_RESOURCE_GROUPS, GRAPH_QUERY),
        reader="resource_group",
        seed="resource_group",
        doc="resource groups, at the location of their metadata",
    ),
    ArmKind(
        "microsoft.storage/storageaccounts",
        service="Microsoft.Storage",
        category="data",
        reads=_reads(
            _get("Microsoft.Storage/storageAccounts", "geo-redundant secondary location"),
            _OBJECT_REPLICATION,
            BLOB_DIAGNOSTICS,
        ),
        reader="storage_account",
        terraform=("azurerm_storage_account",),
        footprint=True,
        seed="storage_account",
        doc="storage accounts with a geo-redundant SKU (GRS/RA-GRS/GZRS/RA-GZRS): `secondaryLocation`, or the "
        "paired region when it is not reported, as `secondary`; object replication policies: the destination "
        "account's location as `replica`; where the blob service's diagnostic settings send "
        "its logs, as `replica`",
        api_version="2023-05-01",
        get_when="geo_redundant_sku",
        graph_properties=True,
        children=(_OBJECT_REPLICATION, BLOB_DIAGNOSTICS),
    ),
    ArmKind(
        "microsoft.documentdb/databaseaccounts",
        service="Microsoft.DocumentDB",
        category="data",
        reads=_reads(_get("Microsoft.DocumentDB/databaseAccounts", "Cosmos DB regions"), DIAGNOSTICS),
        reader="cosmos_account",
        terraform=("azurerm_cosmosdb_account",),
        footprint=True,
        seed="cosmos_account",
        doc="Cosmos DB accounts: every region as `replica`; where its diagnostic settings send logs, as `replica`",
        api_version="2024-05-15",
        graph_properties=True,
        children=(DIAGNOSTICS,),
    ),
    ArmKind(
        "microsoft.sql/servers",
        service="Microsoft.Sql",
        category="data",
        reads=_reads(_SQL_FAILOVER_GROUPS),
        reader="sql_server",
        terraform=("azurerm_mssql_server",),
        footprint=True,
        seed="sql_server",
        doc="SQL servers: each failover group's partner servers as `replica`",
        children=(_SQL_FAILOVER_GROUPS,),
    ),
    ArmKind(
        "microsoft.sql/servers/databases",
        service="Microsoft.Sql",
        category="data",
        reads=_reads(_get("Microsoft.Sql/servers/databases", "SQL backup storage redundancy"), *_SQL_DATABASE_CHILDREN),
        reader="sql_database",
        terraform=("azurerm_mssql_database",),
        footprint=True,
        seed="sql_database",
        doc="SQL databases: `replicationLinks` partners as `replica`; geo or geo-zone backup storage "
        "(`currentBackupStorageRedundancy`/`requestedBackupStorageRedundancy`, Geo by default) in the paired "
        "region as `backup`"
        "; where its diagnostic settings send logs, as `replica`",
        api_version=_SQL_API,
        graph_properties=True,
        children=_SQL_DATABASE_CHILDREN,
    ),
    ArmKind(
        "microsoft.sql/managedinstances",
        service="Microsoft.Sql",
        category="data",
        reads=_reads(
            _get("Microsoft.Sql/managedInstances", "SQL managed instance backup storage redundancy"),
            _INSTANCE_FAILOVER_GROUPS,
            DIAGNOSTICS,
        ),
        reader="sql_managed_instance",
        terraform=("azurerm_mssql_managed_instance",),
        footprint=True,
        seed="sql_managed_instance",
        doc="SQL managed instances: geo backup storage in the paired region as `backup`; the partner region of "
        "each instance failover group it is in as `replica`"
        "; where its diagnostic settings send logs, as `replica`",
        api_version=_SQL_API,
        graph_properties=True,
        children=(_INSTANCE_FAILOVER_GROUPS, DIAGNOSTICS),
    ),
    ArmKind(
        "microsoft.dbforpostgresql/flexibleservers",
        service="Microsoft.DBforPostgreSQL",
        category="data",
        reads=_reads(
            _get("Microsoft.DBforPostgreSQL/flexibleServers", "geo-redundant backup, replication role"),
            _POSTGRES_REPLICAS,
            DIAGNOSTICS,
        ),
        reader="flexible_server",
        terraform=("azurerm_postgresql_flexible_server",),
        footprint=True,
        seed="postgresql_flexible_server",
        doc="PostgreSQL flexible servers: geo-redundant backup in the paired region as `backup`; the read "
        "replicas of a source server (servers of their own, listed with `replicas`) as `replica`"
        "; where its diagnostic settings send logs, as `replica`",
        api_version="2024-08-01",
        graph_properties=True,
        children=(_POSTGRES_REPLICAS, DIAGNOSTICS),
    ),
    ArmKind(
        "microsoft.dbformysql/flexibleservers",
        service="Microsoft.DBforMySQL",
        category="data",
        reads=_reads(
            _get("Microsoft.DBforMySQL/flexibleServers", "geo-redundant backup, replication role"),
            _MYSQL_REPLICAS,
            DIAGNOSTICS,
        ),
        reader="flexible_server",
        terraform=("azurerm_mysql_flexible_server",),
        footprint=True,
        seed="mysql_flexible_server",
        doc="MySQL flexible servers: geo-redundant backup in the paired region as `backup`; a source server's "
        "read replicas as `replica`"
        "; where its diagnostic settings send logs, as `replica`",
        api_version="2023-12-30",
        graph_properties=True,
        children=(_MYSQL_REPLICAS, DIAGNOSTICS),
    ),
    ArmKind(
        "microsoft.containerregistry/registries",
        service="Microsoft.ContainerRegistry",
        category="data",
        reads=_reads(_REGISTRY_REPLICATIONS, DIAGNOSTICS),
        reader="container_registry",
        terraform=("azurerm_container_registry",),
        footprint=True,
        seed="container_registry",
        doc="container registries: every geo-replication (Premium) as `replica`"
        "; where its diagnostic settings send logs, as `replica`",
        children=(_REGISTRY_REPLICATIONS, DIAGNOSTICS),
    ),
    ArmKind(
        "microsoft.cache/redis",
        service="Microsoft.Cache",
        category="data",
        reads=_reads(_REDIS_LINKS, DIAGNOSTICS),
        reader="redis_cache",
        footprint=True,
        seed="redis_cache",
        doc="Azure Cache for Redis: each geo-replication linked server's location as `replica`"
        "; where its diagnostic settings send logs, as `replica`",
        graph_properties=True,
        children=(_REDIS_LINKS, DIAGNOSTICS),
    ),
    ArmKind(
        "microsoft.eventhub/namespaces",
        service="Microsoft.EventHub",
        category="data",
        reads=_reads(_EVENT_HUB_ALIASES, DIAGNOSTICS),
        reader="messaging_namespace",
        footprint=True,
        seed="event_hub_namespace",
        doc="Event Hubs namespaces: the partner namespace of each geo-disaster-recovery alias, at its location, "
        "as `replica`"
        "; where its diagnostic settings send logs, as `replica`",
        children=(_EVENT_HUB_ALIASES, DIAGNOSTICS),
    ),
    ArmKind(
        "microsoft.servicebus/namespaces",
        service="Microsoft.ServiceBus",
        category="data",
        reads=_reads(_SERVICE_BUS_ALIASES, DIAGNOSTICS),
        reader="messaging_namespace",
        footprint=True,
        seed="service_bus_namespace",
        doc="Service Bus namespaces: the partner namespace of each geo-disaster-recovery alias (Premium), at "
        "its location, as `replica`"
        "; where its diagnostic settings send logs, as `replica`",
        children=(_SERVICE_BUS_ALIASES, DIAGNOSTICS),
    ),
    ArmKind(
        "microsoft.web/sites",
        service="Microsoft.Web",
        category="compute",
        reads=_reads(_SITE_BACKUPS, DIAGNOSTICS),
        reader="web_site",
        terraform=(
            "azurerm_linux_web_app",
            "azurerm_windows_web_app",
            "azurerm_linux_function_app",
            "azurerm_windows_function_app",
        ),
        footprint=True,
        seed="web_site",
        doc="App Service apps: the storage account each backup is in, at its location, as `backup`"
        "; where its diagnostic settings send logs, as `replica`",
        children=(_SITE_BACKUPS, DIAGNOSTICS),
    ),
    ArmKind(
        "microsoft.operationalinsights/workspaces",
        service="Microsoft.OperationalInsights",
        category="data",
        reads=_reads(_get("Microsoft.OperationalInsights/workspaces", "workspace replication"), DIAGNOSTICS),
        reader="log_analytics_workspace",
        footprint=True,
        seed="log_analytics_workspace",
        doc="Log Analytics workspaces: where their logs are kept, and a workspace replication's location as `replica`"
        "; where its diagnostic settings send logs, as `replica`",
        api_version="2025-02-01",
        graph_properties=True,
        children=(DIAGNOSTICS,),
    ),
    ArmKind(
        "microsoft.recoveryservices/vaults",
        service="Microsoft.RecoveryServices",
        category="data",
        reads=_reads(_get("Microsoft.RecoveryServices/Vaults", _BACKUP)),
        reader="recovery_services_vault",
        terraform=("azurerm_recovery_services_vault",),
        footprint=True,
        seed="recovery_services_vault",
        doc="Recovery Services vaults that are geo-redundant or allow cross-region restore: the paired region "
        "as `backup`",
        api_version="2024-04-01",
        graph_properties=True,
    ),
    ArmKind(
        "microsoft.dataprotection/backupvaults",
        service="Microsoft.DataProtection",
        category="data",
        reads=_reads(_get("Microsoft.DataProtection/backupVaults", _BACKUP)),
        reader="backup_vault",
        terraform=("azurerm_data_protection_backup_vault",),
        footprint=True,
        seed="backup_vault",
        doc="Data Protection backup vaults that are geo-redundant or allow cross-region restore: the paired "
        "region as `backup`",
        api_version="2024-04-01",
        graph_properties=True,
    ),
    ArmKind(
        "microsoft.compute/disks",
        service="Microsoft.Compute",
        category="data",
        reads=LISTING,
        reader="generic",
        terraform=("azurerm_managed_disk",),
        footprint=True,
        seed="disk",
        doc="managed disks, at their location (zone kept): a disk keeps no copy outside its region (zone-redundant "
        "SKUs replicate across the region's zones); its snapshots are linked to it",
    ),
    ArmKind(
        "microsoft.compute/snapshots",
        service="Microsoft.Compute",
        category="data",
        reads=_reads(_get("Microsoft.Compute/snapshots", "the snapshot's source disk (which data it copies)")),
        reader="snapshot",
        terraform=("azurerm_snapshot",),
        footprint=True,
        seed="snapshot",
        doc="managed disk snapshots, as `backup` where they are stored, linked to their source disk "
        "(Resource Graph carries it; the ARM listing needs one read per snapshot)",
        api_version="2024-03-02",
        graph_properties=True,
    ),
    ArmKind(
        "microsoft.keyvault/vaults",
        service="Microsoft.KeyVault",
        category="data",
        reads=_reads(DIAGNOSTICS),
        reader="key_vault",
        terraform=("azurerm_key_vault",),
        footprint=True,
        seed="key_vault",
        doc="Key Vaults: Azure replicates their contents to the paired region, as `secondary`; a region "
        "Microsoft documents as unpaired (and Brazil South, West US 3) keeps them in the region; a region "
        "whose pair is not documented fails closed"
        "; where its diagnostic settings send logs, as `replica`",
        children=(DIAGNOSTICS,),
    ),
)

#: Kinds whose diagnostic settings are read: each destination is a copy of the resource's logs.
DIAGNOSED = frozenset(k.name for k in KINDS if any(c.read is DIAGNOSTIC_SETTINGS for c in k.children))

_BY_NAME = {k.name: k for k in KINDS}


def kind(name: str) -> ArmKind:
    """The declaration of an ARM type (lower case); `GENERIC` for every undeclared one."""
    return _BY_NAME.get(name, GENERIC)


def read_operations() -> tuple[ReadOperation, ...]:
    """Every request the scan, the guardrail audit and `regions --check` may send."""
    ops = [*BASE_READS, *GENERIC.reads, *(r for k in KINDS for r in k.reads), *GUARDRAIL_READS]
    return tuple(dict.fromkeys(ops))
