"""Check systemd `OnCalendar=` expressions without needing systemd on the controller.

Accepts the shorthands (`daily`, `weekly`, …) and `[weekdays] [date] [time] [timezone]` with
`*`, lists, ranges (`..`) and repetitions (`/`), e.g. `Mon..Fri *-*-* 01:30`, `*-*-1 03:00`.
"""

from __future__ import annotations

import re

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
TIMEZONE = re.compile(r"^(UTC|[A-Za-z]+/[A-Za-z_]+(?:/[A-Za-z_]+)?)$")


def _check_component(text: str, low: int, high: int, what: str) -> str | None:
    for piece in text.split(","):
        match = COMPONENT.match(piece)
        if not match:
            return f"'{piece}' is not a valid {what}"
        for number in (match.group(1), match.group(2)):
            if number is not None and not low <= int(number) <= high:
                return f"{what} {number} is outside {low}..{high}"
        if match.group(3) is not None and int(match.group(3)) == 0:
            return f"a repetition of 0 in '{piece}' never advances"
    return None


def _check_weekdays(text: str) -> str | None:
    for piece in text.split(","):
        for day in piece.split(".."):
            if day.lower() not in WEEKDAY_NAMES:
                return f"'{day}' is not a weekday (Mon, Tue, … Sun)"
    return None


def _check_date(text: str) -> str | None:
    parts = text.split("-")
    if len(parts) == 2:
        parts = ["*", *parts]
    if len(parts) != 3:
        return f"'{text}' is not a date; write YYYY-MM-DD, with * for any"
    year, month, day = parts
    day = day.replace("~", "")
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
    if text.lower() in SHORTHANDS:
        return None
    tokens = text.split()
    if tokens and TIMEZONE.match(tokens[-1]):
        tokens = tokens[:-1]
    if not tokens:
        return f"'{text}' has a timezone but no time"
    problems: list[str | None] = []
    if tokens and (tokens[0][:3].lower() in WEEKDAYS) and not tokens[0][0].isdigit():
        problems.append(_check_weekdays(tokens.pop(0)))
    date_tokens = [token for token in tokens if "-" in token and ":" not in token]
    time_tokens = [token for token in tokens if ":" in token]
    others = [token for token in tokens if token not in date_tokens + time_tokens]
    if others or len(date_tokens) > 1 or len(time_tokens) > 1:
        return (f"'{text}' is not a systemd calendar expression; examples: daily, weekly, "
                "'*-*-* 01:30', 'Mon..Fri 18:00', '*-*-1 03:00'")
    problems += [_check_date(token) for token in date_tokens]
    problems += [_check_time(token) for token in time_tokens]
    found = [problem for problem in problems if problem]
    return f"'{text}': {found[0]}" if found else None
