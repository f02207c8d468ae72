"""MkDocs hook: replace `<!-- reference:NAME -->` in a page with Markdown generated from the code.

The generators live in `gen_reference.py` beside this file; this module is only the glue.
An unknown marker fails the build, and so does a generator that raises.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from mkdocs.exceptions import PluginError

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parent
_MARKER = re.compile(r"^<!-- reference:([a-z-]+) -->$", re.MULTILINE)


def _generators() -> ModuleType:
    """gen_reference.py, loaded by path (docs/ is not a package)."""
    name = "residency_audit_docs_gen_reference"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, _HERE / "gen_reference.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    generators = _generators().GENERATORS

    def generate(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in generators:
            raise PluginError(
                f"{page.file.src_uri}: unknown reference marker '{name}' (known: {', '.join(generators)})"
            )
        text: str = generators[name](_REPO)
        return text

    return _MARKER.sub(generate, markdown)


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """`mkdocs serve` rebuilds when the sources of the generated pages change."""
    for path in ("rules", "residency_audit"):
        server.watch(str(_REPO / path))
    return server
