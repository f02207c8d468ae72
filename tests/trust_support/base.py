"""The harness's shared part: what the trust tests compare, and the `Harness` every provider's entry implements."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest

from residency_audit.model import Gap, Scan, ScanResult
from residency_emulator.front import Faults

from ..cloud_support import inventory, owners

PROVIDERS = ("aws", "gcp", "azure")
#: The transient fault kinds every client must ride out.
TRANSIENT = ("429", "500", "503", "reset")
Inventory = dict[str, list[tuple[str | None, str]]]
Op = tuple[str, str]
#: The long listing Ctrl-C lands in: 60 extra resources, each answer 150 ms late.
EXTRA = [f"bulk-{i:02d}" for i in range(60)]
LATENCY = 0.15


# --------------------------------------------------------------------------- what the tests compare


@dataclass
class Sent:
    """One request that reached the emulator, read off its log."""

    service: str  #: the API it went to (AWS: its SigV4 signing name)
    operation: Op | None  #: the declared read it is; None where the wire does not name it
    read: bool  #: the harness's verdict: a read the scan may make (on the wire: a GET, or a read sent as POST)
    path: str


@dataclass
class Scenario:
    """One scan (or one collector over several adapters) of the read-only proof."""

    name: str
    scan: Scan
    resources: int
    wire: list[Sent]
    #: the operations the SDK says it attempted and sent (AWS: botocore's before-call / before-send);
    #: None where the wire is the only witness
    attempted: list[Op] | None = None
    sent: list[Op] | None = None
    #: gap codes that are the nature of the mode, not a failed read (AWS's services mode lists only
    #: the services with a reader, and says so)
    expected_gaps: frozenset[str] = frozenset()


@dataclass
class ReadOnlyRun:
    scenarios: list[Scenario]
    allow_list: set[Op]
    #: the key the scan's call counter files an operation under
    counted_as: Callable[[Op], str]
    #: what "every read is exercised" is measured in (AWS: services; the REST clouds: operations)
    coverage: Callable[[Op], Hashable]
    #: allow-list entries no resource scan makes, each with the test that exercises it
    elsewhere: dict[Hashable, str]
    #: the API services the wire must show, exactly
    wire_services: set[str]
    #: the operation's name says read (AWS: a read verb or a documented exception); the REST clouds'
    #: verdict is the request's method and route, per request
    read_operation: Callable[[Op], bool] = lambda op: True
    #: named checks over the operations used: label -> (what the scans used, what they must use)
    pins: Callable[[set[Op]], dict[str, tuple[set[Any], set[Any]]]] = lambda used: {}


@dataclass
class Transient:
    """Faults retries must absorb: the same inventory as a fault-free scan, no gap."""

    faults: Faults
    mode: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Failing:
    """One part of the estate that keeps failing, and what the scan must then say."""

    faults: Faults
    options: dict[str, Any]
    #: (region or scope, service) of each gap, sorted; and the codes they may carry
    gaps: list[tuple[str, str]]
    codes: set[str]
    #: how many faults were injected: bounded retries, then a gap
    attempts: tuple[int, int]
    lost: set[str]
    expected: Inventory
    mode: str = ""
    error_says: str = ""
    #: what a resource that was listed but whose reader failed is judged as (None: it is not listed)
    judged_lost: str | None = None
    #: the scan never hangs: generous (a busy 2-core machine), only a hang exceeds it


@dataclass
class Denied:
    """One part the credential may not read: the scan must say incomplete and exit 3."""

    args: list[str]
    label: str  #: the gap as the warning line names it
    gap: tuple[str, str, str, str]  #: (scope, region, service, code) as JSON lists it
    code: str  #: the error code the table's gap row shows


@dataclass
class Interruptible:
    """A scan slowed down, with one long listing for the signal to land in."""

    args: list[str]
    env: dict[str, str]
    workers: int
    extras: list[str]  #: the long listing's resources (report names)
    answered: Callable[[float], set[str]]  #: extras whose answers left the emulator before a time
    ready: Callable[[], bool]  #: far enough into the long listing to send SIGINT
    requests: Callable[[], int]
    settle: float  #: time the client gets to collect what it was answered before the signal
    margin: int  #: the signal lands at least this far from the listing's end
    slack: int  #: extras answered around the signal that may still be collected
    kept: set[str]  #: names collected before the signal that must be in the output
    unreached: Callable[[dict[str, Any]], bool]  #: a report resource the scan cannot have reached
    not_asked: Callable[[], bool] = lambda: True  #: at the signal, that part was not yet asked for
    cleanup: Callable[[], None] = lambda: None


@dataclass
class Waiting:
    """A scan whose worker waits out a long server-requested delay (Retry-After)."""

    args: list[str]
    env: dict[str, str]
    workers: int
    waits: Callable[[], int]  #: throttled answers given so far
    requests: Callable[[], int]
    extras: list[str]  #: resources behind the throttled listing: none may be in the output


@dataclass
class Expect:
    """A planted value as the report must show it: redacted, not dropped."""

    select: tuple[str, str]  #: ("name" | "kind", value) picks the one resource
    field: str  #: "name" or "tags.KEY"
    op: str  #: "==" | "endswith" | "contains"
    value: str


@dataclass
class Planted:
    """Secrets in the environment, the credential file and the estate, for real CLI scans."""

    env: dict[str, str]
    scans: list[list[str]]  #: each scan command (before the output options)
    code: int  #: every run's exit code
    markers: Callable[[], list[str]]  #: substrings that must appear nowhere (some known only after the runs)
    used: Callable[[], bool]  #: the credential really was used
    expects: list[Expect]
    store_holds: str  #: a planted value that reached the SQLite store (redacted)
    gaps: list[dict[str, str]]  #: each gap's fields (subset) in the JSON report
    gap_error_has: str = ""


# --------------------------------------------------------------------------- the harness


class Harness:
    """A provider's emulator and everything the trust tests need to drive and observe it."""

    name: ClassVar[str]
    #: inventory modes the faults and read-only tests scan in ("" = the provider's default)
    modes: ClassVar[tuple[str, ...]] = ("",)
    #: does the scan's call counter count every attempt (retries too)?
    counts_retries: ClassVar[bool] = True
    #: does every fault-free scan of the sample estate make the same number of requests?
    same_requests: ClassVar[bool] = True
    #: example gaps as this provider's adapter records them (every output format must list them)
    sample_gaps: ClassVar[tuple[Gap, ...]] = ()

    def __init__(self, mp: pytest.MonkeyPatch) -> None:
        self.mp = mp

    def stop(self) -> None:
        """Stop what this harness started."""

    def tidy(self) -> None:
        """Undo what a test added: faults, hooks, latency (the estate stays)."""
        self.set_faults(None)

    def seed(self) -> None:
        """The sample estate, no faults, an empty log, and the SDK's variables pointing at the emulator."""
        raise NotImplementedError

    def scan(self, mode: str = "", **options: Any) -> ScanResult:
        raise NotImplementedError

    def wire(self) -> list[Sent]:
        """The tool's API requests since the log was last cleared."""
        raise NotImplementedError

    @property
    def front(self) -> Any:
        """What sits between the SDK and the emulator: it logs requests and injects `faults`."""
        raise NotImplementedError

    def clear_log(self) -> None:
        self.front.clear_log()

    def set_faults(self, faults: Faults | None) -> None:
        self.front.faults = faults

    def readonly_run(self) -> ReadOnlyRun:
        raise NotImplementedError

    def transient(self) -> list[Transient]:
        raise NotImplementedError

    def failing(self, kind: str, baseline: dict[str, Any]) -> Failing:
        raise NotImplementedError

    def denied(self) -> Denied:
        raise NotImplementedError

    def interruptible(self) -> Interruptible:
        raise NotImplementedError

    def waiting(self) -> Waiting | None:
        """None: this provider's client does not wait on a server-requested delay (the reason is
        `no_waiting`)."""
        return None

    no_waiting: ClassVar[str] = ""

    def plant_secrets(self, tmp: Path) -> Planted:
        raise NotImplementedError

    #: `permissions <provider>` invocations, each with the document's shape it must print
    policies: ClassVar[list[tuple[list[str], dict[str, Any]]]]
    #: a read permission's name, the names that are reads although they do not look like one, and
    #: what a write looks like (none may be printed)
    read_permission: ClassVar[re.Pattern[str]]
    read_permission_exceptions: ClassVar[frozenset[str]] = frozenset()
    write_permission: ClassVar[re.Pattern[str] | None] = None

    @classmethod
    def parse_policy(cls, out: str) -> tuple[list[str], dict[str, Any]]:
        """The printed policy's permission names (in order) and its shape (compared with `policies`)."""
        raise NotImplementedError

    def baseline(self) -> dict[str, dict[str, Any]]:
        """Mode -> a fault-free scan's inventory, owners and number of requests."""
        out: dict[str, dict[str, Any]] = {}
        for mode in self.modes:
            self.clear_log()
            result = self.scan(mode)
            assert result.scan.complete and result.resources, result.scan.gaps
            out[mode] = {
                "inventory": inventory(result),
                "owners": owners(result),
                "requests": len(self.wire()),
                "unreadable": {n for n in result.scan.notes if "not readable" in n},
            }
        return out


def _cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, **(extra or {})}


def _without(baseline: Inventory, lost: set[str]) -> Inventory:
    return {rid: locs for rid, locs in baseline.items() if rid not in lost}


def _unknown_first(loc: tuple[str | None, str]) -> tuple[bool, str, str]:
    return (loc[0] is not None, loc[0] or "", loc[1])


def counted(ops: list[Op], key: Callable[[Op], str]) -> dict[str, int]:
    return dict(Counter(key(op) for op in ops))
