"""Check systemd `OnCalendar=` expressions without needing systemd on the controller.

Accepts the shorthands (`daily`, `weekly`, …), `@epoch`, and
`[weekdays] [date] [time] [timezone]` with `*`, lists, ranges (`..`) and repetitions (`/`),
e.g. `Mon..Fri *-*-* 01:30`, `*-*-1 03:00`, `*-*~1` (last day of the month).
`calendar_problem` answers what systemd's parser answers (the unit tests compare it with
`systemd-analyze calendar`); `schedule_problem` also refuses what parses but never elapses
(`*-02-30`, a date in the past), because a backup timer that never fires fails silently.
`systemd_verdicts` asks systemd-analyze itself, once for many expressions.
"""

from __future__ import annotations

import calendar as gregorian
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SHORTHANDS = {
    "minutely", "hourly", "daily", "monthly", "weekly", "yearly", "annually",
    "quarterly", "semiannually",
}
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAY_NAMES = {day: day for day in WEEKDAYS} | {
    "monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu",
    "friday": "fri", "saturday": "sat", "sunday": "sun",
}
# systemd has no `*/N`: a repetition needs a start (`0/15`). Numbers are kept short so that
# a 5,000-digit "hour" is an error message, not an int() overflow.
NUMBER = r"0*\d{1,9}"
COMPONENT = re.compile(rf"^({NUMBER})(?:\.\.({NUMBER}))?(?:/({NUMBER}))?\Z|^\*\Z")
SECONDS = re.compile(rf"^({NUMBER}(?:\.\d{{1,9}})?)(?:\.\.({NUMBER}(?:\.\d{{1,9}})?))?"
                     rf"(?:/({NUMBER}(?:\.\d{{1,9}})?))?$|^\*$")
