"""The Terraform plan reader: `terraform show -json PLANFILE` -> `Resource` records.

The pre-deploy gate checks what *will* exist, so the same rules and outputs as a
live scan apply. Every managed resource of a cloud provider that exists after
apply (create, update, replace, no-op) becomes a record with at least one
location; there is no "not checked" path:

- types a provider module models (`providers/<cloud>/terraform.py`: `TYPES`,
  `LINKS`) get their whole footprint: replicas, backups, geo-secondaries;
- every other type is judged at its primary location: the resource's own
  `region`/`location`/`zone`, else the provider configuration it is bound to (a
  constant, a root variable, a module variable fed by the module call, an alias, a
  configuration passed into a module), else the planned parent it refers to (an
  Azure subnet -> its virtual network), else the provider's global location for
  global services (IAM, DNS...), else *unknown*;
- settings of a parent (bucket policies, storage containers) are judged with
  the parent (`Resource.part_of`).

Whatever cannot be resolved from the plan is an unknown location (region None),
never a compliant one. No cloud SDK is imported here: the plan is plain JSON.
"""

from __future__ import annotations

import fnmatch
import importlib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..kinds import KindClass, classify
from ..model import Gap, Location, Owner, Resource
from ..providers import by_terraform_prefix
from .plan import EXISTS_AFTER, PlanError

if TYPE_CHECKING:
    from ..core import Collector
    from ..geography import Catalog

SOURCE = "plan"

#: Terraform provider local name (the resource type's prefix) -> our provider name.
#: `google-beta` resources are `google_*` types; `awscc` and `azapi` are judged as AWS and Azure.
TF_PROVIDERS = by_terraform_prefix()

_INSTANCE_KEY = re.compile(r'\[(?:"(?:[^"\\]|\\.)*"|[0-9]+)\]')
_ARN = re.compile(r"^arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):")
_NOT_RESOURCES = ("var", "local", "module", "data", "each", "count", "path", "self", "terraform")


def module_path(module_address: str) -> str:
    """`module.a["x"].module.b[0]` -> `module.a.module.b` (the configuration's key)."""
    return _INSTANCE_KEY.sub("", module_address) if module_address else ""


def arn_region(arn: str) -> str | None:
    m = _ARN.match(arn)
    return m.group(2) or None if m else None


Extractor = Callable[["PlanAdapter", "Change"], list[Location]]
LinkExtractor = Callable[["PlanAdapter", "Change"], None]


@dataclass(slots=True)
class Change:
    """One planned resource instance, as the extractors see it."""

    address: str
    module: str  # module address with instance keys, "" for the root module
    modpath: str  # the same without instance keys
    type: str
    name: str
    provider: str  # ours: aws | gcp | azure
    family: str  # Terraform's: aws | awscc | google | azurerm | azapi
    after: dict[str, Any]
    unknown: dict[str, Any]
    config: dict[str, Any]  # the configuration block (expressions...), {} when absent
    provider_key: str
    index: int  # position in resource_changes, for error messages

    def get(self, key: str) -> Any:
        return self.after.get(key)

    def is_unknown(self, key: str) -> bool:
        return self.unknown.get(key) is True

    def sets(self, key: str) -> bool:
        """The configuration sets this argument (rather than leaving it to the provider)."""
        return key in (self.config.get("expressions") or {})

    def text(self, key: str) -> str | None:
        """A string argument, None when absent or null; any other type is a malformed plan."""
        value = self.after.get(key)
        if value is None or isinstance(value, str):
            return value or None
        raise PlanError(f"malformed plan: resource_changes[{self.index}] ({self.address}): {key} is not a string")


@dataclass(slots=True)
class Resolved:
    """A value resolved from the plan, or why it could not be."""

    value: Any
    why: str = ""

    @property
    def known(self) -> bool:
        return isinstance(self.value, str) and bool(self.value)


@dataclass(slots=True)
class Built:
    resource: Resource
    change: Change


