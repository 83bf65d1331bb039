"""The small exception hierarchy of nasops; only the CLI turns these into messages.

Exit codes are part of the contract:
0 success, 1 an operation failed, 2 bad input (nothing was changed), 3 drift found.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_DRIFT = 3
OS_ERROR_WORDS = {
    errno.ENOENT: "no such file or directory",
    errno.ENOTDIR: "a part of this path is not a directory",
    errno.EISDIR: "is a directory",
    errno.ELOOP: "too many symbolic links (a link that points to itself?)",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "no space left on the device",
}
# OS errors that mean the path the user gave is wrong (bad input), not that work failed.
BAD_PATH_ERRORS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ELOOP,
                             errno.ENAMETOOLONG, errno.EACCES, errno.EPERM, errno.EROFS})


def os_error_words(error: OSError) -> str:
    """Given an OSError, return what went wrong in plain words, without the path."""
    if error.errno in OS_ERROR_WORDS:
        return OS_ERROR_WORDS[error.errno]
    return (error.strerror or type(error).__name__).lower()


def os_error_exit_code(error: OSError) -> int:
    """Given an OSError about a path, return 2 when the path is wrong, 1 otherwise."""
    return EXIT_BAD_INPUT if error.errno in BAD_PATH_ERRORS else EXIT_FAILURE


class NasopsError(Exception):
    """Base of every error nasops expects; anything else is a bug (traceback)."""

    exit_code = EXIT_FAILURE


class BadInputError(NasopsError):
    """The user gave us something we refuse before touching anything."""

    exit_code = EXIT_BAD_INPUT


class PrerequisiteError(BadInputError):
    """A tool or privilege this command needs is missing; the message says how to fix it."""


class CommandFailedError(NasopsError):
    """An external command returned a failure we cannot recover from."""


@dataclass(frozen=True)
class Problem:
    """One located problem in a spec file."""

    file: str
    line: int
    column: int
    path: str
    message: str
    severity: str = "error"

    def format(self) -> str:
        """Return the one-line `file:line:col: path: message` form."""
        where = f"{self.file}:{self.line}:{self.column}"
        prefix = "warning: " if self.severity == "warning" else ""
        if self.path:
            return f"{where}: {prefix}{self.path}: {self.message}"
        return f"{where}: {prefix}{self.message}"


class SpecError(BadInputError):
    """A spec failed validation; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column, p.message))
        super().__init__("\n".join(p.format() for p in self.problems))
