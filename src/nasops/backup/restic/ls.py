"""`restic ls --json SNAPSHOT`: every node of a snapshot, one JSON object a line."""

from __future__ import annotations

from collections.abc import Sequence

from nasops.backup.restic.common import ResticOptions, argument, base_argv


def build_ls_argv(
    options: ResticOptions, snapshot_id: str, paths: Sequence[str] = ()
) -> tuple[str, ...]:
    """Given a snapshot id and optional directories, return the argv listing its nodes."""
    if not snapshot_id or snapshot_id.startswith("-"):
        raise ValueError(f"not a snapshot id: {snapshot_id!r}")
    return (*base_argv(options, "ls", json_output=True), snapshot_id,
            *(argument(path, "path") for path in paths))
