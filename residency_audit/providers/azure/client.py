"""The credential and the guarded, read-only ARM client every Azure command uses.

Read-only by construction: every client's pipeline ends in a policy that refuses any
request not matching a declared read (`kinds.read_operations()`), placed after the retry
policy, so it also sees retries and anything another policy would send; the SDK's
automatic resource-provider registration (a POST) is left out of the pipeline altogether.
The same policy refuses any host but the ARM endpoint's (a `nextLink` elsewhere would
carry the bearer token there), counts each request under its RBAC action, and stops at
the next request once the scan is cancelled.

The Azure SDK is imported by the functions that talk to the cloud, never at module level.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from ...core import Collector
from ...errors import CredentialsError, UserError
from ..base import ReadOnlyViolation, ReadOperation, ScanCancelled, one_line

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

#: Sovereign clouds: (azure.core AzureClouds member, azure-identity authority host attribute).
CLOUDS: dict[str, tuple[str, str]] = {
    "public": ("AZURE_PUBLIC_CLOUD", "AZURE_PUBLIC_CLOUD"),
    "usgov": ("AZURE_US_GOVERNMENT", "AZURE_GOVERNMENT"),
    "china": ("AZURE_CHINA_CLOUD", "AZURE_CHINA"),
}

#: Throttling: at most this many retries per request, and no Retry-After wait
#: longer than this (azure-core would otherwise sleep as long as the server says).
MAX_RETRIES = 6
MAX_RETRY_AFTER = 60.0

#: One Resource Graph request names at most this many subscriptions (the service's limit).
GRAPH_SUBSCRIPTION_BATCH = 1000


class RefusedHost(Exception):
    """A request (and so its bearer token) would go to a host other than the ARM endpoint."""


@cache
def _compiled() -> tuple[tuple[ReadOperation, re.Pattern[str]], ...]:
    from .kinds import read_operations

    return tuple((op, re.compile(op.path)) for op in read_operations())


def operation_for(method: str, path: str) -> ReadOperation | None:
    """The declared read a request is, or None (the guard then refuses it)."""
    low = path.lower().rstrip("/") or "/"
    for op, pattern in _compiled():
        if op.http == method.upper() and pattern.fullmatch(low):
            return op
    return None


def describe(exc: BaseException | str) -> str:
    """One line for a gap or a note; the client secret never, should an SDK message echo it."""
    line = one_line(exc)
    secret = os.environ.get("AZURE_CLIENT_SECRET")
    if secret and secret in line:
        line = line.replace(secret, "***")
    return line


def reraise_violation(exc: Exception) -> None:
    """A refused write is a bug in the tool, never a coverage gap: let it end the scan."""
    if isinstance(exc, ReadOnlyViolation):
        raise exc


def plain(obj: Any) -> Any:
    """SDK models (MutableMapping or msrest) and graph rows as plain JSON values."""
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    if hasattr(obj, "keys") and hasattr(obj, "__getitem__"):
        return {k: plain(obj[k]) for k in obj.keys()}  # noqa: SIM118 - azure model_base mappings
    if hasattr(obj, "as_dict"):
        return obj.as_dict()
    return obj


def _credential_reason(exc: BaseException) -> str:
    """The first informative line of an azure-identity error (which lists every credential tried)."""
    for line in str(exc).splitlines():
        line = line.strip()
        if "AADSTS" in line or "invalid_client" in line:
            return describe(line)
    return describe(exc)


class Connection(NamedTuple):
    credential: TokenCredential
    endpoint: str
    credential_scopes: list[str]


def connect(cloud: str = "public", endpoint: str | None = None) -> Connection:
    """DefaultAzureCredential (environment, workload identity, managed identity, Azure CLI...).

    AZURE_AUTHORITY_HOST, when set, overrides the cloud's authority (a private or test
    login endpoint). Instance discovery is switched off for any authority that is not one
    of Microsoft's own hosts: it would otherwise ask login.microsoftonline.com to vouch
    for a host it has never heard of.
    """
    from azure.core import AzureClouds
    from azure.identity import AzureAuthorityHosts, DefaultAzureCredential
    from azure.mgmt.core.tools import get_arm_endpoints

    if cloud not in CLOUDS:
        raise UserError(f"unknown Azure cloud '{cloud}' (known: {', '.join(CLOUDS)})")
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
    known_hosts = {getattr(AzureAuthorityHosts, a) for a in ("AZURE_PUBLIC_CLOUD", "AZURE_GOVERNMENT", "AZURE_CHINA")}
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
    return Connection(credential, base, list(arm["credential_scopes"]))


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


def _read_only_guard(
    collector: Collector, endpoint: str, stop: threading.Event | None = None, read_timeout: float | None = None
) -> Any:
    from azure.core.pipeline.policies import HTTPPolicy

    ours = urllib.parse.urlsplit(endpoint)
    base_path = ours.path.rstrip("/").lower()

    class ReadOnlyPolicy(HTTPPolicy):  # type: ignore[type-arg]
        """Refuses (before sending) any request that is not a declared read; counts the rest.

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
            collector.count_call(op.permission)
            if read_timeout is not None:  # per attempt: a stalled answer fails that attempt, then it is retried
                request.context.options.setdefault("read_timeout", read_timeout)
            return self.next.send(request)

    return ReadOnlyPolicy()


