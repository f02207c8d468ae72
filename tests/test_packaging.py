"""What `pip install residency-audit` (or the GitHub Action's install step) ships.

pyproject.toml lists the packages explicitly, so a new subpackage that is not added there is
importable from a checkout (and an editable install) but missing from every wheel: the
installed `residency-audit gate` then fails on an import. Checked without building anything.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_python_package_of_the_source_is_shipped() -> None:
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    source = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "residency_audit").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert source, "no packages found"
    assert not sorted(source - listed), "add these to [tool.setuptools] packages in pyproject.toml"
