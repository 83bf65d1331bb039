"""`nasops backup restore`: bring back one file or folder of a snapshot.

Without a target the path goes back to its original place, but only if nothing is there
now: restoring over existing files is refused (give `--target DIR` to restore beside them).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from nasops.backup.config import BackupConfig
from nasops.backup.errors import BackupError
from nasops.backup.parse import parse_restore_errors
from nasops.backup.restic.restore import build_restore_argv
from nasops.backup.session import ResticFeatures, ResticSession
from nasops.errors import BadInputError

SNAPSHOT_PATTERN = re.compile(r"^(latest|[0-9a-f]{4,64})\Z")


@dataclass(frozen=True)
class RestoreOutcome:
    """Where a restore put things and how many files it brought back."""

    repository: str
    snapshot_id: str
    path: str
    restored_path: str
    files: int


def _count_files(path: Path) -> int:
    if not path.is_dir():
        return 1
    return sum(len(files) for _directory, _subdirectories, files in os.walk(path))


def restore_path(
    config: BackupConfig, features: ResticFeatures, snapshot_id: str, path: str, *,
    target: str | None = None, repository_name: str | None = None,
) -> RestoreOutcome:
    """Given a snapshot id (or `latest`) and an absolute path in it, restore it; return where.

    The repository defaults to the first one of the config (the local copy, the fastest).
    """
    if not SNAPSHOT_PATTERN.match(snapshot_id):
        raise BadInputError(f"'{snapshot_id}' is not a snapshot id (hex digits, or 'latest')")
    if not path.startswith("/"):
        raise BadInputError(f"'{path}' must be an absolute path, as `snapshots` shows them")
    path = path.rstrip("/") or "/"
    repository = config.repository(repository_name)[0]
    if target is None:
        if os.path.lexists(path):
            raise BadInputError(
                f"{path} exists: restoring in place would overwrite it; "
                "give --target DIR to restore beside it")
        target_directory = "/"
    else:
        target_directory = os.path.abspath(target)
    restored = Path(target_directory) / path.lstrip("/")
    session = ResticSession(config, repository, features)
    argv = build_restore_argv(session.options, snapshot_id, target_directory,
                              include_paths=[path])
    try:
        session.run(argv)
    except BackupError as error:
        failed = parse_restore_errors(error.result.stderr if error.result else "")
        if type(error) is not BackupError or not failed:
            raise
        listed = ", ".join(f"{name} ({reason})" for name, reason in list(failed.items())[:10])
        raise BackupError(f"restore from '{repository.name}' incomplete: {len(failed)} "
                          f"file(s) failed: {listed}", error.result) from None
    if not os.path.lexists(restored):
        raise BadInputError(f"snapshot {snapshot_id} of '{repository.name}' has no {path} "
                            "(see `nasops backup snapshots` and restic ls)")
    return RestoreOutcome(repository.name, snapshot_id, path, str(restored),
                          _count_files(restored))
