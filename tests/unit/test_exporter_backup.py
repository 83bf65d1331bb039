"""Backup collector against status files written by nasops.backup.status itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from exporter_samples import Samples, parse_samples, value
from prometheus_client import generate_latest

from nasops.backup.status import record
from nasops.exporter.collectors.backup import BackupCollector
from nasops.exporter.registry import GuardedCollectors, build_registry


def backup_samples(directory: Path) -> Samples:
    registry = build_registry(GuardedCollectors([BackupCollector(directory)]),
                              process_metrics=False)
    return parse_samples(generate_latest(registry).decode())


def attempt(result: str, finished_at: float | None, **fields: Any) -> dict[str, Any]:
    return {"started_at": (finished_at or 1000.0) - 60, "finished_at": finished_at,
            "result": result, "duration_seconds": 60.0 if finished_at else None,
            "error_kind": None, "message": None, **fields}


BACKUP_FIELDS = {"snapshot_id": "1a2b3c4d", "files_new": 12, "files_changed": 3,
                 "files_unmodified": 19985, "files_total": 20000, "bytes_new": 1048576,
                 "bytes_total": 524288000, "unreadable_files": [], "unreadable_file_count": 0,
                 "forget": {"result": "success", "removed_snapshots": 1, "message": None}}


def write_history(directory: Path) -> None:
    """usb: success then a failure; offsite: success with warnings, check and drill done."""
    record(directory, "usb", "backup", attempt("success", 1000.0, **BACKUP_FIELDS),
           success=True)
    record(directory, "usb", "backup", attempt("failed", 2000.0))
    record(directory, "usb", "check", attempt("failed", 2100.0, read_data_subset="5%"))
    warning = {**BACKUP_FIELDS, "unreadable_file_count": 2, "snapshot_count": 14}
    record(directory, "offsite", "backup", attempt("warning", 3000.0, **warning), success=True)
    record(directory, "offsite", "check", attempt("success", 3100.0), success=True)
    record(directory, "offsite", "drill", attempt("success", 3200.0, problem_count=0),
           success=True)


def test_each_repository_exports_its_last_attempt_success_check_and_drill(
    tmp_path: Path,
) -> None:
    write_history(tmp_path)
    samples = backup_samples(tmp_path)
    assert value(samples, "nasops_collector_up", collector="backup") == 1
    assert value(samples, "nasops_backup_last_success", repository="usb") == 0
    assert value(samples, "nasops_backup_last_attempt_timestamp_seconds", repository="usb") == 2000
    assert value(samples, "nasops_backup_last_success_timestamp_seconds", repository="usb") == 1000
    assert value(samples, "nasops_backup_last_added_bytes", repository="usb") == 1048576
    assert value(samples, "nasops_backup_last_snapshot_files", repository="usb") == 20000
    assert value(samples, "nasops_backup_check_last_success", repository="usb") == 0
    assert value(samples, "nasops_backup_check_last_success_timestamp_seconds",
                 repository="usb") is None
    assert value(samples, "nasops_backup_drill_last_success", repository="usb") is None
    # A snapshot with unreadable files is a success; the files are counted apart.
    assert value(samples, "nasops_backup_last_success", repository="offsite") == 1
    assert value(samples, "nasops_backup_last_unreadable_files", repository="offsite") == 2
    assert value(samples, "nasops_backup_snapshots", repository="offsite") == 14
    assert value(samples, "nasops_backup_last_duration_seconds", repository="offsite") == 60
    assert value(samples, "nasops_backup_drill_last_success", repository="offsite") == 1
    assert value(samples, "nasops_backup_drill_last_timestamp_seconds",
                 repository="offsite") == 3200
    assert value(samples, "nasops_backup_drill_last_problem_files", repository="offsite") == 0
    assert value(samples, "nasops_backup_status_valid", repository="offsite") == 1


def test_a_running_backup_is_shown_as_running_without_a_result(tmp_path: Path) -> None:
    record(tmp_path, "usb", "backup", attempt("running", None))
    samples = backup_samples(tmp_path)
    assert value(samples, "nasops_backup_running", repository="usb") == 1
    assert value(samples, "nasops_backup_last_success", repository="usb") is None


def test_a_corrupt_status_file_marks_the_collector_down_but_keeps_the_others(
    tmp_path: Path,
) -> None:
    write_history(tmp_path)
    (tmp_path / "usb.json").write_text('{"version": 1, "repository": "usb", "backup": {',
                                       encoding="utf-8")
    samples = backup_samples(tmp_path)
    assert value(samples, "nasops_collector_up", collector="backup") == 0
    assert value(samples, "nasops_backup_status_valid", repository="usb") == 0
    assert value(samples, "nasops_backup_last_success", repository="usb") is None
    assert value(samples, "nasops_backup_last_success", repository="offsite") == 1


def test_wrongly_typed_values_are_refused(tmp_path: Path) -> None:
    record(tmp_path, "usb", "backup", attempt("success", 1000.0, bytes_new="lots"),
           success=True)
    samples = backup_samples(tmp_path)
    assert value(samples, "nasops_collector_up", collector="backup") == 0
    assert value(samples, "nasops_backup_status_valid", repository="usb") == 0


def test_no_status_directory_yet_is_not_a_failure(tmp_path: Path) -> None:
    samples = backup_samples(tmp_path / "never-created")
    assert value(samples, "nasops_collector_up", collector="backup") == 1
