"""Rule files: validated with file:line errors; evaluated against real catalog places."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from residency_audit.engine import RuleError, evaluate, load_rules
from residency_audit.geography import Catalog
from residency_audit.model import Location, Owner, Resource

from .conftest import run_cli


def _res(*locations: Location, name: str = "r") -> Resource:
    return Resource("aws", "s3.bucket", f"arn:aws:s3:::{name}", name, Owner("account", "1"), list(locations))


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "rules.yaml"
    p.write_text(text)
    return p


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog()


def test_default_rules_cover_article_6(catalog: Catalog) -> None:
    rules = load_rules()
    resources = [
        _res(Location("eu-west-1"), name="clean"),
        _res(Location("eu-central-1"), Location("us-east-1", role="replica"), name="frankfurt-to-virginia"),
        _res(Location("eu-west-2"), name="london"),
        _res(Location("xx-nowhere-9"), name="unknown"),
        _res(Location(None, role="replica"), name="unreported"),
    ]
    got = {(f.resource.name, f.rule_id, f.region, f.severity) for f in evaluate(resources, rules, catalog)}
    assert got == {
        ("frankfurt-to-virginia", "RA-US-SOIL", "us-east-1", "critical"),
        ("london", "RA-EU-OUTSIDE", "eu-west-2", "high"),
        ("unknown", "RA-EU-UNKNOWN", "xx-nowhere-9", "high"),
        ("unreported", "RA-EU-UNKNOWN", None, "high"),
    }


def test_resource_without_locations_fails_closed(catalog: Catalog) -> None:
    (finding,) = evaluate([_res()], load_rules(), catalog)
    assert finding.rule_id == "RA-EU-UNKNOWN"


def test_custom_rule_file_and_message(tmp_path: Path, catalog: Catalog) -> None:
    p = _write(
        tmp_path,
        """
version: 1
rules:
  - id: only-frankfurt
    severity: medium
    when: {not: {field: location.region, in: [eu-central-1]}}
    message: "{resource.name} has a {role} in {region} ({countries})"
""",
    )
    findings = evaluate(
        [_res(Location("eu-central-1"), Location("eu-west-1", role="backup"))], load_rules([p]), catalog
    )
    assert [(f.rule_id, f.message) for f in findings] == [("only-frankfurt", "r has a backup in eu-west-1 (IE)")]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (
            "version: 1\nrules:\n  - id: a\n    severity: high\n    when: {field: place.nope, equals: 1}\n    message: m\n",
            5,
            "unknown field 'place.nope'",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    severity: urgent\n    when: {field: place.known, equals: false}\n    message: m\n",
            4,
            "severity must be one of",
        ),
        ("version: 1\nrules:\n  - id: a\n    severity: high\n    message: m\n", 3, "rule is missing 'when'"),
        (
            "version: 1\nrules:\n  - id: a\n    severity: high\n    when: {field: place.known}\n    message: m\n",
            5,
            "needs exactly one of",
        ),
        ("version: 1\nrules:\n  - id: a\n    severty: high\n", 4, "unknown rule key 'severty'"),
        (
            "version: 1\nrules:\n  - id: a\n    severity: high\n    when: {field: place.known, equals: false}\n"
            "    message: '{nope}'\n",
            6,
            "unknown field '{nope}'",
        ),
        ("version: 1\nrules: [\n", 3, "invalid YAML"),
        ("version: 2\nrules: []\n", 1, "unsupported version"),
        (
            "version: 1\nrules:\n  - id: a\n    severity: high\n    when: {field: place.known, equals: false}\n"
            "    message: m\n  - id: a\n    severity: low\n    when: {field: place.known, equals: false}\n    message: m\n",
            7,
            "duplicate rule id 'a'",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    severity: high\n    overrides: [zzz]\n"
            "    when: {field: place.known, equals: false}\n    message: m\n",
            3,
            "overrides unknown rule 'zzz'",
        ),
    ],
)
def test_broken_rule_files_name_file_line_and_problem(tmp_path: Path, text: str, line: int, problem: str) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(RuleError) as exc:
        load_rules([p])
    message = str(exc.value)
    assert message.startswith(f"{p}:{line}:"), message
    assert problem in message


def test_broken_rule_file_on_the_cli_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _write(
        tmp_path,
        "version: 1\nrules:\n  - id: a\n    severity: urgent\n    when: {field: place.known, equals: false}\n    message: m\n",
    )
    code, out, err = run_cli(["scan", "aws", "--rules", str(p), "-q"], capsys)
    assert code == 2
    assert out == "" and err.count("\n") == 1 and f"{p}:4:" in err


def test_missing_rule_path(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="no such rule file"):
        load_rules([tmp_path / "absent.yaml"])


def test_resources_and_exclude_resources_pick_the_rules_per_kind(tmp_path: Path, catalog: Catalog) -> None:
    p = _write(
        tmp_path,
        """
