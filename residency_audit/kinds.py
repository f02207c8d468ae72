"""What a resource kind is: its category (data, compute, network, control plane) and scope.

Art. 6 has two clauses. Personal data may not be processed outside the EU, so a
resource that holds or processes data (or might: an unknown kind) is judged by
where it is. No activity may take place on US soil, so *every* resource placed in
the US is flagged, a VPC as much as a database. A control-plane object (an IAM
role, a DNS zone, a role assignment) holds no personal data; when it lives in a
provider's global control plane it is judged by its own rule (RA-CONTROL-GLOBAL).

Which kinds are control plane is data, not code: each provider declares a table of
`KindClass` rows (`providers/<cloud>/classes.py`), globs over Terraform resource
types and over the kinds live scans report. A kind no row matches is `unknown`,
and the rules treat it as data: a kind is never assumed harmless.
"""

from __future__ import annotations

import fnmatch
import importlib
import re
from dataclasses import dataclass
from typing import Literal

Category = Literal["data", "compute", "network", "control", "unknown"]
CATEGORIES: tuple[Category, ...] = ("data", "compute", "network", "control", "unknown")

#: `regional`: located where its provider configuration (or own argument) says.
#: `global`: lives in the provider's global control plane whatever region a plan configures.
Scope = Literal["regional", "global"]


@dataclass(frozen=True, slots=True)
class KindClass:
    """One row of a provider's classification table: the first row whose globs match wins."""

    match: tuple[str, ...]
    category: Category
    scope: Scope = "regional"
    #: Settings of a parent resource (bucket policies, subnet associations...): when the
    #: parent is in the same plan, the record is judged with it rather than on its own.
    part_of: tuple[str, ...] = ()
    note: str = ""


UNKNOWN = KindClass(match=(), category="unknown", note="no classification row matches: judged as data")
_WILD = re.compile(r"[*?\[]")


class Classifier:
    """A provider's table as, per row, a set of its literal names, a tuple of its prefix globs
    (`aws_iam_*`) and one regex of its other patterns, with a memo per kind name.

    fnmatch of a literal is equality and of `prefix*` is `startswith`, so only the few patterns
    with an inner wildcard are compiled: compiling every pattern (~1,000, then ~700) was about a
    tenth of a gate run on a lean plan."""

    __slots__ = ("_memo", "_rows")

    def __init__(self, rows: tuple[KindClass, ...]) -> None:
        self._rows: list[tuple[frozenset[str], tuple[str, ...], re.Pattern[str] | None, KindClass]] = []
        for row in rows:
            literal = frozenset(g for g in row.match if not _WILD.search(g))
            prefixes = tuple(g[:-1] for g in row.match if g.endswith("*") and not _WILD.search(g[:-1]))
            globs = [fnmatch.translate(g) for g in row.match if g not in literal and g[:-1] not in prefixes]
            self._rows.append((literal, prefixes, re.compile("|".join(globs)) if globs else None, row))
        self._memo: dict[str, KindClass] = {}

    def classify(self, name: str) -> KindClass:
        hit = self._memo.get(name)
        if hit is None:
            hit = next(
                (
                    row
                    for literal, prefixes, rx, row in self._rows
                    if name in literal or name.startswith(prefixes) or (rx is not None and rx.match(name))
                ),
                UNKNOWN,
            )
            self._memo[name] = hit
        return hit


_CLASSIFIERS: dict[str, Classifier] = {}


def classifier(provider: str) -> Classifier:
    """The table of a provider (`aws`, `gcp`, `azure`), imported on first use."""
    found = _CLASSIFIERS.get(provider)
    if found is None:
        try:
            module = importlib.import_module(f"residency_audit.providers.{provider}.classes")
            rows: tuple[KindClass, ...] = module.CLASSES
        except ModuleNotFoundError:
            rows = ()
        found = _CLASSIFIERS[provider] = Classifier(rows)
    return found


def classify(provider: str, *names: str) -> KindClass:
    """The class of the first name a row matches (e.g. the Terraform type, then the kind)."""
    table = classifier(provider)
    for name in names:
        if name:
            row = table.classify(name)
            if row is not UNKNOWN:
                return row
    return UNKNOWN
