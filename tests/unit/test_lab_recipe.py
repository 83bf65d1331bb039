"""How the lab boots a host: the base cache key, debootstrap and nspawn commands, prerequisites."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nasops.errors import PrerequisiteError
from nasops.lab.host import nspawn_argv
from nasops.lab.paths import LabDirectories
from nasops.lab.prerequisites import (
    MachineFacts,
    ensure_inotify_instances,
    missing_prerequisites,
)
from nasops.lab.rootfs import GUEST_PACKAGES, MASKED_UNITS, cache_key, debootstrap_argv
from nasops.lab.state import HostState

STATE = HostState(
    name="nas",
    address="127.0.0.2",
    hostname="nas",
    base_root="/cache/bookworm-x/rootfs",
    volume_bytes=2 << 30,
    machine_id="a" * 32,
)


def test_cache_key_changes_with_the_package_list_but_not_its_order() -> None:
    assert cache_key(GUEST_PACKAGES) == cache_key(tuple(reversed(GUEST_PACKAGES)))
    assert cache_key(GUEST_PACKAGES) != cache_key((*GUEST_PACKAGES, "vim"))


def test_guest_packages_cover_what_the_nas_roles_need() -> None:
    needed = {"systemd", "openssh-server", "samba", "smbclient", "acl", "attr", "python3"}
    needed |= {"restic", "syncthing", "btrfs-progs", "locales", "sudo", "iproute2", "procps"}
    assert needed <= set(GUEST_PACKAGES)


def test_units_a_container_has_no_use_for_are_masked() -> None:
    # Issue 19: the root is mounted by the lab, the console is only logged.
    assert {"systemd-remount-fs.service", "console-getty.service"} <= set(MASKED_UNITS)
    # Never what a lab NAS serves with.
    assert not {"smbd.service", "ssh.service", "systemd-journald.service"} & set(MASKED_UNITS)


def test_debootstrap_builds_a_bookworm_minbase() -> None:
    argv = debootstrap_argv(Path("/tmp/rootfs"), "http://deb.debian.org/debian", ("samba",))
    assert argv[0] == "debootstrap"
    assert "--variant=minbase" in argv and "--include=samba" in argv
    assert argv[-3:] == ["bookworm", "/tmp/rootfs", "http://deb.debian.org/debian"]


def test_each_release_has_its_own_base_and_bookworm_keeps_its_cache() -> None:
    from nasops.errors import BadInputError  # noqa: PLC0415
    from nasops.lab.rootfs import base_directory, check_release  # noqa: PLC0415

    # The key bookworm's base had before releases could be chosen: not rebuilt.
    assert cache_key(GUEST_PACKAGES, "bookworm") == "8577750223e4f5e3"
    assert cache_key(GUEST_PACKAGES, "trixie") != cache_key(GUEST_PACKAGES, "bookworm")
    assert base_directory(Path("/c"), GUEST_PACKAGES, "trixie").name.startswith("trixie-")
    assert debootstrap_argv(Path("/t"), "http://m", ("a",), "trixie")[-3] == "trixie"
    with pytest.raises(BadInputError, match=re.escape("bookworm (Debian 12), trixie (Debian 13)")):
        check_release("sid")


def test_nspawn_boots_with_host_network_and_the_volume_at_srv_nas() -> None:
    paths = LabDirectories(Path("/state"), Path("/cache")).host("nas")
    argv = nspawn_argv(STATE, paths)
    assert argv[0] == "systemd-nspawn"
    assert {"--boot", "--register=no", "--keep-unit"} <= set(argv)
    assert "--directory=/state/nas/root" in argv
    assert "--bind=/state/nas/data:/srv/nas" in argv
    assert "--hostname=nas" in argv
    # Host network: no private network or veth options.
    assert not [part for part in argv if part.startswith(("--network", "--private-network"))]


def test_directories_follow_the_environment() -> None:
    directories = LabDirectories.from_environment(
        {"NASOPS_LAB_STATE_DIR": "/tmp/state", "NASOPS_LAB_CACHE_DIR": "/tmp/cache"}
    )
    assert directories == LabDirectories(Path("/tmp/state"), Path("/tmp/cache"))
    assert LabDirectories.from_environment({}) == LabDirectories()


def facts(uid: int = 0, missing: frozenset[str] = frozenset()) -> MachineFacts:
    return MachineFacts(
        effective_uid=uid,
        which=lambda tool: None if tool in missing else f"/usr/bin/{tool}",
        kernel_filesystems=frozenset({"overlay", "btrfs", "ext4"}),
        has_loop_control=True,
    )


def test_all_there_means_no_problem() -> None:
    assert missing_prerequisites(facts()) == []


def test_not_root_is_reported() -> None:
    problems = missing_prerequisites(facts(uid=1000))
    assert len(problems) == 1 and "root" in problems[0]


def test_missing_tools_name_the_debian_package_to_install() -> None:
    problems = missing_prerequisites(facts(missing=frozenset({"systemd-nspawn", "btrfs"})))
    assert any("apt-get install -y systemd-container" in problem for problem in problems)
    assert any("apt-get install -y btrfs-progs" in problem for problem in problems)


def test_debootstrap_is_only_needed_to_build_the_base() -> None:
    machine = facts(missing=frozenset({"debootstrap"}))
    assert missing_prerequisites(machine) == []
    assert "debootstrap" in missing_prerequisites(machine, building=True)[0]


def test_missing_kernel_support_is_reported() -> None:
    machine = MachineFacts(0, lambda tool: tool, frozenset({"ext4"}), has_loop_control=False)
    problems = " ".join(missing_prerequisites(machine))
    assert "overlay" in problems and "btrfs" in problems and "loop" in problems


def test_the_inotify_instance_limit_is_raised_once_when_too_low(tmp_path: Path) -> None:
    limit = tmp_path / "max_user_instances"
    limit.write_text("128\n", encoding="ascii")
    assert ensure_inotify_instances(limit) == 128
    assert limit.read_text(encoding="ascii") == "1024\n"
    assert ensure_inotify_instances(limit) is None  # enough now: left as it is
    limit.write_text("8192\n", encoding="ascii")
    assert ensure_inotify_instances(limit) is None
    assert limit.read_text(encoding="ascii") == "8192\n"  # never lowered
    assert ensure_inotify_instances(tmp_path / "absent") is None


def test_a_limit_that_cannot_be_raised_says_what_to_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    limit = tmp_path / "max_user_instances"
    limit.write_text("128\n", encoding="ascii")

    def refuse(*_arguments: object, **_options: object) -> int:
        raise PermissionError(13, "Permission denied")
    # A stand-in for a read-only /proc/sys (a container, no CAP_SYS_ADMIN): root can write
    # any temporary file, so the refusal itself has to be simulated.
    monkeypatch.setattr(Path, "write_text", refuse)
    with pytest.raises(PrerequisiteError, match=r"it is 128.*Permission denied.*sysctl "
                                                r"fs\.inotify\.max_user_instances=1024"):
        ensure_inotify_instances(limit)
