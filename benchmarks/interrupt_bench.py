"""How fast `scan aws` stops on Ctrl-C, with and without a request stalled in the network.

Not a test: it prints figures (the tests assert behaviour, which holds on a loaded
machine; these numbers do not). Each run starts a real `residency-audit scan aws`
process against moto behind the loopback front (150 ms per request), sends SIGINT once
the scan is under way, and measures until the process is gone. The "stalled" runs hold
one region's DescribeInstances for longer than the client's read timeout. A baseline in
the same run, `python -c pass` started the same way, shows how loaded the machine is.

    python benchmarks/interrupt_bench.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from residency_emulator.aws import AwsEmulator, operation_of, signed_scope
from residency_emulator.estate import REGIONS, seed_aws
from residency_emulator.front import Request, Response


def one_run(emu: AwsEmulator, out: Path, stall: bool) -> float:
    release = threading.Event()
    reached = threading.Event()

    def hold(req: Request) -> Response | None:
        if operation_of(req)[1] == "DescribeInstances":
            reached.set()
            if stall and signed_scope(req)[0] == "eu-central-1":
                release.wait(120)
        return None

    emu.front.request_hooks.append(hold)
    env = {**os.environ, **emu.env(), "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    cmd = [sys.executable, "-m", "residency_audit", "scan", "aws", "--regions", ",".join(REGIONS), "--workers", "2"]
    cmd += ["-f", "json", "-o", str(out), "-q", "--no-store"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        reached.wait(120)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        proc.wait(timeout=300)
        took = time.monotonic() - sent
        scan = json.loads(out.read_text())["scan"]
        assert scan["interrupted"] and proc.returncode in (1, 3), (proc.returncode, scan["interrupted"])
        return took
    finally:
        release.set()
        emu.front.request_hooks.remove(hold)
        if proc.poll() is None:
            proc.kill()


def baseline() -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    emu = AwsEmulator()
    try:
        seed_aws(emu)
        emu.front.latency = 0.15
        with TemporaryDirectory() as tmp:
            results: dict[str, list[float]] = {
                "python -c pass (baseline)": [],
                "Ctrl-C": [],
                "Ctrl-C, stalled read": [],
            }
            for i in range(args.repeat):
                results["python -c pass (baseline)"].append(baseline())
                results["Ctrl-C"].append(one_run(emu, Path(tmp) / f"a{i}.json", stall=False))
                results["Ctrl-C, stalled read"].append(one_run(emu, Path(tmp) / f"b{i}.json", stall=True))
    finally:
        emu.stop()
    base = statistics.median(results["python -c pass (baseline)"])
    print(f"{'':28} {'median s':>9} {'max s':>7} {'x baseline':>10}")
    for name, values in results.items():
        med = statistics.median(values)
        print(f"{name:28} {med:9.2f} {max(values):7.2f} {med / base:10.1f}")


if __name__ == "__main__":
    main()
