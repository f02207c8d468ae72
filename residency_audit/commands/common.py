"""What every scanning command shares: rule/format options, output, exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, UserError
from ..model import SEVERITIES, RunPolicy, ScanResult

if TYPE_CHECKING:
    from rich.console import Console

    from ..engine import RuleSet


#: Every output format (outputs/ knows nothing of providers): live scans, guardrail audits and the gate alike.
OUTPUT_FORMATS = ("table", "json", "sarif", "junit", "markdown")


def add_output_options(p: argparse.ArgumentParser, formats: tuple[str, ...] = OUTPUT_FORMATS) -> None:
    g = p.add_argument_group("output")
    g.add_argument("--format", "-f", choices=formats, default="table", help="output format (default: table)")
    g.add_argument(
        "--output", "-o", metavar="FILE", help="write the output to FILE (the terminal still gets a summary)"
    )
    g.add_argument("--quiet", "-q", action="store_true", help="no progress display or summary on the terminal")
    g.add_argument(
        "--log-json",
        metavar="FILE",
        help="machine-readable log for pipelines: JSON lines (account started/finished, gap, summary) to FILE "
        "or '-' for stdout",
    )


def add_rule_options(p: argparse.ArgumentParser, exit_options: bool = True) -> None:
    """--rules and --exceptions; with `exit_options`, the flags that turn findings and gaps into an exit code."""
    g = p.add_argument_group("rules and exit code" if exit_options else "rules")
    g.add_argument(
        "--rules",
        action="append",
        metavar="PATH",
        help="rule file or directory (repeatable; default: the bundled art. 6 rule set)",
    )
    if exit_options:
        g.add_argument(
            "--fail-on",
            choices=SEVERITIES,
            default="low",
            help="lowest severity that makes the exit code 1 (default: low)",
        )
        g.add_argument("--exit-zero", action="store_true", help="always exit 0 (report-only runs)")
        g.add_argument(
            "--allow-gaps",
            action="store_true",
            help="coverage gaps are warnings, not exit code 3 (fail closed by default)",
        )
    g.add_argument(
        "--exceptions",
        metavar="FILE",
        help="accepted risks (default: .residency-exceptions.yaml in the working directory, if there is one)",
    )
    g.add_argument(
        "--exception-horizon",
        metavar="DAYS",
        type=int,
        help="refuse exceptions that expire more than DAYS from today (default: 365)",
    )


def add_store_options(p: argparse.ArgumentParser) -> None:
    """Scan history: every scan is recorded unless --no-store (see `residency-audit report`)."""
    g = p.add_argument_group("scan history")
    g.add_argument(
        "--store",
        metavar="URL",
        help="record the scan here: a SQLite file path, sqlite:///FILE or postgresql://... "
        "(default: $RESIDENCY_AUDIT_STORE, else reports/residency.db)",
    )
    add_store_timeout(g)
    g.add_argument("--no-store", dest="record", action="store_false", help="do not record this scan")
    p.set_defaults(record=True)


def add_store_timeout(g: Any) -> None:
    g.add_argument(
        "--store-timeout",
        metavar="SECONDS",
        type=float,
        help="how long a store statement may wait for a lock or run before the run ends with exit 2 "
        "(PostgreSQL lock_timeout/statement_timeout; default: $RESIDENCY_AUDIT_STORE_TIMEOUT, else 30)",
    )


def record_scan(result: ScanResult, args: argparse.Namespace) -> None:
    """Record the scan (one transaction) when the command asked for it; SQLAlchemy loads only here."""
    if not getattr(args, "record", False):
        return
    from .. import extras
    from ..safetext import terminal

    if not extras.installed(extras.STORE):
        # Recording is the default: without the store extra a scan still runs and reports, and
        # says so; a store named explicitly is a promise the command cannot keep (exit 2).
        explicit = getattr(args, "store", None) or os.environ.get("RESIDENCY_AUDIT_STORE")
        if explicit:
            extras.require(extras.STORE, "store", "recording the scan (--store)")
        if not getattr(args, "quiet", False):
            print("scan not recorded: scan history needs pip install 'residency-audit[store]'", file=sys.stderr)
        return
    from ..store import open_store, store_url
    from ..store.sql import safe_url

    with open_store(getattr(args, "store", None), getattr(args, "store_timeout", None)) as store:
        store.record(result)
    if not getattr(args, "quiet", False):
        note = "" if result.scan.complete else " (incomplete: never used as the baseline of a report)"
        where = terminal(safe_url(store_url(args.store)))
        print(f"recorded scan {result.scan.id} in {where}{note}", file=sys.stderr)


def load_ruleset(args: argparse.Namespace) -> RuleSet:
    from ..engine import RuleError, load_rules

    try:
        return load_rules(args.rules)
    except RuleError as exc:
        raise UserError(str(exc)) from None


def parse_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise UserError("expected a comma-separated list, got nothing")
    return items


def check_regions(
    provider: str, codes: list[str] | None, flag: str = "--regions", also_known: Iterable[str] = ()
) -> None:
    """Region codes nobody knows are input errors, found before any API call.

    Known: the geography catalog's regions of the provider, plus `also_known` (for
    AWS, botocore's partitions). A typo would otherwise cost a scan full of gaps
    (`eu-westt-1`: 12 ResponseParserErrors and exit 3), or, worse, a region never read.
    """
    if not codes:
        return
    from ..geography import default_catalog

    catalog = default_catalog()
    known = catalog.region_codes(provider) | {c.lower() for c in also_known}
    bad = list(dict.fromkeys(c for c in codes if c.lower() not in known))
    if not bad:
        return
    parts = []
    for code in bad:
        meant = catalog.suggest(provider, code, also_known)
        parts.append(f"'{code}'" + (f" (did you mean {meant}?)" if meant else ""))
    listed = " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)
    raise UserError(
        f"{flag}: unknown region{'s' if len(bad) > 1 else ''} {listed}; "
        f"'residency-audit regions --provider {provider}' lists them"
    )


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def run_policy(args: argparse.Namespace) -> RunPolicy:
    """--fail-on, --exit-zero and --allow-gaps: decided once, handed to the exit code and every renderer."""
    return RunPolicy(
        fail_on=getattr(args, "fail_on", "low") or "low",
        exit_zero=bool(getattr(args, "exit_zero", False)),
        allow_gaps=bool(getattr(args, "allow_gaps", False)),
    )


def exit_code(result: ScanResult, args: argparse.Namespace) -> int:
    policy = run_policy(args)
    if policy.exit_zero:
        return EXIT_OK
    if any(policy.failing(f) for f in result.findings):
        return EXIT_FINDINGS
    if result.scan.interrupted:  # partial by choice, not a gap: --allow-gaps does not cover it
        return EXIT_INCOMPLETE
    if not result.scan.complete and not policy.allow_gaps:
        return EXIT_INCOMPLETE
    return EXIT_OK


def coverage_warning(result: ScanResult, args: argparse.Namespace) -> str | None:
    """The one stderr line an incomplete scan always gets, even with --quiet (fail closed, visibly)."""
    scan = result.scan
    if scan.complete:
        return None
    parts = []
    if scan.interrupted:
        parts.append("interrupted, results are partial")
    if scan.gaps:
        from ..safetext import terminal

        shown = terminal(
            ", ".join(f"{g.provider}:{g.scope or '-'}:{g.region or 'global'}:{g.service}" for g in scan.gaps[:5])
        )
        more = f" and {len(scan.gaps) - 5} more" if len(scan.gaps) > 5 else ""
        parts.append(f"{len(scan.gaps)} coverage gap(s): {shown}{more}")
    allowed_gaps = scan.gaps and not scan.interrupted and getattr(args, "allow_gaps", False)
    allowed = " (allowed by --allow-gaps)" if allowed_gaps else ""
    return f"residency-audit: warning: scan incomplete{allowed}: {'; '.join(parts)}"


def write_stdout_utf8(text: str) -> None:
    """JSON, SARIF, JUnit XML and Markdown are UTF-8 whatever the terminal's encoding: a
    pipe under LANG=C or a latin-1 console would otherwise fail on a tag like 'Zürich'."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8"))
    buffer.flush()


