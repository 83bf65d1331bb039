"""What the desired state expects to run: repositories, their schedules and since when.

A repository whose timer never fired has no status file, so without this the exporter would
not know it exists and its backups could stop (or never start) silently. The alert rules
need two facts per repository and task (backup, check, drill): the longest gap between two
runs of its schedule, and since when that schedule applies (the modification time of the
timer file nas_backup installed; nasops.nas.host rewrites it only when it changes).

The gaps come from systemd itself (`systemd-analyze calendar --iterations`), so that every
calendar expression systemd accepts is understood exactly as the timer understands it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from nasops.exporter.collectors.base import CommandRunner, run_for_output
from nasops.exporter.config import BackupScheduleConfig

TASKS = ("backup", "check", "drill")
# Enough runs to see every gap of weekly patterns (Mon..Fri) and of monthly ones.
ITERATIONS = 20
# systemd 252 (Debian 12) labels the later runs `Iter. #2`, systemd 257 (Debian 13)
# `Iteration #2`.
ELAPSE = re.compile(
    r"^\s*(?:Next elapse|Iter\. #\d+|Iteration #\d+):\s+\S+\s+(\S+ \S+)\s+(\S+)\s*$")
IN_UTC = re.compile(r"^\s*\(in UTC\):\s+\S+\s+(\S+ \S+)\s+UTC\s*\Z")


@dataclass(frozen=True)
class ExpectedTask:
    """One task the desired state expects for one repository."""

    repository: str
    task: str
    schedule: str
    timer_files: tuple[Path, ...]
    """The task applies to this repository since the latest of these files was installed: the
    check and drill timers are shared, so a repository added later counts from its own timer."""


def elapse_times(output: str) -> list[float]:
    """Given `systemd-analyze calendar --iterations` output, return the runs (UTC epochs).

    The UTC line that follows a local time (when the NAS is not on UTC) wins: the gaps are
    then not bent by a daylight saving change.
    """
    times: list[float] = []
    for line in output.splitlines():
        local = ELAPSE.match(line)
        in_utc = IN_UTC.match(line)
        if local:
            times.append(_epoch(local.group(1)))
        elif in_utc and times:
            times[-1] = _epoch(in_utc.group(1))
    return times


def _epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


class ScheduleIntervals:
    """Longest gap between two runs of each calendar expression, asked of systemd once."""

    def __init__(self, command: Sequence[str], runner: CommandRunner = run_for_output,
                 timeout_seconds: float = 10) -> None:
        self.command = list(command)
        self.runner = runner
        self.timeout_seconds = timeout_seconds
        self._known: dict[str, float] = {}

    def longest_gap(self, schedule: str) -> float:
        """Given an OnCalendar expression, return the longest gap between two runs (seconds).

        Raise ValueError when systemd cannot tell (fewer than two future runs); a failing
        command raises too. Failures are not remembered: the next scrape asks again.
        """
        if schedule not in self._known:
            output = self.runner([*self.command, f"--iterations={ITERATIONS}", "--", schedule],
                                 self.timeout_seconds)
            times = elapse_times(output)
            if len(times) < 2:
                raise ValueError(f"schedule {schedule!r}: systemd-analyze gives fewer than "
                                 "two future runs, so no interval between runs")
            self._known[schedule] = max(later - earlier for earlier, later in pairwise(times))
        return self._known[schedule]


def expected_tasks(config: BackupScheduleConfig) -> list[ExpectedTask]:
    """Given the exporter's backup schedules, return every (repository, task) expected."""
    directory = Path(config.timer_directory)
    tasks: list[ExpectedTask] = []
    for repository in config.repositories:
        own = directory / f"nasops-backup@{repository.name}.timer"
        timers = {"backup": (repository.schedule, (own,)),
                  "check": (config.check_schedule, (own, directory / "nasops-backup-check.timer")),
                  "drill": (config.drill_schedule, (own, directory / "nasops-backup-drill.timer"))}
        tasks.extend(ExpectedTask(repository.name, task, schedule, files)
                     for task, (schedule, files) in timers.items())
    return tasks


def modified_at(path: Path) -> float | None:
    """Return the file's modification time, None when it does not exist."""
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None


TimerClock = Callable[[Path], float | None]
"""Given a timer file, return since when it applies (None: not installed)."""
