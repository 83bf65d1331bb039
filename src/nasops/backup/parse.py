"""Reading restic's output: JSON lines, lock messages, versions. Pure functions, no I/O."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

VERSION_PATTERN = re.compile(r"restic (\d+)\.(\d+)\.(\d+)")
LOCK_PATTERN = re.compile(
    r"repository is already locked (?P<exclusive>exclusively )?by PID (?P<pid>\d+) "
    r"on (?P<host>\S+) by (?P<user>.+?)(?: \(UID|\n|$)"
)
LOCK_AGE_PATTERN = re.compile(r"lock was created at .*?\((?P<age>[0-9.hmsµun]+) ago\)")
GO_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|µs|us|ns|m|s)")
GO_DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6,
                     "ns": 1e-9}
RESTORE_ERROR_PATTERN = re.compile(r"^ignoring error for (?P<path>.+?): (?P<message>.*)\Z")
TIMESTAMP_PATTERN = re.compile(
    r"^(?P<base>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(?P<fraction>\d+))?(?P<zone>Z|[+-]\d\d:\d\d)$"
)


@dataclass(frozen=True)
class BackupSummary:
    """The statistics restic prints at the end of `backup --json`."""

    snapshot_id: str
    files_new: int
    files_changed: int
    files_unmodified: int
    files_total: int
    bytes_new: int
    bytes_total: int
    duration_seconds: float


@dataclass(frozen=True)
class UnreadableFile:
    """A source file restic could not read during a backup (what makes exit code 3)."""

    path: str
    reason: str


@dataclass(frozen=True)
class Snapshot:
    """One snapshot as `restic snapshots --json` describes it."""

    id: str
    short_id: str
    time: str
    hostname: str
    paths: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class FileNode:
    """One regular file of a snapshot (`restic ls --json`)."""

    path: str
    size: int
    mtime_ns: int | None


@dataclass(frozen=True)
class LockHolder:
    """Who holds a lock on a repository, as restic's refusal message tells it."""

    pid: int
    host: str
    user: str
    exclusive: bool
    age_seconds: float | None

    def describe(self) -> str:
        """Return `PID 123 on nas (user root), created 2m ago` for messages."""
        age = f", created {self.age_seconds:.0f} s ago" if self.age_seconds is not None else ""
        return f"PID {self.pid} on {self.host} (user {self.user}){age}"


def json_lines(text: str) -> Iterator[dict[str, Any]]:
    """Given restic output, yield each line that is a JSON object (others are skipped)."""
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            yield value


