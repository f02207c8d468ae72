"""What every scanning command shares: rule/format options, output, exit codes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, UserError
from ..model import SEVERITIES, ScanResult, severity_rank

if TYPE_CHECKING:
    from rich.console import Console

    from ..engine import RuleSet


def add_output_options(p: argparse.ArgumentParser, formats: tuple[str, ...] = ("table", "json")) -> None:
    g = p.add_argument_group("output")
    g.add_argument("--format", "-f", choices=formats, default="table", help="output format (default: table)")
    g.add_argument(
        "--output", "-o", metavar="FILE", help="write the output to FILE (the terminal still gets a summary)"
    )
    g.add_argument("--quiet", "-q", action="store_true", help="no progress display or summary on the terminal")


def add_rule_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("rules and exit code")
    g.add_argument(
        "--rules",
        action="append",
        metavar="PATH",
        help="rule file or directory (repeatable; default: the bundled art. 6 rule set)",
    )
    g.add_argument(
        "--fail-on", choices=SEVERITIES, default="low", help="lowest severity that makes the exit code 1 (default: low)"
    )
    g.add_argument("--exit-zero", action="store_true", help="always exit 0 (report-only runs)")
    g.add_argument(
        "--allow-gaps", action="store_true", help="coverage gaps are warnings, not exit code 3 (fail closed by default)"
    )
    g.add_argument(
        "--exceptions",
        metavar="FILE",
        help="accepted risks (default: .residency-exceptions.yaml in the working directory, if there is one)",
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
    g.add_argument("--no-store", dest="record", action="store_false", help="do not record this scan")
    p.set_defaults(record=True)


def record_scan(result: ScanResult, args: argparse.Namespace) -> None:
    """Record the scan (one transaction) when the command asked for it; SQLAlchemy loads only here."""
    if not getattr(args, "record", False):
        return
    from ..store import open_store, store_url
    from ..store.sql import safe_url

    with open_store(getattr(args, "store", None)) as store:
        store.record(result)
    if not getattr(args, "quiet", False):
        note = "" if result.scan.complete else " (incomplete: never used as the baseline of a report)"
        stderr_console().print(f"recorded scan {result.scan.id} in {safe_url(store_url(args.store))}{note}")


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


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def exit_code(result: ScanResult, args: argparse.Namespace) -> int:
    if getattr(args, "exit_zero", False):
        return EXIT_OK
    threshold = severity_rank(getattr(args, "fail_on", "low"))
    if any(not f.suppressed_by and severity_rank(f.severity) >= threshold for f in result.findings):
        return EXIT_FINDINGS
    if result.scan.interrupted:  # partial by choice, not a gap: --allow-gaps does not cover it
        return EXIT_INCOMPLETE
    if not result.scan.complete and not getattr(args, "allow_gaps", False):
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
        shown = ", ".join(f"{g.provider}:{g.scope or '-'}:{g.region or 'global'}:{g.service}" for g in scan.gaps[:5])
        more = f" and {len(scan.gaps) - 5} more" if len(scan.gaps) > 5 else ""
        parts.append(f"{len(scan.gaps)} coverage gap(s): {shown}{more}")
    allowed_gaps = scan.gaps and not scan.interrupted and getattr(args, "allow_gaps", False)
    allowed = " (allowed by --allow-gaps)" if allowed_gaps else ""
    return f"residency-audit: warning: scan incomplete{allowed}: {'; '.join(parts)}"


def write_output(result: ScanResult, args: argparse.Namespace, default_path: Path | None = None) -> Path | None:
    """Write the chosen format to --output (or stdout); returns the file written, if any."""
    from ..outputs import UnknownFormat, renderer

    fmt = args.format
    target = Path(args.output) if args.output else default_path
    if fmt == "table" and target is None:
        if not args.quiet:
            from rich.console import Console

            from ..outputs.table import print_result

            print_result(result, Console())
        return None
    try:
        text = renderer(fmt)(result)
    except UnknownFormat as exc:
        raise UserError(str(exc)) from None
    if target is None:
        sys.stdout.write(text)
        return None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, "utf-8")
    except OSError as exc:
        raise UserError(f"{target}: cannot write output: {exc.strerror}") from None
    if not args.quiet:
        from ..outputs.table import print_result

        print_result(result, stderr_console())
        stderr_console().print(f"wrote {target}")
    return target


class RichProgress:
    """A rich progress bar fed by the scan's Progress protocol."""

    def __init__(self, console: Console, title: str) -> None:
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

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.stop()

    def add_work(self, label: str, count: int) -> None:
        task = self._progress.tasks[0]
        self._progress.update(self._task, total=(task.total or 0) + count)

    def done(self, label: str, description: str) -> None:
        self._progress.update(self._task, advance=1, last=f"{label} {description}")
