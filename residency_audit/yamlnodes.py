"""YAML read at the node level, so that every complaint about a user's file names its line.

Shared by the rule engine and the exceptions file: both validate node by node and raise
their own error type, built by the `Located` factory they pass in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

#: Builds the caller's error for a node (None: the whole file) and a problem.
Located = Callable[[yaml.Node | None, str], Exception]


def at(file: str, node: yaml.Node | None) -> str:
    """`file:line` for a node, or just `file`."""
    return f"{file}:{node.start_mark.line + 1}" if node is not None else file


#: libyaml's parser where PyYAML was built with it: ~15x faster than the pure-Python
#: one, with the same nodes and line marks (the rule files are read on every gate run).
_COMPOSER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG = "tag:yaml.org,2002:str"


def compose(text: str, file: str, error: Callable[[str], Exception]) -> yaml.Node | None:
    """The document's root node (None when empty); a syntax error becomes `error("file:line: ...")`."""
    try:
        return yaml.compose(text, Loader=_COMPOSER)  # type: ignore[no-any-return]
    except yaml.YAMLError as exc:
        raise invalid(file, exc, error) from None


def invalid(file: str, exc: yaml.YAMLError, error: Callable[[str], Exception]) -> Exception:
    """The caller's one-line error for a YAML syntax (or tag) error, at its line."""
    mark = getattr(exc, "problem_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return error(f"{file}{line}: invalid YAML: {problem}")


def value(node: yaml.Node) -> Any:
    """The Python value of a node (scalar or nested), as safe_load would build it."""
    if type(node) is yaml.ScalarNode and node.tag == _STR_TAG:  # most keys and values: skip the constructor
        return node.value
    constructor = yaml.constructor.SafeConstructor()
    return constructor.construct_document(node)


def mapping(error: Located, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping node's string keys, refusing duplicates (which safe_load would silently merge)."""
    if not isinstance(node, yaml.MappingNode):
        raise error(node, f"{what} must be a mapping")
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for knode, vnode in node.value:
        key = value(knode)
        if not isinstance(key, str):
            raise error(knode, f"{what}: keys must be strings")
        if key in out:
            raise error(knode, f"{what}: duplicate key '{key}'")
        out[key] = (knode, vnode)
    return out
