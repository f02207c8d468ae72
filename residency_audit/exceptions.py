"""Accepted risks: `.residency-exceptions.yaml`, for gates and live scans alike.

An exception suppresses matching findings until its expiry date. After that it
stops suppressing *and* is reported itself (rule RA-EXCEPTION-EXPIRED), so an
accepted risk cannot quietly become permanent. Every exception names who
approved it and why. A broken file is a `file:line: problem` error (exit 2),
like a broken rule file.

Anyone who can tag a resource controls its display name, so an exception matches
a resource by identity only: its id (ARN, full resource name, ARM id) or its plan
address, or globs over those. An exception that would cover every resource is
refused unless it says `scope: all`, and so is an expiry beyond the horizon
(default 365 days, `--exception-horizon DAYS`): a risk accepted for ever is not an
accepted risk.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import yamlnodes
from .errors import UserError
from .model import Finding, Owner, Resource, ScanResult

DEFAULT_FILE = ".residency-exceptions.yaml"
FILE_VERSION = 1

_KEYS = {"id", "rule", "resource", "region", "justification", "approver", "expires", "scope"}
#: How far ahead an expiry may lie unless the run says otherwise (--exception-horizon).
DEFAULT_HORIZON_DAYS = 365
#: A resource pattern made only of wildcards and separators, after at most a provider's id prefix
#: (`arn:aws:*`, `/subscriptions/*`, `//*`), matches every resource (of that provider).
_MATCHES_ALL = re.compile(r"(arn(:[a-z-]*)?|/subscriptions|projects)?[*?:/.\s]*", re.IGNORECASE)
_REQUIRED = ("rule", "resource", "justification", "approver", "expires")


class ExceptionFileError(UserError):
    """The exceptions file is broken; the message names file and line."""


def _glob(pattern: str) -> re.Pattern[str]:
    """`*` is any run of characters, `?` one; everything else literal (addresses contain `[`)."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


@dataclass(frozen=True, slots=True)
class RiskException:
    id: str
    rule: str
    resource: str
    justification: str
    approver: str
    expires: _dt.date
    file: str
    line: int
    region: str | None = None
    #: "all": the author means every resource (`resource: "*"`), said explicitly.
    scope: str | None = None

    def expired(self, today: _dt.date) -> bool:
        """Valid through its expiry date (UTC), expired from the day after."""
        return today > self.expires

    def matches(self, finding: Finding) -> bool:
        if not _glob(self.rule).match(finding.rule_id):
            return False
        if self.region is not None and (finding.region or "").lower() != self.region.lower():
            return False
        rx = _glob(self.resource)
        r = finding.resource
        # Identity only: the id and the plan address, never the (taggable) display name.
        address = r.attributes.get("address") if r.source == "plan" else None
        return any(isinstance(c, str) and rx.match(c) for c in (r.id, address))


def _where(path: str, node: yaml.Node | None, problem: str) -> ExceptionFileError:
    # One line whatever the file held: user values in a problem may carry newlines.
    return ExceptionFileError(f"{yamlnodes.at(path, node)}: {' '.join(problem.split())}")


_value = yamlnodes.value