def write_output(result: ScanResult, args: argparse.Namespace, default_path: Path | None = None) -> Path | None:
    """Write the chosen format to --output (or stdout); returns the file written, if any."""
    from ..outputs import UnknownFormat, renderer, streamer

    fmt = args.format
    target = Path(args.output) if args.output else default_path
    if fmt == "table" and target is None:
        if not args.quiet:
            from rich.console import Console

            from ..outputs.table import print_result

            print_result(result, Console())
        return None
    try:
        render = renderer(fmt)
    except UnknownFormat as exc:
        raise UserError(str(exc)) from None
    stream = streamer(fmt)
    if target is None:
        write_stdout_utf8(render(result, run_policy(args)))
        return None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if stream is not None:  # a large scan is written item by item, never held as one text
            with target.open("w", encoding="utf-8") as fp:
                stream(result, fp, run_policy(args))
        else:
            target.write_text(render(result, run_policy(args)), "utf-8")
    except OSError as exc:
        raise UserError(f"{target}: cannot write output: {exc.strerror}") from None
    if not args.quiet:
        from ..outputs.table import print_result
        from ..safetext import terminal

        print_result(result, stderr_console())
        print(f"wrote {terminal(str(target))}", file=sys.stderr)
    return target


def _markup_safe(text: str) -> str:
    """Progress text (account names, regions) as rich renders it: no markup, no control characters."""
    from rich.markup import escape

    from ..safetext import terminal

    return escape(terminal(text))


