"""`residency-audit report`: the recorded scan history as evidence (HTML, Markdown, CSV, JSON)."""

from __future__ import annotations

import argparse
import datetime as _dt
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, UserError
from ..model import SEVERITIES, severity_rank

if TYPE_CHECKING:
    from ..reporting import Report

FORMATS = ("html", "md", "csv", "json")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ..cli import COMMANDS

    p = sub.add_parser(
        "report",
        help=COMMANDS["report"],
        description="Report the current state (the latest complete scan) and what changed since the "
        "previous complete scan: new and resolved findings, resources that moved, coverage gaps that "
        "appeared. Findings are grouped by owner, country and rule. Incomplete scans never replace "
        "the last complete one.",
    )
    window = p.add_mutually_exclusive_group()
    window.add_argument("--since", metavar="DATE", help="cover scans started at or after DATE (ISO 8601, UTC)")
    window.add_argument("--last", metavar="N", type=int, help="cover the last N recorded scans (default: 30)")
    p.add_argument("--format", "-f", choices=FORMATS, default="html", help="report format (default: html)")
    p.add_argument("--output", "-o", metavar="DIR", default="reports", help="where to write it (default: reports/)")
    p.add_argument(
        "--store",
        metavar="URL",
        help="scan store: a SQLite file path, sqlite:///FILE or postgresql://... "
        "(default: $RESIDENCY_AUDIT_STORE, else reports/residency.db)",
    )
    from .common import add_store_timeout

    add_store_timeout(p)
    p.add_argument(
        "--target",
        metavar="KEY",
        help="which scan target to report (default: the latest scan's); with --fail-on/--fail-on-new, judge only it "
        "(default: every target scanned in the window)",
    )
    p.add_argument(
        "--bundle", action="store_true", help="write an evidence bundle: report, raw scan JSON, manifest, SHA256SUMS"
    )
    p.add_argument(
        "--sign-key",
        metavar="PEM",
        help="with --bundle: sign the manifest with this Ed25519 private key (default: $RESIDENCY_AUDIT_SIGNING_KEY; "
        "passphrase from $RESIDENCY_AUDIT_SIGNING_KEY_PASSPHRASE)",
    )
    p.add_argument(
        "--verify",
        metavar="DIR",
        help="verify an evidence bundle's checksums and signature instead (exit 1 on change or a bad signature)",
    )
    p.add_argument(
        "--verify-key",
        metavar="PEM",
        help="with --verify: the Ed25519 public key the bundle must be signed with (an unsigned bundle then fails)",
    )
    g = p.add_argument_group(
        "alerting (for scheduled jobs; without these options a written report exits 0)",
        "Exit 1 on findings, else 3 when the newest scans are incomplete (a gap is not a clean bill), else 0.",
    )
    g.add_argument(
        "--fail-on",
        metavar="SEVERITY",
        choices=SEVERITIES,
        help=f"exit 1 if the current state holds active findings at or above SEVERITY ({', '.join(SEVERITIES)})",
    )
    g.add_argument(
        "--fail-on-new",
        metavar="SEVERITY",
        choices=SEVERITIES,
        help="exit 1 if findings at or above SEVERITY appeared since the baseline, including those seen only "
        "by incomplete scans since (art. 14: prompt detection)",
    )
    g.add_argument(
        "--allow-gaps", action="store_true", help="with --fail-on/--fail-on-new: incomplete newest scans exit 0, not 3"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    p.set_defaults(func=run)


def alert_code(report: Report, fail_on: str | None, fail_on_new: str | None, allow_gaps: bool) -> int:
    """The exit code a scheduled report job alerts on; 0 when it was not asked to alert."""
    if fail_on is None and fail_on_new is None:
        return EXIT_OK
    if fail_on is not None and any(severity_rank(f.severity) >= severity_rank(fail_on) for f in report.active):
        return EXIT_FINDINGS
    if fail_on_new is not None:
        appeared = [*report.diff.new, *report.diff.unconfirmed]
        if any(severity_rank(f.severity) >= severity_rank(fail_on_new) for f in appeared):
            return EXIT_FINDINGS
    incomplete = report.current is None or not report.current.scan.complete or report.newer_incomplete
    return EXIT_INCOMPLETE if incomplete and not allow_gaps else EXIT_OK


def parse_since(value: str) -> _dt.datetime:
    try:
        when = _dt.datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"--since: '{value}' is not an ISO 8601 date or time (e.g. 2026-11-01)") from None
    return when.replace(tzinfo=_dt.UTC) if when.tzinfo is None else when.astimezone(_dt.UTC)


