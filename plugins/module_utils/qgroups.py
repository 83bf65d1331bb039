"""What `btrfs qgroup show` says: the one reader of qgroups, for the quota module and exporter.

Both ask with `--raw -re` (bytes; referenced and exclusive limits) and read the rows the same
way, so a btrfs-progs release that prints them differently is handled (and tested) once.
Standard library only: it runs on the NAS, inside an Ansible module or the exporter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

# The root directory of every btrfs subvolume has this inode number (BTRFS_FIRST_FREE_OBJECTID).
SUBVOLUME_ROOT_INODE = 256
# With `--raw -re` every btrfs-progs version prints: qgroupid rfer excl max_rfer max_excl, then
# a Path column since 6.x; header and dash lines come first.
QGROUP_ROW = re.compile(r"^\s*(\d+/\d+)\s+(\d+)\s+(\d+)\s+(\d+|none)\s+(\d+|none)(?:\s|$)")
# What starts a row: a line like this that QGROUP_ROW cannot read is a format we do not know.
ROW_START = re.compile(r"^\s*\d+/\d+\s+\d")


class Qgroup(NamedTuple):
    """One qgroup's numbers, in bytes; a limit is None when none is set."""

    identifier: str
    """level/id: "0/257" is the own qgroup of the subvolume with id 257."""
    referenced_bytes: int
    exclusive_bytes: int
    referenced_limit_bytes: int | None
    exclusive_limit_bytes: int | None


def show_argv(btrfs: Sequence[str], path: str, *, own_only: bool = False,
              sync: bool = False, parents: bool = False) -> list[str]:
    """Given the btrfs command (maybe behind sudo) and a path, return the argv whose output
    parse_qgroup_show reads: every qgroup of the filesystem, or (own_only) those of the
    path's subvolume and its ancestors; `sync` commits first so the numbers are current;
    `parents` adds the column parse_qgroup_parents reads."""
    return [*btrfs, "qgroup", "show", "--raw", "-re", *(["-p"] if parents else []),
            *(["-F"] if own_only else []), *(["--sync"] if sync else []), path]


# With `-p`, the column after the limits: "-" or the parents, comma-separated.
PARENTS_ROW = re.compile(r"^\s*(\d+/\d+)\s+\d+\s+\d+\s+(?:\d+|none)\s+(?:\d+|none)\s+"
                         r"(-|\d+/\d+(?:,\d+/\d+)*)(?:\s|$)")


def _rows(text: str, row: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """Given `btrfs qgroup show` output and the pattern of its rows, yield each row's match;
    skip headers, dashes and blank lines. Raise ValueError on a row the pattern cannot read:
    guessing a usage, a limit or a parent is worse."""
    for line in text.splitlines():
        match = row.match(line)
        if match is not None:
            yield match
        elif ROW_START.match(line):
            raise ValueError(f"btrfs qgroup show printed a row nasops cannot read: "
                             f"{line.strip()[:200]}")


def parse_qgroup_parents(text: str) -> dict[str, list[str]]:
    """Given `btrfs qgroup show --raw -re -p` output, return each qgroup's parents (the
    higher-level qgroups it counts towards). Raise ValueError on a row it cannot read."""
    return {match[1]: [] if match[2] == "-" else match[2].split(",")
            for match in _rows(text, PARENTS_ROW)}


UNITS = ("", "K", "M", "G", "T", "P")


def format_size(size: int) -> str:
    """Given bytes, return a short binary size as the spec writes it: 200G, 1.3G, 512M."""
    value, unit = float(size), 0
    while value >= 1024 and unit < len(UNITS) - 1:
        value /= 1024
        unit += 1
    text = f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + UNITS[unit]


def _limit(text: str) -> int | None:
    return None if text == "none" else int(text)


def parse_qgroup_show(text: str) -> dict[str, Qgroup]:
    """Given `btrfs qgroup show --raw -re` output, return its qgroups by identifier, in the
    order printed ({} when it printed none).

    Raise ValueError on a row that cannot be read: guessing a usage or a limit is worse.
    """
    qgroups: dict[str, Qgroup] = {}
    for match in _rows(text, QGROUP_ROW):
        identifier, referenced, exclusive, referenced_limit, exclusive_limit = match.groups()
        qgroups[identifier] = Qgroup(identifier, int(referenced), int(exclusive),
                                     _limit(referenced_limit), _limit(exclusive_limit))
    return qgroups


def own_qgroup(qgroups: Mapping[str, Qgroup]) -> Qgroup | None:
    """Given the qgroups shown for one path (ancestors included by -F), return its own (0/N)."""
    return next((qgroup for identifier, qgroup in qgroups.items()
                 if identifier.startswith("0/")), None)
