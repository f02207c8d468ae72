"""`residency-audit regions`: the geography catalog, and why a code is or isn't EU."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("regions", help="print the location catalog", description="Print the geography catalog.")
    p.add_argument("--provider", choices=("aws", "gcp", "azure"), help="only this provider")
    p.add_argument("--format", "-f", choices=("table", "json"), default="table")
    p.add_argument(
        "--explain", metavar="CODE", help="explain why CODE (or PROVIDER:CODE, e.g. gcp:eur8) is (or is not) in the EU"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..geography import default_catalog

    catalog = default_catalog()
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
    from ..geography import PROVIDERS, Catalog
    from ..safetext import terminal

    assert isinstance(catalog, Catalog)
    code = args.explain
    prefix, sep, rest = code.partition(":")
    if sep and prefix.strip().lower() in PROVIDERS:  # "gcp:eur8", as the explanation itself names a place
        wanted = prefix.strip().lower()
        if args.provider and args.provider != wanted:
            raise UserError(f"--explain {code} names {wanted}, but --provider says {args.provider}")
        args.provider, code = wanted, rest
    providers = [args.provider] if args.provider else list(PROVIDERS)
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