@dataclass(slots=True)
class Link:
    """A location found on one planned resource that belongs to another, or to itself later.

    Replication configurations, replicas and databases name other resources;
    their locations can only be placed once every resource has been read.
    """

    owner: Change
    location: Location  # role and detail; the region unless `like` says otherwise
    attach_to: list[str] = field(default_factory=list)  # addresses that get it; [] = the owner
    like: list[str] = field(default_factory=list)  # take the region of these planned resources
    paired: bool = False  # ... and then their Azure paired region
    fallback_kind: str = ""  # kind of a stand-alone record when no `attach_to` is planned


class TerraformProvider:
    """What a provider module (`providers/<cloud>/terraform.py`) gives the plan reader."""

    __slots__ = ("check", "generic", "global_location", "kind_of", "links", "name", "not_parents", "types")

    def __init__(self, module: ModuleType) -> None:
        self.name: str = module.PROVIDER
        self.types: dict[str, tuple[str, Extractor]] = module.TYPES
        self.links: dict[str, LinkExtractor] = module.LINKS
        #: the location of a global-scope resource (`aws-global`, `global`)
        self.global_location: str = module.GLOBAL_LOCATION
        #: primary location of a type no extractor models
        self.generic: Extractor = module.generic
        #: the kind of a type no extractor models (the type itself, or azapi's ARM type)
        self.kind_of: Callable[[Change], str] = getattr(module, "kind_of", lambda ch: ch.type)
        #: types never taken as a parent's location (an Azure resource group holds resources of any region)
        self.not_parents: frozenset[str] = getattr(module, "NOT_PARENTS", frozenset())


_TF_MODULES: dict[str, TerraformProvider] = {}


def terraform_provider(provider: str) -> TerraformProvider:
    found = _TF_MODULES.get(provider)
    if found is None:
        module = importlib.import_module(f"residency_audit.providers.{provider}.terraform")
        found = _TF_MODULES[provider] = TerraformProvider(module)
    return found


def supported_types() -> tuple[str, ...]:
    """Every Terraform type whose footprint the gate models, for the README and tests."""
    out: set[str] = set()
    for provider in dict.fromkeys(TF_PROVIDERS.values()):
        tp = terraform_provider(provider)
        out.update(tp.types, tp.links)
    return tuple(sorted(out))


# --------------------------------------------------------------------------- the adapter


