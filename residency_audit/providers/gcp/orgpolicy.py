"""The `gcp.resourceLocations` organisation policy along org -> folders -> projects.

Pure functions over the API JSON shapes: Resource Manager v3 (`organizations`,
`folders`, `projects` with `name`/`parent`) and Org Policy v2 policies
(`{name: "<parent>/policies/gcp.resourceLocations", spec: {rules, inheritFromParent, reset}}`);
v1 `listPolicy` objects are accepted too (`{resource, listPolicy: {...}}`).

Hierarchy evaluation (data/gcp-value-groups.yaml has the sources): no policy
inherits the parent's effective policy; `inheritFromParent: false` replaces
it; `true` merges (union of allowed and of denied values; denied wins; an
"allow all" on either side stays "allow all"); `reset` restores the default,
which for this constraint is "every location". Rules with a `condition`
(tags) are counted fail-closed: their allows apply, their denies do not.
The constraint applies only when a resource is created.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from ...geography import Catalog, default_catalog
from ...guardrails import GAP_LIMIT, GAP_REGION, GAP_UNCOVERED, KIND_GCP_ORG_POLICY, ROLE_ALLOWED, InputError
from ...model import Location, Owner, OwnerNode, Resource

PROVIDER = "gcp"
CONSTRAINT = "gcp.resourceLocations"


@functools.lru_cache(maxsize=1)
def value_groups() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data", "gcp-value-groups.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _norm(value: str) -> str:
    v = value.strip()
    for prefix in ("is:", "in:"):
        if v.lower().startswith(prefix):
            return prefix + v[len(prefix) :].lower()
    v = v.lower()
    # Bare group names and regions get the "in:" prefix, as the API does; a
    # multi-region or zone stays as it is.
    if v.endswith("-locations"):
        return "in:" + v
    return v


def expand(value: str, _depth: int = 0) -> set[str]:
    """Concrete locations a policy value admits (groups expanded, zones left out)."""
    v = _norm(value)
    if v.startswith("is:"):
        return {v[3:]}
    if not v.startswith("in:"):
        return {v}
    group = v[3:]
    groups: dict[str, Any] = value_groups()["groups"]
    if group in groups and _depth < 5:
        out: set[str] = set()
        for m in groups[group]["members"]:
            out |= expand(str(m), _depth + 1) if str(m).startswith("in:") else {str(m).lower()}
        return out
    if group.endswith("-locations"):
        return {group[: -len("-locations")]}  # a region's own group: the region
    return {v}  # an unknown group: kept as is, resolves to unknown (fail closed)


@dataclass(slots=True)
class Effective:
    mode: str = "all"  # all | list | none (| open: only denied values, while merging)
    #: allowed value -> the node that set it
    allowed: dict[str, str] = field(default_factory=dict)
    denied: dict[str, str] = field(default_factory=dict)
    set_at: str = ""  # the node whose policy decided (for "uncovered")


def _own(spec: dict[str, Any], node: str) -> Effective:
    rules = spec.get("rules") or []
    if not isinstance(rules, list):
        raise InputError(f"{node}: spec.rules must be a list")
    allow_all = deny_all = False
    allowed: dict[str, str] = {}
    denied: dict[str, str] = {}
    for rule in rules:
        conditional = bool(rule.get("condition"))
        if rule.get("allowAll"):
            allow_all = True
        if rule.get("denyAll") and not conditional:
            deny_all = True
        values = rule.get("values") or {}
        for v in values.get("allowedValues") or []:
            allowed[_norm(str(v))] = node
        if not conditional:
            for v in values.get("deniedValues") or []:
                denied[_norm(str(v))] = node
    if allow_all:
        return Effective("all", {}, denied, node)
    if deny_all:
        return Effective("none", {}, {}, node)
    if allowed:
        return Effective("list", allowed, denied, node)
    # Only denied values: on its own "everything else"; merged, the parent's allow list stays.
    return Effective("open", {}, denied, node)


def _v1_spec(list_policy: dict[str, Any], inherit: bool | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    if list_policy.get("allValues") == "ALLOW":
        rule["allowAll"] = True
    elif list_policy.get("allValues") == "DENY":
        rule["denyAll"] = True
    else:
        rule["values"] = {
            "allowedValues": list_policy.get("allowedValues") or [],
            "deniedValues": list_policy.get("deniedValues") or [],
        }
    return {"rules": [rule], "inheritFromParent": bool(list_policy.get("inheritFromParent", inherit or False))}


def merge(parent: Effective, spec: dict[str, Any] | None, node: str) -> Effective:
    if spec is None:
        return parent
    if spec.get("reset"):
        return Effective("all", {}, {}, node)
    own = _own(spec, node)
    if not spec.get("inheritFromParent"):
        return Effective("all", own.allowed, own.denied, node) if own.mode == "open" else own
    denied = {**parent.denied, **own.denied}
    if own.mode == "open":
        return Effective(parent.mode, parent.allowed, denied, node)
    if "all" in (parent.mode, own.mode):
        return Effective("all", {}, denied, node)
    if parent.mode == "none":
        return Effective(own.mode, own.allowed, denied, node)
    if own.mode == "none":
        return Effective(parent.mode, parent.allowed, denied, node)
    return Effective("list", {**parent.allowed, **own.allowed}, denied, node)


@dataclass(slots=True)
class Hierarchy:
    names: dict[str, str]  # resource name -> display name
    parents: dict[str, str]  # resource name -> parent name
    projects: list[str]
    ids: dict[str, str]  # projectId -> projects/NUMBER
    policies: dict[str, dict[str, Any]]  # resource name -> spec

    def chain(self, name: str) -> list[str]:
        out = [name]
        while out[-1] in self.parents and len(out) < 12:
            out.append(self.parents[out[-1]])
        return list(reversed(out))

    def label(self, name: str) -> str:
        kind = name.split("/")[0].rstrip("s")
        display = self.names.get(name, "")
        return f"{kind} '{display}' ({name})" if display else name


def _items(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = doc.get(key) or []
    if isinstance(value, dict):  # a raw search response: {"projects": [...]}
        value = value.get(key) or []
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        raise InputError(f"'{key}' must be a list of objects")
    return value


def load(doc: dict[str, Any]) -> Hierarchy:
    names: dict[str, str] = {}
    parents: dict[str, str] = {}
    ids: dict[str, str] = {}
    projects: list[str] = []
    for key in ("organizations", "folders", "projects"):
        for item in _items(doc, key):
            name = item.get("name")
            if not isinstance(name, str) or "/" not in name:
                raise InputError(f"{key}: every item needs a 'name' like '{key}/123'")
            names[name] = str(item.get("displayName") or item.get("projectId") or "")
            if item.get("parent"):
                parents[name] = str(item["parent"])
            if key == "projects":
                projects.append(name)
                if item.get("projectId"):
                    ids[str(item["projectId"])] = name
    policies: dict[str, dict[str, Any]] = {}
    for p in _items(doc, "policies"):
        if "name" in p:
            head, sep, constraint = str(p["name"]).partition("/policies/")
            if not sep:
                raise InputError(f"policy name '{p['name']}' is not '<parent>/policies/<constraint>'")
            if constraint.removeprefix("constraints/") != CONSTRAINT:
                continue
            spec = p.get("spec")
            if spec is None:
                continue  # dry-run only: enforces nothing
            resource = head
        elif "resource" in p:
            body = p.get("policy", p)
            if str(body.get("constraint", "")).removeprefix("constraints/") != CONSTRAINT:
                continue
            resource = str(p["resource"])
            spec = {"reset": True} if body.get("restoreDefault") is not None else _v1_spec(body.get("listPolicy") or {})
        else:
            raise InputError("a policy needs 'name' (Org Policy v2) or 'resource' (v1)")
        if not isinstance(spec, dict):
            raise InputError(f"{resource}: spec must be an object")
        if resource.startswith("projects/") and resource[9:] in ids:
            resource = ids[resource[9:]]
        policies[resource] = spec
    return Hierarchy(names, parents, projects, ids, policies)


def _effective(h: Hierarchy, chain: list[str]) -> Effective:
    eff = Effective("all", {}, {}, "")
    for node in chain:
        eff = merge(eff, h.policies.get(node), node)
    return eff


def _universe(catalog: Catalog) -> list[str]:
    return sorted(p.code for p in catalog.places(PROVIDER) if p.kind != "zone")


def resources_from_export(doc: dict[str, Any], catalog: Catalog | None = None) -> list[Resource]:
    """One pseudo-resource per project with a gap, plus one coverage note per organisation."""
    catalog = catalog or default_catalog()
    h = load(doc)
    if not h.projects:
        raise InputError("no projects in the export: nothing to evaluate")
    results: dict[str, tuple[Effective, set[str], dict[str, str]]] = {}
    for project in h.projects:
        eff = _effective(h, h.chain(project))
        denied = set().union(*(expand(v) for v in eff.denied)) if eff.denied else set()
        admitted: dict[str, str] = {}  # location -> "value at node"
        if eff.mode == "list":
            for value, node in eff.allowed.items():
                for loc in expand(value):
                    if loc not in denied:
                        admitted.setdefault(loc, f"'{value}' set at {h.label(node)}")
        elif eff.mode == "all" and eff.denied:
            for loc in _universe(catalog):
                if loc not in denied:
                    admitted[loc] = "every location not in deniedValues"
        results[project] = (eff, denied, admitted)

    def outside(loc: str) -> bool:
        return not catalog.resolve(PROVIDER, loc).in_eu

    def leaky(project: str) -> bool:
        eff, _, admitted = results[project]
        return (eff.mode == "all" and not eff.denied) or any(outside(x) for x in admitted)

    under: dict[str, list[str]] = {}
    for project in h.projects:
        for node in h.chain(project)[:-1]:
            under.setdefault(node, []).append(project)

    out: list[Resource] = []
    for project in h.projects:
        eff, _, admitted = results[project]
        chain = h.chain(project)
        owner = Owner(
            "project",
            project,
            h.names.get(project, ""),
            tuple(OwnerNode(n.split("/")[0].rstrip("s"), n, h.names.get(n, "")) for n in chain[:-1]),
        )
        fix_node = next((n for n in chain[:-1] if all(leaky(p) for p in under.get(n, []))), project)
        attrs: dict[str, Any] = {
            "scope": h.label(project),
            "path": " > ".join(h.label(n) for n in chain),
            "fix_scope": h.label(fix_node),
            "effective": {"mode": eff.mode, "allowed": sorted(eff.allowed), "denied": sorted(eff.denied)},
        }
        rid = f"guardrail:gcp:org-policy:{project}"
        name = f"{h.label(project)}, fix: {attrs['fix_scope']}"
        if eff.mode == "all" and not eff.denied:
            why = (
                f"no {CONSTRAINT} policy on the path"
                if not eff.set_at
                else f"{CONSTRAINT} at {h.label(eff.set_at)} allows every location"
            )
            if eff.set_at:  # a policy that stops inheriting or resets is fixed where it is set
                attrs["fix_scope"] = h.label(eff.set_at)
                name = f"{h.label(project)}, fix: {attrs['fix_scope']}"
            out.append(
                Resource(
                    PROVIDER,
                    KIND_GCP_ORG_POLICY,
                    rid,
                    name,
                    owner,
                    [Location("*", ROLE_ALLOWED, detail=f"every location: {why}")],
                    attributes={**attrs, "gap": GAP_UNCOVERED, "reason": why},
                )
            )
            continue
        bad = sorted(loc for loc in admitted if outside(loc))
        if bad:
            # fix where the offending values were set
            setters = sorted({admitted[b].split(" set at ")[-1] for b in bad if " set at " in admitted[b]})
            if setters:
                attrs["fix_scope"] = "; ".join(setters)
                name = f"{h.label(project)}, fix: {attrs['fix_scope']}"
            out.append(
                Resource(
                    PROVIDER,
                    KIND_GCP_ORG_POLICY,
                    rid,
                    name,
                    owner,
                    [Location(b, ROLE_ALLOWED, detail=f"admitted by {admitted[b]}") for b in bad],
                    attributes={**attrs, "gap": GAP_REGION, "non_eu_allowed": bad},
                )
            )
    for org in sorted({h.chain(p)[0] for p in h.projects}):
        out.append(
            Resource(
                PROVIDER,
                KIND_GCP_ORG_POLICY,
                f"guardrail:gcp:org-policy:{org}:limits",
                h.label(org),
                Owner("organization", org, h.names.get(org, "")),
                [
                    Location(
                        "*",
                        "secondary",
                        detail=f"{CONSTRAINT} applies only when a resource is created: resources that existed "
                        "before the policy, global resources and locations chosen after creation (e.g. Cloud "
                        "Storage turbo replication, backups, child resources) are not checked by it; "
                        "scan the projects to see where data is",
                    )
                ],
                attributes={"scope": h.label(org), "fix_scope": h.label(org), "gap": GAP_LIMIT},
            )
        )
    return out


def allowed_locations(doc: dict[str, Any], project: str) -> tuple[str, set[str]]:
    """(mode, concrete admitted locations) for one project: the evaluator's core, for tests and callers."""
    h = load(doc)
    eff = _effective(h, h.chain(h.ids.get(project.removeprefix("projects/"), project)))
    denied: set[str] = set()
    for v in eff.denied:
        denied |= expand(v)
    admitted: set[str] = set()
    for v in eff.allowed:
        admitted |= expand(v)
    return eff.mode, admitted - denied


def values_admitting(values: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for v in values:
        out |= expand(v)
    return out
