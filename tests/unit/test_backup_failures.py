"""Each failure gets its own error class and lands in the status file: wrong password,
unreachable or missing repository, missing source, full disk, damaged data."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from test_backup_support import (
    data_packs,
    features,
    make_config,
    make_repository,
    needs_restic,
    write_tree,
)

from nasops.backup.actions.check import check_repository
from nasops.backup.actions.drill import drill_repository
from nasops.backup.actions.run import run_backups
from nasops.backup.errors import (
    IntegrityError,
    RepositoryFullError,
    RepositoryUnreachableError,
    SourceMissingError,
    WrongPasswordError,
)
from nasops.backup.status import read_status

pytestmark = [needs_restic, pytest.mark.slow]


def _last_backup(config_state: str, name: str = "local") -> dict[str, object]:
    attempt: dict[str, object] = read_status(config_state, name)["backup"]["last_attempt"]
    return attempt


def test_wrong_password(tmp_path: Path) -> None:
    write_tree(tmp_path / "src", {"a.txt": "a"})
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not the password\n", encoding="utf-8")
    _path, config = make_config(tmp_path, repositories=[
        {"name": "local", "url": str(make_repository(tmp_path / "repo")),
         "password_file": str(wrong)}])
    [outcome] = run_backups(config, features())
    assert isinstance(outcome.error, WrongPasswordError)
    attempt = _last_backup(config.state_directory)
    assert attempt["result"] == "failed" and attempt["error_kind"] == "wrong_password"
    assert "wrong password" in str(attempt["message"])


@pytest.mark.parametrize("url", ["{tmp}/no-such-disk/restic", "rest:http://127.0.0.1:9/repo/"])
def test_unreachable_repository(tmp_path: Path, url: str) -> None:
    write_tree(tmp_path / "src", {"a.txt": "a"})
    _path, config = make_config(tmp_path, repositories=[
        {"name": "local", "url": url.format(tmp=tmp_path)}])
    [outcome] = run_backups(config, features())
    assert isinstance(outcome.error, RepositoryUnreachableError)
    assert _last_backup(config.state_directory)["error_kind"] == "repository_unreachable"


def test_missing_source_runs_nothing(tmp_path: Path) -> None:
    write_tree(tmp_path / "src", {"a.txt": "a"})
    _path, config = make_config(tmp_path, sources=[str(tmp_path / "src"),
                                                   str(tmp_path / "gone")])
    [outcome] = run_backups(config, features())
    assert isinstance(outcome.error, SourceMissingError)
    assert str(tmp_path / "gone") in str(outcome.error)
    assert _last_backup(config.state_directory)["error_kind"] == "source_missing"
    assert not list((tmp_path / "repo-local" / "snapshots").iterdir()), "no snapshot made"


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_full_repository(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "nasops-test", str(disk)],
                   check=True)
    try:
        repository = make_repository(disk / "restic")
        write_tree(tmp_path / "src", {"big.bin": os.urandom(3_000_000)})
        _path, config = make_config(tmp_path, repositories=[
            {"name": "local", "url": str(repository)}])
        [outcome] = run_backups(config, features())
        assert isinstance(outcome.error, RepositoryFullError), outcome.error
        assert "no space left on device" in str(outcome.error)
        assert _last_backup(config.state_directory)["error_kind"] == "repository_full"
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_damaged_pack_fails_check_and_drill(tmp_path: Path) -> None:
    files = {f"docs/file-{number:02}.bin": os.urandom(20_000) for number in range(12)}
    write_tree(tmp_path / "src", files)
    _path, config = make_config(tmp_path)
    assert run_backups(config, features())[0].result == "success"
    repository = config.repositories[0]
    assert check_repository(config, repository, features(), "100%").result == "success"

    [pack] = data_packs(Path(repository.url), tmp_path / "password")
    pack.chmod(0o600)
    with pack.open("r+b") as handle:
        handle.seek(100_000)
        handle.write(b"\0" * 64)

    check = check_repository(config, repository, features(), "100%")
    assert isinstance(check.error, IntegrityError)
    assert "Pack ID does not match" in str(check.error)
    status = read_status(config.state_directory, "local")
    assert status["check"]["last_attempt"]["result"] == "failed"
    assert status["check"]["last_attempt"]["error_kind"] == "integrity"
    assert status["check"]["last_success"]["read_data_subset"] == "100%"

    drill = drill_repository(config, repository, features())
    assert isinstance(drill.error, IntegrityError)
    problems = drill.record["problems"]
    assert problems and all(item["problem"] == "unreadable" for item in problems)
    assert {item["path"] for item in problems} <= {str(tmp_path / "src" / name)
                                                  for name in files}
    assert drill.record["sampled_files"] == 12
    assert drill.record["verified_files"] == 12 - len(problems)
    recorded = read_status(config.state_directory, "local")["drill"]["last_attempt"]
    assert recorded["result"] == "failed" and recorded["problem_count"] == len(problems)
    assert not list((tmp_path / "scratch").iterdir())


def test_unwritable_state_still_backs_up_but_fails(tmp_path: Path) -> None:
    write_tree(tmp_path / "src", {"a.txt": "a"})
    blocker = tmp_path / "state-is-a-file"
    blocker.write_text("", encoding="utf-8")
    _path, config = make_config(tmp_path, state_directory=str(blocker))
    [outcome] = run_backups(config, features())
    assert outcome.result == "failed" and outcome.record["error_kind"] == "status_unwritable"
    assert outcome.record["snapshot_id"], "the snapshot was made all the same"
    assert list((Path(config.repositories[0].url) / "snapshots").iterdir())