version: 1
rules:
  - id: buckets-only
    severity: low
    resources: ["s3.*", "storage.bucket"]
    exclude_resources: ["s3.access_point"]
    when: {field: place.known, equals: true}
    message: m
""",
    )
    bucket = _res(Location("eu-west-1"), name="b")
    vm = Resource("aws", "ec2.instance", "arn:vm", "vm", Owner("account", "1"), [Location("eu-west-1")])
    ap = Resource("aws", "s3.access_point", "arn:ap", "ap", Owner("account", "1"), [Location("eu-west-1")])
    got = {f.resource.name for f in evaluate([bucket, vm, ap], load_rules([p]), catalog)}
    assert got == {"b"}


def test_guardrail_pseudo_resources_are_excluded_from_article_6(catalog: Catalog) -> None:
    pseudo = Resource(
        "aws",
        "guardrail.aws-scp",
        "scp:1",
        "root",
        Owner("account", "1"),
        [Location("us-east-1", role="allowed")],
        attributes={"scope": "r", "fix_scope": "r", "gap": "region-allowed"},
    )
    ids = {f.rule_id for f in evaluate([pseudo], load_rules(), catalog)}
    assert ids and not ids & {"RA-EU-UNKNOWN", "RA-EU-OUTSIDE", "RA-US-SOIL"}


@pytest.mark.parametrize("value", ["s3.*", "[]", "[1, 2]"])
def test_bad_resources_key_names_file_and_line(tmp_path: Path, value: str) -> None:
    p = _write(
        tmp_path,
        f"version: 1\nrules:\n  - id: a\n    severity: low\n    resources: {value}\n"
        "    when: {field: place.known, equals: true}\n    message: m\n",
    )
    with pytest.raises(RuleError, match=rf"^{p}:5: resources must be a non-empty list"):
        load_rules([p])


def test_rules_record_what_they_read(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        """
version: 1
rules:
  - {id: p, severity: low, message: m, when: {field: place.in_eu, equals: false}}
  - id: pr
    severity: low
    message: m
    when: {any: [{field: place.known, equals: false}, {not: {field: owner.id, equals: "1"}}]}
  - {id: l, severity: low, message: m, when: {field: location.role, equals: replica}}
""",
    )
    reads = {r.id: r.reads for r in load_rules([p]).rules}
    assert reads == {"p": {"place"}, "pr": {"place", "resource"}, "l": {"location"}}


def test_place_only_verdicts_are_shared_but_never_across_places_or_resources(tmp_path: Path, catalog: Catalog) -> None:
    """Place-only rules are decided once per place; the result must equal deciding every location afresh."""
    p = _write(
        tmp_path,
        """
version: 1
rules:
  - {id: outside, severity: high, message: "{resource.name}", when: {field: place.in_eu, equals: false}}
  - id: outside-prod
    severity: critical
    message: "{resource.name}"
    when: {all: [{field: place.in_eu, equals: false}, {field: resource.name, glob: "prod-*"}]}
  - {id: replica, severity: low, message: "{resource.name}", when: {field: location.role, equals: replica}}
