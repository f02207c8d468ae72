"""The README and the documentation site: size, set-up commands, links, generated reference pages,
and the built site in a real browser."""

from __future__ import annotations

import argparse
import functools
import http.server
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from residency_audit.cli import build_parser
from residency_audit.terraform import supported_types

from .browser_support import Page, chromium_path
from .store_support import in_ci

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
README = REPO / "README.md"
ARTIFACTS = REPO / "test-artifacts"
SETUP = "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && residency-audit demo"
TEST_COMMAND = "python -m pytest"


@functools.cache
def gen() -> ModuleType:
    """docs/gen_reference.py, loaded by path as docs/hooks.py loads it."""
    name = "residency_audit_docs_gen_reference"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, DOCS / "gen_reference.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


# --------------------------------------------------------------------------- README


def test_readme_is_short_and_keeps_its_promises() -> None:
    text = README.read_text("utf-8")
    assert len(text.encode("utf-8")) <= 12 * 1024
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    assert blocks[:2] == [SETUP + "\n", TEST_COMMAND + "\n"], "the two set-up commands come first, exactly"
    assert re.search(r"about [\d½.]+ minutes on a 2-core machine", text)
    for needle in ("PostgreSQL", "Chromium", "RESIDENCY_AUDIT_TEST_PG", "| 4 |", "| 130 |"):
        assert needle in text, needle


def test_ci_runs_the_readme_test_command_and_the_strict_docs_build() -> None:
    ci = (REPO / ".ci" / "run").read_text("utf-8")
    commands = [line.strip() for line in ci.splitlines() if not line.lstrip().startswith("#")]
    assert TEST_COMMAND in commands
    assert any(c.startswith("mkdocs build --strict") or "-m mkdocs build --strict" in c for c in commands)
    assert commands.index("ruff check .") < commands.index("mypy") < commands.index(TEST_COMMAND)


def test_every_relative_link_in_the_readme_and_docs_exists() -> None:
    pages = [README, *DOCS.rglob("*.md")]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text("utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            if not (page.parent / target).resolve().exists():
                broken.append(f"{page.relative_to(REPO)} -> {target}")
    assert not broken


def test_every_docs_page_is_in_the_navigation() -> None:
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text("utf-8"))

    def walk(node: object) -> Iterator[str]:
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for v in node.values():
                yield from walk(v)
        elif isinstance(node, list):
            for v in node:
                yield from walk(v)

    in_nav = set(walk(config["nav"]))
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert on_disk == in_nav


# --------------------------------------------------------------------------- generated reference pages


def test_every_marker_has_a_generator_and_every_generator_a_page() -> None:
    markers = {m for p in DOCS.rglob("*.md") for m in re.findall(r"<!-- reference:([a-z-]+) -->", p.read_text())}
    assert markers == set(gen().GENERATORS)


def test_rules_reference_lists_every_rule_of_every_shipped_file() -> None:
    text = gen().rules_reference(REPO)
    files = sorted((REPO / "rules").glob("*.yaml")) + sorted((REPO / "rules" / "profiles").glob("*.yaml"))
    assert files
    for path in files:
        for rule in yaml.safe_load(path.read_text("utf-8"))["rules"]:
            row = next(line for line in text.splitlines() if line.startswith(f"| [`{rule['id']}`]"))
            assert f"| {rule['severity']} |" in row
            assert f"### {rule['id']} {{#{rule['id'].lower()}}}" in text
            assert " ".join(rule["clause"].split()).split(":")[0] in text


def test_terraform_reference_lists_every_supported_type_with_its_kind() -> None:
    text = gen().terraform_types_reference(REPO)
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([a-z0-9_]+)` \| ([^|]+) \|", text, re.M)}
    assert set(rows) == set(supported_types())
    assert rows["aws_s3_bucket"].strip() == "`s3.bucket`"
    assert rows["aws_s3_bucket_replication_configuration"].strip() == "—"  # a link: adds to its bucket


def test_terraform_reference_fails_the_build_when_a_type_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generator checks itself against supported_types(): a provider it does not walk breaks the build."""
    module = gen()
    monkeypatch.setattr(module, "CLOUDS", {"aws": "AWS", "gcp": "Google Cloud"})
    with pytest.raises(RuntimeError, match="azurerm_storage_account"):
        module.terraform_types_reference(REPO)


def test_kind_classes_reference_has_every_row() -> None:
    text = gen().kind_classes_reference(REPO)
    for cloud in ("aws", "gcp", "azure"):
        rows = gen()._classes(cloud)
        assert f"{len(rows)} rows" in text
        for row in rows:
            assert f"`{row.match[0]}`" in text


def test_azure_kinds_reference_has_every_declared_kind_and_read() -> None:
    from residency_audit.providers import api

    text = gen().azure_kinds_reference(REPO)
    kinds = api("azure").kinds()
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([a-z.*/]+)` \|.*$", text, re.M)}
    assert set(rows) == {k.name for k in kinds}
    for k in kinds:
        assert f"| {k.judged} |" in rows[k.name], k.name
        for op in k.reads:
            if op not in kinds[-1].reads:  # beyond the inventory (the generic kind's reads)
                assert f"`{op.permission}`" in rows[k.name], (k.name, op.permission)
    assert "`Microsoft.Web/sites/backups/read`" in rows["microsoft.web/sites"]


