"""Reference pages generated from the code at build time, so they cannot drift from it.

Each generator returns Markdown for one `<!-- reference:NAME -->` marker in a docs page
(`docs/hooks.py` does the replacing). They read the project only through the functions
and tables it already exposes:

- rules: `residency_audit.engine.load_rules` over `rules/*.yaml` and `rules/profiles/*.yaml`;
- terraform-types: `residency_audit.terraform.supported_types()` and each provider module's
  `TYPES` / `LINKS` / `GLOBAL_LOCATION` (`_terraform_module` below), categories from
  `residency_audit.kinds.classify`;
- kind-classes: each provider's `CLASSES` table (`_classes` below);
- azure-kinds: the kinds Azure scans declare (`providers.api("azure").kinds()`): what each reads
  beyond the inventory, and whether its footprint is modelled;
- permissions: `residency_audit.commands.permissions` (what `residency-audit permissions`
  prints) and the guardrail reader's own allow-list;
- cli: the argparse tree of `residency_audit.cli.build_parser()`.

When the per-cloud code moves (kind declarations per provider package), re-point
`_terraform_module` and `_classes`: nothing else here knows
where the tables live.
"""

from __future__ import annotations

import argparse
import importlib
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import yaml

#: Display names of the providers, in the order the pages list them.
CLOUDS = {"aws": "AWS", "gcp": "Google Cloud", "azure": "Azure"}
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
#: Fixed width for argparse usage lines, so the page does not depend on the terminal.
USAGE_WIDTH = 100


# --------------------------------------------------------------------------- Markdown helpers

_CODE_SPAN = re.compile(r"(`[^`]*`)")


def cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped, emphasis and HTML characters
    outside code spans escaped (help texts say `guardrail.*` and `<region>`)."""
    parts = _CODE_SPAN.split(" ".join(str(text).split()))
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # a code span: only the pipe needs escaping inside a table
            out.append(part.replace("|", "\\|"))
        else:
            out.append(
                part.replace("\\", "\\\\")
                .replace("|", "\\|")
                .replace("*", "\\*")
                .replace("_", "\\_")
                .replace("<", "&lt;")
                .replace(">", "&gt;")
                .replace("[", "\\[")
            )
    return "".join(out)


def code(text: str) -> str:
    """An inline code span that survives backticks in the text."""
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def fenced(text: str, lang: str = "") -> str:
    return f"```{lang}\n{text.rstrip()}\n```\n"


# --------------------------------------------------------------------------- rules


def _rule_files(repo: Path) -> list[Path]:
    rules = repo / "rules"
    builtin = repo / "residency_audit" / "builtin" / "rules.yaml"  # always loaded, whatever --rules says
    return sorted(rules.glob("*.yaml")) + sorted((rules / "profiles").glob("*.yaml")) + [builtin]


def rules_reference(repo: Path) -> str:
    """Every rule of every shipped rule file: summary table, then each rule's text."""
    from residency_audit.engine import load_rules

    out: list[str] = []
    for path in _rule_files(repo):
        rel = path.relative_to(repo).as_posix()
        header = yaml.safe_load(path.read_text("utf-8")) or {}
        rules = load_rules([path]).rules
        out.append(f"## `{rel}` {{#file-{path.stem}}}\n")
        if header.get("description"):
            out.append(f"{header['description']}\n")
        if "profiles" in path.parts:
            out.append(
                f"An opt-in profile: add it to the default set with `--rules rules --rules {rel}` "
                "(the default directory load never reads `profiles/`).\n"
            )
        out.append(
            table(
                ("rule", "severity", "title"),
                [(f"[`{r.id}`](#{r.id.lower()})", r.severity, cell(r.title)) for r in rules],
            )
        )
        for r in rules:
            out.append(f"### {r.id} {{#{r.id.lower()}}}\n")
            out.append(f"**{cell(r.title)}** — severity **{r.severity}**\n")
            if r.description:
                out.append(f"{cell(r.description)}\n")
            facts = [f"- **Clause:** {cell(r.clause)}"]
            if r.resources != ("*",):
                facts.append(f"- **Applies to kinds:** {', '.join(code(g) for g in r.resources)}")
            if r.exclude_resources:
                facts.append(f"- **Never applies to:** {', '.join(code(g) for g in r.exclude_resources)}")
            if r.overrides:
                facts.append(f"- **Overrides:** {', '.join(code(o) for o in r.overrides)}")
            facts.append(f"- **Message:** {code(r.message)}")
            facts.append(f"- **Defined in:** `{rel}` line {r.line}")
            out.append("\n".join(facts) + "\n")
    return "\n".join(out)


# --------------------------------------------------------------------------- Terraform types and kinds