""",
    )
    rules = load_rules([p])
    regions = ["eu-west-1", "eu-west-2", "us-east-1", "eu-central-1", "xx-nowhere-1", "ap-southeast-2"]
    resources = [
        _res(
            Location(regions[i % 6]),
            Location(regions[(i * 7 + 3) % 6], role="replica" if i % 3 else "backup"),
            name=f"{'prod' if i % 4 == 0 else 'dev'}-{i}",
        )
        for i in range(60)
    ]
    got = sorted((f.resource.name, f.region, f.rule_id, f.message) for f in evaluate(resources, rules, catalog))
    want = sorted(
        (r.name, loc.region, rule.id, r.name)
        for r in resources
        for loc in r.locations
        for rule in rules.rules
        if rule.when((r, loc, catalog.resolve_location("aws", loc)))
    )
    assert got == want
    assert {g[2] for g in got} == {"outside", "outside-prod", "replica"}
    # the unknown region's places are made per call: distinct objects, same verdicts
    assert sum(1 for g in got if g[1] == "xx-nowhere-1" and g[2] == "outside") == 20


TEMPLATES = {
    "{resource.kind} '{resource.name}': {role} location '{region}' ({place.name}) is in {countries}": (
        "s3.bucket 'b': replica location 'eu-west-2' (Europe (London)) is in GB",
        "s3.bucket 'b': primary location 'unknown' (unknown) is in unknown country",
    ),
    "{resource.attributes[scope]} / {resource.tags[env]} / {owner.id} / {owner.kind} / {resource.id}": (
        "org/ou-1 / prod / 1 / account / arn:aws:s3:::b",
        "org/ou-1 / prod / 1 / account / arn:aws:s3:::b",
    ),
    "{region:>12}|{role!r}|{place.countries}|{location.detail!s:.5}|{location.zone}": (
        "   eu-west-2|'replica'|GB|repli|",
        "     unknown|'primary'|||",
    ),
    "{resource.tags[missing]}<- a missing tag renders empty": ("<- a missing tag renders empty",) * 2,
    "{resource.attributes[list]}": ("a, b", "a, b"),
    "no fields at all, {{braces}} escaped": ("no fields at all, {braces} escaped",) * 2,
    "": ("", ""),
}


@pytest.mark.parametrize("template", TEMPLATES)
def test_message_templates_render_documented_fields(template: str, catalog: Catalog) -> None:
    from residency_audit.engine import _Template

    resource = Resource(
        "aws",
        "s3.bucket",
        "arn:aws:s3:::b",
        "b",
        Owner("account", "1"),
        [],
        tags={"env": "prod"},
        attributes={"scope": "org/ou-1", "list": ["a", "b"]},
    )
    got = []
    for loc in (Location("eu-west-2", role="replica", detail="replication rule r1"), Location(None)):
        got.append(_Template(template).render(resource, loc, catalog.resolve_location("aws", loc)))
    assert tuple(got) == TEMPLATES[template]


@pytest.mark.parametrize(
    "template",
    [
        # the reproduction: the secret from the environment, through the object graph
        "{resource.__class__.__init__.__globals__[uuid].os.environ[AWS_SECRET_ACCESS_KEY]}",
        "{resource.tags.__class__}",
        "{resource.attributes[scope].__class__}",
        "{place.countries[0]}",
        "{resource}",  # the whole object (its repr): not a documented field
        "{owner.chain}",
        "{} and {0} are positional",
        "{region:{role}} nests a spec",
        "{region!x}",
        "{region:d}",
        "{",
    ],
)
def test_message_templates_refuse_anything_else_at_load(tmp_path: Path, template: str) -> None:
    p = _write(
        tmp_path,
        "version: 1\nrules:\n  - id: a\n    severity: high\n    when: {field: place.known, equals: false}\n"
        f"    message: {json.dumps(template)}\n",
    )
    with pytest.raises(RuleError) as exc:
        load_rules([p])
    assert str(exc.value).startswith(f"{p}:6: bad message template"), str(exc.value)


def test_repro_rule_message_cannot_reach_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    rules = _write(
        tmp_path,
        "version: 1\nrules:\n  - id: LEAK\n    severity: high\n    when: {field: place.known, equals: true}\n"
        "    message: '{resource.__class__.__init__.__globals__[uuid].os.environ[AWS_SECRET_ACCESS_KEY]}'\n",
    )
    plan = Path(__file__).parent / "fixtures" / "plans" / "aws" / "plan.json"
    out = tmp_path / "gate.sarif"
    code, stdout, err = run_cli(["gate", str(plan), "--rules", str(rules), "-f", "sarif", "-o", str(out)], capsys)
    assert code == 2 and f"{rules}:6: bad message template: unknown field" in err
    assert not out.exists() and "wJalrXUtnFEMI" not in stdout + err
