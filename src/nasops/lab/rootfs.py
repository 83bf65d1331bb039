"""The cached Debian base every lab host boots from (read-only lower layer of its overlay),
one per release: Debian 12 "bookworm" or Debian 13 "trixie" (issue 14)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from nasops.errors import BadInputError
from nasops.execute import run_command
from nasops.lab.prerequisites import require_prerequisites
from nasops.lab.volume import remove_tree

# The releases a lab NAS may run, and the default: bookworm, the release the whole lab suite
# runs on (README: why); trixie runs the core end-to-end path.
RELEASES: dict[str, str] = {"bookworm": "Debian 12", "trixie": "Debian 13"}
DEFAULT_RELEASE = "bookworm"
VARIANT = "minbase"
MIRROR_VARIABLE = "NASOPS_LAB_MIRROR"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# Everything a lab NAS needs; changing this list changes the cache key, so the base rebuilds.
GUEST_PACKAGES: tuple[str, ...] = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "samba",
    "smbclient",
    "acl",
    "attr",
    "python3",
    "restic",
    "syncthing",
    "btrfs-progs",
    "iproute2",
    "procps",
    "sudo",
    "locales",
    "ca-certificates",
)
# Bump when bake_base() changes what it writes, so existing caches are rebuilt.
# 2: systemd-remount-fs, console-getty and dpkg-db-backup.timer masked.
RECIPE_VERSION = 2
# Units that must not run in a lab host: NetBIOS and the AD DC would broadcast or clash with
# smbd; timers would trim the machine's disks or reach for the network on their own.
MASKED_UNITS: tuple[str, ...] = (
    "nmbd.service",
    "samba-ad-dc.service",
    "e2scrub_reap.service",
    "e2scrub_all.timer",
    "fstrim.timer",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "systemd-networkd-wait-online.service",
    # Remounts / and /usr with their /etc/fstab options. The base's fstab is empty and the
    # lab mounts the root (the overlay, read-write) itself before boot: nothing to do here.
    "systemd-remount-fs.service",
    # A login prompt on the console, which nspawn only logs (--console=read-only): nobody
    # can type there; hosts are reached over ssh.
    "console-getty.service",
    # A daily copy of the dpkg database to /var/backups: a disposable host needs none, and
    # it would start at midnight in the middle of a test run.
    "dpkg-db-backup.timer",
)
MANIFEST_NAME = "base.json"
DEBOOTSTRAP_TIMEOUT = 1200

Progress = Callable[[str], None]


def cache_key(packages: tuple[str, ...] = GUEST_PACKAGES,
              release: str = DEFAULT_RELEASE) -> str:
    """Given the package list and release, return the hex key naming its cached base."""
    recipe = {
        "suite": release,
        "variant": VARIANT,
        "packages": sorted(packages),
        "recipe": RECIPE_VERSION,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def base_directory(cache_root: Path, packages: tuple[str, ...] = GUEST_PACKAGES,
                   release: str = DEFAULT_RELEASE) -> Path:
    """Given the cache root, return the directory of the base for this package list."""
    return cache_root / f"{release}-{cache_key(packages, release)}"


def debootstrap_argv(target: Path, mirror: str, packages: tuple[str, ...],
                     release: str = DEFAULT_RELEASE) -> list[str]:
    """Given a target directory, mirror, packages and release, return the debootstrap
    command."""
    return [
        "debootstrap",
        f"--variant={VARIANT}",
        "--components=main",
        f"--include={','.join(packages)}",
        release,
        str(target),
        mirror,
    ]


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on path for the duration of the block (across processes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def bake_base(rootfs: Path) -> None:
    """Given a fresh debootstrapped tree, make it a neutral lab base (per-host parts removed)."""
    # Every host gets its own sshd key (pinned by the controller) and machine id.
    for key in (rootfs / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (rootfs / "etc/machine-id").write_text("", encoding="utf-8")
    (rootfs / "var/lib/dbus/machine-id").unlink(missing_ok=True)
    # debootstrap copies the machine's own hostname; hosts get theirs at boot.
    (rootfs / "etc/hostname").write_text("nasops-lab\n", encoding="utf-8")
    # C.UTF-8 is built into Debian's libc (12 and 13); make it the default so accented names
    # work.
    (rootfs / "etc/default/locale").write_text("LANG=C.UTF-8\n", encoding="utf-8")
    journald = rootfs / "etc/systemd/journald.conf.d"
    journald.mkdir(parents=True, exist_ok=True)
    (journald / "nasops-lab.conf").write_text(
        "# Keep lab hosts' upper layers small.\n[Journal]\nSystemMaxUse=32M\n", encoding="utf-8"
    )
    run_command(["systemctl", f"--root={rootfs}", "disable", *MASKED_UNITS], timeout=60)
    run_command(["systemctl", f"--root={rootfs}", "mask", *MASKED_UNITS], timeout=60)
    # Syncthing is installed for the sync roles but must not run until they configure it.
    run_command(["systemctl", f"--root={rootfs}", "disable", "syncthing-resume.service"])


def build_base(target: Path, mirror: str, packages: tuple[str, ...], log: Path,
               release: str = DEFAULT_RELEASE) -> None:
    """Debootstrap and bake a base into target/rootfs, writing the manifest last."""
    rootfs = target / "rootfs"
    rootfs.mkdir(parents=True)
    started = time.monotonic()
    result = run_command(debootstrap_argv(rootfs, mirror, packages, release),
                         timeout=DEBOOTSTRAP_TIMEOUT)
    log.write_text(result.stdout + result.stderr, encoding="utf-8")
    bake_base(rootfs)
    manifest = {
        "suite": release,
        "packages": list(packages),
        "recipe": RECIPE_VERSION,
        "mirror": mirror,
        "seconds": round(time.monotonic() - started, 1),
    }
    (target / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def check_release(release: str) -> str:
    """Given a release name, return it; raise BadInputError naming those the lab boots."""
    if release not in RELEASES:
        known = ", ".join(f"{name} ({title})" for name, title in RELEASES.items())
        raise BadInputError(f"the lab boots {known}, not {release!r}")
    return release


def ensure_base(
    cache_root: Path,
    packages: tuple[str, ...] = GUEST_PACKAGES,
    progress: Progress | None = None,
    release: str = DEFAULT_RELEASE,
) -> Path:
    """Given the cache root, return the cached base root filesystem of the release, building
    it the first time."""
    check_release(release)
    directory = base_directory(cache_root, packages, release)
    if (directory / MANIFEST_NAME).exists():
        return directory / "rootfs"
    with file_lock(cache_root / ".lock"):
        # Another process may have built it while we waited for the lock.
        if (directory / MANIFEST_NAME).exists():
            return directory / "rootfs"
        require_prerequisites(building=True)
        mirror = os.environ.get(MIRROR_VARIABLE) or DEFAULT_MIRROR
        if progress:
            progress(f"building the lab base ({release}, {len(packages)} packages) from "
                     f"{mirror}")
        # Build beside the final place and rename, so a crash never leaves a half base in use;
        # remove_tree unmounts first, as debootstrap mounts /proc and /sys in its target.
        building = cache_root / f".build-{directory.name}"
        remove_tree(building)
        build_base(building, mirror, packages, cache_root / f"{directory.name}.log", release)
        remove_tree(directory)
        building.rename(directory)
    return directory / "rootfs"