class PlanAdapter:
    """Yields the planned resources of a `terraform show -json` document."""

    provider = "terraform"

    def __init__(
        self,
        plan: dict[str, Any],
        label: str = "plan",
        source_dir: Path | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self.plan = plan
        self.label = label
        self.source_dir = source_dir
        self._catalog = catalog
        config = plan.get("configuration") or {}
        self.pcs: dict[str, dict[str, Any]] = config.get("provider_config") or {}
        self.variables: dict[str, Any] = {
            k: (v.get("value") if isinstance(v, dict) else None) for k, v in (plan.get("variables") or {}).items()
        }
        self.modules: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, tuple[str, dict[str, Any]]] = {}  # modpath -> (parent modpath, module call)
        self._index_modules("", config.get("root_module") or {})
        self._config_res: dict[tuple[str, str, str], dict[str, Any]] = {}
        for mp, mod in self.modules.items():
            for r in mod.get("resources") or ():
                if r.get("mode", "managed") == "managed":
                    self._config_res[(mp, str(r.get("type", "")), str(r.get("name", "")))] = r
        self.changes = [rc for rc in plan.get("resource_changes") or () if rc.get("mode", "managed") == "managed"]
        #: every planned address -> its type (references may point forward in the plan)
        self.types: dict[str, str] = {rc["address"]: rc["type"] for rc in self.changes}
        self.owner = Owner(kind="plan", id=label, name=f"terraform {plan.get('terraform_version', '?')}")
        self._provider_cache: dict[tuple[str, str], Resolved] = {}
        self._by_value: dict[tuple[str, str], dict[str, list[str]]] = {}
        self.by_address: dict[str, Built] = {}
        self.links: list[Link] = []
        #: address -> planned resources it takes its locations from (Azure subnet -> virtual network)
        self.inherits: dict[str, list[str]] = {}
        self.counts: Counter[str] = Counter()
        self._dispatched: dict[tuple[str, str], Any] = {}
        self._interned: dict[tuple[str | None, str, str | None, str], Location] = {}
        self.data_sources = sum(1 for rc in plan.get("resource_changes") or () if rc.get("mode") == "data")

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            from ..geography import default_catalog

            self._catalog = default_catalog()
        return self._catalog

    def _index_modules(self, path: str, mod: dict[str, Any]) -> None:
        self.modules[path] = mod
        for name, call in (mod.get("module_calls") or {}).items():
            child = f"{path}.module.{name}" if path else f"module.{name}"
            self.calls[child] = (path, call)
            self._index_modules(child, call.get("module") or {})

    # ------------------------------------------------------------------ scan

    def scan(self, collector: Collector) -> None:
        for resource in self.resources():
            collector.add(resource)
        for note in self.notes():
            collector.note(note)
        if self.plan.get("complete") is False:
            # Deferred changes: another plan/apply round will create resources this plan does not show.
            collector.gap(
                Gap(
                    provider="terraform",
                    scope=self.label,
                    region="",
                    service="plan",
                    error="the plan is incomplete (complete: false): a later plan will contain resources "
                    "this one does not show",
                    code="incomplete-plan",
                )
            )

    def resources(self) -> list[Resource]:
        try:
            for ch in self._changes():
                self._build(ch)
        except PlanError as exc:  # raised by `Change.text` for a wrongly typed argument
            raise PlanError(f"{self.label}: {exc}") from None
        self._resolve_links()
        self._resolve_inherited()
        out = [b.resource for b in self.by_address.values()]
        self._add_source_positions(out)
        return out

    def _changes(self) -> Iterator[Change]:
        for i, rc in enumerate(self.plan.get("resource_changes") or ()):
            if rc.get("mode", "managed") != "managed":
                continue
            ch = self._change(rc, i)
            if ch is not None:
                yield ch

    def notes(self) -> list[str]:
        notes = []
        if not self.changes:
            notes.append("the plan changes no resources: nothing to check")
        if self.counts["deleted"]:
            notes.append(f"{self.counts['deleted']} planned deletions not checked (they hold no data after apply)")
        if self.counts["forgotten"]:
            notes.append(
                f"{self.counts['forgotten']} resources Terraform forgets (removed from state, not destroyed): "
                "no longer managed by this plan, so not judged by it"
            )
        if self.counts["absent"]:
            notes.append(f"{self.counts['absent']} planned no-ops of instances that exist neither before nor after")
        if self.counts["other"]:
            notes.append(f"{self.counts['other']} resources of non-cloud providers (random, null, tls...) ignored")
        return notes

    def _change(self, rc: dict[str, Any], index: int) -> Change | None:
        rtype: str = rc["type"]
        family = rtype.split("_", 1)[0]
        provider = TF_PROVIDERS.get(family)
        if provider is None:
            self.counts["other"] += 1
            return None
        change = rc["change"]
        actions = change["actions"]
        if actions[0] not in EXISTS_AFTER and "create" not in actions:  # a deletion or a forget
            self.counts["forgotten" if "forget" in actions else "deleted"] += 1
            return None
        after = change.get("after")
        unknown = change.get("after_unknown")
        if after is None:
            if unknown is None or unknown is False or unknown == {}:  # a no-op of an absent instance
                self.counts["absent"] += 1
                return None
            after = {}  # wholly unknown until apply: every argument is computed
            if unknown is True:
                unknown = _ALL_UNKNOWN
        module = rc.get("module_address") or ""
        modpath = module_path(module) if "[" in module else module
        name = rc.get("name") or ""
        config = self._config_res.get((modpath, rtype, name), _NO_CONFIG)
        key = config.get("provider_config_key") or ""
        if not key:  # no configuration block: the default configuration of the provider it names
            local = (rc.get("provider_name") or family).rsplit("/", 1)[-1]
            key = f"{modpath}:{local}" if modpath else local
        return Change(
            address=rc["address"],
            module=module,
            modpath=modpath,
            type=rtype,
            name=name,
            provider=provider,
            family=family,
            after=after,
            unknown=unknown if isinstance(unknown, dict) else {},
            config=config,
            provider_key=key,
            index=index,
        )

    # ------------------------------------------------------------------ building

    def _dispatch(self, ch: Change) -> tuple[TerraformProvider, tuple[str, Extractor] | None, LinkExtractor | None]:
        key = (ch.provider, ch.type)
        hit = self._dispatched.get(key)
        if hit is None:
            tp = terraform_provider(ch.provider)
            hit = self._dispatched[key] = (tp, tp.types.get(ch.type), tp.links.get(ch.type))
        return hit

    def _build(self, ch: Change) -> None:
        tp, spec, link = self._dispatch(ch)
        if spec is not None:
            kind, extract = spec
            resource = self._add(ch, kind, [], judged="footprint")
            resource.locations.extend(extract(self, ch))
            return
        if link is not None:
            before = len(self.links)
            link(self, ch)
            if len(self.links) > before:
                return
        kind = tp.kind_of(ch)
        cls = classify(ch.provider, kind, ch.type) if ch.family == "azapi" else classify(ch.provider, ch.type, kind)
        if cls.part_of:
            parents = self.parents(ch, cls.part_of)
            if parents:
                resource = self._add(ch, kind, [], judged="parent", cls=cls)
                resource.part_of = parents[0]
                self.inherits[ch.address] = parents[:1]
                return
        if cls.scope == "global":
            where = Location(tp.global_location, detail=f"{ch.type} is a global service")
            self._add(ch, kind, [where], judged="primary", cls=cls)
            return
        self._add(ch, kind, tp.generic(self, ch), judged="primary", cls=cls)

    def _add(
        self, ch: Change, kind: str, locations: list[Location], judged: str, cls: KindClass | None = None
    ) -> Resource:
        attrs: dict[str, Any] = {
            "address": ch.address,
            "module": ch.module,
            "type": ch.type,
            "provider_config_key": ch.provider_key,
        }
        if cls is None:
            cls = classify(ch.provider, kind, ch.type)
        resource = Resource(
            provider=ch.provider,
            kind=kind,
            id=ch.address,
            name=_display_name(ch),
            owner=self.owner,
            locations=locations,
            tags=_tags(ch.after),
            source=SOURCE,
            attributes=attrs,
            category=cls.category,
            judged=judged,
        )
        self.by_address[ch.address] = Built(resource, ch)
        return resource

    def location(
        self, region: str | None, role: str = "primary", zone: str | None = None, detail: str = ""
    ) -> Location:
        """One shared (immutable) `Location` per distinct value: thousands of resources of a plan sit in
        the same few provider regions, and sharing them spares building and redacting each again."""
        key = (region, role, zone, detail)
        hit = self._interned.get(key)
        if hit is None:
            hit = self._interned[key] = Location(region, role=role, zone=zone, detail=detail)
        return hit

    def inherit(self, ch: Change, why: str) -> list[Location]:
        """No location of its own: the locations of the planned resources it refers to.

        An Azure subnet lives where its virtual network does, a Key Vault secret where its
        vault does, a BigQuery table where its dataset does. Resource groups are skipped:
        a resource may live elsewhere than its group. Nothing planned to follow: unknown.
        """
        parents = [
            a
            for a in self.all_references(ch)
            if TF_PROVIDERS.get(self.types[a].split("_", 1)[0]) == ch.provider
            and self.types[a] not in terraform_provider(ch.provider).not_parents
        ]
        if parents:
            self.inherits[ch.address] = parents
            return []
        return [Location(None, detail=f"{why}, and it refers to no planned resource that has one")]

    def parents(self, ch: Change, types: tuple[str, ...]) -> list[str]:
        """Planned resources of the given types (globs) this one refers to, or names by value."""
        wanted = [a for a in self.all_references(ch) if any(fnmatch.fnmatchcase(self.types[a], t) for t in types)]
        if wanted:
            return wanted
        for key in ("bucket", "storage_account_name"):
            value = ch.after.get(key)
            if isinstance(value, str) and value:
                for t in types:
                    if "*" not in t:
                        wanted += self.by_value(t, "bucket" if key == "bucket" else "name", value)
        return wanted

    # ------------------------------------------------------------------ effective location

    def own_or_provider(self, ch: Change, attr: str, provider_attr: str) -> Resolved:
        """The resource's own argument if set, else the provider configuration's default.

        A value the plan marks unknown is unknown when the configuration sets it
        (it depends on something computed); when only the provider fills it in
        (AWS v5's computed `region`, google's `region`), the provider block decides.
        """
        value = ch.text(attr)
        if value:
            return Resolved(value, f"{attr} argument")
        if ch.is_unknown(attr) and ch.sets(attr):
            return Resolved(None, f"{attr} is computed: known only after apply")
        return self.provider_value(ch.provider_key, provider_attr, ch.provider)

    def provider_value(self, key: str, attr: str, provider: str) -> Resolved:
        hit = self._provider_cache.get((key, attr))
        if hit is None:
            hit = self._provider_value(key, attr, provider)
            self._provider_cache[(key, attr)] = hit
        return hit

    def _provider_value(self, key: str, attr: str, provider: str) -> Resolved:
        pc, found = self._provider_config(key)
        if pc is None:
            if not self.pcs:
                return Resolved(
                    None,
                    "no provider block configures it (the environment decided at plan time; the plan does not say)",
                )
            return Resolved(None, f"provider configuration '{key}' is not in the plan")
        expr = (pc.get("expressions") or {}).get(attr)
        label = f"provider {found}"
        if expr is None:
            return Resolved(
                None, f"{label} sets no {attr} (the environment may decide at plan time; the plan does not say)"
            )
        value = self._expression(expr, str(pc.get("module_address", "")), depth=0)
        if value.known:
            return Resolved(value.value, f"{label} {attr}")
        return Resolved(None, f"{label}: {attr} {value.why}")

    def _provider_config(self, key: str) -> tuple[dict[str, Any] | None, str]:
        """The configuration block a key names; a module without its own block inherits its parent's.

        Terraform already rewrites the key of a resource whose module received a
        configuration through `providers = {...}` to the passed configuration's key;
        walking up covers implicit inheritance. A module's entry that configures
        nothing (no `expressions`: only a `required_providers` version constraint)
        is not a provider block of its own, so it inherits too. Terraform 0.12 keys a
        module's configuration by the module's call name (`db:aws`), not its path.
        """
        for _ in range(64):
            pc = self.pcs.get(key)
            mod, sep, local = key.rpartition(":")
            if pc is not None and (pc.get("expressions") or not sep):
                return pc, key
            if not sep:
                return None, key
            if not mod.startswith("module."):  # Terraform 0.12: `name:aws`
                mod = self._module_by_name(mod)
            parent, _ = self.calls.get(mod, ("", {}))
            key = f"{parent}:{local}" if parent else local
        return None, key

    def _module_by_name(self, name: str) -> str:
        """Terraform 0.12's `name:aws` key -> the module path whose last call is `name` (unique), else ""."""
        hits = [path for path in self.calls if path.rsplit(".", 1)[-1] == name]
        return hits[0] if len(hits) == 1 else ""

    def _expression(self, expr: Any, modpath: str, depth: int) -> Resolved:
        """Resolve a configuration expression: a constant, or a (module) variable, nothing else."""
        if not isinstance(expr, dict):
            return Resolved(None, "is not a simple expression")
        if "constant_value" in expr:
            value = expr["constant_value"]
            return Resolved(value) if isinstance(value, str) else Resolved(None, "is not a string")
        refs = [r for r in expr.get("references") or () if isinstance(r, str)]
        # Only a bare `var.x` is safe: "eu-${var.n}" also lists just var.n.
        if len(refs) != 1 or not refs[0].startswith("var.") or "." in refs[0][4:] or "[" in refs[0] or depth > 20:
            shown = ", ".join(refs) or "an expression"
            return Resolved(None, f"comes from {shown}, which the plan does not resolve")
        var = refs[0][4:]
        if not modpath:
            if var not in self.variables:
                return Resolved(None, f"comes from var.{var}, which the plan does not list")
            value = self.variables[var]
            return Resolved(value) if isinstance(value, str) else Resolved(None, f"var.{var} is not a string")
        parent, call = self.calls.get(modpath, ("", {}))
        passed = (call.get("expressions") or {}).get(var)
        if passed is not None:
            return self._expression(passed, parent, depth + 1)
        default = ((self.modules.get(modpath) or {}).get("variables") or {}).get(var) or {}
        value = default.get("default") if isinstance(default, dict) else None
        if isinstance(value, str):
            return Resolved(value)
        return Resolved(None, f"comes from {modpath} var.{var}, which has no string value")

    def references(self, ch: Change, expr: Any, rtype: str = "") -> list[str]:
        """Planned resources an expression refers to (in the resource's module instance)."""
        if not isinstance(expr, dict):
            return []
        return self._planned(ch, expr.get("references") or (), rtype)

    def all_references(self, ch: Change) -> list[str]:
        """Planned resources any argument of the resource's configuration refers to, nested blocks included."""
        refs: list[str] = []
        stack: list[Any] = [ch.config.get("expressions")]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                found = value.get("references")
                if isinstance(found, list):
                    refs.extend(found)
                stack.extend(v for k, v in value.items() if k != "references" and isinstance(v, dict | list))
            elif isinstance(value, list):
                stack.extend(value)
        found_addresses = self._planned(ch, refs)
        return [a for a in found_addresses if a != ch.address]

    def _planned(self, ch: Change, refs: Any, rtype: str = "") -> list[str]:
        prefix = f"{ch.module}." if ch.module else ""
        found: list[str] = []
        for ref in refs:
            if not isinstance(ref, str):
                continue
            parts = ref.split(".")
            if len(parts) < 2 or parts[0] in _NOT_RESOURCES:
                continue
            if rtype and parts[0] != rtype:
                continue
            base = f"{prefix}{parts[0]}.{parts[1].split('[', 1)[0]}"
            if base in self.types:
                found.append(base)
            else:  # counted / for_each instances: the bare reference means all of them
                found.extend(a for a in self.types if a.startswith(base + "["))
        return list(dict.fromkeys(found))

    def by_value(self, rtype: str, attr: str, value: str) -> list[str]:
        """Planned resources of a type whose attribute has this value (e.g. a bucket by name)."""
        index = self._by_value.get((rtype, attr))
        if index is None:
            index = {}
            for rc in self.changes:
                if rc["type"] == rtype:
                    after = rc["change"].get("after")
                    v = after.get(attr) if isinstance(after, dict) else None
                    if isinstance(v, str):
                        index.setdefault(v, []).append(rc["address"])
            self._by_value[(rtype, attr)] = index
        return index.get(value, [])

    def expr(self, ch: Change, key: str) -> Any:
        return (ch.config.get("expressions") or {}).get(key)

    # ------------------------------------------------------------------ links

    def link(self, link: Link) -> None:
        self.links.append(link)

    def _resolve_links(self) -> None:
        """Place what links found. A link's own resource (a replication configuration) is a record
        too: judged with the resource it adds locations to, or on its own when that is not planned."""
        for link in self.links:
            locations = self._link_locations(link)
            targets = [t for t in link.attach_to if t in self.by_address] or [link.owner.address]
            for t in targets:
                built = self.by_address.get(t)
                if built is None:  # the owner itself, stand-alone
                    self._add(link.owner, link.fallback_kind or link.owner.type, [], judged="footprint")
                    built = self.by_address[t]
                for loc in locations:
                    if loc not in built.resource.locations:
                        built.resource.locations.append(loc)
            if link.owner.address not in self.by_address:
                own = self._add(link.owner, link.fallback_kind or link.owner.type, [], judged="parent")
                own.part_of = targets[0]
            owner = self.by_address[link.owner.address].resource
            if owner.part_of:
                owner.locations.extend(loc for loc in locations if loc not in owner.locations)

    def _link_locations(self, link: Link) -> list[Location]:
        base = link.location
        if not link.like:
            return [base]
        out: list[Location] = []
        for address in link.like:
            built = self.by_address.get(address)
            primary = built.resource.locations[0] if built and built.resource.locations else None
            if primary is None or primary.region is None:
                loc = Location(None, role=base.role, detail=f"{base.detail}: {address} has no known location")
            elif link.paired:
                loc = self.paired(primary, base.role, f"{base.detail} ({address})", link.owner.provider)
            else:
                loc = Location(primary.region, role=base.role, zone=primary.zone, detail=f"{base.detail} ({address})")
            if loc not in out:
                out.append(loc)
        return out

    def _resolve_inherited(self) -> None:
        """Give each inheriting record the locations of its parents, following chains (association ->
        subnet -> virtual network) once each; a cycle or a parent without locations is unknown."""
        done: set[str] = set()
        visiting: set[str] = set()

        def resolve(address: str) -> list[Location]:
            resource = self.by_address[address].resource
            parents = self.inherits.get(address)
            if parents is None or address in done:
                return resource.locations
            if address in visiting:
                return [Location(None, detail=f"{address} takes its location from itself (a reference cycle)")]
            visiting.add(address)
            for parent in parents:
                built = self.by_address.get(parent)
                got = resolve(parent) if built is not None else []
                if not got:
                    got = [Location(None, detail=f"its parent {parent} has no known location")]
                have = {(loc.region, loc.role, loc.zone) for loc in resource.locations}
                for loc in got:
                    if (loc.region, loc.role, loc.zone) in have:  # two parents in one place: one location
                        continue
                    have.add((loc.region, loc.role, loc.zone))
                    shown = loc.detail if loc.detail.startswith("from ") else f"from {parent}: {loc.detail}"
                    resource.locations.append(Location(loc.region, role=loc.role, zone=loc.zone, detail=shown))
            visiting.discard(address)
            done.add(address)
            return resource.locations

        for address in list(self.inherits):
            resolve(address)

    def paired(self, primary: Location, role: str, why: str, provider: str) -> Location:
        """The catalog's paired region of `primary` (Azure's region pairs: where GRS/GZRS and geo
        backups keep their copy); a region without a sourced pair is unknown, never in-region."""
        if primary.region is None:
            return Location(None, role=role, detail=f"{why}: paired region of an unknown location")
        place = self.catalog.resolve(provider, primary.region)
        paired = place.paired_region or None if place.known else None
        if paired is None:
            return Location(
                None, role=role, detail=f"{why}: the paired region of {primary.region} is not in the catalog"
            )
        return Location(paired, role=role, detail=f"{why}: paired region of {primary.region}")

    # ------------------------------------------------------------------ source positions

    def _add_source_positions(self, resources: list[Resource]) -> None:
        if self.source_dir is None:
            return
        from .source import SourceIndex

        index = SourceIndex(self.source_dir, self.calls)
        if not index.usable:
            return
        for r in resources:
            built = self.by_address[r.id]
            pos = index.find(built.change.modpath, built.change.type, built.change.name)
            if pos is not None:
                r.attributes["file"], r.attributes["line"] = pos


