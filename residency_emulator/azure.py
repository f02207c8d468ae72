"""A small fake Azure Resource Manager (and Entra token endpoint) over HTTPS, on loopback.

No usable emulator exists for ARM, so this speaks just enough of the wire
protocol for the real SDKs: azure-identity gets a client-credentials token
from `/{tenant}/oauth2/v2.0/token` (after `/{tenant}/v2.0/.well-known/openid-configuration`),
and the azure-mgmt clients page through subscriptions, locations, resources and
resource groups (`nextLink`), read resources by id, and query Resource Graph
(`$skipToken`). Bearer tokens refuse plain http, so it serves TLS with a
self-signed certificate generated at start; `ca_file` is what a client trusts
(REQUESTS_CA_BUNDLE).

Resource Graph is faked by table, not by KQL: a query's first word picks
`Resources` or `ResourceContainers` (the only filter it understands is
"subscriptions only"), and every row carries all the columns the scanner projects;
`properties` only for the types an `iff(type in~ (...), properties, ...)` names, as the
scanner asks.

Reads by id answer in the documented shapes and only at the api-versions ARM serves for
them (`API_VERSIONS`; another is a 400, as ARM answers it); a child collection
(`replicationLinks`, `replicas`, diagnostic settings...) that holds nothing answers an
empty list, under a resource of a type that has it (`CHILD_COLLECTIONS`), and 404 elsewhere.
Subscriptions in `denied` answer 403 below `/subscriptions/{id}/` and are
invisible to Resource Graph, as a subscription the caller cannot read is in real
Azure. Everything the fake is asked is kept in `log`, so tests can prove the
scanner only read.

Faults: the `Front` speaks plain HTTP and cannot sit in front of a TLS server
whose clients insist on https, so the fake injects `front.Faults` itself, in
its own handler (`faults`: the same kinds, budget, seed and `only=` filter),
after logging the request. The Entra endpoints are never faulted: what is
under test is the scanner's handling of ARM, not azure-identity's.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import json
import re
import secrets
import shutil
import socket
import ssl
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .front import Faults, Request

JSONDict = dict[str, Any]


@dataclass
class Logged:
    method: str
    path: str  # path and query, as sent
    status: int = 0
    at: float = field(default_factory=time.monotonic)


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed CA-capable certificate for 127.0.0.1/localhost, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "residency-audit fake ARM")])
    now = _dt.datetime.now(_dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / "fake-arm.pem"
    key_file = directory / "fake-arm.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@dataclass
class FakeArm:
    """State of the fake; mutate it (or use `seed_azure`) before scanning."""

    tenant_id: str = "00000000-0000-0000-0000-0000000000aa"
    client_id: str = "00000000-0000-0000-0000-0000000000cc"
    client_secret: str = field(default_factory=lambda: "fake-arm-secret-" + secrets.token_hex(8))
    page_size: int = 2
    #: subscription id -> {"displayName", "state"}
    subscriptions: dict[str, JSONDict] = field(default_factory=dict)
    #: subscription id -> managementGroupAncestorsChain (immediate parent first, root last)
    ancestors: dict[str, list[JSONDict]] = field(default_factory=dict)
    #: ARM location objects (name, displayName, metadata...), the same for every subscription
    locations: list[JSONDict] = field(default_factory=list)
    #: subscription id -> full ARM resource documents (with properties)
    resources: dict[str, list[JSONDict]] = field(default_factory=dict)
    #: subscription id -> resource group documents
    resource_groups: dict[str, list[JSONDict]] = field(default_factory=dict)
    #: lower-case "<resource id>/<child collection>" -> items (e.g. SQL replicationLinks)
    children: dict[str, list[JSONDict]] = field(default_factory=dict)
    #: subscriptions the caller cannot read (403 below /subscriptions/{id}/, invisible to the graph)
    denied: set[str] = field(default_factory=set)
    #: path substring (lower case) -> number of 429 answers still to give before answering
    throttle: dict[str, int] = field(default_factory=dict)
    retry_after: str = "1"
    #: seconds added to every answer (real ARM answers in tens of milliseconds)
    latency: float = 0.0
    #: path substring (lower case) -> (status, ARM error code), answered every time
    errors: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: injected faults (429/500/503 with Retry-After, "reset", "slow"), drawn per ARM request
    faults: Faults | None = None
    #: where `nextLink`s point ("" = this server), e.g. to test that a client refuses a foreign host
    next_link_base: str = ""
    #: Azure Policy (guardrail audit): assignment and exemption documents (their scope is in the id)
    policy_assignments: list[JSONDict] = field(default_factory=list)
    policy_exemptions: list[JSONDict] = field(default_factory=list)
    #: lower-case id -> custom policy definition or initiative (policySetDefinition)
    policy_definitions: dict[str, JSONDict] = field(default_factory=dict)
    #: the `scope` of every token request, in order
    token_scopes: list[str] = field(default_factory=list)
    log: list[Logged] = field(default_factory=list)
    _tokens: set[str] = field(default_factory=set, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _server: ThreadingHTTPServer | None = field(default=None, init=False)
    _dir: Path | None = field(default=None, init=False)
    ca_file: Path | None = field(default=None, init=False)

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeArm:
        self._dir = Path(tempfile.mkdtemp(prefix="fake-arm-"))
        self.ca_file, key_file = _certificate(self._dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.ca_file, key_file)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                entry = Logged(self.command, self.path)
                with fake._lock:
                    fake.log.append(entry)
                if fake.latency:
                    time.sleep(fake.latency)
                if fake._fault(entry, dict(self.headers.items()), body, self):
                    return
                status, headers, payload = fake._answer(self.command, self.path, dict(self.headers.items()), body)
                entry.status = status
                data = json.dumps(payload).encode()
                self.send_response(status)
                for k, v in {"Content-Type": "application/json; charset=utf-8", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        self._server = server
        threading.Thread(target=server.serve_forever, name="fake-arm", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("fake ARM server not started")
        host, port = self._server.server_address[:2]
        return f"https://{host!s}:{port}"

    def env(self) -> dict[str, str]:
        """The standard variables that point azure-identity and the SDK's TLS at the fake."""
        return {
            "AZURE_TENANT_ID": self.tenant_id,
            "AZURE_CLIENT_ID": self.client_id,
            "AZURE_CLIENT_SECRET": self.client_secret,
            "AZURE_AUTHORITY_HOST": self.url,
            "REQUESTS_CA_BUNDLE": str(self.ca_file),
        }

    def _fault(self, entry: Logged, headers: dict[str, str], body: bytes, handler: BaseHTTPRequestHandler) -> bool:
        """Answer with an injected fault (True) or let the request through (False)."""
        if self.faults is None or "/oauth2/" in entry.path or "/.well-known/" in entry.path:
            return False
        kind = self.faults.draw(Request(entry.method, entry.path, headers, body))
        if kind is None:
            return False
        handler.close_connection = True
        if kind == "slow":
            time.sleep(self.faults.slow_seconds)
            return True
        if kind == "reset":
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            handler.connection.close()
            entry.status = -1
            return True
        status = int(kind)
        entry.status = status
        code = "TooManyRequests" if status == 429 else "InternalServerError"
        data = json.dumps(_error(code, "injected fault")).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Retry-After", "0.05")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
        return True

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()
            self.token_scopes.clear()

    def reset(self) -> None:
        """Empty estate, no faults, no log (tokens already issued stay valid)."""
        self.subscriptions, self.ancestors, self.locations = {}, {}, []
        self.resources, self.resource_groups, self.children = {}, {}, {}
        self.policy_assignments, self.policy_exemptions, self.policy_definitions = [], [], {}
        self.denied, self.throttle, self.errors = set(), {}, {}
        self.faults = None
        self.retry_after, self.next_link_base = "1", ""
        self.clear_log()

    # ---------------------------------------------------------------- routing

    def _answer(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        parsed = urllib.parse.urlsplit(raw_path)
        path = parsed.path.rstrip("/") or "/"
        low = path.lower()
        query = {k.lower(): v[-1] for k, v in urllib.parse.parse_qs(parsed.query).items()}
        parts = [p for p in low.split("/") if p]

        # --- Entra ID (the token endpoint and its discovery document)
        if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return 200, {}, self._openid(parts[0])
        if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"] and method == "POST":
            return self._token(parts[0], body)

        # --- ARM: bearer token required
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        token = auth[7:] if auth.startswith("Bearer ") else ""
        with self._lock:
            known = token in self._tokens
        if not known:
            return (
                401,
                {"WWW-Authenticate": 'Bearer authorization_uri="https://login.invalid"'},
                _error("AuthenticationFailed", "missing or invalid bearer token"),
            )
        for needle, left in list(self.throttle.items()):
            if left > 0 and needle in low:
                with self._lock:
                    self.throttle[needle] = left - 1
                return 429, {"Retry-After": self.retry_after}, _error("TooManyRequests", "throttled (fake)")
        for needle, (status, code) in self.errors.items():
            if needle in low:
                return status, {}, _error(code, f"{code} (fake)")

        if low == "/providers/microsoft.resourcegraph/resources":
            if method != "POST":
                return 405, {}, _error("MethodNotAllowed", "Resource Graph queries are POSTs")
            return self._graph(json.loads(body or b"{}"))
        if method != "GET":
            return 405, {}, _error("MethodNotAllowed", f"the fake ARM server only reads ({method} refused)")
        if low.startswith("/providers/") and _AUTHZ in low + "/":
            return self._authorization(low, path, query)
        if parts == ["subscriptions"]:
            items = [self._subscription(s) for s in self.subscriptions]
            return self._paged(path, query, items)
        if len(parts) >= 2 and parts[0] == "subscriptions":
            sub = self._sub_id(parts[1])
            if sub is None:
                return 404, {}, _error("SubscriptionNotFound", f"subscription {parts[1]} not found")
            if len(parts) == 2:
                return 200, {}, self._subscription(sub)
            if sub in self.denied:
                return (
                    403,
                    {},
                    _error(
                        "AuthorizationFailed",
                        f"The client does not have authorization to perform action over scope '/subscriptions/{sub}'",
                    ),
                )
            if _AUTHZ in low + "/":
                return self._authorization(low, path, query)
            if parts[2:] == ["locations"]:
                items = [{**loc, "id": f"/subscriptions/{sub}/locations/{loc['name']}"} for loc in self.locations]
                return 200, {}, {"value": items}
            if parts[2:] == ["resources"]:
                return self._paged(path, query, [_listed(r) for r in self.resources.get(sub, [])])
            if parts[2:] == ["resourcegroups"]:
                return self._paged(path, query, self.resource_groups.get(sub, []))
            return self._by_id(sub, low, path, query)
        return 404, {}, _error("NotFound", f"no such path {path}")

    def _sub_id(self, low: str) -> str | None:
        for s in self.subscriptions:
            if s.lower() == low:
                return s
        return None

    def _subscription(self, sub: str) -> JSONDict:
        info = self.subscriptions[sub]
        return {
            "id": f"/subscriptions/{sub}",
            "subscriptionId": sub,
            "tenantId": self.tenant_id,
            "displayName": info.get("displayName", sub),
            "state": info.get("state", "Enabled"),
        }

    def _by_id(self, sub: str, low: str, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        for r in self.resources.get(sub, []):
            rid = r["id"].lower()
            if rid == low:
                bad = _api_version_error(_type_of(r), "", query)
                return bad or (200, {}, r)
            if low.startswith(rid + "/"):
                collection = low[len(rid) + 1 :]
                types = CHILD_COLLECTIONS.get(collection)
                if types is not None and (not types or _type_of(r) in types):
                    bad = _api_version_error(_type_of(r), collection, query)
                    return bad or self._paged(path, query, self.children.get(low, []))
        for g in self.resource_groups.get(sub, []):
            gid = g["id"].lower()
            if gid == low:
                return 200, {}, g
            located = _LOCATED.fullmatch(low[len(gid) :]) if low.startswith(gid + "/") else None
            if located:  # a location-scoped collection of the group (SQL instance failover groups)
                bad = _api_version_error(located.group(1), "", query)
                return bad or self._paged(path, query, self.children.get(low, []))
        return 404, {}, _error("ResourceNotFound", f"resource {path} not found")

    def add_children(self, parent_id: str, collection: str, items: list[JSONDict]) -> None:
        """Items of a child collection: `parent_id/collection` (`replicationLinks`,
        `providers/Microsoft.Insights/diagnosticSettings`...)."""
        self.children.setdefault(f"{parent_id}/{collection}".lower(), []).extend(items)

    def _paged(self, path: str, query: dict[str, str], items: list[JSONDict]) -> tuple[int, dict[str, str], Any]:
        start = int(query.get("$skiptoken", "0") or 0)
        page = items[start : start + self.page_size]
        out: JSONDict = {"value": page}
        if start + self.page_size < len(items):
            params = {k: v for k, v in query.items() if k != "$skiptoken"}
            params["$skiptoken"] = str(start + self.page_size)
            out["nextLink"] = f"{self.next_link_base or self.url}{path}?{urllib.parse.urlencode(params)}"
        return 200, {}, out

    # ---------------------------------------------------------------- Azure Policy

    def _authorization(self, low: str, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        """Policy assignments/exemptions of a scope (with the API's $filter semantics) and definitions by id."""
        scope, _, rest = low.partition(_AUTHZ)
        kind, _, name = rest.strip("/").partition("/")
        if kind in ("policyassignments", "policyexemptions") and not name:
            items = self.policy_assignments if kind == "policyassignments" else self.policy_exemptions
            flt = query.get("$filter", "").replace(" ", "").lower()
            up = self._scope_ancestors(scope)
            chosen = []
            for item in items:
                at = str(item["id"]).lower().partition(_AUTHZ)[0]
                if flt == "atexactscope()":
                    ok = at == scope
                elif flt == "atscope()":
                    ok = at in up
                else:  # unfiltered: the scope, what it inherits, and what is set below it
                    ok = at in up or at.startswith(scope + "/")
                if ok:
                    chosen.append(item)
            return self._paged(path, query, chosen)
        if kind in ("policydefinitions", "policysetdefinitions") and name:
            doc = self.policy_definitions.get(low)
            if doc is not None:
                return 200, {}, doc
            return 404, {}, _error("PolicyDefinitionNotFound", f"policy definition {path} not found")
        return 404, {}, _error("NotFound", f"no such path {path}")

    def _scope_ancestors(self, scope: str) -> list[str]:
        """The scope and every scope above it (resource group -> subscription -> management groups)."""
        out = [scope]
        parts = scope.split("/")
        if scope.startswith("/subscriptions/") and len(parts) > 2:
            sub = self._sub_id(parts[2])
            if len(parts) > 3:
                out.append(f"/subscriptions/{parts[2]}")
            chain = self.ancestors.get(sub or "", [])
        else:
            name = parts[-1]
            chain = []
            for c in self.ancestors.values():
                names = [str(a["name"]).lower() for a in c]
                if name in names:
                    chain = c[names.index(name) + 1 :]
                    break
        out += [f"/providers/microsoft.management/managementgroups/{a['name']}".lower() for a in chain]
        return out

    # ---------------------------------------------------------------- identity

    def _openid(self, tenant: str) -> JSONDict:
        base = f"{self.url}/{tenant}"
        return {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "tenant_region_scope": "EU",
        }

    def _token(self, tenant: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        with self._lock:
            self.token_scopes.append(form.get("scope", ""))
        ok = (
            tenant == self.tenant_id.lower()
            and form.get("grant_type") == "client_credentials"
            and form.get("client_id") == self.client_id
            and secrets.compare_digest(form.get("client_secret", ""), self.client_secret)
        )
        if not ok:
            return (
                401,
                {},
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided (fake).",
                    "error_codes": [7000215],
                },
            )
        token = "fake-arm-token-" + secrets.token_hex(16)
        with self._lock:
            self._tokens.add(token)
        return 200, {}, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}

    # ---------------------------------------------------------------- Resource Graph

    def _graph(self, req: JSONDict) -> tuple[int, dict[str, str], Any]:
        query = str(req.get("query", "")).strip()
        table = query.split("|", 1)[0].strip().lower()
        subs = [s for s in self.subscriptions if s not in self.denied]
        if req.get("subscriptions"):
            wanted = {s.lower() for s in req["subscriptions"]}
            subs = [s for s in subs if s.lower() in wanted]
        if req.get("managementGroups"):
            groups = {g.lower() for g in req["managementGroups"]}
            subs = [
                s
                for s in subs
                if groups & ({a["name"].lower() for a in self.ancestors.get(s, [])} | {self.tenant_id.lower()})
            ]
        rows: list[JSONDict] = []
        if table == "resources":
            chosen = _PROPERTIES_FOR.search(query)
            with_properties = {t.lower() for t in re.findall(r"'([^']+)'", chosen.group(1))} if chosen else None
            for s in subs:
                for r in self.resources.get(s, []):
                    row = _graph_row(r, s)
                    if with_properties is not None and row["type"] not in with_properties:
                        row["properties"] = None
                    rows.append(row)
        elif table == "resourcecontainers":
            for s in subs:
                rows.append(
                    {
                        "id": f"/subscriptions/{s}",
                        "name": self.subscriptions[s].get("displayName", s),
                        "type": "microsoft.resources/subscriptions",
                        "subscriptionId": s,
                        "tenantId": self.tenant_id,
                        "location": "",
                        "properties": {"managementGroupAncestorsChain": self.ancestors.get(s, [])},
                    }
                )
                if "type =~ 'microsoft.resources/subscriptions'" in query.lower():
                    continue  # the one `where` the fake understands: subscriptions only
                for g in self.resource_groups.get(s, []):
                    rows.append(
                        {
                            **_graph_row(g, s),
                            "type": "microsoft.resources/subscriptions/resourcegroups",
                        }
                    )
        else:
            return 400, {}, _error("BadRequest", f"the fake Resource Graph knows no table {table!r}")
        options = req.get("options") or {}
        start = int(options.get("$skipToken") or 0)
        size = min(int(options.get("$top") or 1000), self.page_size)
        page = rows[start : start + size]
        out: JSONDict = {
            "totalRecords": len(rows),
            "count": len(page),
            "resultTruncated": "false",
            "data": page,
            "facets": [],
        }
        if start + size < len(rows):
            out["$skipToken"] = str(start + size)
        return 200, {}, out


_AUTHZ = "/providers/microsoft.authorization/"
_PROPERTIES_FOR = re.compile(r"properties\s*=\s*iff\(type in~ \(([^)]*)\)", re.I)
_LOCATED = re.compile(r"/providers/(microsoft\.sql/locations/[^/]+/instancefailovergroups)")

#: ARM type (lower case), or type and child collection, -> the api-versions this fake serves it at:
#: versions ARM publishes for it (https://learn.microsoft.com/en-us/rest/api/), at least the ones
#: the scanner sends. Types not listed accept any.
API_VERSIONS: dict[tuple[str, str], frozenset[str]] = {
    ("microsoft.storage/storageaccounts", ""): frozenset({"2023-01-01", "2023-05-01"}),
    ("microsoft.storage/storageaccounts", "objectreplicationpolicies"): frozenset({"2023-01-01", "2023-05-01"}),
    ("microsoft.documentdb/databaseaccounts", ""): frozenset({"2024-05-15", "2024-08-15"}),
    ("microsoft.sql/servers/databases", ""): frozenset({"2021-11-01"}),
    ("microsoft.sql/servers/databases", "replicationlinks"): frozenset({"2021-11-01"}),
    ("microsoft.sql/servers", "failovergroups"): frozenset({"2021-11-01"}),
    ("microsoft.sql/managedinstances", ""): frozenset({"2021-11-01"}),
    ("microsoft.sql/locations/[^/]+/instancefailovergroups", ""): frozenset({"2021-11-01"}),
    ("microsoft.dbforpostgresql/flexibleservers", ""): frozenset({"2022-12-01", "2024-08-01"}),
    ("microsoft.dbforpostgresql/flexibleservers", "replicas"): frozenset({"2022-12-01", "2024-08-01"}),
    ("microsoft.dbformysql/flexibleservers", ""): frozenset({"2023-06-30", "2023-12-30"}),
    ("microsoft.dbformysql/flexibleservers", "replicas"): frozenset({"2023-06-30", "2023-12-30"}),
    ("microsoft.containerregistry/registries", "replications"): frozenset({"2023-07-01", "2025-04-01"}),
    ("microsoft.cache/redis", "linkedservers"): frozenset({"2023-08-01", "2024-03-01"}),
    ("microsoft.eventhub/namespaces", "disasterrecoveryconfigs"): frozenset({"2021-11-01", "2024-01-01"}),
    ("microsoft.servicebus/namespaces", "disasterrecoveryconfigs"): frozenset({"2021-11-01"}),
    ("microsoft.web/sites", "backups"): frozenset({"2023-01-01", "2023-12-01"}),
    ("microsoft.operationalinsights/workspaces", ""): frozenset({"2023-09-01", "2025-02-01"}),
    ("microsoft.recoveryservices/vaults", ""): frozenset({"2024-04-01"}),
    ("microsoft.compute/snapshots", ""): frozenset({"2023-10-02", "2024-03-02"}),
    ("microsoft.dataprotection/backupvaults", ""): frozenset({"2024-04-01"}),
    ("*", "providers/microsoft.insights/diagnosticsettings"): frozenset({"2021-05-01-preview"}),
    ("*", "blobservices/default/providers/microsoft.insights/diagnosticsettings"): frozenset({"2021-05-01-preview"}),
}

#: Child collection (lower case) -> the ARM types that have it (empty: every type).
CHILD_COLLECTIONS: dict[str, frozenset[str]] = {
    "replicationlinks": frozenset({"microsoft.sql/servers/databases"}),
    "failovergroups": frozenset({"microsoft.sql/servers"}),
    "replicas": frozenset({"microsoft.dbforpostgresql/flexibleservers", "microsoft.dbformysql/flexibleservers"}),
    "replications": frozenset({"microsoft.containerregistry/registries"}),
    "linkedservers": frozenset({"microsoft.cache/redis"}),
    "disasterrecoveryconfigs": frozenset({"microsoft.eventhub/namespaces", "microsoft.servicebus/namespaces"}),
    "objectreplicationpolicies": frozenset({"microsoft.storage/storageaccounts"}),
    "backups": frozenset({"microsoft.web/sites"}),
    "providers/microsoft.insights/diagnosticsettings": frozenset(),
    "blobservices/default/providers/microsoft.insights/diagnosticsettings": frozenset(
        {"microsoft.storage/storageaccounts"}
    ),
}


def _type_of(r: JSONDict) -> str:
    return str(r.get("type", "")).lower()


def _api_version_error(rtype: str, collection: str, query: dict[str, str]) -> tuple[int, dict[str, str], Any] | None:
    """ARM's answer to an api-version its resource provider does not serve (None when it does)."""
    served = API_VERSIONS.get((rtype, collection))
    if served is None and rtype.startswith("microsoft.sql/locations/"):
        served = API_VERSIONS.get(("microsoft.sql/locations/[^/]+/instancefailovergroups", collection))
    if served is None:
        served = API_VERSIONS.get(("*", collection))
    version = query.get("api-version", "")
    if served is None or version in served:
        return None
    return (
        400,
        {},
        _error(
            "NoRegisteredProviderFound",
            f"No registered resource provider found for API version '{version}' and type '{rtype}'. "
            f"The supported api-versions are '{', '.join(sorted(served))}'.",
        ),
    )


def _error(code: str, message: str) -> JSONDict:
    return {"error": {"code": code, "message": message}}


def _listed(r: JSONDict) -> JSONDict:
    """What `resources.list` shows of a resource: no properties."""
    return {k: v for k, v in r.items() if k != "properties"}


def _graph_row(r: JSONDict, sub: str) -> JSONDict:
    rid = r["id"]
    rg = rid.split("/")[4] if rid.lower().startswith("/subscriptions/") and len(rid.split("/")) > 4 else ""
    return {
        "id": rid,
        "name": r.get("name", ""),
        "type": str(r.get("type", "")).lower(),
        "location": r.get("location", ""),
        "resourceGroup": rg.lower(),
        "subscriptionId": sub,
        "tenantId": "",
        "kind": r.get("kind", ""),
        "sku": r.get("sku"),
        "zones": r.get("zones"),
        "tags": r.get("tags") or {},
        "properties": r.get("properties") or {},
    }


# ------------------------------------------------------------------------ estate

TENANT = "7d2f6c1e-4b8a-4e0f-9c3d-2a5b8e9f1c01"
#: The signature of the App Service backup's SAS URL: tests check it never reaches any output.
BACKUP_SAS_SIGNATURE = "c2VjcmV0LXNhcy1zaWduYXR1cmUtZG8tbm90LWxlYWs%3D"
SUB_PROD = "1b4e8c2a-9f3d-4a6b-8e1c-5d7f9a2b3c01"
SUB_ANALYTICS = "2c5f9d3b-0a4e-4b7c-9f2d-6e8a0b3c4d02"
SUB_LEGACY = "3d6a0e4c-1b5f-4c8d-a03e-7f9b1c4d5e03"

#: (code, display name, physical location, geography group, paired region)
_LOCATIONS = [
    ("westeurope", "West Europe", "Netherlands", "Europe", "northeurope"),
    ("northeurope", "North Europe", "Ireland", "Europe", "westeurope"),
    ("swedencentral", "Sweden Central", "Gävle", "Europe", "swedensouth"),
    ("swedensouth", "Sweden South", "Malmo", "Europe", "swedencentral"),
    ("francecentral", "France Central", "Paris", "Europe", "francesouth"),
    ("francesouth", "France South", "Marseille", "Europe", "francecentral"),
    ("germanywestcentral", "Germany West Central", "Frankfurt", "Europe", "germanynorth"),
    ("germanynorth", "Germany North", "Berlin", "Europe", "germanywestcentral"),
    ("uksouth", "UK South", "London", "Europe", "ukwest"),
    ("ukwest", "UK West", "Cardiff", "Europe", "uksouth"),
    ("switzerlandnorth", "Switzerland North", "Zurich", "Europe", "switzerlandwest"),
    ("switzerlandwest", "Switzerland West", "Geneva", "Europe", "switzerlandnorth"),
    ("eastus", "East US", "Virginia", "US", "westus"),
    ("westus", "West US", "California", "US", "eastus"),
]


def arm_location(code: str, display: str, physical: str, group: str, paired: str) -> JSONDict:
    return {
        "name": code,
        "type": "Region",
        "displayName": display,
        "regionalDisplayName": f"({group}) {display}",
        "metadata": {
            "regionType": "Physical",
            "regionCategory": "Recommended",
            "geography": group,
            "geographyGroup": group,
            "physicalLocation": physical,
            "pairedRegion": [{"name": paired}],
        },
    }


#: Built-in policy definitions (their ids are the same in every tenant).
ALLOWED_LOCATIONS = "/providers/Microsoft.Authorization/policyDefinitions/e56962a6-4747-49cd-b67b-bf8b01975c4c"
ALLOWED_RG_LOCATIONS = "/providers/Microsoft.Authorization/policyDefinitions/e765b5de-1225-4ba3-bd56-1ac6695af988"


def mg_scope(name: str) -> str:
    return f"/providers/Microsoft.Management/managementGroups/{name}"


def policy_assignment(
    scope: str, name: str, definition_id: str, display: str, locations: list[str] | None = None, **props: Any
) -> JSONDict:
    """An assignment as the REST list returns it; `locations` fills listOfAllowedLocations."""
    params = dict(props.pop("parameters", {}))
    if locations is not None:
        params["listOfAllowedLocations"] = {"value": locations}
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/policyAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/policyAssignments",
        "properties": {
            "displayName": display,
            "policyDefinitionId": definition_id,
            "scope": scope,
            "notScopes": [],
            "parameters": params,
            "enforcementMode": "Default",
            **props,
        },
    }


def policy_exemption(scope: str, name: str, assignment_id: str, display: str, **props: Any) -> JSONDict:
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/policyExemptions/{name}",
        "name": name,
        "type": "Microsoft.Authorization/policyExemptions",
        "properties": {
            "displayName": display,
            "policyAssignmentId": assignment_id,
            "exemptionCategory": "Waiver",
            **props,
        },
    }


