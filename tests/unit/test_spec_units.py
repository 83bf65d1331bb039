"""Sizes, durations and check subsets as people write them in the spec."""

from __future__ import annotations

import re

import pytest

from nasops.spec.units import format_size, parse_duration, parse_size, parse_subset

GIB = 1024**3


@pytest.mark.parametrize(("text", "expected"), [
    ("500G", 500 * GIB),
    ("1.5T", int(1.5 * 1024**4)),
    ("750M", 750 * 1024**2),
    ("1K", 1024),
    ("2P", 2 * 1024**5),
    ("2GB", 2 * GIB),
    ("2GiB", 2 * GIB),
    ("2gb", 2 * GIB),
    (" 3 G ", 3 * GIB),
    ("10", 10),
    ("0", 0),
    (4096, 4096),
])
def test_parse_size_accepts_common_spellings(text: str | int, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "G", "1e3G", "-1G", "ten G", "1,5T", "5X", "1.5.2G"])
def test_parse_size_rejects_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape("write it like 500G, 1.5T or 750M")):
        parse_size(text)


@pytest.mark.parametrize("value", [True, -1])
def test_parse_size_rejects_booleans_and_negative_numbers(value: int) -> None:
    with pytest.raises(ValueError):
        parse_size(value)


@pytest.mark.parametrize(("size", "expected"), [
    (0, "0B"), (1023, "1023B"), (1024, "1K"), (1536 * GIB, "1.5T"), (2 * 1024**4, "2T"),
    (200 * GIB, "200G"), (5 * 1024**5, "5P"), (int(1.25 * 1024**2), "1.2M"),
])
def test_format_size_is_short(size: int, expected: str) -> None:
    assert format_size(size) == expected


@pytest.mark.parametrize("size", [1024, 200 * GIB, 1536 * GIB, 3 * 1024**4])
def test_format_size_round_trips_whole_tenths(size: int) -> None:
    assert parse_size(format_size(size)) == size


@pytest.mark.parametrize("text", ["30d", "1y6m", "1y", "6m", "12h", "0d", "1y2m3d4h", " 7d "])
def test_parse_duration_accepts_restic_durations(text: str) -> None:
    assert parse_duration(text) == text.strip()


@pytest.mark.parametrize("text", ["", "30 days", "1d1y", "30", "1w", "d", "-3d"])
def test_parse_duration_rejects_with_examples(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration; write it like 30d"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["5%", "0.5%", "100%", "1/10", "10/10", "2G", "500M", "2g",
                                  "100B"])
def test_parse_subset_accepts_what_restic_accepts(text: str) -> None:
    assert parse_subset(text) == text


@pytest.mark.parametrize(("text", "message"), [
    ("0%", "more than 0% and at most 100%"),
    ("100.5%", "more than 0% and at most 100%"),
    ("0/10", "the first number must be at least 1"),
    ("11/10", "the first number must be at least 1"),
    ("1/0", "the first number must be at least 1"),
    ("abc", "is not a subset"),
    ("5 %", "is not a subset"),
    # restic 0.14 refuses these (checked with `restic check --read-data-subset`).
    ("2GiB", "is not a subset"),
    ("1.5G", "is not a subset"),
    ("100", "is not a subset"),
])
def test_parse_subset_rejects_in_plain_words(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_subset(text)
