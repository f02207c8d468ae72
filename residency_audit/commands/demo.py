"""`residency-audit demo`: the whole scan path against bundled, emulated estates.

No cloud account needed: each demo part starts a local emulator on a free
loopback port, writes a small sample estate into it and yields an adapter
pointed at it; all parts are scanned as one scan through the normal path. The findings
go to stdout like a scan's; `reports/demo-<timestamp>.json` holds the scan and
`reports/demo-<timestamp>.html` the report with its map.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .common import add_rule_options, add_store_options

if TYPE_CHECKING:
    from ..core import Adapter
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


@contextmanager
def gcp_part() -> Iterator[Callable[[], Adapter]]:
    from residency_emulator.gcp import gcp_emulator, seed_gcp

    from ..adapters.gcp import GcpAdapter

    with gcp_emulator() as emu:
        seed_gcp(emu)
        yield lambda: GcpAdapter.create(anonymous=True, endpoints={"*": emu.url}, inventory="services")


@contextmanager
def azure_part() -> Iterator[Callable[[], Adapter]]:
    """The fake ARM server over HTTPS; azure-identity and the SDK trust its certificate via REQUESTS_CA_BUNDLE."""
    from residency_emulator.azure import azure_emulator, seed_azure

    from ..adapters.azure import AzureAdapter

    with azure_emulator() as fake:
        seed_azure(fake)
        with environment(fake.env()):
            yield lambda: AzureAdapter.from_environment(endpoint=fake.url)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "demo",
        help="scan bundled emulated estates (no cloud account needed)",
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
        print(f"open {html_path}: the report, with a map of where the data lives")
    return EXIT_OK if result.scan.complete else EXIT_INCOMPLETE


def html_report(result: ScanResult, args: argparse.Namespace) -> str:
    """The `report` command's HTML over the store (this demo compared with the previous one);
    with --no-store, over this scan alone, in a store that lives in memory."""
    from ..reporting import build
    from ..reporting.html import render
    from ..store import open_store, store_url
    from ..store.sql import safe_url, target_of

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
