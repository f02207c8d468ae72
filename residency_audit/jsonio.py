"""JSON in and out, through orjson where it is installed and the standard library where not.

A 10,000-resource plan is 12 MB of JSON, and the gate's SARIF and the scan's
JSON output are of the same order: the standard library's parser takes ~200 ms
on the plan and its indented encoder is pure Python; orjson does the same work
several times faster. The standard library stays the reference for everything
orjson refuses (NaN, a UTF-8 BOM, UTF-16 as PowerShell's `>` writes it, lone
surrogates, a type it cannot encode), so what is accepted and the error a user
sees do not depend on which parser ran. Two known differences, neither of which
touches a location (always a string): orjson reads an integer beyond 64 bits as
a float, and writes floats in shortest form (`1e-7`, not `1e-07`).
"""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is a dependency; a stripped install still works
    _orjson = None  # type: ignore[assignment]


def loads(data: bytes | str) -> Any:
    """Parse a JSON document; errors are the standard library's `json.JSONDecodeError`."""
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass  # let the reference parser accept it or word the error
    return json.loads(data)


def dumps(value: Any, *, indent: bool = False) -> str:
    """Serialise to text: non-ASCII characters as they are, `indent` as two spaces."""
    if _orjson is not None:
        try:
            return _orjson.dumps(value, option=_orjson.OPT_INDENT_2 if indent else 0).decode("utf-8")
        except (TypeError, _orjson.JSONEncodeError):
            pass  # a type orjson does not take (a big int, a non-string key...): the reference encoder
    return json.dumps(
        value, ensure_ascii=False, indent=2 if indent else None, separators=None if indent else (",", ":")
    )
