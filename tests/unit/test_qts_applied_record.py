"""The specs a QNAP last matched, kept on its data volume and read back by plan (who gains and
who loses access), with this machine's own shell standing in for the NAS's."""

from __future__ import annotations

import json
import os
from pathlib import Path

from nasops.ansible.inventory import TargetHost
from nasops.provision.applied import MAXIMUM_RECORD_BYTES, access_section, applied_record
from nasops.qts.applied_record import (
    RECORD_NAME,
    keep_applied,
    read_applied_record,
)
from nasops.qts.folder_scripts import local_shell
from nasops.qts.nas_lock import LOCK_NAME, PARTIAL_RECORD, nas_lock

EXAMPLE = Path(__file__).resolve().parents[2] / "inventory" / "qts" / "wsm.yml"


def _target(tmp_path: Path, text: str) -> TargetHost:
    spec = tmp_path / "spec" / "wsm.yml"
    spec.parent.mkdir(exist_ok=True)
    spec.write_text(text, encoding="utf-8")
    return TargetHost("wsm-qnap", spec, None)


def test_kept_under_the_lock_read_back_and_compared_as_on_debian(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    text = EXAMPLE.read_text(encoding="utf-8")
    target = _target(tmp_path, text)
    # Before any apply: nothing kept, and plan says how to see who will reach what.
    reading = read_applied_record(local_shell, str(volume), "wsm-qnap")
    assert (reading.found, reading.problem) == (False, "")
    record = applied_record(target)  # read with the spec, before the apply
    # Someone saves the spec while the apply runs: the NAS keeps what was applied.
    target.spec_path.write_text(text + "# saved meanwhile\n", encoding="utf-8")
    with nas_lock(local_shell, str(volume), "wsm-qnap"):
        assert keep_applied(local_shell, str(volume), "wsm-qnap", record) is None
    target.spec_path.write_text(text, encoding="utf-8")
    assert sorted(os.listdir(volume)) == [RECORD_NAME]  # the lock and its partial file gone
    assert (volume / RECORD_NAME).stat().st_mode & 0o077 == 0
    reading = read_applied_record(local_shell, str(volume), "wsm-qnap")
    assert reading.found and not reading.problem and reading.applied_at.endswith(" UTC")
    assert reading.texts == [("wsm.yml", text)]
    assert "nobody gains or loses access" in "\n".join(
        access_section(reading, target.spec_paths))
    # The spec about to be applied takes a person out of a group: plan names who loses what.
    target.spec_path.write_text(text.replace("groups: [Direction]}", "groups: []}", 1),
                                encoding="utf-8")
    lines = "\n".join(access_section(reading, target.spec_paths))
    assert "nobody gains or loses access" not in lines and "can no longer" in lines, lines


def test_a_link_or_a_folder_in_the_record_s_place_is_never_written_through(
        tmp_path: Path) -> None:
    volume, elsewhere = tmp_path / "volume", tmp_path / "elsewhere.txt"
    volume.mkdir()
    elsewhere.write_text("not nasops'\n", encoding="utf-8")
    (volume / RECORD_NAME).symlink_to(elsewhere)
    target = _target(tmp_path, EXAMPLE.read_text(encoding="utf-8"))
    odd = read_applied_record(local_shell, str(volume), "wsm-qnap")
    assert odd.found and "not a regular file" in odd.problem
    with nas_lock(local_shell, str(volume), "wsm-qnap"):
        assert keep_applied(local_shell, str(volume), "wsm-qnap", applied_record(target)) is None
    assert elsewhere.read_text(encoding="utf-8") == "not nasops'\n"  # replaced, not followed
    assert not (volume / RECORD_NAME).is_symlink()
    (volume / RECORD_NAME).unlink()
    (volume / RECORD_NAME).mkdir()
    with nas_lock(local_shell, str(volume), "wsm-qnap"):
        warning = keep_applied(local_shell, str(volume), "wsm-qnap", applied_record(target))
    assert warning is not None and "could not be kept" in warning
    assert not (volume / LOCK_NAME).exists()  # released: nothing of the record left in it
    assert list((volume / RECORD_NAME).iterdir()) == []


def test_what_the_nas_sends_back_is_bounded_and_checked(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    record = volume / RECORD_NAME
    for content, problem in (
            ("{not json", "not a record nasops wrote"),
            ('["a list"]', "not a record nasops wrote"),
            ('{"specs": [{"file": 3}]}', "not a record nasops wrote"),
            ("x" * (MAXIMUM_RECORD_BYTES + 10), "larger than plan reads")):
        record.write_text(content, encoding="utf-8")
        reading = read_applied_record(local_shell, str(volume), "wsm-qnap")
        assert reading.found and reading.problem == problem, content[:40]
    # Shown in the plan: no control character the NAS kept reaches the terminal.
    record.write_text(json.dumps({"applied_at": "\x1b[2Jnow", "specs": [
        {"file": "wsm\n.yml", "text": "version: 1\n"}]}), encoding="utf-8")
    reading = read_applied_record(local_shell, str(volume), "wsm-qnap")
    assert "\x1b" not in reading.applied_at and "\n" not in reading.texts[0][0]
    os.mkfifo(volume / "fifo")
    record.unlink()
    (volume / "fifo").rename(record)
    reading = read_applied_record(local_shell, str(volume), "wsm-qnap")
    assert reading.found and "not a regular file" in reading.problem  # no hang on a FIFO


def test_an_apply_stopped_while_keeping_the_record_still_releases_the_lock(
        tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    with nas_lock(local_shell, str(volume), "wsm-qnap"):
        # What a kill in the middle of the keep script's cat leaves behind.
        (volume / LOCK_NAME / PARTIAL_RECORD).write_text('{"vers', encoding="utf-8")
    assert os.listdir(volume) == []
