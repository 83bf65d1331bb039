"""Shared helpers for the backup tests: real restic repositories in temporary directories.

`restic init` costs seconds (its key derivation is calibrated to be slow), so one template
repository is created per test session and copied for each test that needs a fresh one.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from nasops.backup.config import BackupConfig, load_config
from nasops.backup.session import ResticFeatures, detect_features

PASSWORD = "correct-horse-battery-staple-0614"
needs_restic = pytest.mark.skipif(shutil.which("restic") is None, reason="restic not installed")
needs_rclone = pytest.mark.skipif(shutil.which("rclone") is None, reason="rclone not installed")


@functools.cache
def features() -> ResticFeatures:
    """Return the installed restic's features (detected once)."""
    return detect_features("restic")


@functools.cache
def _template() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="nasops-restic-template-"))
    atexit.register(shutil.rmtree, directory, True)
    password_file = directory / "password"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    subprocess.run(["restic", "init"], check=True, capture_output=True,
                   env={**os.environ, "RESTIC_REPOSITORY": str(directory / "repository"),
                        "RESTIC_PASSWORD_FILE": str(password_file)})
    return directory / "repository"


def make_repository(path: Path) -> Path:
    """Given a path, put a fresh (copied) restic repository there; return the path."""
    shutil.copytree(_template(), path)
    return path


def write_tree(root: Path, files: Mapping[str, bytes | str]) -> None:
    """Given a root and {relative path: content}, create the files (and their folders)."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)


def make_config(tmp_path: Path, repositories: list[dict[str, Any]] | None = None,
                **overrides: Any) -> tuple[Path, BackupConfig]:
    """Given a test directory, write a password file (0600) and a config; return both.

    By default: one repository `local` (a fresh copy of the template), sources `src`.
    """
    password_file = tmp_path / "password"
    if not password_file.exists():
        password_file.write_text(PASSWORD + "\n", encoding="utf-8")
        password_file.chmod(0o600)
    if repositories is None:
        repositories = [{"name": "local",
                         "url": str(make_repository(tmp_path / "repo-local"))}]
    document = {
        "repositories": [{"password_file": str(password_file), **repository}
                         for repository in repositories],
        "sources": [str(tmp_path / "src")],
        "state_directory": str(tmp_path / "state"),
        "cache_directory": str(tmp_path / "cache"),
        "drill": {"sample_files": 20, "scratch_directory": str(tmp_path / "scratch")},
        "lock_wait_seconds": 3,
        **overrides,
    }
    config_path = tmp_path / "backup.json"
    config_path.write_text(json.dumps(document), encoding="utf-8")
    return config_path, load_config(config_path)


def raw_restic(repository: Path | str, *arguments: str, password_file: Path,
               check: bool = True) -> subprocess.CompletedProcess[str]:
    """Given a repository, run restic directly (test set-up, not the code under test)."""
    environment = {**os.environ, "RESTIC_REPOSITORY": str(repository),
                   "RESTIC_PASSWORD_FILE": str(password_file)}
    return subprocess.run(["restic", "--no-cache", *arguments], check=check,
                           capture_output=True, text=True, env=environment)


def data_packs(repository: Path, password_file: Path) -> list[Path]:
    """Given a repository, return its pack files that hold file data (not trees)."""
    packs = []
    for index_id in raw_restic(repository, "list", "index",
                               password_file=password_file).stdout.split():
        index = json.loads(raw_restic(repository, "cat", "index", index_id,
                                      password_file=password_file).stdout)
        for pack in index["packs"]:
            if all(blob["type"] == "data" for blob in pack["blobs"]):
                packs.append(repository / "data" / pack["id"][:2] / pack["id"])
    return packs
