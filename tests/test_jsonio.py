"""jsonio: orjson's speed, the standard library's answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from residency_audit import jsonio

DOCS = [
    b'{"a": [1, 2.5, null, true], "b": {"c": "\\u00e9t\\u00e9"}, "d": ""}',
    '{"k": "Zürich — 東京"}'.encode(),
    b"\xef\xbb\xbf" + b'{"bom": 1}',  # a UTF-8 BOM (Windows editors): orjson refuses it
    '{"ps": "utf-16"}'.encode("utf-16"),  # PowerShell 5's `>` writes UTF-16 with a BOM
    b'{"nan": NaN, "inf": -Infinity}',
    b'{"lone": "\\ud800"}',  # a lone surrogate escape
    b'{"dup": 1, "dup": 2}',
    b"[]",
]


@pytest.mark.parametrize("doc", DOCS)
def test_loads_accepts_what_the_standard_library_accepts(doc: bytes) -> None:
    got, want = jsonio.loads(doc), json.loads(doc)
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)


@pytest.mark.parametrize(
    "doc",
    [b'{"a": ', b'{"a": 1,}', b"", b"\n\n  {x}", b'{"a": "unterminated', b"[1] 2"],
)
def test_loads_errors_are_the_standard_librarys(doc: bytes) -> None:
    with pytest.raises(json.JSONDecodeError) as ours:
        jsonio.loads(doc)
    with pytest.raises(json.JSONDecodeError) as ref:
        json.loads(doc)
    assert (ours.value.msg, ours.value.lineno, ours.value.colno) == (ref.value.msg, ref.value.lineno, ref.value.colno)


VALUES: list[Any] = [
    {"a": [1, 2.5, None, True], "b": {"c": "été", "d": {}}, "e": [], "f": "Zürich"},
    [{"x": "y"}, 0, -1.5, 1e300],
    {"big": 2**70},  # orjson refuses: the standard library writes it
    {1: "non-string key"},  # orjson refuses: the standard library turns it into "1"
]


@pytest.mark.parametrize("value", VALUES)
def test_dumps_writes_what_the_standard_library_writes(value: Any) -> None:
    assert jsonio.dumps(value, indent=True) == json.dumps(value, indent=2, ensure_ascii=False)
    assert jsonio.dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert json.loads(jsonio.dumps(value)) == json.loads(json.dumps(value))


def test_documented_differences_keep_the_value_or_its_magnitude() -> None:
    assert json.loads(jsonio.dumps([-1.25e-7])) == [-1.25e-7]  # shortest form, same float
    big = jsonio.loads(b'{"n": 123456789012345678901234567890}')["n"]
    assert big == pytest.approx(123456789012345678901234567890)  # orjson: a float beyond 64 bits
