"""AWS sessions and guarded, read-only clients, shared by the scan, the organisation
walker and the guardrail reader.

Read-only by construction: every client carries a botocore before-call hook that
refuses, before anything is sent, any operation not on the allow-list (derived from
the kind declarations, `kinds.read_operations()`), counts the calls it lets through,
and stops the scan at the next call once Ctrl-C or the deadline set the stop event.
One client per (session, service, region), created once and only where a reader has
work: client creation is the dominant cost of naive scanners. Clients of every account
share one botocore loader and, through it, one parsed service model and one client class
per service (`share_models`), so an organisation scan parses and builds each service once
per run, not once per (account, region). Those shared models hold only the allow-listed
operations and the shapes they reach (EC2's model is ~700 operations; a scan sends 5 of them):
about a third of a scan's memory. boto3 is imported here only inside functions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ...errors import CredentialsError, UserError
from ..base import ReadOnlyViolation, ScanCancelled, allow_list
from .kinds import read_operations

if TYPE_CHECKING:
    import boto3

#: Every operation any AWS client of the tool may send (the policy `permissions aws` prints).
READ_OPERATIONS: frozenset[tuple[str, str]] = allow_list(read_operations())
#: The same, per botocore service name.
_ALLOWED: dict[str, frozenset[str]] = {}
for _service, _op in READ_OPERATIONS:
    _ALLOWED[_service] = _ALLOWED.get(_service, frozenset()) | {_op}

NO_CREDENTIALS = (
    "no AWS credentials found (set AWS_PROFILE, run 'aws sso login', or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
)


def session(profile: str | None = None) -> boto3.Session:
    """A boto3 session from the standard credential chain, or a named profile."""
    import boto3
    from botocore.exceptions import ConfigParseError, ProfileNotFound

    try:
        return boto3.Session(profile_name=profile) if profile else boto3.Session()
    except ProfileNotFound:
        raise CredentialsError(f"AWS profile '{profile}' not found in the AWS config") from None
    except ConfigParseError as exc:
        raise UserError(f"{exc.kwargs.get('path', 'AWS config')}: cannot parse the AWS config file") from None


#: The attribute of a botocore loader that opts its clients into `share_models`.
_SHARED = "_residency_audit_shared"
_INSTALL_LOCK = threading.Lock()
_LOAD_LOCK = threading.Lock()


def share_models(loader: Any) -> None:
    """Clients created from sessions using `loader` share one `ServiceModel` and one client
    class per (service, API version) instead of building both for every client.

    botocore builds a fresh `ServiceModel` (and with it every operation model and shape the
    client touches) and a fresh client class (a method and a docstring object per operation)
    for every client: about half the CPU of creating a client and of its first calls. Both
    are read-only once built (botocore already shares them between the threads that use one
    client), and every session of a run is configured alike. botocore has no hook for this,
    so `ClientCreator`'s two factory methods are wrapped once per process; the wrappers change
    nothing for a loader without the opt-in attribute (other botocore users in the process),
    and nothing at all if a botocore release renames them."""
    from botocore.client import ClientCreator

    with _INSTALL_LOCK:
        if getattr(loader, _SHARED, None) is None:
            # models, client classes, dropped operations, endpoint providers
            setattr(loader, _SHARED, ({}, {}, {}, {}))
        if getattr(ClientCreator, _SHARED, False):
            return
        load = getattr(ClientCreator, "_load_service_model", None)
        make_class = getattr(ClientCreator, "_create_client_class", None)
        if load is None or make_class is None:
            return

        def _load_service_model(self: Any, service_name: str, api_version: str | None = None) -> Any:
            shared = getattr(self._loader, _SHARED, None)
            if shared is None:
                return load(self, service_name, api_version)
            key = (service_name, api_version)
            model = shared[0].get(key)
            if model is None:
                # One thread at a time: the cached dict is changed in place, and a second thread
                # building its ServiceModel from it meanwhile would see it change under its feet.
                with _LOAD_LOCK:
                    model = shared[0].get(key)
                    if model is None:
                        # the loader's cached dict, the one the ServiceModel wraps (same call, same cache key)
                        raw = self._loader.load_service_model(service_name, "service-2", api_version=api_version)
                        _drop_documentation(raw)
                        if service_name in _ALLOWED:
                            shared[2].setdefault(service_name, _keep_only(raw, _ALLOWED[service_name]))
                        model = shared[0].setdefault(key, load(self, service_name, api_version))
            return model

        def _create_client_class(self: Any, service_name: str, service_model: Any) -> Any:
            shared = getattr(self._loader, _SHARED, None)
            if shared is None:
                return make_class(self, service_name, service_model)
            key = (service_name, id(service_model))
            cls = shared[1].get(key)
            if cls is None:
                cls = shared[1].setdefault(key, make_class(self, service_name, service_model))
            return cls

        ClientCreator._load_service_model = _load_service_model  # type: ignore[method-assign]
        ClientCreator._create_client_class = _create_client_class  # type: ignore[method-assign]
        setattr(ClientCreator, _SHARED, True)
        _share_endpoint_providers()


_LOCAL = threading.local()


def _share_endpoint_providers() -> None:
    """One endpoint-rules provider per service and run, instead of one per client.

    botocore parses a service's endpoint rule set into a tree of rule objects for every client
    (`EndpointProvider`, ~7% of an organisation scan's CPU) and caches resolved endpoints per
    provider, so a new client resolves its first endpoints afresh too. A provider holds nothing
    but the parsed rules and that cache (thread-safe), and its inputs are the loader's cached
    rule set and partitions: clients of an opted-in loader get the provider built for the same
    two objects. Other botocore users in the process build their own, as before."""
    import botocore.regions
    from botocore.args import ClientArgsCreator

    build = getattr(ClientArgsCreator, "_build_endpoint_resolver", None)
    original = getattr(botocore.regions, "EndpointProvider", None)
    if build is None or original is None:
        return

    def _build_endpoint_resolver(self: Any, ruleset: Any, partitions: Any, *args: Any, **kwargs: Any) -> Any:
        shared = getattr(getattr(self, "_loader", None), _SHARED, None)
        _LOCAL.providers = shared[3] if shared is not None and ruleset is not None else None
        try:
            return build(self, ruleset, partitions, *args, **kwargs)
        finally:
            _LOCAL.providers = None

    def provider(*args: Any, **kwargs: Any) -> Any:
        memo = getattr(_LOCAL, "providers", None)
        ruleset, partitions = kwargs.get("ruleset_data"), kwargs.get("partition_data")
        if memo is None or args or ruleset is None:  # not ours, or a call shape this code does not know
            return original(*args, **kwargs)
        # the key's objects are the loader's cached dicts, alive as long as the memo (on the loader)
        rest = tuple(sorted((k, v) for k, v in kwargs.items() if k not in ("ruleset_data", "partition_data")))
        try:
            key = (id(ruleset), id(partitions), rest)
            found = memo.get(key)
        except TypeError:  # an unhashable argument: build one for this client
            return original(*args, **kwargs)
        if found is None:
            found = memo.setdefault(key, (original(*args, **kwargs), ruleset, partitions))
        return found[0]

    ClientArgsCreator._build_endpoint_resolver = _build_endpoint_resolver  # type: ignore[method-assign]
    botocore.regions.EndpointProvider = provider  # type: ignore[misc,assignment]


#: The attribute of a botocore `EventAliaser` that opts it (and its copies) into one shared cache.
_ALIAS = "_residency_audit_alias_cache"
_ALIAS_CACHE: dict[str, str] = {}


def share_alias_cache(emitter: Any) -> None:
    """Every client of a session emits and registers through a copy of the session's event
    emitter, and botocore's `EventAliaser` starts each copy with an empty cache of event-name
    aliases: each client then recomputes, per event name, a loop over ~50 alias rules (a tenth
    of an organisation scan's CPU, py-spy). The alias of a name depends only on the name and the
    alias table, which every copy takes unchanged from botocore's `EVENT_ALIASES`, so emitters
    opted in here (and their copies) share one cache. An emitter with other aliases keeps its own."""
    from botocore.hooks import EVENT_ALIASES, EventAliaser

    with _INSTALL_LOCK:
        if not getattr(EventAliaser, _SHARED, False):
            original = EventAliaser.__copy__

            def __copy__(self: Any) -> Any:
                new = original(self)
                cache = getattr(self, _ALIAS, None)
                if cache is not None:
                    new._alias_name_cache = cache
                    setattr(new, _ALIAS, cache)
                return new

            EventAliaser.__copy__ = __copy__  # type: ignore[method-assign]
            setattr(EventAliaser, _SHARED, True)
    if (
        isinstance(emitter, EventAliaser)
        and getattr(emitter, _ALIAS, None) is None
        and getattr(emitter, "_event_aliases", None) == EVENT_ALIASES
        and isinstance(getattr(emitter, "_alias_name_cache", None), dict)
    ):
        _ALIAS_CACHE.update(emitter._alias_name_cache)
        emitter._alias_name_cache = _ALIAS_CACHE
        setattr(emitter, _ALIAS, _ALIAS_CACHE)


def _drop_documentation(model: Any) -> None:
    """Documentation is about half of a service model's bytes (2 of EC2's 4.4 MB) and no call
    reads that of operations and shapes: only docstrings do (`help()` on a client method then
    says less). Elsewhere (client context parameters) botocore requires it: it stays. A member
    that happens to be named `documentation` is a dict, not a string, and stays too."""
    stack = [model.get("operations", {}), model.get("shapes", {})]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("documentation"), str):
                del item["documentation"]
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, dict | list))


def _keep_only(model: Any, allowed: frozenset[str]) -> dict[str, str]:
    """Drops every operation not in `allowed`, then every shape no kept operation reaches (its
    input, output, errors and their members). Returns the dropped operations by method name,
    so that asking a client for one still says it is refused (`pruned_operation`)."""
    from botocore import xform_name

    ops = model.get("operations", {})
    dropped = {xform_name(name): name for name in ops if name not in allowed}
    if len(dropped) == len(ops):  # none of this service's operations is allowed: nothing to share
        return {}
    for name in dropped.values():
        del ops[name]
    shapes = model.get("shapes", {})
    reached: set[str] = set()
    stack = [ref["shape"] for op in ops.values() for ref in (op.get("input"), op.get("output")) if ref]
    stack += [err["shape"] for op in ops.values() for err in op.get("errors", ())]
    while stack:
        name = stack.pop()
        if name in reached or name not in shapes:
            continue
        reached.add(name)
        shape = shapes[name]
        stack += [m["shape"] for m in shape.get("members", {}).values()]
        stack += [shape[k]["shape"] for k in ("member", "key", "value") if k in shape]
    for name in [n for n in shapes if n not in reached]:
        del shapes[name]
    return dropped


def pruned_operation(client: Any, service: str) -> Callable[..., Any]:
    """A `getattr` handler: the method of an operation dropped from the shared model raises
    ReadOnlyViolation, as the before-call guard would, instead of an AttributeError."""
    shared = getattr(getattr(client, "_loader", None), _SHARED, None)
    dropped: dict[str, str] = shared[2].get(service, {}) if shared else {}

    def handler(event_name: str, **_: Any) -> Any:
        op = dropped.get(event_name.rsplit(".", 1)[-1])
        if op is None:
            return None

        def refused(*_a: Any, **_k: Any) -> Any:
            raise ReadOnlyViolation(f"refusing non-read operation {service}:{op}")

        return refused

    return handler


class Clients:
    """Guarded clients, one per (session, service, region), for one run."""

    def __init__(
        self,
        count: Callable[[str], None],
        stop: threading.Event,
        max_workers: int = 16,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        max_attempts: int = 6,
    ) -> None:
        self._count = count
        self.stop = stop
        self._config: Any = None
        self._settings = (max_workers, connect_timeout, read_timeout, max_attempts)
        self._clients: dict[tuple[int, str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, session: boto3.Session, service: str, region: str) -> Any:
        key = (id(session), service, region)
        with self._lock:  # botocore client creation is not thread-safe
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._create(session, service, region)
            return client

    def _create(self, session: boto3.Session, service: str, region: str) -> Any:
        if self._config is None:
            from botocore.config import Config

            workers, connect, read, attempts = self._settings
            # botocore standard retry mode: throttling, 429, 5xx, timeouts and resets are
            # retried with capped jittered backoff, honouring x-amz-retry-after.
            self._config = Config(
                retries={"mode": "standard", "total_max_attempts": attempts},
                max_pool_connections=max(10, workers),
                connect_timeout=connect,
                read_timeout=read,
                user_agent_extra="residency-audit",
            )
        share_models(session._session.get_component("data_loader"))
        share_alias_cache(session._session.get_component("event_emitter"))
        client = session.client(service, region_name=region, config=self._config)
        stop, count = self.stop, self._count

        def guard(model: Any, **_: Any) -> None:
            if stop.is_set():
                raise ScanCancelled()
            op = (model.service_model.service_name, model.name)
            if op not in READ_OPERATIONS:
                raise ReadOnlyViolation(f"refusing non-read operation {op[0]}:{op[1]}")
            count(f"{op[0]}:{op[1]}")

        def stop_before_retry(**_: Any) -> None:
            if stop.is_set():
                raise ScanCancelled()

        client.meta.events.register("before-call", guard)
        client.meta.events.register("getattr", pruned_operation(client, service))
        client.meta.events.register("before-send", stop_before_retry)
        if service == "s3control":
            client.meta.events.register("before-endpoint-resolution.s3-control", _note_endpoint_override)
            client.meta.events.register("before-sign.s3-control", _account_host_for_override)
        return client

    def forget(self, session: boto3.Session) -> None:
        """Drop a finished account's clients: an organisation scan keeps only those in flight."""
        with self._lock:
            for key in [k for k in self._clients if k[0] == id(session)]:
                del self._clients[key]


#: Set in a request's context when the client's endpoint is overridden (AWS_ENDPOINT_URL...).
_OVERRIDE = "residency_audit_endpoint_override"


def _note_endpoint_override(builtins: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """Whether this request goes to an overridden endpoint: botocore's `SDK::Endpoint` builtin."""
    if builtins.get("SDK::Endpoint"):
        context[_OVERRIDE] = True


def _account_host_for_override(request: Any, **_: Any) -> None:
    """S3 Control against an overridden endpoint (an emulator): the request goes to that host.

    botocore's S3 Control endpoint rules put the account id in front of the host name
    (`{AccountId}.s3-control.us-west-2.amazonaws.com`), and do so for an overridden endpoint too
    (`123456789012.127.0.0.1`, which no resolver knows). `Config(inject_host_prefix=False)` does
    not help: it governs the service model's host prefix, which botocore already removes for S3
    Control; the rules add it. So only where an override is set, the prefix is taken off again
    before signing; against AWS itself nothing changes."""
    context = getattr(request, "context", None) or {}
    account = request.headers.get("x-amz-account-id")
    if not context.get(_OVERRIDE) or not account:
        return
    from urllib.parse import urlsplit, urlunsplit

    url = urlsplit(request.url)
    if isinstance(account, bytes):
        account = account.decode()
    prefix = f"{account}."
    if url.netloc.startswith(prefix):
        request.url = urlunsplit(url._replace(netloc=url.netloc[len(prefix) :]))


def pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    """Every item of a listing, page by page (or the one answer of an operation without pages)."""
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])
    else:
        yield from getattr(client, operation)(**kwargs).get(key, [])


def arn_region(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] or None if len(parts) > 3 and parts[0] == "arn" else None


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("eusc-"):
        return "aws-eusc"
    return "aws"
