"""Where the lab keeps things on the machine: one state directory per host, one shared cache."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

STATE_DIRECTORY_VARIABLE = "NASOPS_LAB_STATE_DIR"
CACHE_DIRECTORY_VARIABLE = "NASOPS_LAB_CACHE_DIR"
DEFAULT_STATE_ROOT = Path("/var/lib/nasops/lab")
DEFAULT_CACHE_ROOT = Path("/var/cache/nasops/lab")

# Where the data volume appears inside every lab host (the spec's `volume`).
GUEST_VOLUME_PATH = "/srv/nas"


@dataclass(frozen=True)
class LabDirectories:
    """The two roots of the lab: per-host state and the shared base cache."""

    state_root: Path = DEFAULT_STATE_ROOT
    cache_root: Path = DEFAULT_CACHE_ROOT

    @classmethod
    def from_environment(cls, environment: Mapping[str, str] | None = None) -> LabDirectories:
        """Given the environment, return the roots, honouring the NASOPS_LAB_* overrides."""
        environment = os.environ if environment is None else environment
        state = environment.get(STATE_DIRECTORY_VARIABLE) or str(DEFAULT_STATE_ROOT)
        cache = environment.get(CACHE_DIRECTORY_VARIABLE) or str(DEFAULT_CACHE_ROOT)
        return cls(Path(state).absolute(), Path(cache).absolute())

    def host(self, name: str) -> HostPaths:
        """Given a host name, return the paths of its state directory."""
        return HostPaths(self.state_root / name)

    @property
    def lock_file(self) -> Path:
        """Return the lock that serialises lab operations (address choice, mounts)."""
        return self.state_root / ".lock"


@dataclass(frozen=True)
class HostPaths:
    """Every file and directory of one lab host, all under its state directory."""

    directory: Path

    @property
    def state_file(self) -> Path:
        return self.directory / "state.json"

    @property
    def upper(self) -> Path:
        """The overlay upper layer: everything the host changed relative to the base."""
        return self.directory / "upper"

    @property
    def work(self) -> Path:
        """The overlay work directory (must be on the same filesystem as `upper`)."""
        return self.directory / "work"

    @property
    def root(self) -> Path:
        """The merged root filesystem the container boots from."""
        return self.directory / "root"

    @property
    def volume_image(self) -> Path:
        return self.directory / "data.img"

    @property
    def volume_mount(self) -> Path:
        """Where the btrfs data volume is mounted on the machine (bound to /srv/nas inside)."""
        return self.directory / "data"

    @property
    def ssh_directory(self) -> Path:
        return self.directory / "ssh"

    @property
    def private_key(self) -> Path:
        """The controller's key for root@host."""
        return self.ssh_directory / "id_ed25519"

    @property
    def host_key(self) -> Path:
        """The host's own sshd key, generated here so the controller can pin it."""
        return self.ssh_directory / "ssh_host_ed25519_key"

    @property
    def known_hosts(self) -> Path:
        return self.ssh_directory / "known_hosts"

    @property
    def inventory(self) -> Path:
        return self.directory / "inventory.yml"

    @property
    def nspawn_log(self) -> Path:
        return self.directory / "nspawn.log"
