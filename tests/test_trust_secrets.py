"""Secrets: credentials, session tokens and signed URLs never reach an output, a log line or a report.

Real CLI processes scan moto with recognisable fake credentials in their
environment and signed URLs planted in the estate (tag values, a resource
name, an API error message); then every artefact they wrote and everything
they printed is searched for each secret.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from residency_audit.redact import MASK, Redactor
from residency_emulator.aws import AwsEmulator
from residency_emulator.front import Request, Response

from .conftest import read_json

ACCESS_KEY_ID = "AKIATRUSTFAKE0000042"
ENV_SECRETS = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": "trustSecretAws/Key+0123456789abcdefABCDEF",
    "AWS_SESSION_TOKEN": "trustSessionTokenFwoGZXIvYXdzEJr//////////wEaDOrTrUsT",
    "AZURE_CLIENT_SECRET": "trustAzureClientSecret~0123456789",
    "GOOGLE_OAUTH_ACCESS_TOKEN": "ya29.trustGoogleAccessToken0123456789",
}
SAS_URL = (
    "https://trustacct.blob.core.windows.net/exports/x.csv?sv=2022-11-02&sp=r&se=2030-01-01T00:00:00Z"
    "&sig=trustSasSignature%2Babc%3D"
)
PRESIGNED_URL = (
    "https://b.s3.eu-west-1.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    f"&X-Amz-Credential={ACCESS_KEY_ID}%2F20261201%2Feu-west-1%2Fs3%2Faws4_request"
    "&X-Amz-Security-Token=trustPresignToken0123&X-Amz-Signature=trustAmzSignature0123abcdef"
)
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEtrustPemPrivateKeyBody0123\n-----END PRIVATE KEY-----"
NAME_WITH_SIG = "backup?sig=trustSasInName0123"
ERROR_WITH_SIG = "https://trustacct.blob.core.windows.net/c?sv=2022-11-02&sig=trustSasInError0123"

#: Substrings that must appear nowhere: each secret's distinctive core.
MARKERS = [
    *ENV_SECRETS.values(),
    "trustSasSignature",
    "trustAmzSignature",
    "trustPresignToken",
    "trustPemPrivateKey",
    "trustSasInName",
    "trustSasInError",
]


@pytest.fixture
def secret_estate(aws_env: AwsEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    for key, value in ENV_SECRETS.items():
        monkeypatch.setenv(key, value)
    ec2 = boto3.client("ec2", region_name="eu-west-1", endpoint_url=aws_env.url)
    ec2.run_instances(
        ImageId="ami-12345678",
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [
                    {"Key": "Name", "Value": NAME_WITH_SIG},
                    {"Key": "export", "Value": SAS_URL},
                    {"Key": "presigned", "Value": PRESIGNED_URL},
                    {"Key": "key", "Value": PEM},
                ],
            }
        ],
    )

    def deny(req: Request) -> Response | None:
        if req.path.startswith("/2015-03-31/functions"):
            body = f'{{"Type":"User","Message":"denied by policy for {ERROR_WITH_SIG}"}}'.encode()
            return Response(
                403, {"Content-Type": "application/json", "x-amzn-ErrorType": "AccessDeniedException"}, body
            )
        return None

    aws_env.front.request_hooks.insert(0, deny)
    env = {**os.environ, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "COLUMNS": "200"}
    yield env
    aws_env.front.request_hooks.remove(deny)


def _run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "residency_audit", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_no_secret_in_any_output_log_or_report(secret_estate: dict[str, str], tmp_path: Path) -> None:
    env = secret_estate
    scan = ["scan", "aws", "--regions", "eu-west-1", "--services", "ec2,lambda", "--store", "out/history.db"]
    printed: dict[str, str] = {}
    codes = {}
    for label, extra in {
        "json": ["-f", "json", "-o", "out/report.json"],
        "table-file": ["-f", "table", "-o", "out/report.txt"],
    }.items():
        codes[label], printed[label] = _run([*scan, *extra], env, tmp_path)
    codes["demo"], printed["demo"] = _run(["demo", "--reports-dir", "out/reports", "-q"], env, tmp_path)
    assert codes["json"] == codes["table-file"] == 3, printed  # the lambda gap; the json run prints the table too
    assert codes["demo"] == 0, printed["demo"]

    # Text outputs and binary ones (the SQLite scan history): searched as bytes, decoded leniently.
    artefacts = {
        str(p.relative_to(tmp_path)): p.read_bytes().decode("utf-8", "replace")
        for p in tmp_path.rglob("*")
        if p.is_file()
    }
    assert {"out/report.json", "out/report.txt", "out/history.db"} <= set(artefacts)
    assert "trustacct.blob.core.windows.net" in artefacts["out/history.db"], "the tag reached the store, redacted"
    assert any(name.startswith("out/reports/demo-") for name in artefacts)
    everything = {
        **{f"file {k}": v for k, v in artefacts.items()},
        **{f"printed by {k}": v for k, v in printed.items()},
    }
    leaks = [(where, m) for where, text in everything.items() for m in MARKERS if m in text]
    assert leaks == []

    # The planted values did flow through, redacted rather than dropped.
    report: dict[str, Any] = read_json(tmp_path / "out/report.json")
    (vm,) = [r for r in report["resources"] if r["kind"] == "ec2.instance"]
    assert vm["name"] == f"backup?sig={MASK}"
    assert vm["tags"]["export"].endswith(f"&sig={MASK}") and "sv=2022-11-02" in vm["tags"]["export"]
    assert f"X-Amz-Signature={MASK}" in vm["tags"]["presigned"]
    assert vm["tags"]["key"] == MASK
    (gap,) = report["scan"]["gaps"]
    assert gap["service"] == "lambda" and f"sig={MASK}" in gap["error"]


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
