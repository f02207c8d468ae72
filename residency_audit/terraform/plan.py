"""Reading and checking `terraform show -json PLANFILE` documents, from Terraform 0.12 on.

A plan is read whole or refused with one line naming what is wrong: a gate that
skipped an entry it could not read would pass a resource it never judged.

Format versions (Terraform's `internal/command/jsonplan`):
  0.1  Terraform 0.12-0.14. Terraform 0.12 keys a module's provider configuration by the
       module *call name* (`db:aws`), later versions by the module path (`module.db:aws`);
       `after_sensitive`/`before_sensitive` appear with 0.14.
  0.2  Terraform 0.15-1.0: adds `resource_drift`; same resource shape.
  1.x  Terraform 1.1 on: `relevant_attributes`, `errored`, `complete` (1.8: deferred changes),
       `action_reason`, the `forget` action (1.7).
The reader uses only members all of them share, and tolerates the optional ones.
"""

from __future__ import annotations

import gc
import json
import math
from pathlib import Path
from typing import Any

from .. import jsonio
from ..errors import UserError

#: format_version majors (and 0.x minors) this reader understands.
SUPPORTED_FORMATS = ("0.1", "0.2", "1")

#: Every action Terraform writes into `change.actions`.
ACTIONS = frozenset({"no-op", "create", "read", "update", "delete", "forget"})
#: Actions after which the resource exists (so `after` must describe it).
EXISTS_AFTER = frozenset({"no-op", "create", "update", "read"})


class PlanError(UserError):
    """The input is not a usable Terraform plan (one line, exit 2)."""


def read_plan(path: str) -> tuple[dict[str, Any], str]:
    """Load and check a plan document; `-` is stdin. Returns (plan, label)."""
    import sys

    label = "stdin" if path == "-" else path
    try:
        if path == "-":
            stream = getattr(sys.stdin, "buffer", None)
            if stream is None:
                raise PlanError("stdin: no standard input to read the plan from (pipe it in, or pass a file)")
            data = stream.read()
        else:
            data = Path(path).read_bytes()
    except FileNotFoundError:
        raise PlanError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise PlanError(f"{label}: is a directory, expected the output of `terraform show -json PLANFILE`") from None
    except (OSError, ValueError) as exc:  # ValueError: a closed stdin
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "the stream is closed"
        raise PlanError(f"{label}: cannot read: {why}") from None
    if not data.strip():
        raise PlanError(f"{label}: empty input, expected the output of `terraform show -json PLANFILE`")
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
    except RecursionError:
        raise PlanError(f"{label}: not a Terraform plan (JSON nested too deeply)") from None
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
    if not isinstance(version, str) or not (version.split(".")[0] == "1" or version in ("0.1", "0.2")):
        raise PlanError(
            f"{label}: unsupported plan format_version {version!r} (this version reads 0.1 and 0.2, "
            "Terraform 0.12-1.0, and 1.x, Terraform 1.1 and later)"
        )
    if "planned_values" not in plan and "resource_changes" not in plan:
        raise PlanError(f"{label}: not a Terraform plan (no planned_values or resource_changes)")
    changes = plan.get("resource_changes")
    if changes is not None and not isinstance(changes, list):
        raise PlanError(f"{label}: malformed plan: resource_changes is not a list")
    if plan.get("errored") is True:
        raise PlanError(f"{label}: the plan errored (errored: true): fix `terraform plan` first, nothing was checked")
    _check_shapes(plan, label)


