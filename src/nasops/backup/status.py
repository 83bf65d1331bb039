"""One status file per repository, written atomically, read by `nasops backup status` and the
exporter (nothing runs restic on a Prometheus scrape).

Path: `<state_directory>/<repository>.json` (default `/var/lib/nasops/backup/usb.json`).
Timestamps are Unix seconds (float, UTC); sizes are bytes; durations are seconds.
Schema, version 1 (every section may be absent until its first run)::

    {
      "version": 1,
      "repository": "usb",
      "updated_at": 1732300000.5,
      "restic_version": "0.14.0",
      "backup": {
        "last_attempt": {
          "started_at": 1732300000.0, "finished_at": 1732300042.1,
          "result": "running" | "success" | "warning" | "failed",
          "duration_seconds": 42.1,            # wall time of backup + forget
          "error_kind": null | "repository_unreachable" | "wrong_password" | ...,
          "message": null | "plain sentence",
          "snapshot_id": "1a2b3c4d" | null,
          "files_new": 12, "files_changed": 3, "files_unmodified": 19985,
          "files_total": 20000,                # files in this snapshot
          "bytes_new": 1048576,                # data added to the repository (deduplicated)
          "bytes_total": 524288000,            # size of the files in this snapshot
          "restic_duration_seconds": 40.2,
          "unreadable_files": [{"path": "/srv/nas/x", "reason": "open: permission denied"}],
          "unreadable_file_count": 1,          # the list keeps the first 100
          "snapshot_count": 23,                # nasops snapshots after retention; null
                                               # when the retention failed
          "forget": {"result": "success" | "failed", "removed_snapshots": 1,
                     "kept_snapshots": 23, "message": null}
        },
        "last_success": { same fields, the last attempt that made a snapshot
                          (result success or warning) }
      },
      "check": {
        "last_attempt": {"started_at", "finished_at", "result", "duration_seconds",
                         "error_kind", "message", "read_data_subset": "5%"},
        "last_success": { same fields }
      },
      "drill": {
        "last_attempt": {"started_at", "finished_at", "result", "duration_seconds",
                         "error_kind", "message", "snapshot_id", "sampled_files": 50,
                         "verified_files": 50, "compared_with_source": 47,
                         "problems": [{"path": "/srv/nas/x", "problem": "missing" |
                                       "unreadable" | "size_differs" | "differs_from_source",
                                       "detail": "..."}],
                         "problem_count": 0},
        "last_success": { same fields }
      }
    }

A "running" attempt whose process died stays "running": readers compare `started_at` with
the time they expect a run to take. Reading never raises: a missing file gives a document
with only `version` and `repository`; an unreadable or corrupt one gives that plus
`"error": {"kind": "unreadable_status" | "corrupt_status", "message": ...}`.
"""

from __future__ import annotations

import fcntl
import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ansible_collections.nasops.nas.plugins.module_utils.host_files import write_atomically

from nasops.backup.errors import StatusWriteError

STATUS_VERSION = 1
MAX_LISTED_FILES = 100
SECTIONS = ("backup", "check", "drill")


def status_path(state_directory: str | Path, repository: str) -> Path:
    """Given the state directory and a repository name, return its status file path."""
    return Path(state_directory) / f"{repository}.json"


def initialised_marker(state_directory: str | Path, repository: str) -> Path:
    """Given the state directory and a repository name, return the marker `nasops-backup
    init` leaves while it found the repository there: an apply's real pass retries `init`
    only for a repository without one (nasops.nas.converged's `present`)."""
    return Path(state_directory) / f"{repository}.initialised"


def mark_initialised(state_directory: str | Path, repository: str, found: bool) -> None:
    """Leave (found) or remove the repository's marker; never raise: without it the next
    real pass only tries `init` again."""
    path = initialised_marker(state_directory, repository)
    try:
        if found:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
            path.write_text("initialised\n", encoding="utf-8")
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


def empty_status(repository: str) -> dict[str, Any]:
    """Given a repository name, return the document of a repository never run."""
    return {"version": STATUS_VERSION, "repository": repository}


def read_status(state_directory: str | Path, repository: str) -> dict[str, Any]:
    """Given the state directory and a repository, return its status document; never raise."""
    path = status_path(state_directory, repository)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return empty_status(repository)
    except OSError as error:
        return {**empty_status(repository),
                "error": {"kind": "unreadable_status", "message": f"{path}: {error}"}}
    try:
        document = json.loads(data.decode("utf-8"))
    except ValueError as error:
        return {**empty_status(repository),
                "error": {"kind": "corrupt_status", "message": f"{path}: not JSON: {error}"}}
    problem = _schema_problem(document)
    if problem:
        return {**empty_status(repository),
                "error": {"kind": "corrupt_status", "message": f"{path}: {problem}"}}
    return dict(document)


def _schema_problem(document: object) -> str | None:
    if not isinstance(document, dict):
        return "not a JSON object"
    if document.get("version") != STATUS_VERSION:
        return f"unknown status version {document.get('version')!r}"
    for section in SECTIONS:
        value = document.get(section, {})
        if not isinstance(value, dict) or not all(
            isinstance(value.get(key, {}), dict) for key in ("last_attempt", "last_success")
        ):
            return f"section '{section}' is malformed"
    return None


@contextmanager
def _locked(state_directory: Path, repository: str) -> Iterator[None]:
    # Serialise read-modify-write between concurrent nasops processes (a check timer and a
    # backup timer may finish at the same moment); readers need no lock (atomic replace).
    lock_path = state_directory / f".{repository}.lock"
    with open(lock_path, "a", encoding="utf-8") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def write_json_atomically(path: Path, document: Mapping[str, Any]) -> None:
    """Given a path and a document, write it as JSON so readers see old or new, never half.
    0644: the exporter runs as its own user, and the status holds no secret."""
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_atomically(str(path), text.encode("utf-8"), 0o644, make_directory=False)


def record(
    state_directory: str | Path,
    repository: str,
    section: str,
    attempt: Mapping[str, Any],
    *,
    success: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Given a section (`backup`, `check`, `drill`) and its attempt, store it; return the doc.

    `success` also makes the attempt the section's `last_success`. A corrupt previous file is
    replaced rather than kept, so that one bad write cannot stop the status for good.
    """
    if section not in SECTIONS:
        raise ValueError(f"unknown status section {section!r}")
    directory = Path(state_directory)
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o755)
        with _locked(directory, repository):
            document = read_status(directory, repository)
            document.pop("error", None)
            part = dict(document.get(section, {}))
            part["last_attempt"] = dict(attempt)
            if success:
                part["last_success"] = dict(attempt)
            document[section] = part
            document.update(extra or {})
            document["updated_at"] = time.time()
            write_json_atomically(status_path(directory, repository), document)
    except OSError as error:
        raise StatusWriteError(
            f"cannot write the status of '{repository}' in {directory}: {error}") from None
    return document
