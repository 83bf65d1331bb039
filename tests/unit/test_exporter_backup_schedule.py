"""What the spec expects of the backups: repositories that never ran, schedules, timers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import pytest
from exporter_samples import Samples, parse_samples, value
from prometheus_client import generate_latest

from nasops.backup.status import record
from nasops.exporter.collectors.backup import BackupCollector
from nasops.exporter.collectors.backup_schedule import ScheduleIntervals, elapse_times
from nasops.exporter.config import BackupScheduleConfig, ExpectedRepository
from nasops.exporter.registry import GuardedCollectors, build_registry

# `systemd-analyze calendar --iterations=3 'Mon..Fri 18:00'` on a NAS in Brussels.
LOCAL_OUTPUT = """\
  Original form: Mon..Fri 18:00
Normalized form: Mon..Fri *-*-* 18:00:00
    Next elapse: Fri 2024-03-29 18:00:00 CET
       (in UTC): Fri 2024-03-29 17:00:00 UTC
       From now: 2h left
       Iter. #2: Mon 2024-04-01 18:00:00 CEST
       (in UTC): Mon 2024-04-01 16:00:00 UTC
       From now: 3 days left
       Iter. #3: Tue 2024-04-02 18:00:00 CEST
       (in UTC): Tue 2024-04-02 16:00:00 UTC
       From now: 4 days left
