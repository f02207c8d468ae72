"""`residency-audit regions`: the geography catalog, and why a code is or isn't EU."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..geography import Catalog
    from ..geography.drift import Drift


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ..cli import COMMANDS

    p = sub.add_parser("regions", help=COMMANDS["regions"], description="Print the geography catalog.")
    from ..providers import api, names

    p.add_argument("--provider", choices=names(), help="only this provider")
    p.add_argument("--format", "-f", choices=("table", "json"), default="table")
    p.add_argument(
        "--explain", metavar="CODE", help="explain why CODE (or PROVIDER:CODE, e.g. gcp:eur8) is (or is not) in the EU"
    )
    check = p.add_argument_group(
        "catalog freshness (--check)",
        "Compare the catalog with what a provider publishes and print what is new (the provider lists it, the "
        "catalog lacks it) or changed (partition, country or pair disagree). aws: the installed botocore's "
        "partitions.json and endpoints.json (offline). azure: a subscription's list-locations, read-only, with "
        "the same credentials as 'scan azure'. Exit 0: no drift; 1: drift found; 2: usage error; 3: the "
        "provider's list could not be read.",
    )
    check.add_argument("--check", action="store_true", help="compare the catalog with the provider (default: aws)")
    # each provider's own --check options (azure: --subscription, --cloud, --endpoint)
    own: dict[str, list[tuple[str, str, object]]] = {}
    for name in names():
        before = {a.dest for a in check._group_actions}
        api(name).register_check_options(check)
        own[name] = [(a.dest, a.option_strings[0], a.default) for a in check._group_actions if a.dest not in before]
    p.set_defaults(func=run, check_options=own)


def run(args: argparse.Namespace) -> int:
    from ..errors import UserError
    from ..geography import default_catalog
    from ..providers import names

    catalog = default_catalog()
    for name, options in args.check_options.items():
        given = [flag for dest, flag, default in options if getattr(args, dest) != default]
        if given and not (args.check and (args.provider or names()[0]) == name):
            raise UserError(f"{', '.join(given)}: only with --check --provider {name}")
    if args.check:
        if args.explain:
            raise UserError("--check and --explain do not go together")
        return _check(args, catalog)
    if args.explain:
        return _explain(args, catalog)
    places = list(catalog.places(args.provider))
    if args.format == "json":
        print(json.dumps([p.to_dict() for p in places], indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console()
    # Sources are long URLs: on a narrow terminal they would squeeze every other
    # column to nothing, so they are left to --format json / --explain there.
    wide = console.width >= 150
    t = Table(title=f"Locations ({len(places)})", title_justify="left")
    t.add_column("provider", no_wrap=True)
    t.add_column("code", no_wrap=True)
    t.add_column("name", overflow="fold")
    t.add_column("kind", overflow="fold")
    t.add_column("countries", overflow="fold")
    t.add_column("EU", no_wrap=True)
    t.add_column("members / paired", overflow="fold")
    if wide:
        t.add_column("source", overflow="fold")
    for p in places:
        related = ", ".join(p.members) if p.members else (f"pair: {p.paired_region}" if p.paired_region else p.parent)
        row = [
            p.provider,
            p.code,
            p.name,
            p.kind,
            ",".join(p.countries) or "?",
            "[green]yes[/]" if p.in_eu else "[red]no[/]",
            related,
        ]
        t.add_row(*row, *([p.source] if wide else []))
    console.print(t)
    if not wide:
        console.print("sources: residency-audit regions --format json, or --explain CODE", style="dim")
    return 0


def _explain(args: argparse.Namespace, catalog: object) -> int:
    from ..errors import UserError
    from ..geography import Catalog
    from ..providers import names
    from ..safetext import terminal

    assert isinstance(catalog, Catalog)
    code = args.explain
    prefix, sep, rest = code.partition(":")
    if sep and prefix.strip().lower() in names():  # "gcp:eur8", as the explanation itself names a place
        wanted = prefix.strip().lower()
        if args.provider and args.provider != wanted:
            raise UserError(f"--explain {code} names {wanted}, but --provider says {args.provider}")
        args.provider, code = wanted, rest
    providers = [args.provider] if args.provider else list(names())
    found = []
    for prov in providers:
        place = catalog.resolve(prov, code)
        if not place.known and args.provider is None and not catalog.knows(prov, code):
            continue  # without --provider, only the providers that know the code
        lines = catalog.explain(place)
        target = catalog.alias_of(prov, code)
        if target is not None:
            lines.insert(1, f"  {code!r} is an alias of {target}")
        elif place.code.lower() != code.strip().lower() and place.kind not in ("unknown", "zone"):
            lines.insert(1, f"  {code!r} is a zone of region {place.code}")
        found.append((place, lines))
    if args.format == "json":
        print(json.dumps([{**p.to_dict(), "explanation": lines} for p, lines in found], indent=2))
        return 0
    if not found:
        print(f"{terminal(code)}: unknown to the catalog for every provider; it counts as outside the EU (fail closed)")
        return 0
    print("\n\n".join("\n".join(terminal(line) for line in lines) for _, lines in found))
    return 0


def _check(args: argparse.Namespace, catalog: Catalog) -> int:
    from ..errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK
    from ..providers import api, names

    provider = args.provider or names()[0]
    drift, incomplete = api(provider).check_catalog(args, catalog)
    if args.format == "json":
        print(json.dumps({**drift.to_dict(), "complete": not incomplete, "incomplete": incomplete}, indent=2))
    else:
        _print_drift(drift, incomplete)
    if incomplete:
        return EXIT_INCOMPLETE
    return EXIT_FINDINGS if drift.drifted else EXIT_OK


def _print_drift(drift: Drift, incomplete: str) -> None:
    print(f"{drift.provider}: catalog checked against {drift.source}")
    if incomplete:
        print(f"  INCOMPLETE: {incomplete}")
        return
    for title, rows in (("new (listed there, not in the catalog)", drift.new), ("changed", drift.changed)):
        if rows:
            print(f"  {title}:")
            for code, detail in rows:
                print(f"    {code}: {detail}")
    for note in drift.notes:
        print(f"  note: {note}")
    if drift.unlisted:
        print(
            f"  {len(drift.unlisted)} catalogued location(s) not listed there (not drift): "
            + ", ".join(code for code, _ in drift.unlisted)
        )
    if drift.drifted:
        print(
            f"  drift: {len(drift.new)} new, {len(drift.changed)} changed; update geography/data/{drift.provider}.yaml"
        )
    else:
        print("  no drift: the catalog knows every location listed there")
