"""Running restic for one repository: secrets through the environment, lock handling, and
failures turned into the distinct errors of `nasops.backup.errors`.

Every command goes through `nasops.execute.run_command` (the one runner, which masks
secrets). The repository URL and the password file travel in `RESTIC_REPOSITORY` and
`RESTIC_PASSWORD_FILE`, so neither appears in any argv visible in /proc.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from nasops.backup.config import BackupConfig, RepositoryConfig
from nasops.backup.errors import (
    BackupConfigError,
    BackupError,
    RepositoryLockedError,
    RepositoryNotFoundError,
    RepositoryUnreachableError,
    classify_failure,
)
from nasops.backup.parse import LockHolder, parse_version
from nasops.backup.restic.common import ResticOptions
from nasops.backup.restic.unlock import build_unlock_argv
from nasops.backup.restic.version import build_version_argv
from nasops.backup.status import mark_initialised
from nasops.execute import MASKER, CommandResult, run_command

logger = logging.getLogger("nasops.backup")

EVERY_EXIT_CODE = range(256)
STALE_LOCK_SECONDS = 30 * 60
"""restic's own rule: a lock older than this is stale whoever holds it."""
RETRY_LOCK_VERSION = (0, 16, 0)
FIRST_LOCK_DELAY_SECONDS = 2.0
LONGEST_LOCK_DELAY_SECONDS = 30.0
MAX_STALE_UNLOCKS = 2
SECRET_KEY_PATTERN = re.compile(r"PASS|SECRET|TOKEN|KEY|CREDENTIAL", re.IGNORECASE)
CLEARED_VARIABLES = ("RESTIC_PASSWORD", "RESTIC_PASSWORD_COMMAND", "RESTIC_PASSWORD_FILE",
                     "RESTIC_REPOSITORY_FILE", "RESTIC_REPOSITORY")


@dataclass(frozen=True)
class ResticFeatures:
    """What the installed restic can do (feature detection from `restic version`)."""

    version: tuple[int, int, int]

    @property
    def retry_lock(self) -> bool:
        """Return whether `--retry-lock` exists (restic >= 0.16)."""
        return self.version >= RETRY_LOCK_VERSION

    @property
    def version_text(self) -> str:
        """Return `0.14.0`."""
        return ".".join(str(part) for part in self.version)


def detect_features(binary: str) -> ResticFeatures:
    """Given the restic binary, return its features; raise BackupError if it is unusable."""
    result = run_command(build_version_argv(ResticOptions(binary=binary)), timeout=60,
                         accepted_codes=EVERY_EXIT_CODE)
    try:
        return ResticFeatures(parse_version(result.stdout))
    except ValueError as error:
        raise BackupError(f"{binary} does not look like restic: {error}") from None


def read_environment_file(path: str) -> dict[str, str]:
    """Given a file of KEY=VALUE lines (# comments allowed), return the pairs."""
    pairs: dict[str, str] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise BackupConfigError(f"{path}: cannot read the environment file: {error}") from None
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, separator, value = line.partition("=")
        if not separator or not key.strip().isidentifier():
            raise BackupConfigError(f"{path}:{number}: expected KEY=VALUE")
        pairs[key.strip()] = value.strip().strip("'\"")
    return pairs


