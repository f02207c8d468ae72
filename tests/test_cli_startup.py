"""Start-up is part of the gate's cost: `--help` and the gate path import no cloud SDK."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("boto3", "botocore", "google", "azure", "moto", "sqlalchemy")


@pytest.mark.parametrize("argv", [["--help"], ["gate", "--help"], ["scan", "aws", "--help"], ["regions", "--help"]])
def test_help_imports_no_cloud_sdk(argv: list[str]) -> None:
    probe = (
        "import sys\n"
        "from residency_audit.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_only_the_running_command_is_registered() -> None:
    probe = (
        "import sys\n"
        "from residency_audit.cli import build_parser\n"
        "build_parser(['gate', 'plan.json'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('residency_audit.commands.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "residency_audit.providers.aws.cli" not in out and "residency_audit.commands.gate" in out
