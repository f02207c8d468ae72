"""Where each `resource "TYPE" "NAME"` block is, so findings can point at a .tf file and line."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any


class SourceIndex:
    """Where each `resource "TYPE" "NAME"` block is, per module directory (read lazily).

    The plan's configuration names module sources but not file positions, so
    the .tf files next to the plan are read: local module sources are followed,
    installed ones are found through `.terraform/modules/modules.json`.
    """

    _BLOCK = re.compile(r'^[ \t]*resource[ \t]+"([^"]+)"[ \t]+"([^"]+)"', re.MULTILINE)

    def __init__(self, root: Path, calls: dict[str, tuple[str, dict[str, Any]]]) -> None:
        self.root = root
        self.calls = calls
        self.usable = any(root.glob("*.tf"))
        self._dirs: dict[str, Path | None] = {"": root}
        self._blocks: dict[Path, dict[tuple[str, str], tuple[str, int]]] = {}
        self._installed = self._read_modules_json() if self.usable else {}

    def _read_modules_json(self) -> dict[str, str]:
        path = self.root / ".terraform" / "modules" / "modules.json"
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        mods = data.get("Modules") if isinstance(data, dict) else None
        return {str(m.get("Key", "")): str(m.get("Dir", "")) for m in mods or () if isinstance(m, dict)}

    def _dir(self, modpath: str) -> Path | None:
        if modpath in self._dirs:
            return self._dirs[modpath]
        result: Path | None = None
        key = ".".join(modpath.split(".")[1::2])  # module.a.module.b -> a.b, the modules.json key
        if self._installed.get(key):
            result = self.root / self._installed[key]
        else:
            parent, call = self.calls.get(modpath, ("", {}))
            source = str(call.get("source", ""))
            pdir = self._dir(parent)
            if pdir is not None and source.startswith(("./", "../")):
                result = pdir / source
        self._dirs[modpath] = result
        return result

    def find(self, modpath: str, rtype: str, name: str) -> tuple[str, int] | None:
        d = self._dir(modpath)
        if d is None:
            return None
        blocks = self._blocks.get(d)
        if blocks is None:
            blocks = {}
            for tf in sorted(d.glob("*.tf")):
                try:
                    text = tf.read_text("utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                for m in self._BLOCK.finditer(text):
                    line = text.count("\n", 0, m.start()) + 1
                    blocks.setdefault((m.group(1), m.group(2)), (_display_path(tf), line))
            self._blocks[d] = blocks
        return blocks.get((rtype, name))


def _display_path(path: Path) -> str:
    """Relative to the working directory when below it (what CI annotations expect)."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return os.path.normpath(str(path)).replace(os.sep, "/")
