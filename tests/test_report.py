"""`residency-audit report`: formats, the HTML in a real headless Chromium, evidence bundles, end to end."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from residency_audit.model import ScanRequest
from residency_audit.store import open_store
from residency_emulator.aws import AwsEmulator
from residency_emulator.estate import seed_aws

from .browser_support import chromium_path
from .conftest import read_json, run_cli
from .store_support import PROD, fp, res, scan_of, sequence, store_urls

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


def _history(url: str) -> tuple[str, list[Any]]:
    results = sequence()
    with open_store(url) as store:
        for r in results[:3]:  # current = scan 2, baseline = scan 1, scan 3 interrupted after it
            store.record(r)
    return url, results


@pytest.fixture(params=["sqlite", "postgresql"])
def history(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, list[Any]]]:
    """A store (SQLite file, or a fresh PostgreSQL database) holding the sequence's first three scans."""
    for url in store_urls(request.param, tmp_path):
        yield _history(url)


@pytest.fixture
def sqlite_history(tmp_path: Path) -> tuple[str, list[Any]]:
    return _history(str(tmp_path / "store" / "residency.db"))


def _report(capsys: pytest.CaptureFixture[str], url: str, out: Path, *extra: str) -> Path:
    code, stdout, err = run_cli(["report", "--store", url, "--output", str(out), *extra], capsys)
    assert code == 0, err
    (written,) = [p for p in out.iterdir() if p.name.startswith(("residency-report-", "evidence-"))]
    assert str(written) in stdout
    return written


