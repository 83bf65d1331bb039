"""Turn the status files of `nasops backup` (nasops.backup.status) into exported values.

The status module reads and schema-checks each file and never raises; this module picks the
values the exporter needs and refuses wrongly typed ones, so a scrape never exports garbage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasops.backup.status import read_status

# A run that made a snapshot but could not read some files is still a success for alerting
# (the unreadable files are exported separately); only `failed` is a failure.
SUCCESS_RESULTS = frozenset({"success", "warning"})
FAILED_RESULT = "failed"
RUNNING_RESULT = "running"


class StatusValueError(ValueError):
    """A status file holds a value of the wrong type."""


@dataclass(frozen=True)
class BackupState:
    """What the exporter needs from one repository's status; None means "not known"."""

    repository: str
    valid: bool = True
    running: bool = False
    last_attempt_at: float | None = None
    last_attempt_succeeded: bool | None = None
    duration_seconds: float | None = None
    unreadable_files: float | None = None
    last_success_at: float | None = None
    added_bytes: float | None = None
    new_files: float | None = None
    snapshot_bytes: float | None = None
    snapshot_files: float | None = None
    snapshot_count: float | None = None
    check_at: float | None = None
    check_succeeded: bool | None = None
    check_success_at: float | None = None
    drill_at: float | None = None
    drill_succeeded: bool | None = None
    drill_success_at: float | None = None
    drill_problem_files: float | None = None


def _number(record: Mapping[str, Any], key: str) -> float | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise StatusValueError(f"{key} must be a number ≥ 0, got {value!r}")
    return float(value)


def _attempts(document: Mapping[str, Any], section: str
              ) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    part = document.get(section) or {}
    return part.get("last_attempt") or {}, part.get("last_success") or {}


def _outcome(attempt: Mapping[str, Any]) -> tuple[float | None, bool | None]:
    """Given an attempt record, return (finished at, succeeded); None while running or never."""
    result = attempt.get("result")
    if result is None or result == RUNNING_RESULT:
        return None, None
    if result not in SUCCESS_RESULTS and result != FAILED_RESULT:
        raise StatusValueError(f"unknown result {result!r}")
    return _number(attempt, "finished_at"), result in SUCCESS_RESULTS


def state_from_document(repository: str, document: Mapping[str, Any]) -> BackupState:
    """Given a repository and its status document, return its BackupState.

    Raise StatusValueError when a value has the wrong type.
    """
    attempt, success = _attempts(document, "backup")
    check_attempt, check_success = _attempts(document, "check")
    drill_attempt, drill_success = _attempts(document, "drill")
    attempt_at, attempt_succeeded = _outcome(attempt)
    check_at, check_succeeded = _outcome(check_attempt)
    drill_at, drill_succeeded = _outcome(drill_attempt)
    finished = attempt_succeeded is not None
    return BackupState(
        repository=repository,
        running=attempt.get("result") == RUNNING_RESULT,
        last_attempt_at=attempt_at,
        last_attempt_succeeded=attempt_succeeded,
        duration_seconds=_number(attempt, "duration_seconds") if finished else None,
        unreadable_files=_number(attempt, "unreadable_file_count") if finished else None,
        last_success_at=_number(success, "finished_at"),
        added_bytes=_number(success, "bytes_new"),
        new_files=_number(success, "files_new"),
        snapshot_bytes=_number(success, "bytes_total"),
        snapshot_files=_number(success, "files_total"),
        snapshot_count=_number(success, "snapshot_count"),
        check_at=check_at,
        check_succeeded=check_succeeded,
        check_success_at=_number(check_success, "finished_at"),
        drill_at=drill_at,
        drill_succeeded=drill_succeeded,
        drill_success_at=_number(drill_success, "finished_at"),
        drill_problem_files=_number(drill_attempt, "problem_count") if drill_at else None,
    )


def read_backup_states(directory: Path) -> tuple[list[BackupState], list[str]]:
    """Given the status directory, return one state per status file and one problem per bad one.

    A missing directory means no backup ran yet: no state, no problem. A bad file still gives
    a state (valid=False) so that the repository's name is exported.
    """
    try:
        paths = sorted(path for path in directory.glob("*.json") if path.is_file())
    except OSError as listing_error:
        return [], [f"{directory}: cannot list the backup status files: {listing_error}"]
    states: list[BackupState] = []
    problems: list[str] = []
    for path in paths:
        repository = path.stem
        document = read_status(directory, repository)
        reading_error = document.get("error")
        if isinstance(reading_error, Mapping):
            problems.append(str(reading_error.get("message") or f"{path}: unreadable"))
            states.append(BackupState(repository, valid=False))
            continue
        try:
            states.append(state_from_document(repository, document))
        except StatusValueError as problem:
            problems.append(f"{path}: {problem}")
            states.append(BackupState(repository, valid=False))
    return states, problems
