"""The rule engine: declarative YAML rules, compiled once, evaluated per location.

Rules see resources, locations and places (catalog entries), never SDK objects.
A rule file is validated node by node so that an error can name the file and
line. Conditions compile to closures at load time, because the pre-deploy gate
evaluates every rule against tens of thousands of locations.
"""

from __future__ import annotations

import fnmatch
import functools
import importlib
import re
import string
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import yamlnodes
from .geography import Catalog
from .model import (
    SEVERITIES,
    Finding,
    Location,
    Place,
    ResolvedLocation,
    Resource,
    Severity,
)

RULE_FILE_VERSION = 1

Ctx = tuple[Resource, Location, Place]
Predicate = Callable[[Ctx], bool]


class RuleError(Exception):
    """A rule file is broken. The message names file, line and problem."""

    def __init__(self, message: str) -> None:
        # Problems quote the user's text: escape line breaks and control
        # characters so that the error stays one line on a terminal.
        super().__init__("".join(c if c.isprintable() else repr(c)[1:-1] for c in message))


def _default_rules_dir() -> Path:
    # Installed wheels carry the rules as `residency_audit/_rules`; an editable
    # install maps that package onto the repository's top-level `rules/`.
    return Path(str(importlib.import_module("residency_audit._rules").__file__)).parent


# --------------------------------------------------------------------------- fields

_RESOURCE_FIELDS: dict[str, Callable[[Resource], Any]] = {
    "provider": lambda r: r.provider,
    "kind": lambda r: r.kind,
    "id": lambda r: r.id,
    "name": lambda r: r.name,
    "source": lambda r: r.source,
    "category": lambda r: r.category or "unknown",
    "judged": lambda r: r.judged,
}
_LOCATION_FIELDS: dict[str, Callable[[Location], Any]] = {
    "region": lambda loc: loc.region,
    "role": lambda loc: loc.role,
    "zone": lambda loc: loc.zone,
    "detail": lambda loc: loc.detail,
}
_PLACE_FIELDS: dict[str, Callable[[Place], Any]] = {
    "code": lambda p: p.code,
    "name": lambda p: p.name,
    "kind": lambda p: p.kind,
    "countries": lambda p: list(p.countries),
    "in_eu": lambda p: p.in_eu,
    "known": lambda p: p.known,
    "members": lambda p: list(p.members),
    "jurisdictions": lambda p: list(p.jurisdictions),
    "operator": lambda p: p.operator,
}
_OWNER_FIELDS: dict[str, Callable[[Resource], Any]] = {
    "owner.kind": lambda r: r.owner.kind,
    "owner.id": lambda r: r.owner.id,
    "owner.name": lambda r: r.owner.name,
    "owner.chain": lambda r: [n.id for n in r.owner.chain],
}

FIELDS = sorted(
    [f"resource.{k}" for k in _RESOURCE_FIELDS]
    + ["resource.tags.<key>", "resource.attributes.<key>"]
    + [f"location.{k}" for k in _LOCATION_FIELDS]
    + [f"place.{k}" for k in _PLACE_FIELDS]
    + list(_OWNER_FIELDS)
)


def _field_getter(path: str) -> Callable[[Ctx], Any] | None:
    head, _, rest = path.partition(".")
    if head == "resource":
        if rest.startswith("tags."):
            key = rest[5:]
            return lambda c: c[0].tags.get(key)
        if rest.startswith("attributes."):
            key = rest[11:]
            return lambda c: c[0].attributes.get(key)
        rget = _RESOURCE_FIELDS.get(rest)
        return (lambda c: rget(c[0])) if rget else None
    if head == "location":
        lget = _LOCATION_FIELDS.get(rest)
        return (lambda c: lget(c[1])) if lget else None
    if head == "place":
        pget = _PLACE_FIELDS.get(rest)
        return (lambda c: pget(c[2])) if pget else None
    if head == "owner":
        oget = _OWNER_FIELDS.get(path)
        return (lambda c: oget(c[0])) if oget else None
    return None


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    severity: Severity
    clause: str
    message: str
    when: Predicate
    overrides: tuple[str, ...] = ()
    file: str = ""
    line: int = 0
    tags: tuple[str, ...] = ()
    description: str = ""
    #: Resource kinds (globs) the rule applies to, and kinds it never applies to.
    #: Declared, like a Custodian policy's `resource:`, so that the engine picks
    #: the rules for a kind once instead of testing every rule on every location.
    resources: tuple[str, ...] = ("*",)
    exclude_resources: tuple[str, ...] = ()
    #: What `when` looks at ("resource", "location", "place"). A rule that reads
    #: only the place is decided once per place: a plan repeats a handful of regions.
    reads: frozenset[str] = frozenset({"resource", "location", "place"})

    def applies_to(self, kind: str) -> bool:
        return any(fnmatch.fnmatchcase(kind, g) for g in self.resources) and not any(
            fnmatch.fnmatchcase(kind, g) for g in self.exclude_resources
        )


