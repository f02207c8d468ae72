"""The Terraform plan reader: `terraform show -json PLANFILE` -> `Resource` records.

The pre-deploy gate checks what *will* exist, so the same rules and outputs as
a live scan apply. The hard part is the effective location of each planned
resource: a region can come from the resource itself (AWS provider v6
`region`, `location` on azurerm and google), from the provider configuration
the resource is bound to (a constant, a root variable, a module variable fed by
the module call, an alias, a configuration passed into a module), or from
another resource (an S3 replication configuration naming a destination bucket,
a read replica naming its source). Whatever cannot be resolved from the plan is
an *unknown* location (region None), never a compliant one.

No cloud SDK is imported here: the plan is plain JSON.
"""

from __future__ import annotations

import gc
import json
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import jsonio
from ..errors import UserError
from ..model import Gap, Location, Owner, Resource

if TYPE_CHECKING:
    from ..core import Collector
    from ..geography import Catalog

SOURCE = "plan"

#: Resource type prefix (before the first "_") -> our provider name.
PREFIXES = {"aws": "aws", "azurerm": "azure", "google": "gcp"}

#: Attributes that say where an unsupported resource type lives.
LOCATION_ATTRS = ("region", "location", "region_name", "zone", "availability_zone")

#: Types whose data lives in a parent resource that is itself checked (bucket
#: policies, storage containers...): read, counted, not reported as unchecked.
COMPANION_PREFIXES = (
    "aws_s3_bucket_",
    "aws_s3_object",
    "azurerm_storage_container",
    "azurerm_storage_blob",
    "azurerm_storage_share",
    "azurerm_storage_queue",
    "azurerm_storage_table",
    "azurerm_storage_management_policy",
    "google_storage_bucket_",
)

#: Azure replication types that keep a copy in the paired region.
AZURE_GEO_REPLICATION = frozenset({"GRS", "RAGRS", "GZRS", "RAGZRS"})


class PlanError(UserError):
    """The input is not a usable Terraform plan (one line, exit 2)."""


# --------------------------------------------------------------------------- reading


def read_plan(path: str) -> tuple[dict[str, Any], str]:
    """Load and check a plan document; `-` is stdin. Returns (plan, label)."""
    import sys

    label = "stdin" if path == "-" else path
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except FileNotFoundError:
        raise PlanError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise PlanError(f"{label}: is a directory, expected the output of `terraform show -json PLANFILE`") from None
    except OSError as exc:
        raise PlanError(f"{label}: cannot read: {exc.strerror}") from None
    if data[:2] == b"PK":
        raise PlanError(
            f"{label}: this is a binary plan file; convert it first: "
            f"terraform show -json {Path(label).name} > plan.json"
        )
    # A plan is millions of small objects that live until the process ends:
    # collecting them is wasted work, so parse without the cyclic GC and then
    # move them out of its sight (gc.freeze).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        plan = jsonio.loads(data)
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"{label}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "expected the output of `terraform show -json PLANFILE`"
        ) from None
    except UnicodeDecodeError:
        raise PlanError(f"{label}: not valid JSON (not UTF-8 text)") from None
    finally:
        gc.freeze()
        if gc_was_enabled:
            gc.enable()
    check_plan(plan, label)
    return plan, label


def check_plan(plan: Any, label: str) -> None:
    if not isinstance(plan, dict):
        raise PlanError(f"{label}: not a Terraform plan (the JSON document is not an object)")
    if "lineage" in plan or "serial" in plan or ("values" in plan and "planned_values" not in plan):
        raise PlanError(
            f"{label}: this is a Terraform state, not a plan; run `terraform plan -out tfplan` and "
            "`terraform show -json tfplan`"
        )
    version = plan.get("format_version")
    if version is None:
        raise PlanError(f"{label}: not a Terraform plan (no format_version; expected `terraform show -json` output)")
    if not isinstance(version, str) or version.split(".")[0] != "1":
        raise PlanError(f"{label}: unsupported plan format_version {version!r} (this version reads 1.x)")
    if "planned_values" not in plan and "resource_changes" not in plan:
        raise PlanError(f"{label}: not a Terraform plan (no planned_values or resource_changes)")
    changes = plan.get("resource_changes")
    if changes is not None and not isinstance(changes, list):
        raise PlanError(f"{label}: malformed plan: resource_changes is not a list")
    if plan.get("errored") is True:
        raise PlanError(f"{label}: the plan errored (errored: true): fix `terraform plan` first, nothing was checked")
    if not changes:
        raise PlanError(f"{label}: empty plan: it has no resources to check")
    _check_shapes(plan, label)


