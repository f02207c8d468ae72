"""A scan's target and scope in words, for a report's reader (an auditor, not the tool).

The store keys scans by their request (`store.sql.target_of`); its label is a machine
string (`gcp regions=all inventory={'organizations/1': 'services'}`). This says the same
thing in sentences: what was scanned, how far, and whose resources were seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import ScanRequest, ScanResult
from ..providers.base import TargetWords, and_list, listed


def _title(provider: str) -> str:
    from ..providers import find

    found = find(provider)
    return found.title if found else "Terraform" if provider == "terraform" else provider


def _words(req: ScanRequest) -> TargetWords:
    """The provider's own words for its target; a provider this installation does not know
    (a scan recorded by a newer version) is described by its scopes as recorded."""
    from ..providers import api, find

    if find(req.provider) is not None:
        return api(req.provider).describe(req)
    return TargetWords(listed(list(req.scopes)) if req.scopes else "everything the credentials can see")


def what(result: ScanResult) -> str:
    """What was scanned, e.g. "AWS: organisation o-abc (12 of 40 accounts, shard 2/4)"."""
    req = result.scan.effective_request()
    opts: Mapping[str, Any] = req.options
    names = and_list([_title(p) for p in req.provider.split("+")])
    if opts.get("demo"):
        return f"the bundled demo estate on {names}, in local emulators"
    if req.provider == "terraform":
        version = opts.get("terraform_version")
        return f"Terraform plan {req.scopes[0] if req.scopes else '-'}" + (f" (Terraform {version})" if version else "")
    if opts.get("from_file"):
        return f"{names} guardrails, from the file {req.scopes[0] if req.scopes else '-'}"
    prefix = f"{names} guardrails (preventive controls) of " if opts.get("audit") == "guardrails" else f"{names}: "
    return prefix + _words(req).what


def scope(result: ScanResult) -> str:
    """How far the scan looked: regions, services, inventory path, cloud."""
    req = result.scan.effective_request()
    if req.options.get("demo"):
        return "every region and service the sample estate uses"
    if req.provider == "terraform":
        return "as planned"
    return "; ".join(_words(req).scope) or "as planned"


def owners(result: ScanResult, limit: int = 4) -> str:
    """Whose resources the scan saw: "account 1111 (prod), account 2222 (data) and 3 more"."""
    seen: dict[str, None] = {}
    for r in result.resources:
        o = r.owner
        if o.kind == "file":  # the exceptions file's own pseudo-resources
            continue
        seen.setdefault(f"{o.kind} {o.id}" + (f" ({o.name})" if o.name else ""), None)
    return listed(sorted(seen), limit) if seen else "none"


def inventory_line(result: ScanResult) -> str:
    """The inventory path the scan used, in the provider's words, for the terminal ("" when
    the scan has none)."""
    req = result.scan.effective_request()
    if req.options.get("demo") or req.provider == "terraform":
        return ""
    return next((part for part in _words(req).scope if part.startswith("inventory:")), "")