def test_json_report_holds_the_scans_and_the_diff(
    history: tuple[str, list[Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, (s1, s2, s3, _) = history
    doc = read_json(_report(capsys, url, tmp_path / "out", "-f", "json"))
    assert (doc["current_scan_id"], doc["baseline_scan_id"]) == (s2.scan.id, s1.scan.id)
    assert doc["newer_incomplete_scan_ids"] == [s3.scan.id]
    assert [s["scan"]["id"] for s in doc["scans"]] == [s1.scan.id, s2.scan.id, s3.scan.id]
    from residency_audit.outputs.jsonout import to_dict

    assert doc["scans"][1] == json.loads(json.dumps(to_dict(s2)))
    d = doc["diff"]
    assert {f["fingerprint"] for f in d["new_findings"]} == {
        fp("RA-EU-OUTSIDE", "photos", "primary", "ap-southeast-2"),
        fp("RA-US-SOIL", "invoices", "primary", "us-east-2"),
    }
    assert [f["resource_name"] for f in d["resolved_findings"]] == ["runner"]
    assert [(m["name"], m["before"], m["after"]) for m in d["moved_resources"]] == [
        ("invoices", ["primary:eu-west-1"], ["primary:us-east-2"])
    ]
    assert [(g["service"], g["scan_id"]) for g in d["gaps_appeared"]] == [("rds", s3.scan.id)]
    assert doc["groups"]["by_country"] == {"US": 1, "GB": 2, "AU": 1}
    assert [h["complete"] for h in doc["history"]] == [True, True, False]


def test_csv_report_marks_each_finding(
    history: tuple[str, list[Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = history
    rows = list(csv.DictReader(io.StringIO(_report(capsys, url, tmp_path / "out", "-f", "csv").read_text())))
    url, (s1, s2, s3, _) = history
    assert {(r["change"], r["scan_id"]) for r in rows} == {
        ("new", s2.scan.id),
        ("unchanged", s2.scan.id),
        ("resolved", s1.scan.id),
        ("unconfirmed", s3.scan.id),
    }
    got = {(r["change"], r["resource_name"], r["region"], r["organisation"]) for r in rows}
    org = "organization o-example (Example BV)"
    assert got == {
        ("new", "invoices", "us-east-2", org),
        ("new", "photos", "ap-southeast-2", org),
        ("unchanged", "exports", "eu-west-2", org),
        ("unchanged", "crm", "eu-west-2", org),
        ("resolved", "runner", "us-east-1", org),
        ("unconfirmed", "ohio-vm", "us-east-2", org),
    }


def test_markdown_report_sections(
    history: tuple[str, list[Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, (_, s2, _, _) = history
    md = _report(capsys, url, tmp_path / "out", "-f", "md").read_text()
    for heading in (
        "## Where the data lives",
        "### New findings (2)",
        "### Resolved findings (1)",
        "### Resources that moved (1)",
        "### Coverage gaps that appeared (1)",
        "## Findings by owner",
        "## Findings by country",
        "## Findings by rule",
        "## Scan history",
    ):
        assert heading in md
    assert f"scan `{s2.scan.id}`" in md and "1 newer scan(s) were incomplete" in md
    assert "| organization o-example (Example BV) | account 222222222222 (data) | 1 | high 1 |" in md


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for k, v in attrs:
            if k in ("src", "href", "srcset", "action", "poster", "data") and v is not None:
                self.refs.append((tag, k, v))


def _html(history: tuple[str, list[Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    url, _ = history
    return _report(capsys, url, tmp_path / "out", "-f", "html")


def test_html_is_self_contained(
    sqlite_history: tuple[str, list[Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _html(sqlite_history, tmp_path, capsys).read_text()
    parser = _Refs()
    parser.feed(text)
    assert parser.refs == []  # nothing loaded from anywhere: no src, no href at all
    assert "link" not in parser.tags and "iframe" not in parser.tags and "img" not in parser.tags
    assert "@import" not in text and "url(" not in text and "http://" not in text and "https://" not in text
    assert {"svg", "script", "style", "table"} <= parser.tags


# ------------------------------------------------------------------ headless Chromium


def _browse(page: Path, tmp_path: Path, *mode: str, query: str = "") -> tuple[str, list[str]]:
    """Run headless Chromium on a file; returns (stdout, console messages from its log)."""
    profile = tmp_path / f"profile-{time.monotonic_ns()}"
    cmd = [
        chromium_path(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=3000",
        *mode,
        page.as_uri() + query,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, console


class _Rows(HTMLParser):
    """Rows of #findings after the script ran: (hidden?, countries)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[bool, str]] = []
        self.status: str | None = None
        self.shown = ""
        self._in_shown = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and a.get("class") == "finding":
            self.rows.append(("hidden" in a, a.get("data-countries") or ""))
        if a.get("id") == "script-status":
            self.status = a.get("data-status")
        self._in_shown = a.get("id") == "shown"

    def handle_data(self, data: str) -> None:
        if self._in_shown:
            self.shown += data
            self._in_shown = False


def test_console_detection_works(tmp_path: Path) -> None:
    """The negative control: a page with a script error is caught by the same check."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><body><script>notDefined();</script></body>")
    _, console = _browse(bad, tmp_path, "--dump-dom")
    assert any("notDefined is not defined" in line for line in console), console


def test_html_in_headless_chromium(
    sqlite_history: tuple[str, list[Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = _html(sqlite_history, tmp_path, capsys)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "residency-report.png"
    shot.unlink(missing_ok=True)
    _, console = _browse(page, tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars")
    assert console == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    shutil.copy(page, ARTIFACTS / "residency-report.html")

    dom, console = _browse(page, tmp_path, "--dump-dom")
    assert console == []
    rows = _Rows()
    rows.feed(dom)
    assert rows.status == "ok"
    assert len(rows.rows) == 4 and not any(hidden for hidden, _ in rows.rows)

    dom, console = _browse(page, tmp_path, "--dump-dom", query="?filter=GB")
    assert console == []
    rows = _Rows()
    rows.feed(dom)
    assert rows.status == "ok"
    assert sorted(c for hidden, c in rows.rows if not hidden) == ["GB", "GB"]
    assert sorted(c for hidden, c in rows.rows if hidden) == ["AU", "US"]
    assert rows.shown.strip() == "2 of 4"


# ------------------------------------------------------------------ evidence bundle


def test_bundle_verifies_and_detects_tampering(
    history: tuple[str, list[Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, (s1, s2, s3, _) = history
    bundle = _report(capsys, url, tmp_path / "out", "--bundle", "-f", "md")
    manifest = read_json(bundle / "manifest.json")
    names = sorted(e["path"] for e in manifest["files"])
    assert len(names) == 4 and names[0].startswith("residency-report-") and names[0].endswith(".md")
    assert sorted(Path(n).stem.split("-", 1)[1] for n in names[1:]) == sorted(r.scan.id for r in (s1, s2, s3))
    assert manifest["scan_ids"] == [s1.scan.id, s2.scan.id, s3.scan.id]
    if shutil.which("sha256sum"):
        ok = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=bundle, capture_output=True, text=True)
        assert ok.returncode == 0, ok.stdout + ok.stderr
    code, out, _ = run_cli(["report", "--verify", str(bundle)], capsys)
    assert code == 0 and "OK" in out
    scan_file = bundle / names[1]
    scan_file.write_text(scan_file.read_text().replace('"complete": true', '"complete": false', 1))
    (bundle / "extra.txt").write_text("x")
    code, out, _ = run_cli(["report", "--verify", str(bundle)], capsys)
    assert code == 1
    assert sorted(line.split(": ", 1)[1] for line in out.splitlines() if ": signature " not in line) == sorted(
        [f"{names[1]}: changed (SHA-256 differs)", "extra.txt: not in the manifest"]
    )


# ------------------------------------------------------------------ errors and start-up


def test_report_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = str(tmp_path / "empty.db")
    for args, needle in (
        (["report", "--store", empty], "no scans recorded"),
        (["report", "--store", empty, "--since", "last tuesday"], "not an ISO 8601 date"),
        (["report", "--store", "mysql://x/y"], "unsupported store URL scheme"),
        (["report", "--store", empty, "--last", "0"], "--last must be at least 1"),
    ):
        code, _, err = run_cli(args, capsys)
        assert code == 2 and err.count("\n") == 1 and needle in err, (args, err)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_report_never_creates_the_store_it_reads(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`report` in an empty directory used to exit 2 and leave an empty reports/residency.db behind;
    an empty PostgreSQL database got the whole schema."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RESIDENCY_AUDIT_STORE", raising=False)
    if kind == "sqlite":
        code, out, err = run_cli(["report"], capsys)
        assert code == 2 and out == ""
        assert err == (
            "residency-audit: error: no scans recorded in reports/residency.db: there is no store (scans record "
            "into it by default; --store or $RESIDENCY_AUDIT_STORE name another one)\n"
        )
        assert list(tmp_path.iterdir()) == []
        return
    import psycopg

    for url in store_urls(kind, tmp_path):
        code, _, err = run_cli(["report", "--store", url], capsys)
        assert code == 2 and err.count("\n") == 1 and "no scans recorded there" in err, err
        with psycopg.connect(url) as conn:
            tables = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
            assert tables.fetchall() == []
        assert list(tmp_path.iterdir()) == []


def test_help_and_report_help_do_not_import_sqlalchemy() -> None:
    code = (
        "import sys\n"
        "from residency_audit.cli import main\n"
        "for argv in (['--help'], ['report', '--help'], ['scan', 'aws', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic', 'jinja2', 'psycopg'))\n"
        "print('LOADED', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert "LOADED []" in out


# ------------------------------------------------------------------ end to end through `scan aws`


def _scan(capsys: pytest.CaptureFixture[str], url: str, tmp_path: Path, *extra: str) -> int:
    code, _, err = run_cli(
        [
            "scan",
            "aws",
            "--regions",
            "eu-west-1,eu-west-2,us-east-1",
            "--services",
            "s3",
            "-f",
            "json",
            "-o",
            str(tmp_path / "scan.json"),
            "--store",
            url,
            *extra,
        ],
        capsys,
    )
    assert "Traceback" not in err
    return code


def test_real_scans_recorded_by_the_cli_and_reported(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    url = str(tmp_path / "cli.db")
    seed_aws(aws_env)
    assert _scan(capsys, url, tmp_path) == 1
    s3 = boto3.client("s3", region_name="eu-west-2")
    s3.delete_bucket(Bucket="exports-london")
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="new-virginia")
    assert _scan(capsys, url, tmp_path, "-q") == 1
    assert _scan(capsys, url, tmp_path, "-q", "--no-store") == 1  # not recorded
    doc = read_json(_report(capsys, url, tmp_path / "out", "-f", "json"))
    d = doc["diff"]
    assert [(f["resource_name"], f["region"]) for f in d["new_findings"]] == [("new-virginia", "us-east-1")]
    assert [(f["resource_name"], f["region"]) for f in d["resolved_findings"]] == [("exports-london", "eu-west-2")]
    assert d["moved_resources"] == [] and len(doc["history"]) == 2
    with open_store(url) as store:
        assert [s.complete for s in store.scans()] == [True, True] and store.check() == []


_SCAN_ENV_KEYS = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def _scan_process(url: str, tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "residency_audit",
            "scan",
            "aws",
            "--workers",
            "2",
            "--regions",
            "eu-west-1,eu-west-2,us-east-1",
            "--services",
            "s3",
            "-q",
            "-f",
            "json",
            "-o",
            str(tmp_path / "killed.json"),
            "--store",
            url,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_requests(emu: AwsEmulator, n: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while len(emu.front.log) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the scan never reached the emulator"
        time.sleep(0.05)


@pytest.mark.slow
def test_killed_and_interrupted_scans_via_the_cli(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGKILL mid-scan records nothing; Ctrl-C (SIGINT) records an incomplete scan that is never the baseline."""
    url = str(tmp_path / "kill.db")
    seed_aws(aws_env)
    assert _scan(capsys, url, tmp_path, "-q") == 1
    with open_store(url) as store:
        (first,) = store.scans()
    aws_env.front.latency = 0.2
    try:
        aws_env.front.clear_log()
        proc = _scan_process(url, tmp_path)
        _wait_for_requests(aws_env, 5, proc)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        with open_store(url) as store:
            assert [s.id for s in store.scans()] == [first.id] and store.check() == []

        aws_env.front.clear_log()
        proc = _scan_process(url, tmp_path)
        _wait_for_requests(aws_env, 5, proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=90)
    finally:
        aws_env.front.latency = 0.0
    assert "Traceback" not in err, err
    with open_store(url) as store:
        infos = store.scans()
        assert store.check() == []
        assert [(s.id == first.id, s.complete, s.interrupted) for s in infos] == [
            (True, True, False),
            (False, False, True),
        ]
    doc = read_json(_report(capsys, url, tmp_path / "out", "-f", "json"))
    assert doc["current_scan_id"] == first.id and doc["newer_incomplete_scan_ids"] == [infos[1].id]
    assert doc["diff"]["resolved_findings"] == []


def test_store_down_keeps_the_scan_output_and_exits_2(
    aws_env: AwsEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    seed_aws(aws_env)
    out = tmp_path / "scan.json"
    args = ["scan", "aws", "--regions", "eu-west-2", "--services", "s3", "-f", "json", "-o", str(out), "-q"]
    code, _, err = run_cli([*args, "--store", f"postgresql://audit:pw@127.0.0.1:{port}/h"], capsys)
    assert code == 2 and err.count("\n") == 1 and "cannot open store" in err and ":pw@" not in err, err
    assert "exports-london" in {r["name"] for r in read_json(out)["resources"]}


def test_report_alerts_for_scheduled_jobs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--fail-on / --fail-on-new: exit 1 on (new) findings, 3 on incomplete newest scans, 0 otherwise."""
    import datetime as dt

    from residency_audit.model import Gap

    from .store_support import T0, scan_of

    s1, s2, s3, _ = sequence()
    assert [r.name for r in s3.resources if r.name == "ohio-vm"] == ["ohio-vm"]
    day = dt.timedelta(days=1)

    def code(url: str, *extra: str) -> int:
        out = tmp_path / f"out-{uuid.uuid4().hex[:6]}"
        c, _, err = run_cli(["report", "--store", url, "-o", str(out), "-q", "-f", "json", *extra], capsys)
        assert err == ""
        return c

    url = str(tmp_path / "a.db")
    with open_store(url) as store:
        store.record(s1)
        store.record(s2)  # invoices moved to Ohio (critical), photos in Sydney (high): new since s1
    assert code(url) == 0  # not asked to alert
    assert code(url, "--fail-on-new", "critical") == 1
    assert code(url, "--fail-on", "critical") == 1

    url = str(tmp_path / "b.db")
    again = scan_of(s2.resources, T0 + 1.5 * day)  # the same state a day later: nothing new
    gap = Gap("aws", "222222222222", "eu-central-1", "rds", "AccessDenied: not authorised", "AccessDenied")
    with open_store(url) as store:
        store.record(s2)
        store.record(again)
    assert code(url, "--fail-on-new", "low") == 0
    assert code(url, "--fail-on", "high") == 1  # still Ohio and Sydney
    assert code(url, "--fail-on", "critical", "--fail-on-new", "low") == 1
    with open_store(url) as store:
        store.record(scan_of(s2.resources, T0 + 2 * day, gaps=[gap]))  # incomplete, nothing new seen
    assert code(url, "--fail-on-new", "low") == 3
    assert code(url, "--fail-on-new", "low", "--allow-gaps") == 0
    ohio = [r for r in s3.resources if r.name == "ohio-vm"]
    with open_store(url) as store:  # a newer partial scan saw a new VM in Ohio: unconfirmed, and alerting
        store.record(scan_of([*s2.resources, *ohio], T0 + 3 * day, gaps=[gap]))
    assert code(url, "--fail-on-new", "critical", "--allow-gaps") == 1
    assert code(url, "--fail-on", "critical", "--allow-gaps") == 1  # the current state's Ohio bucket
    assert code(url, "--fail-on", "critical", "--fail-on-new", "low", "--allow-gaps") == 1


@pytest.mark.parametrize(
    ("request_", "what", "scope"),
    [
        (
            ScanRequest("aws", regions=None, options={"services": ["s3", "ec2"]}),
            "AWS: the account of the default credentials",
            "every region enabled for the account; services s3, ec2",
        ),
        (
            ScanRequest(
                "aws",
                scopes=("111111111111", "222222222222"),
                regions=("eu-west-1", "eu-central-1"),
                options={"services": ["s3"], "organization": "o-abc", "accounts_in_organization": 40, "shard": "2/4"},
            ),
            "AWS: organisation o-abc (2 of 40 accounts, shard 2/4)",
            "regions eu-west-1 and eu-central-1; services s3",
        ),
        (
            ScanRequest(
                "gcp",
                scopes=("organizations/1", "projects/p"),
                options={"inventory": {"organizations/1": "asset", "projects/p": "services"}},
            ),
            "Google Cloud: organisation 1 and project p",
            "inventory: Cloud Asset Inventory for organisation 1; per-service listing (modelled kinds only) for project p",
        ),
        (
            ScanRequest("azure", options={"cloud": "china", "inventory": "graph"}),
            "Azure: every subscription the credentials can see",
            "inventory: Resource Graph; Azure operated by 21Vianet",
        ),
        (
            ScanRequest("terraform", scopes=("plan.json",), options={"terraform_version": "1.9.8"}),
            "Terraform plan plan.json (Terraform 1.9.8)",
            "as planned",
        ),
    ],
)
def test_the_report_header_says_what_was_scanned_in_words(
    request_: ScanRequest, what: str, scope: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not `inventory={'organizations/1': 'services'}`: the target and scope as sentences, in the HTML header."""
    import datetime as dt

    from residency_audit.reporting import target

    result = scan_of([res("s3.bucket", "b", PROD, ("primary", "eu-west-1"))], dt.datetime(2026, 1, 1), request=request_)
    assert (target.what(result), target.scope(result)) == (what, scope)
    assert target.owners(result) == "account 111111111111 (prod)"
    url = str(tmp_path / "h.db")
    with open_store(url) as store:
        store.record(result)
    html = _report(capsys, url, tmp_path / "out", "-f", "html").read_text("utf-8")
    assert f'<dd id="target-what">{what}</dd>' in html and f'<dd id="target-scope">{scope}</dd>' in html


def test_the_map_shapes_ship_small_with_their_sources() -> None:
    """Package data, never fetched: a few tens of kilobytes, and where they come from, with the licence."""
    from residency_audit.reporting import worldmap

    assert worldmap.DATA.stat().st_size < 60_000
    sources = (worldmap.DATA.parent / "WORLDMAP-SOURCES.txt").read_text("utf-8")
    assert (
        "Natural Earth" in sources and "public domain" in sources and "Copyright 2013-2019 Michael Bostock" in sources
    )
    data = worldmap.shapes()
    for view in ("europe", "world"):
        countries = data["views"][view]["countries"]
        assert {"NL", "GB", "CH", "DE", "IE"} <= set(countries), view
    assert {"US", "AU", "SG", "BR", "JP"} <= set(data["views"]["world"]["countries"])
    assert "US" not in data["views"]["europe"]["countries"]
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    assert '"residency_audit.reporting.data" = ["*.json", "*.txt"]' in pyproject