def _check_shapes(plan: dict[str, Any], label: str) -> None:
    """The members the reader walks must be objects where Terraform writes objects.

    Found by fuzzing: a wrongly-typed member (`"change": 1`, `"root_module": []`)
    must be a one-line PlanError naming it, not an AttributeError deep inside.
    """

    def obj(value: Any, where: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise PlanError(f"{label}: malformed plan: {where} is not an object")
        return value

    def module(mod: Any, where: str, depth: int = 0) -> None:
        mod = obj(mod, where)
        if depth > 64:
            raise PlanError(f"{label}: malformed plan: modules nested too deeply at {where}")
        resources = mod.get("resources")
        if resources is not None and not isinstance(resources, list):
            raise PlanError(f"{label}: malformed plan: {where}.resources is not a list")
        for j, r in enumerate(resources or ()):
            if isinstance(r, dict) and not isinstance(r.get("expressions"), dict | None):
                raise PlanError(f"{label}: malformed plan: {where}.resources[{j}].expressions is not an object")
        for name, call in obj(mod.get("module_calls"), f"{where}.module_calls").items():
            at = f"{where}.module_calls.{name}"
            module(obj(call, at).get("module"), f"{at}.module", depth + 1)

    obj(plan.get("variables"), "variables")
    config = obj(plan.get("configuration"), "configuration")
    for name, pc in obj(config.get("provider_config"), "configuration.provider_config").items():
        obj(obj(pc, f"configuration.provider_config.{name}").get("expressions"), f"provider_config.{name}.expressions")
    module(config.get("root_module"), "configuration.root_module")
    for i, rc in enumerate(plan.get("resource_changes") or ()):
        # Inlined: this runs once per planned resource, and a plan has tens of thousands.
        change = rc.get("change") if isinstance(rc, dict) else None
        if change is None:
            continue
        if not isinstance(change, dict):
            raise PlanError(f"{label}: malformed plan: resource_changes[{i}].change is not an object")
        for key in ("before", "after", "after_unknown"):
            v = change.get(key)
            if v is not None and not isinstance(v, dict) and not (key == "after_unknown" and isinstance(v, bool)):
                raise PlanError(f"{label}: malformed plan: resource_changes[{i}].change.{key} is not an object")


# --------------------------------------------------------------------------- helpers

_INSTANCE_KEY = re.compile(r'\[(?:"(?:[^"\\]|\\.)*"|[0-9]+)\]')
_AWS_AZ = re.compile(r"^([a-z]{2}(?:-[a-z]+)+-\d+)[a-z]$")
_GCP_ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$")
_ARN = re.compile(r"^arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):")


def module_path(module_address: str) -> str:
    """`module.a["x"].module.b[0]` -> `module.a.module.b` (the configuration's key)."""
    return _INSTANCE_KEY.sub("", module_address) if module_address else ""


def arn_region(arn: str) -> str | None:
    m = _ARN.match(arn)
    return m.group(2) or None if m else None


def _is_true(x: Any) -> bool:
    return x is True


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
    provider: str
    after: dict[str, Any]
    unknown: dict[str, Any]
    config: dict[str, Any]  # the configuration block (expressions...), {} when absent
    provider_key: str

    def get(self, key: str) -> Any:
        return self.after.get(key)

    def is_unknown(self, key: str) -> bool:
        return _is_true(self.unknown.get(key))

    def sets(self, key: str) -> bool:
        """The configuration sets this argument (rather than leaving it to the provider)."""
        return key in (self.config.get("expressions") or {})


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
    checked: bool = True


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
        self._config_res: dict[tuple[str, str], dict[str, Any]] = {}
        for mp, mod in self.modules.items():
            for r in mod.get("resources") or ():
                if isinstance(r, dict) and r.get("mode", "managed") == "managed":
                    self._config_res[(mp, str(r.get("address", "")))] = r
        self.changes = [
            rc
            for rc in plan.get("resource_changes") or ()
            if isinstance(rc, dict) and rc.get("mode", "managed") == "managed"
        ]
        #: every planned address -> its type (references may point forward in the plan)
        self.types: dict[str, str] = {str(rc.get("address", "")): str(rc.get("type", "")) for rc in self.changes}
        self.owner = Owner(kind="plan", id=label, name=f"terraform {plan.get('terraform_version', '?')}")
        self._provider_cache: dict[tuple[str, str], Resolved] = {}
        self._by_value: dict[tuple[str, str], dict[str, list[str]]] = {}
        self.by_address: dict[str, Built] = {}
        self.links: list[Link] = []
        self.counts: Counter[str] = Counter()
        self.unsupported: Counter[str] = Counter()

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
        for rc in self.changes:
            ch = self._change(rc)
            if ch is not None:
                self._build(ch)
        self._resolve_links()
        out = [b.resource for b in self.by_address.values()]
        self._add_source_positions(out)
        return out

    def notes(self) -> list[str]:
        notes = []
        if self.counts["deleted"]:
            notes.append(f"{self.counts['deleted']} planned deletions not checked (they hold no data after apply)")
        if self.counts["companion"]:
            notes.append(
                f"{self.counts['companion']} resources whose data lives in a checked parent "
                "(bucket settings, storage containers...) were read as part of that parent"
            )
        if self.counts["unchecked"]:
            notes.append(
                f"{self.counts['unchecked']} resources of types residency-audit does not model: only their own "
                "location attribute was checked (rule RA-PLAN-UNCHECKED lists them)"
            )
        if self.unsupported:
            top = ", ".join(
                f"{t} ({n})" for t, n in sorted(self.unsupported.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
            )
            more = len(self.unsupported) - 8
            notes.append(
                f"{sum(self.unsupported.values())} resources without a location attribute not checked: {top}"
                + (f" and {more} more types" if more > 0 else "")
            )
        if self.counts["other"]:
            notes.append(f"{self.counts['other']} resources of non-cloud providers (random, null, tls...) ignored")
        return notes

    def _change(self, rc: dict[str, Any]) -> Change | None:
        rtype = str(rc.get("type", ""))
        local = rtype.split("_", 1)[0]
        provider = PREFIXES.get(local)
        if provider is None:
            self.counts["other"] += 1
            return None
        change = rc.get("change") or {}
        after = change.get("after")
        if not isinstance(after, dict):  # a deletion (or a forget): nothing will hold data
            self.counts["deleted"] += 1
            return None
        unknown = change.get("after_unknown")
        module = str(rc.get("module_address", ""))
        modpath = module_path(module) if "[" in module else module
        name = str(rc.get("name", ""))
        config = self._config_res.get((modpath, f"{rtype}.{name}"), {})
        key = str(config.get("provider_config_key", "")) or (f"{modpath}:{local}" if modpath else local)
        return Change(
            address=str(rc.get("address", "")),
            module=module,
            modpath=modpath,
            type=rtype,
            name=name,
            provider=provider,
            after=after,
            unknown=unknown if isinstance(unknown, dict) else {},
            config=config,
            provider_key=key,
        )

    # ------------------------------------------------------------------ building

    def _build(self, ch: Change) -> None:
        spec = TYPES.get(ch.type)
        if spec is not None:
            kind, extract = spec
            self._add(ch, kind, []).locations.extend(extract(self, ch))
            return
        if ch.type in LINKS:
            LINKS[ch.type](self, ch)
            return
        if any(ch.type.startswith(p) for p in COMPANION_PREFIXES):
            self.counts["companion"] += 1
            return
        attr = next((a for a in LOCATION_ATTRS if a in ch.after or a in ch.unknown), None)
        if attr is None:
            self.unsupported[ch.type] += 1
            return
        self.counts["unchecked"] += 1
        self._add(ch, ch.type, [self._generic_location(ch, attr)], checked=False)

    def _add(self, ch: Change, kind: str, locations: list[Location], checked: bool = True) -> Resource:
        attrs: dict[str, Any] = {
            "address": ch.address,
            "module": ch.module,
            "type": ch.type,
            "provider_config_key": ch.provider_key,
        }
        if not checked:
            attrs["checked"] = False
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
        )
        self.by_address[ch.address] = Built(resource, ch, checked)
        return resource

    def _generic_location(self, ch: Change, attr: str) -> Location:
        if attr in ("zone", "availability_zone"):
            zone = self.own_or_provider(ch, attr, "zone")
            if not zone.known:
                return Location(None, detail=zone.why)
            code = normalise(ch.provider, str(zone.value))
            return Location(zone_region(ch.provider, code), zone=code, detail=f"{attr} {zone.value}")
        if ch.provider == "azure":
            return azure_location(ch, attr)
        value = self.own_or_provider(ch, attr, "region")
        if not value.known:
            return Location(None, detail=value.why)
        return Location(normalise(ch.provider, str(value.value)), detail=value.why)

    # ------------------------------------------------------------------ effective location

    def own_or_provider(self, ch: Change, attr: str, provider_attr: str) -> Resolved:
        """The resource's own argument if set, else the provider configuration's default.

        A value the plan marks unknown is unknown when the configuration sets it
        (it depends on something computed); when only the provider fills it in
        (AWS v5's computed `region`, google's `region`), the provider block decides.
        """
        value = ch.get(attr)
        if isinstance(value, str) and value:
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
            return Resolved(None, f"provider configuration '{key}' is not in the plan")
        expr = (pc.get("expressions") or {}).get(attr)
        label = f"provider {found}"
        if expr is None:
            if provider == "aws":
                return Resolved(
                    None, f"{label} sets no region (the environment decides at plan time; the plan does not say)"
                )
            return Resolved(None, f"{label} sets no {attr}")
        value = self._expression(expr, str(pc.get("module_address", "")), depth=0)
        if value.known:
            return Resolved(value.value, f"{label} {attr}")
        return Resolved(None, f"{label}: {attr} {value.why}")

    def _provider_config(self, key: str) -> tuple[dict[str, Any] | None, str]:
        """The configuration block a key names; a module without its own block inherits its parent's.

        Terraform already rewrites the key of a resource whose module received a
        configuration through `providers = {...}` to the passed configuration's
        key; walking up covers implicit inheritance in plans that were not normalised.
        """
        while True:
            pc = self.pcs.get(key)
            if pc is not None:
                return pc, key
            mod, sep, local = key.rpartition(":")
            if not sep:
                return None, key
            parent, _ = self.calls.get(mod, ("", {}))
            key = f"{parent}:{local}" if parent else local

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
        value = default.get("default")
        if isinstance(value, str):
            return Resolved(value)
        return Resolved(None, f"comes from {modpath} var.{var}, which has no string value")

    def references(self, ch: Change, expr: Any, rtype: str = "") -> list[str]:
        """Planned resources an expression refers to (in the resource's module instance)."""
        if not isinstance(expr, dict):
            return []
        prefix = f"{ch.module}." if ch.module else ""
        found: list[str] = []
        for ref in expr.get("references") or ():
            if not isinstance(ref, str):
                continue
            parts = ref.split(".")
            if len(parts) < 2 or parts[0] in ("var", "local", "module", "data", "each", "count", "path", "self"):
                continue
            if rtype and parts[0] != rtype:
                continue
            base = f"{prefix}{parts[0]}.{parts[1]}"
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
                if rc.get("type") == rtype:
                    after = (rc.get("change") or {}).get("after")
                    v = after.get(attr) if isinstance(after, dict) else None
                    if isinstance(v, str):
                        index.setdefault(v, []).append(str(rc.get("address", "")))
            self._by_value[(rtype, attr)] = index
        return index.get(value, [])

    def expr(self, ch: Change, key: str) -> Any:
        return (ch.config.get("expressions") or {}).get(key)

    # ------------------------------------------------------------------ links

    def link(self, link: Link) -> None:
        self.links.append(link)

    def _resolve_links(self) -> None:
        for link in self.links:
            for loc in self._link_locations(link):
                targets = [t for t in link.attach_to if t in self.by_address] or [link.owner.address]
                for t in targets:
                    built = self.by_address.get(t)
                    if built is None:
                        self._add(link.owner, link.fallback_kind or link.owner.type, [])
                        built = self.by_address[t]
                    if loc not in built.resource.locations:
                        built.resource.locations.append(loc)

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
                loc = self.paired(primary, base.role, f"{base.detail} ({address})")
            else:
                loc = Location(primary.region, role=base.role, zone=primary.zone, detail=f"{base.detail} ({address})")
            if loc not in out:
                out.append(loc)
        return out

    def paired(self, primary: Location, role: str, why: str) -> Location:
        if primary.region is None:
            return Location(None, role=role, detail=f"{why}: paired region of an unknown location")
        paired = paired_region(self.catalog, primary.region)
        if paired is None:
            return Location(
                None, role=role, detail=f"{why}: the paired region of {primary.region} is not in the catalog"
            )
        return Location(paired, role=role, detail=f"{why}: paired region of {primary.region}")

    # ------------------------------------------------------------------ source positions

    def _add_source_positions(self, resources: list[Resource]) -> None:
        if self.source_dir is None:
            return
        index = _SourceIndex(self.source_dir, self.calls)
        if not index.usable:
            return
        for r in resources:
            built = self.by_address[r.id]
            pos = index.find(built.change.modpath, built.change.type, built.change.name)
            if pos is not None:
                r.attributes["file"], r.attributes["line"] = pos


class _SourceIndex:
    """Where each `resource "TYPE" "NAME"` block is, per module directory (read lazily).

    The plan's configuration names module sources but not file positions, so
    the .tf files next to the plan are read: local module sources are followed,
    installed ones are found through `.terraform/modules/modules.json`.
    """

    _BLOCK = re.compile(r'^[ \t]*resource[ \t]+"([^"]+)"[ \t]+"([^"]+)"', re.MULTILINE)

    def __init__(self, root: Path, calls: dict[str, tuple[str, dict[str, Any]]]) -> None:
        self.root = root
        self.calls = calls
        self.usable = any(root.glob("*.tf"))
        self._dirs: dict[str, Path | None] = {"": root}
        self._blocks: dict[Path, dict[tuple[str, str], tuple[str, int]]] = {}
        self._installed = self._read_modules_json() if self.usable else {}

    def _read_modules_json(self) -> dict[str, str]:
        path = self.root / ".terraform" / "modules" / "modules.json"
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        mods = data.get("Modules") if isinstance(data, dict) else None
        return {str(m.get("Key", "")): str(m.get("Dir", "")) for m in mods or () if isinstance(m, dict)}

    def _dir(self, modpath: str) -> Path | None:
        if modpath in self._dirs:
            return self._dirs[modpath]
        result: Path | None = None
        key = ".".join(modpath.split(".")[1::2])  # module.a.module.b -> a.b, the modules.json key
        if self._installed.get(key):
            result = self.root / self._installed[key]
        else:
            parent, call = self.calls.get(modpath, ("", {}))
            source = str(call.get("source", ""))
            pdir = self._dir(parent)
            if pdir is not None and source.startswith(("./", "../")):
                result = pdir / source
        self._dirs[modpath] = result
        return result

    def find(self, modpath: str, rtype: str, name: str) -> tuple[str, int] | None:
        d = self._dir(modpath)
        if d is None:
            return None
        blocks = self._blocks.get(d)
        if blocks is None:
            blocks = {}
            for tf in sorted(d.glob("*.tf")):
                try:
                    text = tf.read_text("utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                for m in self._BLOCK.finditer(text):
                    line = text.count("\n", 0, m.start()) + 1
                    blocks.setdefault((m.group(1), m.group(2)), (_display_path(tf), line))
            self._blocks[d] = blocks
        return blocks.get((rtype, name))


def _display_path(path: Path) -> str:
    """Relative to the working directory when below it (what CI annotations expect)."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return os.path.normpath(str(path)).replace(os.sep, "/")


# --------------------------------------------------------------------------- small helpers


def normalise(provider: str, code: str) -> str:
    if provider == "azure":
        return code.replace(" ", "").lower()
    if provider == "gcp":
        return code.lower()
    return code


def zone_region(provider: str, zone: str) -> str | None:
    m = (_GCP_ZONE if provider == "gcp" else _AWS_AZ).match(zone.lower())
    if m:
        return m.group(1)
    return None


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


def _sub(
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


def _block(ch: Change, key: str) -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    return _sub(ch.after, ch.unknown, ch.config.get("expressions") or {}, key)


# --------------------------------------------------------------------------- AWS


def aws_region(a: PlanAdapter, ch: Change, role: str = "primary", zone_attr: str = "") -> Location:
    region = a.own_or_provider(ch, "region", "region")
    zone = ch.get(zone_attr) if zone_attr else None
    zone = zone if isinstance(zone, str) and zone else None
    if not region.known:
        if zone:  # an availability zone pins the region even when the provider block does not
            return Location(zone_region("aws", zone), role=role, zone=zone, detail=f"availability zone {zone}")
        return Location(None, role=role, detail=region.why)
    return Location(str(region.value), role=role, zone=zone, detail=region.why)


def _aws_simple(role: str = "primary", zone_attr: str = "") -> Extractor:
    def extract(a: PlanAdapter, ch: Change) -> list[Location]:
        return [aws_region(a, ch, role, zone_attr)]

    return extract


def _s3_replication_rules(
    a: PlanAdapter,
    ch: Change,
    sources: list[str],
    container: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
    key: str,
) -> None:
    """One replica location per enabled rule destination, linked to the source bucket(s)."""
    values, marks, exprs = container
    for rule, rmark, rexpr in _sub(values, marks, exprs, key):
        if rule.get("status") not in (None, "Enabled"):
            continue
        label = f"replication rule {rule.get('id') or '?'}"
        for dest, _, dexpr in _sub(rule, rmark, rexpr, "destination"):
            arn = dest.get("bucket")
            if isinstance(arn, str) and arn:
                name = arn.rsplit(":", 1)[-1]
                like = a.by_value("aws_s3_bucket", "bucket", name)
                why = f"{label} -> bucket {name}"
                if not like:
                    why += ": not in this plan, so its region is unknown"
            else:
                like = a.references(ch, dexpr.get("bucket"), "aws_s3_bucket")
                why = f"{label} -> destination bucket"
                if not like:
                    why += " is computed: region unknown"
            loc = Location(None, role="replica", detail=why)
            a.link(Link(ch, loc, attach_to=sources, like=like, fallback_kind="s3.replication"))


def _s3_bucket(a: PlanAdapter, ch: Change) -> list[Location]:
    # the inline replication_configuration block (provider v3; deprecated, still planned)
    for container in _block(ch, "replication_configuration"):
        _s3_replication_rules(a, ch, [ch.address], container, "rules")
    return [aws_region(a, ch)]


def _s3_replication(a: PlanAdapter, ch: Change) -> None:
    """aws_s3_bucket_replication_configuration: replica locations of the source bucket."""
    source = ch.get("bucket")
    sources = a.by_value("aws_s3_bucket", "bucket", source) if isinstance(source, str) else []
    sources = sources or a.references(ch, a.expr(ch, "bucket"), "aws_s3_bucket")
    _s3_replication_rules(a, ch, sources, (ch.after, ch.unknown, ch.config.get("expressions") or {}), "rule")


def _rds(attr: str, rtype: str, id_attr: str) -> Extractor:
    """RDS instances and clusters; a read replica also holds its source's data set."""

    def extract(a: PlanAdapter, ch: Change) -> list[Location]:
        own = aws_region(a, ch)
        source = ch.get(attr)
        if isinstance(source, str) and source:
            region = arn_region(source)
            replica = Location(own.region, role="replica", zone=own.zone, detail=f"read replica of {source}")
            if region is not None:
                return [replica, Location(region, role="primary", detail=f"source of this read replica: {source}")]
            sources = a.by_value(rtype, id_attr, source)
            if sources:
                a.link(
                    Link(
                        ch, Location(own.region, role="replica", detail=f"read replica {ch.address}"), attach_to=sources
                    )
                )
            return [replica]
        if ch.is_unknown(attr):
            sources = a.references(ch, a.expr(ch, attr), rtype)
            replica = Location(own.region, role="replica", zone=own.zone, detail=own.detail)
            if sources:
                a.link(
                    Link(
                        ch, Location(own.region, role="replica", detail=f"read replica {ch.address}"), attach_to=sources
                    )
                )
                a.link(Link(ch, Location(None, role="primary", detail="source of this read replica"), like=sources))
                return [replica]
            return [replica, Location(None, role="primary", detail="source of this read replica is computed: unknown")]
        return [own]

    return extract


def _dynamodb_table(a: PlanAdapter, ch: Change) -> list[Location]:
    locs = [aws_region(a, ch)]
    for rep, mark, _ in _block(ch, "replica"):
        region = rep.get("region_name")
        if isinstance(region, str) and region:
            locs.append(Location(region, role="replica", detail="replica block"))
        else:
            why = "computed" if mark.get("region_name") else "missing"
            locs.append(Location(None, role="replica", detail=f"replica block: region_name {why}, location unknown"))
    if ch.is_unknown("replica"):
        locs.append(Location(None, role="replica", detail="replica blocks are computed: location unknown"))
    return locs


def _linked_copy(attr: str, rtype: str, fallback: str, role: str = "replica") -> LinkExtractor:
    """A resource that keeps a copy of another planned resource's data in its own region."""

    def extract(a: PlanAdapter, ch: Change) -> None:
        own = aws_region(a, ch, role)
        loc = Location(own.region, role=role, zone=own.zone, detail=f"{ch.type} {ch.address} ({own.detail})")
        a.link(Link(ch, loc, attach_to=a.references(ch, a.expr(ch, attr), rtype), fallback_kind=fallback))

    return extract


def _efs_replication(a: PlanAdapter, ch: Change) -> None:
    sources = a.references(ch, a.expr(ch, "source_file_system_id"), "aws_efs_file_system")
    for dest, mark, _ in _block(ch, "destination"):
        region = dest.get("region")
        zone = dest.get("availability_zone_name")
        if isinstance(region, str) and region:
            loc = Location(region, role="replica", detail="EFS replication destination")
        elif isinstance(zone, str) and zone:
            loc = Location(zone_region("aws", zone), role="replica", zone=zone, detail="EFS replication destination")
        elif mark.get("region") or mark.get("availability_zone_name"):
            loc = Location(None, role="replica", detail="EFS replication destination is computed: unknown")
        else:
            own = aws_region(a, ch, "replica")
            loc = Location(own.region, role="replica", detail=f"EFS replication destination ({own.detail})")
        a.link(Link(ch, loc, attach_to=sources, fallback_kind="efs.replication"))


def _backup_plan(a: PlanAdapter, ch: Change) -> list[Location]:
    """A backup plan's rules back up into vaults in its own region; each `copy_action`
    copies the recovery points to another vault, and that vault's region is where they go."""
    locs = [aws_region(a, ch, "backup")]
    for rule, rmark, rexpr in _block(ch, "rule"):
        label = f"backup rule {rule.get('rule_name') or '?'} copies recovery points to"
        for copy, _, cexpr in _sub(rule, rmark, rexpr, "copy_action"):
            arn = copy.get("destination_vault_arn")
            if isinstance(arn, str) and arn:
                region = arn_region(arn)
                why = f"{label} vault {arn.rsplit(':', 1)[-1]}" + ("" if region else f": no region in {arn!r}")
                locs.append(Location(region, role="backup", detail=why))
                continue
            vaults = a.references(ch, cexpr.get("destination_vault_arn"), "aws_backup_vault")
            if vaults:  # the vault is planned too: its region, once every resource is read
                a.link(Link(ch, Location(None, role="backup", detail=f"{label} a vault"), like=vaults))
            else:
                locs.append(Location(None, role="backup", detail=f"{label} a vault whose ARN is computed: unknown"))
    return locs


def _ebs_snapshot_copy(a: PlanAdapter, ch: Change) -> list[Location]:
    locs = [aws_region(a, ch, "backup")]
    src = ch.get("source_region")
    if isinstance(src, str) and src:
        locs.append(Location(src, role="backup", detail="region of the source snapshot"))
    return locs


# --------------------------------------------------------------------------- Azure


def paired_region(catalog: Catalog, code: str) -> str | None:
    """The Azure paired region of a location (where GRS/GZRS and geo backups keep their copy)."""
    place = catalog.resolve("azure", code)
    return place.paired_region or None if place.known else None


def azure_location(ch: Change, attr: str = "location", role: str = "primary") -> Location:
    value = ch.get(attr)
    if isinstance(value, str) and value:
        return Location(normalise("azure", value), role=role, detail=f"{attr} {value}")
    if ch.is_unknown(attr):
        return Location(None, role=role, detail=f"{attr} is computed: known only after apply")
    return Location(None, role=role, detail=f"no {attr} in the plan")


def _azure_simple(role: str = "primary") -> Extractor:
    def extract(a: PlanAdapter, ch: Change) -> list[Location]:
        return [azure_location(ch, role=role)]

    return extract


def _storage_account(a: PlanAdapter, ch: Change) -> list[Location]:
    primary = azure_location(ch)
    rtype = ch.get("account_replication_type")
    if not isinstance(rtype, str):
        return [primary, Location(None, role="secondary", detail="account_replication_type is computed: unknown")]
    if rtype.upper().replace("-", "").removeprefix("STANDARD_") in AZURE_GEO_REPLICATION:
        return [primary, a.paired(primary, "secondary", f"account_replication_type {rtype}")]
    return [primary]


def _mssql_database(a: PlanAdapter, ch: Change) -> list[Location]:
    """A database lives where its server is; geo-redundant backups (the default) in the pair."""
    servers = a.references(ch, a.expr(ch, "server_id"), "azurerm_mssql_server")
    sat = ch.get("storage_account_type")
    geo = sat in (None, "Geo", "GeoZone") and not (sat is None and "storage_account_type" in ch.after)
    if not servers:
        locs = [Location(None, detail="server_id is not a planned server: location unknown")]
        if geo:
            locs.append(Location(None, role="backup", detail="geo-redundant backups of a server of unknown location"))
        return locs
    a.link(Link(ch, Location(None, detail="on server"), like=servers))
    if geo:
        why = f"storage_account_type {sat or 'Geo (default)'}: geo-redundant backups"
        a.link(Link(ch, Location(None, role="backup", detail=why), like=servers, paired=True))
    return []


def _cosmosdb(a: PlanAdapter, ch: Change) -> list[Location]:
    locs = []
    for geo, _, _ in _block(ch, "geo_location"):
        region = geo.get("location")
        role = "primary" if geo.get("failover_priority") == 0 else "replica"
        if isinstance(region, str) and region:
            locs.append(Location(normalise("azure", region), role=role, detail="geo_location"))
        else:
            locs.append(Location(None, role=role, detail="geo_location is computed: unknown"))
    return locs or [azure_location(ch)]


def _geo_backup(flag: str, default: bool) -> Extractor:
    """Servers and vaults whose backups go to the paired region when a flag says so."""

    def extract(a: PlanAdapter, ch: Change) -> list[Location]:
        primary = azure_location(ch)
        value = ch.get(flag)
        if value is None and ch.is_unknown(flag):
            return [primary, Location(None, role="backup", detail=f"{flag} is computed: unknown")]
        on = default if value is None else value
        if on is True or (isinstance(on, str) and on.lower().startswith("geo")):
            shown = value if value is not None else "(default)"
            return [primary, a.paired(primary, "backup", f"{flag} {shown}")]
        return [primary]

    return extract


# --------------------------------------------------------------------------- Google Cloud


def gcp_region(a: PlanAdapter, ch: Change, attr: str = "region", role: str = "primary") -> Location:
    value = a.own_or_provider(ch, attr, "region")
    if not value.known:
        return Location(None, role=role, detail=value.why)
    return Location(normalise("gcp", str(value.value)), role=role, detail=value.why)


def gcp_zone(a: PlanAdapter, ch: Change, attr: str = "zone", role: str = "primary") -> Location:
    value = a.own_or_provider(ch, attr, "zone")
    if not value.known:
        return Location(None, role=role, detail=value.why)
    zone = normalise("gcp", str(value.value))
    return Location(zone_region("gcp", zone), role=role, zone=zone, detail=value.why)


def gcp_location(a: PlanAdapter, ch: Change, attr: str = "location", role: str = "primary") -> Location:
    """A `location` that may be a region, a zone, a dual-region or a multi-region."""
    value = ch.get(attr)
    if isinstance(value, str) and value:
        code = value.lower()
        region = zone_region("gcp", code)
        if region:
            return Location(region, role=role, zone=code, detail=f"{attr} {value}")
        return Location(code, role=role, detail=f"{attr} {value}")
    if ch.is_unknown(attr):
        return Location(None, role=role, detail=f"{attr} is computed: known only after apply")
    return gcp_region(a, ch, "region", role)


def _gcs_bucket(a: PlanAdapter, ch: Change) -> list[Location]:
    loc = gcp_location(a, ch)
    placements = _block(ch, "custom_placement_config")
    if not placements:
        return [loc]
    locs: list[Location] = []
    for cfg, _, _ in placements:
        data = cfg.get("data_locations")
        if isinstance(data, list) and data and all(isinstance(d, str) for d in data):
            locs.extend(Location(d.lower(), detail=f"custom dual-region data location {d}") for d in data)
        else:
            locs.append(Location(None, detail="custom_placement_config data_locations are computed: unknown"))
    return locs


def _gce_zonal(a: PlanAdapter, ch: Change) -> list[Location]:
    return [gcp_zone(a, ch)]


def _gce_region_disk(a: PlanAdapter, ch: Change) -> list[Location]:
    locs = [gcp_region(a, ch)]
    for z in ch.get("replica_zones") or ():
        if isinstance(z, str):
            zone = z.rsplit("/", 1)[-1].lower()
            locs.append(Location(zone_region("gcp", zone), role="replica", zone=zone, detail="replica zone"))
    return locs


def _gce_snapshot(a: PlanAdapter, ch: Change) -> list[Location]:
    stored = ch.get("storage_locations")
    if isinstance(stored, list) and stored:
        return [Location(str(s).lower(), role="backup", detail="storage_locations") for s in stored]
    return [Location(None, role="backup", detail="storage_locations not set: Google picks a multi-region at apply")]


def _cloudsql(a: PlanAdapter, ch: Change) -> list[Location]:
    locs = [gcp_region(a, ch)]
    for settings, smark, sexpr in _block(ch, "settings"):
        for backup, _, _ in _sub(settings, smark, sexpr, "backup_configuration"):
            where = backup.get("location")
            if backup.get("enabled") is not False and isinstance(where, str) and where:
                locs.append(Location(where.lower(), role="backup", detail="backup_configuration location"))
    masters = a.references(ch, a.expr(ch, "master_instance_name"), "google_sql_database_instance")
    if masters:
        loc = Location(locs[0].region, role="replica", detail=f"read replica {ch.address}")
        a.link(Link(ch, loc, attach_to=masters))
    return locs


def _gcp_located(attr: str = "location") -> Extractor:
    def extract(a: PlanAdapter, ch: Change) -> list[Location]:
        return [gcp_location(a, ch, attr)]

    return extract


def _gcp_regional(a: PlanAdapter, ch: Change) -> list[Location]:
    return [gcp_region(a, ch)]


# --------------------------------------------------------------------------- registry

#: Terraform type -> (our kind, how to find its locations). The README lists these.
TYPES: dict[str, tuple[str, Extractor]] = {
    # AWS
    "aws_s3_bucket": ("s3.bucket", _s3_bucket),
    "aws_instance": ("ec2.instance", _aws_simple(zone_attr="availability_zone")),
    "aws_ebs_volume": ("ec2.volume", _aws_simple(zone_attr="availability_zone")),
    "aws_ebs_snapshot": ("ec2.snapshot", _aws_simple(role="backup")),
    "aws_ebs_snapshot_copy": ("ec2.snapshot", _ebs_snapshot_copy),
    "aws_db_instance": ("rds.instance", _rds("replicate_source_db", "aws_db_instance", "identifier")),
    "aws_rds_cluster": ("rds.cluster", _rds("replication_source_identifier", "aws_rds_cluster", "cluster_identifier")),
    "aws_dynamodb_table": ("dynamodb.table", _dynamodb_table),
    "aws_lambda_function": ("lambda.function", _aws_simple()),
    "aws_efs_file_system": ("efs.filesystem", _aws_simple()),
    "aws_backup_vault": ("backup.vault", _aws_simple(role="backup")),
    "aws_backup_plan": ("backup.plan", _backup_plan),
    # Azure: kinds are the ARM resource types, as the live Azure adapter reports them
    "azurerm_storage_account": ("microsoft.storage/storageaccounts", _storage_account),
    "azurerm_linux_virtual_machine": ("microsoft.compute/virtualmachines", _azure_simple()),
    "azurerm_windows_virtual_machine": ("microsoft.compute/virtualmachines", _azure_simple()),
    "azurerm_virtual_machine": ("microsoft.compute/virtualmachines", _azure_simple()),
    "azurerm_managed_disk": ("microsoft.compute/disks", _azure_simple()),
    "azurerm_snapshot": ("microsoft.compute/snapshots", _azure_simple(role="backup")),
    "azurerm_mssql_server": ("microsoft.sql/servers", _azure_simple()),
    "azurerm_mssql_database": ("microsoft.sql/servers/databases", _mssql_database),
    "azurerm_cosmosdb_account": ("microsoft.documentdb/databaseaccounts", _cosmosdb),
    "azurerm_kubernetes_cluster": ("microsoft.containerservice/managedclusters", _azure_simple()),
    "azurerm_postgresql_flexible_server": (
        "microsoft.dbforpostgresql/flexibleservers",
        _geo_backup("geo_redundant_backup_enabled", False),
    ),
    "azurerm_recovery_services_vault": ("microsoft.recoveryservices/vaults", _geo_backup("storage_mode_type", True)),
    "azurerm_linux_web_app": ("microsoft.web/sites", _azure_simple()),
    "azurerm_windows_web_app": ("microsoft.web/sites", _azure_simple()),
    "azurerm_linux_function_app": ("microsoft.web/sites", _azure_simple()),
    "azurerm_windows_function_app": ("microsoft.web/sites", _azure_simple()),
    # Google Cloud
    "google_storage_bucket": ("storage.bucket", _gcs_bucket),
    "google_compute_instance": ("compute.instance", _gce_zonal),
    "google_compute_disk": ("compute.disk", _gce_zonal),
    "google_compute_region_disk": ("compute.disk", _gce_region_disk),
    "google_compute_snapshot": ("compute.snapshot", _gce_snapshot),
    "google_sql_database_instance": ("cloudsql.instance", _cloudsql),
    "google_bigquery_dataset": ("bigquery.dataset", _gcp_located()),
    "google_container_cluster": ("gke.cluster", _gcp_located()),
    "google_cloud_run_service": ("run.service", _gcp_located()),
    "google_cloud_run_v2_service": ("run.service", _gcp_located()),
    "google_cloudfunctions2_function": ("functions.function", _gcp_located()),
    "google_cloudfunctions_function": ("functions.function", _gcp_regional),
}

#: Types that add locations to another planned resource (their source) rather than being one;
#: when the source is not in the plan they stand alone under the given kind.
LINKS: dict[str, LinkExtractor] = {
    "aws_s3_bucket_replication_configuration": _s3_replication,
    "aws_dynamodb_table_replica": _linked_copy("global_table_arn", "aws_dynamodb_table", "dynamodb.table"),
    "aws_efs_replication_configuration": _efs_replication,
    "aws_db_instance_automated_backups_replication": _linked_copy(
        "source_db_instance_arn", "aws_db_instance", "rds.backup_replication", role="backup"
    ),
}

#: Everything the gate models, for the README and tests.
SUPPORTED_TYPES = tuple(sorted([*TYPES, *LINKS]))
