"""Command line: `residency-audit <command>`.

Each command lives in `commands/<name>.py` with `register(subparsers)`; modules
are light at import time (no cloud SDK), so `--help` and the gate start fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys

from . import __version__
from .errors import EXIT_INTERNAL, EXIT_USAGE, UserError

#: `--help` must not pay for importing `typing` (~3 ms of a ~35 ms start): the names below
#: are for the type checker only (mypy treats TYPE_CHECKING as true: `always_true` in pyproject.toml).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

#: Every command and its one-line help. `residency-audit --help` shows these without importing
#: a single command module (the full parser of a command is built only when it is run).
COMMANDS: dict[str, str] = {
    "scan": "scan a cloud estate (read-only)",
    "gate": "check a Terraform plan before apply (CI gate)",
    "report": "compliance report over the recorded scans (state, changes, evidence bundle)",
    "copies": "every copy of a data set (erasure and hand-over checklist), and proof of erasure",
    "demo": "scan bundled emulated estates (no cloud account needed)",
    "regions": "print the location catalog",
    "guardrails": "audit the preventive controls (SCPs, Azure Policy, GCP org policy) for EU-only",
    "permissions": "print the least-privilege policy a scan needs",
}

EXIT_CODES = """\
exit codes:
  0  no failing findings (or --exit-zero)
  1  failing findings (at or above --fail-on)
  2  usage or input error: bad arguments, rule file, plan, credentials
  3  scan incomplete (coverage gaps, or interrupted) and no failing findings; --allow-gaps makes gaps warnings
  4  internal error (a bug): one line; --debug or RESIDENCY_AUDIT_DEBUG=1 shows the traceback
"""


class _Parser(argparse.ArgumentParser):
    """Every parser of the CLI: exit 2 on bad usage, and no guessing of abbreviated options.

    An abbreviation is a guess: `scan aws --region eu-west-1` used to be taken as
    `--regions`, and a future option sharing the prefix would silently change its
    meaning. Options are spelled out (a misspelling gets a suggestion instead).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        # The innermost (sub)command parser finishes first: remember it, so that
        # leftovers are reported with that command's usage, not the top level's.
        if not hasattr(parsed, PARSER_ATTR):
            setattr(parsed, PARSER_ATTR, self)
        return parsed, extras

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    def unrecognized(self, extras: list[str]) -> None:
        """Leftover arguments: this command's usage, and the option that was probably meant."""
        import difflib

        message = f"unrecognized arguments: {' '.join(extras)}"
        known = [o for action in self._actions for o in action.option_strings if o.startswith("--")]
        wrong = next((a.split("=", 1)[0] for a in extras if a.startswith("--")), None)
        if wrong:
            meant = [o for o in known if o.startswith(wrong)] or difflib.get_close_matches(
                wrong, known, n=1, cutoff=0.7
            )
            if meant:
                message += f" (did you mean {' or '.join(meant)}?)"
        self.error(message)


#: Namespace attribute naming the (sub)command parser that parsed the command line.
PARSER_ATTR = "_residency_audit_parser"


def _wanted(argv: Sequence[str] | None) -> str | None:
    """The command being run, if the command line names one."""
    first = next((a for a in argv or () if not a.startswith("-")), None)
    return first if first in COMMANDS else None


def build_parser(argv: Sequence[str] | None = None, full: bool = False) -> _Parser:
    """The parser of the command being run (its imports are all a run pays for); for `--help`,
    no command or an unknown one, the commands by name and help only; `full`: every command's
    whole parser (the documentation and the tests walk it)."""
    parser = _Parser(
        prog="residency-audit",
        description="Where does your cloud data physically and legally live? "
        "Scans AWS, Google Cloud and Azure (or a Terraform plan) and flags everything outside the EU "
        "or under US jurisdiction.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"residency-audit {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an internal error (or RESIDENCY_AUDIT_DEBUG=1)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    wanted = _wanted(argv)
    if full or wanted:
        for name in COMMANDS if full else (wanted,):
            importlib.import_module(f"{__package__}.commands.{name}").register(sub)
    else:
        for name, text in COMMANDS.items():
            sub.add_parser(name, help=text)
    return parser


def _tolerate_narrow_encodings() -> None:
    """A terminal that cannot show a character gets an escape, not a crash (exit 4) mid-report:
    resource names, tags and the table's '…' are not ASCII."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        reconfigure = getattr(stream, "reconfigure", None)
        if encoding not in ("utf8", "utf8sig") and callable(reconfigure):
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _tolerate_narrow_encodings()
    parser = build_parser(argv)
    args, extras = parser.parse_known_args(argv)
    command_parser: _Parser = getattr(args, PARSER_ATTR, parser)
    delattr(args, PARSER_ATTR)
    if extras:
        command_parser.unrecognized(extras)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    debug = bool(args.debug) or os.environ.get("RESIDENCY_AUDIT_DEBUG", "") not in ("", "0")
    return run_command(args.func, args, debug)


def entry() -> None:
    """The console script and `python -m residency_audit`: main() with the command line's Ctrl-C handling.

    After the command returns, worker threads still blocked in a request are not waited for.
    """
    from . import interrupts

    interrupts.install()
    code = main()
    interrupts.exit_now(code)
    raise SystemExit(code)


def run_command(func: Callable[[argparse.Namespace], int], args: argparse.Namespace, debug: bool = False) -> int:
    """Run one command: input errors are one line and exit 2, a bug one line and exit 4, never a traceback."""
    try:
        return func(args)
    except UserError as exc:
        from .redact import redact
        from .safetext import terminal

        print(f"residency-audit: error: {terminal(redact(str(exc)))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        from .interrupts import handled

        handled()
        print("residency-audit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `residency-audit permissions aws | head`: the reader left
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # noqa: BLE001 - the safety net: a bug is one line and exit 4, not a traceback
        if debug:
            import traceback

            traceback.print_exc()
        from .redact import redact
        from .safetext import terminal

        line = terminal(redact(_one_line(exc)))
        print(f"residency-audit: internal error: {line} (rerun with --debug for details)", file=sys.stderr)
        return EXIT_INTERNAL


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")[:300]