def _pairs(path: str, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    return yamlnodes.mapping(lambda n, problem: _where(path, n, problem), node, what)


def load_exceptions(
    path: str | Path, horizon_days: int = DEFAULT_HORIZON_DAYS, today: _dt.date | None = None
) -> list[RiskException]:
    """Parse and validate an exceptions file (every problem names its line)."""
    name = str(path)
    try:
        yamlnodes.check_size(Path(path), ExceptionFileError)
        text = Path(path).read_text("utf-8")
    except FileNotFoundError:
        raise ExceptionFileError(f"{name}: no such exceptions file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExceptionFileError(f"{name}: cannot read exceptions file: {getattr(exc, 'strerror', exc)}") from None
    root = yamlnodes.compose(text, name, ExceptionFileError)
    if root is None:
        return []
    limits = (horizon_days, today or _dt.datetime.now(_dt.UTC).date())
    try:
        return _parse_document(name, root, limits)
    except yaml.YAMLError as exc:  # from constructing a value, e.g. an unknown !tag
        raise yamlnodes.invalid(name, exc, ExceptionFileError) from None


def _parse_document(name: str, root: yaml.Node, limits: tuple[int, _dt.date]) -> list[RiskException]:
    top = _pairs(name, root, "exceptions file")
    extra = sorted(set(top) - {"version", "exceptions"})
    if extra:
        raise _where(name, top[extra[0]][0], f"unknown top-level key '{extra[0]}' (allowed: version, exceptions)")
    if "version" not in top:
        raise _where(name, root, f"missing 'version' (expected {FILE_VERSION})")
    if _value(top["version"][1]) != FILE_VERSION:
        raise _where(name, top["version"][1], f"unsupported version (expected {FILE_VERSION})")
    if "exceptions" not in top:
        return []
    seq = top["exceptions"][1]
    if isinstance(seq, yaml.ScalarNode) and _value(seq) is None:
        return []
    if not isinstance(seq, yaml.SequenceNode):
        raise _where(name, seq, "'exceptions' must be a list")
    out: list[RiskException] = []
    seen: dict[str, int] = {}
    for node in seq.value:
        ex = _parse_one(name, node, limits)
        if ex.id in seen:
            raise _where(name, node, f"duplicate exception id '{ex.id}' (first at line {seen[ex.id]})")
        seen[ex.id] = ex.line
        out.append(ex)
    return out


def _parse_one(name: str, node: yaml.Node, limits: tuple[int, _dt.date]) -> RiskException:
    m = _pairs(name, node, "exception")
    extra = sorted(set(m) - _KEYS)
    if extra:
        raise _where(name, m[extra[0]][0], f"unknown key '{extra[0]}' (allowed: {', '.join(sorted(_KEYS))})")
    for key in _REQUIRED:
        if key not in m:
            raise _where(name, node, f"exception is missing '{key}'")
    values: dict[str, str] = {}
    for key in ("id", "rule", "resource", "region", "justification", "approver", "scope"):
        if key in m:
            v = _value(m[key][1])
            if not isinstance(v, str) or not v.strip():
                raise _where(name, m[key][1], f"'{key}' must be a non-empty string")
            values[key] = v.strip()
    exp_node = m["expires"][1]
    expires = _value(exp_node)
    if isinstance(expires, str):
        try:
            expires = _dt.date.fromisoformat(expires.strip())
        except ValueError:
            raise _where(name, exp_node, f"'expires' must be a date (YYYY-MM-DD), got {expires!r}") from None
    if isinstance(expires, _dt.datetime):
        expires = expires.date()
    if not isinstance(expires, _dt.date):
        raise _where(name, exp_node, "'expires' must be a date (YYYY-MM-DD)")
    horizon, today = limits
    if expires > today + _dt.timedelta(days=horizon):
        raise _where(
            name,
            exp_node,
            f"'expires' {expires.isoformat()} is more than {horizon} days away: accepted risks are reviewed "
            "(--exception-horizon DAYS allows a longer horizon)",
        )
    scope = values.get("scope")
    if scope is not None and scope != "all":
        raise _where(name, m["scope"][1], f"'scope' can only be 'all', got {scope!r}")
    if _MATCHES_ALL.fullmatch(values["resource"]) and scope != "all":
        raise _where(
            name,
            m["resource"][1],
            f"resource {values['resource']!r} matches every resource: name the resources (ARN, resource id "
            "or plan address, globs allowed), or say 'scope: all' if that is really meant",
        )
    line = node.start_mark.line + 1
    return RiskException(
        id=values.get("id") or f"{Path(name).name}:{line}",
        rule=values["rule"],
        resource=values["resource"],
        justification=values["justification"],
        approver=values["approver"],
        expires=expires,
        file=name,
        line=line,
        region=values.get("region"),
        scope=scope,
    )


def from_args(args: argparse.Namespace) -> list[RiskException]:
    """`--exceptions FILE`, else `.residency-exceptions.yaml` in the working directory if there is one."""
    path = getattr(args, "exceptions", None)
    horizon = getattr(args, "exception_horizon", None)
    horizon = DEFAULT_HORIZON_DAYS if horizon is None else horizon
    if horizon < 0:
        raise UserError("--exception-horizon must be 0 or more days")
    if path:
        return load_exceptions(path, horizon)
    if Path(DEFAULT_FILE).is_file():
        return load_exceptions(DEFAULT_FILE, horizon)
    return []


def apply_exceptions(result: ScanResult, exceptions: list[RiskException], today: _dt.date | None = None) -> None:
    """Mark suppressed findings; report expired exceptions and note unused ones."""
    if not exceptions:
        return
    today = today or _dt.datetime.now(_dt.UTC).date()
    active = [e for e in exceptions if not e.expired(today)]
    used: set[str] = set()

    def mark(finding: Finding) -> Finding:
        if not finding.suppressed_by:
            for ex in active:
                if ex.matches(finding):
                    finding.suppressed_by = ex.id
                    used.add(ex.id)
                    break
        return finding

    rewrite = getattr(result.findings, "rewrite", None)
    if callable(rewrite):  # a spooled scan: findings read back are copies, written back changed
        rewrite(mark)
    else:
        for finding in result.findings:
            mark(finding)
    expired = [_record(ex) for ex in exceptions if ex.expired(today)]
    if expired:
        from .engine import builtin_rules, evaluate
        from .geography import default_catalog

        # The expired entries are listed like any other subject of a finding, and the rule
        # engine judges them (RA-EXCEPTION-EXPIRED, a built-in rule): no finding is made here.
        result.resources.extend(expired)
        result.findings.extend(evaluate(expired, builtin_rules(), default_catalog(), result.resolved))
        for record in expired:
            result.resolved[record.id] = []  # an exception entry is nowhere: no data location
    for ex in exceptions:
        if not ex.expired(today) and ex.id not in used:
            result.scan.notes.append(f"exception {ex.id} ({ex.file}:{ex.line}) matched no finding")


def _record(ex: RiskException) -> Resource:
    return Resource(
        provider="residency-audit",
        kind="exception",
        id=f"exception:{ex.id}",
        name=ex.id,
        owner=Owner(kind="file", id=ex.file),
        locations=[],
        source="exceptions",
        attributes={
            "file": ex.file,
            "line": ex.line,
            "rule": ex.rule,
            "resource": ex.resource,
            "approver": ex.approver,
            "expires": ex.expires.isoformat(),
            "expired": True,
        },
        category="control",
        judged="primary",
    )
