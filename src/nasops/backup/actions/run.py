"""`nasops backup run`: back up the sources to each repository, then apply the retention.

Repositories are handled one after the other and independently: a dead USB disk must not
stop the offsite copy (3-2-1). restic's exit code 3 (some files could not be read) gives a
`warning` naming the files, never a silent success.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from nasops.backup import status
from nasops.backup.actions.common import (
    BACKUP_TAG,
    RESULT_FAILED,
    RESULT_SUCCESS,
    RESULT_WARNING,
    Attempt,
    Outcome,
    features_or_failures,
)
from nasops.backup.config import BackupConfig, RepositoryConfig
from nasops.backup.errors import BackupError, SourceMissingError, StatusWriteError
from nasops.backup.parse import parse_backup_errors, parse_backup_summary, parse_forget_counts
from nasops.backup.restic.backup import build_backup_argv
from nasops.backup.restic.forget import build_forget_argv
from nasops.backup.session import ResticFeatures, ResticSession
from nasops.errors import NasopsError

logger = logging.getLogger("nasops.backup")

RESTIC_INCOMPLETE_SNAPSHOT = 3


def check_sources(sources: Sequence[str]) -> None:
    """Given the source paths, raise SourceMissingError naming every one that is missing.

    restic itself only skips a missing source with a note and exits 0 when another exists.
    """
    missing = [source for source in sources if not os.path.lexists(source)]
    if missing:
        raise SourceMissingError(
            f"source path{'s' if len(missing) > 1 else ''} missing: {', '.join(missing)} "
            "(share removed? volume not mounted?); nothing was backed up")


def _forget(session: ResticSession) -> dict[str, Any]:
    argv = build_forget_argv(session.options, session.config.retention.keep(),
                             tags=(BACKUP_TAG,), prune=True)
    try:
        result = session.run(argv)
    except NasopsError as error:
        return {"result": RESULT_FAILED, "removed_snapshots": 0, "message": str(error)}
    kept, removed = parse_forget_counts(result.stdout)
    return {"result": RESULT_SUCCESS, "removed_snapshots": removed, "kept_snapshots": kept,
            "message": None}


def _back_up(session: ResticSession, attempt: Attempt) -> tuple[str, str | None]:
    config = session.config
    argv = build_backup_argv(session.options, config.sources, excludes=config.exclude,
                             tags=(BACKUP_TAG,), host=config.host,
                             exclude_caches=config.exclude_caches)
    result = session.run(argv, accepted_codes=(0, RESTIC_INCOMPLETE_SNAPSHOT))
    summary = parse_backup_summary(result.stdout)
    if summary is None:
        raise BackupError(f"repository '{session.name}': restic backup ended without a summary "
                          "(no snapshot was made)")
    attempt.fields.update(
        snapshot_id=summary.snapshot_id, files_new=summary.files_new,
        files_changed=summary.files_changed, files_unmodified=summary.files_unmodified,
        files_total=summary.files_total, bytes_new=summary.bytes_new,
        bytes_total=summary.bytes_total, restic_duration_seconds=summary.duration_seconds)
    result_name, message = RESULT_SUCCESS, None
    if result.returncode == RESTIC_INCOMPLETE_SNAPSHOT:
        unreadable = parse_backup_errors(result.stdout, result.stderr)
        attempt.fields["unreadable_files"] = [
            {"path": item.path, "reason": item.reason}
            for item in unreadable[: status.MAX_LISTED_FILES]]
        attempt.fields["unreadable_file_count"] = len(unreadable)
        names = ", ".join(f"{item.path} ({item.reason})" for item in unreadable[:5])
        more = f" and {len(unreadable) - 5} more" if len(unreadable) > 5 else ""
        result_name = RESULT_WARNING
        message = (f"snapshot {summary.snapshot_id} is incomplete: {len(unreadable) or 'some'} "
                   f"file(s) could not be read: {names or 'restic named none'}{more}")
    forget = _forget(session)
    attempt.fields["forget"] = forget
    # What retention kept is the repository's nasops snapshots: counted for free, where a
    # `restic snapshots` call would cost another key derivation (~0.5 s) per run.
    attempt.fields["snapshot_count"] = forget.get("kept_snapshots")
    if forget["result"] == RESULT_FAILED:
        result_name = RESULT_WARNING
        message = "; ".join(part for part in (message, f"retention not applied: "
                                              f"{forget['message']}") if part)
    return result_name, message


def back_up_repository(
    config: BackupConfig, repository: RepositoryConfig, features: ResticFeatures
) -> Outcome:
    """Given one repository, back up, apply retention, record the status; return the outcome."""
    config = config.for_repository(repository)  # its own sources and retention
    attempt = Attempt(fields={"snapshot_id": None, "unreadable_files": [],
                              "unreadable_file_count": 0, "forget": None,
                              "snapshot_count": None})
    extra = {"restic_version": features.version_text}
    # The backup matters more than its status: an unwritable state directory must not stop
    # it, but it fails the run afterwards (monitoring would be blind).
    status_errors: list[StatusWriteError] = []

    def store(record: dict[str, Any], success: bool = False) -> None:
        try:
            status.record(config.state_directory, repository.name, "backup", record,
                          success=success, extra=extra)
        except StatusWriteError as error:
            status_errors.append(error)

    store(attempt.running())
    try:
        check_sources(config.sources)
        session = ResticSession(config, repository, features)
        result_name, message = _back_up(session, attempt)
    except NasopsError as error:
        record = attempt.finished(RESULT_FAILED, error=error)
        store(record)
        logger.error("%s: backup failed: %s", repository.name, error)
        return Outcome(repository.name, RESULT_FAILED, record, error)
    record = attempt.finished(result_name, message)
    store(record, success=True)
    if status_errors:
        failure = status_errors[-1]
        record = {**record, "result": RESULT_FAILED, "error_kind": failure.kind,
                  "message": f"snapshot {record.get('snapshot_id')} made, but {failure}"}
        return Outcome(repository.name, RESULT_FAILED, record, failure)
    return Outcome(repository.name, result_name, record)


def run_backups(
    config: BackupConfig, features: ResticFeatures | None = None,
    repository_name: str | None = None,
) -> list[Outcome]:
    """Given the config, back up to the named repository or to all; return their outcomes.

    `features` None means: detect them from `restic version`.
    """
    detected = features_or_failures(config, features, "backup", repository_name)
    if isinstance(detected, list):
        return detected
    return [back_up_repository(config, repository, detected)
            for repository in config.repository(repository_name)]
