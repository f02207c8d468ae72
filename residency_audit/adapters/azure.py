"""Azure: every resource in scope, with every location that holds its data.

Scope is a tenant's subscriptions (all the credential can list, a list of ids,
or those under one management group). Inventory comes from one of two sources:

- ``arm``: ``resources.list`` and ``resource_groups.list`` per subscription. The
  listing is authoritative and a subscription that cannot be read answers 403,
  which becomes a gap.
- ``graph``: one paged Resource Graph query across all subscriptions (the fast
  path for large tenants: one call per 1,000 resources instead of one listing
  per subscription plus one GET per detailed resource). Resource Graph silently
  leaves out what the caller cannot read, so every subscription in scope must
  show up in the ``ResourceContainers`` answer, or it becomes a gap.

Where data leaves the primary location, the adapter reads per-resource detail:
geo-redundant storage secondaries, Cosmos DB regions, SQL geo-replication links,
geo-redundant / cross-region-restore backup vaults. It reads that detail with
``ResourceManagementClient.resources.get_by_id(id, api_version)``: one generic
client for every resource type, instead of one heavy azure-mgmt-* package per
service (storage, cosmosdb, sql, recoveryservices, dataprotection), and Resource
Graph rows carry the same ARM ``properties`` document, so both paths share one
parser.

Read-only by construction: every client's pipeline ends in a policy that
refuses any request not matching `READ_OPERATIONS` (placed after the retry
policy, so it also sees retries and anything another policy would send), and
the SDK's automatic resource-provider registration (a POST) is left out of the
pipeline altogether.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from ..core import Collector
from ..errors import CredentialsError, UserError
from ..model import Gap, Location, Owner, OwnerNode, Resource

if TYPE_CHECKING:  # the Azure SDK is imported lazily: `--help` and the gate must not pay for it
    from azure.core.credentials import TokenCredential

    from ..geography import Catalog

PROVIDER = "azure"


class ReadOperation(NamedTuple):
    """One kind of request the adapter may send; the RBAC action that allows it comes last.

    A tuple whose last item is the permission name is the shape every adapter's
    allow-list shares (`permissions azure` derives the custom role from it).
    """

    method: str
    path: str  # regular expression over the lower-case URL path
    purpose: str
    action: str

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and re.fullmatch(self.path, path) is not None


_SUB = r"/subscriptions/[^/]+"
_RG = _SUB + r"/resourcegroups/[^/]+"
_PROVIDERS = _RG + r"/providers/"
_MG = r"/providers/microsoft\.management/managementgroups/[^/]+"
_POLICY_SCOPE = rf"({_MG}|{_SUB}|{_RG})"
_DEFINITION_SCOPE = rf"({_MG}|{_SUB})?"

#: Every request the adapter may send. Nothing else leaves the process: the
#: pipeline policy refuses it. `permissions azure` builds the role from `action`.
READ_OPERATIONS: tuple[ReadOperation, ...] = (
    ReadOperation("GET", r"/subscriptions", "list subscriptions", "Microsoft.Resources/subscriptions/read"),
    ReadOperation(
        "GET",
        _SUB + r"/locations",
        "location metadata (physical location, paired region)",
        "Microsoft.Resources/subscriptions/locations/read",
    ),
    ReadOperation("GET", _SUB + r"/resources", "list resources", "Microsoft.Resources/subscriptions/resources/read"),
    ReadOperation(
        "GET",
        _SUB + r"/resourcegroups",
        "list resource groups",
        "Microsoft.Resources/subscriptions/resourceGroups/read",
    ),
    ReadOperation(
        "POST",
        r"/providers/microsoft\.resourcegraph/resources",
        "Resource Graph query (read-only; a query is a POST)",
        "Microsoft.ResourceGraph/resources/read",
    ),
    ReadOperation(
        "GET",
        _PROVIDERS + r"microsoft\.storage/storageaccounts/[^/]+",
        "geo-redundant secondary location",
        "Microsoft.Storage/storageAccounts/read",
    ),
    ReadOperation(
        "GET",
        _PROVIDERS + r"microsoft\.documentdb/databaseaccounts/[^/]+",
        "Cosmos DB regions",
        "Microsoft.DocumentDB/databaseAccounts/read",
    ),
    ReadOperation(
        "GET",
        _PROVIDERS + r"microsoft\.sql/servers/[^/]+/databases/[^/]+/replicationlinks",
        "SQL geo-replicas",
        "Microsoft.Sql/servers/databases/replicationLinks/read",
    ),
    ReadOperation(
        "GET",
        _PROVIDERS + r"microsoft\.recoveryservices/vaults/[^/]+",
        "backup redundancy and cross-region restore",
        "Microsoft.RecoveryServices/Vaults/read",
    ),
    ReadOperation(
        "GET",
        _PROVIDERS + r"microsoft\.dataprotection/backupvaults/[^/]+",
        "backup redundancy and cross-region restore",
        "Microsoft.DataProtection/backupVaults/read",
    ),
    # Guardrail audit (guardrails/azure_live.py): Azure Policy at management-group, subscription
    # and resource-group scope, and the custom definitions / initiatives the assignments name.
    ReadOperation(
        "GET",
        _POLICY_SCOPE + r"/providers/microsoft\.authorization/policyassignments",
        "policy assignments of a scope (guardrail audit)",
        "Microsoft.Authorization/policyAssignments/read",
    ),
    ReadOperation(
        "GET",
        _POLICY_SCOPE + r"/providers/microsoft\.authorization/policyexemptions",
        "policy exemptions of a scope (guardrail audit)",
        "Microsoft.Authorization/policyExemptions/read",
    ),
    ReadOperation(
        "GET",
        _DEFINITION_SCOPE + r"/providers/microsoft\.authorization/policydefinitions/[^/]+",
        "a policy definition an assignment names (guardrail audit)",
        "Microsoft.Authorization/policyDefinitions/read",
    ),
    ReadOperation(
        "GET",
        _DEFINITION_SCOPE + r"/providers/microsoft\.authorization/policysetdefinitions/[^/]+",
        "an initiative an assignment names (guardrail audit)",
        "Microsoft.Authorization/policySetDefinitions/read",
    ),
)

#: Resource types whose data can leave the primary location, with the API
#: version their detail is read with (lower-case ARM type -> api-version).
DETAIL_API_VERSIONS: dict[str, str] = {
    "microsoft.storage/storageaccounts": "2023-05-01",
    "microsoft.documentdb/databaseaccounts": "2024-05-15",
    "microsoft.recoveryservices/vaults": "2024-04-01",
    "microsoft.dataprotection/backupvaults": "2024-04-01",
}
SQL_DATABASE = "microsoft.sql/servers/databases"
SQL_API_VERSION = "2021-11-01"
RESOURCE_GROUP = "microsoft.resources/resourcegroups"

GEO_STORAGE_SKUS = frozenset({"standard_grs", "standard_ragrs", "standard_gzrs", "standard_ragzrs"})

#: Sovereign clouds: (azure.core AzureClouds member, azure-identity authority host attribute).
CLOUDS: dict[str, tuple[str, str]] = {
    "public": ("AZURE_PUBLIC_CLOUD", "AZURE_PUBLIC_CLOUD"),
    "usgov": ("AZURE_US_GOVERNMENT", "AZURE_GOVERNMENT"),
    "china": ("AZURE_CHINA_CLOUD", "AZURE_CHINA"),
}

#: Resource Graph for more subscriptions than this in `auto` mode.
GRAPH_THRESHOLD = 10
GRAPH_SUBSCRIPTION_BATCH = 1000
INVENTORY_MODES = ("auto", "graph", "arm")

#: Throttling: at most this many retries per request, and no Retry-After wait
#: longer than this (azure-core would otherwise sleep as long as the server says).
MAX_RETRIES = 6
MAX_RETRY_AFTER = 60.0

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
#: Only the subscriptions (and their management-group chains), for the ARM path.
_SUBSCRIPTIONS_QUERY = (
    "ResourceContainers"
    " | where type =~ 'microsoft.resources/subscriptions'"
    " | project id, name, type, subscriptionId, tenantId, properties"
)


class ReadOnlyViolation(RuntimeError):
    """Raised before sending any request that is not on the read allow-list."""


class ScanCancelled(BaseException):
    """Raised before the next request once Ctrl-C stopped the scan.

    A BaseException, so the per-subscription `except Exception` handlers (and
    azure-core's retry policy) do not turn the cancellation into a gap.
    """


def _reraise_violation(exc: Exception) -> None:
    """A refused write is a bug in the adapter, never a coverage gap: let it end the scan."""
    if isinstance(exc, ReadOnlyViolation):
        raise exc


def operation_for(method: str, path: str) -> ReadOperation | None:
    low = path.lower().rstrip("/") or "/"
    for op in READ_OPERATIONS:
        if op.matches(method.upper(), low):
            return op
    return None


def _one_line(exc: BaseException | str) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    secret = os.environ.get("AZURE_CLIENT_SECRET")
    if secret and secret in line:  # belt and braces: no SDK message should echo it
        line = line.replace(secret, "***")
    return line[:300]


def _error_code(exc: BaseException) -> str:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    if code:
        return str(code)
    status = getattr(exc, "status_code", None)
    return str(status) if status else type(exc).__name__


def _lower(value: Any) -> str:
    return str(value or "").strip().lower()


def _plain(obj: Any) -> Any:
    """SDK models (MutableMapping or msrest) and graph rows as plain JSON values."""
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if hasattr(obj, "keys") and hasattr(obj, "__getitem__"):
        return {k: _plain(obj[k]) for k in obj.keys()}  # noqa: SIM118 - azure model_base mappings
    if hasattr(obj, "as_dict"):
        return obj.as_dict()
    return obj


def _resource_group(resource_id: str) -> str:
    parts = resource_id.split("/")
    return parts[4] if len(parts) > 4 and parts[3].lower() == "resourcegroups" else ""


def _subscription_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    return parts[2] if len(parts) > 2 and parts[1].lower() == "subscriptions" else ""


@dataclass
class Subscription:
    id: str
    name: str = ""
    tenant_id: str = ""
    state: str = ""
    owner: Owner | None = None


@dataclass
class LocationInfo:
    """What a subscription's `list_locations` says about a location."""

    name: str
    display_name: str = ""
    physical_location: str = ""
    geography_group: str = ""
    paired_region: str = ""
    region_type: str = ""


def _pipeline_policies(
    credential: TokenCredential,
    scopes: list[str],
    guard: Any,
    max_retry_after: float = MAX_RETRY_AFTER,
    stop: threading.Event | None = None,
) -> list[Any]:
    """The SDK's default pipeline, minus auto-registration (a write), plus the read-only guard.

    Mirrors the generated clients' list; the guard sits right after the retry
    policy, so every attempt that reaches the wire has been checked.
    """
    from azure.core.pipeline import policies
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy, ARMHttpLoggingPolicy

    class BoundedRetryPolicy(policies.RetryPolicy):  # type: ignore[type-arg]
        """azure-core honours Retry-After on 429; this caps how long one wait may be."""

        def get_retry_after(self, response: Any) -> float | None:
            after = super().get_retry_after(response)
            return None if after is None else min(after, max_retry_after)

        def _sleep_for_retry(self, response: Any, transport: Any) -> bool:
            after = self.get_retry_after(response)
            if not after:
                return False
            self._wait(after)
            return True

        def _sleep_backoff(self, settings: Any, transport: Any) -> None:
            self._wait(self.get_backoff_time(settings))

        def _wait(self, seconds: float) -> None:
            # On the scan's stop event, not time.sleep: after Ctrl-C a worker in a long
            # Retry-After wait stops at once instead of holding the exit for up to a minute.
            if seconds <= 0:
                return
            if stop is None:
                time.sleep(seconds)
            elif stop.wait(seconds):
                raise ScanCancelled()

        def _is_method_retryable(self, settings: Any, request: Any, response: Any = None) -> bool:
            # azure-core repeats a POST only after 500/503/504, never after a reset or a timeout.
            # Our one POST is a Resource Graph query: a read, safe to repeat like any GET.
            if str(request.method).upper() == "POST" and operation_for("POST", urllib.parse.urlsplit(request.url).path):
                return True
            return bool(super()._is_method_retryable(settings, request, response))

    return [
        policies.RequestIdPolicy(),
        policies.HeadersPolicy(),
        policies.UserAgentPolicy(sdk_moniker="residency-audit"),
        policies.ProxyPolicy(),
        policies.ContentDecodePolicy(),
        policies.RedirectPolicy(),
        BoundedRetryPolicy(
            retry_total=MAX_RETRIES,
            retry_status=MAX_RETRIES,
            retry_backoff_max=int(max_retry_after),
            timeout=900,
        ),
        guard,
        ARMChallengeAuthenticationPolicy(credential, *scopes),
        policies.CustomHookPolicy(),
        policies.NetworkTraceLoggingPolicy(),
        policies.DistributedTracingPolicy(),
        policies.SensitiveHeaderCleanupPolicy(),
        ARMHttpLoggingPolicy(),
    ]


class RefusedHost(Exception):
    """A request (and so its bearer token) would go to a host other than the ARM endpoint."""


def _read_only_guard(
    collector: Collector, endpoint: str, stop: threading.Event | None = None, read_timeout: float | None = None
) -> Any:
    from azure.core.pipeline.policies import HTTPPolicy

    ours = urllib.parse.urlsplit(endpoint)
    base_path = ours.path.rstrip("/").lower()

    class ReadOnlyPolicy(HTTPPolicy):  # type: ignore[type-arg]
        """Refuses (before sending) any request that is not in READ_OPERATIONS; counts the rest.

        It also refuses any host but the endpoint's: a `nextLink` elsewhere would
        otherwise carry the bearer token there.
        """

        def send(self, request: Any) -> Any:
            if stop is not None and stop.is_set():
                raise ScanCancelled()  # after Ctrl-C: no further request, retries included
            http = request.http_request
            url = urllib.parse.urlsplit(http.url)
            if url.netloc.lower() != ours.netloc.lower():
                raise RefusedHost(f"refusing to send a request to {url.netloc}: not the ARM endpoint {ours.netloc}")
            path = url.path
            if base_path and path.lower().startswith(base_path):
                path = path[len(base_path) :]
            op = operation_for(http.method, path)
            if op is None:
                raise ReadOnlyViolation(f"refusing non-read request {http.method} {path}")
            collector.count_call(op.action)
            if read_timeout is not None:  # per attempt: a stalled answer fails that attempt, then it is retried
                request.context.options.setdefault("read_timeout", read_timeout)
            return self.next.send(request)

    return ReadOnlyPolicy()


@dataclass
class AzureAdapter:
    """Scans Azure subscriptions. Construct with `from_environment` for the usual case."""

    credential: TokenCredential
    endpoint: str
    credential_scopes: list[str]
    subscriptions: list[str] | None = None
    management_group: str | None = None
    inventory: str = "auto"
    max_workers: int = 8
    cloud: str = "public"
    #: the longest wait a Retry-After may impose on one request
    max_retry_after: float = MAX_RETRY_AFTER
    #: seconds to wait for one answer (azure-core's own default is 300)
    read_timeout: float = 300.0
    catalog: Catalog | None = None
    provider: str = PROVIDER
    _locations: dict[str, LocationInfo] = field(default_factory=dict, init=False)
    _display: dict[str, str] = field(default_factory=dict, init=False)
    _clients: dict[str, Any] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _seen_by_graph: set[str] = field(default_factory=set, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)

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
        """DefaultAzureCredential (environment, workload identity, managed identity, Azure CLI...).

        AZURE_AUTHORITY_HOST, when set, overrides the cloud's authority (a private
        or test login endpoint). Instance discovery is switched off for any
        authority that is not one of Microsoft's own hosts: it would otherwise ask
        login.microsoftonline.com to vouch for a host it has never heard of.
        """
        from azure.core import AzureClouds
        from azure.identity import AzureAuthorityHosts, DefaultAzureCredential
        from azure.mgmt.core.tools import get_arm_endpoints

        if cloud not in CLOUDS:
            raise UserError(f"unknown Azure cloud '{cloud}' (known: {', '.join(CLOUDS)})")
        if inventory not in INVENTORY_MODES:
            raise UserError(f"unknown inventory mode '{inventory}' (known: {', '.join(INVENTORY_MODES)})")
        cloud_name, authority_attr = CLOUDS[cloud]
        arm = get_arm_endpoints(getattr(AzureClouds, cloud_name))
        base = (endpoint or arm["resource_manager"]).rstrip("/")
        try:
            parsed = urllib.parse.urlsplit(base)
            _ = parsed.port  # a malformed port raises here, not in the middle of the scan
        except ValueError:
            raise UserError(f"--endpoint must be an https://HOST[:PORT] URL: {base!r}") from None
        if parsed.scheme != "https" or not parsed.netloc:
            raise UserError(f"--endpoint must be an https:// URL (bearer tokens are never sent over http): {base!r}")
        authority = os.environ.get("AZURE_AUTHORITY_HOST") or getattr(AzureAuthorityHosts, authority_attr)
        try:
            login = urllib.parse.urlsplit(authority if "//" in authority else f"https://{authority}")
            host = login.hostname or ""
            _ = login.port
        except ValueError:
            host = ""
        if not host or login.scheme != "https":
            raise UserError(
                f"AZURE_AUTHORITY_HOST must be an https:// URL or a host name (tokens are never fetched over "
                f"anything else): {authority!r}"
            )
        known_hosts = {
            getattr(AzureAuthorityHosts, a) for a in ("AZURE_PUBLIC_CLOUD", "AZURE_GOVERNMENT", "AZURE_CHINA")
        }
        # azure-identity logs every failed credential attempt as a multi-line WARNING; with no
        # handler configured Python would print it to stderr. The one-line error says it all, and
        # anyone who configures logging still gets the SDK's records (they propagate to root).
        sdk_log = logging.getLogger("azure")
        if not any(isinstance(h, logging.NullHandler) for h in sdk_log.handlers):
            sdk_log.addHandler(logging.NullHandler())
        try:
            credential = DefaultAzureCredential(authority=authority, disable_instance_discovery=host not in known_hosts)
        except ValueError as exc:  # azure-identity checks some AZURE_* settings as it builds its chain
            raise UserError(f"Azure credential settings: {exc}") from None
        except OSError as exc:  # e.g. AZURE_CLIENT_CERTIFICATE_PATH, read as the chain is built
            raise UserError(f"Azure credential settings: cannot read {exc.filename!r}: {exc.strerror}") from None
        return cls(
            credential=credential,
            endpoint=base,
            credential_scopes=list(arm["credential_scopes"]),
            subscriptions=subscriptions,
            management_group=management_group,
            inventory=inventory,
            max_workers=max_workers,
            cloud=cloud,
        )

    # ----------------------------------------------------------------- clients

    def _client(self, collector: Collector, kind: str, subscription: str = "") -> Any:
        key = f"{id(collector)}:{kind}:{subscription}"  # the guard counts into this scan's collector
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                policies = _pipeline_policies(
                    self.credential,
                    self.credential_scopes,
                    _read_only_guard(collector, self.endpoint, self._stop, self.read_timeout),
                    self.max_retry_after,
                    self._stop,
                )
                if kind == "subscriptions":
                    from azure.mgmt.resource.subscriptions import SubscriptionClient

                    client = SubscriptionClient(self.credential, base_url=self.endpoint, policies=policies)
                elif kind == "graph":
                    from azure.mgmt.resourcegraph import ResourceGraphClient

                    client = ResourceGraphClient(self.credential, base_url=self.endpoint, policies=policies)
                else:
                    from azure.mgmt.resource.resources import ResourceManagementClient

                    client = ResourceManagementClient(
                        self.credential, subscription or "-", base_url=self.endpoint, policies=policies
                    )
                self._clients[key] = client
            return client

    def _graph_rows(
        self, collector: Collector, query: str, subscriptions: list[str] | None
    ) -> Iterator[dict[str, Any]]:
        """All rows of one Resource Graph query, following `$skipToken`."""
        from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

        graph = self._client(collector, "graph")
        # One request names at most GRAPH_SUBSCRIPTION_BATCH subscriptions (the service's limit).
        batches: list[list[str] | None] = (
            [
                subscriptions[i : i + GRAPH_SUBSCRIPTION_BATCH]
                for i in range(0, len(subscriptions), GRAPH_SUBSCRIPTION_BATCH)
            ]
            if subscriptions
            else [None]
        )
        for batch in batches:
            skip: str | None = None
            while True:
                request = QueryRequest(
                    query=query,
                    subscriptions=batch,
                    management_groups=[self.management_group] if self.management_group and not batch else None,
                    options=QueryRequestOptions(skip_token=skip, top=1000, result_format="objectArray"),
                )
                answer = graph.resources(request)
                for row in answer.data or []:
                    yield _plain(row)
                skip = answer.skip_token
                if not skip:
                    break

    def _get_collection(
        self, collector: Collector, path: str, api_version: str, params: dict[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """A child collection (e.g. replicationLinks) through `get_by_id`, following `nextLink`."""
        rm = self._client(collector, "resources")
        params = dict(params or {})
        for _ in range(1000):
            page = _plain(rm.resources.get_by_id(path, api_version=api_version, params=params))
            yield from page.get("value") or []
            next_link = page.get("nextLink")
            if not next_link:
                return
            parsed = urllib.parse.urlsplit(next_link)
            path = parsed.path
            params = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query).items() if k != "api-version"}

    # ----------------------------------------------------------------- scanning

    def scan(self, collector: Collector) -> None:
        from ..geography import default_catalog

        catalog = self.catalog or default_catalog()
        self._stop.clear()
        self._check_credential()
        subs = self._scope(collector)
        if not subs:
            return
        self._learn_locations(collector, subs)
        graph = self.inventory == "graph" or (self.inventory == "auto" and len(subs) > GRAPH_THRESHOLD)
        containers = self._containers(collector, subs, _CONTAINERS_QUERY if graph else _SUBSCRIPTIONS_QUERY)
        if graph and containers is not None:
            self._scan_graph(collector, subs, containers)
        else:
            if graph:
                collector.note("azure: Resource Graph not readable; listed every subscription through ARM instead")
            self._scan_arm(collector, subs)
        self._place_unknown(collector, catalog)

    def _check_credential(self) -> None:
        from azure.core.exceptions import ClientAuthenticationError

        try:
            self.credential.get_token(*self.credential_scopes)
        except ClientAuthenticationError as exc:
            raise CredentialsError(
                "no usable Azure credentials (set AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, run "
                f"'az login', or use a managed or workload identity): {_credential_reason(exc)}"
            ) from None

    def _scope(self, collector: Collector) -> list[Subscription]:
        sc = self._client(collector, "subscriptions")
        listed: dict[str, Subscription] = {}
        try:
            for s in sc.subscriptions.list():
                sid = str(s.subscription_id or "")
                if sid:
                    listed[sid.lower()] = Subscription(sid, s.display_name or "", s.tenant_id or "", str(s.state or ""))
        except Exception as exc:  # noqa: BLE001 - a scan that cannot list its scope is a gap
            _reraise_violation(exc)
            collector.gap(Gap(PROVIDER, "", "", "Microsoft.Resources/subscriptions", _one_line(exc), _error_code(exc)))
            if not self.subscriptions:
                return []
        if self.management_group and not self.subscriptions:
            try:
                under = {
                    _lower(r.get("subscriptionId"))
                    for r in self._graph_rows(collector, _SUBSCRIPTIONS_QUERY, None)
                    if _lower(r.get("type")) == "microsoft.resources/subscriptions"
                }
            except Exception as exc:  # noqa: BLE001
                _reraise_violation(exc)
                collector.gap(
                    Gap(
                        PROVIDER,
                        self.management_group,
                        "",
                        "Microsoft.ResourceGraph",
                        f"cannot list the subscriptions under management group {self.management_group}: "
                        f"{_one_line(exc)}",
                        _error_code(exc),
                    )
                )
                return []
            chosen = [listed[s] if s in listed else Subscription(s) for s in sorted(under)]
            if not chosen:
                collector.note(f"azure: management group {self.management_group} holds no readable subscription")
            return chosen
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

    def _learn_locations(self, collector: Collector, subs: list[Subscription]) -> None:
        """Location metadata from the first subscription that answers (it is the same tenant-wide)."""
        sc = self._client(collector, "subscriptions")
        for sub in subs[:3]:
            try:
                for loc in sc.subscriptions.list_locations(sub.id):
                    meta = loc.metadata
                    paired = [p.name for p in (meta.paired_region or []) if p.name] if meta else []
                    info = LocationInfo(
                        name=_lower(loc.name),
                        display_name=str(loc.display_name or ""),
                        physical_location=str(meta.physical_location or "") if meta else "",
                        geography_group=str(meta.geography_group or "") if meta else "",
                        paired_region=_lower(paired[0]) if paired else "",
                        region_type=str(meta.region_type or "") if meta else "",
                    )
                    self._locations[info.name] = info
                    if info.display_name:
                        self._display[_lower(info.display_name)] = info.name
                return
            except Exception as exc:  # noqa: BLE001 - the catalog still knows every documented region
                _reraise_violation(exc)
                collector.note(f"azure: location metadata of subscription {sub.id} not readable ({_error_code(exc)})")

    def _containers(self, collector: Collector, subs: list[Subscription], query: str) -> list[dict[str, Any]] | None:
        """Subscriptions' management-group chains (and resource groups) from Resource Graph."""
        try:
            rows = list(self._graph_rows(collector, query, [s.id for s in subs]))
        except Exception as exc:  # noqa: BLE001 - owners then show the tenant only
            _reraise_violation(exc)
            collector.note(
                f"azure: management-group hierarchy not readable through Resource Graph ({_error_code(exc)}); "
                "owners show the tenant only"
            )
            for sub in subs:
                sub.owner = self._owner(sub, [])
            return None
        chains: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            if _lower(row.get("type")) == "microsoft.resources/subscriptions":
                sid = _lower(row.get("subscriptionId"))
                chains[sid] = list((row.get("properties") or {}).get("managementGroupAncestorsChain") or [])
                for sub in subs:
                    if sub.id.lower() == sid and not sub.tenant_id:
                        sub.tenant_id = str(row.get("tenantId") or "")
        for sub in subs:
            sub.owner = self._owner(sub, chains.get(sub.id.lower(), []))
        self._seen_by_graph = set(chains)
        return rows

    @staticmethod
    def _owner(sub: Subscription, chain: list[dict[str, Any]]) -> Owner:
        """subscription -> management groups (root first) -> tenant.

        The tenant root group has the tenant's id; it is shown once, as the tenant.
        """
        path: list[OwnerNode] = [OwnerNode("tenant", sub.tenant_id)] if sub.tenant_id else []
        for mg in reversed(chain):  # the chain runs from the immediate parent up to the root
            name = str(mg.get("name", ""))
            if name and name.lower() != sub.tenant_id.lower():
                path.append(OwnerNode("management-group", name, str(mg.get("displayName", ""))))
        return Owner("subscription", sub.id, sub.name, tuple(path))

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
            if _lower(row.get("type")) == "microsoft.resources/subscriptions/resourcegroups":
                owner = by_id.get(_lower(row.get("subscriptionId")))
                if owner is not None:
                    collector.add(self._resource_group_resource(row, owner))
        types = ", ".join(f"'{t}'" for t in (*DETAIL_API_VERSIONS, "microsoft.compute/snapshots"))
        sql: list[tuple[dict[str, Any], Subscription]] = []
        try:
            for row in self._graph_rows(collector, _RESOURCES_QUERY.format(types=types), [s.id for s in subs]):
                found = by_id.get(_lower(row.get("subscriptionId")))
                if found is None:
                    continue
                if _lower(row.get("type")) == SQL_DATABASE:
                    sql.append((row, found))
                else:
                    collector.add(self._resource(collector, row, found))
        except Exception as exc:  # noqa: BLE001 - what was read so far stays collected
            _reraise_violation(exc)
            collector.gap(Gap(PROVIDER, "", "", "Microsoft.ResourceGraph", _one_line(exc), _error_code(exc)))
        finally:
            collector.progress.done("azure:graph", "Resource Graph")
        self._run(collector, [lambda r=r, s=s: self._sql_database(collector, r, s) for r, s in sql])  # type: ignore[misc]

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
                sub.owner = self._owner(sub, [])
            rm = self._client(collector, "resources", sub.id)
            try:
                for rg in rm.resource_groups.list():
                    collector.add(self._resource_group_resource(_plain(rg), sub))
                for item in rm.resources.list():
                    raw = _plain(item)
                    kind = _lower(raw.get("type"))
                    if kind == SQL_DATABASE:
                        task = lambda raw=raw: self._sql_database(collector, raw, sub)  # noqa: E731
                    elif kind in DETAIL_API_VERSIONS and self._needs_detail(raw):
                        task = lambda raw=raw: self._detailed(collector, raw, sub)  # noqa: E731
                    else:
                        collector.add(self._resource(collector, raw, sub))
                        continue
                    with detail_lock:
                        detail.append(task)
            except Exception as exc:  # noqa: BLE001 - one unreadable subscription is a gap, not the end
                _reraise_violation(exc)
                collector.gap(Gap(PROVIDER, sub.id, "", "Microsoft.Resources", _one_line(exc), _error_code(exc)))

        self._run(collector, [lambda s=s: list_subscription(s) for s in subs], label="subscriptions")  # type: ignore[misc]
        self._run(collector, detail)

    @staticmethod
    def _needs_detail(raw: dict[str, Any]) -> bool:
        """Storage accounts need a GET only when their SKU says geo-redundant (or says nothing)."""
        if _lower(raw.get("type")) != "microsoft.storage/storageaccounts":
            return True
        sku = _lower((raw.get("sku") or {}).get("name"))
        return not sku or sku in GEO_STORAGE_SKUS

    def _detailed(self, collector: Collector, raw: dict[str, Any], sub: Subscription) -> None:
        kind = _lower(raw.get("type"))
        rm = self._client(collector, "resources", sub.id)
        try:
            full = _plain(rm.resources.get_by_id(raw["id"], api_version=DETAIL_API_VERSIONS[kind]))
            raw = {**raw, "properties": full.get("properties") or {}}
        except Exception as exc:  # noqa: BLE001 - the resource still counts, with what the listing said
            _reraise_violation(exc)
            collector.gap(Gap(PROVIDER, sub.id, _lower(raw.get("location")), kind, _one_line(exc), _error_code(exc)))
            raw = {**raw, "properties": None}
        collector.add(self._resource(collector, raw, sub))

    def _sql_database(self, collector: Collector, raw: dict[str, Any], sub: Subscription) -> None:
        resource = self._resource(collector, raw, sub)
        if _lower(raw.get("name")).rsplit("/", 1)[-1] != "master":  # the server's own metadata database
            try:
                for link in self._get_collection(collector, f"{raw['id']}/replicationLinks", SQL_API_VERSION):
                    props = link.get("properties") or {}
                    partner = self._code(props.get("partnerLocation"))
                    if partner and partner != resource.locations[0].region:
                        resource.locations.append(
                            Location(
                                partner,
                                role="replica",
                                detail=f"geo-replica {props.get('partnerServer', '')}/"
                                f"{props.get('partnerDatabase', '')} ({props.get('linkType', 'GEO')})",
                            )
                        )
            except Exception as exc:  # noqa: BLE001
                _reraise_violation(exc)
                collector.gap(
                    Gap(
                        PROVIDER,
                        sub.id,
                        _lower(raw.get("location")),
                        "Microsoft.Sql/servers/databases/replicationLinks",
                        _one_line(exc),
                        _error_code(exc),
                    )
                )
        collector.add(resource)

    def _run(self, collector: Collector, tasks: list[Callable[[], None]], label: str = "detail") -> None:
        if not tasks:
            return
        collector.progress.add_work(f"azure:{label}", len(tasks))
        pool = cf.ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="azure")
        try:
            futures = [pool.submit(t) for t in tasks]
            for fut in cf.as_completed(futures):
                fut.result()
                collector.progress.done(f"azure:{label}", label)
        except BaseException:
            # Ctrl-C (or a fatal error): running tasks stop at their next request
            # (the guard raises ScanCancelled); the caller writes what was collected now.
            self._stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    # ----------------------------------------------------------------- records

    def _code(self, name: Any) -> str | None:
        """A location code from a code or a display name ("East US" -> "eastus")."""
        text = _lower(name)
        if not text:
            return None
        if text in self._locations:
            return text
        return self._display.get(text) or text.replace(" ", "")

    def _paired(self, code: str | None) -> str | None:
        if not code:
            return None
        info = self._locations.get(code)
        if info and info.paired_region:
            return info.paired_region
        from ..geography import default_catalog

        catalog = self.catalog or default_catalog()
        return catalog.resolve(PROVIDER, code).paired_region or None

    def _resource_group_resource(self, raw: dict[str, Any], sub: Subscription) -> Resource:
        return Resource(
            provider=PROVIDER,
            kind=RESOURCE_GROUP,
            id=str(raw["id"]),
            name=str(raw.get("name", "")),
            owner=sub.owner or self._owner(sub, []),
            locations=[Location(self._code(raw.get("location")), detail="resource group metadata")],
            tags=dict(raw.get("tags") or {}),
        )

    def _resource(self, collector: Collector, raw: dict[str, Any], sub: Subscription) -> Resource:
        kind = _lower(raw.get("type"))
        props: dict[str, Any] = raw.get("properties") or {}
        where = self._code(raw.get("location"))
        zones = [str(z) for z in raw.get("zones") or []]
        zone = zones[0] if len(zones) == 1 else None
        role = "global" if where == "global" else "primary"
        sku = str((raw.get("sku") or {}).get("name") or "")
        locations = [Location(where, role=role, zone=zone)]
        if kind == "microsoft.storage/storageaccounts":
            locations = self._storage(where, sku, props)
        elif kind == "microsoft.documentdb/databaseaccounts":
            locations += self._cosmos(where, props)
        elif kind == "microsoft.recoveryservices/vaults":
            settings = props.get("redundancySettings") or {}
            geo = _lower(settings.get("standardTierStorageRedundancy")) == "georedundant"
            crr = _lower(settings.get("crossRegionRestore")) == "enabled"
            if geo or crr:
                locations.append(self._paired_location(where, "backup", crr, "Recovery Services vault"))
        elif kind == "microsoft.dataprotection/backupvaults":
            geo = any(_lower(s.get("type")) == "georedundant" for s in props.get("storageSettings") or [])
            crr_state = (props.get("featureSettings") or {}).get("crossRegionRestoreSettings") or {}
            crr = _lower(crr_state.get("state")) == "enabled"
            if geo or crr:
                locations.append(self._paired_location(where, "backup", crr, "backup vault"))
        elif kind == "microsoft.compute/snapshots":
            source = str((props.get("creationData") or {}).get("sourceResourceId") or "")
            detail = f"snapshot of {source.rsplit('/', 1)[-1]}" if source else "snapshot"
            locations = [Location(where, role="backup", zone=zone, detail=detail)]
        attributes: dict[str, Any] = {"resource_group": _resource_group(str(raw["id"])) or raw.get("resourceGroup", "")}
        if sku:
            attributes["sku"] = sku
        return Resource(
            provider=PROVIDER,
            kind=kind,
            id=str(raw["id"]),
            name=str(raw.get("name", "")),
            owner=sub.owner or self._owner(sub, []),
            locations=locations,
            tags={str(k): str(v) for k, v in (raw.get("tags") or {}).items()},
            attributes=attributes,
        )

    def _storage(self, where: str | None, sku: str, props: dict[str, Any]) -> list[Location]:
        primary = self._code(props.get("primaryLocation")) or where
        locations = [Location(primary)]
        if sku.lower() in GEO_STORAGE_SKUS:
            secondary = self._code(props.get("secondaryLocation"))
            if secondary:
                locations.append(Location(secondary, role="secondary", detail=f"{sku} geo-redundant secondary"))
            else:
                paired = self._paired(primary)
                locations.append(
                    Location(
                        paired,
                        role="secondary",
                        detail=f"{sku} geo-redundant secondary: the paired region of {primary}"
                        + ("" if paired else " (unknown)"),
                    )
                )
        return locations

    def _cosmos(self, where: str | None, props: dict[str, Any]) -> list[Location]:
        out: list[Location] = []
        seen = {where}
        for key in ("locations", "writeLocations", "readLocations"):
            for loc in props.get(key) or []:
                code = self._code(loc.get("locationName"))
                if code and code not in seen:
                    seen.add(code)
                    prio = loc.get("failoverPriority")
                    out.append(
                        Location(
                            code,
                            role="replica",
                            detail="Cosmos DB region" + (f" (failover priority {prio})" if prio is not None else ""),
                        )
                    )
        return out

    def _paired_location(self, where: str | None, role: str, crr: bool, what: str) -> Location:
        paired = self._paired(where)
        detail = f"{what}: geo-redundant copy in the paired region of {where}"
        if crr:
            detail += ", readable there (cross-region restore)"
        if not paired:
            detail += " (paired region unknown)"
        return Location(paired, role=role, detail=detail)

    def _place_unknown(self, collector: Collector, catalog: Catalog) -> None:
        """Teach the catalog locations it lacks, from the subscription's metadata (with a note)."""
        from ..geography import place_from_azure_metadata

        codes = {
            loc.region
            for r in collector.resources
            if r.provider == PROVIDER
            for loc in r.locations
            if loc.region and not catalog.knows(PROVIDER, loc.region)
        }
        cloud = {"public": "AzureCloud", "usgov": "AzureUSGovernment", "china": "AzureChinaCloud"}[self.cloud]
        for code in sorted(codes):
            info = self._locations.get(code)
            if info is None:
                continue  # the rules flag it as unknown (fail closed)
            place, note = place_from_azure_metadata(
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


def _credential_reason(exc: BaseException) -> str:
    """The first informative line of an azure-identity error (which lists every credential tried)."""
    for line in str(exc).splitlines():
        line = line.strip()
        if "AADSTS" in line or "invalid_client" in line:
            return _one_line(line)
    return _one_line(exc)
