"""Output formats. Each module renders a `ScanResult` and knows nothing of providers.

Formats are looked up by name and imported on demand, so a run pays only for
the format it writes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import IO

from ..model import RunPolicy, ScanResult

#: format name -> module under residency_audit.outputs exposing `render(result, policy) -> str`
FORMATS: dict[str, str] = {
    "json": "jsonout",
    "table": "table",
    "sarif": "sarif",
    "junit": "junit",
    "markdown": "markdown",
}

#: file suffix per format, for default output names
SUFFIX: dict[str, str] = {"json": ".json", "table": ".txt"}
SUFFIX.update({"sarif": ".sarif", "junit": ".xml", "markdown": ".md"})


class UnknownFormat(ValueError):
    pass


Renderer = Callable[[ScanResult, RunPolicy], str]
#: `write(result, text_file, policy)`: the same text as `render`, written in pieces
Streamer = Callable[[ScanResult, IO[str], RunPolicy], None]


def renderer(name: str) -> Renderer:
    try:
        module = FORMATS[name]
    except KeyError:
        raise UnknownFormat(f"unknown format '{name}' (choose from {', '.join(sorted(FORMATS))})") from None
    mod = importlib.import_module(f"{__name__}.{module}")
    render: Renderer = mod.render
    return render


def streamer(name: str) -> Streamer | None:
    """The format's streaming writer, for formats whose size grows with the estate (JSON)."""
    module = FORMATS.get(name)
    if module is None:
        return None
    write: Streamer | None = getattr(importlib.import_module(f"{__name__}.{module}"), "write", None)
    return write
