"""The apply and drift records on the NAS: their schema, a writer and a reader.

`/var/lib/nasops/apply.json` is written at the end of every apply, `/var/lib/nasops/drift.json`
by the periodic read-only drift check; the exporter reads both on each scrape (small files).
Schema (version 1) in docs/exporter.md. Times are RFC 3339 strings in UTC; readers also accept
Unix seconds so that a shell script can write a record with `date +%s`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ansible_collections.nasops.nas.plugins.module_utils.host_files import write_atomically

RECORD_VERSION = 1
APPLY_FILE = "apply.json"
DRIFT_FILE = "drift.json"
# `running` while an apply runs (or left by one that died with its NAS); `interrupted`: a
# signal or a lost controller stopped it (nasops.ansible.lock_holder writes apply.json).
APPLY_RESULTS = ("success", "failure", "refused", "interrupted", "running")
DRIFT_RESULTS = ("clean", "drift", "error")



class RecordError(ValueError):
    """A record file exists but cannot be read as the documented schema."""


@dataclass(frozen=True)
class ApplyRecord:
    """How the last apply went."""

    finished_at: float | None
    """None while it runs."""
    result: str
    """success, failure (a task failed), refused (the pre-check refused to touch anything),
    interrupted (stopped by a signal or a lost controller) or running."""
    changed_items: int = 0
    started_at: float | None = None
    nasops_version: str = ""


@dataclass(frozen=True)
class DriftRecord:
    """What the last read-only drift check found."""

    checked_at: float
    result: str
    """clean (nothing differs), drift (drifted_items differ) or error (the check failed)."""
    drifted_items: int = 0
    drifted_by_kind: Mapping[str, int] = field(default_factory=dict)
    message: str = ""


def format_time(moment: float) -> str:
    """Given Unix seconds, return the RFC 3339 UTC form used in records."""
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: Any, where: str) -> float:
    """Given an RFC 3339 string (with offset) or Unix seconds, return Unix seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return moment.timestamp()
    raise RecordError(f"{where}: expected an RFC 3339 time with offset or Unix seconds, "
                      f"got {value!r}")


def _integer(data: Mapping[str, Any], key: str, where: str) -> int:
    value = data.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RecordError(f"{where}: {key} must be a whole number ≥ 0, got {value!r}")
    return value


def _choice(data: Mapping[str, Any], key: str, choices: tuple[str, ...], where: str) -> str:
    value = data.get(key)
    if value not in choices:
        raise RecordError(f"{where}: {key} must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _load(path: Path) -> Mapping[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise RecordError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise RecordError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(data, Mapping):
        raise RecordError(f"{path}: expected a JSON object")
    if data.get("version") != RECORD_VERSION:
        raise RecordError(f"{path}: unsupported version {data.get('version')!r} "
                          f"(this exporter reads version {RECORD_VERSION})")
    return data


def read_apply_record(path: Path) -> ApplyRecord | None:
    """Given apply.json's path, return the record, None if absent; raise RecordError."""
    data = _load(path)
    if data is None:
        return None
    where = str(path)
    started = data.get("started_at")
    version = data.get("nasops_version", "")
    result = _choice(data, "result", APPLY_RESULTS, where)
    if result == "running" and started is None:
        raise RecordError(f"{where}: a running apply's record needs started_at")
    finished = data.get("finished_at")
    return ApplyRecord(
        finished_at=(None if result == "running" and finished is None
                     else parse_time(finished, f"{where}: finished_at")),
        result=result,
        changed_items=_integer(data, "changed_items", where),
        started_at=None if started is None else parse_time(started, f"{where}: started_at"),
        nasops_version=version if isinstance(version, str) else "",
    )


def read_drift_record(path: Path) -> DriftRecord | None:
    """Given drift.json's path, return the record, None if absent; raise RecordError."""
    data = _load(path)
    if data is None:
        return None
    where = str(path)
    kinds = data.get("drifted_by_kind", {})
    if not isinstance(kinds, Mapping):
        raise RecordError(f"{where}: drifted_by_kind must be an object of counts")
    message = data.get("message", "")
    return DriftRecord(
        checked_at=parse_time(data.get("checked_at"), f"{where}: checked_at"),
        result=_choice(data, "result", DRIFT_RESULTS, where),
        drifted_items=_integer(data, "drifted_items", where),
        drifted_by_kind={str(kind): _integer(kinds, kind, f"{where}: drifted_by_kind")
                         for kind in kinds},
        message=message if isinstance(message, str) else "",
    )


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    # Written to a temporary file then renamed: a scrape never sees half a record.
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    write_atomically(str(path), text.encode("utf-8"), 0o644)


def write_apply_record(path: Path, record: ApplyRecord) -> None:
    """Write record to path atomically in the version 1 schema."""
    data: dict[str, Any] = {"version": RECORD_VERSION,
                            "result": record.result, "changed_items": record.changed_items,
                            "nasops_version": record.nasops_version}
    if record.finished_at is not None:
        data["finished_at"] = format_time(record.finished_at)
    if record.started_at is not None:
        data["started_at"] = format_time(record.started_at)
    _write_json(path, data)


def write_drift_record(path: Path, record: DriftRecord) -> None:
    """Write record to path atomically in the version 1 schema."""
    _write_json(path, {"version": RECORD_VERSION, "checked_at": format_time(record.checked_at),
                       "result": record.result, "drifted_items": record.drifted_items,
                       "drifted_by_kind": dict(record.drifted_by_kind),
                       "message": record.message})
