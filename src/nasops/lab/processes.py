"""Processes the lab started, identified by PID *and* start time so a recycled PID is never hit."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
# systemd in the container halts cleanly on this signal (what `machinectl poweroff` sends).
HALT_SIGNAL = signal.SIGRTMIN + 3


@dataclass(frozen=True)
class ProcessRecord:
    """A process we started: its PID and its start time in clock ticks since boot."""

    pid: int
    start_time: int


def parse_stat(text: str) -> tuple[str, int]:
    """Given the text of /proc/PID/stat, return (state letter, start time in clock ticks)."""
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); start time is field 22.
    return fields[0], int(fields[19])


def read_stat(pid: int, proc: Path = PROC) -> tuple[str, int] | None:
    """Given a PID, return (state, start time), or None if no such process exists."""
    try:
        return parse_stat((proc / str(pid) / "stat").read_text(encoding="utf-8"))
    except (OSError, ValueError, IndexError):
        return None


def record_process(pid: int) -> ProcessRecord:
    """Given the PID of a process that runs now, return its record."""
    stat = read_stat(pid)
    if stat is None:
        raise ProcessLookupError(pid)
    return ProcessRecord(pid, stat[1])


def reap(pid: int) -> None:
    """Collect the exit status of our own finished child so it stops being a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def is_alive(record: ProcessRecord | None) -> bool:
    """Given a record, return whether that very process still runs (zombies count as gone)."""
    if record is None:
        return False
    reap(record.pid)
    stat = read_stat(record.pid)
    return stat is not None and stat[1] == record.start_time and stat[0] not in {"Z", "X"}


def send_signal(record: ProcessRecord | None, signal_number: int) -> bool:
    """Signal the recorded process if it is still the same one; return whether it was sent."""
    if record is None or not is_alive(record):
        return False
    try:
        os.kill(record.pid, signal_number)
    except ProcessLookupError:
        return False
    return True


def wait_until_gone(records: Iterable[ProcessRecord | None], timeout: float) -> bool:
    """Wait up to timeout seconds for every recorded process to end; return whether they did."""
    pending = [record for record in records if record is not None]
    deadline = time.monotonic() + timeout
    while True:
        pending = [record for record in pending if is_alive(record)]
        if not pending:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def children_of(pid: int, proc: Path = PROC) -> list[int]:
    """Given a PID, return the PIDs of its direct children (from every thread)."""
    children: list[int] = []
    try:
        tasks = list((proc / str(pid) / "task").iterdir())
    except OSError:
        return children
    for task in tasks:
        with contextlib.suppress(OSError, ValueError):
            children.extend(int(part) for part in (task / "children").read_text().split())
    return children


def command_name(pid: int, proc: Path = PROC) -> str:
    """Given a PID, return its command name ('' if it is gone)."""
    try:
        return (proc / str(pid) / "comm").read_text(encoding="utf-8").strip()
    except OSError:
        return ""
