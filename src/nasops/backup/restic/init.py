"""`restic init` and `restic cat config`: create a repository, or tell whether one exists."""

from __future__ import annotations

from nasops.backup.restic.common import ResticOptions, base_argv


def build_init_argv(options: ResticOptions) -> tuple[str, ...]:
    """Given options, return the argv that creates the repository named in the environment."""
    return tuple(base_argv(options, "init", takes_lock=False))


def build_cat_config_argv(options: ResticOptions) -> tuple[str, ...]:
    """Given options, return the argv that reads the repository config (exists and opens?)."""
    return (*base_argv(options, "cat", no_lock=True), "config")
