"""The public views of lab hosts that the rest of nasops (tests, CLI, Ansible runs) uses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nasops.lab.paths import GUEST_VOLUME_PATH, HostPaths
from nasops.lab.state import Condition, HostState


@dataclass(frozen=True)
class LabHost:
    """A booted lab host and everything needed to reach it."""

    name: str
    address: str
    hostname: str
    state_directory: Path
    # The merged root filesystem on this machine (what the host sees as /).
    root_path: Path
    # Where the data volume is mounted on this machine, and where the host sees it.
    volume_mount_path: Path
    volume_path: str
    private_key_path: Path
    known_hosts_path: Path
    inventory_path: Path
    nspawn_pid: int | None
    # The Debian release it runs (bookworm, trixie).
    release: str = "bookworm"
    # The login Ansible uses with become (sudo), or None: root.
    admin_user: str | None = None

    @classmethod
    def from_state(cls, state: HostState, paths: HostPaths) -> LabHost:
        """Given a host's state and paths, return its public view."""
        return cls(
            name=state.name,
            address=state.address,
            hostname=state.hostname,
            state_directory=paths.directory,
            root_path=paths.root,
            volume_mount_path=paths.volume_mount,
            volume_path=GUEST_VOLUME_PATH,
            private_key_path=paths.private_key,
            known_hosts_path=paths.known_hosts,
            inventory_path=paths.inventory,
            release=state.release,
            admin_user=state.admin_user,
            nspawn_pid=state.nspawn.pid if state.nspawn else None,
        )


@dataclass(frozen=True)
class HostStatus:
    """One line of `nasops lab status`."""

    name: str
    address: str
    hostname: str
    condition: Condition
    nspawn_pid: int | None
    # What is still up on the machine for a stale host, in words.
    leftovers: tuple[str, ...] = ()