@dataclass(slots=True)
class RuleSet:
    rules: list[Rule] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}


class _Where:
    """Builds `RuleError`s that point at a YAML node."""

    def __init__(self, file: str) -> None:
        self.file = file

    def error(self, node: yaml.Node | None, problem: str) -> RuleError:
        return RuleError(f"{yamlnodes.at(self.file, node)}: {problem}")


_scalar = yamlnodes.value


def _mapping(where: _Where, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    return yamlnodes.mapping(where.error, node, what)


_OPS = ("equals", "not_equals", "in", "not_in", "contains", "intersects", "matches", "glob", "exists")


def _compile_condition(where: _Where, node: yaml.Node, reads: set[str]) -> Predicate:
    """A condition as a closure; `reads` collects what it looks at (resource, location, place)."""
    m = _mapping(where, node, "condition")
    for combinator in ("all", "any"):
        if combinator in m:
            if len(m) != 1:
                raise where.error(node, f"'{combinator}' must stand alone in its mapping")
            _, seq = m[combinator]
            if not isinstance(seq, yaml.SequenceNode) or not seq.value:
                raise where.error(seq, f"'{combinator}' takes a non-empty list of conditions")
            parts = [_compile_condition(where, n, reads) for n in seq.value]
            if combinator == "all":
                return lambda c: all(p(c) for p in parts)
            return lambda c: any(p(c) for p in parts)
    if "not" in m:
        if len(m) != 1:
            raise where.error(node, "'not' must stand alone in its mapping")
        inner = _compile_condition(where, m["not"][1], reads)
        return lambda c: not inner(c)
    if "field" not in m:
        raise where.error(node, "a condition needs 'all', 'any', 'not' or 'field'")
    fnode = m["field"][1]
    path = _scalar(fnode)
    getter = _field_getter(str(path)) if isinstance(path, str) else None
    if getter is None:
        raise where.error(fnode, f"unknown field '{path}' (known: {', '.join(FIELDS)})")
    head = str(path).split(".", 1)[0]
    # A kind's category is the same for every record of it: a rule that reads only the
    # place and the category is still decided once per (place, category).
    reads.add("category" if path == "resource.category" else "resource" if head == "owner" else head)
    ops = [k for k in m if k != "field"]
    if len(ops) != 1 or ops[0] not in _OPS:
        raise where.error(node, f"a field condition needs exactly one of: {', '.join(_OPS)}")
    op = ops[0]
    vnode = m[op][1]
    value = _scalar(vnode)
    if op in ("in", "not_in") and path in _LIST_FIELDS:
        raise where.error(
            m[op][0], f"'{op}' tests one value, and {path} is a list: use 'intersects' (or 'contains' for one value)"
        )
    return _leaf(where, vnode, getter, op, value)


#: Fields whose value is a list: `in`/`not_in` (one value among several) cannot apply to them.
_LIST_FIELDS = frozenset({"place.countries", "place.members", "place.jurisdictions", "owner.chain"})


def _leaf(where: _Where, vnode: yaml.Node, get: Callable[[Ctx], Any], op: str, value: Any) -> Predicate:
    if op == "equals":
        return lambda c: get(c) == value
    if op == "not_equals":
        return lambda c: get(c) != value
    if op in ("in", "not_in", "intersects"):
        if not isinstance(value, list) or any(isinstance(v, list | dict) for v in value):
            raise where.error(vnode, f"'{op}' takes a list of plain values")
        values = frozenset(str(v).lower() if isinstance(v, str) else v for v in value)

        def norm(x: Any) -> Any:
            return x.lower() if isinstance(x, str) else x

        def among(c: Ctx) -> bool:
            got = get(c)
            if isinstance(got, list | dict | set):  # an attribute holding a list: not one of the values
                return False
            return norm(got) in values

        if op == "in":
            return among
        if op == "not_in":
            return lambda c: not among(c)
        return lambda c: any(norm(x) in values for x in (get(c) or ()))
    if op == "contains":

        def contains(c: Ctx) -> bool:
            got = get(c)
            if isinstance(got, str):  # substring test only for a string value
                return isinstance(value, str) and value in got
            try:
                return value in (got or ())
            except TypeError:  # e.g. an unhashable value against a set
                return False

        return contains
    if op == "matches":
        try:
            rx = re.compile(str(value))
        except re.error as exc:
            raise where.error(vnode, f"bad regular expression: {exc}") from None
        return lambda c: get(c) is not None and rx.search(str(get(c))) is not None
    if op == "glob":
        pattern = str(value)
        return lambda c: get(c) is not None and fnmatch.fnmatchcase(str(get(c)), pattern)
    if op == "exists":
        want = bool(value)
        return lambda c: (get(c) not in (None, "", [], ())) is want
    raise where.error(vnode, f"unknown operator '{op}'")  # pragma: no cover


_RULE_KEYS = {
    "id",
    "title",
    "severity",
    "clause",
    "message",
    "when",
    "overrides",
    "tags",
    "description",
    "resources",
    "exclude_resources",
}
_FORMATTER = string.Formatter()


def _check_message(where: _Where, node: yaml.Node, template: str) -> None:
    try:
        _Template(template)
    except TemplateError as exc:
        raise where.error(node, f"bad message template: {exc}") from None


def _parse_file(path: Path) -> list[Rule]:
    try:
        return _parse_rules(path)
    except yaml.YAMLError as exc:  # from constructing a value, e.g. an unknown !tag
        raise yamlnodes.invalid(str(path), exc, RuleError) from None
    except RecursionError:
        raise RuleError(f"{path}: conditions nested too deeply") from None


def _parse_rules(path: Path) -> list[Rule]:
    where = _Where(str(path))
    try:
        yamlnodes.check_size(path, RuleError)
        text = path.read_text("utf-8")
    except OSError as exc:
        raise RuleError(f"{path}: cannot read rule file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise RuleError(f"{path}: not UTF-8 text (invalid byte at offset {exc.start})") from None
    root = yamlnodes.compose(text, str(path), RuleError)
    if root is None:
        raise RuleError(f"{path}: empty rule file")
    top = _mapping(where, root, "rule file")
    unknown = set(top) - {"version", "rules", "profile", "description"}
    if unknown:
        key = sorted(unknown)[0]
        raise where.error(top[key][0], f"unknown top-level key '{key}'")
    if "version" not in top:
        raise where.error(root, "missing 'version' (expected 1)")
    if _scalar(top["version"][1]) != RULE_FILE_VERSION:
        raise where.error(top["version"][1], f"unsupported version (expected {RULE_FILE_VERSION})")
    if "rules" not in top:
        raise where.error(root, "missing 'rules' list")
    seq = top["rules"][1]
    if not isinstance(seq, yaml.SequenceNode):
        raise where.error(seq, "'rules' must be a list")
    out = []
    for rnode in seq.value:
        r = _mapping(where, rnode, "rule")
        extra = set(r) - _RULE_KEYS
        if extra:
            key = sorted(extra)[0]
            raise where.error(r[key][0], f"unknown rule key '{key}' (allowed: {', '.join(sorted(_RULE_KEYS))})")
        for required in ("id", "severity", "when", "message"):
            if required not in r:
                raise where.error(rnode, f"rule is missing '{required}'")
        rid = _scalar(r["id"][1])
        if not isinstance(rid, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", rid):
            raise where.error(r["id"][1], "rule id must be a word of letters, digits, '.', '_' or '-'")
        sev = _scalar(r["severity"][1])
        if sev not in SEVERITIES:
            raise where.error(r["severity"][1], f"severity must be one of {', '.join(SEVERITIES)}")
        msg = _scalar(r["message"][1])
        if not isinstance(msg, str):
            raise where.error(r["message"][1], "message must be a string")
        _check_message(where, r["message"][1], msg)
        overrides: tuple[str, ...] = ()
        if "overrides" in r:
            ov = _scalar(r["overrides"][1])
            if not isinstance(ov, list) or not all(isinstance(x, str) for x in ov):
                raise where.error(r["overrides"][1], "overrides must be a list of rule ids")
            overrides = tuple(ov)
        tags = _scalar(r["tags"][1]) if "tags" in r else []
        if not isinstance(tags, list) or any(isinstance(t, list | dict) for t in tags):
            raise where.error(r["tags"][1], "tags must be a list of words")
        kinds: dict[str, tuple[str, ...]] = {}
        for key in ("resources", "exclude_resources"):
            if key in r:
                globs = _scalar(r[key][1])
                if not isinstance(globs, list) or not globs or not all(isinstance(g, str) and g for g in globs):
                    raise where.error(r[key][1], f"{key} must be a non-empty list of resource kind globs")
                kinds[key] = tuple(globs)
        reads: set[str] = set()
        out.append(
            Rule(
                id=rid,
                title=str(_scalar(r["title"][1])) if "title" in r else rid,
                severity=sev,
                clause=str(_scalar(r["clause"][1])) if "clause" in r else "",
                message=msg,
                when=_compile_condition(where, r["when"][1], reads),
                reads=frozenset(reads),
                overrides=overrides,
                file=str(path),
                line=rnode.start_mark.line + 1,
                tags=tuple(str(t) for t in tags or ()),
                description=str(_scalar(r["description"][1])) if "description" in r else "",
                resources=kinds.get("resources", ("*",)),
                exclude_resources=kinds.get("exclude_resources", ()),
            )
        )
    return out


@functools.lru_cache(maxsize=1)
def builtin_rules() -> RuleSet:
    """The tool's own rules (`builtin/rules.yaml`): always there, whatever `--rules` loads."""
    return load_rules([Path(__file__).parent / "builtin" / "rules.yaml"])


def load_rules(paths: Sequence[str | Path] | None = None) -> RuleSet:
    """Load rule files; a directory means every `*.yaml`/`*.yml` directly in it."""
    targets = [Path(p) for p in paths] if paths else [_default_rules_dir()]
    files: list[Path] = []
    for target in targets:
        if target.is_dir():
            files.extend(sorted([*target.glob("*.yaml"), *target.glob("*.yml")]))
        elif target.exists():
            files.append(target)
        else:
            raise RuleError(f"{target}: no such rule file or directory")
    if not files:
        raise RuleError(f"{', '.join(map(str, targets))}: no rule files (*.yaml) found")
    ruleset = RuleSet()
    seen: dict[str, Rule] = {}
    for f in files:
        for rule in _parse_file(f):
            if rule.id in seen:
                first = seen[rule.id]
                raise RuleError(f"{f}:{rule.line}: duplicate rule id '{rule.id}' (first at {first.file}:{first.line})")
            seen[rule.id] = rule
            ruleset.rules.append(rule)
        ruleset.files.append(str(f))
    if not ruleset.rules:
        raise RuleError(f"{', '.join(ruleset.files)}: no rules: an empty rule set would pass everything (fail closed)")
    for rule in ruleset.rules:
        for target_id in rule.overrides:
            if target_id not in seen:
                raise RuleError(f"{rule.file}:{rule.line}: rule '{rule.id}' overrides unknown rule '{target_id}'")
    return ruleset


# --------------------------------------------------------------------------- evaluation


class TemplateError(ValueError):
    """A message template uses something other than the documented fields."""


Getter = Callable[[Resource, Location, Place], Any]


def _join(value: Any) -> Any:
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else value


#: Every name a message template may use, and how it is read: nothing else is reachable
#: (a rule file is code from a pull request: no attribute or index traversal, so no
#: `{resource.__class__.__init__.__globals__...}` to the environment).
def _of_resource(get: Callable[[Resource], Any]) -> Getter:
    return lambda r, loc, p: get(r)


def _of_location(get: Callable[[Location], Any]) -> Getter:
    return lambda r, loc, p: get(loc)


def _of_place(get: Callable[[Place], Any]) -> Getter:
    return lambda r, loc, p: _join(get(p))


MESSAGE_FIELDS: dict[str, Getter] = {
    **{f"resource.{k}": _of_resource(g) for k, g in _RESOURCE_FIELDS.items()},
    **{f"location.{k}": _of_location(g) for k, g in _LOCATION_FIELDS.items()},
    **{f"place.{k}": _of_place(g) for k, g in _PLACE_FIELDS.items()},
    **{k: _of_resource(g) for k, g in _OWNER_FIELDS.items() if k != "owner.chain"},
    "countries": lambda r, loc, p: ", ".join(p.countries) if p.countries else "unknown country",
    "region": lambda r, loc, p: loc.region or "unknown",
    "role": lambda r, loc, p: loc.role,
}
#: `resource.tags[KEY]` and `resource.attributes[KEY]`: one mapping lookup, a missing key renders empty.
_KEYED = re.compile(r"resource\.(tags|attributes)\[([^\[\]{}]+)\]")
MESSAGE_NAMES = sorted([*MESSAGE_FIELDS, "resource.tags[KEY]", "resource.attributes[KEY]"])
_CONVERT: dict[str | None, Callable[[Any], str] | None] = {None: None, "s": str, "r": repr, "a": ascii}


def _getter(name: str) -> Getter:
    get = MESSAGE_FIELDS.get(name)
    if get is not None:
        return get
    m = _KEYED.fullmatch(name)
    if m is None:
        raise TemplateError(f"unknown field '{{{name}}}' (known: {', '.join(MESSAGE_NAMES)})")
    key = m.group(2)
    if m.group(1) == "tags":
        return lambda r, loc, p: r.tags.get(key)
    return lambda r, loc, p: _join(r.attributes.get(key))


class _Template:
    """A message template parsed once into literal text and field readers: a finding's message
    is rendered for every match (thousands in a plan), and only documented fields exist."""

    __slots__ = ("_parts",)

    def __init__(self, template: str) -> None:
        self._parts: list[tuple[str, Callable[[Resource, Location, Place], str]]] = []
        try:
            parsed = list(_FORMATTER.parse(template))
        except ValueError as exc:
            raise TemplateError(str(exc)) from None
        for literal, name, spec, conv in parsed:
            if name is None:
                self._parts.append((literal, _empty))
                continue
            if conv not in _CONVERT:
                raise TemplateError(f"unknown conversion '!{conv}' in '{{{name}}}'")
            if "{" in (spec or ""):
                raise TemplateError(f"nested fields in the format of '{{{name}}}'")
            try:
                format("", spec or "")
            except ValueError as exc:
                raise TemplateError(f"bad format '{spec}' in '{{{name}}}': {exc}") from None
            self._parts.append((literal, _piece(_getter(name), spec or "", _CONVERT[conv])))

    def render(self, resource: Resource, loc: Location, place: Place) -> str:
        return "".join([literal + piece(resource, loc, place) for literal, piece in self._parts])


def _empty(r: Resource, loc: Location, p: Place) -> str:
    return ""


def _piece(get: Getter, spec: str, convert: Callable[[Any], str] | None) -> Callable[[Resource, Location, Place], str]:
    """One field as text: None renders empty; a format spec applies to the text."""
    if convert is None and not spec:

        def plain(r: Resource, loc: Location, p: Place) -> str:
            value = get(r, loc, p)
            return "" if value is None else value if type(value) is str else str(value)

        return plain

    def piece(r: Resource, loc: Location, p: Place) -> str:
        value = get(r, loc, p)
        text = "" if value is None else str(value)
        return format(convert(text) if convert is not None else text, spec)

    return piece


_NOWHERE = (Location(region=None, detail="no location reported"),)


class _KindRules:
    """The rules for one resource kind, with the place-only ones remembered per place.

    "Place-only" includes the resource's category, which is fixed per kind (one `_KindRules`
    serves one kind), so the memo is keyed by place and category.
    """

    __slots__ = ("_memo", "_place_only", "_templates", "rules")

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self._templates: dict[str, _Template] = {}
        self._place_only = [r.reads <= {"place", "category"} for r in rules]
        # (id(place), category) -> (place, the place-only rules' verdicts); holding the place keeps its id unique
        self._memo: dict[tuple[int, str], tuple[Place, list[bool | None]]] = {}

    def template(self, rule: Rule) -> _Template:
        t = self._templates.get(rule.id)
        if t is None:
            t = self._templates[rule.id] = _Template(rule.message)
        return t

    def matched(self, ctx: Ctx) -> list[Rule]:
        place = ctx[2]
        key = (id(place), ctx[0].category)
        hit = self._memo.get(key)
        if hit is None or hit[0] is not place:
            verdicts: list[bool | None] = [
                bool(rule.when(ctx)) if static else None
                for rule, static in zip(self.rules, self._place_only, strict=True)
            ]
            hit = self._memo[key] = (place, verdicts)
        return [
            rule
            for rule, verdict in zip(self.rules, hit[1], strict=True)
            if verdict or (verdict is None and rule.when(ctx))
        ]


#: Shared locations a `Judge` remembers: a plan has a few (its provider regions); a scan read
#: back from its spool has a fresh one per resource, which must not pile up.
_LOCATION_MEMO = 4_096


class Judge:
    """Judges one resource at a time (`evaluate` over a list, a spooled scan as it reads its
    resources back), keeping what is shared across resources: the rules per kind, the verdicts
    per place, and each shared `Location` resolved once."""

    __slots__ = ("_by_kind", "_catalog", "_memo", "_rules")

    def __init__(self, ruleset: RuleSet, catalog: Catalog) -> None:
        self._rules = ruleset.rules
        self._catalog = catalog
        self._by_kind: dict[str, _KindRules] = {}
        # Adapters share immutable Location objects (a plan's resources sit in a few provider regions):
        # resolve each once. id() is safe: the memo holds the location, so its id is not reused.
        self._memo: dict[tuple[int, str], tuple[Location, ResolvedLocation]] = {}

    def __call__(self, resource: Resource, findings: list[Finding]) -> list[ResolvedLocation]:
        """The resource's resolved locations; its findings are appended to `findings`."""
        memo = self._memo
        resolved = []
        for loc in resource.locations or _NOWHERE:
            key = (id(loc), resource.provider)
            hit = memo.get(key)
            if hit is None or hit[0] is not loc:
                if len(memo) >= _LOCATION_MEMO:  # resources read back from a spool share no Location
                    memo.clear()
                hit = memo[key] = (loc, ResolvedLocation(loc, self._catalog.resolve_location(resource.provider, loc)))
            resolved.append(hit[1])
        if resource.part_of:  # a setting of another record (a bucket policy): judged with it
            return resolved
        kr = self._by_kind.get(resource.kind)
        if kr is None:
            kr = self._by_kind[resource.kind] = _KindRules([r for r in self._rules if r.applies_to(resource.kind)])
        if not kr.rules:
            return resolved
        for rl in resolved:
            ctx: Ctx = (resource, rl.location, rl.place)
            matched = kr.matched(ctx)
            if not matched:
                continue
            overridden = {oid for rule in matched for oid in rule.overrides}
            for rule in matched:
                if rule.id in overridden:
                    continue
                findings.append(
                    Finding(
                        rule_id=rule.id,
                        severity=rule.severity,
                        resource=resource,
                        location=rl,
                        message=kr.template(rule).render(resource, rl.location, rl.place),
                        clause=rule.clause,
                        title=rule.title,
                    )
                )
        return resolved


def evaluate(
    resources: Iterable[Resource],
    ruleset: RuleSet,
    catalog: Catalog,
    resolved_out: MutableMapping[str, list[ResolvedLocation]] | None = None,
) -> list[Finding]:
    """Every rule against every location of every resource."""
    findings: list[Finding] = []
    judge = Judge(ruleset, catalog)
    for resource in resources:
        resolved = judge(resource, findings)
        if resolved_out is not None:
            resolved_out[resource.id] = resolved
    return findings
