"""The repository password never shows: not in any restic argv (read from /proc while
restic runs), not in logs, status files or output; credentials in a URL are masked too."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
from test_backup_support import PASSWORD, features, make_config, needs_restic, write_tree

from nasops.backup.actions.run import run_backups
from nasops.backup.errors import RepositoryUnreachableError

pytestmark = [needs_restic, pytest.mark.slow]


def _restic_processes(password_file: Path) -> dict[int, tuple[bytes, bytes]]:
    """Return {pid: (cmdline, environ)} of running processes given our password file."""
    marker = f"RESTIC_PASSWORD_FILE={password_file}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            if marker in environ.split(b"\0"):
                found[int(entry.name)] = ((entry / "cmdline").read_bytes(), environ)
        except OSError:
            continue
    return found


def test_password_never_in_argv_logs_or_status(tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    write_tree(tmp_path / "src", {f"f{number}.txt": "x" * 1000 for number in range(50)})
    _path, config = make_config(tmp_path)
    password_file = tmp_path / "password"
    seen: dict[int, tuple[bytes, bytes]] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.update(_restic_processes(password_file))
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    caplog.set_level(logging.DEBUG)
    try:
        [outcome] = run_backups(config, features())
    finally:
        done.set()
        watcher.join()
    assert outcome.result == "success"
    assert seen, "restic was seen running"
    for command_line, environ in seen.values():
        assert PASSWORD.encode() not in command_line
        assert config.repositories[0].url.encode() not in command_line
        assert b"RESTIC_PASSWORD=" + PASSWORD.encode() not in environ
        assert f"RESTIC_REPOSITORY={config.repositories[0].url}".encode() in environ.split(b"\0")
    assert "running restic backup" in caplog.text, "the runner logged the commands"
    assert PASSWORD not in caplog.text
    for status_file in Path(config.state_directory).iterdir():
        assert PASSWORD not in status_file.read_text(encoding="utf-8")


def test_credentials_in_a_url_are_masked(tmp_path: Path) -> None:
    write_tree(tmp_path / "src", {"a.txt": "a"})
    _path, config = make_config(tmp_path, repositories=[
        {"name": "local", "url": "rest:http://backup:t0ken-in-url@127.0.0.1:9/wsm/"}])
    [outcome] = run_backups(config, features())
    assert isinstance(outcome.error, RepositoryUnreachableError)
    assert "t0ken-in-url" not in str(outcome.error)
    assert "t0ken-in-url" not in (Path(config.state_directory) / "local.json").read_text()
