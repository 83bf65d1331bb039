"""OnCalendar checks: our verdict must match `systemd-analyze calendar` on the same text."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from nasops.spec.calendar import calendar_problem, is_timezone

VALID = [
    "daily", "weekly", "monthly", "hourly", "minutely", "yearly", "annually", "quarterly",
    "semiannually", "Daily", "DAILY", "weekly Europe/Brussels", "daily UTC",
    "*-*-* 01:30", "*-*-* 1:5", "*-*-1 03:00", "*-*-* 01:30 Europe/Brussels",
    "*-*-* 01:30 UTC", "12:00 utc", "10:00 CET", "*-*-* 01:30 Etc/GMT+2", "12:00",
    "Mon..Fri 18:00", "mon..fri 10:00", "monday..friday 10:00", "Mon-Fri 10:00",
    "Mon,Wed..Fri 08:00", "Sat,Sun 10:00", "Sat..Sun", "Mon", "Mon,Sun", "Mon..Mon 10:00",
    "Sun *-*-1..7 03:00", "*-1/2-1 00:00", "2024-*-* 00:00", "2024-02-29 12:00",
    "2024-02-30", "*-02-30 00:00", "1970-01-01", "*-*-01..05 00:00", "*-*~1", "*~1",
    "*-*~01 00:00", "*-02~03", "*:0/15", "*:00/15", "*:30", "0/15:00", "*-*-* 08..17:00",
    "1..3:00", "*-*-* 08,12,18:00", "*-*-* 01:30:00", "*-*-* 01:30:00.5", "*-*-* 23:59:59",
    "Mon *-*-* *:*:*", "*-*-*", "*:*", "@0", "@1700000000", "@1700000000 UTC",
]
INVALID = [
    "garbage", "every night", "now", "today", "tomorrow", "*-*-* 25:00", "*-*-* 24:00",
    "00:60", "*-*-* *:*:60", "Mno 10:00", "Tues 10:00", "Thurs 10:00", "Mo 10:00",
    "Mon..Funday 10:00", "Fri..Mon 10:00", "Sun..Sat 10:00", "Wed-Mon 10:00",
    "Mon,,Tue 10:00", "Mon.. 10:00", "03:00 Mon", "Mon Tue 10:00", "daily daily",
    "*-*-* 01:30 01:40", "2200-01-01", "1969-01-01", "*-13-01", "*-*-00", "*-*-32",
    "*-*-05..01 00:00", "3..1:00", "*-*-31/0", "*-*-1/0", "1/0:00", "2024-01", "-1-1",
    "01", "*", ",", "*,*", "* 00:00", "1:2:3:4", "*-*-*-* 00:00", "@abc",
    "01:30 Europe/Brusels", "daily Mars/Base", "Europe/Brussels",
    "10:00 Europe/Brussels UTC", "CET",
]


def systemd_accepts(expression: str) -> bool:
    """Given an expression, return whether systemd-analyze parses it."""
    result = subprocess.run(["systemd-analyze", "calendar", expression], capture_output=True,
                            text=True, check=False, timeout=30)
    return result.returncode == 0


@pytest.fixture(scope="module")
def systemd_analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        message = ("systemd-analyze is missing: install systemd (it ships systemd-analyze) "
                   "to compare OnCalendar checks with systemd itself")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.mark.parametrize("expression", VALID)
def test_valid_expressions_pass(expression: str) -> None:
    assert calendar_problem(expression) is None


@pytest.mark.parametrize("expression", INVALID)
def test_invalid_expressions_are_explained(expression: str) -> None:
    problem = calendar_problem(expression)
    assert problem is not None
    assert expression in problem


@pytest.mark.parametrize("expression", VALID + INVALID)
def test_same_verdict_as_systemd(expression: str, systemd_analyze: str) -> None:
    del systemd_analyze
    ours = calendar_problem(expression) is None
    assert ours == systemd_accepts(expression), (
        f"{expression!r}: nasops says {'valid' if ours else calendar_problem(expression)}, "
        f"systemd says {'valid' if not ours else 'invalid'}")


@pytest.mark.parametrize(("expression", "message"), [
    ("*-*-* 25:00", "'*-*-* 25:00': hour 25 is outside 0..23"),
    ("Mno 10:00", "'Mno 10:00': 'Mno' is not a weekday (Mon, Tue, … Sun)"),
    ("Fri..Mon 10:00", "'Fri..Mon 10:00': the range 'Fri..Mon' goes backwards; weeks run "
                       "from Mon to Sun"),
    ("*-*-05..01 00:00", "'*-*-05..01 00:00': the range '05..01' goes backwards"),
    ("*-*-1/0", "'*-*-1/0': a repetition of 0 in '1/0' never advances"),
    ("01:30 Europe/Brusels", "'01:30 Europe/Brusels': 'Europe/Brusels' is not a known "
                             "timezone (e.g. Europe/Brussels, UTC)"),
    ("Europe/Brussels", "'Europe/Brussels' has a timezone but no time"),
    ("", "a schedule cannot be empty"),
    ("garbage", "'garbage' is not a systemd calendar expression; examples: daily, weekly, "
                "'*-*-* 01:30', 'Mon..Fri 18:00', '*-*-1 03:00'"),
])
def test_messages_name_the_wrong_part(expression: str, message: str) -> None:
    assert calendar_problem(expression) == message


@pytest.mark.parametrize(("token", "expected"), [
    ("UTC", True), ("utc", True), ("Europe/Brussels", True), ("CET", True),
    ("Mon", False), ("daily", False), ("Europe/Brusels", False), ("../etc/passwd", False),
])
def test_is_timezone(token: str, expected: bool) -> None:
    assert is_timezone(token) is expected
