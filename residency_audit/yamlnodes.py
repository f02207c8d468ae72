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


def value(node: yaml.Node) -> Any:
    """The Python value of a node (scalar or nested), as safe_load would build it."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


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
