"""`restic version`: which restic this is, for feature detection."""

from __future__ import annotations

from nasops.backup.restic.common import ResticOptions


def build_version_argv(options: ResticOptions) -> tuple[str, ...]:
    """Given options, return the argv that prints restic's version."""
    return (options.binary, "version")
