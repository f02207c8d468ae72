"""Azure Policy "Allowed locations" along management groups -> subscriptions -> resource groups.

Pure functions over ARM JSON shapes: policy assignments, exemptions, custom
definitions and initiatives (`{id, name, properties: {...}}` as the REST list
calls return them), and the hierarchy as the management-group *descendants*
list (`{id, type, name, properties: {displayName, parent: {id}}}`, types
`Microsoft.Management/managementGroups` and `/subscriptions`).

Recognised controls: the built-ins "Allowed locations" and "Allowed locations
for resource groups" (ids in data/azure-policy.yaml), and custom definitions
(or initiative members) whose rule denies on `field: location` `notIn` a
list. Several assignments on one scope all apply: the allowed set is their
intersection. An assignment with `enforcementMode: DoNotEnforce`, or whose
effect is not `deny`, prevents nothing.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from ...geography import Catalog, default_catalog
from ...guardrails import (
    GAP_EXEMPTION,
    GAP_LIMIT,
    GAP_NOT_ENFORCED,
    GAP_REGION,
    GAP_UNCOVERED,
    KIND_AZURE_POLICY,
    ROLE_ALLOWED,
    InputError,
)
from ...model import Location, Owner, OwnerNode, Resource

PROVIDER = "azure"
_PARAM = re.compile(r"^\[parameters\('([^']+)'\)\]$", re.IGNORECASE)


@functools.lru_cache(maxsize=1)
def builtins() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data", "azure-policy.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _loc(value: str) -> str:
    return value.replace(" ", "").lower()


def _scope_of(resource_id: str, kind: str) -> str:
    """`/subscriptions/x/providers/Microsoft.Authorization/policyExemptions/e` -> `/subscriptions/x`."""
    head, sep, _ = resource_id.lower().partition(f"/providers/microsoft.authorization/{kind}/")
    return head if sep else ""


@dataclass(frozen=True, slots=True)
class LocationRule:
    """What one policy definition does about locations."""

    param: str | None  # the parameter holding the list, or None when literal
    literal: tuple[str, ...] = ()
    effect: str = "deny"  # literal effect, or "[parameters('x')]"
    target: str = "resources"  # resources | resourceGroups
    excludes_global: bool = True
    defaults: dict[str, Any] = field(default_factory=dict)


def _walk(node: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        out.append(node)
        for v in node.values():
            out.extend(_walk(v))
    elif isinstance(node, list):
        for v in node:
            out.extend(_walk(v))
    return out


def analyse_definition(definition: dict[str, Any]) -> LocationRule | None:
    """A custom definition's location restriction, if its rule has one."""
    props = definition.get("properties") or {}
    rule = props.get("policyRule") or {}
    cond = rule.get("if") or {}
    param: str | None = None
    literal: tuple[str, ...] = ()
    found = False
    for n in _walk(cond):
        if str(n.get("field", "")).lower() != "location":
            continue
        value = n.get("notIn")
        if value is None and isinstance(n, dict):
            continue
        found = True
        if isinstance(value, str) and _PARAM.match(value):
            param = _PARAM.match(value).group(1)  # type: ignore[union-attr]
        elif isinstance(value, list):
            literal = tuple(_loc(str(v)) for v in value)
    for n in _walk(cond):  # {"not": {"field": "location", "in": [...]}}
        inner = n.get("not")
        if isinstance(inner, dict) and str(inner.get("field", "")).lower() == "location" and "in" in inner:
            found = True
            v = inner["in"]
            if isinstance(v, str) and _PARAM.match(v):
                param = _PARAM.match(v).group(1)  # type: ignore[union-attr]
            elif isinstance(v, list):
                literal = tuple(_loc(str(x)) for x in v)
    if not found:
        return None
    target = "resources"
    excludes_global = False
    for n in _walk(cond):
        f = str(n.get("field", "")).lower()
        if f == "type" and str(n.get("equals", "")).lower() == "microsoft.resources/subscriptions/resourcegroups":
            target = "resourceGroups"
        if f == "location" and str(n.get("notEquals", "")).lower() == "global":
            excludes_global = True
    defaults = {k: v.get("defaultValue") for k, v in (props.get("parameters") or {}).items() if isinstance(v, dict)}
    effect = str((rule.get("then") or {}).get("effect", ""))
    return LocationRule(param, literal, effect, target, excludes_global, defaults)


def _builtin_rule(definition_id: str) -> LocationRule | None:
    tail = definition_id.lower().rsplit("/", 1)[-1]
    for b in builtins()["definitions"]:
        if b["guid"] == tail and definition_id.lower().startswith("/providers/microsoft.authorization/"):
            return LocationRule(b["parameter"], (), "deny", b["target"], b.get("excludes_global", False))
    return None