def lock_is_stale(holder: LockHolder, hostname: str) -> bool:
    """Given a lock holder and this machine's hostname, return whether the lock is stale.

    The same rule as restic's: older than 30 minutes, or held on this host by a dead PID.
    """
    if holder.age_seconds is not None and holder.age_seconds > STALE_LOCK_SECONDS:
        return True
    if holder.host != hostname:
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class ResticSession:
    """restic bound to one repository of the config."""

    config: BackupConfig
    repository: RepositoryConfig
    features: ResticFeatures
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    hostname: str = field(default_factory=socket.gethostname)
    environment: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.environment = self._build_environment()

    @property
    def name(self) -> str:
        """Return the repository's name."""
        return self.repository.name

    @property
    def options(self) -> ResticOptions:
        """Return the options every argv builder receives for this repository."""
        retry = int(self.config.lock_wait_seconds) if self.features.retry_lock else None
        return ResticOptions(binary=self.config.restic_binary,
                             cache_directory=self.config.cache_directory,
                             retry_lock_seconds=retry or None)

    def _build_environment(self) -> dict[str, str]:
        repository = self.repository
        try:
            password = Path(repository.password_file).read_text(encoding="utf-8")
        except OSError as error:
            raise BackupConfigError(
                f"repository '{repository.name}': cannot read the password file "
                f"{repository.password_file}: {error.strerror}") from None
        # restic reads the file itself; we only learn the password to mask it everywhere.
        MASKER.add(password.strip(), password.rstrip("\n"))
        url_password = urlsplit(repository.url.split(":", 1)[-1]).password
        if url_password:
            MASKER.add(url_password)
        environment = dict.fromkeys(CLEARED_VARIABLES, "")
        if repository.environment_file:
            extra = read_environment_file(repository.environment_file)
            MASKER.add(*(value for key, value in extra.items() if SECRET_KEY_PATTERN.search(key)))
            environment.update(extra)
        environment["RESTIC_REPOSITORY"] = repository.url
        environment["RESTIC_PASSWORD_FILE"] = repository.password_file
        return environment

    def ensure_reachable_mount(self) -> None:
        """Raise RepositoryUnreachableError when the configured mount point is not mounted."""
        mount_point = self.repository.mount_point
        if mount_point and not os.path.ismount(mount_point):
            raise RepositoryUnreachableError(
                f"repository '{self.name}' is unreachable: {mount_point} is not mounted "
                "(is the disk plugged in?)")

    def run(
        self,
        argv: tuple[str, ...],
        *,
        accepted_codes: Iterable[int] = (0,),
        timeout: float | None = None,
        locking: bool = True,
    ) -> CommandResult:
        """Given an argv from a builder, run it; return the result or raise a BackupError.

        On a lock conflict: a stale lock is removed with `restic unlock` (which itself only
        removes stale locks) and the command retried; a live one is waited for with growing
        delays up to `lock_wait_seconds`, unless restic >= 0.16 already waited
        (`--retry-lock`).
        """
        self.ensure_reachable_mount()
        accepted = set(accepted_codes)
        deadline = self.clock() + self.config.lock_wait_seconds
        delay = FIRST_LOCK_DELAY_SECONDS
        unlocks = 0
        while True:
            result = run_command(argv, environment=self.environment, timeout=timeout,
                                 accepted_codes=EVERY_EXIT_CODE)
            if result.returncode in accepted:
                return result
            error = classify_failure(self.name, result)
            if isinstance(error, RepositoryNotFoundError):
                # A disk replaced or a repository wiped: the next real pass of an apply
                # must try `init` again (site.yml skips it while the marker is there).
                mark_initialised(self.config.state_directory, self.name, False)
            if not (locking and isinstance(error, RepositoryLockedError)):
                raise error
            holder = error.holder
            if holder is not None and lock_is_stale(holder, self.hostname):
                if unlocks >= MAX_STALE_UNLOCKS:
                    raise error
                unlocks += 1
                logger.warning("%s: removing the stale lock of %s", self.name, holder.describe())
                self.unlock()
                continue
            remaining = deadline - self.clock()
            if self.features.retry_lock or remaining <= 0:
                waited = self.config.lock_wait_seconds
                raise RepositoryLockedError(f"{error} (still locked after waiting {waited:g} s)",
                                            holder, error.result) from None
            logger.info("%s: %s; retrying in %.0f s", self.name, error, min(delay, remaining))
            self.sleep(min(delay, remaining))
            delay = min(delay * 2, LONGEST_LOCK_DELAY_SECONDS)

    def unlock(self) -> None:
        """Remove stale locks of the repository (restic keeps those of live processes)."""
        self.run(build_unlock_argv(self.options), locking=False)
