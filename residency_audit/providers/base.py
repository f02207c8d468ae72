"""What every cloud provider package shares: read operations, the read-only and cancel
errors, one error describer and one worker pool that stops on Ctrl-C.

No cloud SDK is imported here (nor by any provider's `api`, `kinds`, `classes` or
`terraform` module): the gate and `--help` load those, and must start fast.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..kinds import Category

#: The providers this version knows; the registry (`providers.REGISTRY`) says what each offers.
ProviderName = Literal["aws", "gcp", "azure"]


@dataclass(frozen=True, slots=True)
class ReadOperation:
    """One API operation the tool may send, and the permission that allows it.

    `service`/`operation` are what the guard sees before anything is sent (botocore's
    service and operation names; for Google Cloud and Azure, the REST method's service and
    method); `permission` is what a least-privilege policy grants (IAM action, GCP
    permission, Azure RBAC action). The allow-list and `residency-audit permissions` are
    both derived from these, so they cannot drift apart.
    """

    service: str
    operation: str
    permission: str
    #: For REST providers: the HTTP method and a path pattern the guard matches requests against.
    http: str = "GET"
    path: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.service, self.operation)


@dataclass(frozen=True, slots=True)
class Kind:
    """A resource kind, declared once: everything the tool does with it derives from here.

    - `reads`: the operations its reader may call (-> the allow-list and least-privilege policy);
    - `reader`: the name of the function in the provider's `readers` module that lists it
      (kinds of one service may share a reader: one client, one pass);
    - `terraform`: the Terraform types that plan it (the gate's extractors are keyed by them);
    - `category` and `footprint`: how the rules judge it, and whether the places its data is
      copied to (replicas, backups, secondaries) are modelled or only its primary location;
    - `seed`: the function of the provider's demo estate that plants one (tests check it exists);
    - `doc`: its row in the documentation;
    - `inventory`: the types an inventory service (AWS Resource Explorer, Config) reports it as,
      named from its ARN (`service:type`): the reader then runs only where the inventory saw one.
    """

    name: str
    service: str
    category: Category
    reads: tuple[ReadOperation, ...]
    reader: str
    terraform: tuple[str, ...] = ()
    footprint: bool = False
    seed: str = ""
    doc: str = ""
    inventory: tuple[str, ...] = ()

    @property
    def judged(self) -> str:
        return "footprint" if self.footprint else "primary"


class ReadOnlyViolation(RuntimeError):
    """Raised before sending any operation that is not on the provider's read allow-list."""


class ScanCancelled(BaseException):
    """Raised before the next API call once Ctrl-C (or the deadline) stopped the scan.

    A BaseException, so the per-service `except Exception` handlers do not turn the
    cancellation into a gap: the scan is marked interrupted instead.
    """


def one_line(exc: BaseException | str, limit: int = 300) -> str:
    """The first line of an error, for a gap or a note (never a traceback)."""
    text = (exc if isinstance(exc, str) else str(exc)).strip().splitlines()
    first = text[0].strip() if text else ""
    return (first or (type(exc).__name__ if not isinstance(exc, str) else ""))[:limit]


def error_code(exc: BaseException) -> str:
    """The provider's error code where the SDK exposes one (botocore `Error.Code`, an HTTP
    status, azure-core's `error.code`), else the exception's class name."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code", "")
        if code:
            return str(code)
    for attr in ("code", "error_code"):
        value = getattr(exc, attr, None)
        if isinstance(value, str | int) and str(value):
            return str(value)
    error = getattr(exc, "error", None)  # azure-core: the ARM error code says more than its HTTP status
    code = getattr(error, "code", None)
    if isinstance(code, str) and code:
        return code
    status = getattr(exc, "status_code", None)
    if isinstance(status, str | int) and str(status):
        return str(status)
    return type(exc).__name__


def allow_list(operations: Iterable[ReadOperation]) -> frozenset[tuple[str, str]]:
    return frozenset(op.key for op in operations)


@dataclass
class WorkerPool:
    """A thread pool whose tasks may spawn tasks, and which Ctrl-C stops at once.

    `run(first)` submits the first tasks and keeps submitting what they return (a task
    returns a list of further tasks, or None) until nothing is pending. On Ctrl-C (or any
    exception) the `stop` event is set, pending futures are cancelled and control returns
    to the caller without joining workers stuck in a network read: the SDK hooks raise
    `ScanCancelled` at their next call, and the partial result is written at once.
    """

    workers: int
    name: str
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, first: Iterable[Callable[[], Any]]) -> None:
        pool = cf.ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=self.name)
        pending: set[cf.Future[Any]] = set()
        try:
            pending = {pool.submit(task) for task in first}
            while pending:
                done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    for task in fut.result() or ():
                        pending.add(pool.submit(task))
        except BaseException:
            self.stop.set()
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    def check(self) -> None:
        """For hooks: raise `ScanCancelled` once the scan was stopped."""
        if self.stop.is_set():
            raise ScanCancelled()


# ----------------------------------------------------------------- a scan's target in words


@dataclass(frozen=True, slots=True)
class TargetWords:
    """What a provider's scan looked at, in words for a report's reader (`reporting.target`):
    `what` follows "AWS: ", `scope` are the parts of "how far it looked"."""

    what: str
    scope: tuple[str, ...] = ()


def and_list(words: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def listed(words: list[str], limit: int = 4) -> str:
    """At most `limit` words, then "and N more"."""
    return and_list(words) if len(words) <= limit else ", ".join(words[:limit]) + f" and {len(words) - limit} more"
