"""YAML read at the node level, so that every complaint about a user's file names its line.

Shared by the rule engine and the exceptions file: both validate node by node and raise
their own error type, built by the `Located` factory they pass in.

Rule and exception files come from pull requests, so reading one is bounded: a file
over `MAX_BYTES` is refused before it is parsed, and anchors/aliases may not expand
the document by more than `MAX_ALIAS_EXPANSION` nodes (a "billion laughs" file is a
few lines that expand to gigabytes once a value is turned into text).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
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

#: Largest rule or exceptions file read (the bundled rule set is a few KB).
MAX_BYTES = 1 << 20
#: Nodes that aliases may add to a document beyond the nodes written in it.
MAX_ALIAS_EXPANSION = 1_000


def check_size(path: Path, error: Callable[[str], Exception]) -> None:
    """Refuse a file over `MAX_BYTES` before reading it (a missing file is the caller's to report)."""
    try:
        size = path.stat().st_size
    except OSError:
        return
    if size > MAX_BYTES:
        raise error(f"{path}: {size:,} bytes is over the {MAX_BYTES:,}-byte limit for this file")


def compose(text: str, file: str, error: Callable[[str], Exception]) -> yaml.Node | None:
    """The document's root node (None when empty); a syntax error becomes `error("file:line: ...")`."""
    if len(text) > MAX_BYTES:
        raise error(f"{file}: over the {MAX_BYTES:,}-byte limit for this file")
    try:
        root: yaml.Node | None = yaml.compose(text, Loader=_COMPOSER)
    except yaml.YAMLError as exc:
        raise invalid(file, exc, error) from None
    except RecursionError:
        raise error(f"{file}: nested too deeply") from None
    if root is not None:
        _bound_aliases(root, file, error)
    return root


def _bound_aliases(root: yaml.Node, file: str, error: Callable[[str], Exception]) -> None:
    """Refuse a document whose aliases expand it by more than `MAX_ALIAS_EXPANSION` nodes.

    The node graph shares aliased nodes, so composing is cheap; walking it as a tree
    counts what a reader would expand, and stops as soon as the budget is spent.
    """
    distinct: set[int] = set()
    expanded = 0
    stack: list[yaml.Node] = [root]
    while stack:
        node = stack.pop()
        expanded += 1
        if id(node) in distinct:
            if expanded - len(distinct) > MAX_ALIAS_EXPANSION:
                raise error(
                    f"{at(file, node)}: aliases expand this document by more than {MAX_ALIAS_EXPANSION:,} nodes"
                )
        else:
            distinct.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.append(k)
                stack.append(v)


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
    try:
        return constructor.construct_document(node)
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. `2026-02-30`: a timestamp that is no date
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"invalid value {node.value!r}: {exc}" if isinstance(node.value, str) else str(exc),
            node.start_mark,
        ) from None


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
