"""`residency-audit demo`: the whole scan path against bundled, emulated estates.

No cloud account needed: each demo part starts a local emulator on a free
loopback port, writes a small sample estate into it and yields an adapter
pointed at it; all parts are scanned as one scan through the normal path. The findings
go to stdout like a scan's; `reports/demo-<timestamp>.json` holds the scan,
`reports/demo-<timestamp>.html` the report with its map, and
`reports/demo-<timestamp>-copies.md` the erasure checklist of one customer's data set
(`copies --tag customer=acme`: every copy the estate keeps of it, art. 22).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .common import add_rule_options, add_store_options

if TYPE_CHECKING:
    from ..model import ScanResult


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Point an SDK's standard variables at an emulator for the scan, then restore them."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ..cli import COMMANDS

    p = sub.add_parser(
        "demo",
        help=COMMANDS["demo"],
        description="Start local cloud emulators, fill them with a sample estate spread over EU and "
        "non-EU regions, and scan them through the normal scan path. Prints the findings, writes the "
        "scan as JSON and the HTML report (with its map of where the data lives) to --reports-dir. "
        "The sample estate is the same in every run, so a second demo shows no changes. "
        "Exit 0 when the demo scan was complete (its findings are planted: they never fail it), "
        "3 when it was not (something in this installation is broken).",
    )
    p.add_argument(
        "--reports-dir", default="reports", help="where to write the JSON and HTML reports (default: reports/)"
    )
    from ..providers import names

    p.add_argument("--providers", default=",".join(names()), help=f"demo parts to run (default: {','.join(names())})")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress display, findings or summary")
    # No --fail-on/--exit-zero/--allow-gaps: the demo's findings are there by design, and
    # an exit code 1 would read as "the demo failed". `gate` and `scan` show exit codes at work.
    add_rule_options(p, exit_options=False)
    add_store_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import extras
    from ..core import MultiAdapter
    from ..errors import EXIT_INCOMPLETE, EXIT_OK, UserError
    from ..model import ScanRequest, utcnow
    from ..outputs import renderer
    from ..providers import api, names
    from .common import parse_list, run_policy, stderr_console
    from .scan import execute

    providers = parse_list(args.providers) or []
    unknown = sorted(set(providers) - set(names()))
    if unknown:
        raise UserError(f"unknown demo part(s) {', '.join(unknown)} (known: {', '.join(names())})")
    extras.require(extras.DEMO, "demo", "demo")
    console = stderr_console()
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.reports_dir)
    json_path, html_path = out / f"demo-{stamp}.json", out / f"demo-{stamp}.html"
    copies_path = out / f"demo-{stamp}-copies.md"
    # The findings go to stdout like a scan's; the scan as JSON is written beside them.
    args.format, args.output = "table", None

    def write_json(result: ScanResult) -> None:
        _write(json_path, renderer("json")(result, run_policy(args)))

    with ExitStack() as stack:
        factories = []
        with console.status("starting local cloud emulators and writing the sample estates into them..."):
            for name in providers:
                factories.append(stack.enter_context(api(name).demo_part()()))
        request = ScanRequest("+".join(providers), scopes=("demo",), options={"demo": True})
        result, _ = execute(args, request, lambda: MultiAdapter([f() for f in factories]), also_write=write_json)
    _write(html_path, html_report(result, args))
    copies = copies_checklist(result)
    _write(copies_path, copies[0])
    if not args.quiet:
        from rich.console import Console
        from rich.text import Text

        active = [f for f in result.findings if not f.suppressed_by]
        Console().print(  # wrapped at words, like the table above it
            Text(
                f"demo: scanned the bundled sample estate ({', '.join(providers)}) through the normal scan path; "
                f"its {len(active)} findings are there by design (London, Zurich, replicas to Virginia and "
                "Sydney, ...)."
            )
        )
        print(f"wrote {json_path} (the scan as JSON)")
        print(f"wrote {copies_path}: {copies[1]}")
        print(f"open {html_path}: the report, with a map of where the data lives")
    return EXIT_OK if result.scan.complete else EXIT_INCOMPLETE


#: The sample estate's customer whose data set the demo follows (tagged in every cloud's estate).
DEMO_DATA_SET = ("customer", "acme")


def copies_checklist(result: ScanResult) -> tuple[str, str]:
    """The erasure checklist of the demo customer's data set, as `copies --tag customer=acme`
    makes it, and one line that says what it holds."""
    from ..copies import Selector, build
    from ..reporting.copies import render_markdown

    key, value = DEMO_DATA_SET
    checklist = build([result], Selector(((key, value),)))
    present = checklist.present
    places = sorted({c.place or str(c.region) for c in present})
    outside = sum(1 for c in present if not c.in_eu)
    resources = len({c.resource_id for c in present})
    line = (
        f"every copy of the data set {key}={value} (copies --tag {key}={value}): {len(present)} copies in "
        f"{resources} resources and {len(places)} places, {outside} outside the EU, "
        f"{len(checklist.unverifiable)} not verifiable"
    )
    return render_markdown(checklist), line


def html_report(result: ScanResult, args: argparse.Namespace) -> str:
    """The `report` command's HTML over the store (this demo compared with the previous one);
    with --no-store, over this scan alone, in a store that lives in memory."""
    from ..model import target_of
    from ..reporting import build
    from ..reporting.html import render
    from ..store import open_store, store_url
    from ..store.sql import safe_url

    target, _ = target_of(result.scan.request)
    if getattr(args, "record", False):
        with open_store(args.store, create=False) as store:
            return render(build(store, safe_url(store_url(args.store)), target=target))
    with open_store("sqlite://") as store:
        store.record(result)
        return render(build(store, "(not recorded: --no-store)", target=target))


def _write(path: Path, text: str) -> None:
    from ..errors import UserError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot write the demo report: {exc.strerror}") from None
