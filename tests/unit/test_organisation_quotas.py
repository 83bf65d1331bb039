"""Each organisation's quota on a shared NAS: its level-1 qgroup holds its shares' qgroups
(plugins/module_utils/organisation_quotas.py, and the Parent column it is read from)."""

from __future__ import annotations

import pytest
from ansible_collections.nasops.nas.plugins.module_utils.organisation_quotas import (
    ShareQgroup,
    organisation_qgroup,
    plan_organisations,
)
from ansible_collections.nasops.nas.plugins.module_utils.qgroups import (
    Qgroup,
    parse_qgroup_parents,
    show_argv,
)

# `btrfs qgroup show --raw -re -p /srv/nas`, btrfs-progs 6.2 (Debian 12), as the lab printed it.
SHOWN = """Qgroupid       Referenced    Exclusive  Max referenced  Max exclusive Parent         Path
--------       ----------    ---------  --------------  ------------- ------         ----
0/5                 16384        16384            none           none -              <toplevel>
0/256               16384        16384    107374182400           none 1/2039928673   atable/Réseau
0/257               16384        16384    214748364800           none 1/7,1/8        habitat/Projet
1/2039928673        16384        16384    322122547200           none -   <0 member qgroups>
"""
ATABLE = {"id": "atable", "root": "/srv/nas/atable", "quota_bytes": 300 * 2**30}
GROUP = organisation_qgroup("/srv/nas/atable")


def test_the_parent_column_is_read_and_a_row_it_cannot_read_is_refused() -> None:
    assert parse_qgroup_parents(SHOWN) == {"0/5": [], "0/256": ["1/2039928673"],
                                           "0/257": ["1/7", "1/8"], "1/2039928673": []}
    with pytest.raises(ValueError, match="cannot read"):
        parse_qgroup_parents("0/256 16384 16384 none none ?\n")
    assert show_argv(["btrfs"], "/srv/nas", sync=True, parents=True) == [
        "btrfs", "qgroup", "show", "--raw", "-re", "-p", "--sync", "/srv/nas"]


def test_the_organisation_qgroup_is_the_same_every_run_and_apart_for_each_root() -> None:
    assert GROUP == "1/2039928673" == organisation_qgroup("/srv/nas/atable/")
    assert organisation_qgroup("/srv/nas/relais") != GROUP


def test_a_fresh_nas_creates_the_qgroup_counts_every_share_then_limits_it() -> None:
    plan = plan_organisations([ATABLE], [ShareQgroup("/srv/nas/atable/Réseau", None, 0, True),
                                         ShareQgroup("/srv/nas/relais/Pôle", "0/258", 0, True)],
                              {}, {})
    assert plan.actions == [("qgroup create", GROUP),
                            ("qgroup assign", ("/srv/nas/atable/Réseau", None, GROUP)),
                            ("qgroup limit", (GROUP, 300 * 2**30))]
    assert [change["detail"] for change in plan.changes] == [
        f"create its qgroup {GROUP}", "count /srv/nas/atable/Réseau towards its quota",
        "limit none -> 300G"]
    assert not plan.refusals


def test_a_converged_organisation_needs_nothing_and_one_without_a_limit_is_left_alone() -> None:
    qgroups = {GROUP: Qgroup(GROUP, 16384, 16384, 300 * 2**30, None)}
    parents = {"0/256": [GROUP]}
    share = ShareQgroup("/srv/nas/atable/Réseau", "0/256", 16384, True)
    assert plan_organisations([ATABLE], [share], qgroups, parents).actions == []
    unlimited = {"id": "habitat", "root": "/srv/nas/habitat", "quota_bytes": None}
    assert plan_organisations([unlimited], [], qgroups, parents).actions == []
    # A limit the hosting file no longer gives is lifted, the qgroup kept.
    lifted = plan_organisations([{**ATABLE, "quota_bytes": None}], [share], qgroups, parents)
    assert lifted.actions == [("qgroup limit", (GROUP, None))]


def test_a_limit_below_what_the_organisation_stores_is_refused() -> None:
    qgroups = {GROUP: Qgroup(GROUP, 50 * 2**20, 50 * 2**20, None, None)}
    plan = plan_organisations([{**ATABLE, "quota_bytes": 40 * 2**20}],
                              [ShareQgroup("/srv/nas/atable/Réseau", "0/256", 50 * 2**20, True)],
                              qgroups, {"0/256": [GROUP]})
    assert plan.actions == []
    assert plan.refusals == ["quota 40M for organisation atable is below what it stores (50M)"]
    # Before its shares count towards it, what they store is summed.
    plan = plan_organisations([{**ATABLE, "quota_bytes": 40 * 2**20}],
                              [ShareQgroup("/srv/nas/atable/Réseau", "0/256", 30 * 2**20, True),
                               ShareQgroup("/srv/nas/atable/Cuisine", "0/259", 30 * 2**20, True)],
                              {}, {})
    assert plan.refusals == ["quota 40M for organisation atable is below what it stores (60M)"]


def test_a_share_joining_counts_on_top_of_what_the_qgroup_already_holds() -> None:
    # A share that left the spec is still counted by the qgroup (its data stays).
    qgroups = {GROUP: Qgroup(GROUP, 50 * 2**20, 50 * 2**20, None, None)}
    plan = plan_organisations([{**ATABLE, "quota_bytes": 60 * 2**20}],
                              [ShareQgroup("/srv/nas/atable/Nouveau", "0/300", 20 * 2**20, True)],
                              qgroups, {})
    assert plan.refusals == ["quota 60M for organisation atable is below what it stores (70M)"]


def test_a_plain_directory_share_is_not_counted_and_says_so() -> None:
    plan = plan_organisations([ATABLE], [ShareQgroup("/srv/nas/atable/Vieux", None, 10, False)],
                              {}, {})
    assert not [action for action in plan.actions if action[0] == "qgroup assign"]
    assert plan.warnings == ["quota of organisation atable not enforced on /srv/nas/atable/Vieux"
                             ": not a subvolume (move its data into a new share to count it)"]