def policy_definition(scope: str, name: str, display: str, rule: JSONDict, parameters: JSONDict) -> JSONDict:
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/policyDefinitions/{name}",
        "name": name,
        "type": "Microsoft.Authorization/policyDefinitions",
        "properties": {
            "displayName": display,
            "policyType": "Custom",
            "mode": "Indexed",
            "parameters": parameters,
            "policyRule": rule,
        },
    }


def _rid(sub: str, rg: str, provider_type: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{provider_type}/{name}"


def arm_resource(sub: str, rg: str, provider_type: str, name: str, location: str, **extra: Any) -> JSONDict:
    if provider_type.count("/") == 2:  # a child type: .../servers/{server}/databases/{db}, named "server/db"
        ns, parent_type, child_type = provider_type.split("/")
        parent, child = name.split("/")
        rid = _rid(sub, rg, f"{ns}/{parent_type}", f"{parent}/{child_type}/{child}")
    else:
        rid = _rid(sub, rg, provider_type, name)
    return {"id": rid, "name": name, "type": provider_type, "location": location, **extra}


# One planting function per kind the scanner models (`providers/azure/kinds.py` names each as its `seed`).


def resource_group(sub: str, name: str, location: str) -> JSONDict:
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{name}",
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    }


def storage_account(sub: str, rg: str, name: str, location: str, **extra: Any) -> JSONDict:
    return arm_resource(sub, rg, "Microsoft.Storage/storageAccounts", name, location, **extra)


