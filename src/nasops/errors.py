"""The small exception hierarchy of nasops; only the CLI turns these into messages.

Exit codes are part of the contract:
0 success, 1 an operation failed, 2 bad input (nothing was changed), 3 drift found.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_DRIFT = 3


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
