"""`residency-audit demo` as a new user runs it: twice, then `report`, as real processes.

Issue 19: the demo printed to stderr (`demo > out.txt` left an empty file), invented changes on
every run (moto gives EC2 instances, volumes, snapshots, backup plans and file systems new
random ids: `report` said 7 new, 7 resolved), and offered options that did nothing.

The demo's terminal snapshots (tests/snapshots/demo-*.txt) are its recorded result rendered at
60, 80, 120 and 200 columns; the 80- and 120-column runs' own stdout must match them too.
Regenerate after an intended change (and review the diff of tests/snapshots/):

    RESIDENCY_AUDIT_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_terminal_output.py tests/test_demo.py -q
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from residency_audit.model import ScanResult
from residency_audit.outputs.table import print_result
from residency_audit.store import open_store

from .snapshot_support import assert_snapshot, normalise, width_of


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class Demo:
    cwd: Path
    runs: list[Run]
    report: Run


def _env(**extra: str) -> dict[str, str]:
    """The user's environment, less the test session's store (the demo records into ./reports)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RESIDENCY_AUDIT_", "AWS_", "AZURE_", "GOOGLE_"))}
    for key in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TERM"):
        env.pop(key, None)
    return {**env, **extra}


def _run(args: list[str], cwd: Path, **env: str) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "residency_audit", *args],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """`demo` at 80 columns, `demo` at 120, then `report -f json`, in one fresh directory."""
    cwd = tmp_path_factory.mktemp("new-user")
    runs = [_run(["demo"], cwd, COLUMNS=str(width)) for width in (80, 120)]
    return Demo(cwd, runs, _run(["report", "-f", "json"], cwd))


def test_the_demo_twice_reports_no_change(demo: Demo) -> None:
    """The same estate, the same ids: the second demo is 0 new, 0 resolved, through the store."""
    assert [r.code for r in demo.runs] == [0, 0], [r.err for r in demo.runs]
    assert demo.report.code == 0, demo.report.err
    assert re.fullmatch(
        r"wrote reports/residency-report-\d{8}T\d{6}Z\.json: 92 findings \(0 new, 0 resolved\), 0 moved, "
        r"0 gaps appeared\n",
        demo.report.out,
    ), demo.report.out
    (path,) = (demo.cwd / "reports").glob("residency-report-*.json")
    report = json.loads(path.read_text("utf-8"))
    diff = report["diff"]
    assert diff["new_findings"] == diff["resolved_findings"] == diff["moved_resources"] == []
    assert diff["added_resources"] == diff["removed_resources"] == []
    assert report["baseline_scan_id"] and report["current_scan_id"] != report["baseline_scan_id"]

    first, second = sorted((demo.cwd / "reports").glob("demo-*.json"))
    ids = [{r["id"] for r in json.loads(p.read_text("utf-8"))["resources"]} for p in (first, second)]
    assert ids[0] == ids[1]
    generated = {i.rsplit("/", 1)[-1].split(":")[-1] for i in ids[0]}
    # the ids moto makes up (instance, volume, snapshot, backup plan, file system) are among them
    for prefix in ("i-", "vol-", "snap-", "fs-"):
        assert any(i.startswith(prefix) for i in generated), prefix
    assert any(re.fullmatch(r"[0-9a-f-]{36}", i) for i in generated), "the backup plan's id"


def test_the_demo_writes_to_stdout_and_shows_where_the_map_is(demo: Demo) -> None:
    run = demo.runs[0]
    assert run.out.startswith("Findings (92)\n")
    assert "Findings (" not in run.err and "Traceback" not in run.err
    assert re.match(r"recorded scan [0-9a-f]{32} in sqlite:///reports/residency\.db\n$", run.err), run.err
    *_, wrote, _copies, opened = run.out.splitlines()
    summary = run.out[run.out.index("\ndemo: ") + 1 :].split("\nwrote ")[0]
    assert " ".join(summary.split()) == (
        "demo: scanned the bundled sample estate (aws, gcp, azure) through the normal scan path; its 92 findings "
        "are there by design (London, Zurich, replicas to Virginia and Sydney, ...)."
    )
    assert max(len(line) for line in summary.splitlines()) <= 80, "wrapped at words to the terminal's width"
    json_path = re.fullmatch(r"wrote (reports/demo-\d{8}T\d{6}Z\.json) \(the scan as JSON\)", wrote)
    html_path = re.fullmatch(
        r"open (reports/demo-\d{8}T\d{6}Z\.html): the report, with a map of where the data lives", opened
    )
    assert json_path and html_path, (wrote, opened)
    assert json.loads((demo.cwd / json_path[1]).read_text("utf-8"))["scan"]["complete"] is True
    html = (demo.cwd / html_path[1]).read_text("utf-8")
    assert html.startswith("<!doctype html>") and "Data-residency compliance report" in html


