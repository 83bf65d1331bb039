"""Helpers shared by the actions: timing an attempt and turning an error into its record."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nasops.backup import status
from nasops.backup.config import BackupConfig, RepositoryConfig
from nasops.backup.session import ResticFeatures, detect_features
from nasops.errors import NasopsError

logger = logging.getLogger("nasops.backup")

RESULT_RUNNING = "running"
RESULT_SUCCESS = "success"
RESULT_WARNING = "warning"
RESULT_FAILED = "failed"
BACKUP_TAG = "nasops"
"""Tag on every snapshot nasops makes; retention and drills only look at those."""


def error_kind(error: BaseException) -> str:
    """Given an error, return its status-file kind (`failed` when it has none)."""
    return str(getattr(error, "kind", "failed"))


@dataclass
class Attempt:
    """The record of one action on one repository, filled in as it goes."""

    started_at: float = field(default_factory=time.time)
    started_monotonic: float = field(default_factory=time.monotonic)
    fields: dict[str, Any] = field(default_factory=dict)

    def running(self) -> dict[str, Any]:
        """Return the record written when the action starts."""
        return {"started_at": self.started_at, "finished_at": None, "result": RESULT_RUNNING,
                "duration_seconds": None, "error_kind": None, "message": None, **self.fields}

    def finished(self, result: str, message: str | None = None,
                 error: NasopsError | None = None) -> dict[str, Any]:
        """Given the result, return the final record with times and the error if any."""
        return {
            **self.running(),
            "finished_at": time.time(),
            "result": result,
            "duration_seconds": round(time.monotonic() - self.started_monotonic, 3),
            "error_kind": error_kind(error) if error else None,
            "message": message if message is not None else (str(error) if error else None),
        }


@dataclass
class Outcome:
    """What an action did on one repository, for the CLI to print and to set the exit code."""

    repository: str
    result: str
    record: dict[str, Any]
    error: NasopsError | None = None

    @property
    def failed(self) -> bool:
        """Return whether this repository's action failed."""
        return self.result == RESULT_FAILED


def features_or_failures(
    config: BackupConfig, features: ResticFeatures | None, section: str,
    repository_name: str | None,
) -> ResticFeatures | list[Outcome]:
    """Given known features or None, return them (detecting restic if needed); when restic is
    missing or unusable, record a failed attempt for each repository and return those.

    Without this a missing restic would leave yesterday's success as the "last attempt".
    """
    if features is not None:
        return features
    repositories = config.repository(repository_name)
    try:
        return detect_features(config.restic_binary)
    except NasopsError as error:
        outcomes = []
        for repository in repositories:
            record = Attempt().finished(RESULT_FAILED, error=error)
            status.record(config.state_directory, repository.name, section, record)
            outcomes.append(Outcome(repository.name, RESULT_FAILED, record, error))
        return outcomes


def record_outcome(config: BackupConfig, repository: RepositoryConfig, section: str,
                   attempt: Attempt, *, message: str | None = None,
                   error: NasopsError | None = None) -> Outcome:
    """Given a finished check or drill attempt (failed when error is given), write its
    record to the repository's status and return the outcome; a failure is also logged."""
    if error is not None:
        record = attempt.finished(RESULT_FAILED, error=error)
        status.record(config.state_directory, repository.name, section, record)
        logger.error("%s: %s failed: %s", repository.name, section, error)
        return Outcome(repository.name, RESULT_FAILED, record, error)
    record = attempt.finished(RESULT_SUCCESS, message)
    status.record(config.state_directory, repository.name, section, record, success=True)
    return Outcome(repository.name, RESULT_SUCCESS, record)


def for_each_repository(
    config: BackupConfig, features: ResticFeatures | None, section: str,
    repository_name: str | None, action: Callable[[RepositoryConfig, ResticFeatures], Outcome],
) -> list[Outcome]:
    """Given the config and an action on one repository, run it on the named repository or
    all of them in turn; return their outcomes (failed ones when restic is unusable)."""
    detected = features_or_failures(config, features, section, repository_name)
    if isinstance(detected, list):
        return detected
    return [action(repository, detected) for repository in config.repository(repository_name)]
