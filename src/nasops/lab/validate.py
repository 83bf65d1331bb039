"""Checks on what people type for the lab, done before anything on the machine is touched."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from nasops.errors import BadInputError

LOOPBACK_NETWORK = ipaddress.IPv4Network("127.0.0.0/8")
# 127.0.0.1 belongs to the machine itself; the lab hands out addresses from .2 upwards.
FIRST_LAB_ADDRESS = ipaddress.IPv4Address("127.0.0.2")
RESERVED_ADDRESSES = frozenset(
    {
        ipaddress.IPv4Address("127.0.0.0"),
        ipaddress.IPv4Address("127.0.0.1"),
        ipaddress.IPv4Address("127.255.255.255"),
    }
)
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]\Z|^[a-z]\Z")
SIZE_PATTERN = re.compile(r"^(?P<number>[0-9]+)(?P<unit>[KMGT]?)\Z")
SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
# mkfs.btrfs refuses devices much smaller than this with its default (DUP) metadata.
MINIMUM_VOLUME_BYTES = 256 << 20


def validate_name(name: str, what: str = "host name") -> str:
    """Given a lab host name (also its hostname), return it or raise BadInputError."""
    if not NAME_PATTERN.match(name):
        raise BadInputError(
            f"invalid lab {what} {name!r}: use 1-32 lowercase letters, digits and '-', "
            "starting with a letter and not ending with '-'"
        )
    return name


ADMIN_USER_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,30}\Z")


def validate_admin_user(login: str) -> str:
    """Given the admin login a lab host gets, return it or raise BadInputError."""
    if not ADMIN_USER_PATTERN.match(login) or login == "root":
        raise BadInputError(
            f"invalid admin user {login!r}: a login of 1-31 lowercase letters, digits and "
            "'-', starting with a letter, other than root")
    return login


def validate_address(address: str) -> str:
    """Given an address, return its normal form if the lab may use it, else raise BadInputError.

    Only 127.0.0.0/8 is allowed: lab traffic must never leave this machine.
    """
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError as error:
        raise BadInputError(f"invalid lab address {address!r}: not an IP address") from error
    if not isinstance(parsed, ipaddress.IPv4Address) or parsed not in LOOPBACK_NETWORK:
        raise BadInputError(
            f"refusing lab address {address}: lab hosts only use 127.0.0.0/8 "
            "(for example 127.0.0.2), so no traffic leaves this machine"
        )
    if parsed in RESERVED_ADDRESSES:
        raise BadInputError(
            f"refusing lab address {address}: 127.0.0.0, 127.0.0.1 and 127.255.255.255 "
            "are reserved; use 127.0.0.2 or above"
        )
    return str(parsed)


def next_free_address(used: Iterable[str]) -> str:
    """Given the addresses other lab hosts hold, return the lowest free one from 127.0.0.2."""
    taken = {ipaddress.IPv4Address(address) for address in used}
    candidate = FIRST_LAB_ADDRESS
    while candidate in taken or candidate in RESERVED_ADDRESSES:
        candidate += 1
        if candidate not in LOOPBACK_NETWORK:
            raise BadInputError("no free lab address left in 127.0.0.0/8")
    return str(candidate)


def parse_size(size: str) -> int:
    """Given a size such as 2G or 512M (powers of 1024), return bytes or raise BadInputError."""
    match = SIZE_PATTERN.match(size.strip().upper().removesuffix("B").removesuffix("I"))
    if not match:
        raise BadInputError(f"invalid volume size {size!r}: use a number with K, M, G or T")
    value = int(match["number"]) * SIZE_UNITS[match["unit"]]
    if value < MINIMUM_VOLUME_BYTES:
        raise BadInputError(f"volume size {size} is too small: btrfs needs at least 256M")
    return value
