"""Read Azure Policy live, read-only, and evaluate it with `policy`.

Everything goes through the Azure adapter: its credential chain
(DefaultAzureCredential, sovereign clouds, `--endpoint`), its subscription scope
(`--subscription`, `--management-group`), its management-group chains (Resource
Graph) and its guarded pipeline, whose allow-list holds the four policy reads with
their RBAC actions (`kinds.GUARDRAIL_READS`).

What is read:
- per management group on a chain: assignments and exemptions at exactly that
  scope (`$filter=atExactScope()`);
- per subscription: the unfiltered lists, which hold what is assigned to the
  subscription, inherited from its management groups, and set on its resource
  groups and resources;
- the custom definitions and the initiatives the assignments name (built-in
  "Allowed locations" definitions are known by id and not fetched).

Fail closed: a subscription whose assignments or exemptions cannot be read is a
`Gap` and is left out of the evaluation (the scan is incomplete: exit 3); an
unreadable management group, definition or hierarchy is a gap too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...core import Collector
from ...guardrails import GuardrailAdapter, InputError
from ...model import Gap, Resource
from ..base import error_code
from .client import describe, reraise_violation
from .policy import resources_from_export
from .scan import SUBSCRIPTIONS_QUERY

if TYPE_CHECKING:
    from ...geography import Catalog
    from .scan import AzureAdapter

PROVIDER = "azure"

ASSIGNMENTS_API = "2022-06-01"
EXEMPTIONS_API = "2022-07-01-preview"
DEFINITIONS_API = "2021-06-01"

_AUTH = "/providers/Microsoft.Authorization"
_BUILTIN_ROOT = "/providers/microsoft.authorization/"


def mg_id(name: str) -> str:
    return f"/providers/Microsoft.Management/managementGroups/{name}"


def _hierarchy(subs: list[Any], rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """managementGroups/descendants entries (the evaluator's shape) and the management groups, root first."""
    chains = {
        str(r.get("subscriptionId", "")).lower(): list(
            (r.get("properties") or {}).get("managementGroupAncestorsChain") or []
        )
        for r in rows
        if str(r.get("type", "")).lower() == "microsoft.resources/subscriptions"
    }
    entries: dict[str, dict[str, Any]] = {}
    groups: list[str] = []
    for sub in subs:
        chain = chains.get(sub.id.lower(), [])  # immediate parent first, root last
        for i, mg in enumerate(chain):
            name = str(mg.get("name", ""))
            props: dict[str, Any] = {"displayName": str(mg.get("displayName") or name)}
            if i + 1 < len(chain):
                props["parent"] = {"id": mg_id(str(chain[i + 1].get("name", "")))}
            entries.setdefault(mg_id(name).lower(), {"id": mg_id(name), "name": name, "properties": props})
        for mg in reversed(chain):
            if str(mg.get("name", "")) not in groups:
                groups.append(str(mg.get("name", "")))
        sub_props: dict[str, Any] = {"displayName": sub.name}
        if chain:
            sub_props["parent"] = {"id": mg_id(str(chain[0].get("name", "")))}
        entries[f"/subscriptions/{sub.id}".lower()] = {
            "id": f"/subscriptions/{sub.id}",
            "type": "/subscriptions",
            "name": sub.id,
            "properties": sub_props,
        }
    return list(entries.values()), groups


def read_policy(adapter: AzureAdapter, collector: Collector, catalog: Catalog | None = None) -> list[Resource]:
    adapter.check_credential()
    subs = adapter.scope(collector)
    if not subs:
        return []
    rows = adapter.containers(collector, subs, SUBSCRIPTIONS_QUERY)
    if rows is None:
        collector.gap(
            Gap(
                PROVIDER,
                "",
                "",
                "Microsoft.ResourceGraph",
                "management-group hierarchy not readable: assignments inherited from management groups cannot be "
                "placed",
                "HierarchyUnreadable",
            )
        )
        rows = []
    else:
        seen = {str(r.get("subscriptionId", "")).lower() for r in rows}
        for sub in subs:
            if sub.id.lower() not in seen:
                collector.gap(
                    Gap(
                        PROVIDER,
                        sub.id,
                        "",
                        "Microsoft.ResourceGraph",
                        "subscription not visible to Resource Graph: its management groups (and what they assign) "
                        "are unknown",
                        "NotVisible",
                    )
                )
    descendants, groups = _hierarchy(subs, rows)

    assignments: dict[str, dict[str, Any]] = {}
    exemptions: dict[str, dict[str, Any]] = {}
    unreadable: set[str] = set()

    def collect(scope: str, label: str, exact: bool) -> bool:
        params = {"$filter": "atExactScope()"} if exact else None
        for kind, api, sink in (
            ("policyAssignments", ASSIGNMENTS_API, assignments),
            ("policyExemptions", EXEMPTIONS_API, exemptions),
        ):
            try:
                for item in adapter.get_collection(collector, f"{scope}{_AUTH}/{kind}", api, params):
                    sink.setdefault(str(item.get("id", "")).lower(), item)
            except Exception as exc:  # noqa: BLE001 - an unreadable scope is a gap, never "no policy"
                reraise_violation(exc)
                collector.gap(
                    Gap(PROVIDER, label, "", f"Microsoft.Authorization/{kind}", describe(exc), error_code(exc))
                )
                return False
        return True

    collector.progress.add_work("azure:policy", len(groups) + len(subs))
    for name in groups:
        collect(mg_id(name), mg_id(name), exact=True)
        collector.progress.done("azure:policy", f"management group {name}")
    for sub in subs:
        if not collect(f"/subscriptions/{sub.id}", sub.id, exact=False):
            unreadable.add(sub.id.lower())
        collector.progress.done("azure:policy", f"subscription {sub.id}")

    definitions: dict[str, dict[str, Any]] = {}
    sets: dict[str, dict[str, Any]] = {}

    def fetch(def_id: str, sink: dict[str, dict[str, Any]], scope: str) -> dict[str, Any] | None:
        key = def_id.lower()
        if key not in sink:
            try:
                found = adapter.get_by_id(collector, def_id, DEFINITIONS_API)
                sink[key] = found if isinstance(found, dict) else {}
            except Exception as exc:  # noqa: BLE001 - the assignment then counts as restricting nothing
                reraise_violation(exc)
                collector.gap(
                    Gap(
                        PROVIDER,
                        scope,
                        "",
                        "Microsoft.Authorization/policyDefinitions",
                        f"{def_id} not readable ({describe(exc)}): its assignment is evaluated as restricting nothing",
                        error_code(exc),
                    )
                )
                return None
        return sink[key]

    for a in assignments.values():
        props = a.get("properties") or {}
        def_id = str(props.get("policyDefinitionId", ""))
        scope = str(props.get("scope", ""))
        members = [def_id]
        if "/policysetdefinitions/" in def_id.lower():
            pset = fetch(def_id, sets, scope)
            members = [
                str(m.get("policyDefinitionId", ""))
                for m in ((pset or {}).get("properties") or {}).get("policyDefinitions") or []
            ]
        for member in members:
            if member and not member.lower().startswith(_BUILTIN_ROOT):
                fetch(member, definitions, scope)

    doc: dict[str, Any] = {
        "managementGroupDescendants": [
            d for d in descendants if not (d.get("type") == "/subscriptions" and str(d["name"]).lower() in unreadable)
        ],
        "subscriptions": [
            {"id": f"/subscriptions/{s.id}", "subscriptionId": s.id, "displayName": s.name}
            for s in subs
            if s.id.lower() not in unreadable
        ],
        "policyAssignments": list(assignments.values()),
        "policyExemptions": list(exemptions.values()),
        "policyDefinitions": list(definitions.values()),
        "policySetDefinitions": list(sets.values()),
    }
    if not doc["subscriptions"]:
        return []
    try:
        return resources_from_export(doc, catalog)
    except InputError as exc:
        collector.gap(Gap(PROVIDER, "", "", "Microsoft.Authorization", f"unexpected policy shape: {exc}", "BadPolicy"))
        return []


def live_adapter(adapter: AzureAdapter, catalog: Catalog | None = None) -> GuardrailAdapter:
    """The audit over a configured `AzureAdapter` (credential, cloud, endpoint, scope)."""

    def produce(collector: Collector) -> list[Resource]:
        return read_policy(adapter, collector, catalog)

    return GuardrailAdapter(PROVIDER, produce)