def parse_version(text: str) -> tuple[int, int, int]:
    """Given `restic version` output, return (major, minor, patch); ValueError if unknown."""
    match = VERSION_PATTERN.search(text)
    if not match:
        raise ValueError(f"cannot read restic's version from {text.strip()[:80]!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def parse_backup_summary(stdout: str) -> BackupSummary | None:
    """Given `restic backup --json` output, return its summary, or None if there is none."""
    for message in json_lines(stdout):
        if message.get("message_type") == "summary":
            return BackupSummary(
                snapshot_id=str(message.get("snapshot_id") or ""),
                files_new=int(message.get("files_new", 0)),
                files_changed=int(message.get("files_changed", 0)),
                files_unmodified=int(message.get("files_unmodified", 0)),
                files_total=int(message.get("total_files_processed", 0)),
                bytes_new=int(message.get("data_added", 0)),
                bytes_total=int(message.get("total_bytes_processed", 0)),
                duration_seconds=float(message.get("total_duration", 0.0)),
            )
    return None


def _error_reason(error: Any) -> str:
    # restic 0.14 serialises Go's *PathError ({"Op", "Path", "Err": errno}); newer versions
    # send {"message": "..."}.
    if isinstance(error, dict):
        if error.get("message"):
            return str(error["message"])
        code = error.get("Err")
        operation = error.get("Op", "read")
        if isinstance(code, int):
            return f"{operation}: {os.strerror(code).lower()}"
        if code:
            return f"{operation}: {code}"
    return str(error) if error else "could not be read"


def parse_backup_errors(*outputs: str) -> list[UnreadableFile]:
    """Given backup stdout/stderr, return the files restic reported as unreadable, in order."""
    found: dict[str, UnreadableFile] = {}
    for text in outputs:
        for message in json_lines(text):
            if message.get("message_type") != "error":
                continue
            error = message.get("error")
            path = str(message.get("item") or (error or {}).get("Path") or "?")
            found.setdefault(path, UnreadableFile(path, _error_reason(error)))
    return list(found.values())


def parse_snapshots(stdout: str) -> list[Snapshot]:
    """Given `restic snapshots --json` output, return the snapshots oldest first."""
    try:
        documents = json.loads(stdout or "[]")
    except ValueError as error:
        raise ValueError(f"restic printed a snapshot list that is not JSON: {error}") from None
    snapshots = [
        Snapshot(
            id=str(item.get("id", "")),
            short_id=str(item.get("short_id") or str(item.get("id", ""))[:8]),
            time=str(item.get("time", "")),
            hostname=str(item.get("hostname", "")),
            paths=tuple(item.get("paths") or ()),
            tags=tuple(item.get("tags") or ()),
        )
        for item in documents or []
    ]
    return sorted(snapshots, key=lambda snapshot: timestamp_ns(snapshot.time) or 0)


def parse_ls_files(stdout: str) -> list[FileNode]:
    """Given `restic ls --json` output, return its regular files."""
    return [
        FileNode(str(node["path"]), int(node.get("size", 0)), timestamp_ns(node.get("mtime")))
        for node in json_lines(stdout)
        if node.get("struct_type") == "node" and node.get("type") == "file" and "path" in node
    ]


def parse_forget_counts(stdout: str) -> tuple[int, int]:
    """Given `restic forget --json` output (maybe followed by prune text), return
    (snapshots kept, snapshots removed) over all groups."""
    for line in stdout.splitlines():
        if line.startswith("["):
            try:
                groups = json.loads(line)
            except ValueError:
                continue
            return (sum(len(group.get("keep") or ()) for group in groups or []),
                    sum(len(group.get("remove") or ()) for group in groups or []))
    return 0, 0


def parse_restore_errors(stderr: str) -> dict[str, str]:
    """Given `restic restore` stderr, return {path: first error message} per failing file."""
    errors: dict[str, str] = {}
    for line in stderr.splitlines():
        match = RESTORE_ERROR_PATTERN.match(line.strip())
        if match:
            errors.setdefault(match.group("path"), match.group("message"))
    return errors


def parse_lock_holder(stderr: str) -> LockHolder | None:
    """Given restic's 'already locked' message, return who holds the lock, else None."""
    match = LOCK_PATTERN.search(stderr)
    if not match:
        return None
    age = LOCK_AGE_PATTERN.search(stderr)
    return LockHolder(
        pid=int(match.group("pid")),
        host=match.group("host"),
        user=match.group("user").strip(),
        exclusive=bool(match.group("exclusive")),
        age_seconds=parse_go_duration(age.group("age")) if age else None,
    )


def parse_go_duration(text: str) -> float | None:
    """Given a Go duration such as `1h2m3.5s` or `250ms`, return seconds, or None."""
    parts = GO_DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    return sum(float(number) * GO_DURATION_UNITS[unit] for number, unit in parts)


def timestamp_ns(text: object) -> int | None:
    """Given restic's RFC 3339 time with nanoseconds, return Unix nanoseconds, or None."""
    match = TIMESTAMP_PATTERN.match(str(text or ""))
    if not match:
        return None
    zone = "+00:00" if match.group("zone") == "Z" else match.group("zone")
    moment = datetime.fromisoformat(match.group("base") + zone)
    fraction = (match.group("fraction") or "0")[:9].ljust(9, "0")
    return int(moment.timestamp()) * 1_000_000_000 + int(fraction)
