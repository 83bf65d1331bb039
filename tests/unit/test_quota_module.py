"""The pure logic of the quota module: sizes, refusals and the plan (qgroups: test_qgroups)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ansible_collections.nasops.nas.plugins.module_utils.qgroups import Qgroup
from ansible_collections.nasops.nas.plugins.modules import quota

ROLES = Path(__file__).parents[2] / "roles"
GIB = 1024**3


@pytest.mark.parametrize(("size", "text"), [
    (0, "0"), (512, "512"), (1024, "1K"), (200 * GIB, "200G"), (1395864371, "1.3G"),
    (int(1.96 * GIB), "1.96G"), (15 * 1024**2 + 512 * 1024, "15.5M"), (1024**4, "1T"),
])
def test_format_size_is_short_and_binary(size: int, text: str) -> None:
    assert quota.format_size(size) == text


def test_refusal_rule_quota_below_usage_only() -> None:
    assert quota.quota_refusal("Afrique", GIB, 1395864371) == (
        "quota 1G for Afrique is below its current usage 1.3G")
    assert quota.quota_refusal("Afrique", GIB, GIB) is None
    assert quota.quota_refusal("Afrique", None, 10 * GIB) is None
    assert quota.quota_refusal("Afrique", GIB, None) is None


# --- Planning ------------------------------------------------------------------------------

MISSING = quota.Probe(False, False, None, None)


def _subvolume(used: int, limit: int | None = None) -> Any:
    return quota.Probe(True, True, Qgroup("0/257", used, used, limit, None), None)


def _share(**overrides: Any) -> dict[str, Any]:
    share = {"name": "Afrique", "path": "/srv/nas/wsm/Afrique", "quota_bytes": 200 * GIB,
             "renamed_from": None}
    share.update(overrides)
    return share


def _plan(share: dict[str, Any], new: Any, old: Any = None, btrfs: bool = True,
          quotas_enabled: bool | None = True) -> Any:
    plan = quota.Plan([], [], [], [], [])
    quota.plan_share(share, plan, new=new, old=old, btrfs=btrfs, quotas_enabled=quotas_enabled)
    return plan


def test_missing_share_becomes_a_subvolume_with_its_limit() -> None:
    plan = _plan(_share(), MISSING)
    assert plan.actions == [("create", "/srv/nas/wsm/Afrique"),
                            ("limit", ("/srv/nas/wsm/Afrique", 200 * GIB))]
    assert plan.changes == [
        {"kind": "share", "target": "/srv/nas/wsm/Afrique", "detail": "create subvolume"},
        {"kind": "quota", "target": "Afrique", "detail": "limit none -> 200G"},
    ]


def test_converged_share_plans_nothing_and_reports_usage() -> None:
    plan = _plan(_share(), _subvolume(3162112, 200 * GIB))
    assert plan.actions == [] and plan.changes == [] and plan.refusals == []
    assert plan.reports[0]["usage_bytes"] == 3162112 and plan.reports[0]["enforced"]


def test_quota_below_usage_is_refused_before_any_action() -> None:
    plan = _plan(_share(quota_bytes=GIB), _subvolume(1395864371, 200 * GIB))
    assert plan.refusals == ["quota 1G for Afrique is below its current usage 1.3G"]
    assert plan.actions == []


def test_removed_quota_clears_the_limit() -> None:
    plan = _plan(_share(quota_bytes=None), _subvolume(0, 200 * GIB))
    assert plan.actions == [("limit", ("/srv/nas/wsm/Afrique", None))]
    assert plan.changes[0]["detail"] == "limit 200G -> none"


def test_plain_directory_is_left_alone_with_a_warning() -> None:
    plan = _plan(_share(), quota.Probe(True, False, None, 4096))
    assert plan.actions == []
    assert plan.warnings == ["quota not enforced: /srv/nas/wsm/Afrique is not a subvolume "
                             "(move its data into a new subvolume of that name to enforce it)"]
    assert plan.reports[0]["usage_bytes"] == 4096 and not plan.reports[0]["enforced"]


def test_non_btrfs_volume_creates_a_directory_and_warns() -> None:
    plan = _plan(_share(), MISSING, btrfs=False, quotas_enabled=False)
    assert plan.actions == [("create", "/srv/nas/wsm/Afrique")]
    assert plan.warnings == ["quota not enforced: /srv/nas/wsm/Afrique is not on btrfs"]


def test_share_rename_in_place_uses_the_old_usage() -> None:
    share = _share(quota_bytes=GIB, renamed_from="/srv/nas/wsm/Africa")
    plan = _plan(share, MISSING, old=_subvolume(2 * GIB, GIB))
    # The data that moves is over the new quota; any refusal stops the run before any action.
    assert plan.refusals == ["quota 1G for Afrique is below its current usage 2G"]
    plan = _plan(_share(renamed_from="/srv/nas/wsm/Africa"), MISSING, old=_subvolume(0, GIB))
    assert plan.actions == [("rename", ("/srv/nas/wsm/Africa", "/srv/nas/wsm/Afrique")),
                            ("limit", ("/srv/nas/wsm/Afrique", 200 * GIB))]


def test_share_rename_already_done_is_quiet() -> None:
    plan = _plan(_share(renamed_from="/srv/nas/wsm/Africa"), _subvolume(0, 200 * GIB),
                 old=MISSING)
    assert plan.actions == [] and plan.refusals == []


def test_share_rename_conflict_and_missing_source_are_refused() -> None:
    renamed = _share(renamed_from="/srv/nas/wsm/Africa")
    both = _plan(renamed, _subvolume(0), old=_subvolume(0))
    assert "exists too" in both.refusals[0]
    neither = _plan(renamed, MISSING, old=MISSING)
    assert "does not exist" in neither.refusals[0]


def test_check_mode_before_quotas_are_enabled_still_plans_the_limit() -> None:
    plan = _plan(_share(), quota.Probe(True, True, None, 8192), quotas_enabled=False)
    assert plan.actions == [("limit", ("/srv/nas/wsm/Afrique", 200 * GIB))]


def test_quotas_left_disabled_on_purpose_only_warn() -> None:
    plan = _plan(_share(), quota.Probe(True, True, None, 8192), quotas_enabled=None)
    assert plan.actions == []
    assert plan.warnings == ["quota not enforced: btrfs quotas are disabled on the volume"]


def test_unmanaged_directories_are_reported_not_changed() -> None:
    shares = [_share(), _share(name="Asie", path="/srv/nas/wsm/Asie",
                               renamed_from="/srv/nas/wsm/Asia")]
    reports = quota.unmanaged(["Afrique", "Asia", "Old share", ".snapshots"], "/srv/nas/wsm",
                              shares)
    assert reports == [{"kind": "unmanaged", "target": "/srv/nas/wsm/Old share",
                        "detail": "not a share of the spec (no Samba share); "
                                  "directory and data kept"}]
