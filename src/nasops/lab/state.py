"""The state file of a lab host, and the decision whether a host runs, is stopped or is stale."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from nasops.errors import BadInputError
from nasops.lab.processes import ProcessRecord

STATE_VERSION = 1


class Condition(StrEnum):
    """What a lab host is, as far as the machine shows."""

    RUNNING = "running"
    STOPPED = "stopped"
    # Something is left from an earlier run (dead nspawn, a mount, a loop device, an address).
    STALE = "stale"


@dataclass(frozen=True)
class HostState:
    """What the lab remembers about a host between commands (state.json)."""

    name: str
    address: str
    hostname: str
    base_root: str
    volume_bytes: int
    machine_id: str
    # The Debian release of its base (hosts made before releases were chosen: bookworm).
    release: str = "bookworm"
    # An ordinary login with sudo that Ansible uses instead of root (`lab up --admin-user`).
    admin_user: str | None = None
    # True only if the lab put the address on `lo`, so `down` never removes one it did not add.
    address_added: bool = False
    nspawn: ProcessRecord | None = None
    leader: ProcessRecord | None = None
    version: int = STATE_VERSION

    def without_processes(self) -> HostState:
        """Return this state with no recorded processes (after a stop)."""
        return replace(self, nspawn=None, leader=None)


def state_to_json(state: HostState) -> str:
    """Given a state, return its JSON text."""
    return json.dumps(asdict(state), indent=2, sort_keys=True) + "\n"


def _record(value: Any) -> ProcessRecord | None:
    if value is None:
        return None
    return ProcessRecord(pid=int(value["pid"]), start_time=int(value["start_time"]))


def state_from_json(text: str, origin: str = "state.json", name: str = "NAME") -> HostState:
    """Given state JSON text, return the state or raise BadInputError saying how to recover."""
    try:
        data = json.loads(text)
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported version {data.get('version')!r}")
        return HostState(
            name=str(data["name"]),
            address=str(data["address"]),
            hostname=str(data["hostname"]),
            base_root=str(data["base_root"]),
            volume_bytes=int(data["volume_bytes"]),
            machine_id=str(data["machine_id"]),
            release=str(data.get("release", "bookworm")),
            admin_user=None if data.get("admin_user") is None else str(data["admin_user"]),
            address_added=bool(data.get("address_added", False)),
            nspawn=_record(data.get("nspawn")),
            leader=_record(data.get("leader")),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise BadInputError(
            f"{origin}: unreadable lab state ({error}); "
            f"remove the host with `nasops lab down --name {name} --purge`"
        ) from error


def load_state(path: Path) -> HostState | None:
    """Given a state file path, return its state, or None if the host was never created."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return state_from_json(text, str(path), path.parent.name)


def save_state(path: Path, state: HostState) -> None:
    """Write the state atomically, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(state_to_json(state), encoding="utf-8")
    os.replace(partial, path)


@dataclass(frozen=True)
class Observation:
    """What the machine shows about one host right now."""

    nspawn_alive: bool = False
    leader_alive: bool = False
    root_mounted: bool = False
    volume_mounted: bool = False
    loop_devices: tuple[str, ...] = ()
    address_present: bool = False
    other_mounts: tuple[str, ...] = field(default_factory=tuple)
    # The host's own cgroup directories (nasops.lab.cgroups); empty once it is cleaned up.
    cgroups: tuple[str, ...] = ()


def leftovers(state: HostState, observation: Observation) -> list[str]:
    """Given a state and what the machine shows, return what is still up, in words."""
    found: list[str] = []
    if observation.nspawn_alive and state.nspawn is not None:
        found.append(f"systemd-nspawn pid {state.nspawn.pid}")
    if observation.leader_alive and state.leader is not None:
        found.append(f"container init pid {state.leader.pid}")
    if observation.root_mounted:
        found.append("overlay root mount")
    if observation.volume_mounted:
        found.append("data volume mount")
    found.extend(f"mount {mount}" for mount in observation.other_mounts)
    found.extend(f"loop device {device}" for device in observation.loop_devices)
    if observation.address_present and state.address_added:
        found.append(f"address {state.address} on lo")
    found.extend(f"cgroup {directory}" for directory in observation.cgroups)
    return found


def classify(state: HostState, observation: Observation) -> Condition:
    """Given a state and what the machine shows, return whether the host runs, stopped or is stale.

    Running means the very processes we started are alive with both mounts in place;
    anything less that still leaves something behind is stale and needs cleaning first.
    """
    complete = (
        observation.nspawn_alive
        and observation.leader_alive
        and observation.root_mounted
        and observation.volume_mounted
        and bool(observation.loop_devices)
        and observation.address_present
    )
    if complete:
        return Condition.RUNNING
    if leftovers(state, observation):
        return Condition.STALE
    return Condition.STOPPED
