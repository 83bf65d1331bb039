"""The host's data volume (btrfs on a sparse loop image) and the mounts the lab makes."""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from nasops.errors import CommandFailedError
from nasops.execute import run_command

MOUNTINFO = Path("/proc/self/mountinfo")
OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class Mount:
    """One line of /proc/self/mountinfo, reduced to what the lab needs."""

    mount_point: Path
    filesystem: str
    source: str
    # The filesystem's own options (cgroup v1 names its hierarchy here: name=systemd).
    super_options: str = ""


def _unescape(field: str) -> str:
    # mountinfo writes space, tab, newline and backslash as octal escapes (\040 …).
    return OCTAL_ESCAPE.sub(lambda match: chr(int(match[1], 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """Given the text of /proc/self/mountinfo, return its mounts in mount order."""
    mounts: list[Mount] = []
    for line in text.splitlines():
        before, separator, after = line.partition(" - ")
        if not separator:
            continue
        fields, tail = before.split(), after.split()
        if len(fields) < 5 or len(tail) < 2:
            continue
        options = tail[2] if len(tail) > 2 else ""
        mounts.append(Mount(Path(_unescape(fields[4])), tail[0], _unescape(tail[1]), options))
    return mounts


def mounts_under(directory: Path, mountinfo: Path = MOUNTINFO) -> list[Mount]:
    """Given a directory, return the mounts on it or below it, deepest (last mounted) first."""
    directory = directory.absolute()
    found = [
        mount
        for mount in parse_mountinfo(mountinfo.read_text(encoding="utf-8"))
        if mount.mount_point == directory or directory in mount.mount_point.parents
    ]
    return list(reversed(found))


def is_mounted(mount_point: Path) -> bool:
    """Given a path, return whether something is mounted exactly there."""
    return any(mount.mount_point == mount_point.absolute() for mount in mounts_under(mount_point))


def unmount_all_under(directory: Path, attempts: int = 5) -> None:
    """Unmount everything on or below directory; a last busy mount is detached lazily."""
    for mount in mounts_under(directory):
        for attempt in range(attempts):
            result = run_command(["umount", str(mount.mount_point)], accepted_codes=range(256))
            if result.returncode == 0 or not is_mounted(mount.mount_point):
                break
            if attempt == attempts - 1:
                # Something still holds it (a leftover process we did not start): detach it
                # from the tree so the state directory is free; the kernel finishes later.
                run_command(["umount", "--lazy", str(mount.mount_point)])
            else:
                time.sleep(0.5)


def remove_tree(directory: Path) -> None:
    """Delete directory after unmounting what is below it, so rmtree never enters a mount."""
    if not directory.exists():
        return
    unmount_all_under(directory)
    if mounts_under(directory):
        raise CommandFailedError(f"refusing to delete {directory}: something is still mounted")
    shutil.rmtree(directory)


def create_volume_image(image: Path, size_bytes: int, label: str) -> bool:
    """Create a sparse image holding an empty btrfs unless it exists; return whether created."""
    if image.exists():
        return False
    partial = image.with_name(image.name + ".partial")
    partial.unlink(missing_ok=True)
    with partial.open("wb") as handle:
        # Sparse: the image takes disk space only as the host writes data.
        os.truncate(handle.fileno(), size_bytes)
    run_command(["mkfs.btrfs", "--quiet", "--label", label, str(partial)], timeout=120)
    partial.rename(image)
    return True


def loop_devices_of(image: Path) -> list[str]:
    """Given an image file, return the loop devices it is attached to (usually none or one)."""
    result = run_command(
        ["losetup", "--noheadings", "--output", "NAME", "--associated", str(image)]
    )
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def attach_loop(image: Path) -> str:
    """Given an image file, return a loop device backed by it, attaching one if needed."""
    existing = loop_devices_of(image)
    if existing:
        return existing[0]
    result = run_command(["losetup", "--find", "--show", str(image)])
    return result.stdout.strip()


def detach_loops(image: Path) -> None:
    """Detach every loop device backed by image (there should be one at most)."""
    for device in loop_devices_of(image):
        run_command(["losetup", "--detach", device], accepted_codes=range(256))
    deadline = time.monotonic() + 10
    # Detaching is asynchronous while the kernel drops the last reference to the device.
    while loop_devices_of(image) and time.monotonic() < deadline:
        time.sleep(0.2)
    if loop_devices_of(image):
        raise CommandFailedError(f"loop device for {image} is still attached (losetup -a)")


def ensure_shared_root(directory: Path) -> None:
    """Make directory a shared mount, so that every copy of a lab mount follows our unmounts.

    Without systemd this machine's / is private: each host's mount namespace would keep its own
    copy of the other hosts' volume and overlay mounts (nspawn marks its copies slave, which only
    helps when the originals are shared), holding their loop devices long after `lab down`.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if not is_mounted(directory):
        run_command(["mount", "--bind", str(directory), str(directory)])
    run_command(["mount", "--make-rshared", str(directory)])


def release_shared_root(directory: Path) -> None:
    """Undo ensure_shared_root once the root holds no host any more (only the lock file):
    the lab leaves no mount of its own behind. Busy (another lab command started meanwhile):
    left as it is, for that command to use."""
    if not is_mounted(directory):
        return
    if any(entry.name != ".lock" for entry in directory.iterdir()):
        return
    if any(mount.mount_point != directory.absolute() for mount in mounts_under(directory)):
        return
    run_command(["umount", str(directory)], accepted_codes=range(256))


def mount_volume(device: str, mount_point: Path) -> None:
    """Mount the btrfs on device at mount_point (if not yet) and make sure quotas are on."""
    mount_point.mkdir(parents=True, exist_ok=True)
    if not is_mounted(mount_point):
        run_command(["mount", "-t", "btrfs", device, str(mount_point)])
    # Idempotent; quotas make `btrfs qgroup limit` enforceable inside the host.
    run_command(["btrfs", "quota", "enable", str(mount_point)], timeout=60)


def mount_overlay(lower: Path, upper: Path, work: Path, merged: Path) -> None:
    """Mount merged = overlay of the shared read-only base (lower) and this host's upper."""
    for directory in (upper, work, merged):
        directory.mkdir(parents=True, exist_ok=True)
    if is_mounted(merged):
        return
    options = f"lowerdir={lower},upperdir={upper},workdir={work}"
    run_command(["mount", "-t", "overlay", "overlay", "-o", options, str(merged)])
