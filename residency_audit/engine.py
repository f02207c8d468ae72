"""The rule engine: declarative YAML rules, compiled once, evaluated per location.

Rules see resources, locations and places (catalog entries), never SDK objects.
A rule file is validated node by node so that an error can name the file and
line. Conditions compile to closures at load time, because the pre-deploy gate
evaluates every rule against tens of thousands of locations.
"""

from __future__ import annotations

import fnmatch
import importlib
import re
import string
from collections.abc import Callable, Iterable, Sequence
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
    severity: str
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
    return _leaf(where, vnode, getter, op, value)


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

        if op == "in":
            return lambda c: norm(get(c)) in values
        if op == "not_in":
            return lambda c: norm(get(c)) not in values
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
        names = [f for _, f, _, _ in _FORMATTER.parse(template) if f is not None]
    except ValueError as exc:
        raise where.error(node, f"bad message template: {exc}") from None
    for name in names:
        if name.split(".")[0].split("[")[0] not in _MESSAGE_NAMES:
            raise where.error(
                node, f"message uses unknown name '{{{name}}}' (known: {', '.join(sorted(_MESSAGE_NAMES))})"
            )


_MESSAGE_NAMES = {"resource", "location", "place", "owner", "countries", "region", "role"}


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
    for rule in ruleset.rules:
        for target_id in rule.overrides:
            if target_id not in seen:
                raise RuleError(f"{rule.file}:{rule.line}: rule '{rule.id}' overrides unknown rule '{target_id}'")
    return ruleset


# --------------------------------------------------------------------------- evaluation


class _Attr:
    """Lets message templates say `{resource.name}` or `{resource.tags[env]}`."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __getattr__(self, name: str) -> Any:
        return getattr(self._obj, name)

    def __format__(self, spec: str) -> str:
        return format(str(self._obj), spec)


_RENDER_ERRORS = (AttributeError, KeyError, IndexError, TypeError, ValueError)


def _render(template: str, resource: Resource, loc: Location, place: Place) -> str:
    """The reference renderer (str.format); `_Template` does the same, compiled once per message."""
    countries = ", ".join(place.countries) if place.countries else "unknown country"
    try:
        return template.format(
            resource=_Attr(resource),
            location=_Attr(loc),
            place=_Attr(place),
            owner=_Attr(resource.owner),
            countries=countries,
            region=loc.region or "unknown",
            role=loc.role,
        )
    except _RENDER_ERRORS:
        return template


Getter = Callable[[Resource, Location, Place], Any]

#: The names a message may use; the four objects format as str(obj), like `_Attr`.
_ROOTS: dict[str, tuple[Getter, bool]] = {
    "resource": (lambda r, loc, p: r, True),
    "location": (lambda r, loc, p: loc, True),
    "place": (lambda r, loc, p: p, True),
    "owner": (lambda r, loc, p: r.owner, True),
    "countries": (lambda r, loc, p: ", ".join(p.countries) if p.countries else "unknown country", False),
    "region": (lambda r, loc, p: loc.region or "unknown", False),
    "role": (lambda r, loc, p: loc.role, False),
}
_FIELD = re.compile(r"([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*|\[[^\[\]]+\])*)")
_STEP = re.compile(r"\.([A-Za-z_]\w*)|\[([^\[\]]+)\]")


class _Template:
    """A message template parsed once: a finding's message is rendered for every match (thousands in a plan)."""

    __slots__ = ("_parts", "_template")

    def __init__(self, template: str) -> None:
        self._template = template
        self._parts: list[tuple[str, Callable[[Resource, Location, Place], str]]] | None = []
        try:
            for literal, name, spec, conv in _FORMATTER.parse(template):
                if name is None:
                    self._parts.append((literal, _empty))
                    continue
                piece = _piece(name, spec or "", conv)
                if piece is None:  # positional fields, nested specs...: str.format decides
                    self._parts = None
                    return
                self._parts.append((literal, piece))
        except ValueError:
            self._parts = None

    def render(self, resource: Resource, loc: Location, place: Place) -> str:
        if self._parts is None:
            return _render(self._template, resource, loc, place)
        try:
            return "".join([literal + piece(resource, loc, place) for literal, piece in self._parts])
        except _RENDER_ERRORS:
            return self._template


def _empty(r: Resource, loc: Location, p: Place) -> str:
    return ""


def _piece(name: str, spec: str, conv: str | None) -> Callable[[Resource, Location, Place], str] | None:
    m = _FIELD.fullmatch(name)
    if m is None or m.group(1) not in _ROOTS or "{" in spec or conv not in (None, "s", "r", "a"):
        return None
    root, as_text = _ROOTS[m.group(1)]
    steps: list[tuple[bool, str | int]] = []
    for attr, key in _STEP.findall(m.group(2)):
        if attr:
            steps.append((True, attr))
        else:
            steps.append((False, int(key) if key.isdigit() else key))  # as str.format reads an index
    convert = {None: None, "s": str, "r": repr, "a": ascii}[conv]
    text_of_object = as_text and not steps  # `{resource}` formats str(resource), as `_Attr` does

    def piece(r: Resource, loc: Location, p: Place) -> str:
        value = root(r, loc, p)
        for is_attr, step in steps:
            value = getattr(value, step) if is_attr else value[step]  # type: ignore[arg-type]
        if text_of_object:
            value = str(value)
        if convert is not None:
            value = convert(value)
        return format(value, spec)

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


def evaluate(
    resources: Iterable[Resource],
    ruleset: RuleSet,
    catalog: Catalog,
    resolved_out: dict[str, list[ResolvedLocation]] | None = None,
) -> list[Finding]:
    """Every rule against every location of every resource."""
    findings: list[Finding] = []
    by_kind: dict[str, _KindRules] = {}
    # Adapters share immutable Location objects (a plan's resources sit in a few provider regions):
    # resolve each once. id() is safe: the memo holds the location, so its id is not reused.
    memo: dict[tuple[int, str], tuple[Location, ResolvedLocation]] = {}
    for resource in resources:
        resolved = []
        for loc in resource.locations or _NOWHERE:
            key = (id(loc), resource.provider)
            hit = memo.get(key)
            if hit is None or hit[0] is not loc:
                hit = memo[key] = (loc, ResolvedLocation(loc, catalog.resolve_location(resource.provider, loc)))
            resolved.append(hit[1])
        if resolved_out is not None:
            resolved_out[resource.id] = resolved
        if resource.part_of:  # a setting of another record (a bucket policy): judged with it
            continue
        kr = by_kind.get(resource.kind)
        if kr is None:
            kr = by_kind[resource.kind] = _KindRules([r for r in ruleset.rules if r.applies_to(resource.kind)])
        if not kr.rules:
            continue
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
    return findings
