"""Quota collector: qgroup output of both btrfs-progs generations, and the walk fallback."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from ansible_collections.nasops.nas.plugins.module_utils.organisation_quotas import (
    organisation_qgroup,
)
from exporter_samples import parse_samples, qgroup_show_output, value
from prometheus_client import generate_latest

from nasops.errors import CommandFailedError
from nasops.exporter.collectors.btrfs import BtrfsQgroupReader
from nasops.exporter.collectors.quota import QuotaCollector, QuotaReader
from nasops.exporter.collectors.usage_walk import measure_usage
from nasops.exporter.config import OrganizationConfig, ShareConfig
from nasops.exporter.registry import GuardedCollectors, build_registry

GIB = 1024**3


class FakeBtrfs:
    """A command runner answering like btrfs for subvolumes 256 (Afrique) and 257 (Asie)."""

    def __init__(self, output: str) -> None:
        self.output = output
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, argv: Sequence[str], timeout: float) -> str:
        self.calls.append(tuple(argv))
        arguments = tuple(argv[list(argv).index("btrfs") + 1:])
        if arguments[:2] == ("inspect-internal", "rootid"):
            return {"/srv/nas/wsm/Afrique": "256\n", "/srv/nas/wsm/Asie": "257\n"}[arguments[2]]
        assert arguments == ("qgroup", "show", "--raw", "-re", "/srv/nas")
        return self.output


SHARES = [ShareConfig(name="Afrique", path="/srv/nas/wsm/Afrique", quota_bytes=200 * GIB),
          ShareConfig(name="Asie", path="/srv/nas/wsm/Asie", quota_bytes=100 * GIB)]


def test_qgroup_reader_maps_shares_to_their_subvolume_qgroups_and_caches_ids() -> None:
    btrfs = FakeBtrfs(qgroup_show_output({256: (150 * GIB, 200 * GIB), 257: (GIB, None)}))
    reader = BtrfsQgroupReader(["sudo", "-n", "btrfs"], runner=btrfs,
                               is_subvolume=lambda _path: True)
    first = reader("/srv/nas", [share.path for share in SHARES])
    reader("/srv/nas", [share.path for share in SHARES])
    assert first["/srv/nas/wsm/Afrique"].referenced_bytes == 150 * GIB
    assert first["/srv/nas/wsm/Asie"].referenced_limit_bytes is None
    rootid_calls = [call for call in btrfs.calls if "rootid" in call]
    assert len(rootid_calls) == 2  # cached after the first refresh
    assert all(call[:3] == ("sudo", "-n", "btrfs") for call in btrfs.calls)


def test_a_volume_without_qgroup_rows_is_an_error() -> None:
    btrfs = FakeBtrfs("ERROR: can't list qgroups: quotas not enabled\n")
    reader = BtrfsQgroupReader(runner=btrfs, is_subvolume=lambda _path: True)
    with pytest.raises(ValueError, match="no qgroup row"):
        reader("/srv/nas", ["/srv/nas/wsm/Afrique"])


def test_plain_directories_get_no_qgroup() -> None:
    btrfs = FakeBtrfs(qgroup_show_output({256: (GIB, None)}))
    reader = BtrfsQgroupReader(runner=btrfs, is_subvolume=lambda _path: False)
    assert reader("/srv/nas", ["/srv/nas/wsm/Afrique"]) == {}


def quota_samples(reader: QuotaReader) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    collector = QuotaCollector(reader, 60, 3600)
    collector.refresher.refresh_once()
    registry = build_registry(GuardedCollectors([collector]), process_metrics=False)
    return parse_samples(generate_latest(registry).decode())


def test_qgroup_usage_limit_and_enforcement_are_exported() -> None:
    btrfs = FakeBtrfs(qgroup_show_output({256: (150 * GIB, 200 * GIB), 257: (GIB, None)}))
    qgroups = BtrfsQgroupReader(runner=btrfs, is_subvolume=lambda _path: True)
    samples = quota_samples(QuotaReader("/srv/nas", SHARES, "auto", qgroups, clock=lambda: 5.0))
    assert value(samples, "nasops_quota_used_bytes", share="Afrique") == 150 * GIB
    assert value(samples, "nasops_quota_limit_bytes", share="Afrique") == 200 * GIB
    assert value(samples, "nasops_quota_enforced", share="Afrique") == 1
    # No btrfs limit: the spec's quota is exported, marked as not enforced.
    assert value(samples, "nasops_quota_limit_bytes", share="Asie") == 100 * GIB
    assert value(samples, "nasops_quota_enforced", share="Asie") == 0
    assert value(samples, "nasops_quota_measured_timestamp_seconds", share="Asie") == 5.0
    assert value(samples, "nasops_quota_method_info", share="Asie", method="qgroup") == 1
    assert value(samples, "nasops_collector_up", collector="quota") == 1


def test_each_organisation_s_usage_and_limit_are_exported_with_its_shares() -> None:
    """A shared NAS: wsm's level-1 qgroup (its limit, enforced by btrfs) and another
    organisation without one (its shares' usage summed, the hosting file's limit)."""
    group = organisation_qgroup("/srv/nas/wsm")
    output = qgroup_show_output({256: (150 * GIB, 200 * GIB), 257: (GIB, None)}) + (
        f"{group}   {151 * GIB}  {151 * GIB}  {300 * GIB}  none  <0 member qgroups>\n")
    btrfs = FakeBtrfs(output)
    shares = [share.model_copy(update={"organization": "wsm"}) for share in SHARES]
    organizations = [OrganizationConfig(id="wsm", root="/srv/nas/wsm", quota_bytes=300 * GIB),
                     OrganizationConfig(id="relais", root="/srv/nas/relais",
                                        quota_bytes=40 * GIB)]
    reader = QuotaReader("/srv/nas", shares, "auto",
                         BtrfsQgroupReader(runner=btrfs, is_subvolume=lambda _path: True),
                         organizations=organizations)
    samples = quota_samples(reader)
    assert value(samples, "nasops_organization_used_bytes", organization_id="wsm") == 151 * GIB
    assert value(samples, "nasops_organization_limit_bytes", organization_id="wsm") == 300 * GIB
    assert value(samples, "nasops_organization_quota_enforced", organization_id="wsm") == 1
    # No share of it yet: nothing stored is known, its limit is the hosting file's, not enforced.
    assert value(samples, "nasops_organization_used_bytes", organization_id="relais") is None
    assert value(samples, "nasops_organization_limit_bytes", organization_id="relais") == \
        40 * GIB
    assert value(samples, "nasops_organization_quota_enforced", organization_id="relais") == 0
    assert value(samples, "nasops_share_organization_info", share="Asie",
                 organization_id="wsm") == 1
    # The shares' own families keep their labels.
    assert value(samples, "nasops_quota_used_bytes", share="Afrique") == 150 * GIB


def test_an_organisation_without_its_qgroup_sums_its_shares() -> None:
    btrfs = FakeBtrfs(qgroup_show_output({256: (150 * GIB, None), 257: (GIB, None)}))
    reader = QuotaReader("/srv/nas", SHARES, "auto",
                         BtrfsQgroupReader(runner=btrfs, is_subvolume=lambda _path: True),
                         organizations=[OrganizationConfig(id="wsm", root="/srv/nas/wsm/")])
    samples = quota_samples(reader)
    assert value(samples, "nasops_organization_used_bytes", organization_id="wsm") == 151 * GIB
    assert value(samples, "nasops_organization_limit_bytes", organization_id="wsm") is None
    assert value(samples, "nasops_organization_quota_enforced", organization_id="wsm") == 0


def make_tree(root: Path, files: int) -> None:
    (root / "sub" / "deeper").mkdir(parents=True)
    for number in range(files):
        (root / "sub" / "deeper" / f"file-{number}").write_bytes(b"x" * 10000)
    os.link(root / "sub" / "deeper" / "file-0", root / "hard-link")
    (root / "link").symlink_to("/usr")


def test_walk_counts_allocated_bytes_once_per_inode_and_ignores_symlink_targets(
    tmp_path: Path,
) -> None:
    make_tree(tmp_path, 5)
    result = measure_usage(str(tmp_path))
    assert result.files == 7  # 5 files, the hard link and the symlink itself
    single = os.lstat(tmp_path / "hard-link").st_blocks * 512
    assert single * 5 <= result.used_bytes < single * 5 + 64 * 1024
    assert result.unreadable_directories == 0
    assert measure_usage(str(tmp_path / "missing")).unreadable_directories == 1


def failing_qgroups(_volume: str, _paths: Sequence[str]) -> dict[str, object]:
    raise CommandFailedError("btrfs qgroup show failed: quotas not enabled")


def test_without_qgroups_auto_falls_back_to_the_background_walk(tmp_path: Path) -> None:
    make_tree(tmp_path / "Afrique", 3)
    shares = [ShareConfig(name="Afrique", path=str(tmp_path / "Afrique"), quota_bytes=GIB)]
    reader = QuotaReader("/srv/nas", shares, "auto", failing_qgroups)  # type: ignore[arg-type]
    before = quota_samples(reader)
    assert value(before, "nasops_quota_used_bytes", share="Afrique") is None
    assert value(before, "nasops_quota_method_info", share="Afrique", method="pending") == 1
    assert reader.walk() == 1
    after = quota_samples(reader)
    assert (value(after, "nasops_quota_used_bytes", share="Afrique") or 0) > 30000
    assert value(after, "nasops_quota_enforced", share="Afrique") == 0
    assert value(after, "nasops_quota_walk_unreadable_directories", share="Afrique") == 0
    assert value(after, "nasops_collector_up", collector="quota") == 1


def test_qgroup_method_reports_a_failing_btrfs_as_collector_down() -> None:
    reader = QuotaReader("/srv/nas", SHARES, "qgroup", failing_qgroups)  # type: ignore[arg-type]
    samples = quota_samples(reader)
    assert value(samples, "nasops_collector_up", collector="quota") == 0
    assert value(samples, "nasops_quota_used_bytes", share="Afrique") is None


def test_walk_method_never_calls_btrfs(tmp_path: Path) -> None:
    make_tree(tmp_path / "Afrique", 1)
    shares = [ShareConfig(name="Afrique", path=str(tmp_path / "Afrique"))]
    reader = QuotaReader("/srv/nas", shares, "walk", failing_qgroups)  # type: ignore[arg-type]
    reader.walk()
    samples = quota_samples(reader)
    assert value(samples, "nasops_quota_method_info", share="Afrique", method="walk") == 1
    assert value(samples, "nasops_quota_limit_bytes", share="Afrique") is None