EPOCH = re.compile(r"^@(\d{1,12})\Z")
EXAMPLES = "examples: daily, weekly, '*-*-* 01:30', 'Mon..Fri 18:00', '*-*-1 03:00'"
MICROSECONDS = 1_000_000
# systemd's limits: years 1970..2199, and the last second it can represent.
FIRST_YEAR, LAST_YEAR = 1970, 2199
LAST_EPOCH = int(datetime(LAST_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
SYSTEMD_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Piece:
    """One comma-separated part of a component: start, optional stop, repetition."""

    start: int
    stop: int | None
    repeat: int


@cache
def is_timezone(token: str) -> bool:
    """Given a word, return whether systemd would take it as a timezone (UTC, Europe/Brussels)."""
    if token.upper() == "UTC":
        return True
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+/-]*", token) or token.lower() in WEEKDAY_NAMES:
        return False
    try:
        ZoneInfo(token)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _number(text: str, scale: int) -> int:
    return int(Decimal(text) * scale + Decimal("0.5")) if scale > 1 else int(text)


def _pieces(  # noqa: PLR0911 - one return per systemd rule, each with its own sentence
        text: str, low: int, high: int, what: str, *, end_of_month: bool = False,
        scale: int = 1, convert: Callable[[int], int] = int) -> list[Piece] | str:
    """Given one component (`1,5..9/2`), return its pieces or why systemd refuses it.

    The rules are systemd's `chain_valid`: counted from the end of the month a day is at most
    28; a repetition must fit at least once before the end of its range. Seconds are counted
    in microseconds (`scale`), like systemd does.
    """
    top = high - 3 if end_of_month else high
    lowest, highest = low * scale, top * scale + scale - 1
    if text == "*":
        return [Piece(lowest, highest, scale)]
    pattern = SECONDS if scale > 1 else COMPONENT
    pieces = []
    for part in text.split(","):
        match = pattern.match(part)
        if not match or part == "*":
            return f"'{part}' is not a valid {what}"
        start = convert(_number(match.group(1), scale))
        stop = convert(_number(match.group(2), scale)) if match.group(2) else None
        repeat = _number(match.group(3), scale) if match.group(3) else (
            scale if stop is not None else 0)
        for value, shown in ((start, match.group(1)), (stop, match.group(2))):
            if value is not None and not lowest <= value <= highest:
                return f"{what} {shown} is outside {low}..{top}"
        if match.group(3) is not None and repeat == 0:
            return f"a repetition of 0 in '{part}' never advances"
        if stop is not None and stop < start:
            return f"the range '{part}' goes backwards"
        # A range takes any repetition (systemd 252), except seconds' implicit one second.
        if (stop is not None and match.group(3) is None and start + repeat > stop
                and scale > 1) or (stop is None and repeat and (
                    repeat > highest - lowest or (start - repeat < lowest if end_of_month
                                                  else start + repeat > highest))):
            return f"'{part}' repeats past the last {what} ({top}): it would never repeat"
        pieces.append(Piece(start, stop, repeat))
    return pieces


def _values(pieces: list[Piece], low: int, high: int) -> set[int]:
    """Given valid pieces, return every value they stand for between low and high."""
    values: set[int] = set()
    for piece in pieces:
        if piece.repeat == 0:
            values.add(piece.start)
        else:
            last = piece.stop if piece.stop is not None else high
            values.update(range(piece.start, min(last, high) + 1, piece.repeat))
    return {value for value in values if low <= value <= high}


def _check_weekdays(text: str) -> str | set[int]:
    days_set: set[int] = set()
    for piece in text.split(","):
        days = piece.replace("..", "-").split("-")
        for day in days:
            if day.lower() not in WEEKDAY_NAMES:
                return f"'{day}' is not a weekday (Mon, Tue, … Sun)"
        positions = [WEEKDAYS.index(WEEKDAY_NAMES[day.lower()]) for day in days]
        if len(positions) > 2:
            return f"'{piece}' is not a weekday range; write e.g. Mon..Fri"
        if positions != sorted(positions):
            return f"the range '{piece}' goes backwards; weeks run from Mon to Sun"
        days_set.update(range(positions[0], positions[-1] + 1))
    return days_set


def _full_year(value: int) -> int:
    # systemd reads two-digit years as 1970..2069 (`26` is 2026).
    return value + (2000 if value < 70 else 1900) if value < 100 else value


@dataclass
class Parsed:
    """A parsed expression: the sets it stands for (None: every value)."""

    weekdays: set[int]
    years: list[Piece]
    months: list[Piece]
    days: list[Piece]
    end_of_month: bool
    hours: list[Piece]
    minutes: list[Piece]
    seconds: list[Piece]
    timezone: str | None = None
    epoch: int | None = None


def _parse_date(text: str, parsed: Parsed) -> str | None:
    if "~" in text:  # `*-*~1`: counted from the end of the month
        head, _, day = text.rpartition("~")
        parts = [*head.split("-"), day]
        parsed.end_of_month = True
    else:
        parts = text.split("-")
    if len(parts) == 2:
        parts = ["*", *parts]
    if len(parts) != 3:
        return f"'{text}' is not a date; write YYYY-MM-DD, with * for any"
    found = (_pieces(parts[0], FIRST_YEAR, LAST_YEAR, "year", convert=_full_year),
             _pieces(parts[1], 1, 12, "month"),
             _pieces(parts[2], 1, 31, "day", end_of_month=parsed.end_of_month))
    pieces = [item for item in found if not isinstance(item, str)]
    if len(pieces) < len(found):
        return next(item for item in found if isinstance(item, str))
    parsed.years, parsed.months, parsed.days = pieces
    return None


def _parse_time(text: str, parsed: Parsed) -> str | None:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        return f"'{text}' is not a time; write HH:MM or HH:MM:SS"
    found = (_pieces(parts[0], 0, 23, "hour"), _pieces(parts[1], 0, 59, "minute"),
             _pieces(parts[2] if len(parts) == 3 else "0", 0, 59, "second",
                     scale=MICROSECONDS))
    pieces = [item for item in found if not isinstance(item, str)]
    if len(pieces) < len(found):
        return next(item for item in found if isinstance(item, str))
    parsed.hours, parsed.minutes, parsed.seconds = pieces
    return None


def _parse(expression: str) -> Parsed | str:  # noqa: PLR0911 - one return per form
    """Given an expression, return what it stands for, or why systemd would reject it."""
    text = str(expression).strip()
    midnight = [Piece(0, None, 0)]
    parsed = Parsed(set(range(7)), [Piece(FIRST_YEAR, None, 1)], [Piece(1, None, 1)],
                    [Piece(1, None, 1)], False, midnight, midnight, midnight)
    if not text:
        return "a schedule cannot be empty"
    if any(not character.isprintable() for character in text.replace(" ", "")):
        return f"{text!r} contains a control character; write it on one line"
    tokens = text.split()
    if len(tokens) == 1 and "/" in text and is_timezone(text):
        return f"'{text}' has a timezone but no time"
    if len(tokens) > 1 and is_timezone(tokens[-1]):
        parsed.timezone = tokens.pop()
    elif len(tokens) > 1 and re.fullmatch(r"[A-Za-z]+/[A-Za-z_/]+", tokens[-1]):
        return f"'{text}': '{tokens[-1]}' is not a known timezone (e.g. Europe/Brussels, UTC)"
    epoch = EPOCH.match(tokens[0])
    if len(tokens) == 1 and (tokens[0].lower() in SHORTHANDS or epoch):
        if epoch and int(epoch.group(1)) > LAST_EPOCH:
            return f"'{text}': {tokens[0]} is after {LAST_YEAR}, the last year systemd knows"
        parsed.epoch = int(epoch.group(1)) if epoch else None
        return parsed
    problems: list[str | None] = []
    # A leading word is meant as weekdays ('Mno 10:00'): say which day is wrong.
    if (len(tokens) > 1 and tokens[0][0].isalpha()) or tokens[0][:3].lower() in WEEKDAYS:
        weekdays = _check_weekdays(tokens.pop(0))
        if isinstance(weekdays, str):
            problems.append(weekdays)
        else:
            parsed.weekdays = weekdays
    date_tokens = [token for token in tokens
                   if ("-" in token or "~" in token) and ":" not in token]
    time_tokens = [token for token in tokens if ":" in token]
    others = [token for token in tokens if token not in date_tokens + time_tokens]
    if others or len(date_tokens) > 1 or len(time_tokens) > 1:
        return f"'{text}' is not a systemd calendar expression; {EXAMPLES}"
    problems += [_parse_date(token, parsed) for token in date_tokens]
    problems += [_parse_time(token, parsed) for token in time_tokens]
    found = [problem for problem in problems if problem]
    return f"'{text}': {found[0]}" if found else parsed


def calendar_problem(expression: str) -> str | None:
    """Given an OnCalendar expression, return why systemd would reject it, or None."""
    parsed = _parse(expression)
    return parsed if isinstance(parsed, str) else None


def _maximum(pieces: list[Piece], high: int) -> int:
    """Given valid pieces, return the largest value they reach (without listing them all:
    a repetition of a microsecond would be 60 million values)."""
    def last(piece: Piece) -> int:
        if piece.repeat == 0:
            return piece.start
        end = min(piece.stop if piece.stop is not None else high, high)
        return piece.start + (end - piece.start) // piece.repeat * piece.repeat
    return max(last(piece) for piece in pieces)


def _last_time(parsed: Parsed) -> time:
    microsecond = _maximum(parsed.seconds, 60 * MICROSECONDS - 1)
    return time(_maximum(parsed.hours, 23), _maximum(parsed.minutes, 59),
                microsecond // MICROSECONDS, microsecond % MICROSECONDS)


def next_day(expression: str, now: datetime | None = None) -> date | None:
    """Given a valid expression, return the first day on or after today it elapses, or None.

    `now` defaults to the current time, in the expression's timezone when it names one.
    """
    parsed = _parse(expression)
    if isinstance(parsed, str):
        raise ValueError(parsed)
    zone = ZoneInfo("UTC" if parsed.timezone in (None, "UTC", "utc") else parsed.timezone)
    current = (now or datetime.now(UTC)).astimezone(
        zone if parsed.timezone else None)
    if parsed.epoch is not None:
        moment = datetime.fromtimestamp(parsed.epoch, UTC)
        return moment.date() if moment > current else None
    today, later_today = current.date(), _last_time(parsed) > current.time().replace(tzinfo=None)
    months = sorted(_values(parsed.months, 1, 12))
    days = sorted(_values(parsed.days, 1, 31))
    for year in sorted(_values(parsed.years, today.year, LAST_YEAR)):
        for month in months:
            if (year, month) < (today.year, today.month):
                continue
            length = gregorian.monthrange(year, month)[1]
            for number in days:
                day = length + 1 - number if parsed.end_of_month else number
                if not 1 <= day <= length:
                    continue
                candidate = date(year, month, day)
                if candidate.weekday() in parsed.weekdays and (
                        candidate > today or (candidate == today and later_today)):
                    return candidate
    return None


def schedule_problem(expression: str, now: datetime | None = None) -> str | None:
    """Given an OnCalendar expression, return why it is refused (syntax, or never elapses)."""
    problem = calendar_problem(expression)
    if problem:
        return problem
    if next_day(expression, now) is None:
        text = str(expression).strip()
        if next_day(expression, datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)) is None:
            return (f"'{text}' never elapses: no day matches it (such as 30 February, or a "
                    "weekday that never falls on that date); the timer would never start")
        return (f"'{text}' never elapses: its last moment is already past; the timer would "
                "never start")
    return None


def systemd_verdicts(expressions: list[str]) -> dict[str, str | None]:
    """Given expressions, return systemd-analyze's verdict for each: a problem or None.

    One subprocess for all of them, with a timeout; an expression systemd-analyze did not
    answer for (not installed, too slow, unexpected output) is left out, not refused.
    """
    binary = shutil.which("systemd-analyze")
    unique = list(dict.fromkeys(expressions))
    if binary is None or not unique:
        return {}
    try:
        result = subprocess.run(
            [binary, "calendar", "--iterations=1", "--", *unique], capture_output=True,
            text=True, timeout=SYSTEMD_TIMEOUT_SECONDS, check=False,
            env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.SubprocessError):
        return {}
    verdicts: dict[str, str | None] = {}
    for expression in unique:
        if f"Failed to parse calendar specification '{expression}'" in result.stderr:
            verdicts[expression] = f"'{expression}': systemd refuses this calendar expression"
    # One block per parsed expression, in order; "Original form" is left out when it equals
    # the normalised form, so blocks are matched by position (and only if the count agrees).
    parsed = [expression for expression in unique if expression not in verdicts]
    blocks = [block for block in result.stdout.split("\n\n") if "Next elapse:" in block]
    if len(blocks) != len(parsed):
        return verdicts
    for expression, block in zip(parsed, blocks, strict=True):
        never = re.search(r"Next elapse: never\s*$", block, re.MULTILINE) is not None
        verdicts[expression] = (f"'{expression}' never elapses according to systemd; the "
                                "timer would never start") if never else None
    return verdicts
