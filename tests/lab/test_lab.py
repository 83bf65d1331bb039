"""The lab end to end: real hosts boot, serve ssh and SMB on their address, enforce quotas,
survive a crash of their nspawn, and leave nothing behind when taken down."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from nasops.execute import run_command
from nasops.lab import Condition, LabDirectories, LabHost, lab_down, lab_status, lab_up, run_in_host
from nasops.lab.paths import STATE_DIRECTORY_VARIABLE
from nasops.lab.processes import is_alive
from nasops.lab.state import load_state
from nasops.lab.testing import LabHostFactory

pytestmark = pytest.mark.lab

# Runs the real CLI entry point, registering the lab group in case main does not yet.
CLI = (
    "import sys; from nasops.cli import lab, main; lab.register(main.cli); "
    "sys.exit(main.main(sys.argv[1:]))"
)


def nasops(directories: LabDirectories, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ, **{STATE_DIRECTORY_VARIABLE: str(directories.state_root)})
    return subprocess.run(
        [sys.executable, "-c", CLI, *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )


def ssh_from_inventory(inventory: Path, command: str) -> subprocess.CompletedProcess[str]:
    """Run command on the inventory's only host exactly as Ansible would connect to it."""
    data = YAML(typ="safe").load(inventory.read_text())
    host_vars = next(iter(data["all"]["children"]["nas"]["hosts"].values()))
    argv = [
        "ssh",
        "-F", "/dev/null",
        "-i", host_vars["ansible_ssh_private_key_file"],
        *shlex.split(host_vars["ansible_ssh_common_args"]),
        "-o", "BatchMode=yes",
        f"{host_vars['ansible_user']}@{host_vars['ansible_host']}",
        command,
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def test_cli_up_prints_an_inventory_that_reaches_a_running_system(
    lab_nas: LabHost, lab_directories: LabDirectories
) -> None:
    result = nasops(lab_directories, "lab", "up", "--name", "nas", "--address", "127.0.0.2")
    assert result.returncode == 0, result.stderr
    inventory = Path(result.stdout.strip().splitlines()[-1])
    assert inventory == lab_nas.inventory_path
    answer = ssh_from_inventory(inventory, "systemctl is-system-running --wait")
    assert answer.stdout.strip() == "running", answer.stdout + answer.stderr
    assert "StrictHostKeyChecking=no" not in inventory.read_text()


def test_cli_ssh_returns_the_command_exit_code(
    lab_nas: LabHost, lab_directories: LabDirectories
) -> None:
    result = nasops(lab_directories, "lab", "ssh", "nas", "--", "sh", "-c", "hostname; exit 7")
    assert result.returncode == 7
    assert result.stdout.strip() == "nas"


def test_cli_refuses_an_address_outside_loopback(lab_directories: LabDirectories) -> None:
    result = nasops(lab_directories, "lab", "up", "--name", "stray", "--address", "10.1.2.3")
    assert result.returncode == 2
    assert "127.0.0.0/8" in result.stderr and "Traceback" not in result.stderr


def test_the_host_has_its_identity_and_locale(lab_nas: LabHost) -> None:
    result = run_in_host(lab_nas, ["sh", "-c", 'hostname; echo "$LANG"; mkdir -p /tmp/été'])
    assert result.stdout.split() == ["nas", "C.UTF-8"]
    # Masked in the base: NetBIOS and the AD DC, and what a container has no use for.
    units = run_in_host(
        lab_nas,
        ["systemctl", "is-enabled", "smbd", "nmbd", "samba-ad-dc", "systemd-remount-fs",
         "console-getty"],
        accepted_codes=range(256),
    )  # fmt: skip
    assert units.stdout.split() == ["enabled", "masked", "masked", "masked", "masked"]
    listening = run_in_host(lab_nas, ["ss", "-Hltn"]).stdout
    assert "127.0.0.2:22" in listening and "127.0.0.2:445" in listening
    assert "0.0.0.0:22 " not in listening and "*:445" not in listening


def test_samba_answers_on_the_host_address(lab_nas: LabHost) -> None:
    anonymous = run_command(["smbclient", "-L", f"//{lab_nas.address}", "-N"], timeout=60)
    assert "IPC$" in anonymous.stdout
    run_in_host(lab_nas, ["useradd", "--no-create-home", "labtester"], accepted_codes=(0, 9))
    run_in_host(
        lab_nas,
        ["smbpasswd", "-a", "-s", "labtester"],
        input_text="Lab-Secret-1\nLab-Secret-1\n",
    )
    listing = ["smbclient", "-L", f"//{lab_nas.address}", "-U", "labtester"]
    good = run_command(listing, environment={"PASSWD": "Lab-Secret-1"}, timeout=60)
    assert "IPC$" in good.stdout
    bad = run_command(
        listing, environment={"PASSWD": "wrong"}, timeout=60, accepted_codes=range(1, 256)
    )
    assert "NT_STATUS_LOGON_FAILURE" in bad.stdout + bad.stderr


def test_qgroup_limit_is_enforced_inside(lab_nas: LabHost) -> None:
    subvolume = "/srv/nas/quota-test"
    run_in_host(lab_nas, ["btrfs", "subvolume", "delete", subvolume], accepted_codes=range(256))
    run_in_host(lab_nas, ["btrfs", "subvolume", "create", subvolume])
    run_in_host(lab_nas, ["btrfs", "qgroup", "limit", "10M", subvolume])
    write = run_in_host(
        lab_nas,
        ["dd", "if=/dev/zero", f"of={subvolume}/big", "bs=1M", "count=20", "conv=fsync"],
        accepted_codes=range(256),
    )
    assert write.returncode != 0
    assert "Disk quota exceeded" in write.stderr
    run_in_host(lab_nas, ["btrfs", "subvolume", "delete", subvolume])


def test_up_twice_is_idempotent(lab_nas: LabHost, lab_directories: LabDirectories) -> None:
    pinned = lab_nas.known_hosts_path.read_text()
    again = lab_up("nas", "127.0.0.2", directories=lab_directories)
    assert again.nspawn_pid == lab_nas.nspawn_pid
    assert again.known_hosts_path.read_text() == pinned
    statuses = {status.name: status for status in lab_status(lab_directories)}
    assert statuses["nas"].condition is Condition.RUNNING


def test_several_hosts_run_at_once_from_one_base(
    lab_nas: LabHost, lab_hosts: LabHostFactory
) -> None:
    offsite = lab_hosts("offsite", "127.0.0.3")
    laptop = lab_hosts("laptop", "127.0.0.4", hostname="field-laptop")
    for host, hostname in [(lab_nas, "nas"), (offsite, "offsite"), (laptop, "field-laptop")]:
        assert run_in_host(host, ["hostname"]).stdout.strip() == hostname
    run_in_host(offsite, ["touch", "/srv/nas/only-on-offsite"])
    seen = run_in_host(laptop, ["test", "-e", "/srv/nas/only-on-offsite"], accepted_codes=(0, 1))
    assert seen.returncode == 1, "each host must have its own data volume"
    # The base is shared read-only, not copied: a fresh host's own layer stays small.
    upper = run_command(["du", "-sm", str(laptop.state_directory / "upper")])
    assert int(upper.stdout.split()[0]) < 64


def test_a_crashed_host_is_stale_and_up_recovers_it(lab_hosts: LabHostFactory) -> None:
    host = lab_hosts("crashy", "127.0.0.5")
    run_in_host(host, ["sh", "-c", "echo kept > /srv/nas/before-crash"])
    assert host.nspawn_pid is not None
    os.kill(host.nspawn_pid, signal.SIGKILL)  # a PID the lab started and recorded
    time.sleep(0.5)
    status = {status.name: status for status in lab_status(lab_hosts.directories)}["crashy"]
    assert status.condition is Condition.STALE
    assert any("container init" in leftover for leftover in status.leftovers)
    recovered = lab_hosts("crashy", "127.0.0.5")
    assert recovered.nspawn_pid != host.nspawn_pid
    running = run_in_host(recovered, ["systemctl", "is-system-running", "--wait"])
    assert running.stdout.strip() == "running"
    assert run_in_host(recovered, ["cat", "/srv/nas/before-crash"]).stdout.strip() == "kept"


def test_down_leaves_no_process_mount_loop_device_or_address(lab_hosts: LabHostFactory) -> None:
    host = lab_hosts("doomed", "127.0.0.6")
    state = load_state(host.state_directory / "state.json")
    assert state is not None and state.nspawn is not None and state.leader is not None
    assert lab_down("doomed", directories=lab_hosts.directories)
    # 1. processes: the recorded nspawn and container init are gone, and nothing else of it runs.
    assert not is_alive(state.nspawn) and not is_alive(state.leader)
    processes = run_command(["ps", "-eo", "pid,args"]).stdout
    assert "nasops-doomed" not in processes
    # 2. mounts
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(host.state_directory) not in mounts
    # 3. loop devices
    loops = run_command(["losetup", "-a"]).stdout
    assert str(host.state_directory / "data.img") not in loops
    # 4. the address
    addresses = run_command(["ip", "-o", "addr", "show", "dev", "lo"]).stdout
    assert "127.0.0.6/" not in addresses
    statuses = {status.name: status for status in lab_status(lab_hosts.directories)}
    assert statuses["doomed"].condition is Condition.STOPPED
    assert lab_down("doomed", purge=True, directories=lab_hosts.directories)
    assert not host.state_directory.exists()


def test_a_host_that_ignores_the_halt_is_killed_after_the_timeout(
    lab_hosts: LabHostFactory,
) -> None:
    host = lab_hosts("frozen", "127.0.0.7")
    state = load_state(host.state_directory / "state.json")
    assert state is not None and state.leader is not None
    # A stopped init cannot act on the halt signal, like a shutdown that hangs.
    os.kill(state.leader.pid, signal.SIGSTOP)
    started = time.monotonic()
    lab_down("frozen", directories=lab_hosts.directories, stop_timeout=2)
    assert 2 <= time.monotonic() - started < 20
    assert not is_alive(state.nspawn) and not is_alive(state.leader)
    assert "127.0.0.7/" not in run_command(["ip", "-o", "addr", "show", "dev", "lo"]).stdout
