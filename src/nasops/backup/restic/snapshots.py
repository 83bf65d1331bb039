"""`restic snapshots --json`: the list of snapshots."""

from __future__ import annotations

from collections.abc import Sequence

from nasops.backup.restic.common import ResticOptions, argument, base_argv


def build_snapshots_argv(
    options: ResticOptions, *, tags: Sequence[str] = (), latest: int | None = None
) -> tuple[str, ...]:
    """Given optional tag filters and a count, return the argv listing snapshots as JSON.

    Listing never locks the repository, so it works while a prune holds the exclusive lock.
    """
    argv = base_argv(options, "snapshots", json_output=True, no_lock=True)
    for tag in tags:
        argv += ["--tag", argument(tag, "tag")]
    if latest is not None:
        argv += ["--latest", str(latest)]
    return tuple(argv)