@dataclass(slots=True)
class Control:
    """One assignment (or initiative member) that restricts locations."""

    assignment_id: str
    name: str
    scope: str
    not_scopes: tuple[str, ...]
    locations: frozenset[str] | None  # None: the list could not be resolved
    enforced: bool
    why_not: str
    target: str
    reference_id: str = ""

    def label(self) -> str:
        return f"assignment '{self.name}' at {self.scope}"


def _value(params: dict[str, Any], name: str, defaults: dict[str, Any]) -> Any:
    if name in params and isinstance(params[name], dict) and "value" in params[name]:
        return params[name]["value"]
    return defaults.get(name)


def _resolve_effect(effect: str, params: dict[str, Any], defaults: dict[str, Any]) -> str:
    m = _PARAM.match(effect)
    return str(_value(params, m.group(1), defaults) or "").lower() if m else effect.lower()


def controls(doc: dict[str, Any]) -> list[Control]:
    """Every location-restricting control the export's assignments create."""
    defs = {str(d.get("id", "")).lower(): d for d in _list(doc, "policyDefinitions")}
    sets = {str(d.get("id", "")).lower(): d for d in _list(doc, "policySetDefinitions")}
    out: list[Control] = []
    for a in _list(doc, "policyAssignments"):
        props = a.get("properties") or {}
        aid = str(a.get("id", ""))
        scope = str(props.get("scope") or _scope_of(aid, "policyassignments")).lower()
        name = str(props.get("displayName") or a.get("name") or aid)
        params = props.get("parameters") or {}
        enforcement = str(props.get("enforcementMode", "Default"))
        not_scopes = tuple(str(s).lower() for s in props.get("notScopes") or [])
        def_id = str(props.get("policyDefinitionId", ""))
        members: list[tuple[str, dict[str, Any], str]] = []  # (definition id, parameters, reference id)
        if "/policysetdefinitions/" in def_id.lower():
            pset = sets.get(def_id.lower())
            if pset is None:
                continue  # an initiative not in the export: cannot say what it contains
            for ref in (pset.get("properties") or {}).get("policyDefinitions") or []:
                mapped: dict[str, Any] = {}
                for pname, pval in (ref.get("parameters") or {}).items():
                    v = pval.get("value") if isinstance(pval, dict) else pval
                    m = _PARAM.match(v) if isinstance(v, str) else None
                    mapped[pname] = {"value": _value(params, m.group(1), {}) if m else v}
                members.append(
                    (str(ref.get("policyDefinitionId", "")), mapped, str(ref.get("policyDefinitionReferenceId", "")))
                )
        else:
            members.append((def_id, params, ""))
        for mid, mparams, ref_id in members:
            rule = _builtin_rule(mid)
            if rule is None and mid.lower() in defs:
                rule = analyse_definition(defs[mid.lower()])
            if rule is None:
                continue
            if rule.param:
                raw = _value(mparams, rule.param, rule.defaults)
                locs = frozenset(_loc(str(x)) for x in raw) if isinstance(raw, list) else None
            else:
                locs = frozenset(rule.literal)
            effect = _resolve_effect(rule.effect, mparams, rule.defaults)
            why_not = ""
            if enforcement.lower() == "donotenforce":
                why_not = f"{name}: enforcementMode is DoNotEnforce"
            elif effect != "deny":
                why_not = f"{name}: effect is '{effect or 'unresolved'}', not deny"
            out.append(Control(aid, name, scope, not_scopes, locs, not why_not, why_not, rule.target, ref_id))
    return out