@pytest.mark.parametrize("provider", ["aws", "gcp", "azure"])
def test_permissions_reference_is_what_the_command_prints(provider: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "residency_audit", "permissions", provider], capture_output=True, text=True, check=True
    )
    if provider == "aws":
        names = json.loads(proc.stdout)["Statement"][0]["Action"]
    elif provider == "gcp":
        names = yaml.safe_load(proc.stdout)["includedPermissions"]
    else:
        names = json.loads(proc.stdout)["Actions"]
    assert names
    text = gen().permissions_reference(REPO)
    section = text.split({"aws": "## AWS", "gcp": "## Google Cloud", "azure": "## Azure"}[provider])[1].split("\n## ")[
        0
    ]
    for name in names:
        assert f'"{name}"' in section or f"- {name}" in section, name


def test_cli_reference_documents_every_command_and_option() -> None:
    text = gen().cli_reference(REPO)
    parser = build_parser(full=True)
    seen = 0
    for path, sub, _ in gen().commands(parser):
        heading = " ".join(("residency-audit", *path))
        assert f"`{heading}`" in text
        section = text.split(f"`{heading}` {{#")[1]
        section = section.split("\n#")[0]
        # Every option --help shows for this command is in its section.
        for option in set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", sub.format_help())):
            assert f"{option}" in section, (heading, option)
            seen += 1
    assert seen > 100
    for name in ("scan aws", "scan gcp", "scan azure", "guardrails aws", "gate", "report", "demo"):
        assert f"`residency-audit {name}`" in text


def test_cli_walk_reaches_nested_subcommands() -> None:
    paths = [p for p, _, _ in gen().commands(build_parser(full=True))]
    assert ("scan", "azure") in paths and ("guardrails", "gcp") in paths
    assert all(isinstance(p, tuple) for p in paths)
    assert len(paths) == len(set(paths))
    assert isinstance(build_parser(full=True), argparse.ArgumentParser)


# --------------------------------------------------------------------------- the built site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        if in_ci():
            pytest.fail("mkdocs/mkdocs-material missing in CI: .ci/run must install '.[docs]'")
        pytest.skip("mkdocs not installed (pip install -e '.[docs]')")
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_site_has_the_generated_pages(site: Path) -> None:
    cli = (site / "reference" / "cli" / "index.html").read_text("utf-8")
    assert 'id="cli-scan-aws"' in cli and "--organization" in cli
    rules = (site / "reference" / "rules" / "index.html").read_text("utf-8")
    assert 'id="ra-us-soil"' in rules
    assert "reference:" not in rules  # the marker was replaced
    assert not list(site.rglob("*.py")), "the generator sources must not be published"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # type: ignore[override]
        pass


def test_site_renders_and_navigates_in_a_browser(site: Path, tmp_path: Path) -> None:
    chromium_path()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with Page(tmp_path / "profile", width=1280, height=900) as page:
            page.open(base)
            assert page.js("document.title").startswith("residency-audit")
            # Nothing is fetched from anywhere but this server (no web fonts, no CDN).
            hosts = page.js("performance.getEntriesByType('resource').map(e => new URL(e.name).host)")
            assert hosts and set(hosts) == {f"127.0.0.1:{server.server_address[1]}"}
            # Click the navigation entry for the gate, as a reader would.
            box = page.js(
                "(() => { const a = [...document.querySelectorAll('nav.md-nav--primary a')]"
                ".find(a => a.textContent.trim() === 'The gate');"
                " const r = a.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
            )
            assert 0 < box[1] < 900, "the entry is visible in the sidebar without scrolling"
            page.click(*box)
            page.wait_for("Page.loadEventFired")
            assert page.js("location.pathname") == "/gate/"
            assert page.js("document.querySelector('h1').textContent").startswith("The gate")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(ARTIFACTS / "docs-gate.png")
            page.open(base + "reference/terraform-types/")
            rows = page.js("document.querySelectorAll('article table tbody tr').length")
            assert rows == len(supported_types())
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("page", ["rules.md", "guardrails.md"])
def test_hand_written_rule_tables_agree_with_the_rule_files(page: str) -> None:
    """The prose pages keep a one-line summary per rule; its id and severity must be the file's."""
    severity = {
        rule["id"]: rule["severity"]
        for path in (REPO / "rules").rglob("*.yaml")
        for rule in yaml.safe_load(path.read_text("utf-8"))["rules"]
    }
    rows = re.findall(r"^\| (`RA-[^|]+) \| ([a-z /]+) \|", (DOCS / page).read_text("utf-8"), re.M)
    assert rows
    for ids, sevs in rows:
        for rule_id, sev in zip(re.findall(r"`(RA-[A-Z-]+)`", ids), sevs.split(" / "), strict=True):
            assert severity[rule_id] == sev.strip(), rule_id