def cosmos_account(sub: str, rg: str, name: str, location: str, **extra: Any) -> JSONDict:
    return arm_resource(sub, rg, "Microsoft.DocumentDB/databaseAccounts", name, location, **extra)


def sql_database(sub: str, rg: str, name: str, location: str, **extra: Any) -> JSONDict:
    """`name` is "server/database"; its replication links go into `FakeArm.children`."""
    return arm_resource(sub, rg, "Microsoft.Sql/servers/databases", name, location, **extra)


def recovery_services_vault(sub: str, rg: str, name: str, location: str, **extra: Any) -> JSONDict:
    return arm_resource(sub, rg, "Microsoft.RecoveryServices/vaults", name, location, **extra)


def backup_vault(sub: str, rg: str, name: str, location: str, **extra: Any) -> JSONDict:
    return arm_resource(sub, rg, "Microsoft.DataProtection/backupVaults", name, location, **extra)


def disk(sub: str, rg: str, name: str, location: str, **extra: Any) -> JSONDict:
    return arm_resource(sub, rg, "Microsoft.Compute/disks", name, location, **extra)


def snapshot(sub: str, rg: str, name: str, location: str, **extra: Any) -> JSONDict:
    return arm_resource(sub, rg, "Microsoft.Compute/snapshots", name, location, **extra)