"""


def schedules(directory: Path, *names: str) -> BackupScheduleConfig:
    return BackupScheduleConfig(
        repositories=[ExpectedRepository(name=name, schedule="daily") for name in names],
        check_schedule="weekly", drill_schedule="monthly", timer_directory=str(directory))


def fake_calendar(gaps: dict[str, str]) -> tuple[ScheduleIntervals, list[Sequence[str]]]:
    """A calendar command answering with two runs `gap` apart; remembers its calls."""
    calls: list[Sequence[str]] = []

    def runner(argv: Sequence[str], _timeout: float) -> str:
        calls.append(argv)
        return (f"    Next elapse: Mon 2024-04-01 00:00:00 UTC\n"
                f"       Iter. #2: Mon {gaps[argv[-1]]} UTC\n")
    return ScheduleIntervals(["systemd-analyze", "calendar"], runner), calls


GAPS = {"daily": "2024-04-02 00:00:00", "weekly": "2024-04-08 00:00:00",
        "monthly": "2024-05-01 00:00:00"}


def samples_of(collector: BackupCollector) -> Samples:
    registry = build_registry(GuardedCollectors([collector]), process_metrics=False)
    return parse_samples(generate_latest(registry).decode())


def test_a_repository_without_a_status_file_is_exported_as_never_ran(tmp_path: Path) -> None:
    status, timers = tmp_path / "status", tmp_path / "timers"
    timers.mkdir()
    for timer in ("nasops-backup@usb.timer", "nasops-backup@offsite.timer",
                  "nasops-backup-check.timer"):
        (timers / timer).write_text("[Timer]\n", encoding="utf-8")
        os.utime(timers / timer, (1000.0, 1000.0))
    record(status, "offsite", "backup", {"started_at": 1, "finished_at": 2, "result": "failed"})
    record(status, "removed", "backup", {"started_at": 1, "finished_at": 2, "result": "failed"})
    intervals, calls = fake_calendar(GAPS)
    collector = BackupCollector(status, schedules=schedules(timers, "usb", "offsite"),
                                intervals=intervals)
    samples = samples_of(collector)
    assert value(samples, "nasops_collector_up", collector="backup") == 1
    assert {repository: value(samples, "nasops_backup_expected", repository=repository)
            for repository in ("usb", "offsite", "removed")} == {
        "usb": 1, "offsite": 1, "removed": 0}
    never_ran = {(repository, task): value(samples, "nasops_backup_never_ran",
                                           repository=repository, task=task)
                 for repository in ("usb", "offsite", "removed")
                 for task in ("backup", "check", "drill")}
    # A failed attempt is a run (NasopsBackupFailed says the rest); removed is not expected.
    assert never_ran == {("usb", "backup"): 1, ("usb", "check"): 1, ("usb", "drill"): 1,
                         ("offsite", "backup"): 0, ("offsite", "check"): 1,
                         ("offsite", "drill"): 1, ("removed", "backup"): None,
                         ("removed", "check"): None, ("removed", "drill"): None}
    assert value(samples, "nasops_backup_schedule_interval_seconds", repository="usb",
                 task="check") == 7 * 86400
    assert value(samples, "nasops_backup_schedule_interval_seconds", repository="offsite",
                 task="drill") == 30 * 86400
    assert value(samples, "nasops_backup_scheduled_since_timestamp_seconds",
                 repository="usb", task="backup") == 1000
    # No drill timer installed: absent, which NasopsRestoreDrillNotRunning alerts on.
    assert value(samples, "nasops_backup_scheduled_since_timestamp_seconds",
                 repository="usb", task="drill") is None
    samples_of(collector)
    assert len(calls) == 3, "each schedule is expanded once, then remembered"


def test_a_schedule_systemd_cannot_expand_downs_the_collector_only(tmp_path: Path) -> None:
    def runner(argv: Sequence[str], _timeout: float) -> str:
        return "    Next elapse: Mon 2024-04-01 00:00:00 UTC\n"  # a one-shot date
    collector = BackupCollector(tmp_path, schedules=schedules(tmp_path, "usb"),
                                intervals=ScheduleIntervals(["x"], runner))
    samples = samples_of(collector)
    assert value(samples, "nasops_collector_up", collector="backup") == 0
    assert value(samples, "nasops_backup_never_ran", repository="usb", task="backup") == 1


def test_local_times_are_replaced_by_their_utc_line() -> None:
    times = elapse_times(LOCAL_OUTPUT)
    # Friday 17:00 UTC to Monday 16:00 UTC: 71 hours (the clocks moved on the Sunday).
    assert [later - earlier for earlier, later in pairwise(times)] == [71 * 3600, 86400]
    # systemd 257 (Debian 13) spells the later runs out: `Iteration #2`.
    assert elapse_times(LOCAL_OUTPUT.replace("Iter. #", "Iteration #")) == times


# Under CI a missing systemd-analyze fails (no skip hides a broken machine).
@pytest.mark.skipif(shutil.which("systemd-analyze") is None and os.environ.get("CI") != "true",
                    reason="systemd-analyze is not installed")
@pytest.mark.parametrize(("schedule", "longest"), [
    ("daily", 86400), ("weekly", 7 * 86400), ("*-*-* 01:30", 86400),
    ("Mon..Fri 18:00", 3 * 86400), ("monthly", 31 * 86400), ("hourly", 3600)])
def test_real_systemd_gives_the_longest_gap(schedule: str, longest: int) -> None:
    gap = ScheduleIntervals(["systemd-analyze", "calendar"]).longest_gap(schedule)
    # Within an hour: a daylight saving change may fall in the expanded runs.
    assert abs(gap - longest) <= 3600


def test_a_repository_added_later_counts_its_check_and_drill_from_its_own_timer(
        tmp_path: Path) -> None:
    """The check and drill timers are shared and older than a repository added since: its
    check and drill are due from when its own timer was installed, not from months before."""
    timers = tmp_path / "timers"
    timers.mkdir()
    for timer, moment in (("nasops-backup-check.timer", 1000.0),
                          ("nasops-backup-drill.timer", 1000.0),
                          ("nasops-backup@usb.timer", 1000.0),
                          ("nasops-backup@offsite.timer", 90000.0)):
        (timers / timer).write_text("[Timer]\n", encoding="utf-8")
        os.utime(timers / timer, (moment, moment))
    intervals, _ = fake_calendar(GAPS)
    samples = samples_of(BackupCollector(tmp_path / "status",
                                         schedules=schedules(timers, "usb", "offsite"),
                                         intervals=intervals))
    since = {(repository, task): value(samples, "nasops_backup_scheduled_since_timestamp_seconds",
                                       repository=repository, task=task)
             for repository in ("usb", "offsite") for task in ("backup", "check", "drill")}
    assert since == {("usb", "backup"): 1000, ("usb", "check"): 1000, ("usb", "drill"): 1000,
                     ("offsite", "backup"): 90000, ("offsite", "check"): 90000,
                     ("offsite", "drill"): 90000}


def test_each_repository_says_whose_shares_it_holds(tmp_path: Path) -> None:
    intervals, _calls = fake_calendar(GAPS)
    config = BackupScheduleConfig(repositories=[
        ExpectedRepository(name="atb-disque", schedule="daily", organization="atable"),
        ExpectedRepository(name="commun", schedule="daily", organization="commun"),
        ExpectedRepository(name="usb", schedule="daily")], timer_directory=str(tmp_path))
    samples = samples_of(BackupCollector(tmp_path / "status", schedules=config,
                                         intervals=intervals))
    assert value(samples, "nasops_backup_organization_info", repository="atb-disque",
                 organization_id="atable") == 1
    assert value(samples, "nasops_backup_organization_info", repository="commun",
                 organization_id="commun") == 1
    # A repository written by hand without one has no such sample (nothing to join on).
    assert not [key for key in samples if key[0] == "nasops_backup_organization_info"
                and ("repository", "usb") in key[1]]