def test_the_demo_lists_every_copy_of_one_customers_data_set(demo: Demo) -> None:
    """The demo's "copies" step is `copies --tag customer=acme` over the scan it just recorded: the
    checklist file it names holds exactly the copies the command lists, and follows the links the
    adapters record (a snapshot of a tagged disk, a GRS secondary, an object-replication
    destination in another subscription), with the count it prints."""
    line = demo.runs[1].out.splitlines()[-2]
    m = re.fullmatch(
        r"wrote (reports/demo-\d{8}T\d{6}Z-copies\.md): every copy of the data set customer=acme "
        r"\(copies --tag customer=acme\): (\d+) copies in (\d+) resources and (\d+) places, (\d+) outside the EU, "
        r"(\d+) not verifiable",
        line,
    )
    assert m, line
    listed = _run(["copies", "--tag", "customer=acme", "-f", "json"], demo.cwd)
    assert listed.code == 0, listed.err
    doc = json.loads(listed.out)
    present = [c for c in doc["copies"] if c["status"] == "present"]
    assert int(m[2]) == len(present) == doc["summary"]["copies"]
    assert int(m[3]) == len({c["resource_id"] for c in present})
    assert int(m[5]) == doc["summary"]["outside_eu"] and int(m[6]) == doc["summary"]["not_verifiable"]
    markdown = (demo.cwd / m[1]).read_text("utf-8")
    assert markdown.count("- [ ] ") == len(doc["copies"]), "one checkbox per copy, not verifiable ones too"
    for c in doc["copies"]:
        assert f"`{c['resource_id']}`" in markdown, c["resource_id"]
    rows = {(c["resource_id"].rsplit("/", 1)[-1], c["role"], c["region"], c["how"]) for c in present}
    assert ("vm-app-se-nightly", "backup", "swedencentral", "snapshot") in rows, "a snapshot of the tagged disk"
    assert ("stinvoiceswe", "secondary", "northeurope", "selected") in rows, "the GRS secondary"
    assert any(r[0] == "stanalyticsfr" and r[1] == "primary" for r in rows), "replicated to another subscription"
    assert not any(c["resource_id"].endswith("/vm-batch-ch") for c in doc["copies"]), "untagged, unlinked: not listed"


def _recorded(demo: Demo) -> ScanResult:
    with open_store(str(demo.cwd / "reports" / "residency.db"), create=False) as store:
        result = store.load(store.scans()[-1].id)
    # The one figure that depends on thread timing (a bucket's region may be looked up twice).
    result.scan.api_calls = {"demo": 400}
    return result


def _table(text: str) -> str:
    """Stdout less the demo's closing lines, with the API-call count pinned as in `_recorded`."""
    return re.sub(r"\b\d+ API calls\b", "400 API calls", text[: text.index("\ndemo: ") + 1])


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_the_demo_result_at_every_width(demo: Demo, width: int) -> None:
    out = io.StringIO()
    print_result(_recorded(demo), Console(file=out, width=width, force_terminal=False))
    text = out.getvalue()
    assert_snapshot(f"demo-{width}.txt", text)
    assert width_of(text) <= width
    lines = text.splitlines()
    assert lines[0] == "Findings (92)"
    if width == 80:
        assert normalise(_table(demo.runs[0].out)) == normalise(text), "the CLI prints what the snapshot shows"
    if width == 120:
        assert normalise(_table(demo.runs[1].out)) == normalise(text)