class _Unknowns(dict[str, Any]):
    """`after_unknown: true`: the whole object is unknown, so every argument is."""

    def get(self, key: str, default: Any = None) -> Any:
        return True

    def __contains__(self, key: object) -> bool:
        return True


_ALL_UNKNOWN = _Unknowns()

_NO_CONFIG: dict[str, Any] = {}

# --------------------------------------------------------------------------- small helpers


def _display_name(ch: Change) -> str:
    for key in ("bucket", "name", "identifier", "function_name", "cluster_identifier", "creation_token"):
        v = ch.after.get(key)
        if isinstance(v, str) and v:
            return v
    return ch.address


def _tags(after: dict[str, Any]) -> dict[str, str]:
    for key in ("tags", "labels"):
        tags = after.get(key)
        if isinstance(tags, dict):
            return {str(k): str(v) for k, v in tags.items() if v is not None}
    return {}


def sub_blocks(
    values: dict[str, Any], marks: dict[str, Any], exprs: dict[str, Any], key: str
) -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """Nested block instances as (values, unknown marks, expressions)."""
    vals, mk, ex = values.get(key), marks.get(key), exprs.get(key)
    out = []
    for i, v in enumerate(vals if isinstance(vals, list) else ()):
        m = mk[i] if isinstance(mk, list) and i < len(mk) and isinstance(mk[i], dict) else {}
        e = ex[i] if isinstance(ex, list) and i < len(ex) and isinstance(ex[i], dict) else {}
        out.append((v if isinstance(v, dict) else {}, m, e))
    return out


def blocks(ch: Change, key: str) -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    return sub_blocks(ch.after, ch.unknown, ch.config.get("expressions") or {}, key)
