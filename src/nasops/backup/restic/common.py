"""Options shared by every restic command and the first arguments they produce."""

from __future__ import annotations

from dataclasses import dataclass


def argument(value: str, what: str) -> str:
    """Given a value from the config or the command line, return it; ValueError when restic
    (or ssh behind it) could read it as an option or it holds a control character."""
    if not value or value.startswith("-") or any(ord(character) < 32 or character == "\x7f"
                                                   for character in value):
        raise ValueError(f"{what} {value!r} is empty, starts with '-' or holds a control "
                         "character")
    return value


@dataclass(frozen=True)
class ResticOptions:
    """How to call restic on this machine."""

    binary: str = "restic"
    cache_directory: str | None = None
    retry_lock_seconds: int | None = None
    """Passed as `--retry-lock` (restic >= 0.16 only; older versions get our own retries)."""


def base_argv(
    options: ResticOptions,
    subcommand: str,
    *,
    json_output: bool = False,
    quiet: bool = False,
    takes_lock: bool = True,
    no_lock: bool = False,
) -> list[str]:
    """Given options and a subcommand, return the argv prefix `restic SUBCOMMAND [global flags]`.

    `takes_lock` says whether the subcommand locks the repository, so that `--retry-lock`
    is only given where restic accepts it to matter.
    """
    argv = [options.binary, subcommand]
    if options.cache_directory:
        argv += ["--cache-dir", options.cache_directory]
    if json_output:
        argv.append("--json")
    if quiet:
        argv.append("--quiet")
    if no_lock:
        argv.append("--no-lock")
    elif takes_lock and options.retry_lock_seconds:
        argv += ["--retry-lock", f"{options.retry_lock_seconds}s"]
    return argv