def run(args: argparse.Namespace) -> int:
    from .. import extras

    extras.require(extras.STORE, "store", "report")
    if args.verify:
        return verify(args)
    if args.verify_key:
        raise UserError("--verify-key goes with --verify DIR")
    import os

    sign_key_path = args.sign_key or os.environ.get("RESIDENCY_AUDIT_SIGNING_KEY") or None
    if args.sign_key and not args.bundle:
        raise UserError("--sign-key signs an evidence bundle: add --bundle")
    sign_key = Path(sign_key_path) if sign_key_path and args.bundle else None
    since = parse_since(args.since) if args.since else None
    last = args.last if args.last is not None else (None if since else 30)
    if last is not None and last < 1:
        raise UserError("--last must be at least 1")

    from sqlalchemy.exc import SQLAlchemyError

    from ..reporting import FORMATS as SUFFIX
    from ..reporting import build, targets_in_window
    from ..store import open_store, store_url
    from ..store.sql import safe_url

    url = store_url(args.store)
    alerting = args.fail_on is not None or args.fail_on_new is not None
    judged: list[Report] = []
    with open_store(args.store, args.store_timeout, create=False) as store:
        try:
            report = build(store, safe_url(url), since=since, last=last, target=args.target)
            judged.append(report)
            if alerting and args.target is None:
                # Every target scanned in the window, not only the latest scan's: a narrow scan
                # recorded after a full one must not silence the full one's open findings.
                for key in targets_in_window(store, since, last):
                    if key != report.target:
                        judged.append(build(store, safe_url(url), since=since, last=last, target=key))
        except SQLAlchemyError as exc:
            raise store.failed("cannot read store", exc) from None
    text = render(report, args.format)
    stamp = report.generated_at.strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.output)
    name = f"residency-report-{stamp}{SUFFIX[args.format]}"
    try:
        if args.bundle:
            from ..reporting.bundle import write_bundle

            target = out / f"evidence-{stamp}"
            write_bundle(report, target, name, text, sign_key)
        else:
            out.mkdir(parents=True, exist_ok=True)
            target = out / name
            target.write_text(text, "utf-8")
    except FileExistsError:
        raise UserError(f"{target} already exists") from None
    except OSError as exc:
        raise UserError(f"{out}: cannot write the report: {exc.strerror}") from None
    if not args.quiet:
        d = report.diff
        print(
            f"wrote {target}: {len(report.active)} findings ({len(d.new)} new, {len(d.resolved)} resolved), "
            f"{len(d.moved)} moved, {len(d.gaps_appeared)} gaps appeared"
        )
    if not alerting:
        return EXIT_OK
    codes = [alert_code(r, args.fail_on, args.fail_on_new, args.allow_gaps) for r in judged]
    if not args.quiet:
        from ..safetext import terminal

        print(f"alert: judged {len(judged)} target(s) (the latest complete state of each):")
        for r, code in zip(judged, codes, strict=True):
            state = f"scan {r.current.scan.id}" if r.current else "no scan"
            print(f"  {r.target} {terminal(r.target_label)}: {state}, {len(r.active)} findings -> exit {code}")
    return worst_code(codes)


def verify(args: argparse.Namespace) -> int:
    """Checksums, then the signature: exit 1 on any change, an invalid signature, or no signature
    when --verify-key says there must be one."""
    from ..reporting.bundle import signature_status, verify_bundle
    from ..safetext import terminal

    where = terminal(args.verify)
    problems = verify_bundle(Path(args.verify))
    for line in problems:
        print(f"{where}: {terminal(line)}")
    status, detail = signature_status(Path(args.verify), Path(args.verify_key) if args.verify_key else None)
    failed = bool(problems) or status == "invalid" or (status == "unsigned" and args.verify_key is not None)
    if failed or not args.quiet:
        print(f"{where}: signature {status.upper()}: {terminal(detail)}")
    if not problems and not args.quiet:
        print(f"{where}: OK, every file matches its SHA-256")
    return EXIT_FINDINGS if failed else EXIT_OK


def worst_code(codes: list[int]) -> int:
    """Findings anywhere beat an incomplete state anywhere, which beats clean."""
    for code in (EXIT_FINDINGS, EXIT_INCOMPLETE):
        if code in codes:
            return code
    return EXIT_OK


def render(report: object, fmt: str) -> str:
    import importlib

    module = {"html": "html", "md": "markdown", "csv": "csvout", "json": "jsonreport"}[fmt]
    text: str = importlib.import_module(f"residency_audit.reporting.{module}").render(report)
    return text
