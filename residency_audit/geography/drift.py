"""Catalog freshness: what a provider publishes that the catalog does not know.

`residency-audit regions --check` compares the catalog with what a provider
publishes (each provider's `catalog` module: the installed botocore's
`partitions.json` and `endpoints.json`; an Azure subscription's `list_locations`). A code the
provider lists and the catalog lacks is *new*; a code both know but on which
they disagree (AWS partition, Azure country or pair) is *changed*. Either is
drift: the catalog needs an update. The scan itself already fails closed on an
unknown code; this is how the maintainers learn about it before a user does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import Catalog


@dataclass
class Drift:
    """The outcome of comparing one provider's published locations with the catalog."""

    provider: str
    source: str
    #: (code, what the source says about it): listed by the source, unknown to the catalog
    new: list[tuple[str, str]] = field(default_factory=list)
    #: (code, the disagreement): known to both, but they disagree
    changed: list[tuple[str, str]] = field(default_factory=list)
    #: (code, why it may be absent): catalogued, not listed by this source (closed, restricted,
    #: not in this SDK release yet); informational, not drift
    unlisted: list[tuple[str, str]] = field(default_factory=list)
    #: facts worth a line that are not drift (a pair the catalog leaves out on purpose, ...)
    notes: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.new or self.changed)

    def to_dict(self) -> dict[str, Any]:
        def rows(items: list[tuple[str, str]]) -> list[dict[str, str]]:
            return [{"code": c, "detail": d} for c, d in items]

        return {
            "provider": self.provider,
            "source": self.source,
            "drift": self.drifted,
            "new": rows(self.new),
            "changed": rows(self.changed),
            "unlisted": rows(self.unlisted),
            "notes": list(self.notes),
        }


def catalogued(catalog: Catalog, provider: str, code: str) -> bool:
    """The code is an entry or an alias of the catalog (not merely a zone-shaped match of one)."""
    data = catalog.raw(provider)
    key = code.strip().lower()
    entries = {str(k).lower() for k in data.get("locations") or {}}
    aliases = {str(k).lower() for k in data.get("aliases") or {}}
    return key in entries or key in aliases
