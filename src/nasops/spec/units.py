"""Sizes (`500G`, `1.5T`), durations (`30d`, `1y6m`) and percentages in the spec."""

from __future__ import annotations

import re

SIZE_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(i?B?)?\s*\Z", re.IGNORECASE)
SIZE_FACTORS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
DURATION_PATTERN = re.compile(r"^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)d)?(?:(\d+)h)?\Z")
PERCENT_PATTERN = re.compile(r"^(\d+(?:\.\d+)?)%\Z")
FRACTION_PATTERN = re.compile(r"^(\d+)/(\d+)\Z")
# restic reads a subset size as a whole number and one unit letter (B, K, M, G or T);
# checked with restic 0.14: "1.5G", "2GiB" and "100" are refused.
SUBSET_BUCKETS = 256
SUBSET_SIZE_PATTERN = re.compile(r"^\d+[BKMGT]\Z", re.IGNORECASE)


def parse_size(text: str | int) -> int:
    """Given `500G`, `1.5T`, `750M` or a byte count, return bytes (binary units).

    Raise ValueError with a plain sentence when the text is not a size.
    """
    if isinstance(text, bool):
        raise ValueError("a size must look like 500G, 1.5T or 750M")
    if isinstance(text, int):
        if text < 0:
            raise ValueError("a size cannot be negative")
        return text
    match = SIZE_PATTERN.match(str(text))
    if not match:
        raise ValueError(f"'{text}' is not a size; write it like 500G, 1.5T or 750M")
    number, unit = float(match.group(1)), match.group(2).upper()
    return int(number * SIZE_FACTORS[unit])


def format_size(size: int) -> str:
    """Given bytes, return a short human size such as `1.5T` or `200G`."""
    for unit in ("P", "T", "G", "M", "K"):
        factor = SIZE_FACTORS[unit]
        if size >= factor:
            value = size / factor
            return f"{value:.1f}".rstrip("0").rstrip(".") + unit
    return f"{size}B"


def parse_duration(text: str) -> str:
    """Given a restic-style duration like `30d` or `1y6m`, return it normalised.

    Raise ValueError when it is not one.
    """
    value = str(text).strip()
    if not value or not DURATION_PATTERN.match(value):
        raise ValueError(f"'{text}' is not a duration; write it like 30d, 6m (months), 1y or 1y6m")
    return value


def parse_subset(text: str) -> str:
    """Given `5%`, `1/10` or a size like `2G`, return a valid `--read-data-subset` value."""
    value = str(text).strip()
    percent = PERCENT_PATTERN.match(value)
    if percent:
        if not 0 < float(percent.group(1)) <= 100:
            raise ValueError(f"'{text}' must be more than 0% and at most 100%")
        return value
    fraction = FRACTION_PATTERN.match(value)
    if fraction:
        part, total = int(fraction.group(1)), int(fraction.group(2))
        # restic splits the data into 256 buckets: t is at most 256.
        if not 1 <= part <= total <= SUBSET_BUCKETS:
            raise ValueError(f"'{text}': the first number must be at least 1 and at most the "
                             f"second, itself at most {SUBSET_BUCKETS}, e.g. 1/10")
        return value
    if not SUBSET_SIZE_PATTERN.match(value):
        raise ValueError(f"'{text}' is not a subset; write 5%, 1/10 or a whole size like 2G")
    if not int(value[:-1]):
        raise ValueError(f"'{text}': a subset size must be above 0")
    return value
