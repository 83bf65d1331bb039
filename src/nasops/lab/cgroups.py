"""A cgroup of its own for each lab host, so that hosts booted side by side never share one.

Why: without systemd on the machine, nspawn runs with --register=no --keep-unit, so it makes
no cgroup for the container; it splits the cgroup it was *started in* into `supervisor` (for
itself) and `payload` (for the container). Every lab host started from the same cgroup (the
machine's root, where pytest and the CLI run) therefore got the same `/payload`, and all their
systemds managed one tree `/payload/system.slice/<unit>`. When a short unit that every host
runs at boot (systemd-remount-fs, systemd-update-utmp-runlevel, systemd-user-sessions) ended
in one host, that host's systemd removed the unit's cgroup while another host was about to
move its process into it: "Failed to attach to cgroup …: No such file or directory", exit
219/CGROUP, and the host came up `degraded`. Starting nspawn inside a cgroup named after the
host gives each host its own `…/payload`, and nothing is shared.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from pathlib import Path

from nasops.errors import CommandFailedError
from nasops.lab.volume import MOUNTINFO, parse_mountinfo

# Parent of every host's cgroup, at the root of each hierarchy systemd tracks processes in.
LAB_CGROUP = "nasops-lab"
# Runs as the nspawn process before it execs nspawn: moves itself into each cgroup.procs
# given before "--", then becomes the command after it (same PID, same start time).
ENTER_SCRIPT = (
    'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
)
ATTEMPTS = 5


def hierarchies(mountinfo: Path = MOUNTINFO) -> list[Path]:
    """Return the mount points of the hierarchies systemd tracks processes in: the unified
    (cgroup2) one and the named v1 `name=systemd` one, whichever the machine has."""
    found = []
    for mount in parse_mountinfo(mountinfo.read_text(encoding="utf-8")):
        named_systemd = "name=systemd" in mount.super_options.split(",")
        if mount.filesystem == "cgroup2" or (mount.filesystem == "cgroup" and named_systemd):
            found.append(mount.mount_point)
    return found


def host_cgroup_name(machine: str, machine_id: str) -> str:
    """Given the machine name and machine id, return the host's cgroup, relative to a root.

    The machine id is unique per host even when two state roots use the same host name.
    """
    return f"{LAB_CGROUP}/{machine}-{machine_id[:12]}"


def host_cgroups(name: str, roots: list[Path] | None = None) -> list[Path]:
    """Given a host's cgroup name, return its directory in every tracked hierarchy."""
    return [root / name for root in (hierarchies() if roots is None else roots)]


def create(directories: list[Path]) -> None:
    """Create the host's cgroup directories (idempotent)."""
    if not directories:
        raise CommandFailedError(
            "no cgroup hierarchy for systemd is mounted on this machine (looked for cgroup2 "
            "and name=systemd in /proc/self/mountinfo); lab hosts cannot be kept apart"
        )
    for directory in directories:
        for attempt in range(ATTEMPTS):
            try:
                directory.mkdir(parents=True, exist_ok=True)
                break
            except FileNotFoundError:
                # Another host's `down` removed the empty shared parent between our two
                # mkdirs; make it again.
                if attempt == ATTEMPTS - 1:
                    raise
            except OSError as error:
                raise CommandFailedError(
                    f"cannot create the lab host's cgroup {directory} ({error.strerror}); "
                    "the lab needs a writable cgroup hierarchy to keep hosts apart"
                ) from error


def enter_argv(directories: list[Path], argv: list[str]) -> list[str]:
    """Given the host's cgroups and a command, return a command that runs it inside them."""
    procs = [str(directory / "cgroup.procs") for directory in directories]
    return ["sh", "-c", ENTER_SCRIPT, "nasops-lab-enter", *procs, "--", *argv]


def present(directories: list[Path]) -> list[Path]:
    """Return which of the host's cgroup directories exist (leftovers once it is stopped)."""
    return [directory for directory in directories if directory.is_dir()]


def _remove_one(path: str, seconds: float = 5.0) -> None:
    """Remove one cgroup directory. The kernel frees a cgroup only once its last task has
    fully exited: right after the container stops, its processes may still be dying (EBUSY),
    so that answer is retried for a few seconds before it counts."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            os.rmdir(path)
            return
        except OSError as error:
            if error.errno != errno.EBUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def remove(directories: list[Path]) -> None:
    """Remove the host's cgroups, deepest first (the container's systemd leaves its slices
    behind), then the shared parent if no other host uses it. Called once its processes are
    gone; a cgroup that still holds a process is an error, not something to hide."""
    for directory in present(directories):
        for path, _subdirectories, _files in os.walk(directory, topdown=False):
            try:
                _remove_one(path)
            except FileNotFoundError:
                continue
            except OSError as error:
                raise CommandFailedError(
                    f"cannot remove the lab host's cgroup {path} ({error.strerror}): a process "
                    f"still runs in it (see {path}/cgroup.procs)"
                ) from error
        with contextlib.suppress(OSError):  # another host still has its cgroup there
            directory.parent.rmdir()
