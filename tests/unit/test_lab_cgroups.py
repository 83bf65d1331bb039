"""Each lab host gets a cgroup of its own (issue 19: hosts sharing one came up degraded)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from nasops.errors import CommandFailedError
from nasops.lab import cgroups
from nasops.lab.state import HostState, Observation, classify, leftovers
from nasops.lab.volume import parse_mountinfo

# This machine's layout: cgroup v1 hybrid, with the unified hierarchy beside name=systemd.
HYBRID = """\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate
32 30 0:28 / /sys/fs/cgroup/systemd rw,nosuid - cgroup cgroup rw,xattr,name=systemd
33 30 0:29 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
34 30 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
"""
UNIFIED = "25 1 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"


def test_mountinfo_keeps_the_filesystem_options() -> None:
    mounts = parse_mountinfo(HYBRID)
    assert mounts[3].super_options == "rw,xattr,name=systemd"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HYBRID, [Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup/systemd")]),
        (UNIFIED, [Path("/sys/fs/cgroup")]),
    ],
)
def test_hierarchies_are_the_ones_systemd_tracks_processes_in(
    tmp_path: Path, text: str, expected: list[Path]
) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(text, encoding="utf-8")
    assert cgroups.hierarchies(mountinfo) == expected


def test_hosts_with_the_same_name_in_two_roots_get_two_cgroups() -> None:
    first = cgroups.host_cgroup_name("nasops-nas", "a" * 32)
    second = cgroups.host_cgroup_name("nasops-nas", "b" * 32)
    assert first != second
    assert first.startswith(f"{cgroups.LAB_CGROUP}/nasops-nas-")


def test_the_command_runs_inside_every_cgroup_as_the_same_process(tmp_path: Path) -> None:
    # Plain files stand in for cgroup.procs: the launcher writes its own PID into each one,
    # then becomes the command, which therefore prints that same PID.
    directories = [tmp_path / "unified", tmp_path / "systemd"]
    for directory in directories:
        directory.mkdir()
    argv = cgroups.enter_argv(directories, ["sh", "-c", 'echo "$$"; exec true'])
    # The launcher's "--" must not be confused with one inside the command.
    result = subprocess.run(argv, capture_output=True, text=True, check=True)
    pid = result.stdout.strip()
    assert [(d / "cgroup.procs").read_text().strip() for d in directories] == [pid, pid]


def test_the_command_does_not_run_when_a_cgroup_cannot_be_entered(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    argv = cgroups.enter_argv([tmp_path / "missing"], ["touch", str(marker)])
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.returncode == 125 and not marker.exists()


def test_create_then_remove_leaves_nothing(tmp_path: Path) -> None:
    roots = [tmp_path / "a", tmp_path / "b"]
    directories = cgroups.host_cgroups("nasops-lab/nasops-nas-0123", roots)
    cgroups.create(directories)
    # What the container's systemd leaves behind inside its cgroup.
    (directories[0] / "payload/system.slice/ssh.service").mkdir(parents=True)
    assert cgroups.present(directories) == directories
    cgroups.remove(directories)
    assert cgroups.present(directories) == []
    assert not (tmp_path / "a/nasops-lab").exists()


def test_remove_keeps_the_shared_parent_while_another_host_uses_it(tmp_path: Path) -> None:
    ours = cgroups.host_cgroups("nasops-lab/nasops-one-0", [tmp_path])
    theirs = cgroups.host_cgroups("nasops-lab/nasops-two-1", [tmp_path])
    cgroups.create(ours + theirs)
    cgroups.remove(ours)
    assert cgroups.present(theirs) == theirs


def test_a_cgroup_that_cannot_be_removed_is_an_error(tmp_path: Path) -> None:
    # A file stands in for a cgroup still holding a process: rmdir refuses both.
    directories = cgroups.host_cgroups("nasops-lab/nasops-nas-0", [tmp_path])
    cgroups.create(directories)
    (directories[0] / "busy").write_text("", encoding="utf-8")
    with pytest.raises(CommandFailedError, match="still runs"):
        cgroups.remove(directories)


def test_no_hierarchy_is_an_error_not_a_shared_cgroup() -> None:
    with pytest.raises(CommandFailedError, match="cgroup"):
        cgroups.create([])


def test_a_leftover_cgroup_makes_a_stopped_host_stale() -> None:
    state = HostState("nas", "127.0.0.2", "nas", "/base", 1 << 30, "0" * 32)
    observation = Observation(cgroups=("/sys/fs/cgroup/systemd/nasops-lab/nasops-nas-0",))
    assert leftovers(state, observation) == [
        "cgroup /sys/fs/cgroup/systemd/nasops-lab/nasops-nas-0"
    ]
    assert classify(state, observation).value == "stale"
