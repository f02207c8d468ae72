"""Rule and exception files are code from pull requests: bounded YAML, no empty rule set, and the
inputs that used to be internal errors (exit 4) are one line, exit 2, naming file and line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from residency_audit.engine import RuleError, load_rules
from residency_audit.exceptions import ExceptionFileError, load_exceptions
from residency_audit.yamlnodes import MAX_ALIAS_EXPANSION, MAX_BYTES

from .conftest import run_cli

PLAN = str(Path(__file__).parent / "fixtures" / "plans" / "aws" / "plan.json")
SOON = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)).isoformat()


def laughs(indent: str, levels: int = 9) -> str:
    """A billion laughs as a flow sequence: level n is nine aliases of level n-1."""
    out = ["&l0 [" + ", ".join(["lol"] * 9) + "]"]
    for n in range(1, levels + 1):
        out.append(f"&l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]")
    return "\n".join(f"{indent}- {x}" for x in out)


RULE_HEAD = "version: 1\nrules:\n  - id: LAUGH\n    severity: high\n    message: m\n"


@pytest.mark.parametrize(
    "where",
    [
        "    title:\n{laughs}\n    when: {{field: place.known, equals: false}}\n",
        "    when:\n      field:\n{laughs}\n      equals: false\n",
        "    when:\n      field: resource.name\n      matches:\n{laughs}\n",
    ],
    ids=["title", "field", "matches"],
)
def test_repro_billion_laughs_in_a_rule_is_refused(tmp_path: Path, where: str) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(RULE_HEAD + where.format(laughs=laughs("        ")), "utf-8")
    with pytest.raises(RuleError) as exc:
        load_rules([path])
    assert f"aliases expand this document by more than {MAX_ALIAS_EXPANSION:,} nodes" in str(exc.value)
    assert str(exc.value).startswith(f"{path}:")


def test_billion_laughs_in_an_exceptions_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ex.yaml"
    path.write_text(
        "version: 1\nexceptions:\n  - rule: RA-US-SOIL\n    resource: x\n    approver: a\n"
        f"    expires: {SOON}\n    justification:\n{laughs('      ')}\n",
        "utf-8",
    )
    with pytest.raises(ExceptionFileError) as exc:
        load_exceptions(path)
    assert "aliases expand" in str(exc.value)


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        "version: 1\nrules:\n  - id: A\n    severity: high\n    message: m\n"
        "    exclude_resources: &kinds ['guardrail.*']\n    when: {field: place.known, equals: false}\n"
        "  - id: B\n    severity: low\n    message: m\n    exclude_resources: *kinds\n"
        "    when: {field: place.known, equals: false}\n",
        "utf-8",
    )
    assert [r.exclude_resources for r in load_rules([path]).rules] == [("guardrail.*",)] * 2


def test_oversized_rule_and_exception_files_are_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("version: 1\nrules: []\n" + "#" * MAX_BYTES, "utf-8")
    with pytest.raises(RuleError, match="limit"):
        load_rules([big])
    with pytest.raises(ExceptionFileError, match="limit"):
        load_exceptions(big)


def test_repro_empty_rule_set_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "empty.yaml"
    rules.write_text("version: 1\nrules: []\n", "utf-8")
    code, out, err = run_cli(["gate", PLAN, "--rules", str(rules)], capsys)  # a plan with US resources
    assert code == 2 and out == ""
    assert "no rules: an empty rule set would pass everything" in err and err.count("\n") == 1


def test_repro_in_on_a_list_field_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "in.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - id: X\n    severity: high\n    message: m\n"
        "    when:\n      field: place.countries\n      in: [US, GB]\n",
        "utf-8",
    )
    code, _, err = run_cli(["gate", PLAN, "--rules", str(rules), "-q"], capsys)
    assert code == 2 and f"{rules}:8: 'in' tests one value, and place.countries is a list" in err
    assert err.count("\n") == 1


def test_in_on_an_attribute_holding_a_list_is_false_not_a_crash(tmp_path: Path) -> None:
    from residency_audit.geography import default_catalog
    from residency_audit.model import Location, Owner, Resource

    rules = tmp_path / "attr.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - id: X\n    severity: high\n    message: m\n"
        "    when: {field: resource.attributes.zones, in: [a]}\n"
        "  - id: Y\n    severity: high\n    message: m\n"
        "    when: {field: resource.attributes.zones, not_in: [a]}\n",
        "utf-8",
    )
    from residency_audit.engine import evaluate

    r = Resource("aws", "x", "x", "x", Owner("a", "1"), [Location("eu-west-1")], attributes={"zones": ["a", "b"]})
    assert [f.rule_id for f in evaluate([r], load_rules([rules]), default_catalog())] == ["Y"]


def test_repro_impossible_date_in_a_rule_file_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "date.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - id: X\n    severity: high\n    message: m\n"
        "    when: {field: resource.tags.until, equals: 2026-02-30}\n",
        "utf-8",
    )
    code, _, err = run_cli(["gate", PLAN, "--rules", str(rules), "-q"], capsys)
    assert code == 2 and f"{rules}:6: invalid YAML: invalid value '2026-02-30'" in err
    assert err.count("\n") == 1 and "internal error" not in err
