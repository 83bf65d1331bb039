"""What the machine needs before the lab can boot a host, and how to say what is missing."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nasops.errors import PrerequisiteError

# Each tool the lab runs on the machine, with the Debian package that ships it.
# scripts/apt-packages-lab.txt lists the same packages for CI.
HOST_TOOLS: dict[str, str] = {
    "systemd-nspawn": "systemd-container",
    "mkfs.btrfs": "btrfs-progs",
    "btrfs": "btrfs-progs",
    "losetup": "mount",
    "mount": "mount",
    "umount": "mount",
    "ip": "iproute2",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
}
BUILD_TOOLS: dict[str, str] = {"debootstrap": "debootstrap"}
# Filesystems the kernel must offer: the overlay for host roots, btrfs for the data volume.
KERNEL_FILESYSTEMS = ("overlay", "btrfs")
LOOP_CONTROL = Path("/dev/loop-control")
# Every booted host's systemd, journald and services take inotify instances, counted per user
# on the machine: the hosts' root is the machine's root, so all hosts share root's budget.
# At Debian's default (128), hosts booted while others ran came up degraded: their path units
# "failed (Result: resources)" (systemd could not get an inotify instance). Raised when lower,
# to what container hosts commonly set.
INOTIFY_INSTANCES = Path("/proc/sys/fs/inotify/max_user_instances")
MINIMUM_INOTIFY_INSTANCES = 1024


@dataclass(frozen=True)
class MachineFacts:
    """What the prerequisite check looks at; injectable so the decision is testable."""

    effective_uid: int
    which: Callable[[str], str | None]
    kernel_filesystems: frozenset[str]
    has_loop_control: bool

    @classmethod
    def observe(cls) -> MachineFacts:
        """Return the facts of the machine this process runs on."""
        try:
            text = Path("/proc/filesystems").read_text(encoding="utf-8")
        except OSError:
            text = ""
        names = frozenset(line.split()[-1] for line in text.splitlines() if line.split())
        return cls(os.geteuid(), shutil.which, names, LOOP_CONTROL.exists())


def missing_prerequisites(facts: MachineFacts, *, building: bool = False) -> list[str]:
    """Given machine facts, return one human sentence per missing prerequisite (empty if none)."""
    problems: list[str] = []
    if facts.effective_uid != 0:
        problems.append(
            "the lab needs root (it mounts filesystems, attaches loop devices and boots "
            "containers): run it with sudo or as root"
        )
    tools = dict(HOST_TOOLS, **BUILD_TOOLS) if building else HOST_TOOLS
    packages: dict[str, list[str]] = {}
    for tool, package in tools.items():
        if facts.which(tool) is None:
            packages.setdefault(package, []).append(tool)
    for package, missing_tools in sorted(packages.items()):
        problems.append(
            f"missing {', '.join(missing_tools)}: install the Debian package {package} "
            f"(apt-get install -y {package})"
        )
    if packages:
        problems.append("if those are installed, put /usr/sbin and /sbin on PATH (sudo -i)")
    for filesystem in KERNEL_FILESYSTEMS:
        if filesystem not in facts.kernel_filesystems:
            problems.append(
                f"the kernel does not offer the {filesystem} filesystem: "
                f"load it with `modprobe {filesystem}` (package kmod) or use a kernel that has it"
            )
    if not facts.has_loop_control:
        problems.append(
            "no /dev/loop-control: load the loop module with `modprobe loop` (package kmod)"
        )
    return problems


def require_prerequisites(*, building: bool = False, facts: MachineFacts | None = None) -> None:
    """Raise PrerequisiteError naming every missing prerequisite, or return if all are there."""
    problems = missing_prerequisites(facts or MachineFacts.observe(), building=building)
    if problems:
        raise PrerequisiteError(
            "the lab cannot run on this machine:\n" + "\n".join(f"  - {p}" for p in problems)
        )


def ensure_inotify_instances(path: Path = INOTIFY_INSTANCES,
                             minimum: int = MINIMUM_INOTIFY_INSTANCES) -> int | None:
    """Raise the machine's inotify instance limit to minimum when it is lower; return the
    limit it had (None when it was enough or cannot be read). PrerequisiteError when it
    cannot be raised."""
    try:
        current = int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None  # not Linux's /proc: nothing to raise, the boot says what fails
    if current >= minimum:
        return None
    try:
        path.write_text(f"{minimum}\n", encoding="ascii")
    except OSError as error:
        raise PrerequisiteError(
            f"the lab needs fs.inotify.max_user_instances >= {minimum} (it is {current}: "
            f"hosts booted together would come up degraded) and could not raise it: "
            f"{error.strerror or error}; run `sysctl fs.inotify.max_user_instances={minimum}`"
        ) from None
    return current
