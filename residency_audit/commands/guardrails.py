"""`residency-audit guardrails aws|azure|gcp`: would the organisation's own controls stop
the next resource outside the EU?

All three are read live, read-only, through their scan adapter's credentials and
allow-list; Azure and Google Cloud also evaluate exported API JSON (`--from-file`).
All go through the normal scan path: outputs, rules (rules/guardrails.yaml) and
exit codes are those of `scan` (an unreadable scope is a gap: exit 3).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..model import Resource


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ..cli import COMMANDS

    p = sub.add_parser(
        "guardrails",
        help=COMMANDS["guardrails"],
        description="Audit whether the organisation's preventive controls (AWS service control policies, "
        "Azure Policy 'Allowed locations', the GCP gcp.resourceLocations organisation policy) actually "
        "restrict new resources to the EU, and which scope to fix where they do not.",
    )
    prov = p.add_subparsers(dest="provider", metavar="PROVIDER", required=True, parser_class=type(p))
    from ..providers import api, names

    for name in names():
        api(name).register_guardrails(prov)


def read_json(path: Path) -> Any:
    from ..errors import UserError

    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None


def run_from_file(args: argparse.Namespace, evaluate: Callable[[dict[str, Any]], list[Resource]]) -> int:
    """`guardrails PROVIDER --from-file`: the provider's evaluator over an exported JSON document."""
    from ..errors import UserError
    from ..guardrails import GuardrailAdapter
    from ..model import ScanRequest
    from .scan import execute

    path = Path(args.from_file)
    doc = read_json(path)
    if not isinstance(doc, dict):
        raise UserError(f"{path}: expected a JSON object")
    from ..guardrails import InputError

    try:
        resources = evaluate(doc)  # validate before the scan path starts
    except InputError as exc:
        raise UserError(f"{path}: {exc}") from None
    except (AttributeError, TypeError, KeyError) as exc:  # a field of the wrong JSON type
        raise UserError(f"{path}: unexpected shape in the export ({type(exc).__name__}: {exc})") from None
    request = ScanRequest(args.provider, scopes=(str(path),), options={"audit": "guardrails", "from_file": True})
    return execute(args, request, lambda: GuardrailAdapter(args.provider, lambda _c: resources))[1]
