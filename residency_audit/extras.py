"""Optional parts of the install: each cloud's SDK, the scan history, the demo's emulators.

The core install (`pip install residency-audit`) is the gate, the rules, the catalog and
the outputs. A command that needs an extra which is not installed says so in one line,
exit 2, naming the extra to install: never an ImportError.
"""

from __future__ import annotations

import importlib.util

from .errors import UserError

#: extra -> modules whose presence means it is installed
STORE = ("sqlalchemy", "alembic", "jinja2")
DEMO = ("moto",)


def installed(modules: tuple[str, ...]) -> bool:
    for module in modules:
        try:
            if importlib.util.find_spec(module) is None:
                return False
        except (ModuleNotFoundError, ValueError):  # a parent package is missing
            return False
    return True


def require(modules: tuple[str, ...], extra: str, what: str) -> None:
    if not installed(modules):
        raise UserError(
            f"{what} needs residency-audit[{extra}], which is not installed: pip install 'residency-audit[{extra}]'"
        )
