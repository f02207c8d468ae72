"""Secrets: credentials, tokens, keys and signed URLs never reach an output, a log line or a report.

For every provider (tests/trust_support/), real CLI processes scan its emulator
with recognisable credentials (AWS keys and session token in the environment, a
Google service-account key file whose self-signed JWTs are collected off the
wire, an Azure client secret and the tokens issued for it) and signed URLs
planted in the estate (tags, labels, a resource name, an API error message).
Every file written (JSON, table file, SQLite store) and everything printed by
every run is searched for each secret; the planted values must still be there,
redacted rather than dropped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from residency_audit.redact import _MEMO_MAX, MASK, Redactor

from .conftest import read_json
from .trust_support import AWS_MARKERS, ENV_SECRETS, Expect, Harness

OUTPUTS = {
    "json": ["-f", "json", "-o", "out/report.json"],
    "table-file": ["-f", "table", "-o", "out/report.txt"],
    "table-terminal": [],
}


def _run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "residency_audit", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )
    return proc.returncode, proc.stdout + proc.stderr


def _artefacts(root: Path) -> dict[str, str]:
    """Every file written, as text (the SQLite store decoded leniently)."""
    return {str(p.relative_to(root)): p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file()}


def _leaks(everything: dict[str, str], markers: list[str]) -> list[tuple[str, str]]:
    assert all(len(m) >= 12 for m in markers), markers
    return [(where, m) for where, text in everything.items() for m in markers if m in text]


def _field(resource: dict[str, Any], name: str) -> str:
    if name.startswith("tags."):
        return str(resource["tags"][name.removeprefix("tags.")])
    return str(resource[name])


def _holds(expect: Expect, value: str) -> bool:
    if expect.op == "==":
        return value == expect.value
    if expect.op == "endswith":
        return value.endswith(expect.value)
    return expect.value in value


def test_no_secret_in_any_output_log_or_report(trust: Harness, tmp_path: Path) -> None:
    planted = trust.plant_secrets(tmp_path)
    env = {**planted.env, "COLUMNS": "200"}
    for number, scan in enumerate(planted.scans):
        work = tmp_path / f"work{number}"
        work.mkdir()
        trust.clear_log()
        codes, printed = {}, {}
        for label, extra in OUTPUTS.items():
            codes[label], printed[label] = _run([*scan, "--store", "out/history.db", *extra], env, work)
        assert set(codes.values()) == {planted.code}, printed
        assert planted.used(), "the planted credential really was used"

        artefacts = _artefacts(work)
        assert {"out/report.json", "out/report.txt", "out/history.db"} <= set(artefacts)
        everything = {
            **{f"file {k}": v for k, v in artefacts.items()},
            **{f"printed by {k}": v for k, v in printed.items()},
        }
        assert _leaks(everything, planted.markers()) == []

        # The planted values did flow through, redacted rather than dropped.
        report: dict[str, Any] = read_json(work / "out/report.json")
        for expect in planted.expects:
            key, wanted = expect.select
            (resource,) = [r for r in report["resources"] if r[key] == wanted]
            assert _holds(expect, _field(resource, expect.field)), (expect, _field(resource, expect.field))
        assert planted.store_holds in artefacts["out/history.db"], "the planted value reached the store, redacted"
        gaps = report["scan"]["gaps"]
        assert len(gaps) == len(planted.gaps), gaps
        for gap, wanted_gap in zip(gaps, planted.gaps, strict=True):
            assert wanted_gap.items() <= gap.items(), gap
            assert planted.gap_error_has in gap["error"]


def test_demo_reports_hold_no_secret_of_the_environment(tmp_path: Path) -> None:
    """The demo scans all three emulators: every provider's credential variables set, none in its reports."""
    env = {**os.environ, **ENV_SECRETS, "COLUMNS": "200"}
    code, printed = _run(["demo", "--reports-dir", "out/reports", "-q"], env, tmp_path)
    assert code == 0, printed
    artefacts = _artefacts(tmp_path)
    assert any(name.startswith("out/reports/demo-") for name in artefacts)
    everything = {**{f"file {k}": v for k, v in artefacts.items()}, "printed by demo": printed}
    assert _leaks(everything, AWS_MARKERS) == []


# --------------------------------------------------------------------------- the redactor itself


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET https://x/y?a=1&X-Amz-Signature=abc123&b=2", f"GET https://x/y?a=1&X-Amz-Signature={MASK}&b=2"),
        ("?sv=1&sig=a%2Bb%3D end", f"?sv=1&sig={MASK} end"),
        (
            "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc/def==;",
            f"DefaultEndpointsProtocol=https;AccountName=a;AccountKey={MASK};",
        ),
        ("Authorization: Bearer eyJhbGciOi.eyJzdWIiOi.sig", f"Authorization: Bearer {MASK}"),
        ("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl here", f"token {MASK} here"),
        ("key AKIAABCDEFGHIJKLMNOP used", f"key {MASK} used"),
        ("region eu-west-1, code=500, design=ok", "region eu-west-1, code=500, design=ok"),
        ("", ""),
    ],
)
def test_redaction_patterns(text: str, expected: str) -> None:
    assert Redactor().text(text) == expected


def test_environment_secret_values_are_removed_wherever_they_appear() -> None:
    env = {
        "MY_SERVICE_TOKEN": "s3cr3t-value-1234",
        "PATH": "/usr/bin",
        "SHORT_SECRET": "abc",
        "AWS_SHARED_CREDENTIALS_FILE": "/home/u/.aws/credentials",
    }
    r = Redactor.from_environ(env)
    text = "failed with s3cr3t-value-1234 in /usr/bin (abc) reading /home/u/.aws/credentials"
    assert r.text(text) == f"failed with {MASK} in /usr/bin (abc) reading /home/u/.aws/credentials"
    assert r.value({"a": ["x s3cr3t-value-1234"], "n": 3}) == {"a": [f"x {MASK}"], "n": 3}


def test_remembered_strings_are_redacted_every_time_they_recur() -> None:
    """The redactor remembers each distinct string: a repeat must come back redacted, not as first seen."""
    r = Redactor.from_environ({"MY_SERVICE_TOKEN": "s3cr3t-value-1234"})
    url = "https://acct.blob.core.windows.net/c?sv=2022&sig=abcdEFGH%2B123"
    tags = {"a": url, "b": url, "c": ["s3cr3t-value-1234", url], "n": None}
    for _ in range(3):
        assert r.value(tags) == {
            "a": f"{url[:-14]}{MASK}",
            "b": f"{url[:-14]}{MASK}",
            "c": [MASK, f"{url[:-14]}{MASK}"],
            "n": None,
        }
    assert r.text("plain") == "plain"


def test_redactor_memo_stays_small_and_keeps_serving_a_long_scan() -> None:
    """A live estate's names are mostly unique: the memo is bounded (it held up to 100,000 of them,
    ~8 MB that grew with the estate), starts afresh when full, and redaction is the same before and after."""
    secret = "s3cr3t-t0ken-value"
    red = Redactor({secret})
    assert red.text(f"x-{secret}-y") == f"x-{MASK}-y"
    for i in range(3 * _MEMO_MAX):
        assert red.text(f"name-{i}") == f"name-{i}"
        assert len(red._memo) <= _MEMO_MAX
    assert f"name-{3 * _MEMO_MAX - 1}" in red._memo  # still remembering, not frozen full
    assert red.text(f"x-{secret}-y") == f"x-{MASK}-y"
    assert _MEMO_MAX <= 10_000
