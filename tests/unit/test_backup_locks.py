"""Locks held by real restic processes: a live holder is waited for, then named; a stale
lock (its process died) is removed and the operation goes on.

The holder is `restic backup --stdin` reading from a pipe the test keeps open: a real
restic lock, held exactly as long as the test wants.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_backup_support import features, make_config, needs_restic, write_tree

from nasops.backup.actions.check import check_repository
from nasops.backup.actions.run import run_backups
from nasops.backup.errors import RepositoryLockedError
from nasops.backup.status import read_status

pytestmark = [needs_restic, pytest.mark.slow]


@contextmanager
def lock_holder(repository: Path, password_file: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Given a repository, yield a live restic process holding a (non-exclusive) lock."""
    environment = {**os.environ, "RESTIC_REPOSITORY": str(repository),
                   "RESTIC_PASSWORD_FILE": str(password_file)}
    process = subprocess.Popen(
        ["restic", "--no-cache", "backup", "--stdin", "--stdin-filename", "held"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=environment)
    try:
        deadline = time.monotonic() + 20
        # Wait for a complete lock file: one killed while still empty would be ignored by
        # restic (it cannot read it) instead of being a stale lock.
        while not any(path.stat().st_size > 0 for path in (repository / "locks").iterdir()):
            assert time.monotonic() < deadline, "restic never took its lock"
            assert process.poll() is None, "restic ended before locking"
            time.sleep(0.05)
        time.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_live_lock_is_waited_for_then_named(tmp_path: Path) -> None:
    write_tree(tmp_path / "src", {"a.txt": "a\n"})
    _path, config = make_config(tmp_path, lock_wait_seconds=1)
    repository = config.repositories[0]
    with lock_holder(Path(repository.url), tmp_path / "password") as holder:
        started = time.monotonic()
        outcome = check_repository(config, repository, features())
        waited = time.monotonic() - started
        assert isinstance(outcome.error, RepositoryLockedError)
        assert outcome.error.holder is not None and outcome.error.holder.pid == holder.pid
        assert f"locked by PID {holder.pid} on" in str(outcome.error)
        assert "still locked after waiting 1 s" in str(outcome.error)
        assert waited >= 1, "it waited before giving up"
        status = read_status(config.state_directory, "local")
        assert status["check"]["last_attempt"]["error_kind"] == "repository_locked"

        # A backup shares the lock, but the retention (an exclusive prune) cannot run:
        # the snapshot is made and the run is a warning that says why.
        [run] = run_backups(config, features())
        assert run.result == "warning"
        assert run.record["snapshot_id"]
        assert run.record["forget"]["result"] == "failed"
        assert "retention not applied" in run.record["message"]
        assert holder.poll() is None, "the live holder was left alone"
        holder.stdin.close()  # type: ignore[union-attr]
        holder.wait(timeout=20)
    assert check_repository(config, repository, features()).result == "success"


def test_stale_lock_of_a_dead_process_is_removed(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    write_tree(tmp_path / "src", {"a.txt": "a\n"})
    _path, config = make_config(tmp_path, lock_wait_seconds=30)
    repository = config.repositories[0]
    locks = Path(repository.url) / "locks"
    with lock_holder(Path(repository.url), tmp_path / "password") as holder:
        holder.kill()
        holder.wait()
    assert list(locks.iterdir()), "the killed restic left its lock behind"
    started = time.monotonic()
    outcome = check_repository(config, repository, features())
    assert outcome.result == "success", outcome.record["message"]
    assert time.monotonic() - started < 15, "a stale lock is removed, not waited for"
    assert not list(locks.iterdir())
    assert f"removing the stale lock of PID {holder.pid}" in caplog.text
