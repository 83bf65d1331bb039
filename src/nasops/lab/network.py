"""Loopback aliases for lab hosts: Samba binds only to addresses that sit on an interface."""

from __future__ import annotations

import errno
import socket

from nasops.errors import CommandFailedError
from nasops.execute import run_command

LOOPBACK_INTERFACE = "lo"
# The same prefix as 127.0.0.1/8, so the alias joins the existing loopback network.
ALIAS_PREFIX_LENGTH = 8
# sshd and smbd of a lab host listen on these ports of its own address.
SERVICE_PORTS = (22, 445)


def parse_interface_addresses(text: str) -> set[str]:
    """Given `ip -o -4 addr show` output, return the IPv4 addresses (without prefix length)."""
    addresses: set[str] = set()
    for line in text.splitlines():
        words = line.split()
        if "inet" in words:
            position = words.index("inet") + 1
            if position < len(words):
                addresses.add(words[position].split("/")[0])
    return addresses


def loopback_addresses() -> set[str]:
    """Return the IPv4 addresses currently on the loopback interface."""
    result = run_command(["ip", "-o", "-4", "addr", "show", "dev", LOOPBACK_INTERFACE])
    return parse_interface_addresses(result.stdout)


def add_loopback_address(address: str) -> None:
    """Put address on the loopback interface (no-op if it is there already)."""
    if address not in loopback_addresses():
        run_command(
            ["ip", "addr", "add", f"{address}/{ALIAS_PREFIX_LENGTH}", "dev", LOOPBACK_INTERFACE]
        )


def remove_loopback_address(address: str) -> None:
    """Take address off the loopback interface (no-op if it is not there)."""
    if address == "127.0.0.1":
        raise CommandFailedError("refusing to remove 127.0.0.1 from the loopback interface")
    if address in loopback_addresses():
        run_command(
            ["ip", "addr", "del", f"{address}/{ALIAS_PREFIX_LENGTH}", "dev", LOOPBACK_INTERFACE]
        )


def port_in_use(address: str, port: int) -> bool:
    """Given an address and TCP port, return whether something already listens there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR ignores connections in TIME_WAIT: only a real listener makes bind fail.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def busy_service_ports(address: str) -> list[int]:
    """Given a lab address, return which of the host's service ports are taken by others."""
    return [port for port in SERVICE_PORTS if port_in_use(address, port)]
