"""The GitHub Action (action.yml) and the CI examples, run for real.

The action's `run:` scripts are executed with bash as a runner would (tests/action_support.py),
with `install: none` so that they use the residency-audit of this checkout, against fixture
plans; the SARIF and job-summary files they write are parsed. The GitLab example's gate command
is run the same way and must write the artifacts its job declares.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .action_support import ActionRun, ActionRunner, path_with

REPO = Path(__file__).resolve().parent.parent
PLANS = REPO / "tests" / "fixtures" / "plans"
AWS_EVERY = PLANS / "aws-every" / "plan.json"
BIN = str(Path(sys.executable).parent)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "workspace"
    (ws / "infra").mkdir(parents=True)
    shutil.copy(AWS_EVERY, ws / "infra" / "plan.json")
    return ws


def _run(workspace: Path, tmp_path: Path, **inputs: str) -> tuple[ActionRunner, ActionRun, Path]:
    temp = tmp_path / "runner-temp"
    temp.mkdir(exist_ok=True)
    summary = tmp_path / "step-summary.md"
    summary.write_text("", "utf-8")
    runner = ActionRunner(REPO / "action.yml", workspace, temp)
    env = {"PATH": path_with(BIN), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    result = runner.run({"install": "none", "python": sys.executable, **inputs}, env, summary)
    return runner, result, summary


def test_findings_fail_the_step_and_sarif_and_summary_are_written(workspace: Path, tmp_path: Path) -> None:
    _, run, summary = _run(workspace, tmp_path, plan="plan.json", **{"working-directory": "infra", "fail-on": "high"})
    gate = run.step("Residency gate")
    assert gate.returncode == 1, gate.stderr
    assert run.outputs["exit-code"] == "1"
    sarif_path = Path(run.outputs["sarif"])
    assert sarif_path == workspace / "infra" / "residency.sarif"
    sarif = json.loads(sarif_path.read_text("utf-8"))
    assert sarif["version"] == "2.1.0"
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert "RA-US-SOIL" in rules
    text = summary.read_text("utf-8")
    assert "RA-US-SOIL" in text and text.lstrip().startswith("#")
    # The upload runs although the gate failed (always()), on the file the gate wrote.
    upload = run.step("Upload SARIF to code scanning")
    assert upload.ran and upload.uses.startswith("github/codeql-action/upload-sarif@")
    assert upload.with_ == {"sarif_file": str(sarif_path), "category": "residency-audit"}


def test_extra_args_are_split_like_a_shell_and_switches_turn_outputs_off(workspace: Path, tmp_path: Path) -> None:
    source = workspace / "infra" / "src dir"
    source.mkdir()
    _, run, summary = _run(
        workspace,
        tmp_path,
        plan="infra/plan.json",
        args=f'--exit-zero --source-dir "{source}" --format json --output "report dir.json"',
        **{"job-summary": "false", "upload-sarif": "false", "sarif": "gate.sarif"},
    )
    gate = run.step("Residency gate")
    assert gate.returncode == 0, gate.stderr
    report = json.loads((workspace / "report dir.json").read_text("utf-8"))
    assert report["findings"]  # --exit-zero: findings, yet a green step
    assert json.loads((workspace / "gate.sarif").read_text("utf-8"))["runs"][0]["results"]
    assert summary.read_text("utf-8") == ""
    assert not run.step("Upload SARIF to code scanning").ran


def test_an_empty_sarif_input_writes_and_uploads_none(workspace: Path, tmp_path: Path) -> None:
    _, run, _ = _run(workspace, tmp_path, plan="infra/plan.json", sarif="", **{"fail-on": "critical"})
    gate = run.step("Residency gate")
    assert gate.returncode == 1  # RA-US-SOIL is critical
    assert run.outputs["sarif"] == ""
    assert not list(workspace.rglob("*.sarif"))
    assert not run.step("Upload SARIF to code scanning").ran


def test_a_bad_plan_is_exit_2_and_nothing_is_uploaded(workspace: Path, tmp_path: Path) -> None:
    (workspace / "state.json").write_text('{"format_version": "1.0", "values": {}}', "utf-8")
    stale = workspace / "residency.sarif"
    stale.write_text("{}", "utf-8")  # left by an earlier run: must not be uploaded as this one's
    _, run, _ = _run(workspace, tmp_path, plan="state.json")
    gate = run.step("Residency gate")
    assert gate.returncode == 2
    assert gate.stderr.count("\n") == 1 and "residency-audit: error:" in gate.stderr
    assert not stale.exists()
    assert not run.step("Upload SARIF to code scanning").ran


def test_unbalanced_quotes_in_args_are_an_input_error(workspace: Path, tmp_path: Path) -> None:
    _, run, _ = _run(workspace, tmp_path, plan="infra/plan.json", args='--source-dir "unclosed')
    gate = run.step("Residency gate")
    assert gate.returncode == 2
    assert "args: No closing quotation" in gate.stderr


def test_args_cannot_inject_shell_code(workspace: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    _, run, _ = _run(
        workspace, tmp_path, plan="infra/plan.json", args=f"--exit-zero $(touch {marker}) `touch {marker}`"
    )
    assert not marker.exists()
    assert run.step("Residency gate").returncode == 2  # the words are unknown arguments


def test_install_none_needs_the_tool_on_path(workspace: Path, tmp_path: Path) -> None:
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    runner = ActionRunner(REPO / "action.yml", workspace, temp)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    bash_dir = str(Path(shutil.which("bash") or "/bin/bash").parent)
    run = runner.run({"install": "none", "plan": "p.json"}, {"PATH": f"{empty}:{bash_dir}"}, tmp_path / "s.md")
    install = run.step("Install residency-audit")
    assert install.returncode == 2 and "no residency-audit on PATH" in install.stdout
    assert not run.step("Residency gate").ran


def test_every_input_is_described_and_used() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text("utf-8"))
    text = (REPO / "action.yml").read_text("utf-8")
    assert action["runs"]["using"] == "composite"
    for name, spec in action["inputs"].items():
        assert spec.get("description"), name
        assert f"inputs.{name} " in text or f"inputs.{name}}}" in text, f"input {name} is never used"


# --------------------------------------------------------------------------- the examples


def test_the_github_example_uses_the_action_with_declared_inputs() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text("utf-8"))
    workflow = yaml.safe_load((REPO / "examples" / "github-actions" / "residency-gate.yml").read_text("utf-8"))
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    gate = [s for s in steps if str(s.get("uses", "")).split("@")[0].endswith("/residency-audit")]
    assert len(gate) == 1
    assert set(gate[0]["with"]) <= set(action["inputs"])
    assert "plan" in gate[0]["with"]
    assert workflow["permissions"]["security-events"] == "write"  # the SARIF upload needs it


def test_the_gitlab_example_gate_writes_every_declared_artifact(tmp_path: Path) -> None:
    job = yaml.safe_load((REPO / "examples" / "gitlab-ci" / "residency-gate.gitlab-ci.yml").read_text("utf-8"))[
        "residency-gate"
    ]
    script: list[str] = job["script"]
    workdir = tmp_path
    for line in script:
        words = shlex.split(line)
        if words[:1] == ["cd"]:
            workdir = workdir / words[1]
            workdir.mkdir(parents=True, exist_ok=True)
        elif words[:1] == ["terraform"]:
            continue  # terraform needs providers and credentials; its plan is the fixture below
        elif words[:1] == ["residency-audit"]:
            shutil.copy(AWS_EVERY, workdir / "plan.json")
            proc = subprocess.run(
                ["bash", "-c", line],
                cwd=workdir,
                env={"PATH": path_with(BIN), "HOME": str(tmp_path), "LANG": "C.UTF-8"},
                capture_output=True,
                text=True,
            )
            assert proc.returncode == 1, proc.stderr  # findings at or above --fail-on high: the job fails
        else:
            pytest.fail(f"the GitLab example has a script line this test does not know: {line}")
    artifacts = job["artifacts"]
    for path in [*artifacts["paths"], artifacts["reports"]["junit"]]:
        assert (tmp_path / path).is_file(), path
    junit = (tmp_path / artifacts["reports"]["junit"]).read_text("utf-8")
    assert "<testsuite" in junit and "<failure" in junit