def key_vault(sub: str, rg: str, name: str, location: str, **extra: Any) -> JSONDict:
    """A vault as ARM lists it; where its contents are replicated follows from its location."""
    extra.setdefault(
        "properties",
        {
            "tenantId": TENANT,
            "sku": {"family": "A", "name": "standard"},
            "vaultUri": f"https://{name}.vault.azure.net/",
            "enableSoftDelete": True,
        },
    )
    return arm_resource(sub, rg, "Microsoft.KeyVault/vaults", name, location, **extra)


def sql_server(sub: str, rg: str, name: str, location: str, **extra: Any) -> JSONDict:
    """A logical server; its failover groups go into `FakeArm.children` (`failover_group`)."""
    extra.setdefault("kind", "v12.0")
    extra.setdefault(
        "properties",
        {"fullyQualifiedDomainName": f"{name}.database.windows.net", "version": "12.0", "state": "Ready"},
    )
    return arm_resource(sub, rg, "Microsoft.Sql/servers", name, location, **extra)


def sql_managed_instance(
    sub: str, rg: str, name: str, location: str, redundancy: str = "Geo", **extra: Any
) -> JSONDict:
    extra.setdefault("sku", {"name": "GP_Gen5", "tier": "GeneralPurpose", "family": "Gen5", "capacity": 8})
    extra.setdefault(
        "properties",
        {
            "fullyQualifiedDomainName": f"{name}.1a2b3c4d5e6f.database.windows.net",
            "state": "Ready",
            "licenseType": "LicenseIncluded",
            "vCores": 8,
            "storageSizeInGB": 256,
            "requestedBackupStorageRedundancy": redundancy,
            "currentBackupStorageRedundancy": redundancy,
        },
    )
    return arm_resource(sub, rg, "Microsoft.Sql/managedInstances", name, location, **extra)


