"""Distinct backup errors with plain messages, and the table mapping restic's output to them.

Each class has a `kind`, written to the status file and used by the exporter and alerts.
restic 0.14 reports everything with exit code 1, so the mapping reads its stderr; restic
0.17+ adds exit codes 10 (no repository), 11 (lock failed) and 12 (wrong password), which are
mapped first.
"""

from __future__ import annotations

from nasops.backup.parse import LockHolder, parse_lock_holder
from nasops.errors import BadInputError, NasopsError
from nasops.execute import MASKER, CommandResult

STDERR_TAIL_LINES = 6


class BackupError(NasopsError):
    """A backup operation failed; `kind` names the reason in status files and metrics."""

    kind = "failed"

    def __init__(self, message: str, result: CommandResult | None = None) -> None:
        super().__init__(message)
        self.result = result
        """The failed restic command, when there was one (for callers that read its output)."""


class BackupConfigError(BadInputError):
    """The wrapper's config file is missing or invalid (nothing was run)."""

    kind = "bad_config"


class RepositoryUnreachableError(BackupError):
    """The repository cannot be reached: host down, disk not mounted, wrong URL."""

    kind = "repository_unreachable"


class RepositoryNotFoundError(RepositoryUnreachableError):
    """The location answers but holds no repository (not initialised, or wrong path)."""


class WrongPasswordError(BackupError):
    """The password file does not open any key of the repository."""

    kind = "wrong_password"


class RepositoryFullError(BackupError):
    """The repository's storage is full or over its quota."""

    kind = "repository_full"


class RepositoryLockedError(BackupError):
    """Another live restic process holds a conflicting lock on the repository."""

    kind = "repository_locked"

    def __init__(self, message: str, holder: LockHolder | None = None,
                 result: CommandResult | None = None) -> None:
        super().__init__(message, result)
        self.holder = holder


class SourceMissingError(BackupError):
    """A configured source path does not exist (share removed? volume not mounted?)."""

    kind = "source_missing"


class IntegrityError(BackupError):
    """`restic check` or a restore drill found damaged or differing data."""

    kind = "integrity"


class StatusWriteError(BackupError):
    """The status file could not be written (state directory missing or read-only)."""

    kind = "status_unwritable"


FULL_MARKERS = ("no space left on device", "disk quota exceeded", "quota exceeded",
                "insufficient storage", "507 ")
NOT_FOUND_MARKERS = ("no such file or directory", "does not exist", "404 not found")
UNREACHABLE_MARKERS = (
    "is there a repository at the following location",
    "unable to open repository", "unable to open repo", "unable to start the sftp session",
    "ssh: ", "connection refused", "no route to host", "network is unreachable",
    "could not resolve hostname", "no such host", "i/o timeout", "connection reset",
    "context deadline exceeded", "error talking http to rclone", "repository does not exist",
    "unable to open config file",
)
CONNECTION_MARKERS = ("connection refused", "dial tcp", "ssh: ", "no route to host",
                      "no such host", "i/o timeout", "sftp session")
EXIT_NO_REPOSITORY = 10
EXIT_LOCK_FAILED = 11
EXIT_WRONG_PASSWORD = 12


def restic_detail(result: CommandResult) -> str:
    """Given a finished restic command, return the last lines of its stderr, secrets masked."""
    text = result.stderr.strip() or result.stdout.strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return MASKER.mask("\n".join(lines[-STDERR_TAIL_LINES:]))


def _fatal_line(detail: str) -> str:
    for line in detail.splitlines():
        if line.startswith("Fatal: "):
            return line.removeprefix("Fatal: ")
    return detail.splitlines()[-1] if detail else "no message"


def classify_failure(repository: str, result: CommandResult) -> BackupError:
    """Given a failed restic command on REPOSITORY, return the matching error (not raised)."""
    error = _classify(repository, result)
    error.result = result
    return error


def _classify(repository: str, result: CommandResult) -> BackupError:
    detail = restic_detail(result)
    lowered = detail.lower()
    holder = parse_lock_holder(result.stderr)
    if holder is not None or result.returncode == EXIT_LOCK_FAILED:
        who = holder.describe() if holder else "another process"
        return RepositoryLockedError(f"repository '{repository}' is locked by {who}", holder)
    if result.returncode == EXIT_WRONG_PASSWORD or "wrong password" in lowered:
        return WrongPasswordError(
            f"repository '{repository}': wrong password (the password file opens no key of "
            "this repository)")
    if any(marker in lowered for marker in FULL_MARKERS):
        return RepositoryFullError(
            f"repository '{repository}' is full: {_fatal_line(detail)}")
    connection_problem = any(marker in lowered for marker in CONNECTION_MARKERS)
    if result.returncode == EXIT_NO_REPOSITORY or (
        not connection_problem and any(marker in lowered for marker in NOT_FOUND_MARKERS)
        and "config" in lowered
    ):
        return RepositoryNotFoundError(
            f"repository '{repository}' is unreachable: no repository there "
            f"(disk not mounted? not initialised?): {_fatal_line(detail)}")
    if any(marker in lowered for marker in UNREACHABLE_MARKERS):
        return RepositoryUnreachableError(
            f"repository '{repository}' is unreachable: {_fatal_line(detail)}")
    command = " ".join(result.argv[:2])
    return BackupError(
        f"repository '{repository}': {command} failed with exit code {result.returncode}: "
        f"{detail}")
