"""`restic backup`: one snapshot of the sources, statistics as a JSON summary line."""

from __future__ import annotations

from collections.abc import Sequence

from nasops.backup.restic.common import ResticOptions, argument, base_argv


def build_backup_argv(
    options: ResticOptions,
    sources: Sequence[str],
    *,
    excludes: Sequence[str] = (),
    tags: Sequence[str] = (),
    host: str | None = None,
    exclude_caches: bool = False,
) -> tuple[str, ...]:
    """Given sources and filters, return the argv of a quiet JSON backup.

    `--quiet` keeps the JSON summary and error lines but drops the status lines that restic
    would otherwise print 60 times a second.
    """
    if not sources:
        raise ValueError("a backup needs at least one source path")
    argv = base_argv(options, "backup", json_output=True, quiet=True)
    if host:
        argv += ["--host", argument(host, "host")]
    for tag in tags:
        argv += ["--tag", argument(tag, "tag")]
    for pattern in excludes:
        argv += ["--exclude", argument(pattern, "exclude pattern")]
    if exclude_caches:
        argv.append("--exclude-caches")
    # `--` so that a source can never be read as an option.
    return (*argv, "--", *sources)