def _list(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = doc.get(key) or []
    if isinstance(value, dict):  # a raw list response: {"value": [...]}
        value = value.get("value") or []
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        raise InputError(f"'{key}' must be a list of objects (or an ARM list response with 'value')")
    return value


@dataclass(frozen=True, slots=True)
class Exemption:
    id: str
    name: str
    scope: str
    assignment_id: str
    reference_ids: tuple[str, ...]
    category: str
    expires: str

    def covers(self, c: Control) -> bool:
        if self.assignment_id.lower() != c.assignment_id.lower():
            return False
        return not self.reference_ids or c.reference_id in self.reference_ids


def exemptions(doc: dict[str, Any], now: _dt.datetime | None = None) -> list[Exemption]:
    now = now or _dt.datetime.now(_dt.UTC)
    out = []
    for e in _list(doc, "policyExemptions"):
        props = e.get("properties") or {}
        expires = str(props.get("expiresOn") or "")
        if expires:
            try:
                when = _dt.datetime.fromisoformat(expires.replace("Z", "+00:00"))
                if when.tzinfo is None:
                    when = when.replace(tzinfo=_dt.UTC)
                if when < now:
                    continue  # expired: no longer exempts
            except ValueError:
                pass  # unparseable: keep it, fail closed
        eid = str(e.get("id", ""))
        out.append(
            Exemption(
                eid,
                str(props.get("displayName") or e.get("name") or eid),
                _scope_of(eid, "policyexemptions"),
                str(props.get("policyAssignmentId", "")),
                tuple(props.get("policyDefinitionReferenceIds") or ()),
                str(props.get("exemptionCategory", "")),
                expires,
            )
        )
    return out


@dataclass(slots=True)
class Tree:
    parents: dict[str, str]
    names: dict[str, str]
    subscriptions: list[str]

    def chain(self, scope: str) -> list[str]:
        out = [scope]
        while out[-1] in self.parents and len(out) < 12:
            out.append(self.parents[out[-1]])
        return list(reversed(out))

    def label(self, scope: str) -> str:
        name = self.names.get(scope, "")
        kind = (
            "management group"
            if "/managementgroups/" in scope
            else ("resource group" if "/resourcegroups/" in scope else "subscription")
        )
        return f"{kind} '{name}' ({scope})" if name else f"{kind} {scope}"


def tree(doc: dict[str, Any]) -> Tree:
    parents: dict[str, str] = {}
    names: dict[str, str] = {}
    subs: list[str] = []
    for item in _list(doc, "managementGroupDescendants") + _list(doc, "managementGroups"):
        iid = str(item.get("id", "")).lower()
        props = item.get("properties") or {}
        names[iid] = str(props.get("displayName") or item.get("name") or "")
        parent = (props.get("parent") or (props.get("details") or {}).get("parent") or {}).get("id")
        if parent:
            parents[iid] = str(parent).lower()
        if str(item.get("type", "")).lower() in (
            "/subscriptions",
            "microsoft.management/managementgroups/subscriptions",
        ):
            subs.append(iid)
    for s in _list(doc, "subscriptions"):
        sid = str(s.get("id") or f"/subscriptions/{s.get('subscriptionId', '')}").lower()
        names.setdefault(sid, str(s.get("displayName", "")))
        if not names[sid]:
            names[sid] = str(s.get("displayName", ""))
        if sid not in subs:
            subs.append(sid)
    for rg in _list(doc, "resourceGroups"):
        rid = str(rg.get("id", "")).lower()
        names[rid] = str(rg.get("name", ""))
        parents[rid] = rid.split("/resourcegroups/")[0]
    if not subs:
        raise InputError("no subscriptions in the export (managementGroupDescendants or subscriptions)")
    return Tree(parents, names, subs)


@dataclass(slots=True)
class ScopeResult:
    scope: str
    applying: list[Control]
    enforcing: list[Control]
    exempted: list[tuple[Control, str]]  # controls that would apply but for an exemption / notScope
    allowed: frozenset[str] | None  # None: unrestricted (no enforcing control)


def evaluate_scope(chain: list[str], ctrls: list[Control], exs: list[Exemption]) -> ScopeResult:
    in_chain = set(chain)
    applying: list[Control] = []
    exempted: list[tuple[Control, str]] = []
    for c in ctrls:
        if c.target != "resources" or c.scope not in in_chain:
            continue
        hole = next((s for s in c.not_scopes if s in in_chain), None)
        if hole:
            exempted.append((c, f"{hole} is in the notScopes of {c.label()}"))
            continue
        ex = next((e for e in exs if e.scope in in_chain and e.covers(c)), None)
        if ex:
            until = f", expires {ex.expires}" if ex.expires else ", no expiry"
            exempted.append((c, f"exemption '{ex.name}' ({ex.category or 'no category'}{until}) at {ex.scope}"))
            continue
        applying.append(c)
    enforcing = [c for c in applying if c.enforced]
    allowed: frozenset[str] | None = None
    for c in enforcing:
        if c.locations is None:
            continue
        allowed = c.locations if allowed is None else allowed & c.locations
    if enforcing and allowed is None:
        allowed = None  # lists unresolvable: treated as unrestricted (fail closed)
    return ScopeResult(chain[-1], applying, enforcing, exempted, allowed)


def resources_from_export(
    doc: dict[str, Any], catalog: Catalog | None = None, now: _dt.datetime | None = None
) -> list[Resource]:
    catalog = catalog or default_catalog()
    t = tree(doc)
    ctrls = controls(doc)
    exs = exemptions(doc, now)
    results = {s: evaluate_scope(t.chain(s), ctrls, exs) for s in t.subscriptions}

    def outside(loc: str) -> bool:
        return not catalog.resolve(PROVIDER, loc).in_eu

    def leaky(s: str) -> bool:
        r = results[s]
        return r.allowed is None or any(outside(x) for x in r.allowed)

    under: dict[str, list[str]] = {}
    for s in t.subscriptions:
        for n in t.chain(s)[:-1]:
            under.setdefault(n, []).append(s)

    out: list[Resource] = []
    for s in t.subscriptions:
        r = results[s]
        chain = t.chain(s)
        owner = Owner(
            "subscription",
            s.rsplit("/", 1)[-1],
            t.names.get(s, ""),
            tuple(OwnerNode("management-group", n, t.names.get(n, "")) for n in chain[:-1]),
        )
        fix_node = next((n for n in chain[:-1] if all(leaky(x) for x in under.get(n, []))), s)
        attrs: dict[str, Any] = {
            "scope": t.label(s),
            "path": " > ".join(t.label(n) for n in chain),
            "fix_scope": t.label(fix_node),
            "assignments": [c.label() for c in r.applying],
            "allowed_locations": sorted(r.allowed) if r.allowed is not None else None,
        }
        rid = f"guardrail:azure:policy:{s}"
        if r.allowed is None:
            if r.applying and not r.enforcing:
                gap, why = GAP_NOT_ENFORCED, "; ".join(c.why_not for c in r.applying)
            elif r.exempted:
                gap, why = GAP_EXEMPTION, "; ".join(w for _, w in r.exempted)
            elif r.enforcing:
                gap, why = GAP_UNCOVERED, "the allowed-locations list of the assignment could not be resolved"
            elif any(c.target == "resourceGroups" and c.scope in set(chain) for c in ctrls):
                gap, why = (
                    GAP_UNCOVERED,
                    (
                        "only 'Allowed locations for resource groups' is assigned: it restricts where resource "
                        "groups keep their metadata, not where resources are created"
                    ),
                )
            else:
                gap, why = GAP_UNCOVERED, "no 'Allowed locations' assignment on the path"
            out.append(
                Resource(
                    PROVIDER,
                    KIND_AZURE_POLICY,
                    rid,
                    f"{t.label(s)}, fix: {attrs['fix_scope']}",
                    owner,
                    [Location("*", ROLE_ALLOWED, detail=f"every location: {why}")],
                    attributes={**attrs, "gap": gap, "reason": why},
                )
            )
        else:
            bad = sorted(x for x in r.allowed if outside(x))
            if bad:
                top = min(r.enforcing, key=lambda c: len(c.scope))
                attrs["fix_scope"] = top.label()
                out.append(
                    Resource(
                        PROVIDER,
                        KIND_AZURE_POLICY,
                        rid,
                        f"{t.label(s)}, fix: {top.label()}",
                        owner,
                        [
                            Location(
                                b,
                                ROLE_ALLOWED,
                                detail="in listOfAllowedLocations of " + ", ".join(c.label() for c in r.enforcing),
                            )
                            for b in bad
                        ],
                        attributes={**attrs, "gap": GAP_REGION, "non_eu_allowed": bad},
                    )
                )
            out.append(
                Resource(
                    PROVIDER,
                    KIND_AZURE_POLICY,
                    f"{rid}:limits",
                    t.label(s),
                    owner,
                    [
                        Location(
                            "*",
                            "secondary",
                            detail="'Allowed locations' checks only a resource's own location: geo-redundant "
                            "secondaries (GRS/RA-GRS/GZRS storage, geo-replicas, paired-region backups) and "
                            "resources in 'global' are not restricted by it",
                        )
                    ],
                    attributes={**attrs, "gap": GAP_LIMIT},
                )
            )
        # holes below the subscription: resource groups / resources excluded or exempted
        holes = {h for c in r.enforcing for h in c.not_scopes if h.startswith(s + "/")}
        holes |= {e.scope for e in exs if e.scope.startswith(s + "/") and any(e.covers(c) for c in r.enforcing)}
        for hole in sorted(holes):
            hr = evaluate_scope(
                [*chain, *t.chain(hole)[t.chain(hole).index(s) + 1 :]] if hole in t.parents else [*chain, hole],
                ctrls,
                exs,
            )
            wider = hr.allowed is None or bool(hr.allowed - (r.allowed or frozenset()))
            if not wider:
                continue
            why = "; ".join(w for _, w in hr.exempted) or "excluded from the subscription's assignments"
            locs = (
                [Location("*", ROLE_ALLOWED, detail=f"every location: {why}")]
                if hr.allowed is None
                else [Location(x, ROLE_ALLOWED, detail=why) for x in sorted(hr.allowed - (r.allowed or frozenset()))]
            )
            out.append(
                Resource(
                    PROVIDER,
                    KIND_AZURE_POLICY,
                    f"guardrail:azure:policy:{hole}",
                    f"{t.label(hole)}, fix: {why}",
                    owner,
                    locs,
                    attributes={**attrs, "scope": t.label(hole), "fix_scope": why, "gap": GAP_EXEMPTION},
                )
            )
    return out