def test_demo_help_lists_only_options_that_act(tmp_path: Path) -> None:
    """No --fail-on/--exit-zero/--allow-gaps (the demo's findings are planted: it exits 0 when it
    ran completely); every option it lists changes what a run does, shown in one run."""
    run = _run(["demo", "--help"], tmp_path)
    listed = set(re.findall(r"^  (?:-[a-z], )?(--[a-z-]+)", run.out, re.MULTILINE))
    assert listed == {
        "--help",
        "--reports-dir",
        "--providers",
        "--quiet",
        "--rules",
        "--exceptions",
        "--store",
        "--no-store",
        "--store-timeout",
        "--exception-horizon",
    }
    rules = tmp_path / "one-rule.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - id: DEMO-OUTSIDE\n    title: outside the EU\n    severity: medium\n"
        "    when: {field: place.in_eu, equals: false}\n    message: \"{resource.kind} '{resource.name}'\"\n",
        "utf-8",
    )
    soon = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    accepted = tmp_path / "accepted.yaml"
    accepted.write_text(
        "version: 1\nexceptions:\n  - rule: DEMO-OUTSIDE\n    resource: '*batch-zurich'\n"
        f"    justification: demo\n    approver: test@example.com\n    expires: {soon}\n",
        "utf-8",
    )
    options = ["--providers", "gcp", "--reports-dir", "elsewhere", "--quiet", "--no-store"]
    run = _run(["demo", *options, "--rules", str(rules), "--exceptions", str(accepted)], tmp_path)
    assert run.code == 0 and run.out == "" and run.err == "", run  # --quiet
    assert not (tmp_path / "reports").exists()  # --no-store, --reports-dir
    (scan,) = (tmp_path / "elsewhere").glob("demo-*.json")
    assert len(list((tmp_path / "elsewhere").glob("demo-*.html"))) == 1
    doc = json.loads(scan.read_text("utf-8"))
    assert {f["provider"] for f in doc["findings"]} == {"gcp"}  # --providers
    assert {f["rule_id"] for f in doc["findings"]} == {"DEMO-OUTSIDE"}  # --rules
    suppressed = [f["resource_name"] for f in doc["findings"] if f["suppressed_by"]]
    assert suppressed and set(suppressed) == {"batch-zurich"}  # --exceptions
    short = _run(["demo", *options, "--exceptions", str(accepted), "--exception-horizon", "7"], tmp_path)
    assert short.code == 2 and "horizon" in short.err  # --exception-horizon: 30 days is too far now
    timeout = _run(["demo", "--providers", "gcp", "--quiet", "--store-timeout", "nope"], tmp_path)
    assert timeout.code == 2 and "--store-timeout" in timeout.err  # --store-timeout is read


# ------------------------------------------------------------------ the report's map, in a real browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

#: A point inside a country's shape that a click there really hits (the shape, not a dot on it).
_POINT_IN = """
(function (code, panel) {
  var el = document.querySelector("#" + panel + " path[data-country='" + code + "']");
  document.getElementById("map-box").scrollIntoView({block: "start"});
  var svg = el.ownerSVGElement, box = el.getBBox(), m = el.getScreenCTM();
  for (var i = 1; i < 24; i++) {
    for (var j = 1; j < 24; j++) {
      var p = svg.createSVGPoint();
      p.x = box.x + box.width * i / 24;
      p.y = box.y + box.height * j / 24;
      if (!el.isPointInFill(p)) { continue; }
      var s = p.matrixTransform(m);
      if (document.elementFromPoint(s.x, s.y) === el) { return [s.x, s.y]; }
    }
  }
  return null;
})(%s, %s)
"""

_STATE = """
({
  filter: document.getElementById("filter").value,
  shown: document.getElementById("shown").textContent,
  visible: Array.from(document.querySelectorAll("#findings tr.finding")).filter(function (tr) { return !tr.hidden; })
    .map(function (tr) { return tr.dataset.countries; }),
  selected: Array.from(document.querySelectorAll("#map .selected")).map(function (e) { return e.dataset.country; }),
  status: document.getElementById("script-status").dataset.status
})
"""

_SHADING = """
Object.fromEntries(%s.map(function (code) {
  var el = document.querySelector("#map-europe [data-country='" + code + "'], #map-world [data-country='" + code + "']");
  if (!el) { return [code, null]; }
  var style = getComputedStyle(el);
  return [code, {cls: el.getAttribute("class"), fill: style.fill, opacity: style.fillOpacity,
                 title: el.querySelector("title").textContent}];
}))
"""

RED, BLUE = "rgb(207, 34, 46)", "rgb(9, 105, 218)"


def _demo_html(demo: Demo) -> Path:
    return sorted((demo.cwd / "reports").glob("demo-*.html"))[-1]


