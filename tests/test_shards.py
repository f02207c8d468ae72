"""Sharded organisation scans end to end: shard jobs record into one store, `report` merges them.

Every scan runs through the CLI against moto; the stores are a real SQLite file
and, when RESIDENCY_AUDIT_TEST_PG is set, a fresh PostgreSQL database.
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from residency_emulator.aws import AwsEmulator

from .conftest import read_json, run_cli
from .store_support import store_urls
from .test_aws_org import Org, _bucket, _session, seed_org

REGIONS = "eu-central-1,eu-west-2,us-east-1"


@pytest.fixture(scope="module")
def org(aws_emu: AwsEmulator) -> Iterator[Org]:
    """The organisation of test_aws_org (management + 4 members), every role assumable."""
    mp = pytest.MonkeyPatch()
    aws_emu.reset()
    for key in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        mp.delenv(key, raising=False)
    for key, value in aws_emu.env().items():
        mp.setenv(key, value)
    mp.setenv("AWS_CONFIG_FILE", os.devnull)
    mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    try:
        yield seed_org(aws_emu)
    finally:
        mp.undo()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from store_urls(request.param, tmp_path)


def _scan(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    """One CLI organisation scan (S3 only); its JSON output."""
    out = tmp_path / f"scan-{uuid.uuid4().hex[:8]}.json"
    args = ["scan", "aws", "--organization", "--regions", REGIONS, "--services", "s3"]
    code, _, err = run_cli([*args, "-f", "json", "-o", str(out), "-q", *extra], capsys)
    assert code in (0, 1), err  # 1: London and Virginia findings
    data: dict[str, Any] = read_json(out)
    return data


def _shard(tmp_path: Path, capsys: pytest.CaptureFixture[str], store: str, spec: str, group: str) -> dict[str, Any]:
    return _scan(tmp_path, capsys, "--shard", spec, "--shard-group", group, "--store", store)


def _report(capsys: pytest.CaptureFixture[str], store: str, out: Path, *extra: str) -> Path:
    code, _, err = run_cli(["report", "--store", store, "--output", str(out), "-q", *extra], capsys)
    assert code == 0, err
    (written,) = [p for p in out.iterdir() if p.name.startswith(("residency-report-", "evidence-"))]
    return written


def _fps(findings: list[dict[str, Any]]) -> Counter[str]:
    return Counter(f["fingerprint"] for f in findings)


def _current(report: dict[str, Any]) -> dict[str, Any]:
    cur: dict[str, Any]
    (cur,) = [s for s in report["scans"] if s["scan"]["id"] == report["current_scan_id"]]
    return cur


def test_two_shards_report_as_one_scan(
    org: Org, store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both shards recorded: one merged scan, every account once, exactly the unsharded scan's findings."""
    reference = _scan(tmp_path, capsys, "--no-store")
    s1 = _shard(tmp_path, capsys, store, "1/2", "nightly-1")
    s2 = _shard(tmp_path, capsys, store, "2/2", "nightly-1")
    shard_of_resource = {r["id"]: s["scan"]["id"] for s in (s1, s2) for r in s["resources"]}
    report = read_json(_report(capsys, store, tmp_path / "json", "-f", "json"))

    assert report["partial"] is False and report["baseline_scan_id"] is None
    assert report["current_scan_id"].startswith("shards-")
    assert [(h["id"], h["shard_scan_ids"]) for h in report["history"]] == [
        (report["current_scan_id"], [s1["scan"]["id"], s2["scan"]["id"]])
    ]
    assert report["merged_scans"] == [
        {
            "id": report["current_scan_id"],
            "shard_group": "nightly-1",
            "shard_count": 2,
            "shard_scan_ids": {"1": s1["scan"]["id"], "2": s2["scan"]["id"]},
            "missing_shards": [],
            "superseded_scan_ids": [],
        }
    ]
    cur = _current(report)
    # Every account of the organisation exactly once; every resource exactly once, as the unsharded scan saw it.
    assert Counter(cur["scan"]["request"]["scopes"]) == Counter(org.accounts.values())
    assert Counter(r["id"] for r in cur["resources"]) == Counter(r["id"] for r in reference["resources"])
    assert {r["name"] for r in cur["resources"]} == {
        "mgmt-logs-frankfurt",
        "shop-assets-london",
        "lab-scratch",
        "legacy-virginia",
    }
    assert _fps(cur["findings"]) == _fps(reference["findings"]) == _fps(s1["findings"]) + _fps(s2["findings"])
    assert {f["resource_name"] for f in cur["findings"]} == {"shop-assets-london", "legacy-virginia"}
    assert _fps(report["diff"]["new_findings"]) == _fps(reference["findings"])
    assert cur["scan"]["complete"] is True and cur["scan"]["gaps"] == []
    assert cur["scan"]["api_calls_total"] == s1["scan"]["api_calls_total"] + s2["scan"]["api_calls_total"]
    assert cur["scan"]["started_at"] == min(s1["scan"]["started_at"], s2["scan"]["started_at"])
    assert cur["scan"]["finished_at"] == max(s1["scan"]["finished_at"], s2["scan"]["finished_at"])
    assert "shard_index" not in cur["scan"]["request"]["options"]

    # Markdown and HTML name the shard scans; CSV says which shard recorded each finding.
    md = _report(capsys, store, tmp_path / "md", "-f", "md").read_text("utf-8")
    line = f"merged from 2 shards of group nightly-1: {s1['scan']['id']} (1/2), {s2['scan']['id']} (2/2)"
    assert f"- Current state {line}" in md
    html = _report(capsys, store, tmp_path / "html", "-f", "html").read_text("utf-8")
    assert _texts_of(html, "dd", "shards") == [line]
    rows = list(csv.DictReader(io.StringIO(_report(capsys, store, tmp_path / "csv", "-f", "csv").read_text())))
    assert Counter(r["fingerprint"] for r in rows) == _fps(reference["findings"])
    assert {r["scan_id"] for r in rows} == {report["current_scan_id"]}
    assert all(r["shard_scan_id"] == shard_of_resource[r["resource_id"]] for r in rows)

    # The evidence bundle holds each shard's scan exactly as it ran, and verifies.
    bundle = _report(capsys, store, tmp_path / "bundle", "--bundle", "-f", "json")
    shard_files = sorted((bundle / "scans" / "shards").iterdir())
    assert {read_json(p)["scan"]["id"] for p in shard_files} == {s1["scan"]["id"], s2["scan"]["id"]}
    for p in shard_files:
        raw = read_json(p)
        ran = s1 if raw["scan"]["id"] == s1["scan"]["id"] else s2
        assert raw["resources"] == ran["resources"] and raw["findings"] == ran["findings"]
        assert raw["scan"]["request"] == ran["scan"]["request"]
    manifest = read_json(bundle / "manifest.json")
    assert manifest["shard_scan_ids"] == {report["current_scan_id"]: [s1["scan"]["id"], s2["scan"]["id"]]}
    assert {f"scans/shards/{p.name}" for p in shard_files} <= {e["path"] for e in manifest["files"]}
    code, out, _ = run_cli(["report", "--verify", str(bundle)], capsys)
    assert code == 0 and "OK" in out


