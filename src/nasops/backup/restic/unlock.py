"""`restic unlock`: remove stale locks (restic itself keeps the locks of live processes)."""

from __future__ import annotations

from nasops.backup.restic.common import ResticOptions, base_argv


def build_unlock_argv(options: ResticOptions) -> tuple[str, ...]:
    """Given options, return the argv removing stale locks only (never `--remove-all`)."""
    return tuple(base_argv(options, "unlock", takes_lock=False))
