"""The one place nasops runs external commands.

Every command is an argument list (never a shell string). Secrets are passed through files or
the environment, and any value registered as secret is masked in logs and error messages.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from nasops.errors import CommandFailedError

logger = logging.getLogger("nasops.execute")

MASK = "********"


@dataclass
class SecretMasker:
    """Remembers secret strings and replaces them in any text shown to people."""

    secrets: set[str] = field(default_factory=set)

    def add(self, *values: str) -> None:
        """Register values that must never appear in output."""
        self.secrets.update(value for value in values if value)

    def mask(self, text: str) -> str:
        """Given text, return it with every registered secret replaced by a mask."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text


MASKER = SecretMasker()


@dataclass(frozen=True)
class CommandResult:
    """What a finished command gave back."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def display_command(argv: Sequence[str]) -> str:
    """Given argv, return a shell-quoted, secret-masked form for logs and messages."""
    return MASKER.mask(shlex.join(argv))


def run_command(
    argv: Sequence[str],
    *,
    environment: Mapping[str, str] | None = None,
    input_text: str | None = None,
    timeout: float | None = None,
    accepted_codes: Iterable[int] = (0,),
    working_directory: str | None = None,
) -> CommandResult:
    """Run argv and return its result; raise CommandFailedError on an unaccepted exit code.

    `environment` is added to the current environment (that is how secrets travel).
    """
    argv = tuple(str(part) for part in argv)
    full_environment = dict(os.environ)
    if environment:
        full_environment.update(environment)
    logger.debug("running %s", display_command(argv))
    try:
        completed = subprocess.run(
            argv,
            input=input_text,
            capture_output=True,
            text=True,
            env=full_environment,
            timeout=timeout,
            cwd=working_directory,
            check=False,
        )
    except FileNotFoundError as error:
        raise CommandFailedError(f"command not found: {argv[0]}") from error
    except subprocess.TimeoutExpired as error:
        raise CommandFailedError(
            f"command timed out after {timeout} s: {display_command(argv)}"
        ) from error
    result = CommandResult(argv, completed.returncode, completed.stdout, completed.stderr)
    if completed.returncode not in set(accepted_codes):
        detail = MASKER.mask((completed.stderr or completed.stdout).strip())
        raise CommandFailedError(
            f"{display_command(argv)} failed with exit code {completed.returncode}"
            + (f": {detail}" if detail else "")
        )
    return result
