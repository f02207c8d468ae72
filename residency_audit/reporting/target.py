"""A scan's target and scope in words, for a report's reader (an auditor, not the tool).

The store keys scans by their request (`store.sql.target_of`); its label is a machine
string (`gcp regions=all inventory={'organizations/1': 'services'}`). This says the same
thing in sentences: what was scanned, how far, and whose resources were seen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..model import ScanResult

PROVIDER_NAMES = {"aws": "AWS", "gcp": "Google Cloud", "azure": "Azure", "terraform": "Terraform"}
AZURE_CLOUDS = {"public": "", "china": "Azure operated by 21Vianet", "usgov": "Azure Government"}
GCP_SCOPES = {"organizations": "organisation", "folders": "folder", "projects": "project"}
_AWS_SCOPE = re.compile(r"^\d{12}/[a-z0-9-]+$")
INVENTORY_WORDS = {
    "asset": "Cloud Asset Inventory",
    "asset (failed)": "Cloud Asset Inventory (failed: a coverage gap)",
    "services": "per-service listing",
    "explorer": "AWS Resource Explorer",
    "config": "AWS Config",
    "tagging": "the Tagging API",
}


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _providers(provider: str) -> str:
    return _and([PROVIDER_NAMES.get(p, p) for p in provider.split("+")])


def _scope_item(provider: str, scope: str) -> str:
    kind, _, ident = scope.partition("/")
    if provider == "gcp" and ident:
        return f"{GCP_SCOPES.get(kind, kind)} {ident}"
    if provider == "azure":
        return f"management group {scope[3:]}" if scope.startswith("mg:") else f"subscription {scope}"
    return scope


def _listed(words: list[str], limit: int = 4) -> str:
    shown = _and(words[:limit]) if len(words) <= limit else ", ".join(words[:limit]) + f" and {len(words) - limit} more"
    return shown


def what(result: ScanResult) -> str:
    """What was scanned, e.g. "AWS organisation o-abc (12 of 40 accounts, shard 2/4)"."""
    req = result.scan.effective_request()
    opts: Mapping[str, Any] = req.options
    names = _providers(req.provider)
    if opts.get("demo"):
        return f"the bundled demo estate on {names}, in local emulators"
    if req.provider == "terraform":
        version = opts.get("terraform_version")
        return f"Terraform plan {req.scopes[0] if req.scopes else '-'}" + (f" (Terraform {version})" if version else "")
    prefix = f"{names} guardrails (preventive controls) of " if opts.get("audit") == "guardrails" else f"{names}: "
    if opts.get("from_file"):
        return f"{names} guardrails, from the file {req.scopes[0] if req.scopes else '-'}"
    if req.provider == "aws" and opts.get("organization"):
        total = opts.get("accounts_in_organization")
        of = f" of {total}" if total else ""
        text = f"organisation {opts['organization']} ({len(req.scopes)}{of} accounts"
        if opts.get("shard"):
            text += f", shard {opts['shard']}"
        return prefix + text + ")"
    if req.provider == "aws":
        profile = f"profile {req.scopes[0]}" if req.scopes else "the default credentials"
        return f"{prefix}the account of {profile}"
    if req.scopes:
        return prefix + _listed([_scope_item(req.provider, s) for s in req.scopes])
    visible = {"gcp": "every project", "azure": "every subscription"}.get(req.provider, "everything")
    return prefix + f"{visible} the credentials can see"


def scope(result: ScanResult) -> str:
    """How far the scan looked: regions, services, inventory path, cloud."""
    req = result.scan.effective_request()
    opts: Mapping[str, Any] = req.options
    parts = []
    if opts.get("demo"):
        parts.append("every region and service the sample estate uses")
    elif req.provider in ("aws", "gcp", "azure") and opts.get("audit") != "guardrails":
        if req.provider == "aws":
            regions = req.regions
            parts.append(f"regions {_and(list(regions))}" if regions else "every region enabled for the account")
        services = opts.get("services")
        if services:
            parts.append("services " + ", ".join(services))
    inventory = opts.get("inventory")
    if req.provider == "aws" and isinstance(inventory, dict) and inventory:
        parts.append(aws_inventory(inventory))
    elif isinstance(inventory, dict) and inventory:
        by_path: dict[str, list[str]] = {}
        for where, path in sorted(inventory.items()):
            by_path.setdefault(INVENTORY_WORDS.get(str(path), str(path)), []).append(_scope_item("gcp", str(where)))
        parts.append("inventory: " + "; ".join(f"{path} for {_listed(w)}" for path, w in by_path.items()))
    elif isinstance(inventory, str) and inventory != "auto":
        parts.append(
            {"graph": "inventory: Resource Graph", "arm": "inventory: listing every subscription"}.get(
                inventory, f"inventory: {inventory}"
            )
        )
    cloud = AZURE_CLOUDS.get(str(opts.get("cloud", "public")), str(opts.get("cloud")))
    if cloud:
        parts.append(cloud)
    if opts.get("endpoint"):
        parts.append(f"endpoint {opts['endpoint']}")
    return "; ".join(parts) or "as planned"


def _path_words(path: str) -> str:
    if path.endswith(" (failed)"):
        return f"{INVENTORY_WORDS.get(path[:-9], path[:-9])} (failed: a coverage gap)"
    return INVENTORY_WORDS.get(path, path)


def aws_inventory(inventory: Mapping[str, Any]) -> str:
    """The inventory path per account and region (`ACCOUNT/REGION` -> path), in words:
    "inventory: AWS Resource Explorer for account 1111 in 30 regions; per-service listing for
    account 1111 in 1 region (eu-south-2)"."""
    by_path: dict[str, dict[str, list[str]]] = {}
    for where, path in sorted(inventory.items()):
        account, _, region = str(where).partition("/")
        by_path.setdefault(_path_words(str(path)), {}).setdefault(account, []).append(region)
    parts = []
    for path, accounts in by_path.items():
        regions = sorted({r for rs in accounts.values() for r in rs})
        shown = f" ({_listed(regions, 3)})" if len(regions) <= 3 else ""
        plural = "s" if len(regions) != 1 else ""
        if len(accounts) == 1:
            (account,) = accounts
            parts.append(f"{path} for account {account} in {len(regions)} region{plural}{shown}")
        else:
            pairs = sum(len(rs) for rs in accounts.values())
            parts.append(f"{path} for {len(accounts)} accounts ({pairs} account-regions)")
    return "inventory: " + "; ".join(parts)


def inventory_line(result: ScanResult) -> str:
    """The AWS inventory path per account and region, for the terminal ("" when there is none)."""
    inventory = result.scan.context.get("inventory")
    if not isinstance(inventory, dict):
        return ""
    aws = {k: v for k, v in inventory.items() if _AWS_SCOPE.match(str(k))}
    return aws_inventory(aws) if aws else ""


def owners(result: ScanResult, limit: int = 4) -> str:
    """Whose resources the scan saw: "account 1111 (prod), account 2222 (data) and 3 more"."""
    seen: dict[str, None] = {}
    for r in result.resources:
        o = r.owner
        if o.kind == "file":  # the exceptions file's own pseudo-resources
            continue
        seen.setdefault(f"{o.kind} {o.id}" + (f" ({o.name})" if o.name else ""), None)
    return _listed(sorted(seen), limit) if seen else "none"
