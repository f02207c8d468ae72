"""`residency-audit gate PLAN.json`: check a Terraform plan before `apply`.

Reads `terraform show -json PLANFILE` output (or `-` for stdin), turns it into
the same `Resource` records a live scan yields, and runs the same rules,
exceptions, outputs and exit codes. No cloud SDK is imported on this path, and
rich only when the terminal table is printed: a gate runs on every commit.
"""

from __future__ import annotations

import argparse
import gc
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import OUTPUT_FORMATS, add_output_options, add_rule_options

if TYPE_CHECKING:
    from ..geography import Catalog
    from ..model import Location, Place, RunPolicy, ScanResult

FORMATS = OUTPUT_FORMATS


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ..cli import COMMANDS

    p = sub.add_parser(
        "gate",
        help=COMMANDS["gate"],
        description="Check the output of `terraform show -json PLANFILE` against the residency rules: the "
        "effective location of every planned resource (provider regions from variables, aliases and modules, "
        "replication, replicas and geo-redundant copies). Unknown locations fail closed.",
    )
    p.add_argument("plan", metavar="PLAN.json", help="`terraform show -json PLANFILE` output, or - for stdin")
    p.add_argument(
        "--source-dir",
        metavar="DIR",
        help="the Terraform root module, to point findings at .tf files and lines "
        "(default: the plan file's directory; the working directory for stdin)",
    )
    add_output_options(p, FORMATS)
    g = p.add_argument_group("extra reports (written in the same run)")
    g.add_argument("--sarif", metavar="FILE", help="also write SARIF 2.1.0 (code scanning) to FILE")
    g.add_argument("--junit", metavar="FILE", help="also write JUnit XML (test reports) to FILE")
    g.add_argument(
        "--markdown", metavar="FILE", help="also write a Markdown summary to FILE (e.g. $GITHUB_STEP_SUMMARY)"
    )
    add_rule_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # A gate is one short batch that builds tens of thousands of acyclic records:
    # the cyclic collector would walk them again and again (~10% of the run) and
    # find nothing. Collection resumes when the gate returns.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(args)
    finally:
        if was_enabled:
            gc.enable()


def _run(args: argparse.Namespace) -> int:
    from ..core import run_scan
    from ..exceptions import apply_exceptions, from_args
    from ..geography import default_catalog
    from ..model import ScanRequest
    from ..terraform import PlanAdapter, read_plan
    from .common import exit_code, load_ruleset, run_policy, write_output

    ruleset = load_ruleset(args)
    exceptions = from_args(args)
    plan, label = read_plan(args.plan)
    if args.source_dir:
        source_dir: Path | None = Path(args.source_dir)
    else:
        source_dir = Path.cwd() if args.plan == "-" else Path(args.plan).parent
    catalog = _MemoCatalog(default_catalog())
    adapter = PlanAdapter(plan, label=label, source_dir=source_dir, catalog=catalog)  # type: ignore[arg-type]
    request = ScanRequest(
        "terraform",
        scopes=(label,),
        options={"terraform_version": str(plan.get("terraform_version", ""))},
    )
    result = run_scan(adapter, request, ruleset, catalog)  # type: ignore[arg-type]
    apply_exceptions(result, exceptions)
    for fmt in ("sarif", "junit", "markdown"):
        target = getattr(args, fmt, None)
        if target:
            _write_extra(result, fmt, Path(target), run_policy(args))
    write_output(result, args)
    return exit_code(result, args)


class _MemoCatalog:
    """The catalog, remembering each resolution: a plan repeats a handful of regions thousands of times."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._memo: dict[tuple[str, str | None, str | None], Place] = {}

    def resolve(self, provider: str, code: str | None, zone: str | None = None) -> Place:
        key = (provider, code, zone)
        place = self._memo.get(key)
        if place is None:
            place = self._memo[key] = self._catalog.resolve(provider, code, zone)
        return place

    def resolve_location(self, provider: str, location: Location) -> Place:
        return self.resolve(provider, location.region, location.zone)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._catalog, name)


def _write_extra(result: ScanResult, fmt: str, target: Path, policy: RunPolicy) -> None:
    from ..errors import UserError
    from ..outputs import renderer

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a" if fmt == "markdown" and target.exists() else "w", encoding="utf-8") as fh:
            fh.write(renderer(fmt)(result, policy))
    except OSError as exc:
        raise UserError(f"{target}: cannot write {fmt} report: {exc.strerror}") from None