def _flexible_properties(name: str, suffix: str, geo_backup: bool, role: str, source: str) -> JSONDict:
    props: JSONDict = {
        "fullyQualifiedDomainName": f"{name}.{suffix}",
        "state": "Ready",
        "storage": {"storageSizeGB": 128},
        "backup": {"backupRetentionDays": 7, "geoRedundantBackup": "Enabled" if geo_backup else "Disabled"},
        "highAvailability": {"mode": "Disabled"},
        "replicationRole": role,
    }
    if source:
        props["sourceServerResourceId"] = source
    return props


def postgresql_flexible_server(
    sub: str,
    rg: str,
    name: str,
    location: str,
    geo_backup: bool = False,
    role: str = "Primary",
    source: str = "",
    **extra: Any,
) -> JSONDict:
    """A flexible server (2024-08-01): `geo_backup` sets backup.geoRedundantBackup; a replica has
    `role` AsyncReplica/GeoAsyncReplica and its `source`; a source's replicas go into `children`."""
    extra.setdefault("sku", {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"})
    extra.setdefault("properties", _flexible_properties(name, "postgres.database.azure.com", geo_backup, role, source))
    extra["properties"].setdefault("version", "16")
    return arm_resource(sub, rg, "Microsoft.DBforPostgreSQL/flexibleServers", name, location, **extra)


def mysql_flexible_server(
    sub: str,
    rg: str,
    name: str,
    location: str,
    geo_backup: bool = False,
    role: str = "None",
    source: str = "",
    **extra: Any,
) -> JSONDict:
    """A flexible server (2023-12-30): replicationRole None, Source or Replica."""
    extra.setdefault("sku", {"name": "Standard_D2ds_v4", "tier": "GeneralPurpose"})
    extra.setdefault("properties", _flexible_properties(name, "mysql.database.azure.com", geo_backup, role, source))
    extra["properties"].setdefault("version", "8.0.21")
    return arm_resource(sub, rg, "Microsoft.DBforMySQL/flexibleServers", name, location, **extra)


def container_registry(sub: str, rg: str, name: str, location: str, sku: str = "Premium", **extra: Any) -> JSONDict:
    """A registry; its geo-replications (Premium) go into `children` (`registry_replication`)."""
    extra.setdefault(
        "properties",
        {"loginServer": f"{name}.azurecr.io", "adminUserEnabled": False, "provisioningState": "Succeeded"},
    )
    return arm_resource(
        sub, rg, "Microsoft.ContainerRegistry/registries", name, location, sku={"name": sku, "tier": sku}, **extra
    )


def redis_cache(sub: str, rg: str, name: str, location: str, linked: list[str] = [], **extra: Any) -> JSONDict:  # noqa: B006
    """An Azure Cache for Redis (2024-03-01); `linked` are the ids of its linkedServers children."""
    extra.setdefault(
        "properties",
        {
            "sku": {"name": "Premium", "family": "P", "capacity": 1},
            "hostName": f"{name}.redis.cache.windows.net",
            "port": 6379,
            "sslPort": 6380,
            "provisioningState": "Succeeded",
            "linkedServers": [{"id": link} for link in linked],
        },
    )
    return arm_resource(sub, rg, "Microsoft.Cache/Redis", name, location, **extra)


def _namespace(ptype: str, sub: str, rg: str, name: str, location: str, sku: str, host: str, **extra: Any) -> JSONDict:
    extra.setdefault(
        "properties",
        {"serviceBusEndpoint": f"https://{name}.{host}:443/", "status": "Active", "provisioningState": "Succeeded"},
    )
    return arm_resource(sub, rg, ptype, name, location, sku={"name": sku, "tier": sku}, **extra)


def event_hub_namespace(sub: str, rg: str, name: str, location: str, sku: str = "Standard", **extra: Any) -> JSONDict:
    """A namespace; its geo-DR aliases go into `children` (`dr_alias`)."""
    return _namespace("Microsoft.EventHub/namespaces", sub, rg, name, location, sku, "servicebus.windows.net", **extra)


def service_bus_namespace(sub: str, rg: str, name: str, location: str, sku: str = "Premium", **extra: Any) -> JSONDict:
    return _namespace(
        "Microsoft.ServiceBus/namespaces", sub, rg, name, location, sku, "servicebus.windows.net", **extra
    )


def web_site(sub: str, rg: str, name: str, location: str, **extra: Any) -> JSONDict:
    """An App Service app; its backups go into `children` (`site_backup`)."""
    extra.setdefault("kind", "app,linux")
    extra.setdefault(
        "properties",
        {"state": "Running", "defaultHostName": f"{name}.azurewebsites.net", "httpsOnly": True},
    )
    return arm_resource(sub, rg, "Microsoft.Web/sites", name, location, **extra)


def log_analytics_workspace(
    sub: str, rg: str, name: str, location: str, replication: str = "", **extra: Any
) -> JSONDict:
    """A workspace (2025-02-01); `replication` enables workspace replication to that location."""
    props: JSONDict = {
        "customerId": "5b02755b-5bf4-430c-9487-45502a2a7e62",
        "provisioningState": "Succeeded",
        "sku": {"name": "PerGB2018"},
        "retentionInDays": 30,
    }
    if replication:
        props["replication"] = {"location": replication, "enabled": True, "provisioningState": "Succeeded"}
    extra.setdefault("properties", props)
    return arm_resource(sub, rg, "Microsoft.OperationalInsights/workspaces", name, location, **extra)


# Child collection items, in the shapes their list operations return.


def replication_link(
    database_id: str, name: str, partner_server: str, partner_db: str, partner_location: str
) -> JSONDict:
    return {
        "id": f"{database_id}/replicationLinks/{name}",
        "name": name,
        "type": "Microsoft.Sql/servers/databases/replicationLinks",
        "properties": {
            "partnerServer": partner_server,
            "partnerDatabase": partner_db,
            "partnerLocation": partner_location,
            "role": "Primary",
            "partnerRole": "Secondary",
            "linkType": "GEO",
            "replicationState": "CATCH_UP",
        },
    }


def failover_group(
    server_id: str, name: str, location: str, partner_id: str, partner_location: str, databases: list[str]
) -> JSONDict:
    return {
        "id": f"{server_id}/failoverGroups/{name}",
        "name": name,
        "type": "Microsoft.Sql/servers/failoverGroups",
        "location": location,
        "properties": {
            "readWriteEndpoint": {"failoverPolicy": "Automatic", "failoverWithDataLossGracePeriodMinutes": 480},
            "readOnlyEndpoint": {"failoverPolicy": "Disabled"},
            "replicationRole": "Primary",
            "replicationState": "CATCH_UP",
            "partnerServers": [{"id": partner_id, "location": partner_location, "replicationRole": "Secondary"}],
            "databases": databases,
        },
    }


def instance_failover_group(
    group_id: str, location: str, name: str, primary_id: str, partner_id: str, partner_location: str
) -> JSONDict:
    """At `{resource group}/providers/Microsoft.Sql/locations/{location}/instanceFailoverGroups`."""
    return {
        "id": f"{group_id}/providers/Microsoft.Sql/locations/{location}/instanceFailoverGroups/{name}",
        "name": name,
        "type": "Microsoft.Sql/locations/instanceFailoverGroups",
        "properties": {
            "readWriteEndpoint": {"failoverPolicy": "Automatic", "failoverWithDataLossGracePeriodMinutes": 480},
            "readOnlyEndpoint": {"failoverPolicy": "Disabled"},
            "replicationRole": "Primary",
            "replicationState": "CATCH_UP",
            "partnerRegions": [{"location": partner_location, "replicationRole": "Secondary"}],
            "managedInstancePairs": [{"primaryManagedInstanceId": primary_id, "partnerManagedInstanceId": partner_id}],
        },
    }


def registry_replication(registry_id: str, location: str) -> JSONDict:
    return {
        "id": f"{registry_id}/replications/{location}",
        "name": location,
        "type": "Microsoft.ContainerRegistry/registries/replications",
        "location": location,
        "properties": {
            "provisioningState": "Succeeded",
            "status": {"displayStatus": "Ready"},
            "regionEndpointEnabled": True,
        },
    }


def redis_link(cache_id: str, linked_id: str, linked_location: str, role: str) -> JSONDict:
    name = linked_id.rsplit("/", 1)[-1]
    return {
        "id": f"{cache_id}/linkedServers/{name}",
        "name": name,
        "type": "Microsoft.Cache/Redis/linkedServers",
        "properties": {
            "linkedRedisCacheId": linked_id,
            "linkedRedisCacheLocation": linked_location,
            "serverRole": role,
            "provisioningState": "Succeeded",
        },
    }


def dr_alias(namespace_id: str, name: str, partner: str, role: str) -> JSONDict:
    """A geo-DR alias; `partner` is the partner namespace's ARM id, or (as ARM also answers) its name."""
    kind = "EventHub" if "/microsoft.eventhub/" in namespace_id.lower() else "ServiceBus"
    return {
        "id": f"{namespace_id}/disasterRecoveryConfigs/{name}",
        "name": name,
        "type": f"Microsoft.{kind}/Namespaces/disasterRecoveryConfigs",
        "properties": {
            "provisioningState": "Succeeded",
            "partnerNamespace": partner,
            "role": role,
            "pendingReplicationOperationsCount": 0,
        },
    }


def object_replication_policy(account_id: str, policy_id: str, source: str, destination: str) -> JSONDict:
    """`source`/`destination`: account names, or full ids (required when cross-tenant replication is off)."""
    return {
        "id": f"{account_id}/objectReplicationPolicies/{policy_id}",
        "name": policy_id,
        "type": "Microsoft.Storage/storageAccounts/objectReplicationPolicies",
        "properties": {
            "policyId": policy_id,
            "enabledTime": "2025-03-01T09:00:00Z",
            "sourceAccount": source,
            "destinationAccount": destination,
            "rules": [{"ruleId": "r1", "sourceContainer": "invoices", "destinationContainer": "invoices-copy"}],
        },
    }


def site_backup(site_id: str, backup_id: int, storage_url: str) -> JSONDict:
    """A backup item as `sites/{name}/backups` lists it: `storageAccountUrl` is a SAS URL (a secret)."""
    name = site_id.rsplit("/", 1)[-1]
    return {
        "id": f"{site_id}/backups/{backup_id}",
        "name": f"{name}_{backup_id}",
        "type": "Microsoft.Web/sites/backups",
        "properties": {
            "id": backup_id,
            "storageAccountUrl": storage_url,
            "blobName": f"{name}_20250301.zip",
            "name": f"{name}_20250301",
            "status": "Succeeded",
            "sizeInBytes": 56091883,
            "created": "2025-03-01T02:00:00Z",
            "scheduled": True,
        },
    }


DIAGNOSTIC_SETTINGS = "providers/Microsoft.Insights/diagnosticSettings"
BLOB_DIAGNOSTIC_SETTINGS = "blobServices/default/providers/Microsoft.Insights/diagnosticSettings"


def diagnostic_setting(resource_id: str, name: str, enabled: bool = True, **destinations: str) -> JSONDict:
    """A diagnostic setting (2021-05-01-preview); `destinations`: workspaceId, storageAccountId,
    eventHubAuthorizationRuleId, eventHubName, marketplacePartnerId."""
    return {
        "id": f"{resource_id}/{DIAGNOSTIC_SETTINGS}/{name}",
        "name": name,
        "type": "Microsoft.Insights/diagnosticSettings",
        "properties": {
            **destinations,
            "logs": [{"categoryGroup": "audit", "enabled": enabled, "retentionPolicy": {"enabled": False, "days": 0}}],
            "metrics": [{"category": "AllMetrics", "enabled": False, "retentionPolicy": {"enabled": False, "days": 0}}],
            "logAnalyticsDestinationType": None,
        },
    }


def seed_azure(fake: FakeArm) -> None:
    """The bundled sample Azure estate: clean EU resources and the classic traps.

    Traps: a UK South storage account (not EU), a Cosmos DB account with a
    replica in East US, a VM in Switzerland North, a legacy East US account and
    a legacy UK South Key Vault (replicated to UK West); clean: a GRS account in
    West Europe whose secondary is North Europe, Sweden Central, a SQL database
    geo-replicated to France, a geo-redundant backup vault pairing to North Europe.
    The copies services keep elsewhere (`_copies`): a PostgreSQL server in Switzerland
    North with geo-redundant backup (pair Switzerland West), a SQL database with geo
    backups in UK South, a registry replicating to East US, a Service Bus geo-DR alias to
    a UK South namespace, a Key Vault whose logs go to an East US workspace, and an object
    replication policy to the legacy East US account; each beside a clean EU counterpart.
    """
    fake.tenant_id = TENANT
    fake.locations = [arm_location(*loc) for loc in _LOCATIONS]
    root = {"name": TENANT, "displayName": "Tenant Root Group"}
    org = {"name": "mg-infogroen", "displayName": "Infogroen"}
    prod = {"name": "mg-production", "displayName": "Production"}
    fake.subscriptions = {
        SUB_PROD: {"displayName": "infogroen-prod"},
        SUB_ANALYTICS: {"displayName": "infogroen-analytics"},
        SUB_LEGACY: {"displayName": "infogroen-legacy"},
    }
    fake.ancestors = {SUB_PROD: [prod, org, root], SUB_ANALYTICS: [org, root], SUB_LEGACY: [root]}
    p, a = SUB_PROD, SUB_ANALYTICS
    fake.resource_groups = {
        p: [resource_group(p, "rg-data", "westeurope"), resource_group(p, "rg-apps", "swedencentral")],
        a: [resource_group(a, "rg-analytics", "francecentral")],
        SUB_LEGACY: [resource_group(SUB_LEGACY, "rg-old", "westeurope")],
    }
    fake.resources = {
        p: [
            storage_account(
                p,
                "rg-data",
                "stinvoiceswe",
                "westeurope",
                sku={"name": "Standard_GRS", "tier": "Standard"},
                tags={"customer": "acme"},  # the demo's data set (`demo` lists its copies)
                kind="StorageV2",
                properties={
                    "primaryLocation": "westeurope",
                    "secondaryLocation": "northeurope",
                    "statusOfPrimary": "available",
                    "statusOfSecondary": "available",
                },
            ),
            storage_account(
                p,
                "rg-apps",
                "starchivesc",
                "swedencentral",
                sku={"name": "Standard_LRS", "tier": "Standard"},
                kind="StorageV2",
                properties={"primaryLocation": "swedencentral", "statusOfPrimary": "available"},
            ),
            storage_account(
                p,
                "rg-data",
                "stexportsuk",
                "uksouth",
                sku={"name": "Standard_LRS", "tier": "Standard"},
                kind="StorageV2",
                properties={"primaryLocation": "uksouth", "statusOfPrimary": "available"},
            ),
            storage_account(
                p,
                "rg-data",
                "stmediade",
                "germanywestcentral",
                sku={"name": "Standard_RAGZRS", "tier": "Standard"},
                kind="StorageV2",
                # no secondaryLocation reported: the scanner must fall back to the paired region
                properties={"primaryLocation": "germanywestcentral", "statusOfPrimary": "available"},
            ),
            cosmos_account(
                p,
                "rg-data",
                "cosmos-orders",
                "westeurope",
                kind="GlobalDocumentDB",
                properties={
                    "databaseAccountOfferType": "Standard",
                    "locations": [
                        {"locationName": "West Europe", "failoverPriority": 0},
                        {"locationName": "East US", "failoverPriority": 1},
                    ],
                    "writeLocations": [{"locationName": "West Europe", "failoverPriority": 0}],
                    "readLocations": [
                        {"locationName": "West Europe", "failoverPriority": 0},
                        {"locationName": "East US", "failoverPriority": 1},
                    ],
                },
            ),
            arm_resource(
                p,
                "rg-apps",
                "Microsoft.Compute/virtualMachines",
                "vm-app-se",
                "swedencentral",
                zones=["1"],
                properties={"hardwareProfile": {"vmSize": "Standard_B2s"}},
            ),
            arm_resource(
                p,
                "rg-apps",
                "Microsoft.Compute/disks",
                "vm-app-se-osdisk",
                "swedencentral",
                zones=["1"],
                sku={"name": "Premium_LRS"},
                tags={"customer": "acme"},
                properties={"diskSizeGB": 64},
            ),
            snapshot(
                p,
                "rg-apps",
                "vm-app-se-nightly",
                "swedencentral",
                sku={"name": "Standard_LRS"},
                properties={
                    "creationData": {
                        "createOption": "Copy",
                        "sourceResourceId": _rid(p, "rg-apps", "Microsoft.Compute/disks", "vm-app-se-osdisk"),
                    }
                },
            ),
            arm_resource(
                p,
                "rg-apps",
                "Microsoft.Compute/virtualMachines",
                "vm-batch-ch",
                "switzerlandnorth",
                properties={"hardwareProfile": {"vmSize": "Standard_D4s_v5"}},
            ),
            sql_server(p, "rg-data", "sql-crm", "westeurope"),
            sql_database(
                p,
                "rg-data",
                "sql-crm/crm",
                "westeurope",
                sku={"name": "GP_Gen5_2"},
                properties={
                    "status": "Online",
                    "requestedBackupStorageRedundancy": "Geo",
                    "currentBackupStorageRedundancy": "Geo",
                },
            ),
            recovery_services_vault(
                p,
                "rg-data",
                "rsv-backup-we",
                "westeurope",
                sku={"name": "RS0", "tier": "Standard"},
                properties={
                    "redundancySettings": {
                        "standardTierStorageRedundancy": "GeoRedundant",
                        "crossRegionRestore": "Enabled",
                    }
                },
            ),
        ],
        a: [
            storage_account(
                a,
                "rg-analytics",
                "stanalyticsfr",
                "francecentral",
                sku={"name": "Standard_ZRS", "tier": "Standard"},
                kind="StorageV2",
                properties={"primaryLocation": "francecentral", "statusOfPrimary": "available"},
            ),
            backup_vault(
                a,
                "rg-analytics",
                "bv-analytics",
                "francecentral",
                properties={"storageSettings": [{"datastoreType": "VaultStore", "type": "LocallyRedundant"}]},
            ),
        ],
        SUB_LEGACY: [
            storage_account(
                SUB_LEGACY,
                "rg-old",
                "stlegacyus",
                "eastus",
                sku={"name": "Standard_LRS"},
                kind="StorageV2",
                properties={"primaryLocation": "eastus"},
            ),
            key_vault(SUB_LEGACY, "rg-old", "kv-legacy-uk", "uksouth"),
        ],
    }
    crm = _rid(p, "rg-data", "Microsoft.Sql/servers", "sql-crm/databases/crm")
    fake.children = {
        f"{crm.lower()}/replicationlinks": [
            {
                "id": f"{crm}/replicationLinks/5b3c",
                "name": "5b3c",
                "type": "Microsoft.Sql/servers/databases/replicationLinks",
                "properties": {
                    "partnerServer": "sql-crm-dr",
                    "partnerDatabase": "crm",
                    "partnerLocation": "France Central",
                    "role": "Primary",
                    "partnerRole": "Secondary",
                    "linkType": "GEO",
                    "replicationState": "CATCH_UP",
                },
            }
        ]
    }
    _copies(fake)
    # Tests make the legacy subscription unreadable (`fake.denied`): a gap, never "clean".

    # Azure Policy (the guardrail audit). The organisation's "Allowed locations" still lists UK South;
    # analytics narrows it with a custom EU-only definition; rg-apps is exempted (a waiver without
    # expiry); the legacy subscription, under the root group only, has no assignment at all.
    infogroen = mg_scope("mg-infogroen")
    allowed = policy_assignment(
        infogroen,
        "allowed-locations",
        ALLOWED_LOCATIONS,
        "Allowed locations (Europe)",
        ["westeurope", "northeurope", "swedencentral", "germanywestcentral", "francecentral", "uksouth"],
    )
    custom = policy_definition(
        f"/subscriptions/{a}",
        "eu-only-locations",
        "EU-only locations (custom)",
        {
            "if": {
                "allOf": [
                    {"field": "location", "notIn": "[parameters('allowed')]"},
                    {"field": "location", "notEquals": "global"},
                ]
            },
            "then": {"effect": "deny"},
        },
        {"allowed": {"type": "Array", "defaultValue": ["westeurope"]}},
    )
    fake.policy_definitions = {custom["id"].lower(): custom}
    fake.policy_assignments = [
        allowed,
        policy_assignment(
            mg_scope("mg-production"),
            "rg-locations",
            ALLOWED_RG_LOCATIONS,
            "Allowed locations for resource groups",
            ["westeurope", "swedencentral"],
        ),
        policy_assignment(
            f"/subscriptions/{a}",
            "eu-only",
            custom["id"],
            "EU-only (analytics)",
            parameters={"allowed": {"value": ["francecentral", "westeurope"]}},
        ),
        policy_assignment(
            f"/subscriptions/{p}/resourceGroups/rg-data",
            "rg-data-we",
            ALLOWED_LOCATIONS,
            "Allowed locations (rg-data: West Europe)",
            ["westeurope"],
        ),
    ]
    fake.policy_exemptions = [
        policy_exemption(
            f"/subscriptions/{p}/resourceGroups/rg-apps",
            "apps-waiver",
            allowed["id"],
            "rg-apps: batch jobs may run anywhere",
        )
    ]


def _copies(fake: FakeArm) -> None:
    """Where services keep copies of the estate's data: one trap and one clean case per family."""
    p, a, legacy = SUB_PROD, SUB_ANALYTICS, SUB_LEGACY

    def rid(sub: str, rg: str, ptype: str, name: str) -> str:
        return _rid(sub, rg, ptype, name)

    # SQL: the CRM database's geo backups pair to North Europe, its failover group to France;
    # the HR server in UK South keeps geo backups in UK West.
    crm_server = rid(p, "rg-data", "Microsoft.Sql/servers", "sql-crm")
    fake.add_children(
        crm_server,
        "failoverGroups",
        [
            failover_group(
                crm_server,
                "fg-crm",
                "West Europe",
                _rid(p, "rg-data", "Microsoft.Sql/servers", "sql-crm-dr"),
                "France Central",
                [f"{crm_server}/databases/crm"],
            )
        ],
    )
    hr = sql_database(
        p,
        "rg-data",
        "sql-hr-uk/hr",
        "uksouth",
        sku={"name": "GP_Gen5_2"},
        properties={
            "status": "Online",
            "requestedBackupStorageRedundancy": "Geo",
            "currentBackupStorageRedundancy": "Geo",
        },
    )
    reporting = sql_database(
        p,
        "rg-data",
        "sql-crm/reporting",
        "westeurope",
        sku={"name": "GP_Gen5_2"},
        properties={
            "status": "Online",
            "requestedBackupStorageRedundancy": "Local",
            "currentBackupStorageRedundancy": "Local",
        },
    )
    master = sql_database(
        p,
        "rg-data",
        "sql-crm/master",
        "westeurope",
        sku={"name": "System", "tier": "System"},
        properties={
            "status": "Online",
            "requestedBackupStorageRedundancy": "Geo",
            "currentBackupStorageRedundancy": "Geo",
        },
    )
    mi = sql_managed_instance(p, "rg-data", "sqlmi-core-we", "westeurope")
    group = f"/subscriptions/{p}/resourceGroups/rg-data"
    fake.add_children(
        group,
        "providers/Microsoft.Sql/locations/westeurope/instanceFailoverGroups",
        [
            instance_failover_group(
                group,
                "westeurope",
                "ifg-core",
                mi["id"],
                _rid(p, "rg-dr", "Microsoft.Sql/managedInstances", "sqlmi-core-ne"),
                "North Europe",
            )
        ],
    )

    # PostgreSQL / MySQL flexible servers: geo-redundant backup to the pair; read replicas.
    orders = postgresql_flexible_server(p, "rg-data", "psql-orders-we", "westeurope", geo_backup=True)
    orders_replica = postgresql_flexible_server(
        p, "rg-data", "psql-orders-ne", "northeurope", role="GeoAsyncReplica", source=orders["id"]
    )
    fake.add_children(orders["id"], "replicas", [orders_replica])
    batch = postgresql_flexible_server(p, "rg-apps", "psql-batch-ch", "switzerlandnorth", geo_backup=True)
    shop = mysql_flexible_server(a, "rg-analytics", "mysql-shop-fr", "francecentral", role="Source")
    shop_replica = mysql_flexible_server(
        a, "rg-analytics", "mysql-shop-fr-replica", "germanywestcentral", role="Replica", source=shop["id"]
    )
    fake.add_children(shop["id"], "replicas", [shop_replica])

    # Container registries: geo-replications (the home region is listed too).
    shared = container_registry(p, "rg-apps", "acrsharedwe", "westeurope")
    platform = container_registry(p, "rg-apps", "acrplatformse", "swedencentral")
    basic = container_registry(p, "rg-apps", "acrtoolsse", "swedencentral", sku="Basic")
    fake.add_children(
        shared["id"], "replications", [registry_replication(shared["id"], loc) for loc in ("westeurope", "eastus")]
    )
    fake.add_children(
        platform["id"],
        "replications",
        [registry_replication(platform["id"], loc) for loc in ("swedencentral", "northeurope")],
    )

    # Redis geo-replication: West Europe primary, North Europe secondary.
    sessions_id = rid(p, "rg-apps", "Microsoft.Cache/Redis", "redis-sessions-we")
    sessions_ne_id = rid(p, "rg-apps", "Microsoft.Cache/Redis", "redis-sessions-ne")
    sessions = redis_cache(
        p, "rg-apps", "redis-sessions-we", "westeurope", linked=[f"{sessions_id}/linkedServers/redis-sessions-ne"]
    )
    sessions_ne = redis_cache(
        p, "rg-apps", "redis-sessions-ne", "northeurope", linked=[f"{sessions_ne_id}/linkedServers/redis-sessions-we"]
    )
    cache_plain = redis_cache(p, "rg-apps", "redis-cache-se", "swedencentral")
    fake.add_children(
        sessions_id, "linkedServers", [redis_link(sessions_id, sessions_ne_id, "North Europe", "Secondary")]
    )
    fake.add_children(
        sessions_ne_id, "linkedServers", [redis_link(sessions_ne_id, sessions_id, "West Europe", "Primary")]
    )

    # Geo-disaster-recovery aliases: Service Bus to UK South (named by its id), Event Hubs to North Europe.
    sb = service_bus_namespace(p, "rg-apps", "sb-orders-we", "westeurope")
    sb_uk = service_bus_namespace(p, "rg-apps", "sb-orders-uk", "uksouth")
    fake.add_children(sb["id"], "disasterRecoveryConfigs", [dr_alias(sb["id"], "sb-orders", sb_uk["id"], "Primary")])
    fake.add_children(
        sb_uk["id"], "disasterRecoveryConfigs", [dr_alias(sb_uk["id"], "sb-orders", sb["id"], "Secondary")]
    )
    evh = event_hub_namespace(a, "rg-analytics", "evh-telemetry-fr", "francecentral")
    evh_fs = event_hub_namespace(a, "rg-analytics", "evh-telemetry-fs", "francesouth")
    fake.add_children(
        evh["id"], "disasterRecoveryConfigs", [dr_alias(evh["id"], "evh-telemetry", "evh-telemetry-fs", "Primary")]
    )
    fake.add_children(
        evh_fs["id"],
        "disasterRecoveryConfigs",
        [dr_alias(evh_fs["id"], "evh-telemetry", "evh-telemetry-fr", "Secondary")],
    )

    # Object replication: invoices to the legacy East US account; media to the analytics account in France.
    invoices = rid(p, "rg-data", "Microsoft.Storage/storageAccounts", "stinvoiceswe")
    legacy_us = rid(legacy, "rg-old", "Microsoft.Storage/storageAccounts", "stlegacyus")
    media = rid(p, "rg-data", "Microsoft.Storage/storageAccounts", "stmediade")
    analytics = rid(a, "rg-analytics", "Microsoft.Storage/storageAccounts", "stanalyticsfr")
    fake.add_children(
        invoices,
        "objectReplicationPolicies",
        [object_replication_policy(invoices, "orp-invoices", invoices, legacy_us)],
    )
    fake.add_children(
        legacy_us,
        "objectReplicationPolicies",
        [object_replication_policy(legacy_us, "orp-invoices", invoices, legacy_us)],
    )
    fake.add_children(
        media,
        "objectReplicationPolicies",
        [object_replication_policy(media, "orp-media", "stmediade", "stanalyticsfr")],
    )
    fake.add_children(
        analytics,
        "objectReplicationPolicies",
        [object_replication_policy(analytics, "orp-media", "stmediade", "stanalyticsfr")],
    )

    # App Service: nightly backups to the Sweden Central archive account (a SAS URL, never shown).
    portal = web_site(p, "rg-data", "app-portal-we", "westeurope")
    sas = "sv=2022-11-02&ss=b&srt=co&sp=rwdlac&se=2030-01-01T00:00:00Z&sig=" + BACKUP_SAS_SIGNATURE
    fake.add_children(
        portal["id"],
        "backups",
        [site_backup(portal["id"], 1017, f"https://starchivesc.blob.core.windows.net/webapp-backups?{sas}")],
    )

    # Log Analytics: a central EU workspace replicated to North Europe, and an operations workspace in East US
    # that a West Europe Key Vault sends its audit logs to; the CRM database's audit goes to the EU one.
    central = log_analytics_workspace(p, "rg-data", "log-central-we", "westeurope", replication="northeurope")
    ops_us = log_analytics_workspace(p, "rg-apps", "log-ops-us", "eastus")
    payments = key_vault(p, "rg-data", "kv-payments-we", "westeurope")
    fake.add_children(
        payments["id"], DIAGNOSTIC_SETTINGS, [diagnostic_setting(payments["id"], "to-ops", workspaceId=ops_us["id"])]
    )
    crm = f"{crm_server}/databases/crm"
    fake.add_children(crm, DIAGNOSTIC_SETTINGS, [diagnostic_setting(crm, "audit", workspaceId=central["id"])])
    fake.add_children(
        invoices, BLOB_DIAGNOSTIC_SETTINGS, [diagnostic_setting(invoices, "blob-audit", storageAccountId=analytics)]
    )

    fake.resources[p] += [
        hr, reporting, master, sql_server(p, "rg-data", "sql-hr-uk", "uksouth"), mi,
        orders, orders_replica, batch, shared, platform, basic, sessions, sessions_ne, cache_plain,
        sb, sb_uk, portal, central, ops_us, payments,
    ]  # fmt: skip
    fake.resources[a] += [shop, shop_replica, evh, evh_fs]


@contextmanager
def azure_emulator(page_size: int = 2) -> Iterator[FakeArm]:
    fake = FakeArm(page_size=page_size).start()
    try:
        yield fake
    finally:
        fake.stop()
