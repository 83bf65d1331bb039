"""`nasops backup drill`: prove that files come back, not just that restic says they would.

A random sample of files of the latest nasops snapshot is restored into a scratch
directory with `restic restore --verify` (restic reads every restored file back and checks
it against the snapshot's blob hashes). Then each sampled file must exist with the size the
snapshot records, and when the source file is unchanged since the snapshot (same size and
mtime to the nanosecond) it is compared byte for byte with it. Every file that is missing,
unreadable or different is reported by name. The scratch directory is always removed.
"""

from __future__ import annotations

import os
import random
import shutil
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

from nasops.backup import status
from nasops.backup.actions.common import (
    BACKUP_TAG,
    Attempt,
    Outcome,
    for_each_repository,
    record_outcome,
)
from nasops.backup.config import BackupConfig, RepositoryConfig
from nasops.backup.errors import BackupError, IntegrityError
from nasops.backup.parse import FileNode, parse_ls_files, parse_restore_errors, parse_snapshots
from nasops.backup.restic.ls import build_ls_argv
from nasops.backup.restic.restore import build_restore_argv
from nasops.backup.restic.snapshots import build_snapshots_argv
from nasops.backup.session import ResticFeatures, ResticSession
from nasops.errors import NasopsError

RESTORE_BATCH = 200
"""Paths per restore call, to stay far below the kernel's argv size limit."""
COMPARE_CHUNK = 1024 * 1024


def files_equal(first: Path, second: Path) -> bool:
    """Given two regular files, return whether their bytes are identical (streamed)."""
    with first.open("rb") as left, second.open("rb") as right:
        while True:
            left_chunk = left.read(COMPARE_CHUNK)
            if left_chunk != right.read(COMPARE_CHUNK):
                return False
            if not left_chunk:
                return True


def _unchanged_since_snapshot(node: FileNode) -> bool:
    try:
        info = os.stat(node.path, follow_symlinks=False)
    except OSError:
        return False
    return (stat.S_ISREG(info.st_mode) and info.st_size == node.size
            and node.mtime_ns is not None and info.st_mtime_ns == node.mtime_ns)


def compare_restored(
    nodes: Sequence[FileNode], scratch: Path, restore_errors: dict[str, str]
) -> tuple[list[dict[str, str]], int]:
    """Given sampled nodes, the scratch root and restic's per-file errors, return the problems
    found and how many files could be compared byte for byte with their unchanged source."""
    problems: list[dict[str, str]] = []
    compared = 0
    for node in nodes:
        restored = scratch / node.path.lstrip("/")
        if node.path in restore_errors:
            problems.append({"path": node.path, "problem": "unreadable",
                             "detail": restore_errors[node.path]})
            continue
        if not restored.is_file():
            problems.append({"path": node.path, "problem": "missing",
                             "detail": "not restored"})
            continue
        size = restored.stat().st_size
        if size != node.size:
            problems.append({"path": node.path, "problem": "size_differs",
                             "detail": f"restored {size} bytes, snapshot says {node.size}"})
            continue
        if _unchanged_since_snapshot(node):
            compared += 1
            if not files_equal(restored, Path(node.path)):
                problems.append({"path": node.path, "problem": "differs_from_source",
                                 "detail": "same size and mtime as the source, other bytes"})
    return problems, compared


def _remove_tree(path: Path) -> None:
    # restic restores directory modes too: a read-only directory would stop rmtree when not
    # running as root, so open every directory up first (top-down, before descending).
    for directory, _subdirectories, _files in os.walk(path):
        os.chmod(directory, 0o700)
    shutil.rmtree(path, ignore_errors=True)


def _restore_sample(session: ResticSession, snapshot_id: str, nodes: Sequence[FileNode],
                    scratch: Path) -> dict[str, str]:
    errors: dict[str, str] = {}
    for start in range(0, len(nodes), RESTORE_BATCH):
        paths = [node.path for node in nodes[start:start + RESTORE_BATCH]]
        argv = build_restore_argv(session.options, snapshot_id, str(scratch),
                                  include_paths=paths, verify=True)
        try:
            session.run(argv)
        except BackupError as error:
            # Per-file failures ("ignoring error for …") are what the drill is looking for;
            # anything else (unreachable, locked…) ends the drill.
            found = parse_restore_errors(error.result.stderr if error.result else "")
            if type(error) is not BackupError or not found:
                raise
            errors.update(found)
    return errors


def drill_repository(
    config: BackupConfig, repository: RepositoryConfig, features: ResticFeatures,
    sample_files: int | None = None, chooser: random.Random | None = None,
) -> Outcome:
    """Given one repository, restore a random sample, compare it, record; return the outcome."""
    config = config.for_repository(repository)
    wanted = sample_files or config.drill.sample_files
    attempt = Attempt(fields={"snapshot_id": None, "sampled_files": 0, "verified_files": 0,
                              "compared_with_source": 0, "problems": [], "problem_count": 0})
    status.record(config.state_directory, repository.name, "drill", attempt.running())
    try:
        session = ResticSession(config, repository, features)
        snapshots = parse_snapshots(session.run(
            build_snapshots_argv(session.options, tags=(BACKUP_TAG,))).stdout)
        if not snapshots:
            raise BackupError(f"repository '{repository.name}' has no nasops snapshot to drill")
        snapshot = snapshots[-1]
        attempt.fields["snapshot_id"] = snapshot.short_id
        files = parse_ls_files(session.run(build_ls_argv(session.options, snapshot.id)).stdout)
        sample = (chooser or random.SystemRandom()).sample(files, min(wanted, len(files)))
        attempt.fields["sampled_files"] = len(sample)
        scratch_root = Path(config.drill.scratch_directory)
        scratch_root.mkdir(parents=True, exist_ok=True, mode=0o700)
        scratch = Path(tempfile.mkdtemp(prefix=f"{repository.name}-", dir=scratch_root))
        try:
            restore_errors = _restore_sample(session, snapshot.id, sample, scratch)
            problems, compared = compare_restored(sample, scratch, restore_errors)
        finally:
            _remove_tree(scratch)
        attempt.fields.update(
            verified_files=len(sample) - len(problems), compared_with_source=compared,
            problems=problems[: status.MAX_LISTED_FILES], problem_count=len(problems))
        if problems:
            listed = ", ".join(f"{item['path']} ({item['problem']})" for item in problems[:5])
            raise IntegrityError(
                f"repository '{repository.name}': drill of snapshot {snapshot.short_id}: "
                f"{len(problems)} of {len(sample)} files did not come back intact: {listed}")
    except (NasopsError, OSError) as error:
        failure = error if isinstance(error, NasopsError) else BackupError(
            f"repository '{repository.name}': drill scratch directory: {error}")
        return record_outcome(config, repository, "drill", attempt, error=failure)
    message = (f"{len(sample)} files restored and verified, {compared} compared byte for byte "
               "with their unchanged source")
    return record_outcome(config, repository, "drill", attempt, message=message)


def drill_repositories(
    config: BackupConfig, features: ResticFeatures | None = None,
    repository_name: str | None = None, sample_files: int | None = None,
) -> list[Outcome]:
    """Given the config, drill the named repository or all; return their outcomes."""
    return for_each_repository(
        config, features, "drill", repository_name,
        lambda repository, detected: drill_repository(config, repository, detected,
                                                      sample_files))
