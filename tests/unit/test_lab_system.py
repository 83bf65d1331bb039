"""Reading what the machine shows: /proc stat, mountinfo, `ip addr`, process identity."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from nasops.lab.network import parse_interface_addresses
from nasops.lab.processes import (
    ProcessRecord,
    is_alive,
    parse_stat,
    record_process,
    send_signal,
    wait_until_gone,
)
from nasops.lab.volume import mounts_under, parse_mountinfo

MOUNTINFO = """\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
90 22 0:50 / /var/lib/nasops/lab/nas/data rw,relatime - btrfs /dev/loop0 rw,space_cache=v2
91 22 0:51 / /var/lib/nasops/lab/nas/root rw,relatime - overlay overlay rw,lowerdir=/x
92 22 0:52 / /var/lib/nasops/lab/nas-two/root rw,relatime - overlay overlay rw,lowerdir=/x
93 22 0:53 / /var/lib/nasops/lab/with\\040space/root rw - overlay overlay rw
"""

IP_OUTPUT = """\
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
1: lo    inet 127.0.0.2/8 scope host secondary lo\\       valid_lft forever preferred_lft forever
"""


def test_parse_stat_survives_odd_command_names() -> None:
    # Field 22 (start time) is the 20th after the ')' that closes the command name.
    rest = " ".join(["S", *[str(n) for n in range(4, 22)], "424242", "0", "0"])
    assert parse_stat(f"1234 (we (ird) name) {rest}") == ("S", 424242)


def test_parse_mountinfo_unescapes_paths() -> None:
    mounts = parse_mountinfo(MOUNTINFO)
    assert mounts[1].mount_point == Path("/var/lib/nasops/lab/nas/data")
    assert mounts[1].filesystem == "btrfs"
    assert mounts[1].source == "/dev/loop0"
    assert mounts[4].mount_point == Path("/var/lib/nasops/lab/with space/root")


def test_mounts_under_only_matches_whole_path_components(tmp_path: Path) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(MOUNTINFO)
    found = mounts_under(Path("/var/lib/nasops/lab/nas"), mountinfo)
    # Deepest / last mounted first; nas-two is another host and is not included.
    assert [str(mount.mount_point) for mount in found] == [
        "/var/lib/nasops/lab/nas/root",
        "/var/lib/nasops/lab/nas/data",
    ]


def test_parse_interface_addresses() -> None:
    assert parse_interface_addresses(IP_OUTPUT) == {"127.0.0.1", "127.0.0.2"}
    assert parse_interface_addresses("") == set()


def test_this_process_is_alive_but_a_recycled_pid_is_not() -> None:
    me = record_process(os.getpid())
    assert is_alive(me)
    assert not is_alive(ProcessRecord(me.pid, me.start_time + 1))
    assert not is_alive(None)


def test_a_record_with_another_start_time_is_never_signalled() -> None:
    me = record_process(os.getpid())
    # Would kill the test run if the start-time guard did not hold.
    assert not send_signal(ProcessRecord(me.pid, me.start_time + 1), signal.SIGKILL)


def test_signalled_child_is_gone_and_reaped() -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        record = record_process(child.pid)
        assert send_signal(record, signal.SIGTERM)
        assert wait_until_gone([record], timeout=5)
        assert not is_alive(record)
    finally:
        child.kill()
        child.wait()