def _check_shapes(plan: dict[str, Any], label: str) -> None:
    """The members the reader walks must be what Terraform writes, or the run stops naming them.

    Found by fuzzing and by reading real plans: a wrongly-typed member (`"change": 1`,
    `"root_module": []`, a `null` entry, `"mode": null`, a create whose `after` is null)
    must be a one-line PlanError naming it, never an exception deep inside, and never
    an entry quietly skipped (a skipped entry is a resource nobody judged).
    """

    def fail(where: str, problem: str) -> PlanError:
        return PlanError(f"{label}: malformed plan: {where} {problem}")

    def obj(value: Any, where: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise fail(where, "is not an object")
        return value

    def expressions(value: Any, where: str, depth: int = 0) -> None:
        """Expression trees: every `references` a list of strings (nested blocks are lists of objects)."""
        if depth > 64:
            raise fail(where, "is nested too deeply")
        if isinstance(value, dict):
            refs = value.get("references")
            if refs is not None and not (isinstance(refs, list) and all(isinstance(r, str) for r in refs)):
                raise fail(f"{where}.references", "is not a list of strings")
            for key, sub in value.items():
                if key not in ("references", "constant_value") and isinstance(sub, dict | list):
                    expressions(sub, f"{where}.{key}", depth + 1)
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                expressions(sub, f"{where}[{i}]", depth + 1)

    def module(mod: Any, where: str, depth: int = 0) -> None:
        mod = obj(mod, where)
        if depth > 64:
            raise fail(where, "has modules nested too deeply")
        resources = mod.get("resources")
        if resources is not None and not isinstance(resources, list):
            raise fail(f"{where}.resources", "is not a list")
        for j, r in enumerate(resources or ()):
            at = f"{where}.resources[{j}]"
            if r is None:  # a null entry would be a configured resource nobody can resolve against
                raise fail(at, "is null")
            r = obj(r, at)
            if not isinstance(r.get("expressions"), dict | None):
                raise fail(f"{at}.expressions", "is not an object")
            expressions(r.get("expressions"), f"{at}.expressions")
            key = r.get("provider_config_key")
            if key is not None and not isinstance(key, str):
                raise fail(f"{at}.provider_config_key", "is not a string")
        for name, call in obj(mod.get("module_calls"), f"{where}.module_calls").items():
            at = f"{where}.module_calls.{name}"
            call = obj(call, at)
            if not isinstance(call.get("expressions"), dict | None):
                raise fail(f"{at}.expressions", "is not an object")
            expressions(call.get("expressions"), f"{at}.expressions")
            module(call.get("module"), f"{at}.module", depth + 1)

    def call_entries(mod: Any, where: str, depth: int = 0) -> None:
        """A `module_calls` entry that is `null` is no module at all: refuse it rather than drop its resources."""
        for name, call in (mod.get("module_calls") or {}).items() if isinstance(mod, dict) else ():
            if call is None:
                raise fail(f"{where}.module_calls.{name}", "is null")
            if depth < 64 and isinstance(call, dict):
                call_entries(call.get("module"), f"{where}.module_calls.{name}.module", depth + 1)

    variables = obj(plan.get("variables"), "variables")
    for name, var in variables.items():
        obj(var, f"variables.{name}")
    config = obj(plan.get("configuration"), "configuration")
    for name, pc in obj(config.get("provider_config"), "configuration.provider_config").items():
        at = f"configuration.provider_config.{name}"
        expressions(obj(obj(pc, at).get("expressions"), f"{at}.expressions"), f"{at}.expressions")
    call_entries(config.get("root_module"), "configuration.root_module")
    module(config.get("root_module"), "configuration.root_module")
    for i, rc in enumerate(plan.get("resource_changes") or ()):
        # Inlined: this runs once per planned resource, and a plan has tens of thousands.
        if not isinstance(rc, dict):
            shown = "NaN" if isinstance(rc, float) and math.isnan(rc) else json.dumps(rc)[:40]
            raise fail(f"resource_changes[{i}]", f"is not an object ({shown})")
        address = rc.get("address")
        if not isinstance(address, str) or not address:
            raise fail(f"resource_changes[{i}]", "has no address")
        where = f"resource_changes[{i}] ({address})"
        mode = rc.get("mode", "managed")
        if mode not in ("managed", "data"):
            raise fail(where, f'has mode {json.dumps(mode)}, expected "managed" or "data"')
        rtype = rc.get("type")
        if not isinstance(rtype, str) or not rtype:
            raise fail(where, "has no resource type")
        for key in ("module_address", "name", "provider_name"):
            if not isinstance(rc.get(key, ""), str):
                raise fail(f"{where}.{key}", "is not a string")
        change = rc.get("change")
        if not isinstance(change, dict):
            raise fail(f"{where}.change", "is missing" if change is None else "is not an object")
        actions = change.get("actions")
        if (
            not isinstance(actions, list)
            or not actions
            or not all(isinstance(a, str) and a in ACTIONS for a in actions)
        ):
            raise fail(f"{where}.change.actions", f"is not a list of Terraform actions ({json.dumps(actions)[:60]})")
        for key in ("before", "after", "after_unknown"):
            v = change.get(key)
            if v is not None and not isinstance(v, dict) and not (key == "after_unknown" and isinstance(v, bool)):
                raise fail(f"{where}.change.{key}", "is not an object")
        if mode == "managed" and not EXISTS_AFTER.isdisjoint(actions) and change.get("after") is None:
            unknown = change.get("after_unknown")
            if actions == ["no-op"] and change.get("before") is None:
                continue  # nothing before, nothing after (Terraform 1.0 writes this for an absent instance)
            if not (unknown is True or (isinstance(unknown, dict) and unknown)):
                raise fail(
                    where, f"plans {'+'.join(actions)} but change.after is null: what it creates is not described"
                )