def test_the_map_shades_where_the_demo_keeps_data(demo: Demo) -> None:
    """The SVG as written: the outside countries red, the EU ones blue, a multi-region's members
    shaded, and the multi-region one row of the table under the map."""
    from html.parser import HTMLParser

    class Shapes(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.shaded: dict[str, set[str]] = {}
            self.places: dict[str, str] = {}

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag in ("path", "circle") and a.get("data-country"):
                self.shaded.setdefault(str(a["data-country"]), set()).update(str(a.get("class")).split())
            if tag == "tr" and a.get("data-filter"):
                self.places[str(a["data-filter"])] = str(a.get("class"))

    html = _demo_html(demo).read_text("utf-8")
    shapes = Shapes()
    shapes.feed(html)
    for code in ("GB", "CH", "US", "AU"):
        assert "outside" in shapes.shaded[code], code
    # LU, MT: only through the eu multi-region (AT too, and CloudFront's edge locations)
    for code in ("NL", "DE", "IE", "SE", "AT", "LU", "MT"):
        assert "eu" in shapes.shaded[code], code
    assert not {"RU", "CN", "EG", "IS"} & set(shapes.shaded), "no data there: not shaded"
    levels = {c: next(k for k in cls if re.fullmatch(r"l[1-4]", k)) for c, cls in shapes.shaded.items()}
    assert levels["US"] == levels["NL"] == "l4" and levels["AT"] < levels["FR"] < levels["NL"], "darker where more is"
    assert shapes.places["region:eu"] == "place eu", "the multi-region: one row"
    assert "country:AT" not in shapes.places
    assert '<figure id="map-box"><svg id="map"' in html
    assert html.count("<svg") == 2, "the map and the trend: the bar chart became the table under the map"
    scanned = re.search(r'<dd id="target-what">(.*?)</dd>', html)
    assert scanned and scanned[1] == "the bundled demo estate on AWS, Google Cloud and Azure, in local emulators"
    assert "{" not in re.search(r'<dl class="meta">(.*?)</dl>', html, re.DOTALL)[1], "no Python dict in the header"  # type: ignore[index]


def test_the_map_in_a_real_browser(demo: Demo, tmp_path: Path) -> None:
    """Headless Chromium: the shading as the reader sees it, a real click on a country filters the
    findings (a second click clears it), Enter on a focused country does the same, no script error."""
    from .browser_support import Page

    findings = json.loads(sorted((demo.cwd / "reports").glob("demo-*.json"))[-1].read_text("utf-8"))["findings"]
    in_gb = [f for f in findings if "GB" in f["countries"] and not f["suppressed_by"]]
    ARTIFACTS.mkdir(exist_ok=True)
    with Page(tmp_path / "profile", width=1280, height=1000) as page:
        page.open(_demo_html(demo).as_uri())
        state = page.js(_STATE)
        assert state["status"] == "ok" and state["shown"] == "92 of 92"
        shading = page.js(_SHADING % json.dumps(["GB", "CH", "US", "NL", "LU"]))
        assert {c: shading[c]["fill"] for c in ("GB", "CH", "US")} == {"GB": RED, "CH": RED, "US": RED}
        assert shading["NL"]["fill"] == BLUE and float(shading["NL"]["opacity"]) == 1.0
        assert shading["LU"]["fill"] == BLUE and "only as part of a multi-region" in shading["LU"]["title"]
        assert shading["GB"]["title"].startswith("United Kingdom (GB), outside the EU: 16 resources hold data")

        gb = page.js(_POINT_IN % (json.dumps("GB"), json.dumps("map-europe")))
        assert gb, "a point of Great Britain that a click hits"
        page.screenshot(ARTIFACTS / "demo-report-map.png")
        page.click(*gb)
        state = page.js(_STATE)
        assert state["filter"] == "country:GB"
        assert len(state["visible"]) == len(in_gb) and all("GB" in c.split() for c in state["visible"])
        assert state["shown"] == f"{len(in_gb)} of 92"
        assert set(state["selected"]) == {"GB"}
        page.screenshot(ARTIFACTS / "demo-report-filtered.png", full_page=True)

        page.click(*gb)  # again: the filter goes
        state = page.js(_STATE)
        assert state["filter"] == "" and len(state["visible"]) == 92 and state["selected"] == []

        us = page.js(_POINT_IN % (json.dumps("US"), json.dumps("map-world")))
        page.click(*us)
        state = page.js(_STATE)
        assert state["filter"] == "country:US" and state["visible"] and all("US" in c.split() for c in state["visible"])

        page.js("document.querySelector(\"#map-europe [data-country='NL']\").focus()")
        page.call(
            "Input.dispatchKeyEvent", {"type": "keyDown", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
        )
        page.call(
            "Input.dispatchKeyEvent", {"type": "keyUp", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
        )
        state = page.js(_STATE)
        assert state["filter"] == "country:NL" and state["shown"] == "1 of 92", (
            "one finding in the Netherlands: the CloudFront edge"
        )
        assert page.errors == []
    shot = ARTIFACTS / "demo-report-map.png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_the_browser_driver_sees_script_errors(tmp_path: Path) -> None:
    """The negative control for `page.errors == []` above."""
    from .browser_support import Page

    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><body><script>notDefined();</script></body>", "utf-8")
    with Page(tmp_path / "profile") as page:
        page.open(bad.as_uri())
        page.js("1")
        assert any("notDefined is not defined" in e for e in page.errors), page.errors
