"""The one qgroup reader (module_utils/qgroups.py) that the quota module and the exporter use."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible_collections.nasops.nas.plugins.module_utils.qgroups import (
    Qgroup,
    own_qgroup,
    parse_qgroup_show,
    show_argv,
)

from nasops.exporter.collectors.btrfs import read_qgroups

FIXTURES = Path(__file__).parent / "fixtures" / "exporter"
GIB = 1024**3

# `btrfs qgroup show -reF --raw /srv/nas/wsm/Afrique`, btrfs-progs 6.2 (Debian 12; the real
# output also ends its header lines with a space).
SHOW_LIMITED = """\
Qgroupid    Referenced    Exclusive  Max referenced  Max exclusive   Path
--------    ----------    ---------  --------------  -------------   ----
0/257          3162112      3162112    214748364800           none   wsm/Afrique
"""
# With a parent qgroup (-F lists ancestors too) and a path holding spaces.
SHOW_WITH_PARENT = """\
Qgroupid    Referenced    Exclusive  Max referenced  Max exclusive   Path
--------    ----------    ---------  --------------  -------------   ----
0/258       1395864371   1395864371            none           none   wsm/Amérique latine
1/100       1395880755   1395880755     10737418240           none   <1 member qgroup>
"""
# Older btrfs-progs print no Path column.
SHOW_NO_PATH = """\
qgroupid         rfer         excl     max_rfer     max_excl
--------         ----         ----     --------     --------
0/259           16384        16384   1073741824         none
"""


def test_parses_limits_and_usage() -> None:
    assert parse_qgroup_show(SHOW_LIMITED) == {
        "0/257": Qgroup("0/257", 3162112, 3162112, 214748364800, None)}


def test_picks_the_paths_own_qgroup_among_ancestors() -> None:
    qgroups = parse_qgroup_show(SHOW_WITH_PARENT)
    assert list(qgroups) == ["0/258", "1/100"]
    assert own_qgroup(qgroups) == Qgroup("0/258", 1395864371, 1395864371, None, None)


def test_parses_output_without_path_column() -> None:
    own = own_qgroup(parse_qgroup_show(SHOW_NO_PATH))
    assert own is not None and own.referenced_limit_bytes == GIB


def test_no_rows_gives_no_qgroup() -> None:
    assert parse_qgroup_show("") == {}
    assert own_qgroup(parse_qgroup_show("ERROR: can't list qgroups: quotas not enabled\n")) is None


@pytest.mark.parametrize("fixture", ["qgroup-show-6.2.txt", "qgroup-show-5.10.txt"])
def test_whole_volume_output_of_both_btrfs_progs_generations_parses(fixture: str) -> None:
    qgroups = parse_qgroup_show((FIXTURES / fixture).read_text(encoding="utf-8"))
    assert list(qgroups)[:4] == ["0/5", "0/256", "0/257", "0/258"]
    assert qgroups["0/256"].referenced_bytes == 193273528320
    assert qgroups["0/256"].referenced_limit_bytes == 200 * GIB
    assert qgroups["0/258"].referenced_limit_bytes is None


@pytest.mark.parametrize("row", [
    "0/257   3162112   3162112   200.00GiB   none   wsm/Afrique",  # sizes without --raw
    "0/257   3162112   3162112",  # columns missing
    "0/257   3162112   -   none   none",
])
def test_a_row_it_cannot_read_is_an_error_not_a_guess(row: str) -> None:
    # A usage or a limit read as absent would let the quota module set a limit below usage.
    with pytest.raises(ValueError, match="cannot read: 0/257"):
        parse_qgroup_show(SHOW_LIMITED.splitlines()[0] + "\n" + row + "\n")


def test_the_exporter_calls_output_without_rows_an_error() -> None:
    with pytest.raises(ValueError, match="no qgroup row: ERROR: can't list"):
        read_qgroups("ERROR: can't list qgroups: quotas not enabled\n")


def test_the_argv_asks_for_what_the_parser_reads() -> None:
    assert show_argv(["sudo", "-n", "btrfs"], "/srv/nas") == [
        "sudo", "-n", "btrfs", "qgroup", "show", "--raw", "-re", "/srv/nas"]
    assert show_argv(["/usr/bin/btrfs"], "/srv/nas/wsm/Afrique", own_only=True, sync=True) == [
        "/usr/bin/btrfs", "qgroup", "show", "--raw", "-re", "-F", "--sync",
        "/srv/nas/wsm/Afrique"]
