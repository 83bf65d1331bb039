"""`restic check`: structure check, optionally reading back part of the data."""

from __future__ import annotations

from nasops.backup.restic.common import ResticOptions, base_argv


def build_check_argv(
    options: ResticOptions, read_data_subset: str | None = None
) -> tuple[str, ...]:
    """Given a subset (`5%`, `1/10`, `2G`) or None, return the check argv."""
    argv = base_argv(options, "check")
    if read_data_subset:
        # One token: a subset like `1/10` must not be split or read as a path.
        argv.append(f"--read-data-subset={read_data_subset}")
    return tuple(argv)
