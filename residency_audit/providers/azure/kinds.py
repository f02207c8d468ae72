"""Azure kinds, each declared once: its reads (-> the guard's allow-list and `permissions
azure`), its reader, its Terraform types, its category and whether its footprint is modelled.

Every ARM resource is listed (`resources.list` per subscription, or one Resource Graph
query) and judged at its own location by the `GENERIC` path. The kinds in `KINDS` are
the ones whose footprint the scan models: where their data leaves the primary location
(geo-redundant secondaries, replicas, geo-redundant backups) is read per resource, with
`resources.get_by_id` (one generic client, not one SDK per service) or from the
`properties` Resource Graph rows carry.

Adding a kind: an `ArmKind` here, its reader in `readers.py` (under the same name), its
seed in the demo estate (`residency_emulator.azure`), and a test.
"""

from __future__ import annotations

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
class ArmKind(Kind):
    """An Azure kind (`name` is the lower-case ARM type) and how its footprint is read.

    `api_version`: the detail read is a GET of the resource itself (or of its `child`
    collection, e.g. a SQL database's `replicationLinks`) with this api-version.
    `graph_properties`: Resource Graph rows carry its `properties` (so the graph path needs
    no detail GET; a child collection is read on both paths).
    """

    api_version: str = ""
    child: str = ""
    graph_properties: bool = False


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

#: Every other ARM resource: listed, and judged at its own location (and zone).
GENERIC = ArmKind(
    "*",
    service="Microsoft.Resources",
    category="unknown",  # each resource's category comes from classes.py, by its ARM type
    reads=LISTING,
    reader="generic",
    doc="every other ARM resource, at its own location (a zonal resource with its zone); `global` fails closed",
)

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
        reads=(
            *LISTING,
            _r(
                "Microsoft.Storage/storageAccounts/read",
                _PROVIDERS + r"microsoft\.storage/storageaccounts/[^/]+",
                "geo-redundant secondary location",
            ),
        ),
        reader="storage_account",
        terraform=("azurerm_storage_account",),
        footprint=True,
        seed="storage_account",
        doc="storage accounts with a geo-redundant SKU (GRS/RA-GRS/GZRS/RA-GZRS): `secondaryLocation`, or the "
        "paired region when it is not reported, as `secondary`",
        api_version="2023-05-01",
        graph_properties=True,
    ),
    ArmKind(
        "microsoft.documentdb/databaseaccounts",
        service="Microsoft.DocumentDB",
        category="data",
        reads=(
            *LISTING,
            _r(
                "Microsoft.DocumentDB/databaseAccounts/read",
                _PROVIDERS + r"microsoft\.documentdb/databaseaccounts/[^/]+",
                "Cosmos DB regions",
            ),
        ),
        reader="cosmos_account",
        terraform=("azurerm_cosmosdb_account",),
        footprint=True,
        seed="cosmos_account",
        doc="Cosmos DB accounts: every region as `replica`",
        api_version="2024-05-15",
        graph_properties=True,
    ),
    ArmKind(
        "microsoft.sql/servers/databases",
        service="Microsoft.Sql",
        category="data",
        reads=(
            *LISTING,
            _r(
                "Microsoft.Sql/servers/databases/replicationLinks/read",
                _PROVIDERS + r"microsoft\.sql/servers/[^/]+/databases/[^/]+/replicationlinks",
                "SQL geo-replicas",
            ),
        ),
        reader="sql_database",
        terraform=("azurerm_mssql_database",),
        footprint=True,
        seed="sql_database",
        doc="SQL databases: `replicationLinks` partners as `replica`",
        api_version="2021-11-01",
        child="replicationLinks",
    ),
    ArmKind(
        "microsoft.recoveryservices/vaults",
        service="Microsoft.RecoveryServices",
        category="data",
        reads=(
            *LISTING,
            _r(
                "Microsoft.RecoveryServices/Vaults/read",
                _PROVIDERS + r"microsoft\.recoveryservices/vaults/[^/]+",
                _BACKUP,
            ),
        ),
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
        reads=(
            *LISTING,
            _r(
                "Microsoft.DataProtection/backupVaults/read",
                _PROVIDERS + r"microsoft\.dataprotection/backupvaults/[^/]+",
                _BACKUP,
            ),
        ),
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
        "microsoft.compute/snapshots",
        service="Microsoft.Compute",
        category="data",
        reads=LISTING,
        reader="snapshot",
        terraform=("azurerm_snapshot",),
        footprint=True,
        seed="snapshot",
        doc="managed disk snapshots, as `backup` where they are stored (Resource Graph names their source disk)",
        graph_properties=True,
    ),
    ArmKind(
        "microsoft.keyvault/vaults",
        service="Microsoft.KeyVault",
        category="data",
        reads=LISTING,
        reader="key_vault",
        terraform=("azurerm_key_vault",),
        footprint=True,
        seed="key_vault",
        doc="Key Vaults: Azure replicates their contents to the paired region, as `secondary`; a region "
        "Microsoft documents as unpaired (and Brazil South, West US 3) keeps them in the region; a region "
        "whose pair is not documented fails closed",
    ),
)

_BY_NAME = {k.name: k for k in KINDS}


def kind(name: str) -> ArmKind:
    """The declaration of an ARM type (lower case); `GENERIC` for every undeclared one."""
    return _BY_NAME.get(name, GENERIC)


def read_operations() -> tuple[ReadOperation, ...]:
    """Every request the scan, the guardrail audit and `regions --check` may send."""
    ops = [*BASE_READS, *GENERIC.reads, *(r for k in KINDS for r in k.reads), *GUARDRAIL_READS]
    return tuple(dict.fromkeys(ops))
