"""Booting and stopping one lab host: its mounts, its address and its systemd-nspawn process."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from nasops.errors import CommandFailedError
from nasops.lab import cgroups, network, processes, volume
from nasops.lab.paths import GUEST_VOLUME_PATH, HostPaths
from nasops.lab.processes import ProcessRecord
from nasops.lab.state import HostState, Observation, save_state

STOP_TIMEOUT = 30.0
KILL_TIMEOUT = 10.0
LEADER_TIMEOUT = 20.0
LOG_TAIL_CHARACTERS = 2000
# nspawn's per-machine scratch directory; it stays behind when nspawn is killed.
NSPAWN_PROPAGATE = Path("/run/systemd/nspawn/propagate")
# nspawn's lock file for the booted directory, named after the device and inode of the root.
NSPAWN_LOCKS = Path("/run/systemd/nspawn/locks")

Progress = Callable[[str], None]


def machine_name(state: HostState) -> str:
    """Given a host state, return the container's machine name."""
    return f"nasops-{state.name}"


def host_cgroups(state: HostState) -> list[Path]:
    """Given a host state, return its own cgroup in each hierarchy (see nasops.lab.cgroups)."""
    return cgroups.host_cgroups(cgroups.host_cgroup_name(machine_name(state), state.machine_id))


def nspawn_argv(state: HostState, paths: HostPaths) -> list[str]:
    """Given a host's state and paths, return the systemd-nspawn command that boots it."""
    return [
        "systemd-nspawn",
        "--quiet",
        # No systemd/machined on the machine: do not register, stay in our own cgroup.
        "--register=no",
        "--keep-unit",
        "--settings=no",
        "--boot",
        f"--directory={paths.root}",
        f"--machine={machine_name(state)}",
        f"--hostname={state.hostname}",
        f"--uuid={state.machine_id}",
        # No --network-* option: the host shares the machine's network and binds its address.
        f"--bind={paths.volume_mount}:{GUEST_VOLUME_PATH}",
        "--link-journal=no",
        "--console=read-only",
        "--kill-signal=SIGRTMIN+3",
    ]


def observe(state: HostState, paths: HostPaths) -> Observation:
    """Given a host's state, return what the machine shows about it right now."""
    mounts = volume.mounts_under(paths.directory)
    points = {mount.mount_point for mount in mounts}
    known = {paths.root.absolute(), paths.volume_mount.absolute()}
    loops = volume.loop_devices_of(paths.volume_image) if paths.volume_image.exists() else []
    return Observation(
        nspawn_alive=processes.is_alive(state.nspawn),
        leader_alive=processes.is_alive(state.leader),
        root_mounted=paths.root.absolute() in points,
        volume_mounted=paths.volume_mount.absolute() in points,
        loop_devices=tuple(loops),
        address_present=state.address in network.loopback_addresses(),
        other_mounts=tuple(str(point) for point in sorted(points - known)),
        cgroups=tuple(str(directory) for directory in cgroups.present(host_cgroups(state))),
    )


def activate(state: HostState, paths: HostPaths) -> HostState:
    """Put the host's address, data volume and root in place; return the updated state."""
    if state.address not in network.loopback_addresses():
        # Record the intent first: if we crash right after, cleanup knows the address is ours.
        state = replace(state, address_added=True)
        save_state(paths.state_file, state)
        network.add_loopback_address(state.address)
    device = volume.attach_loop(paths.volume_image)
    volume.mount_volume(device, paths.volume_mount)
    volume.mount_overlay(Path(state.base_root), paths.upper, paths.work, paths.root)
    return state


def _log_tail(paths: HostPaths) -> str:
    try:
        text = paths.nspawn_log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return text[-LOG_TAIL_CHARACTERS:]


def _find_leader(nspawn: ProcessRecord, paths: HostPaths) -> ProcessRecord:
    """Wait for the container's init (a child of nspawn that became systemd); return it."""
    deadline = time.monotonic() + LEADER_TIMEOUT
    while time.monotonic() < deadline:
        if not processes.is_alive(nspawn):
            raise CommandFailedError(
                f"systemd-nspawn exited while booting; end of {paths.nspawn_log}:\n"
                + _log_tail(paths)
            )
        for child in processes.children_of(nspawn.pid):
            if processes.command_name(child) == "systemd":
                return processes.record_process(child)
        time.sleep(0.1)
    raise CommandFailedError(f"the container's systemd did not start; see {paths.nspawn_log}")


def boot(state: HostState, paths: HostPaths) -> HostState:
    """Start systemd-nspawn for an activated host; return the state with its recorded PIDs."""
    own_cgroups = host_cgroups(state)
    cgroups.create(own_cgroups)
    with paths.nspawn_log.open("ab") as log:
        log.write(f"\n==== nasops lab: booting {state.name} at {time.ctime()}\n".encode())
        log.flush()
        # A long-running process: not run_command. Its own session keeps it out of the
        # terminal's Ctrl-C, and its PID is recorded right away so only it is ever signalled.
        # It enters the host's own cgroup before it execs nspawn, so hosts share no cgroup.
        process = subprocess.Popen(
            cgroups.enter_argv(own_cgroups, nspawn_argv(state, paths)),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    nspawn = processes.record_process(process.pid)
    state = replace(state, nspawn=nspawn, leader=None)
    save_state(paths.state_file, state)
    leader = _find_leader(nspawn, paths)
    state = replace(state, leader=leader)
    save_state(paths.state_file, state)
    return state


def stop(state: HostState, timeout: float = STOP_TIMEOUT, progress: Progress | None = None) -> None:
    """Stop the host's recorded processes: clean halt first, SIGKILL only after timeout."""
    say = progress or (lambda _message: None)
    if state.nspawn and processes.send_signal(state.nspawn, signal.SIGTERM):
        # nspawn forwards this as the halt signal to systemd inside and waits for it.
        say(f"{state.name}: halting (SIGTERM to systemd-nspawn {state.nspawn.pid})")
    elif state.leader and processes.send_signal(state.leader, processes.HALT_SIGNAL):
        # nspawn is gone (crash) but the container's systemd survived it: halt it directly.
        say(f"{state.name}: halting orphaned container init {state.leader.pid}")
    if processes.wait_until_gone([state.nspawn, state.leader], timeout):
        return
    say(f"{state.name}: no clean halt within {timeout:.0f} s, sending SIGKILL")
    # Killing the container's init ends its whole PID namespace.
    processes.send_signal(state.leader, signal.SIGKILL)
    processes.send_signal(state.nspawn, signal.SIGKILL)
    if not processes.wait_until_gone([state.nspawn, state.leader], KILL_TIMEOUT):
        raise CommandFailedError(f"lab host {state.name}: processes survived SIGKILL")


def deactivate(state: HostState, paths: HostPaths) -> None:
    """Undo activate(): unmount, free the loop device and remove the address we added."""
    with contextlib.suppress(OSError):
        # rmdir only removes it when empty, i.e. when nothing of a running container is in it.
        (NSPAWN_PROPAGATE / machine_name(state)).rmdir()
    if volume.is_mounted(paths.root):
        # Only called once our nspawn is gone, so its lock on the root is no longer held.
        with contextlib.suppress(OSError):
            root = paths.root.stat()
            (NSPAWN_LOCKS / f"inode-{root.st_dev}:{root.st_ino}").unlink(missing_ok=True)
    volume.unmount_all_under(paths.directory)
    if paths.volume_image.exists():
        volume.detach_loops(paths.volume_image)
    if state.address_added:
        network.remove_loopback_address(state.address)
    cgroups.remove(host_cgroups(state))
