"""Write each catalog YAML's compiled JSON twin: `python -m residency_audit.geography.compile`.

Run it after editing `data/*.yaml` (the tests fail until you do). `--check`
only reports twins that are missing or stale, and exits 1 if there are any.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from ..providers import names
from . import DATA_DIR, CatalogError, parse_yaml

NAMES = ("eu", *names())


def compiled(name: str, source: bytes) -> str:
    """The JSON twin's text for one YAML file (deterministic: same YAML, same bytes)."""
    data = parse_yaml(name, source)
    text = json.dumps(
        {"source": f"{name}.yaml", "source_sha256": hashlib.sha256(source).hexdigest(), "data": data},
        indent=1,
        ensure_ascii=False,
    )
    if json.loads(text)["data"] != data:  # a YAML date or a non-string key would not survive JSON
        raise CatalogError(f"geography/data/{name}.yaml: holds values JSON cannot carry")
    return text + "\n"


def stale(data_dir: Path) -> list[str]:
    """Twins that are missing or were not built from the current YAML."""
    out = []
    for name in NAMES:
        want = compiled(name, (data_dir / f"{name}.yaml").read_bytes())
        twin = data_dir / f"{name}.json"
        if not twin.exists() or twin.read_text("utf-8") != want:
            out.append(twin.name)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m residency_audit.geography.compile", description=__doc__)
    ap.add_argument("--check", action="store_true", help="only report stale twins (exit 1 if any)")
    args = ap.parse_args(argv)
    data_dir = DATA_DIR
    if args.check:
        bad = stale(data_dir)
        for name in bad:
            print(f"geography/data/{name}: stale, run python -m residency_audit.geography.compile")
        return 1 if bad else 0
    for name in NAMES:
        (data_dir / f"{name}.json").write_text(compiled(name, (data_dir / f"{name}.yaml").read_bytes()), "utf-8")
        print(f"wrote geography/data/{name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
