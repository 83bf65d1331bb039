"""Lab input checks: only loopback addresses, sane names and volume sizes."""

from __future__ import annotations

import pytest

from nasops.errors import EXIT_BAD_INPUT, BadInputError
from nasops.lab.validate import next_free_address, parse_size, validate_address, validate_name


@pytest.mark.parametrize(
    ("given", "expected"),
    [("127.0.0.2", "127.0.0.2"), (" 127.0.0.3 ", "127.0.0.3"), ("127.1.2.3", "127.1.2.3")],
)
def test_loopback_addresses_are_accepted(given: str, expected: str) -> None:
    assert validate_address(given) == expected


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.2",
        "192.168.1.10",
        "0.0.0.0",  # noqa: S104 - only a string to refuse, nothing binds to it
        "192.0.2.10",
        "::1",
        "128.0.0.1",
        "localhost",
        "127.0.0",
    ],
)
def test_addresses_outside_loopback_are_refused_with_exit_code_2(address: str) -> None:
    with pytest.raises(BadInputError) as caught:
        validate_address(address)
    assert caught.value.exit_code == EXIT_BAD_INPUT


@pytest.mark.parametrize("address", ["127.0.0.0", "127.0.0.1", "127.255.255.255"])
def test_reserved_loopback_addresses_are_refused(address: str) -> None:
    with pytest.raises(BadInputError, match="reserved"):
        validate_address(address)


def test_outside_message_says_what_is_allowed() -> None:
    with pytest.raises(BadInputError, match=r"127\.0\.0\.0/8"):
        validate_address("10.1.2.3")


def test_next_free_address_starts_at_two_and_skips_taken_ones() -> None:
    assert next_free_address([]) == "127.0.0.2"
    assert next_free_address(["127.0.0.2", "127.0.0.3", "127.0.0.5"]) == "127.0.0.4"


def test_next_free_address_crosses_octets() -> None:
    taken = [f"127.0.0.{last}" for last in range(2, 256)]
    assert next_free_address(taken) == "127.0.1.0"


@pytest.mark.parametrize("name", ["nas", "offsite", "field-laptop", "n", "nas2"])
def test_good_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["", "NAS", "-nas", "nas-", "2nas", "n_a_s", "a/b", "x" * 40])
def test_bad_names(name: str) -> None:
    with pytest.raises(BadInputError):
        validate_name(name)


@pytest.mark.parametrize(
    ("size", "expected"),
    [("2G", 2 << 30), ("512M", 512 << 20), ("1g", 1 << 30), ("3GiB", 3 << 30), ("1T", 1 << 40)],
)
def test_sizes(size: str, expected: int) -> None:
    assert parse_size(size) == expected


@pytest.mark.parametrize("size", ["", "G", "2X", "-1G", "1.5G", "100M"])
def test_bad_or_too_small_sizes(size: str) -> None:
    with pytest.raises(BadInputError):
        parse_size(size)
