"""`restic restore`: files of a snapshot into a target directory."""

from __future__ import annotations

from collections.abc import Sequence

from nasops.backup.restic.common import ResticOptions, argument, base_argv

PATTERN_SPECIAL = "\\*?["


def escape_pattern(path: str) -> str:
    """Given a literal path, return the restic include pattern matching exactly it.

    restic reads `--include` values as glob patterns: a file named `a[1].txt` would
    otherwise match `a1.txt` instead of itself.
    """
    return "".join(f"\\{character}" if character in PATTERN_SPECIAL else character
                   for character in path)


def build_restore_argv(
    options: ResticOptions,
    snapshot_id: str,
    target: str,
    *,
    include_paths: Sequence[str] = (),
    verify: bool = False,
) -> tuple[str, ...]:
    """Given a snapshot, a target directory and literal paths, return the restore argv."""
    if not snapshot_id or snapshot_id.startswith("-"):
        raise ValueError(f"not a snapshot id: {snapshot_id!r}")
    argv = base_argv(options, "restore")
    argv += [snapshot_id, "--target", argument(target, "target")]
    for path in include_paths:
        argv += ["--include", escape_pattern(argument(path, "path"))]
    if verify:
        argv.append("--verify")
    return tuple(argv)
