"""Module payloads kept between runs (nasops.ansible.module_cache): reused while nothing they
are built from changes, never served stale once something does, kept private."""

from __future__ import annotations

import os
import pickle
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from fake_nas import PROJECT, SPEC, write_inventory

from nasops.ansible import TargetHost, run_playbook
from nasops.ansible.module_cache import UNUSED_SECONDS, fingerprint, payload_cache
from nasops.collection import ANSIBLE_DIRECTORY_VARIABLE
from nasops.provision import prepared_workspace

MODULE = Path("roles") / "fake_nas" / "library" / "fake_nas.py"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the fake NAS's project, free to edit."""
    copy = tmp_path / "project"
    shutil.copytree(PROJECT, copy)
    return copy


def test_the_fingerprint_follows_every_module_file_of_the_project(project: Path) -> None:
    before = fingerprint(project)
    assert fingerprint(project) == before
    module = project / MODULE
    module.write_text(module.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    edited = fingerprint(project)
    assert edited != before
    utilities = project / "plugins" / "module_utils"
    utilities.mkdir(parents=True)
    (utilities / "helper.py").write_text("VALUE = 1\n", encoding="utf-8")
    assert fingerprint(project) not in {before, edited}
    # Another copy of the same files is another project: its payloads name its own paths.
    other = project.parent / "other"
    shutil.copytree(project, other)
    assert fingerprint(other) != fingerprint(project)


def test_the_cache_is_private_and_only_long_unused_ones_are_removed(
        project: Path, tmp_path: Path) -> None:
    base = tmp_path / "payloads"
    directory = payload_cache(project, base)
    assert directory is not None and directory.parent == base
    assert (directory.stat().st_mode & 0o777, base.stat().st_mode & 0o777) == (0o700, 0o700)
    old, recent = base / "old", base / "recent"
    for other, age in ((old, UNUSED_SECONDS + 60), (recent, UNUSED_SECONDS - 3600)):
        other.mkdir()
        (other / "payload").write_text("x", encoding="utf-8")
        stamp = time.time() - age
        os.utime(other, (stamp, stamp))
    assert payload_cache(project, base) == directory
    assert not old.exists() and (recent / "payload").exists()
    # A directory others may write to could hand the NAS someone else's code: not used.
    directory.chmod(0o777)
    assert payload_cache(project, base) is None
    directory.chmod(0o700)
    base.chmod(0o770)
    assert payload_cache(project, base) is None
    base.chmod(0o700)
    # Nowhere to keep it is no error: Ansible builds the payloads in the run, as always.
    (tmp_path / "file").write_text("", encoding="utf-8")
    assert payload_cache(project, tmp_path / "file" / "payloads") is None


def test_bytecode_leaves_the_fingerprint_alone_and_a_cut_payload_is_dropped(
        project: Path, tmp_path: Path) -> None:
    before = fingerprint(project)
    cache = project / MODULE.parent / "__pycache__"
    cache.mkdir()
    (cache / "fake_nas.cpython-311.pyc").write_bytes(b"compiled")
    assert fingerprint(project) == before
    directory = payload_cache(project, tmp_path / "payloads")
    assert directory is not None
    whole = pickle.dumps({"zip_data": b"x" * 1000})
    (directory / "whole-ZIP_DEFLATED-none").write_bytes(whole)
    (directory / "cut-ZIP_DEFLATED-none").write_bytes(whole[:500])
    (directory / "empty-ZIP_DEFLATED-none").write_bytes(b"")
    (directory / "empty-ZIP_DEFLATED-none.lock").write_bytes(b"")
    # A crash can leave a payload cut short: Ansible would fail to load it in every run.
    payload_cache(project, tmp_path / "payloads")
    assert sorted(path.name for path in directory.iterdir()) == [
        "empty-ZIP_DEFLATED-none.lock", "whole-ZIP_DEFLATED-none"]


def test_a_cache_under_a_directory_others_may_change_is_not_used(
        project: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # someone else could swap the directories below for their own
    assert payload_cache(project, shared / "nasops" / "payloads") is None
    shared.chmod(0o700)
    assert payload_cache(project, shared / "nasops" / "payloads") is not None
    # Through a link, the directory it leads to is judged, and everything above it.
    link = tmp_path / "link"
    link.symlink_to(shared)
    shared.chmod(0o777)
    assert payload_cache(project, link / "nasops" / "payloads") is None
    shared.chmod(0o700)


def _converge(project: Path, inventory: Path) -> dict[str, Any]:
    target = TargetHost("local-nas", SPEC, inventory.parent / "secrets.yml")
    seen: list[dict[str, Any]] = []
    with prepared_workspace([target]) as workspace:
        result = run_playbook(workspace, str(inventory), check=True, on_event=seen.append,
                              root=project)
        local_temporary = workspace.directory / "ansible-local"
        assert local_temporary.is_dir()  # Ansible's temporary files are in the run's directory
    assert result.completed and not result.failed
    assert not local_temporary.exists()
    return next(event for event in seen if event["event"] == "result"
                and event["task"] == "Converge groups and quotas")


@pytest.mark.slow
def test_a_second_run_reuses_the_payload_and_an_edited_module_is_sent_as_edited(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ANSIBLE_DIRECTORY_VARIABLE, str(project))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    inventory = write_inventory(tmp_path)
    assert _converge(project, inventory)["msg"] == "converged with ********"
    [directory] = (tmp_path / "cache" / "nasops" / "module-payloads").iterdir()
    [payload] = [path for path in directory.iterdir() if "fake_nas" in path.name
                 and not path.name.endswith(".lock")]
    built = payload.stat().st_mtime_ns, payload.stat().st_ino

    assert _converge(project, inventory)["msg"] == "converged with ********"
    assert (payload.stat().st_mtime_ns, payload.stat().st_ino) == built  # not built again

    module = project / MODULE
    module.write_text(module.read_text(encoding="utf-8").replace(
        'msg=f"converged with', 'msg=f"settled with'), encoding="utf-8")
    assert _converge(project, inventory)["msg"] == "settled with ********"
    assert payload.exists()  # the earlier payloads stay until unused for a week
