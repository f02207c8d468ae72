"""Errors that end a run with one clear line and a documented exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_INTERNAL = 4  # a bug: one line, traceback only with --debug


class UserError(Exception):
    """Bad input or environment: printed as one line, exit code 2.

    The message is folded onto one line here, once for every raiser: it often
    quotes what the user gave (a URL, a value from a file), which may hold newlines.
    """

    exit_code = EXIT_USAGE

    def __init__(self, message: object = "") -> None:
        super().__init__(" ".join(str(message).split()))


class CredentialsError(UserError):
    """No usable credentials for a provider."""


class SpoolError(UserError):
    """A scan's temporary file (`spool`) could not be created or written (a full disk, a file-size
    limit): the scan cannot keep what it collected, so it stops with this one line (exit 2)
    rather than report less than it saw."""

    def __init__(self, exc: OSError) -> None:
        import tempfile

        reason = exc.strerror or str(exc)
        super().__init__(
            f"cannot write the scan's temporary file in {tempfile.gettempdir()}: {reason} (free space there, "
            "point TMPDIR elsewhere, or raise --spool-after to keep more resources in memory)"
        )