class RichProgress:
    """Rich progress: one overall bar and one row per label (account), fed by the scan's Progress protocol.

    With many accounts only the running ones keep a row, so the display stays a screen high.
    """

    MAX_FINISHED_ROWS = 8

    def __init__(self, console: Console, title: str) -> None:
        import threading

        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[last]}"),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task(title, total=0, last="")
        self._rows: dict[str, Any] = {}
        self._names: dict[str, str] = {}
        self._finished: list[Any] = []
        self._lock = threading.Lock()
        self._live = False

    def __enter__(self) -> RichProgress:
        # A live display needs a terminal: in a pipe or a CI log it would draw nothing
        # but leave an empty line behind (before an error message, say).
        self._live = self._progress.console.is_terminal
        if self._live:
            self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live:
            self._progress.stop()

    def _row(self, label: str) -> Any:
        row = self._rows.get(label)
        if row is None:
            name = self._names.get(label)
            text = f"  {label} {name}" if name else f"  {label}"
            row = self._rows[label] = self._progress.add_task(_markup_safe(text), total=0, last="")
        return row

    def add_work(self, label: str, count: int) -> None:
        with self._lock:
            task = self._progress.tasks[0]
            self._progress.update(self._task, total=(task.total or 0) + count)
            row = self._row(label)
            self._progress.update(row, total=(self._progress._tasks[row].total or 0) + count)

    def done(self, label: str, description: str) -> None:
        with self._lock:
            row = self._row(label)
            task = self._progress._tasks[row]
            if task.completed >= (task.total or 0):
                # Work nobody announced is not counted: the display never passes 100%
                # (adapters announce before they start; tests hold them to it).
                return
            self._progress.update(self._task, advance=1, last=_markup_safe(f"{label} {description}"))
            self._progress.update(row, advance=1, last=_markup_safe(description))
            if self._progress._tasks[row].finished:
                self._finished.append(row)
                if len(self._finished) > self.MAX_FINISHED_ROWS:
                    self._progress.update(self._finished.pop(0), visible=False)

    def event(self, kind: str, fields: dict[str, Any]) -> None:
        if kind == "account_started" and fields.get("name"):
            with self._lock:  # the progress row of that scope (`provider:scope`) shows its name
                self._names[f"{fields.get('provider')}:{fields.get('account')}"] = str(fields["name"])


class JsonLog:
    """`--log-json`: one JSON object per line, flushed per event, so a pipeline can follow along."""

    def __init__(self, target: str | TextIO) -> None:
        import threading

        self._lock = threading.Lock()
        self._own = isinstance(target, str) and target != "-"
        if not isinstance(target, str):
            self._stream = target
            return
        try:
            self._stream = open(target, "a", encoding="utf-8") if self._own else sys.stdout  # noqa: SIM115
        except OSError as exc:
            raise UserError(f"{target}: cannot write the JSON log: {exc.strerror}") from None

    def add_work(self, label: str, count: int) -> None:
        pass

    def done(self, label: str, description: str) -> None:
        pass

    def event(self, kind: str, fields: dict[str, Any]) -> None:
        import datetime
        import json

        line = json.dumps(
            {"ts": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"), "event": kind, **fields},
            default=str,
        )
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def close(self) -> None:
        if self._own:
            self._stream.close()


class Progresses:
    """Several progress sinks as one (the terminal display and the JSON log)."""

    def __init__(self, sinks: list[Any]) -> None:
        self.sinks = sinks

    def add_work(self, label: str, count: int) -> None:
        for s in self.sinks:
            s.add_work(label, count)

    def done(self, label: str, description: str) -> None:
        for s in self.sinks:
            s.done(label, description)

    def event(self, kind: str, fields: dict[str, Any]) -> None:
        for s in self.sinks:
            fn = getattr(s, "event", None)
            if callable(fn):
                fn(kind, fields)


def summary_event(result: ScanResult, code: int) -> dict[str, Any]:
    """The last line of `--log-json`: what a pipeline needs without parsing the report."""
    from collections import Counter

    scan = result.scan
    by_severity = Counter(f.severity for f in result.findings if not f.suppressed_by)
    return {
        "scan_id": scan.id,
        "provider": scan.request.provider,
        "complete": scan.complete,
        "exit_code": code,
        "resources": len(result.resources),
        "findings": sum(by_severity.values()),
        "by_severity": dict(by_severity),
        "gaps": len(scan.gaps),
        "api_calls": sum(scan.api_calls.values()),
        "api_calls_by_service": api_calls_by_service(scan.api_calls),
        "shard": scan.effective_request().options.get("shard"),
        "shard_group": scan.effective_request().options.get("shard_group"),
    }


def api_calls_by_service(calls: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for op, n in calls.items():
        service = op.split(":", 1)[0]
        out[service] = out.get(service, 0) + n
    return dict(sorted(out.items()))
