"""Check systemd `OnCalendar=` expressions without needing systemd on the controller.

Accepts the shorthands (`daily`, `weekly`, …), `@epoch`, and
`[weekdays] [date] [time] [timezone]` with `*`, lists, ranges (`..`) and repetitions (`/`),
e.g. `Mon..Fri *-*-* 01:30`, `*-*-1 03:00`, `*-*~1` (last day of the month).
The unit tests compare this with `systemd-analyze calendar` on many expressions.
"""

from __future__ import annotations

import re
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
COMPONENT = re.compile(r"^(?:\*|(\d+)(?:\.\.(\d+))?)(?:/(\d+))?$")
EPOCH = re.compile(r"^@\d+$")
EXAMPLES = "examples: daily, weekly, '*-*-* 01:30', 'Mon..Fri 18:00', '*-*-1 03:00'"


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


def _check_component(text: str, low: int, high: int, what: str) -> str | None:
    for piece in text.split(","):
        match = COMPONENT.match(piece)
        if not match:
            return f"'{piece}' is not a valid {what}"
        for number in (match.group(1), match.group(2)):
            if number is not None and not low <= int(number) <= high:
                return f"{what} {number} is outside {low}..{high}"
        if match.group(2) is not None and int(match.group(2)) < int(match.group(1)):
            return f"the range '{piece}' goes backwards"
        if match.group(3) is not None and int(match.group(3)) == 0:
            return f"a repetition of 0 in '{piece}' never advances"
    return None


def _check_weekdays(text: str) -> str | None:
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
    return None


def _check_date(text: str) -> str | None:
    if "~" in text:  # `*-*~1`: counted from the end of the month
        head, _, day = text.rpartition("~")
        parts = [*head.split("-"), day]
    else:
        parts = text.split("-")
    if len(parts) == 2:
        parts = ["*", *parts]
    if len(parts) != 3:
        return f"'{text}' is not a date; write YYYY-MM-DD, with * for any"
    year, month, day = parts
    return (_check_component(year, 1970, 2199, "year")
            or _check_component(month, 1, 12, "month")
            or _check_component(day, 1, 31, "day"))


def _check_time(text: str) -> str | None:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        return f"'{text}' is not a time; write HH:MM or HH:MM:SS"
    seconds = parts[2].split(".")[0] if len(parts) == 3 else "0"
    return (_check_component(parts[0], 0, 23, "hour")
            or _check_component(parts[1], 0, 59, "minute")
            or _check_component(seconds, 0, 59, "second"))


def calendar_problem(expression: str) -> str | None:
    """Given an OnCalendar expression, return why systemd would reject it, or None."""
    text = str(expression).strip()
    if not text:
        return "a schedule cannot be empty"
    tokens = text.split()
    if len(tokens) == 1 and "/" in text and is_timezone(text):
        return f"'{text}' has a timezone but no time"
    if len(tokens) > 1 and is_timezone(tokens[-1]):
        tokens = tokens[:-1]
    elif len(tokens) > 1 and re.fullmatch(r"[A-Za-z]+/[A-Za-z_/]+", tokens[-1]):
        return f"'{text}': '{tokens[-1]}' is not a known timezone (e.g. Europe/Brussels, UTC)"
    if len(tokens) == 1 and (tokens[0].lower() in SHORTHANDS or EPOCH.match(tokens[0])):
        return None
    problems: list[str | None] = []
    # A leading word is meant as weekdays ('Mno 10:00'): say which day is wrong.
    if (len(tokens) > 1 and tokens[0][0].isalpha()) or tokens[0][:3].lower() in WEEKDAYS:
        problems.append(_check_weekdays(tokens.pop(0)))
    date_tokens = [token for token in tokens
                   if ("-" in token or "~" in token) and ":" not in token]
    time_tokens = [token for token in tokens if ":" in token]
    others = [token for token in tokens if token not in date_tokens + time_tokens]
    if others or len(date_tokens) > 1 or len(time_tokens) > 1:
        return f"'{text}' is not a systemd calendar expression; {EXAMPLES}"
    problems += [_check_date(token) for token in date_tokens]
    problems += [_check_time(token) for token in time_tokens]
    found = [problem for problem in problems if problem]
    return f"'{text}': {found[0]}" if found else None
