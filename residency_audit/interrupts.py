"""Ctrl-C and `--deadline`: a scan stops when asked, writes what it has, and the process exits now.

Worker threads may sit in a socket read for the whole read timeout (30-300 s per
attempt); Python would join them at exit. So the command-line entry point
(`cli.entry`) installs a SIGINT handler:

- the first Ctrl-C raises KeyboardInterrupt in the main thread as usual: the scan
  stops its pools, keeps what was collected and writes it; the process then exits
  without joining threads still blocked in the network (`exit_now`);
- if the main thread has not taken the interrupt in hand (`handled`) within
  `GRACE` seconds, the process exits anyway (130): something was stuck;
- a second Ctrl-C exits at once (130).

`deadline()` arms SIGALRM for `scan --deadline`: the scan is stopped the same way,
with `DeadlineExceeded` instead of KeyboardInterrupt.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

#: Seconds between the first Ctrl-C and a forced exit, unless the scan took the interrupt in hand.
GRACE = 1.5
EXIT_INTERRUPTED = 130

_state = {"interrupts": 0, "handled": False, "stopped": False}


class DeadlineExceeded(BaseException):
    """`scan --deadline` ran out: raised in the main thread, where the scan is waiting on its workers."""


def _say(text: str) -> None:
    with contextlib.suppress(OSError):
        os.write(2, f"residency-audit: {text}\n".encode())


def _watchdog() -> None:
    if not _state["handled"]:
        _say(f"interrupted: still busy {GRACE:g} s after Ctrl-C, exiting now")
        os._exit(EXIT_INTERRUPTED)


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    _state["interrupts"] += 1
    if _state["interrupts"] > 1:
        _say("interrupted again: exiting now")
        os._exit(EXIT_INTERRUPTED)
    timer = threading.Timer(GRACE, _watchdog)
    timer.daemon = True
    timer.start()
    raise KeyboardInterrupt


def install() -> None:
    """The command line's SIGINT handling (only the entry point calls this; library use keeps Python's)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_sigint)


def handled() -> None:
    """The interrupt reached code that writes what was collected: no forced exit while it does."""
    _state["handled"] = True


def stopped() -> None:
    """The scan was cut short (its deadline): workers may still be blocked in a request."""
    _state["stopped"] = True


def exit_now(code: int) -> None:
    """After Ctrl-C or a deadline, exit with `code` without joining worker threads still blocked
    in a request. Outputs are already written and flushed; the sockets close with the process.
    A run that was not cut short exits normally (atexit handlers and all)."""
    if not (_state["interrupts"] or _state["stopped"]):
        return
    stuck = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if not stuck:
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


@contextlib.contextmanager
def deadline(seconds: float | None) -> Iterator[dict[str, bool]]:
    """Raise DeadlineExceeded in the main thread after `seconds`, while the block runs.

    Yields a state whose "armed" the block clears the moment its work returns, so an
    alarm that lands in between is ignored rather than raised outside the block.
    """
    state = {"armed": seconds is not None}
    if seconds is None:
        yield state
        return
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("--deadline needs the main thread (it uses SIGALRM)")

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        if state["armed"]:
            state["armed"] = False
            raise DeadlineExceeded

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield state
    finally:
        state["armed"] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def parse_duration(text: str) -> float:
    """`90`, `90s`, `15m`, `2h`, `1h30m` -> seconds (ValueError when it is none of those)."""
    import re

    m = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text)
    if not text.strip() or m is None or not any(m.groups()):
        raise ValueError(f"'{text}' is not a duration (like 90s, 15m, 1h30m)")
    h, mins, secs = (float(g) if g else 0.0 for g in m.groups())
    total = h * 3600 + mins * 60 + secs
    if total <= 0:
        raise ValueError(f"'{text}' is not a positive duration")
    return total
