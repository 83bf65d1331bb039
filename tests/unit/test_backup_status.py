"""Status files: atomic writes, sections kept apart, and reading that never crashes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from nasops.backup.errors import StatusWriteError
from nasops.backup.status import read_status, record, status_path


def test_missing_status_is_an_empty_document(tmp_path: Path) -> None:
    assert read_status(tmp_path, "usb") == {"version": 1, "repository": "usb"}


@pytest.mark.parametrize(("content", "message"), [
    ('{"version": 1, "backup": ', "not JSON"),
    ("[1, 2]", "not a JSON object"),
    ('{"version": 99}', "unknown status version 99"),
    ('{"version": 1, "check": {"last_attempt": "yesterday"}}', "section 'check' is malformed"),
    ("\udcff", "not JSON"),
])
def test_corrupt_status_gives_an_error_object(tmp_path: Path, content: str, message: str) -> None:
    status_path(tmp_path, "usb").write_bytes(content.encode("utf-8", "surrogateescape"))
    document = read_status(tmp_path, "usb")
    assert document["repository"] == "usb"
    assert document["error"]["kind"] == "corrupt_status"
    assert message in document["error"]["message"]


def test_record_keeps_sections_and_last_success(tmp_path: Path) -> None:
    state = tmp_path / "state"
    record(state, "usb", "backup", {"result": "success", "snapshot_id": "aa"}, success=True)
    record(state, "usb", "check", {"result": "failed"}, extra={"restic_version": "0.14.0"})
    document = record(state, "usb", "backup", {"result": "failed", "snapshot_id": None})
    assert document["backup"]["last_attempt"]["result"] == "failed"
    assert document["backup"]["last_success"]["snapshot_id"] == "aa"
    assert document["check"] == {"last_attempt": {"result": "failed"}}
    assert document["restic_version"] == "0.14.0"
    assert read_status(state, "usb") == json.loads(status_path(state, "usb").read_text())
    assert read_status(state, "usb")["updated_at"] == document["updated_at"]
    # Readable by the exporter's user, and no temporary file left behind.
    assert stat.S_IMODE(status_path(state, "usb").stat().st_mode) == 0o644
    assert sorted(path.name for path in state.iterdir()) == [".usb.lock", "usb.json"]


def test_record_replaces_a_corrupt_file(tmp_path: Path) -> None:
    status_path(tmp_path, "usb").write_text("{{{", encoding="utf-8")
    record(tmp_path, "usb", "drill", {"result": "success"}, success=True)
    document = read_status(tmp_path, "usb")
    assert "error" not in document
    assert document["drill"]["last_success"] == {"result": "success"}


def test_unwritable_state_directory_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the directory should be", encoding="utf-8")
    with pytest.raises(StatusWriteError, match="cannot write the status of 'usb'"):
        record(blocker, "usb", "backup", {"result": "success"})
    with pytest.raises(ValueError):
        record(tmp_path, "usb", "backups", {"result": "success"})