@dataclass
class ArmClient:
    """A credential, an ARM endpoint, and the guarded SDK clients built on them (one set per scan)."""

    credential: TokenCredential
    endpoint: str
    credential_scopes: list[str]
    cloud: str = "public"
    #: the longest wait a Retry-After may impose on one request
    max_retry_after: float = MAX_RETRY_AFTER
    #: seconds to wait for one answer (azure-core's own default is 300)
    read_timeout: float = 300.0
    _clients: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    #: Set on Ctrl-C (or the deadline): the guard and the retry waits raise ScanCancelled.
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    def check_credential(self) -> None:
        """A token, or one line saying why not (exit 2): before anything is listed."""
        from azure.core.exceptions import ClientAuthenticationError

        try:
            self.credential.get_token(*self.credential_scopes)
        except ClientAuthenticationError as exc:
            raise CredentialsError(
                "no usable Azure credentials (set AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, run "
                f"'az login', or use a managed or workload identity): {_credential_reason(exc)}"
            ) from None

    def client(self, collector: Collector, kind: str, subscription: str = "") -> Any:
        """A guarded SDK client: `subscriptions`, `graph`, or `resources` (per subscription)."""
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

    def graph_rows(
        self,
        collector: Collector,
        query: str,
        subscriptions: list[str] | None,
        management_group: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """All rows of one Resource Graph query, following `$skipToken`."""
        from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

        graph = self.client(collector, "graph")
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
                    management_groups=[management_group] if management_group and not batch else None,
                    options=QueryRequestOptions(skip_token=skip, top=1000, result_format="objectArray"),
                )
                answer = graph.resources(request)
                for row in answer.data or []:
                    yield plain(row)
                skip = answer.skip_token
                if not skip:
                    break

    def get_by_id(self, collector: Collector, resource_id: str, api_version: str, subscription: str = "") -> Any:
        """One ARM document by id, through the generic resources client, as plain JSON."""
        rm = self.client(collector, "resources", subscription)
        return plain(rm.resources.get_by_id(resource_id, api_version=api_version))

    def get_collection(
        self, collector: Collector, path: str, api_version: str, params: dict[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """A child collection (e.g. replicationLinks) through `get_by_id`, following `nextLink`."""
        rm = self.client(collector, "resources")
        params = dict(params or {})
        for _ in range(1000):
            page = plain(rm.resources.get_by_id(path, api_version=api_version, params=params))
            yield from page.get("value") or []
            next_link = page.get("nextLink")
            if not next_link:
                return
            parsed = urllib.parse.urlsplit(next_link)
            path = parsed.path
            params = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query).items() if k != "api-version"}