def test_missing_shard_is_a_gap_until_it_is_recorded(
    org: Org, store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s1 = _shard(tmp_path, capsys, store, "1/2", "half")
    report = read_json(_report(capsys, store, tmp_path / "one", "-f", "json"))
    missing = {
        "provider": "aws",
        "scope": "half",
        "region": "",
        "service": "shard",
        "error": "shard 2/2 of group half not recorded",
        "code": "ShardMissing",
    }
    assert report["partial"] is True
    cur = _current(report)
    assert cur["scan"]["complete"] is False and cur["scan"]["gaps"] == [missing]
    assert report["diff"]["gaps_appeared"] == [{**missing, "scan_id": report["current_scan_id"]}]
    assert [(m["missing_shards"], m["shard_scan_ids"]) for m in report["merged_scans"]] == [
        ([2], {"1": s1["scan"]["id"]})
    ]
    assert Counter(cur["scan"]["request"]["scopes"]) == Counter(s1["scan"]["request"]["scopes"])
    assert _fps(cur["findings"]) == _fps(s1["findings"])
    assert [h["complete"] for h in report["history"]] == [False]
    md = _report(capsys, store, tmp_path / "md", "-f", "md").read_text("utf-8")
    assert "proves nothing" in md and "; missing 2/2" in md

    # The second job lands later: the same group becomes one complete scan.
    s2 = _shard(tmp_path, capsys, store, "2/2", "half")
    report = read_json(_report(capsys, store, tmp_path / "two", "-f", "json"))
    cur = _current(report)
    assert report["partial"] is False and cur["scan"]["complete"] is True and cur["scan"]["gaps"] == []
    assert Counter(cur["scan"]["request"]["scopes"]) == Counter(org.accounts.values())
    assert [h["shard_scan_ids"] for h in report["history"]] == [[s1["scan"]["id"], s2["scan"]["id"]]]


def test_second_round_diffs_group_against_group(
    org: Org, aws_emu: AwsEmulator, store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Round 2 after a bucket appeared (Virginia) and one went (London): exactly those new and resolved."""
    r1 = [_shard(tmp_path, capsys, store, f"{i}/2", "round-1") for i in (1, 2)]
    shop, data = _session(aws_emu, org.accounts["shop-eu"]), _session(aws_emu, org.accounts["data"])
    shop.client("s3", region_name="eu-west-2").delete_bucket(Bucket="shop-assets-london")
    _bucket(data, "data-virginia", "us-east-1")
    try:
        retried = _shard(tmp_path, capsys, store, "1/2", "round-2")  # a job that ran twice: the later run counts
        r2 = [_shard(tmp_path, capsys, store, f"{i}/2", "round-2") for i in (1, 2)]
        reference = _scan(tmp_path, capsys, "--no-store")
    finally:
        data.client("s3", region_name="us-east-1").delete_bucket(Bucket="data-virginia")
        _bucket(shop, "shop-assets-london", "eu-west-2")
    report = read_json(_report(capsys, store, tmp_path / "json", "-f", "json"))
    by_id = {m["id"]: m for m in report["merged_scans"]}
    assert by_id[report["baseline_scan_id"]]["shard_scan_ids"] == {
        str(i + 1): s["scan"]["id"] for i, s in enumerate(r1)
    }
    assert by_id[report["current_scan_id"]]["shard_scan_ids"] == {str(i + 1): s["scan"]["id"] for i, s in enumerate(r2)}
    assert by_id[report["current_scan_id"]]["superseded_scan_ids"] == [retried["scan"]["id"]]
    assert [h["id"] for h in report["history"]] == [report["baseline_scan_id"], report["current_scan_id"]]
    assert report["target"]["label"].count("sharded=True") == 1

    def of(findings: list[dict[str, Any]], name: str) -> Counter[str]:
        return _fps([f for f in findings if f["resource_name"] == name])

    r1_all = sum((_fps(s["findings"]) for s in r1), Counter[str]())
    d = report["diff"]
    assert _fps(d["new_findings"]) == of(reference["findings"], "data-virginia")
    assert _fps(d["resolved_findings"]) == of([f for s in r1 for f in s["findings"]], "shop-assets-london")
    assert {f["rule_id"] for f in d["new_findings"]} >= {"RA-US-SOIL"}
    assert {f["rule_id"] for f in d["resolved_findings"]} == {"RA-EU-OUTSIDE"}
    assert [r.split(":::")[-1] for r in d["added_resources"]] == ["data-virginia"]
    assert [r.split(":::")[-1] for r in d["removed_resources"]] == ["shop-assets-london"]
    assert d["moved_resources"] == [] and d["gaps_appeared"] == []
    assert _fps(_current(report)["findings"]) == _fps(reference["findings"])
    assert r1_all - _fps(d["resolved_findings"]) + _fps(d["new_findings"]) == _fps(reference["findings"])


def _texts_of(html: str, tag: str, cls: str) -> list[str]:
    """Text of every <tag class="cls"> in the page (one level, as the report writes it)."""

    class P(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.inside = False
            self.found: list[str] = []

        def handle_starttag(self, t: str, attrs: list[tuple[str, str | None]]) -> None:
            if t == tag and (cls in (dict(attrs).get("class") or "").split()):
                self.inside = True
                self.found.append("")

        def handle_endtag(self, t: str) -> None:
            if t == tag:
                self.inside = False

        def handle_data(self, data: str) -> None:
            if self.inside:
                self.found[-1] += data

    p = P()
    p.feed(html)
    return p.found