def _terraform_module(cloud: str) -> ModuleType:
    """The provider module that declares `TYPES`, `LINKS` and `GLOBAL_LOCATION` (re-point after issue 15)."""
    return importlib.import_module(f"residency_audit.providers.{cloud}.terraform")


def _classes(cloud: str) -> tuple[Any, ...]:
    """The provider's classification table of `KindClass` rows (re-point after issue 15)."""
    return tuple(importlib.import_module(f"residency_audit.providers.{cloud}.classes").CLASSES)


def _terraform_prefixes() -> dict[str, list[str]]:
    """cloud -> the Terraform provider names whose types it reads (aws, awscc, ...)."""
    from residency_audit.terraform.adapter import TF_PROVIDERS

    out: dict[str, list[str]] = {}
    for prefix, cloud in TF_PROVIDERS.items():
        out.setdefault(cloud, []).append(prefix)
    return out


class TypeRow(NamedTuple):
    type: str
    kind: str  # "" for a link type: it adds locations to the resource it names
    category: str
    scope: str
    link: bool


def terraform_type_rows(cloud: str) -> list[TypeRow]:
    """The Terraform types of one provider whose footprint (replicas, backups, secondaries) the gate models."""
    from residency_audit.kinds import classify

    module = _terraform_module(cloud)
    rows = []
    for tf_type, (kind, _extractor) in module.TYPES.items():
        c = classify(cloud, tf_type, kind)
        rows.append(TypeRow(tf_type, kind, c.category, c.scope, link=False))
    for tf_type in module.LINKS:
        c = classify(cloud, tf_type)
        rows.append(TypeRow(tf_type, "", c.category, c.scope, link=True))
    return sorted(rows, key=lambda r: r.type)


def terraform_types_reference(repo: Path) -> str:
    from residency_audit.terraform import supported_types

    out: list[str] = []
    listed: set[str] = set()
    prefixes = _terraform_prefixes()
    for cloud, title in CLOUDS.items():
        module = _terraform_module(cloud)
        rows = terraform_type_rows(cloud)
        listed.update(r.type for r in rows)
        names = ", ".join(f"`{p}`" for p in prefixes.get(cloud, []))
        out.append(f"## {title}\n")
        out.append(
            f"Terraform providers {names}. {len(rows)} types with a modelled footprint; every other "
            f"managed type of these providers is judged at its primary location, and a global-scope "
            f"type at `{module.GLOBAL_LOCATION}`.\n"
        )
        out.append(
            table(
                ("Terraform type", "kind", "category", "scope", "footprint"),
                [
                    (
                        f"`{r.type}`",
                        f"`{r.kind}`" if r.kind else "—",
                        r.category,
                        r.scope,
                        "modelled: adds locations to the planned resource it names" if r.link else "modelled",
                    )
                    for r in rows
                ],
            )
        )
    missing = sorted(set(supported_types()) - listed)
    if missing:  # a provider module the page does not know about: fail the build, not the reader
        raise RuntimeError(f"supported Terraform types missing from the reference: {', '.join(missing)}")
    return "\n".join(out)


def kind_classes_reference(repo: Path) -> str:
    out: list[str] = []
    for cloud, title in CLOUDS.items():
        rows = _classes(cloud)
        out.append(f"## {title}\n")
        out.append(f"{len(rows)} rows; the first row whose pattern matches wins.\n")
        out.append(
            table(
                ("patterns", "category", "scope", "judged with", "note"),
                [
                    (
                        ", ".join(code(m) for m in row.match),
                        row.category,
                        row.scope,
                        ", ".join(code(p) for p in row.part_of) or "—",
                        cell(row.note) or "",
                    )
                    for row in rows
                ],
            )
        )
    return "\n".join(out)


def kinds_reference(cloud: str) -> str:
    """A live scan's kinds, as its provider declares them: the reads beyond the inventory (with the
    permission each needs), whether the copies are modelled, and which locations count."""
    from residency_audit.providers import api

    kinds = api(cloud).kinds()
    listing = {op for k in kinds if k.name == "*" for op in k.reads}
    rows = []
    for k in kinds:
        extra = list(dict.fromkeys(op.permission for op in k.reads if op not in listing))
        rows.append(
            (
                code(k.name),
                k.category if k.name != "*" else "by type",
                k.judged,
                ", ".join(code(p) for p in extra) or "— (the inventory)",
                cell(k.doc),
            )
        )
    modelled = sum(1 for k in kinds if k.footprint)
    return (
        f"{len(kinds)} kinds, {modelled} with a modelled footprint (`judged: footprint` in the output); "
        "every other resource is judged at its primary location (`judged: primary`).\n\n"
        + table(("kind", "category", "judged", "reads beyond the inventory", "locations"), rows)
    )


def azure_kinds_reference(repo: Path) -> str:
    return kinds_reference("azure")


