"""The drift check's copy of the desired state, kept by nasops.nas.tree (issue 18): written
only when it differs, from the very file the trees converged from, and only in a real run."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from ansible_collections.nasops.nas.plugins.module_utils import desired_copy
from test_tree_module import SPEC, run_tree_task, share  # noqa: F401  (the fixture)


def test_the_copy_of_a_whole_desired_state_is_its_file_as_it_is() -> None:
    raw = b'{"version": 1, "shares": []}\n'
    assert desired_copy.copy_content(raw, json.loads(raw)) == raw
    # A shares list (a file of the list alone, or the role's variable) is kept under `shares`.
    shares = [{"path": "/srv/nas/wsm/Afrique", "folders": []}]
    for given in (json.dumps(shares).encode(), None):
        kept = json.loads(desired_copy.copy_content(given, shares))
        assert kept == {"shares": shares}


def test_the_copy_is_written_whole_for_root_alone_and_compared_byte_for_byte(
        tmp_path: Path) -> None:
    path = tmp_path / "etc" / "nasops" / "desired.json"
    assert not desired_copy.is_current(str(path), b"{}")
    desired_copy.write_copy(str(path), b'{"a": 1}')
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert desired_copy.is_current(str(path), b'{"a": 1}')
    assert not desired_copy.is_current(str(path), b'{"a": 2}')
    assert not desired_copy.is_current(str(path), b'{"a": 1} ')
    assert os.listdir(path.parent) == ["desired.json"]  # no temporary file left
    # Personal data: a copy made readable by others (by hand, a restore) is not current.
    path.chmod(0o644)
    assert not desired_copy.is_current(str(path), b'{"a": 1}')


def test_the_drift_check_is_restarted_only_where_it_is_installed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def run(argv: list[str], **_: object) -> subprocess.CompletedProcess[bytes]:
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 1 if len(calls) > 1 else 0, b"", b"denied")

    # Stand-ins for systemd on this controller (no drift check unit here); the lab suite
    # runs the real restart (the day-in-the-life and monitoring tests read its record).
    monkeypatch.setattr(desired_copy.subprocess, "run", run)
    unit = tmp_path / "nasops-drift-check.service"
    monkeypatch.setattr(desired_copy, "DRIFT_CHECK_UNIT_FILE", str(unit))
    assert desired_copy.start_drift_check() is None and calls == []  # not installed
    unit.write_text("[Service]\n", encoding="utf-8")
    assert desired_copy.start_drift_check() is None
    # A restart, not a start: a check already running read the old copy.
    assert calls == [["systemctl", "restart", "--no-block", "nasops-drift-check.service"]]
    assert "denied" in str(desired_copy.start_drift_check())


def _copies(result: dict) -> list[str]:
    return [change["target"] for change in result["changes"]
            if change["kind"] == "desired copy"]


def test_the_tree_module_keeps_the_copy_only_after_a_real_run(share: Path,  # noqa: F811
                                                               tmp_path: Path) -> None:
    desired = tmp_path / "desired.json"
    desired.write_text(json.dumps({"version": 1, "shares": [
        {"path": str(share), "renamed_from": None, "folders": SPEC}]}), encoding="utf-8")
    copy = tmp_path / "etc" / "desired.json"
    arguments = {"shares_file": str(desired), "desired_copy": str(copy)}

    planned = run_tree_task(tmp_path, arguments, check=True)
    assert _copies(planned) == [str(copy)] and not copy.exists()  # check mode writes nothing
    applied = run_tree_task(tmp_path, arguments, check=False)
    assert _copies(applied) == [str(copy)]
    assert copy.read_bytes() == desired.read_bytes()  # the file as nasops apply wrote it
    again = run_tree_task(tmp_path, arguments, check=False)
    assert not again["changed"] and _copies(again) == []

    # A hand-made change of the copy is found like any other change, and undone.
    copy.write_text("{}", encoding="utf-8")
    assert _copies(run_tree_task(tmp_path, arguments, check=True)) == [str(copy)]
    # The real pass of an apply that found only the copy stale lists its path alone in
    # `only`: no share is walked, the copy is written.
    alone = run_tree_task(tmp_path, {**arguments, "only": [str(copy)]}, check=False)
    assert alone["counts"]["folders"] == 0 and _copies(alone) == [str(copy)]
    assert copy.read_bytes() == desired.read_bytes()
    # Narrowed without the copy (the role run by hand on some shares): the copy would claim
    # shares that were not walked, so it is left as it is.
    copy.write_text("{}", encoding="utf-8")
    narrowed = run_tree_task(tmp_path, {**arguments, "only": [str(share)]}, check=False)
    assert _copies(narrowed) == [] and copy.read_text(encoding="utf-8") == "{}"
