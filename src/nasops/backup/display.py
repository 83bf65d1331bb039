"""Plain-text lines for people: the status, outcomes and snapshots as the CLI prints them."""

from __future__ import annotations

import time
from typing import Any

from nasops.backup.actions.common import RESULT_FAILED, RESULT_WARNING, Outcome
from nasops.backup.parse import Snapshot, timestamp_ns

BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def format_bytes(size: float | None) -> str:
    """Given a byte count, return `1.5 GiB`."""
    if size is None:
        return "?"
    value = float(size)
    for unit in BINARY_UNITS:
        if value < 1024 or unit == BINARY_UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"


def format_moment(timestamp: float | None, now: float | None = None) -> str:
    """Given Unix seconds, return `2026-11-22 20:30:12 (3 min ago)`; `never` for None."""
    if not timestamp:
        return "never"
    age = (now if now is not None else time.time()) - timestamp
    if age < 120:
        ago = f"{age:.0f} s ago"
    elif age < 7200:
        ago = f"{age / 60:.0f} min ago"
    elif age < 172800:
        ago = f"{age / 3600:.0f} h ago"
    else:
        ago = f"{age / 86400:.0f} days ago"
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(timestamp))} ({ago})"


def backup_summary(record: dict[str, Any]) -> str:
    """Given a backup attempt record, return its one-line statistics."""
    if not record.get("snapshot_id"):
        return ""
    text = (f"snapshot {record['snapshot_id']}: {record.get('files_total', 0)} files "
            f"({record.get('files_new', 0)} new, {record.get('files_changed', 0)} changed), "
            f"{format_bytes(record.get('bytes_total'))}, "
            f"{format_bytes(record.get('bytes_new'))} added, "
            f"{record.get('duration_seconds') or 0:.1f} s")
    forget = record.get("forget") or {}
    if forget.get("result") == "success":
        text += f"; retention removed {forget.get('removed_snapshots', 0)} snapshot(s)"
    return text


def outcome_line(action: str, outcome: Outcome) -> str:
    """Given an action name and its outcome, return `usb: backup success — …`."""
    record = outcome.record
    if outcome.result == RESULT_FAILED:
        return f"{outcome.repository}: {action} FAILED: {record.get('message')}"
    if outcome.result == RESULT_WARNING:
        return (f"WARNING {outcome.repository}: {action} finished with a warning: "
                f"{record.get('message')}")
    detail = backup_summary(record) if action == "backup" else record.get("message") or ""
    return f"{outcome.repository}: {action} {outcome.result}" + (f" — {detail}" if detail else "")


def _section_lines(name: str, section: dict[str, Any], now: float) -> list[str]:
    attempt = section.get("last_attempt")
    if not attempt:
        return [f"  {name:<7} never run"]
    lines = [f"  {name:<7} {attempt.get('result', '?'):<8} "
             f"{format_moment(attempt.get('finished_at') or attempt.get('started_at'), now)}"]
    detail = backup_summary(attempt) if name == "backup" else ""
    message = attempt.get("message")
    for text in (detail, message):
        if text:
            lines.append(f"  {'':<7} {text}")
    success = section.get("last_success") or {}
    if attempt.get("result") != "success":
        lines.append(f"  {'':<7} last success: {format_moment(success.get('finished_at'), now)}")
    return lines


def status_lines(document: dict[str, Any], now: float | None = None) -> list[str]:
    """Given a status document, return the lines `nasops backup status` prints for it."""
    moment = now if now is not None else time.time()
    lines = [str(document.get("repository", "?"))]
    error = document.get("error")
    if error:
        lines.append(f"  status file problem ({error.get('kind')}): {error.get('message')}")
    for name in ("backup", "check", "drill"):
        lines += _section_lines(name, document.get(name) or {}, moment)
    return lines


def snapshot_lines(snapshots: tuple[Snapshot, ...]) -> list[str]:
    """Given snapshots, return a table: id, time, host, tags, paths."""
    lines = [f"  {'ID':<10} {'TIME':<19} {'HOST':<16} {'TAGS':<10} PATHS"]
    for snapshot in snapshots:
        nanoseconds = timestamp_ns(snapshot.time)
        moment = (time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(nanoseconds / 1e9))
                  if nanoseconds is not None else snapshot.time[:19])
        lines.append(f"  {snapshot.short_id:<10} {moment:<19} {snapshot.hostname:<16} "
                     f"{','.join(snapshot.tags):<10} {', '.join(snapshot.paths)}")
    return lines