# --------------------------------------------------------------------------- permissions


def permissions_reference(repo: Path) -> str:
    """Each provider's policy exactly as `residency-audit permissions PROVIDER` prints it: derived from
    its declared read operations (scans, organisation scans and guardrail audits alike)."""
    from residency_audit.providers import api, names

    formats = {"aws": "json", "gcp": "yaml", "azure": "json"}
    notes = {
        "aws": "IAM actions (an identity policy for the scanning role)",
        "gcp": "IAM permissions (for `gcloud iam roles create ID --organization=ORG --file=role.yaml`)",
        "azure": "RBAC actions (for `az role definition create --role-definition role.json`; "
        "`AssignableScopes` is `--scope`)",
    }
    out = []
    for name in names():
        provider = api(name)
        args = argparse.Namespace(provider=name, scope="/subscriptions/00000000-0000-0000-0000-000000000000")
        ops = provider.read_operations()
        out += [
            f"## {provider.info.title}\n",
            f"{len({op.permission for op in ops})} {notes.get(name, 'permissions')}. "
            f"`residency-audit permissions {name}` prints:\n",
            fenced(provider.permissions(args).rstrip("\n"), formats.get(name, "")),
        ]
    return "\n".join(out)


# --------------------------------------------------------------------------- CLI


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = (), summary: str = ""
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str]]:
    """Every (sub)command parser in the tree, depth first, with the help its parent gives it.

    argparse has no public API for walking its tree: this reads `_actions` and `_SubParsersAction`.
    """
    yield path, parser, summary
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            seen: set[int] = set()
            for name, sub in action.choices.items():
                if id(sub) in seen:  # an alias
                    continue
                seen.add(id(sub))
                yield from commands(sub, (*path, name), helps.get(name, ""))


def _anchor(path: tuple[str, ...]) -> str:
    return "-".join(("cli", *path)) if path else "cli"


def _formatter(parser: argparse.ArgumentParser) -> argparse.HelpFormatter:
    return argparse.HelpFormatter(prog=parser.prog, width=USAGE_WIDTH)


def _usage(parser: argparse.ArgumentParser) -> str:
    fmt = _formatter(parser)
    fmt.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups, prefix="")
    return fmt.format_help().strip()


def _option_rows(
    parser: argparse.ArgumentParser, action: argparse.Action, path: tuple[str, ...]
) -> list[tuple[str, str]]:
    """Table rows for one argument; a subcommand argument gets a row per subcommand."""
    if isinstance(action, argparse._SubParsersAction):
        helps = {a.dest: a.help or "" for a in action._choices_actions}
        return [(f"[`{name}`](#{_anchor((*path, name))})", cell(helps.get(name, ""))) for name in action.choices]
    fmt = _formatter(parser)
    invocation = fmt._format_action_invocation(action)
    help_text = fmt._expand_help(action) if action.help else ""
    extra = []
    default = action.default
    if (
        default not in (None, False, argparse.SUPPRESS, [])
        and action.option_strings
        and "default" not in help_text
        and not isinstance(action, argparse._VersionAction)
    ):
        extra.append(f"default: `{default}`")
    text = cell(help_text)
    if extra:
        text = f"{text} ({'; '.join(extra)})" if text else "; ".join(extra)
    return [(code(invocation), text)]


def cli_reference(repo: Path) -> str:
    from residency_audit.cli import build_parser

    root = build_parser(full=True)
    out: list[str] = []
    for path, parser, summary in commands(root):
        title = " ".join(("residency-audit", *path))
        depth = min(2 + len(path), 4) if path else 2
        out.append(f"{'#' * depth} `{title}` {{#{_anchor(path)}}}\n")
        about = parser.description or (summary[0].upper() + summary[1:] + "." if summary else "")
        if about:
            out.append(f"{cell(about)}\n")
        out.append(fenced(_usage(parser), "text"))
        for group in parser._action_groups:
            actions = [a for a in group._group_actions if a.help is not argparse.SUPPRESS]
            if not actions:
                continue
            out.append(f"**{cell(group.title or 'options')}**\n")
            rows = [row for a in actions for row in _option_rows(parser, a, path)]
            out.append(table(("argument", "meaning"), rows))
        if parser.epilog and not path:
            out.append(fenced(parser.epilog, "text"))
    return "\n".join(out)


#: marker name -> generator; `docs/hooks.py` replaces `<!-- reference:NAME -->` with its output.
GENERATORS: dict[str, Callable[[Path], str]] = {
    "rules": rules_reference,
    "terraform-types": terraform_types_reference,
    "kind-classes": kind_classes_reference,
    "azure-kinds": azure_kinds_reference,
    "permissions": permissions_reference,
    "cli": cli_reference,
}
