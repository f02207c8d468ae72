"""Runs the `run:` steps of a composite GitHub Action the way a runner does, for tests.

What it emulates, from the runner's documented behaviour: `${{ ... }}` expressions are
substituted into `env`, `run`, `working-directory`, `if` and `with` before a step runs;
`shell: bash` runs `bash --noprofile --norc -eo pipefail FILE`; a step's outputs are the
`name=value` lines it appends to `$GITHUB_OUTPUT`; after a failed step only steps whose `if`
calls `always()` run. `uses:` steps are not run (they are other repositories' actions): the
runner records whether each would run and with which `with:` values.

The expression subset is what action.yml uses: `inputs.*`, `steps.<id>.outputs.*`,
`github.action_path`, `github.workspace`, `runner.temp`, string literals, `==`, `!=`, `&&`,
`||`, `!` and `always()`. Anything else raises, so a new construct in action.yml fails the test
instead of being skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_TOKEN = re.compile(r"\s*(?:(\|\||&&|==|!=|!|\(|\))|'((?:[^']|'')*)'|(always\(\))|([A-Za-z_][A-Za-z0-9_.-]*))")


@dataclass
class StepResult:
    name: str
    ran: bool
    returncode: int | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    with_: dict[str, str] = field(default_factory=dict)
    uses: str = ""
    stdout: str = ""
    stderr: str = ""


@dataclass
class ActionRun:
    steps: list[StepResult]
    outputs: dict[str, str]

    @property
    def failed(self) -> StepResult | None:
        return next((s for s in self.steps if s.ran and s.returncode not in (None, 0)), None)

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)


class ActionRunner:
    def __init__(self, action_file: Path, workspace: Path, runner_temp: Path) -> None:
        self.action_file = action_file
        self.action = yaml.safe_load(action_file.read_text("utf-8"))
        self.workspace = workspace
        self.runner_temp = runner_temp

    # ------------------------------------------------------------------ expressions

    def _value(self, name: str, ctx: dict[str, Any]) -> str:
        head, _, rest = name.partition(".")
        if head == "inputs":
            if rest not in ctx["inputs"]:
                raise KeyError(f"action.yml reads undeclared input {rest!r}")
            return str(ctx["inputs"][rest])
        if head == "steps":
            step_id, _, out = rest.partition(".outputs.")
            return str(ctx["steps"].get(step_id, {}).get(out, ""))
        fixed = {
            "github.action_path": str(self.action_file.parent),
            "github.workspace": str(self.workspace),
            "runner.temp": str(self.runner_temp),
        }
        if name in fixed:
            return fixed[name]
        raise KeyError(f"expression context {name!r} is not emulated")

    def evaluate(self, expr: str, ctx: dict[str, Any]) -> Any:
        """A small recursive-descent evaluator: || over && over ==/!= over ! and atoms."""
        tokens: list[tuple[str, Any]] = []
        pos = 0
        while pos < len(expr):
            m = _TOKEN.match(expr, pos)
            if not m or m.end() == pos:
                if expr[pos:].strip() == "":
                    break
                raise ValueError(f"cannot parse expression {expr!r} at {expr[pos:]!r}")
            op, literal, always, name = m.groups()
            if op:
                tokens.append(("op", op))
            elif literal is not None:
                tokens.append(("val", literal.replace("''", "'")))
            elif always:
                tokens.append(("val", True))
            else:
                tokens.append(("val", self._value(name, ctx)))
            pos = m.end()

        def parse_or(i: int) -> tuple[Any, int]:
            left, i = parse_and(i)
            while i < len(tokens) and tokens[i] == ("op", "||"):
                right, i = parse_and(i + 1)
                left = left or right
            return left, i

        def parse_and(i: int) -> tuple[Any, int]:
            left, i = parse_cmp(i)
            while i < len(tokens) and tokens[i] == ("op", "&&"):
                right, i = parse_cmp(i + 1)
                left = left and right
            return left, i

        def parse_cmp(i: int) -> tuple[Any, int]:
            left, i = parse_not(i)
            while i < len(tokens) and tokens[i] in (("op", "=="), ("op", "!=")):
                op = tokens[i][1]
                right, i = parse_not(i + 1)
                same = str(left).lower() == str(right).lower()  # GitHub compares strings case-insensitively
                left = same if op == "==" else not same
            return left, i

        def parse_not(i: int) -> tuple[Any, int]:
            if tokens[i] == ("op", "!"):
                value, i = parse_not(i + 1)
                return not value, i
            if tokens[i] == ("op", "("):
                value, i = parse_or(i + 1)
                assert tokens[i] == ("op", ")"), expr
                return value, i + 1
            kind, value = tokens[i]
            assert kind == "val", expr
            return value, i + 1

        value, end = parse_or(0)
        assert end == len(tokens), expr
        return value

    def substitute(self, text: str, ctx: dict[str, Any]) -> str:
        return _EXPR.sub(lambda m: str(self.evaluate(m.group(1), ctx)), text)

    def condition(self, text: str | None, ctx: dict[str, Any], failed: bool) -> bool:
        if text is None:
            return not failed
        inner = _EXPR.fullmatch(text.strip())
        expr = inner.group(1) if inner else text
        if failed and "always()" not in expr:
            return False
        return bool(self.evaluate(expr, ctx))

    # ------------------------------------------------------------------ running

    def run(self, inputs: dict[str, str], env: dict[str, str], step_summary: Path) -> ActionRun:
        declared = self.action["inputs"]
        unknown = set(inputs) - set(declared)
        if unknown:
            raise KeyError(f"inputs not declared in action.yml: {sorted(unknown)}")
        missing = [k for k, v in declared.items() if v.get("required") and k not in inputs]
        if missing:
            raise KeyError(f"required inputs missing: {missing}")
        values = {k: inputs.get(k, str(v.get("default", ""))) for k, v in declared.items()}
        ctx: dict[str, Any] = {"inputs": values, "steps": {}}
        results: list[StepResult] = []
        failed = False
        for n, step in enumerate(self.action["runs"]["steps"]):
            name = step.get("name", f"step {n}")
            if not self.condition(step.get("if"), ctx, failed):
                results.append(StepResult(name, ran=False, uses=step.get("uses", "")))
                continue
            if "uses" in step:
                with_ = {k: self.substitute(str(v), ctx) for k, v in (step.get("with") or {}).items()}
                results.append(StepResult(name, ran=True, uses=step["uses"], with_=with_))
                continue
            assert step.get("shell") == "bash", f"{name}: composite run steps must name their shell"
            result = self._run_step(step, name, ctx, env, step_summary)
            results.append(result)
            if step.get("id"):
                ctx["steps"][step["id"]] = result.outputs
            failed = failed or result.returncode != 0
        outputs = {k: self.substitute(str(v["value"]), ctx) for k, v in (self.action.get("outputs") or {}).items()}
        return ActionRun(results, outputs)

    def _run_step(
        self, step: dict[str, Any], name: str, ctx: dict[str, Any], env: dict[str, str], step_summary: Path
    ) -> StepResult:
        n = len(list(self.runner_temp.glob("step-*.sh")))
        script = self.runner_temp / f"step-{n}.sh"
        script.write_text(self.substitute(step["run"], ctx), "utf-8")
        output = self.runner_temp / f"output-{n}.txt"
        output.write_text("", "utf-8")
        step_env = {
            **env,
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(step_summary),
            "GITHUB_ACTION_PATH": str(self.action_file.parent),
            "GITHUB_WORKSPACE": str(self.workspace),
            "RUNNER_TEMP": str(self.runner_temp),
            "GITHUB_ACTIONS": "true",
            **{k: self.substitute(str(v), ctx) for k, v in (step.get("env") or {}).items()},
        }
        cwd = self.workspace / self.substitute(step.get("working-directory", "."), ctx)
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=step_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        outputs = {}
        for line in output.read_text("utf-8").splitlines():
            key, sep, value = line.partition("=")
            assert sep, f"{name}: GITHUB_OUTPUT line without '=': {line!r}"
            outputs[key] = value
        return StepResult(name, True, proc.returncode, outputs, stdout=proc.stdout, stderr=proc.stderr)


def path_with(*dirs: str) -> str:
    return os.pathsep.join([*dirs, os.environ.get("PATH", "")])
