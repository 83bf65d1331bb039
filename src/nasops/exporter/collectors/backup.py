"""Backup status per restic repository, read from the status files of `nasops backup`.

The files are small and change a few times a day, so they are read on each scrape. A corrupt
file marks the backup collector down (and is named in the log); the readable repositories
are still exported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client.core import Metric

from nasops.exporter.collectors.backup_status import BackupState, read_backup_states
from nasops.exporter.collectors.base import Gathered, SourceCollector, gauge

StatusReader = Callable[[Path], tuple[list[BackupState], list[str]]]
"""Given the status directory, return the readable states and a problem per unreadable file."""


def _flag(value: bool | None) -> float | None:
    return None if value is None else float(value)


class BackupCollector(SourceCollector):
    """Exports nasops_backup_* for every repository with a status file."""

    name = "backup"

    def __init__(self, status_directory: str | Path,
                 reader: StatusReader = read_backup_states) -> None:
        self.status_directory = Path(status_directory)
        self.reader = reader

    def gather(self) -> Gathered:
        """Read the status files and return their families."""
        states, problems = self.reader(self.status_directory)

        def per_repository(value: Callable[[BackupState], float | None]
                           ) -> Iterable[tuple[list[str], float]]:
            for state in states:
                number = value(state)
                if number is not None:
                    yield [state.repository], number

        def repository_gauge(name: str, documentation: str,
                             value: Callable[[BackupState], float | None]) -> Metric:
            return gauge(name, documentation, ["repository"], per_repository(value))

        families: list[Metric] = [
            repository_gauge("nasops_backup_status_valid",
                             "1 if the repository's status file could be read, 0 if it is "
                             "corrupt (its other metrics are then missing).",
                             lambda state: float(state.valid)),
            repository_gauge("nasops_backup_running", "1 while a backup to the repository runs.",
                             lambda state: float(state.running) if state.valid else None),
            repository_gauge("nasops_backup_last_attempt_timestamp_seconds",
                             "When the last finished backup attempt ended, successful or not.",
                             lambda state: state.last_attempt_at),
            repository_gauge("nasops_backup_last_success",
                             "1 if the last finished backup made a snapshot (even with "
                             "unreadable files), 0 if it failed.",
                             lambda state: _flag(state.last_attempt_succeeded)),
            repository_gauge("nasops_backup_last_duration_seconds",
                             "How long the last finished backup attempt took (backup + forget).",
                             lambda state: state.duration_seconds),
            repository_gauge("nasops_backup_last_unreadable_files",
                             "Files the last finished backup could not read (left out of the "
                             "snapshot).", lambda state: state.unreadable_files),
            repository_gauge("nasops_backup_last_success_timestamp_seconds",
                             "When the last successful backup to the repository ended.",
                             lambda state: state.last_success_at),
            repository_gauge("nasops_backup_last_added_bytes",
                             "Bytes the last successful backup added to the repository "
                             "(after deduplication).", lambda state: state.added_bytes),
            repository_gauge("nasops_backup_last_new_files",
                             "Files new in the last successful backup.",
                             lambda state: state.new_files),
            repository_gauge("nasops_backup_last_snapshot_size_bytes",
                             "Size of the files in the last successful snapshot.",
                             lambda state: state.snapshot_bytes),
            repository_gauge("nasops_backup_last_snapshot_files",
                             "Files in the last successful snapshot.",
                             lambda state: state.snapshot_files),
            repository_gauge("nasops_backup_snapshot_count",
                             "Snapshots in the repository after the last backup's retention.",
                             lambda state: state.snapshot_count),
            repository_gauge("nasops_backup_check_last_timestamp_seconds",
                             "When the last integrity check (restic check) ended.",
                             lambda state: state.check_at),
            repository_gauge("nasops_backup_check_last_success",
                             "1 if the last integrity check passed, 0 if it failed.",
                             lambda state: _flag(state.check_succeeded)),
            repository_gauge("nasops_backup_check_last_success_timestamp_seconds",
                             "When the last passed integrity check ended.",
                             lambda state: state.check_success_at),
            repository_gauge("nasops_backup_drill_last_timestamp_seconds",
                             "When the last restore drill ended.", lambda state: state.drill_at),
            repository_gauge("nasops_backup_drill_last_success",
                             "1 if the last restore drill restored every sampled file "
                             "identically, 0 if it failed.",
                             lambda state: _flag(state.drill_succeeded)),
            repository_gauge("nasops_backup_drill_last_success_timestamp_seconds",
                             "When the last passed restore drill ended.",
                             lambda state: state.drill_success_at),
            repository_gauge("nasops_backup_drill_last_problem_files",
                             "Sampled files the last restore drill found missing or different.",
                             lambda state: state.drill_problem_files),
        ]
        return Gathered(families, problems)
