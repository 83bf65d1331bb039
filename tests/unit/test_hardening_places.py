"""Schedules that never fire, dangerous places, strict grammars, and the NAS side's own checks.

The corpus (tests/unit/spec_corpus/2xx-*.yml) proves each class through `nasops validate`;
these tests pin the rules themselves, compare the never-fires check with systemd-analyze,
and keep validate fast.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nasops.backup.config import parse_config
from nasops.backup.restic.backup import build_backup_argv
from nasops.backup.restic.common import ResticOptions
from nasops.backup.restic.restore import build_restore_argv
from nasops.spec import calendar
from nasops.spec.calendar import calendar_problem, next_day, schedule_problem, systemd_verdicts
from nasops.spec.grammars import (
    formula_problem,
    plain_path_problem,
    repository_url_problem,
    samba_text_problem,
    sync_address_problem,
)
from nasops.spec.places import place_problem

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
NEVER = ["*-02-30", "*-02-31 03:00", "*-04-31", "*-06-31", "*-09-31", "*-11-31", "Mon *-02-30",
         "2020-01-01", "2026-06-15 11:00", "2026-01-01..05 00:00", "@1", "@1700000000",
         "2100-02-29", "Sat 2027-01-01", "1970-01-01", "2025-*-* 00:00", "Mon 2026-06-16"]
FIRES = ["daily", "weekly", "minutely", "*-*-* 01:30", "*-02-29", "*-*-31", "*-*~1",
         "2026-06-15 13:00", "2026-06-15 11/2:00", "Tue 2026-06-16", "Mon..Fri 18:00",
         "2199-12-31", "@7258118399", "*-*-* 00:00:00/0.000001", "2027-01-01 Europe/Brussels"]
SYNTAX = ["*-*-* 20/5:00", "*-*-31/1", "*-12/1-01", "*-*~29", "*/15:00", "*-*-*/2",
          "*-*-* 00:00:00/99999999999999999999", "@7258118400", "2100/100-01-01",
          "1" * 5000 + ":00"]


@pytest.mark.parametrize("expression", NEVER)
def test_a_schedule_that_never_elapses_is_refused(expression: str) -> None:
    assert calendar_problem(expression) is None  # valid syntax
    problem = schedule_problem(expression, NOW)
    assert problem is not None and "never elapses" in problem


@pytest.mark.parametrize("expression", FIRES)
def test_a_schedule_that_elapses_is_kept(expression: str) -> None:
    assert schedule_problem(expression, NOW) is None, schedule_problem(expression, NOW)


@pytest.mark.parametrize("expression", SYNTAX)
def test_overflowing_or_impossible_components_are_syntax_errors(expression: str) -> None:
    assert calendar_problem(expression) is not None


def test_the_next_day_is_the_first_matching_one() -> None:
    assert str(next_day("*-02-29", NOW)) == "2028-02-29"
    assert str(next_day("Fri *-*-13", NOW)) == "2026-11-13"
    assert str(next_day("*-*~1", NOW)) == "2026-06-30"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None and os.environ.get("CI") != "true",
                    reason="systemd-analyze is missing (install systemd)")
@pytest.mark.parametrize("expression", [
    expression for expression in NEVER + FIRES + SYNTAX[:-1] if "2026-06" not in expression])
def test_same_verdict_as_systemd_today(expression: str) -> None:
    # Compared at the current time: systemd-analyze has no "now" option.
    ours = schedule_problem(expression)
    theirs = systemd_verdicts([expression]).get(expression, "refused")
    assert (ours is None) == (theirs is None), (expression, ours, theirs)


def test_systemd_is_asked_once_for_every_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(argv: list[str], **options: object) -> object:
        calls.append(argv)
        return real_run(argv, **options)  # type: ignore[call-overload]

    monkeypatch.setattr(calendar.subprocess, "run", counting_run)
    monkeypatch.setattr(calendar.shutil, "which", lambda _name: "/bin/echo")
    verdicts = systemd_verdicts(["daily", "weekly", "daily", "*-02-30"])
    assert len(calls) == 1
    assert calls[0][-3:] == ["daily", "weekly", "*-02-30"]
    assert calls[0][:4] == ["/bin/echo", "calendar", "--iterations=1", "--"]
    assert verdicts == {}  # an answer it cannot read refuses nothing


def test_a_missing_or_hanging_systemd_analyze_refuses_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar.shutil, "which", lambda _name: None)
    assert systemd_verdicts(["daily"]) == {}

    def hanging(*_arguments: object, **_options: object) -> None:
        raise subprocess.TimeoutExpired("systemd-analyze", calendar.SYSTEMD_TIMEOUT_SECONDS)

    monkeypatch.setattr(calendar.shutil, "which", lambda _name: "/usr/bin/systemd-analyze")
    monkeypatch.setattr(calendar.subprocess, "run", hanging)
    assert systemd_verdicts(["daily"]) == {}


@pytest.mark.parametrize(("path", "refused"), [
    ("/srv/nas", False), ("/data/nas", False), ("/mnt/usb/restic", False),
    ("/home/nas", False), ("/tmp/nas", True), ("/run/nas", True), ("/dev/shm/x", True),
    ("/proc/1", True), ("/sys/x", True), ("/var/tmp/x", True), ("/etc/nas", True),
    ("/usr/local/nas", True), ("/", True), ("/srv", False), ("/mnt", True), ("/var/lib", True),
    ("/var/lib/nasops/x", True), ("/srv/../etc", True), ("/var/library", False),
])
def test_dangerous_places(path: str, refused: bool) -> None:
    assert (place_problem(path, "it") is not None) is refused


@pytest.mark.parametrize(("path", "refused"), [
    ("/srv/nas", False), ("/srv/nas-2/data_1", False), ("/srv/my nas", True),
    ("/srv/nas%U", True), ('/srv/"nas"', True), ("/srv/nas\\x", True), ("/srv/nas\n", True),
    ("/srv//nas", True), ("srv/nas", True), ("/srv/nas/", False),
])
def test_plain_paths(path: str, refused: bool) -> None:
    assert (plain_path_problem(path) is not None) is refused


@pytest.mark.parametrize(("url", "refused"), [
    ("sftp:backup@offsite.example.org:/srv/restic", False),
    ("sftp:backup@192.0.2.1:restic", False),
    ("sftp:backup@-oProxyCommand=x:/p", True), ("sftp:-oX@host:/p", True),
    ("sftp:backup:pw@host:/p", True), ("sftp:backup@host:", True),
    ("rest:https://backup.example.org/tiny/", False), ("rest:https://u:pw@host/", True),
    ("s3:https://u:pw@s3.example.org/bucket", True), ("s3:s3.amazonaws.com/bucket", False),
    ("rclone:remote:bucket/tiny", False), ("rclone:remote,pass=pw:bucket", True),
    ("rclone::sftp,host=h,key_file=/k:path", False), ("rclone::s3,secret_access_key=x:b", True),
    ("swift:container:/tiny", False), ("b2:bucket:path with space", True),
    ("/mnt/usb\nExecStartPre=/bin/sh", True),
    ("sftp:backup@offsite_nas:/srv/restic", False),  # an ssh_config alias
])
def test_repository_urls(url: str, refused: bool) -> None:
    assert (repository_url_problem(url) is not None) is refused


@pytest.mark.parametrize(("address", "listening", "refused"), [
    ("default", True, False), ("tcp://0.0.0.0:22000", True, False), ("tcp://:22000", True, False),
    ("quic://[::]:22000", True, False), ("tcp://nas.example.org:22000", True, False),
    ("dynamic", False, False), ("tcp://192.0.2.10:22000", False, False),
    ("tcp://:22000", False, True), ("dynamic", True, True), ("default", False, True),
    ("tcp://0.0.0.0:22000</listenAddress>", True, True), ("tcp://0.0.0.0:0", True, True),
    ("http://0.0.0.0:22000", True, True), ("tcp://[zz]:1", True, True),
    ("tcp://192.0.2.10", False, False), ("tcp://laptop.example.org/", False, False),
])
def test_sync_addresses(address: str, listening: bool, refused: bool) -> None:
    assert (sync_address_problem(address, listening=listening) is not None) is refused


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2+3", "@SUM(A1)", " =1"])
def test_formula_names(text: str) -> None:
    assert formula_problem(text) is not None


def test_the_nas_side_config_refuses_option_like_values() -> None:
    document = {"repositories": [{"name": "off", "url": "sftp:u@-oProxyCommand=x:/p",
                                  "password_file": "/etc/p"}],
                "sources": ["/srv/nas"], "exclude": ["--password-file=/x"]}
    config, problems = parse_config(document)
    assert config is None
    assert [problem.split(":")[0] for problem in problems] == ["repositories.0.url",
                                                                "exclude.0"]


def test_restic_arguments_never_start_with_a_dash() -> None:
    options = ResticOptions()
    with pytest.raises(ValueError, match="starts with '-'"):
        build_backup_argv(options, ["/srv"], excludes=["-x"])
    with pytest.raises(ValueError, match="starts with '-'"):
        build_restore_argv(options, "latest", "--target=/")


def test_validate_stays_fast() -> None:
    example = Path(__file__).parents[2] / "inventory/example/wsm.yml"
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "nasops", "validate", str(example)],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    # About 0.3 s on the project's 2-core machine (systemd-analyze: 10 ms of it).
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("text", ["Budget exécuté à 100%", "Sensibilisation / Educatie",
                                  "Conseil d'administration & RH"])
def test_free_text_descriptions_people_write_are_accepted(text: str) -> None:
    assert samba_text_problem(text) is None
