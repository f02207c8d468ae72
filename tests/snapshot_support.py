"""Golden snapshots of terminal output, kept in tests/snapshots/.

A snapshot is the exact text a person sees, less trailing spaces at line ends (rich
pads table lines to the table's width; they are invisible and editors strip them).

To regenerate after an intended change, run the snapshot tests with
RESIDENCY_AUDIT_UPDATE_SNAPSHOTS=1 and review the diff of tests/snapshots/ before committing:

    RESIDENCY_AUDIT_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_terminal_output.py tests/test_demo.py -q
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("RESIDENCY_AUDIT_UPDATE_SNAPSHOTS", "") not in ("", "0")


def normalise(text: str) -> str:
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


def assert_snapshot(name: str, text: str) -> None:
    """`text` must equal tests/snapshots/NAME (or becomes it, when regenerating)."""
    path = SNAPSHOTS / name
    got = normalise(text)
    if UPDATE:
        path.write_text(got, "utf-8")
        return
    assert path.exists(), f"{path.name}: no snapshot yet; run with RESIDENCY_AUDIT_UPDATE_SNAPSHOTS=1 to create it"
    want = path.read_text("utf-8")
    if got != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True), f"{name} (snapshot)", "now"))
        raise AssertionError(f"{name} differs from its snapshot:\n{diff}")


def width_of(text: str) -> int:
    """The widest line, in terminal cells."""
    from rich.cells import cell_len

    return max((cell_len(line.rstrip()) for line in text.splitlines()), default=0)
