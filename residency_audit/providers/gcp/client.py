"""Google Cloud credentials and the guarded, read-only HTTP client the scan and the
guardrail reader share.

Read-only by construction: every HTTP request of every client (Resource Manager and
Cloud Storage's own libraries, and the plain REST calls) goes through one guarded
`requests` transport adapter that refuses any request not matching a declared read
(`kinds.read_operations()`) before it is sent, counts each attempt, and retries 429s,
transient 5xx answers and dropped connections with a bounded backoff. After Ctrl-C (or
the deadline) no further attempt is made. google-auth and the clients are imported here
only inside functions.
"""

from __future__ import annotations

import ipaddress
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ...errors import CredentialsError, UserError
from ..base import ReadOnlyViolation, ReadOperation, ScanCancelled, one_line
from .kinds import read_operations

if TYPE_CHECKING:  # SDKs are imported lazily: `--help` and the gate must not pay for them
    import requests

    from ...core import Collector

#: Read-only scope: even a mis-routed call cannot write with these tokens.
SCOPES = ("https://www.googleapis.com/auth/cloud-platform.read-only",)
IMPERSONATION_SOURCE_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)

MAX_ATTEMPTS = 5  # 1 call + 4 retries on 429, transient 5xx and connection errors
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0


@dataclass(frozen=True)
class Route:
    """A declared read, its path pattern compiled for the guard."""

    op: ReadOperation
    path: re.Pattern[str]

    @property
    def service(self) -> str:
        return self.op.service

    @property
    def method(self) -> str:
        return self.op.operation

    @property
    def permission(self) -> str:
        return self.op.permission

    @property
    def http(self) -> str:
        return self.op.http


ROUTES: tuple[Route, ...] = tuple(Route(op, re.compile(op.path)) for op in read_operations())

#: Every API call the tool may make: (service, method) -> IAM permission it needs.
#: Nothing else is ever sent; `residency-audit permissions gcp` is generated from the same list.
READ_OPERATIONS: Mapping[tuple[str, str], str] = {r.op.key: r.permission for r in ROUTES}

#: `--endpoint SERVICE=URL` names: the APIs read, and the token exchange of impersonation
#: (a credential call, never a resource read).
ENDPOINT_SERVICES: tuple[str, ...] = (*dict.fromkeys(r.service for r in ROUTES), "iamcredentials")


def route_of(method: str, path: str, service: str | None = None) -> Route | None:
    """The declared read a request is, or None (refused).

    Google's APIs share path shapes across hosts (Spanner and Cloud SQL both list
    `/v1/projects/P/instances`; Memorystore and Filestore `/v1/projects/P/locations/-/instances`),
    so a request names its service where it can (`GcpClient.get_json` does); one that does not
    (the client libraries' own requests) must match the routes of exactly one service.
    """
    found = [r for r in ROUTES if r.http == method and r.path.match(path) and service in (None, r.service)]
    if not found or len({r.service for r in found}) > 1:
        return None
    return found[0]


#: The service the current thread's request is for (set by `GcpClient.get_json` around each GET).
_REQUEST = threading.local()


def host_service(headers: Mapping[str, str]) -> str | None:
    """The API a request was meant for, from its Host header (`spanner.googleapis.com`,
    `europe-west4-aiplatform.googleapis.com`), or None; the fake routes and the tests
    attribute requests by it."""
    host = next((v for k, v in headers.items() if k.lower() == "host"), "").split(":")[0].lower()
    if not host.endswith(".googleapis.com"):
        return None
    return host.split(".", 1)[0].rsplit("-", 1)[-1]


class ApiError(Exception):
    """A Google API error answer, reduced to what a gap records."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}" if reason else message)
        self.status = status
        self.reason = reason

    @property
    def code(self) -> int:  # what `base.error_code` reads
        return self.status


def describe(exc: BaseException) -> str:
    """A gap's one line: Google's reason first (SERVICE_DISABLED says more than the status),
    then the client library's message without its status prefix."""
    reason = getattr(exc, "reason", None)
    message = getattr(exc, "message", None)
    line = one_line(str(message) if message else exc, limit=10_000) or type(exc).__name__
    if isinstance(reason, str) and reason and reason not in line:
        line = f"{reason}: {line}"
    return line[:300]


