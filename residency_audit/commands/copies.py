"""`residency-audit copies SELECTOR`: where every copy of a data set lives, and, after a
deletion, whether any remains (agreement art. 21-22: hand-over, and erasure of all
personal data and all existing copies within one month).

The checklist is made from scans already taken: the latest scan of each target in the
store that finished before `--since` (or the latest, without it), or the scan files
given with `--scan`. Nothing is read from a cloud here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, UserError

if TYPE_CHECKING:
    from ..copies import Checklist, Selector, Verification
    from ..model import ScanResult


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ..cli import COMMANDS
    from ..reporting.copies import FORMATS
    from .common import add_store_timeout

    p = sub.add_parser(
        "copies",
        help=COMMANDS["copies"],
        description="List every place a copy of a data set lives: the selected resources' own locations "
        "(primary, replicas, backups, geo-secondaries) and every resource linked to them as a copy "
        "(snapshots, images, recovery points, replication destinations, read replicas, exports), across "
        "kinds, regions and accounts, from scans already recorded. What cannot be seen (a resource no scan "
        "saw, a kind whose copies are not modelled, a part of the estate a scan could not read) is listed "
        "as not verifiable. With --verify-erased --since DATE: compare the scans made after DATE with the "
        "checklist of the scans before it. Exit codes: 0 nothing remains (or a checklist was printed); "
        "1 copies remain or appeared; 2 usage or input error; 3 not proven (a scan incomplete, a target "
        "not scanned again, or copies not verifiable).",
    )
    sel = p.add_argument_group("which data set (combine: every tag, and any owner, and any resource)")
    sel.add_argument("--tag", action="append", default=[], metavar="KEY[=VALUE]", help="resources with this tag")
    sel.add_argument(
        "--owner",
        action="append",
        default=[],
        metavar="ID",
        help="resources owned by this account, project, subscription, or anything above them "
        "(organisation, OU, folder, management group)",
    )
    sel.add_argument(
        "--resource", action="append", default=[], metavar="ID", help="a resource id or name, or a glob of them"
    )
    src = p.add_argument_group("which scans (default: the latest scan of every target in the store)")
    src.add_argument(
        "--store",
        metavar="URL",
        help="scan store: a SQLite file path, sqlite:///FILE or postgresql://... "
        "(default: $RESIDENCY_AUDIT_STORE, else reports/residency.db)",
    )
    add_store_timeout(src)
    src.add_argument(
        "--scan",
        action="append",
        default=[],
        metavar="JSON",
        help="use this scan file (written by 'scan --format json') instead of the store (repeatable); with "
        "--verify-erased: the scans made after the deletion",
    )
    ver = p.add_argument_group("after a deletion")
    ver.add_argument(
        "--verify-erased",
        action="store_true",
        help="report every copy that still exists, is kept beyond the one-month limit, or appeared since",
    )
    ver.add_argument(
        "--since",
        metavar="DATE",
        help="when the deletion began (ISO 8601): the checklist comes from scans finished before it, the "
        "verification from scans started at or after it; the limit is one month later",
    )
    ver.add_argument(
        "--checklist",
        metavar="JSON",
        help="with --verify-erased: the checklist to verify (the JSON of an earlier 'copies --format json') "
        "instead of one made from the store's scans before --since",
    )
    ver.add_argument("--allow-gaps", action="store_true", help="not verifiable copies and incomplete scans exit 0")
    out = p.add_argument_group("output")
    out.add_argument("--format", "-f", choices=FORMATS, default="table", help="default: table")
    out.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    out.add_argument(
        "--bundle",
        metavar="DIR",
        help="with --verify-erased: write an evidence bundle (the verification as Markdown and JSON, every "
        "scan it used, manifest, SHA256SUMS)",
    )
    out.add_argument(
        "--sign-key",
        metavar="PEM",
        help="with --bundle: sign the manifest with this Ed25519 private key (default: $RESIDENCY_AUDIT_SIGNING_KEY)",
    )
    p.set_defaults(func=run)


def selector_of(args: argparse.Namespace) -> Selector:
    from ..copies import Selector

    tags: list[tuple[str, str | None]] = []
    for raw in args.tag:
        key, eq, value = raw.partition("=")
        if not key.strip():
            raise UserError(f"--tag {raw!r}: give KEY or KEY=VALUE")
        tags.append((key.strip(), value if eq else None))
    selector = Selector(tuple(tags), tuple(o.strip() for o in args.owner if o.strip()), tuple(args.resource))
    if selector.empty:
        raise UserError("copies: say which data set, with --tag, --owner or --resource")
    return selector


def _since(value: str) -> dt.datetime:
    from .report import parse_since

    return parse_since(value)


def _usable(result: ScanResult) -> bool:
    """Scans of what exists: not a plan (nothing exists yet) and not a guardrail audit (controls, not data)."""
    req = result.scan.request
    return req.provider != "terraform" and req.options.get("audit") != "guardrails"


def _from_store(args: argparse.Namespace, before: dt.datetime | None, after: dt.datetime | None) -> list[ScanResult]:
    """The latest scan of every target in the window: the latest *complete* one when it has one
    (an incomplete newer scan is then used too, so its gaps stay visible)."""
    from .. import extras
    from ..store import open_store

    extras.require(extras.STORE, "store", "copies")
    chosen: list[str] = []
    with open_store(args.store, args.store_timeout, create=False) as store:
        by_target: dict[str, list[object]] = {}
        for info in store.scans():
            if before is not None and (info.finished_at or info.started_at) >= before:
                continue
            if after is not None and info.started_at < after:
                continue
            by_target.setdefault(info.target, []).append(info)
        for infos in by_target.values():
            complete = [i for i in infos if getattr(i, "complete", False)]
            latest = infos[-1]
            if complete:
                chosen.append(complete[-1].id)  # type: ignore[attr-defined]
                if latest is not complete[-1]:
                    chosen.append(latest.id)  # type: ignore[attr-defined]
            else:
                chosen.append(latest.id)  # type: ignore[attr-defined]
        results = [r for r in store.iter_load(chosen) if _usable(r)]
    return results


def _from_files(paths: list[str]) -> list[ScanResult]:
    from ..scanfile import read_scan

    return [r for r in (read_scan(Path(p)) for p in paths) if _usable(r)]


def _read_checklist(path: str, selector: Selector) -> Checklist:
    from .. import jsonio
    from ..copies import Checklist, Copy, ScanUsed

    try:
        doc = jsonio.loads(Path(path).read_bytes())
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise UserError(f"{path}: invalid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("tool") != "residency-audit copies" or "copies" not in doc:
        raise UserError(f"{path}: not a checklist (the JSON that 'copies --format json' writes)")
    copies, scans = doc.get("copies"), doc.get("scans")
    if not isinstance(copies, list) or not all(isinstance(c, dict) for c in copies):
        raise UserError(f"{path}: 'copies' is not a list of objects")
    if not isinstance(scans, list) or not all(isinstance(s, dict) for s in scans):
        raise UserError(f"{path}: 'scans' is not a list of objects")
    used = [
        ScanUsed(
            str(s.get("id", "")), str(s.get("target", "")), str(s.get("started_at", "")), s.get("complete") is True
        )
        for s in scans
    ]
    return Checklist(selector, used, [Copy.from_dict(c) for c in copies])


def run(args: argparse.Namespace) -> int:
    from ..copies import build, verify

    selector = selector_of(args)
    if not args.verify_erased:
        for flag, given in (("--checklist", args.checklist), ("--bundle", args.bundle), ("--sign-key", args.sign_key)):
            if given:
                raise UserError(f"{flag} goes with --verify-erased")
        before = _since(args.since) if args.since else None
        results = _from_files(args.scan) if args.scan else _from_store(args, before, None)
        if not results:
            raise UserError("copies: no scan to work from (record one with 'scan ... --record', or pass --scan FILE)")
        checklist = build(results, selector)
        _write(args, checklist)
        return EXIT_OK
    if not args.since:
        raise UserError("--verify-erased needs --since DATE (when the deletion began)")
    since = _since(args.since)
    before_scans: list[ScanResult] = []
    if args.checklist:
        checklist = _read_checklist(args.checklist, selector)
    else:
        before_scans = _from_store(args, since, None)
        if not before_scans:
            raise UserError(f"copies: no scan finished before {since.isoformat()} to make the checklist from")
        checklist = build(before_scans, selector)
    after_scans = _from_files(args.scan) if args.scan else _from_store(args, None, since)
    after_scans = [r for r in after_scans if r.scan.started_at >= since]
    if not after_scans:
        raise UserError(f"copies: no scan started at or after {since.isoformat()} to verify against")
    verification = verify(checklist, after_scans, since.date())
    _write(args, verification)
    if args.bundle:
        _bundle(args, verification, [*before_scans, *after_scans])
    if not verification.erased_all:
        return EXIT_FINDINGS
    if not verification.complete and not args.allow_gaps:
        return EXIT_INCOMPLETE
    return EXIT_OK


def _write(args: argparse.Namespace, thing: Checklist | Verification) -> None:
    from ..reporting.copies import print_table, render

    if args.output:
        text = render(thing, args.format)
        try:
            Path(args.output).write_text(text, "utf-8")
        except OSError as exc:
            raise UserError(f"{args.output}: cannot write: {exc.strerror}") from None
        return
    if args.format == "table":
        from rich.console import Console

        print_table(thing, Console())
        return
    sys.stdout.write(render(thing, args.format))


def _bundle(args: argparse.Namespace, verification: Verification, scans: list[ScanResult]) -> None:
    import os

    from ..reporting.bundle import write_evidence
    from ..reporting.copies import render_json, render_markdown

    key = args.sign_key or os.environ.get("RESIDENCY_AUDIT_SIGNING_KEY") or None
    documents = {"erasure.md": render_markdown(verification), "erasure.json": render_json(verification)}
    if args.checklist:  # the checklist verified, as it was given
        documents["checklist.json"] = Path(args.checklist).read_text("utf-8")
    manifest = {
        "what": "erasure verification (residency-audit copies --verify-erased)",
        "selector": verification.checklist.selector.to_dict(),
        "since": verification.since.isoformat(),
        "deadline": verification.deadline.isoformat(),
        "verdict": verification.verdict,
        "checklist_scan_ids": [s.id for s in verification.checklist.scans],
    }
    write_evidence(Path(args.bundle), documents, scans, manifest, Path(key) if key else None)
