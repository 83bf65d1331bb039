"""The QTS apply lock, with this machine's own shell standing in for the NAS's."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasops.qts.folder_scripts import FolderTreeError, local_shell
from nasops.qts.nas_lock import LOCK_NAME, nas_lock


def test_one_apply_at_a_time_and_a_killed_one_is_named(tmp_path: Path) -> None:
    with nas_lock(local_shell, str(tmp_path), "wsm-qnap"):
        holder = (tmp_path / LOCK_NAME / "holder").read_text()
        assert "(process " in holder and " UTC" in holder
        with pytest.raises(FolderTreeError, match=r"another apply holds this NAS \(.*process"), \
                nas_lock(local_shell, str(tmp_path), "wsm-qnap"):
            pass
        assert (tmp_path / LOCK_NAME).is_dir(), "a refused taker must not release the lock"
    assert not (tmp_path / LOCK_NAME).exists()
    # Released on an error inside, too.
    with pytest.raises(RuntimeError), nas_lock(local_shell, str(tmp_path), "wsm-qnap"):
        raise RuntimeError
    assert not (tmp_path / LOCK_NAME).exists()
    # A lock left by a killed apply: named, with how to remove it; never taken over.
    (tmp_path / LOCK_NAME).mkdir()
    (tmp_path / LOCK_NAME / "holder").write_text("laptop-it (process 42) since 2026-12-01\n")
    with pytest.raises(FolderTreeError, match=r"laptop-it .* remove .*nasops-apply\.lock"), \
            nas_lock(local_shell, str(tmp_path), "wsm-qnap"):
        pass
    assert (tmp_path / LOCK_NAME / "holder").read_text().startswith("laptop-it")


def test_a_lock_that_cannot_be_taken_says_why_not_that_another_apply_holds_it(
        tmp_path: Path) -> None:
    with pytest.raises(FolderTreeError, match=r"could not be taken: .*No such file"), \
            nas_lock(local_shell, str(tmp_path / "absent-volume"), "wsm-qnap"):
        pass