def _parse_error(resp: requests.Response) -> ApiError:
    """Google's JSON error body: code, status, message, and an ErrorInfo reason."""
    status, reason, message = resp.status_code, "", resp.reason or f"HTTP {resp.status_code}"
    try:
        err = resp.json().get("error", {})
    except ValueError:
        err = {}
    if isinstance(err, dict):
        message = str(err.get("message") or message)
        reason = str(err.get("status") or "")
        for detail in err.get("details") or []:
            if isinstance(detail, dict) and detail.get("reason"):
                reason = str(detail["reason"])  # e.g. SERVICE_DISABLED beats PERMISSION_DENIED
                break
    return ApiError(status, reason, message)


# --------------------------------------------------------------------- credentials


def load_credentials(
    credentials_file: str | None = None,
    impersonate: str | None = None,
    anonymous: bool = False,
    iam_endpoint: str | None = None,
) -> tuple[Any, str | None]:
    """(credentials, default project): ADC, a key file, impersonation, or anonymous for emulators.

    With impersonation, the source credentials get the cloud-platform scope (the
    IAM Credentials API needs it) and only the impersonated token is read-only.
    The token exchange (generateAccessToken) is a credential call, not a
    resource API call, and does not go through the read allow-list.
    """
    import google.auth
    from google.auth import exceptions as gexc

    if anonymous:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials(), None  # type: ignore[no-untyped-call]
    scopes = list(IMPERSONATION_SOURCE_SCOPES if impersonate else SCOPES)
    try:
        if credentials_file:
            creds, project = _from_file(credentials_file, scopes)
        else:
            creds, project = google.auth.default(scopes=scopes)
    except gexc.DefaultCredentialsError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "not found"
        if credentials_file:
            raise CredentialsError(f"{credentials_file}: not usable Google credentials ({first[:200]})") from None
        raise CredentialsError(
            f"no usable Google credentials ({first[:200]}); run 'gcloud auth application-default login', "
            "set GOOGLE_APPLICATION_CREDENTIALS or pass --credentials FILE"
        ) from None
    except OSError as exc:
        raise CredentialsError(f"{credentials_file}: cannot read credentials: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # A malformed key file: google-auth reads its fields without checking their types.
        raise CredentialsError(f"{credentials_file}: not usable Google credentials ({describe(exc)})") from None
    if hasattr(creds, "with_always_use_jwt_access"):
        # Service-account keys sign their own JWTs: no token endpoint round trip.
        creds = creds.with_always_use_jwt_access(True)
    if impersonate:
        from google.auth import impersonated_credentials

        creds = impersonated_credentials.Credentials(  # type: ignore[no-untyped-call]
            source_credentials=creds,
            target_principal=impersonate,
            target_scopes=list(SCOPES),
            lifetime=3600,
            iam_endpoint_override=(
                f"{iam_endpoint.rstrip('/')}/v1/projects/-/serviceAccounts/{impersonate}:generateAccessToken"
                if iam_endpoint
                else None
            ),
        )
    return creds, project


def _from_file(path: str, scopes: list[str]) -> tuple[Any, str | None]:
    """A key file the user named: the type-specific loaders, the generic one for federation configs."""
    import warnings

    import google.auth

    with open(path, encoding="utf-8") as fh:
        try:
            info = json.load(fh)
        except ValueError:
            raise ValueError("not a JSON credentials file") from None
    if not isinstance(info, dict):
        raise ValueError("not a JSON credentials object")
    kind = info.get("type")
    if kind == "service_account":
        from google.oauth2 import service_account

        sa = service_account.Credentials.from_service_account_info(info, scopes=scopes)  # type: ignore[no-untyped-call]
        return sa, info.get("project_id")
    if kind == "authorized_user":
        from google.oauth2 import credentials as user

        return user.Credentials.from_authorized_user_info(info, scopes=scopes), info.get("quota_project_id")  # type: ignore[no-untyped-call]
    with warnings.catch_warnings():  # external_account etc.: the file is the user's own choice
        warnings.simplefilter("ignore", DeprecationWarning)
        creds, project = google.auth.load_credentials_from_file(path, scopes=scopes)  # type: ignore[no-untyped-call]
    return creds, project


def _is_loopback(host: str | None) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def check_endpoints(endpoints: Mapping[str, str], anonymous: bool) -> None:
    """Endpoint overrides: well-formed, known services, and no tokens over plain http off-host."""
    for service, url in endpoints.items():
        try:
            parts = urlsplit(url)
            _ = parts.port  # a malformed port raises here, not in the middle of the scan
        except ValueError:
            raise UserError(f"--endpoint {url!r}: expected http(s)://HOST[:PORT]") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UserError(f"--endpoint {url!r}: expected http(s)://HOST[:PORT]")
        if service != "*" and service not in ENDPOINT_SERVICES:
            raise UserError(f"--endpoint: unknown service {service!r} (known: {', '.join(ENDPOINT_SERVICES)})")
        if parts.scheme == "http" and not anonymous and not _is_loopback(parts.hostname):
            raise UserError(f"--endpoint {url}: refusing to send Google credentials over plain http")


def connect(
    credentials_file: str | None = None,
    impersonate: str | None = None,
    anonymous: bool = False,
    endpoints: Mapping[str, str] | None = None,
    quota_project: str | None = None,
) -> Any:
    """Checked endpoints, then the credentials every client and REST call of a run uses."""
    endpoints = endpoints or {}
    check_endpoints(endpoints, anonymous)
    iam = endpoints.get("iamcredentials") or endpoints.get("*")
    creds, _ = load_credentials(credentials_file, impersonate, anonymous, iam)
    if quota_project and hasattr(creds, "with_quota_project"):
        creds = creds.with_quota_project(quota_project)  # every client and REST call bills this project
    return creds


# --------------------------------------------------------------------- HTTP layer


def guarded_session(
    credentials: Any,
    collector_ref: Callable[[], Collector | None],
    pool: int,
    stopped: Callable[[], bool] = lambda: False,
) -> Any:
    """An AuthorizedSession whose every request is allow-listed, counted and retried.

    Retried with bounded backoff: 429 and the transient 5xx answers (500, 502, 503, 504),
    connection errors (a reset, a refused connection) and read timeouts -- every request it
    sends is a GET, so a retry cannot repeat a change. After Ctrl-C (`stopped`) no further
    attempt is made: the worker ends at its next request.
    """
    import requests
    from google.auth.transport.requests import AuthorizedSession
    from requests.adapters import HTTPAdapter

    class Guard(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            path = urlsplit(request.url).path
            route = route_of(str(request.method), path, getattr(_REQUEST, "service", None))
            if route is None:
                raise ReadOnlyViolation(f"refusing {request.method} {path}: not on the read allow-list")
            collector = collector_ref()
            for attempt in range(MAX_ATTEMPTS):
                if stopped():
                    raise ScanCancelled()
                if collector is not None:
                    collector.count_call(f"{route.service}:{route.method}")
                last = attempt == MAX_ATTEMPTS - 1
                try:
                    resp = super().send(request, *args, **kwargs)
                except (requests.ConnectionError, requests.Timeout):
                    if last:
                        raise
                    time.sleep(_retry_delay(None, attempt))
                    continue
                if resp.status_code not in RETRY_STATUSES or last:
                    return resp
                _ = resp.content  # drain, so the connection goes back to the pool cleanly
                resp.close()
                time.sleep(_retry_delay(resp.headers.get("Retry-After"), attempt))
            raise AssertionError("unreachable")  # pragma: no cover

    session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
    guard = Guard(pool_connections=pool, pool_maxsize=pool, max_retries=0)
    session.mount("https://", guard)
    session.mount("http://", guard)
    return session


def _retry_delay(retry_after: str | None, attempt: int) -> float:
    if retry_after:
        try:
            return min(BACKOFF_CAP, max(0.0, float(retry_after)))
        except ValueError:
            pass
    return float(min(BACKOFF_CAP, BACKOFF_BASE * 2.0**attempt))


@dataclass
class GcpClient:
    """One run's credentials, endpoints and guarded session; every read goes through it."""

    credentials: Any
    #: service -> base URL override ("*" for all): private service connect, emulators.
    endpoints: dict[str, str] = field(default_factory=dict)
    #: seconds to wait for one answer before the attempt counts as failed (then retried)
    read_timeout: float = 60.0
    pool: int = 10
    stop: threading.Event = field(default_factory=threading.Event)
    #: where calls are counted (the running scan's collector)
    collector: Collector | None = None
    _session: Any = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    @property
    def session(self) -> Any:
        """The guarded HTTP session every request of this client goes through."""
        with self._lock:
            if self._session is None:
                self._session = guarded_session(self.credentials, lambda: self.collector, self.pool, self.stop.is_set)
            return self._session

    def host(self, service: str, region: str = "") -> str:
        """The base URL of an API: its override, else `https://<service>.googleapis.com` (or the
        regional `https://<region>-<service>.googleapis.com` an API such as Vertex AI needs)."""
        override = self.endpoints.get(service) or self.endpoints.get("*")
        return override.rstrip("/") if override else self.host_of(service, region)

    def _endpoint_option(self, service: str) -> dict[str, Any]:
        override = self.endpoints.get(service) or self.endpoints.get("*")
        return {"api_endpoint": override.rstrip("/")} if override else {}

    def get_json(
        self,
        service: str,
        path: str,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        region: str = "",
    ) -> Any:
        """One GET of `path` (the full path, version prefix included) on the service's host.

        The guard is told which API the request is for (paths repeat across APIs). A plain-http
        override is an emulator or a loopback proxy: it gets the API's own host name in the Host
        header, as Google's front ends do, so one base URL can serve every API."""
        base = self.host(service, region)
        headers = {}
        if base.startswith("http://"):
            headers["Host"] = urlsplit(self.host_of(service, region)).netloc
        _REQUEST.service = service
        try:
            resp = self.session.get(base + path, params=params, timeout=self.read_timeout, headers=headers)
        finally:
            _REQUEST.service = None
        if resp.status_code >= 400:
            raise _parse_error(resp)
        return resp.json() if resp.content else {}

    @staticmethod
    def host_of(service: str, region: str = "") -> str:
        """Google's own base URL of an API (no override)."""
        return f"https://{region}-{service}.googleapis.com" if region else f"https://{service}.googleapis.com"

    def pages(
        self,
        service: str,
        path: str,
        key: str,
        params: dict[str, Any] | None = None,
        token_param: str = "pageToken",
        region: str = "",
    ) -> Iterator[Any]:
        """Items of a paged Google list call (`nextPageToken`)."""
        query = dict(params or {})
        for _ in range(100_000):
            doc = self.get_json(service, path, query, region)
            items = doc.get(key) or []
            yield from (items.items() if isinstance(items, dict) else items)
            token = doc.get("nextPageToken")
            if not token:
                return
            query[token_param] = token

    def resource_manager(self, name: str) -> Any:
        """A google-cloud-resource-manager client (REST transport) on the guarded session."""
        from google.cloud import resourcemanager_v3

        cls = getattr(resourcemanager_v3, name)
        client = cls(
            credentials=self.credentials, transport="rest", client_options=self._endpoint_option("cloudresourcemanager")
        )
        self._guard_client(client._transport, "_session")
        return client

    def _guard_client(self, owner: Any, attr: str) -> None:
        """Route a client library's own session through the guard; refuse to run without it."""
        session = getattr(owner, attr, None)
        if session is None or not hasattr(session, "mount"):
            raise ReadOnlyViolation(f"cannot install the read-only guard on {type(owner).__name__}")
        guard = self.session.get_adapter("https://")
        session.mount("https://", guard)
        session.mount("http://", guard)

    def buckets(self, project_id: str) -> Iterator[dict[str, Any]]:
        """Buckets through google-cloud-storage, on the guarded session, as the pages arrive,
        in the JSON shape of the API (what the parser reads)."""
        from google.cloud.storage import Client

        client = Client(
            project=project_id,
            credentials=self.credentials,
            _http=self.session,
            client_options=self._endpoint_option("storage") or None,
        )
        for b in client.list_buckets(project=project_id, retry=None, timeout=self.read_timeout):
            item: dict[str, Any] = {
                "name": b.name,
                "location": b.location,
                "locationType": b.location_type,
                "labels": dict(b.labels or {}),
            }
            if b.data_locations:
                item["customPlacementConfig"] = {"dataLocations": list(b.data_locations)}
            if b.rpo:
                item["rpo"] = b.rpo
            yield item
