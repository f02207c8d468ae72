"""`residency-audit regions`: the geography catalog, and why a code is or isn't EU."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("regions", help="print the location catalog", description="Print the geography catalog.")
    p.add_argument("--provider", choices=("aws", "gcp", "azure"), help="only this provider")
    p.add_argument("--format", "-f", choices=("table", "json"), default="table")
    p.add_argument("--explain", metavar="CODE", help="explain why CODE is (or is not) in the EU")
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

    t = Table(title=f"Locations ({len(places)})", title_justify="left")
    for col in ("provider", "code", "name", "kind", "countries", "EU", "source"):
        t.add_column(col, overflow="fold")
    for p in places:
        t.add_row(
            p.provider,
            p.code,
            p.name,
            p.kind,
            ",".join(p.countries) or "?",
            "[green]yes[/]" if p.in_eu else "[red]no[/]",
            p.source,
        )
    Console().print(t)
    return 0


def _explain(args: argparse.Namespace, catalog: object) -> int:
    from ..geography import PROVIDERS, Catalog, eu_members

    assert isinstance(catalog, Catalog)
    providers = [args.provider] if args.provider else list(PROVIDERS)
    eu = eu_members()
    out = []
    for prov in providers:
        place = catalog.resolve(prov, args.explain)
        if not place.known and args.provider is None:
            continue
        lines = [f"{prov}:{place.code} — {place.name} ({place.kind})"]
        if not place.known:
            lines.append(f"  unknown: {place.note}. Unknown locations count as outside the EU (fail closed).")
        else:
            for c in place.countries:
                lines.append(f"  {c}: {'EU member state' if c in eu else 'NOT an EU member state'}")
            if place.members:
                lines.append(f"  composite of: {', '.join(place.members)}")
            verdict = "in the EU" if place.in_eu else "NOT in the EU"
            lines.append(
                f"  verdict: {verdict}" + (" (every country must be an EU member state)" if place.members else "")
            )
        if place.operator:
            lines.append(f"  operator: {place.operator}; jurisdictions: {', '.join(place.jurisdictions) or '?'}")
        if place.note:
            lines.append(f"  note: {place.note}")
        if place.source:
            lines.append(f"  source: {place.source}")
        out.append("\n".join(lines))
    if not out:
        print(f"{args.explain}: unknown to the catalog for every provider; it counts as outside the EU (fail closed)")
        return 0
    print("\n\n".join(out))
    return 0
