"""Which regions do an AWS Organization's service control policies really allow?

A pure evaluator over the policy documents (no SDK): the live reader in
`aws_org.py` and the tests feed it the same `Organization` tree.

AWS semantics (see data/aws-scp.yaml for sources):
- a request is allowed only if *every* level from the root through each OU to
  the account has a policy whose Allow matches it (AWS attaches `FullAWSAccess`
  by default; replacing it with an allow list narrows that level);
- any matching Deny at any level wins;
- SCPs never apply to the management account (nor when the SCP policy type is
  not enabled in the root).

Since the action space cannot be enumerated, the evaluator probes
representative actions (data/aws-scp.yaml) in every region of the partition.
Conditions are evaluated three-valued: `aws:RequestedRegion` is known for
each probe, any other key is unknown. A Deny that hinges on an unknown key
(Control Tower's `ArnNotLike aws:PrincipalARN ...`) leaves the region open to
whoever escapes the condition: that is reported as *conditional*, never as
denied (fail closed).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from ...geography import Catalog, default_catalog

# Three-valued logic: a statement matches (TRUE), does not (FALSE), or depends
# on request context the policies do not let us know (UNKNOWN).
FALSE, UNKNOWN, TRUE = 0, 1, 2

DENIED, CONDITIONAL, ALLOWED = "denied", "conditional", "allowed"

REGION_KEY = "aws:requestedregion"
FULL_ACCESS_ID = "p-FullAWSAccess"


class PolicyError(ValueError):
    """A policy document that is not valid JSON or not an IAM policy."""


# --------------------------------------------------------------------------- data


@functools.lru_cache(maxsize=1)
def probe_data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data", "aws-scp.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@dataclass(frozen=True, slots=True)
class Probe:
    action: str
    what: str
    category: str  # data | global
    service: str = ""
    name: str = ""
    kinds: tuple[str, ...] = ()
    generic: bool = False
    note: str = ""


def default_probes() -> list[Probe]:
    data = probe_data()
    out = [Probe(p["action"], p["what"], "data", generic=bool(p.get("generic", False))) for p in data["data_probes"]]
    out += [
        Probe(
            g["action"],
            g["name"],
            "global",
            service=g["service"],
            name=g["name"],
            kinds=tuple(g.get("kinds") or ()),
            note=g.get("data", ""),
        )
        for g in data["global_services"]
    ]
    return out


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class Statement:
    sid: str
    effect: str  # Allow | Deny
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    condition: dict[str, dict[str, tuple[str, ...]]]


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    name: str
    statements: tuple[Statement, ...]
    aws_managed: bool = False
    description: str = ""

    @property
    def control_tower(self) -> bool:
        """Control Tower names its SCPs `aws-guardrails-*`; its region deny has Sid GRREGIONDENY."""
        if self.name.startswith("aws-guardrails-"):
            return True
        return any(s.sid.upper() == "GRREGIONDENY" for s in self.statements)


@dataclass(slots=True)
class Node:
    """Root, OU or account, with the SCPs attached directly to it."""

    kind: str  # root | ou | account
    id: str
    name: str = ""
    policies: list[Policy] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    management: bool = False
    status: str = "ACTIVE"

    def label(self) -> str:
        if self.kind == "root":
            return f"root {self.id}"
        if self.kind == "ou":
            return f"OU {self.name or self.id} ({self.id})"
        return f"account {self.name or self.id} ({self.id})" if self.name else f"account {self.id}"


@dataclass(slots=True)
class Organization:
    id: str
    root: Node
    management_account_id: str = ""
    partition: str = "aws"
    #: False when the root does not have the SERVICE_CONTROL_POLICY type enabled: no SCP applies.
    scp_enabled: bool = True

    def accounts(self) -> Iterator[tuple[list[Node], Node]]:
        """Every account with its path of ancestors (root first)."""

        def walk(node: Node, path: list[Node]) -> Iterator[tuple[list[Node], Node]]:
            for child in node.children:
                if child.kind == "account":
                    yield [*path, node], child
                else:
                    yield from walk(child, [*path, node])

        yield from walk(self.root, [])

    def nodes(self) -> Iterator[tuple[list[Node], Node]]:
        """Every node with its ancestors (root first, node excluded)."""

        def walk(node: Node, path: list[Node]) -> Iterator[tuple[list[Node], Node]]:
            yield path, node
            for child in node.children:
                yield from walk(child, [*path, node])

        yield from walk(self.root, [])


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str | bool | int) for v in value):
        return tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in value)
    if isinstance(value, bool):
        return (str(value).lower(),)
    raise PolicyError(f"{what}: expected a string or a list of strings")


def parse_policy(content: str | dict[str, Any], policy_id: str = "", name: str = "", **kw: Any) -> Policy:
    """An SCP from its JSON document (as `DescribePolicy` returns it, a string)."""
    label = name or policy_id or "policy"
    if isinstance(content, str):
        try:
            doc = json.loads(content)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"{label}: policy document is not JSON: {exc.msg} (line {exc.lineno})") from None
    else:
        doc = content
    if not isinstance(doc, dict) or "Statement" not in doc:
        raise PolicyError(f"{label}: policy document has no Statement")
    raw = doc["Statement"]
    raw_list = [raw] if isinstance(raw, dict) else raw
    if not isinstance(raw_list, list):
        raise PolicyError(f"{label}: Statement must be an object or a list")
    statements = []
    for i, st in enumerate(raw_list):
        where = (
            f"{label}: statement {st.get('Sid') or i + 1}" if isinstance(st, dict) else f"{label}: statement {i + 1}"
        )
        if not isinstance(st, dict):
            raise PolicyError(f"{where}: not an object")
        effect = st.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise PolicyError(f"{where}: Effect must be Allow or Deny")
        if ("Action" in st) == ("NotAction" in st):
            raise PolicyError(f"{where}: needs exactly one of Action and NotAction")
        cond_raw = st.get("Condition") or {}
        if not isinstance(cond_raw, dict):
            raise PolicyError(f"{where}: Condition must be an object")
        condition: dict[str, dict[str, tuple[str, ...]]] = {}
        for op, pairs in cond_raw.items():
            if not isinstance(pairs, dict):
                raise PolicyError(f"{where}: Condition {op} must map keys to values")
            condition[str(op)] = {str(k): _strings(v, f"{where}: {op} {k}") for k, v in pairs.items()}
        statements.append(
            Statement(
                sid=str(st.get("Sid", "")),
                effect=effect,
                actions=_strings(st["Action"], f"{where}: Action") if "Action" in st else None,
                not_actions=_strings(st["NotAction"], f"{where}: NotAction") if "NotAction" in st else None,
                resources=_strings(st["Resource"], f"{where}: Resource") if "Resource" in st else None,
                not_resources=_strings(st["NotResource"], f"{where}: NotResource") if "NotResource" in st else None,
                condition=condition,
            )
        )
    return Policy(id=policy_id, name=name, statements=tuple(statements), **kw)


# --------------------------------------------------------------------------- matching


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM wildcards: `*` any run, `?` one character; nothing else is special."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(rx, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def _action_match(st: Statement, action: str) -> bool:
    if st.actions is not None:
        return any(glob_match(p, action, ignore_case=True) for p in st.actions)
    assert st.not_actions is not None
    return not any(glob_match(p, action, ignore_case=True) for p in st.not_actions)


def _resource_factor(st: Statement) -> int:
    if st.resources is not None:
        return TRUE if "*" in st.resources else UNKNOWN
    if st.not_resources is not None:
        return FALSE if "*" in st.not_resources else UNKNOWN
    return TRUE


_SET_PREFIX = re.compile(r"^(ForAnyValue|ForAllValues):", re.IGNORECASE)
_STRING_OPS = {
    "stringequals": (False, False, False),  # (negated, like, ignore_case)
    "stringnotequals": (True, False, False),
    "stringequalsignorecase": (False, False, True),
    "stringnotequalsignorecase": (True, False, True),
    "stringlike": (False, True, False),
    "stringnotlike": (True, True, False),
}


def _clause(op: str, key: str, values: tuple[str, ...], region: str) -> tuple[int, str]:
    """One operator/key pair against a request in `region`: (value, why)."""
    text = f"{op} {key} {list(values)}"
    if key.lower() != REGION_KEY:
        return UNKNOWN, text
    base = _SET_PREFIX.sub("", op)
    if base.lower().endswith("ifexists"):  # aws:RequestedRegion is in every request
        base = base[: -len("ifexists")]
    base_l = base.lower()
    if base_l == "null":
        # Null true means "the key is absent": never, for aws:RequestedRegion.
        want_absent = any(v.lower() == "true" for v in values)
        return (FALSE if want_absent else TRUE), text
    spec = _STRING_OPS.get(base_l)
    if spec is None or any("${" in v for v in values):
        return UNKNOWN, text  # an operator or policy variable we cannot judge: not proof of anything
    negated, like, ignore_case = spec
    if like:
        hit = next((v for v in values if glob_match(v, region, ignore_case)), None)
    elif ignore_case:
        hit = next((v for v in values if v.lower() == region.lower()), None)
    else:
        hit = next((v for v in values if v == region), None)
    matched = hit is not None
    result = (not matched) if negated else matched
    if hit is not None and hit != region:
        why = f"{op} {key}: '{region}' matches '{hit}'"
    elif hit is not None:
        why = f"{op} {key}: '{region}' is listed"
    else:
        why = f"{op} {key}: '{region}' is not in {list(values)}"
    return (TRUE if result else FALSE), why


def statement_applies(st: Statement, action: str, region: str) -> tuple[int, list[str], list[str]]:
    """Does `st` match a request for `action` in `region`?

    Returns (value, reasons it is FALSE, unknown clauses that make it UNKNOWN).
    """
    if not _action_match(st, action):
        field_ = "NotAction" if st.not_actions is not None else "Action"
        return FALSE, [f"{field_} excludes {action}"], []
    value = _resource_factor(st)
    falses: list[str] = []
    unknowns: list[str] = [] if value == TRUE else ["Resource is not '*'"]
    for op, pairs in st.condition.items():
        for key, values in pairs.items():
            v, why = _clause(op, key, values, region)
            if v == FALSE:
                falses.append(why)
            elif v == UNKNOWN:
                unknowns.append(why)
            value = min(value, v)
    return value, falses, unknowns


# --------------------------------------------------------------------------- evaluation


@dataclass(slots=True)
class Decision:
    status: str  # allowed | conditional | denied
    why: str
    escapes: tuple[str, ...] = ()  # conditions under which a Deny does not apply


def decide(path: list[Node], action: str, region: str) -> Decision:
    """The SCP decision for `action` in `region` for a principal at the end of `path`."""
    allow_min = TRUE
    missing: str = ""
    for node in path:
        level = FALSE
        for pol in node.policies:
            for st in pol.statements:
                if st.effect == "Allow":
                    level = max(level, statement_applies(st, action, region)[0])
        if level < allow_min:
            allow_min = level
            if level == FALSE:
                missing = node.label()
                break
    if allow_min == FALSE:
        return Decision(DENIED, f"no SCP at {missing} allows it (implicit deny)")
    deny_max = FALSE
    escapes: list[str] = []
    passed: list[str] = []
    for node in path:
        for pol in node.policies:
            for st in pol.statements:
                if st.effect != "Deny":
                    continue
                value, falses, unknowns = statement_applies(st, action, region)
                ref = f"'{pol.name or pol.id}'" + (f" ({st.sid})" if st.sid else "") + f" at {node.label()}"
                if value == TRUE:
                    return Decision(DENIED, f"denied by {ref}")
                if value == UNKNOWN:
                    deny_max = max(deny_max, UNKNOWN)
                    escapes.extend(f"{ref}: unless {u}" for u in unknowns)
                elif st.actions is not None and not _action_match(st, action):
                    continue
                elif falses:
                    passed.append(f"{ref} does not apply ({falses[0]})")
    if allow_min == UNKNOWN or deny_max == UNKNOWN:
        why = "; ".join(escapes) if escapes else "the only Allow depends on request context"
        return Decision(CONDITIONAL, f"a deny applies only conditionally: {why}", tuple(escapes))
    return Decision(ALLOWED, "; ".join(passed[:2]) if passed else "no SCP on the path denies it")


def partition_regions(partition: str, catalog: Catalog | None = None) -> list[str]:
    """Every region of a partition, from the geography catalog."""
    catalog = catalog or default_catalog()
    locs = (catalog.raw("aws").get("locations") or {}).items()
    return sorted(
        code for code, e in locs if e.get("partition", "aws") == partition and e.get("kind", "region") == "region"
    )


@dataclass(slots=True)
class AccountReport:
    """What the SCPs let one account do."""

    account: Node
    path: list[Node]
    #: "uncovered" reason when no SCP can apply (management account, SCPs disabled), else "".
    uncovered: str = ""
    #: region -> (status, detail) for data-holding actions (best status over the data probes)
    regions: dict[str, Decision] = field(default_factory=dict)
    #: region -> probes (actions) allowed or conditional there
    allowed_actions: dict[str, list[str]] = field(default_factory=dict)
    #: global-service probes allowed in the global region while generic actions are denied there
    exempt_services: list[Probe] = field(default_factory=list)
    control_tower: list[str] = field(default_factory=list)

    def open_regions(self) -> list[str]:
        return sorted(r for r, d in self.regions.items() if d.status != DENIED)


_RANK = {DENIED: 0, CONDITIONAL: 1, ALLOWED: 2}


def evaluate_account(
    org: Organization,
    path: list[Node],
    account: Node,
    regions: Iterable[str],
    probes: list[Probe] | None = None,
) -> AccountReport:
    probes = probes if probes is not None else default_probes()
    report = AccountReport(account=account, path=[*path, account])
    report.control_tower = sorted({p.name or p.id for n in report.path for p in n.policies if p.control_tower})
    if not org.scp_enabled:
        report.uncovered = "the SERVICE_CONTROL_POLICY type is not enabled in the organisation root: no SCP applies"
    elif account.management or account.id == org.management_account_id:
        report.uncovered = "management account: SCPs never apply to it"
    regions = list(regions)
    if report.uncovered:
        for r in regions:
            report.regions[r] = Decision(ALLOWED, report.uncovered)
        return report
    data = [p for p in probes if p.category == "data"]
    for r in regions:
        best: Decision | None = None
        allowed: list[str] = []
        for p in data:
            d = decide(report.path, p.action, r)
            if d.status != DENIED:
                allowed.append(p.action)
            if best is None or _RANK[d.status] > _RANK[best.status]:
                best = d
        assert best is not None or not data
        if best is not None:
            if best.status != DENIED and len(allowed) < len(data):
                shut = ", ".join(p.action for p in data if p.action not in allowed)
                why = f"{len(allowed)} of {len(data)} probed actions (denied: {shut}): {best.why}"
                best = Decision(best.status, why, best.escapes)
            report.regions[r] = best
        if allowed:
            report.allowed_actions[r] = allowed
    global_region = str(probe_data()["global_region"].get(org.partition, "us-east-1"))
    generic = next((p for p in data if p.generic), None)
    if generic is not None:
        # Exempted: the service gets further than "any other action" does in the
        # region its requests carry (e.g. fully allowed while the rest is denied
        # or only conditionally open).
        base = _RANK[decide(report.path, generic.action, global_region).status]
        for p in probes:
            if p.category == "global" and _RANK[decide(report.path, p.action, global_region).status] > base:
                report.exempt_services.append(p)
    return report


def evaluate_organization(
    org: Organization, catalog: Catalog | None = None, probes: list[Probe] | None = None
) -> list[AccountReport]:
    regions = partition_regions(org.partition, catalog)
    return [evaluate_account(org, path, acct, regions, probes) for path, acct in org.accounts()]


def evaluate_node(org: Organization, path: list[Node], node: Node, regions: Iterable[str]) -> dict[str, Decision]:
    """What a root or OU lets through (the chain down to it), for the generic probe."""
    generic = next(p for p in default_probes() if p.generic)
    if not org.scp_enabled:
        return {r: Decision(ALLOWED, "SCPs not enabled") for r in regions}
    return {r: decide([*path, node], generic.action, r) for r in regions}
