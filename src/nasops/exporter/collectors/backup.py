"""Backup status per restic repository, read from the status files of `nasops backup`.

The files are small and change a few times a day, so they are read on each scrape. A corrupt
file marks the backup collector down (and is named in the log); the readable repositories
are still exported. With the desired state's schedules (nasops.exporter.collectors.
backup_schedule), a repository whose timer never ran is exported too: a backup that never
starts must not be silent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client.core import Metric

from nasops.exporter.collectors.backup_schedule import (
    ScheduleIntervals,
    TimerClock,
    expected_tasks,
    modified_at,
)
from nasops.exporter.collectors.backup_status import BackupState, read_backup_states
from nasops.exporter.collectors.base import (
    ORGANISATION_LABEL,
    Gathered,
    SourceCollector,
    gauge,
    info,
)
from nasops.exporter.config import BackupScheduleConfig

StatusReader = Callable[[Path], tuple[list[BackupState], list[str]]]
"""Given the status directory, return the readable states and a problem per unreadable file."""


def _flag(value: bool | None) -> float | None:
    return None if value is None else float(value)


class BackupCollector(SourceCollector):
    """Exports nasops_backup_* for every repository with a status file or in the spec."""

    name = "backup"

    def __init__(self, status_directory: str | Path,
                 reader: StatusReader = read_backup_states,
                 schedules: BackupScheduleConfig | None = None,
                 intervals: ScheduleIntervals | None = None,
                 timer_clock: TimerClock = modified_at) -> None:
        self.status_directory = Path(status_directory)
        self.reader = reader
        self.schedules = schedules
        self.intervals = intervals or (ScheduleIntervals(schedules.calendar_command)
                                       if schedules is not None else None)
        self.timer_clock = timer_clock

    def expected_families(self, states: list[BackupState], problems: list[str]
                          ) -> list[Metric]:
        """Return what the desired state expects: repositories, schedules, never-ran flags."""
        if self.schedules is None or self.intervals is None:
            return []
        expected = {repository.name for repository in self.schedules.repositories}
        by_name = {state.repository: state for state in states}
        finished_at = {"backup": lambda state: state.last_attempt_at,
                       "check": lambda state: state.check_at,
                       "drill": lambda state: state.drill_at}
        never_ran, intervals, since = [], [], []
        for task in expected_tasks(self.schedules):
            labels = [task.repository, task.task]
            state = by_name.get(task.repository)
            if state is None or state.valid:  # a corrupt file: not known, already a problem
                ran = state is not None and finished_at[task.task](state) is not None
                never_ran.append((labels, 0.0 if ran else 1.0))
            try:
                intervals.append((labels, self.intervals.longest_gap(task.schedule)))
            except (OSError, ValueError) as error:  # CommandFailedError is an OSError
                problems.append(f"{task.repository} {task.task}: {error}")
            installed = [self.timer_clock(path) for path in task.timer_files]
            if all(moment is not None for moment in installed):
                since.append((labels, max(moment for moment in installed if moment is not None)))
        names = sorted(expected | set(by_name))
        return [
            gauge("nasops_backup_expected",
                  "1 if the desired state lists the repository, 0 if only its old status "
                  "file remains (removed from the spec).", ["repository"],
                  (([name], float(name in expected)) for name in names)),
            gauge("nasops_backup_never_ran",
                  "1 if the task (backup, check, drill) of a repository the spec lists has "
                  "never finished, not even with a failure.", ["repository", "task"],
                  never_ran),
            gauge("nasops_backup_schedule_interval_seconds",
                  "Longest gap between two runs of the task's schedule (systemd OnCalendar).",
                  ["repository", "task"], intervals),
            gauge("nasops_backup_scheduled_since_timestamp_seconds",
                  "Since when the task's timer and schedule are installed (the timer file's "
                  "modification time); absent when the timer is not installed.",
                  ["repository", "task"], since),
            info("nasops_backup_organization", "The organisation whose shares the repository "
                 "holds (join on repository to filter backups by organisation).",
                 ["repository"],
                 (([repository.name], {ORGANISATION_LABEL: repository.organization})
                  for repository in self.schedules.repositories if repository.organization)),
        ]

    def gather(self) -> Gathered:
        """Read the status files and return their families."""
        states, read_problems = self.reader(self.status_directory)
        problems = list(read_problems)

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
            repository_gauge("nasops_backup_snapshots",
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
            *self.expected_families(states, problems),
        ]
        return Gathered(families, problems)
