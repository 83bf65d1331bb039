"""The lab hosts known under a state root, and which addresses they hold."""

from __future__ import annotations

import logging

from nasops.errors import BadInputError
from nasops.lab import network
from nasops.lab.paths import LabDirectories
from nasops.lab.state import HostState, load_state

logger = logging.getLogger("nasops.lab")


def scan_hosts(directories: LabDirectories) -> tuple[list[HostState], dict[str, str]]:
    """Return the readable host states, and for unreadable ones name -> error."""
    states: list[HostState] = []
    broken: dict[str, str] = {}
    if not directories.state_root.is_dir():
        return states, broken
    for directory in sorted(directories.state_root.iterdir()):
        if not directory.is_dir() or directory.name.startswith("."):
            continue
        try:
            state = load_state(directories.host(directory.name).state_file)
        except BadInputError as error:
            # One broken host must not block the others; `down --purge` removes it.
            logger.warning("%s", error)
            broken[directory.name] = str(error)
            continue
        if state is not None:
            states.append(state)
    return states, broken


def known_states(directories: LabDirectories) -> list[HostState]:
    """Return the readable states of every host under the state root."""
    return scan_hosts(directories)[0]


def check_address_free(state: HostState, directories: LabDirectories) -> None:
    """Refuse an address another lab host holds or whose service ports are taken."""
    for other in known_states(directories):
        if other.name != state.name and other.address == state.address:
            raise BadInputError(
                f"address {state.address} belongs to lab host {other.name}; choose another "
                "--address in 127.0.0.0/8"
            )
    busy = network.busy_service_ports(state.address)
    if busy:
        ports = ", ".join(str(port) for port in busy)
        raise BadInputError(
            f"{state.address} port {ports} is already in use on this machine (a lab host of "
            "another state directory, or a service listening on all addresses?); "
            "choose another --address"
        )
