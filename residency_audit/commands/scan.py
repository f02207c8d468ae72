"""`residency-audit scan <provider>`: a live, read-only inventory and rule check."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..model import ScanRequest, ScanResult

if TYPE_CHECKING:
    from ..core import Adapter


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ..cli import COMMANDS

    p = sub.add_parser("scan", help=COMMANDS["scan"], description="Scan a cloud estate, read-only.")
    prov = p.add_subparsers(dest="provider", metavar="PROVIDER", required=True, parser_class=type(p))
    from ..providers import api, names

    for name in names():
        api(name).register_scan(prov)
    from .common import add_store_options

    for provider_parser in set(prov.choices.values()):
        add_store_options(provider_parser)
        provider_parser.add_argument(
            "--deadline",
            metavar="DURATION",
            help="stop the scan after DURATION (90s, 15m, 1h30m) with what it has: what was not read becomes "
            "coverage gaps, exit 3 unless findings give 1",
        )
        provider_parser.add_argument(
            "--spool-after",
            metavar="N",
            type=_count,
            default=None,
            help="keep at most N resources in memory; beyond that the scan's resources and findings go to "
            "an unlinked temporary file and are read back one at a time, so memory stays flat however "
            "large the estate (default 5000; 0 spools from the first)",
        )


def execute(
    args: argparse.Namespace,
    request: ScanRequest,
    make_adapter: Callable[[], Adapter],
    also_write: Callable[[ScanResult], None] | None = None,
) -> tuple[ScanResult, int]:
    """The scan path shared by every provider and the demo.

    `also_write` writes further outputs (the demo's JSON) with the chosen one, before
    the scan is recorded: a store that is down never loses them either.
    """
    from ..core import run_scan
    from ..errors import UserError
    from ..exceptions import apply_exceptions, from_args
    from ..geography import default_catalog
    from .common import (
        JsonLog,
        Progresses,
        RichProgress,
        coverage_warning,
        exit_code,
        load_ruleset,
        record_scan,
        stderr_console,
        summary_event,
        write_output,
    )

    log_target = getattr(args, "log_json", None)
    stdout_taken = (
        not args.output and not getattr(args, "default_output", None) and not (args.format == "table" and args.quiet)
    )
    if log_target == "-" and stdout_taken:
        raise UserError("--log-json - writes to stdout: send the report elsewhere with --output FILE (or --quiet)")
    deadline = None
    if getattr(args, "deadline", None) is not None:
        from ..interrupts import parse_duration

        try:
            deadline = parse_duration(args.deadline)
        except ValueError as exc:
            raise UserError(f"--deadline: {exc}") from None
    spool_after = getattr(args, "spool_after", None)
    if spool_after is None:
        from ..spool import DEFAULT_SPOOL_AFTER as spool_after
    ruleset = load_ruleset(args)  # broken rules fail before any API call
    exceptions = from_args(args)  # so does a broken exceptions file
    adapter = make_adapter()
    catalog = default_catalog()
    log = JsonLog(log_target) if log_target else None
    try:
        sinks: list[Any] = [log] if log else []
        if log:
            log.event("scan_started", {"provider": request.provider, "request": request.to_dict()})
        from .. import memory

        memory.limit_arenas()  # before the scan's threads exist (see `memory`)
        with _fewer_collections():
            if args.quiet:
                result = run_scan(
                    adapter, request, ruleset, catalog, Progresses(sinks) if sinks else None, deadline, spool_after
                )
            else:
                with RichProgress(stderr_console(), f"Scanning {request.provider}") as progress:
                    result = run_scan(
                        adapter, request, ruleset, catalog, Progresses([progress, *sinks]), deadline, spool_after
                    )
        memory.trim()  # the scan's transient peak is over: outputs and the store start from what is live
        apply_exceptions(result, exceptions)
        write_output(result, args, getattr(args, "default_output", None))
        if also_write is not None:
            also_write(result)
        record_scan(result, args)  # after the output: a store that is down never loses the scan's report
        warning = coverage_warning(result, args)
        if warning:
            print(warning, file=sys.stderr)
        code = exit_code(result, args)
        if log:
            log.event("summary", summary_event(result, code))
    finally:
        if log:
            log.close()
    return result, code


def _count(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"not a count of resources: {value!r}")
    return n


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """A scan allocates many short-lived objects (pages of responses) beside a growing set of
    resources: with the default thresholds the org benchmark's scan ran ~1,600 young and 13 full
    collections, each full one walking every object, about a sixth of its CPU. What exists before
    the scan (imports, rules, catalog) is frozen out of the collector's sight, and a collection
    runs every 10,000 net allocations instead of 700; both are restored afterwards (the same
    process may go on: tests, the demo)."""
    import gc

    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
