"""Start-up: `residency-audit --help` and `gate --help` against a bare `python -c pass`, in the same run.

Targets (issue 15/20): `--help` at most 3x a bare interpreter start. Byte-compiles the package
first, as `pip install` does. Run it in the venv to measure (a core-only install is the lean case):

    python benchmarks/startup_bench.py [--repeat 21]
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import shutil
import statistics
import subprocess
import sys
import time


def median_ms(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=21)
    args = ap.parse_args()
    spec = importlib.util.find_spec("residency_audit")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("residency_audit is not importable: pip install it first")
    for where in spec.submodule_search_locations:
        compileall.compile_dir(where, quiet=1)
    script = shutil.which("residency-audit") or sys.exit("no residency-audit console script on PATH")
    base = median_ms([sys.executable, "-c", "pass"], args.repeat)
    for label, cmd in (("--help", [script, "--help"]), ("gate --help", [script, "gate", "--help"])):
        ms = median_ms(cmd, args.repeat)
        print(f"residency-audit {label}: {ms:.1f} ms, {ms / base:.2f}x python -c pass ({base:.1f} ms)")


if __name__ == "__main__":
    main()
