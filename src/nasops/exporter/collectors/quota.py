"""Per-share usage and limits: btrfs qgroups, or a background walk where there is no qgroup.

Two background threads: one reads the qgroups every refresh interval (cheap, one command);
one walks the shares without a qgroup every walk interval (expensive). A scrape reads memory.
"""

from __future__ import annotations

import logging
import posixpath
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ansible_collections.nasops.nas.plugins.module_utils.organisation_quotas import (
    organisation_qgroup,
)
from ansible_collections.nasops.nas.plugins.module_utils.qgroups import Qgroup
from prometheus_client.core import Metric

from nasops.exporter.collectors.base import ORGANISATION_LABEL, BackgroundCollector, gauge, info
from nasops.exporter.collectors.usage_walk import WalkResult, measure_usage
from nasops.exporter.config import OrganizationConfig, ShareConfig
from nasops.exporter.refresher import Refresher

logger = logging.getLogger("nasops.exporter")

QgroupReader = Callable[..., Mapping[str, Qgroup]]
"""Given the volume path, share paths and (when organisations are configured) qgroup
identifiers, return the qgroup of each share that has one (by path) and of each identifier
that exists (by identifier)."""
Walker = Callable[[str], WalkResult]


@dataclass(frozen=True)
class ShareUsage:
    """One share's usage as exported."""

    name: str
    method: str
    """qgroup, walk, or pending (no walk finished yet)."""
    used_bytes: int | None
    limit_bytes: int | None
    enforced: bool
    measured_at: float | None
    unreadable_directories: int = 0
    walk_seconds: float | None = None
    organization: str = ""


@dataclass(frozen=True)
class OrganisationUsage:
    """What one organisation stores, all its shares together, and its limit."""

    id: str
    used_bytes: int | None
    """Its level-1 qgroup's referenced bytes, else the sum of its shares' (None: none known)."""
    limit_bytes: int | None
    enforced: bool


@dataclass(frozen=True)
class QuotaSnapshot:
    """Usage of every configured share and organisation."""

    shares: tuple[ShareUsage, ...]
    organizations: tuple[OrganisationUsage, ...] = ()


class QuotaReader:
    """Combines qgroup reads with the latest walk results; both run in background threads."""

    def __init__(
        self,
        volume_path: str,
        shares: Sequence[ShareConfig],
        method: str,
        qgroup_reader: QgroupReader,
        *,
        walker: Walker = measure_usage,
        clock: Callable[[], float] = time.time,
        organizations: Sequence[OrganizationConfig] = (),
    ) -> None:
        self.volume_path = volume_path
        self.shares = tuple(shares)
        self.organizations = tuple(organizations)
        self.method = method
        self.qgroup_reader = qgroup_reader
        self.walker = walker
        self.clock = clock
        self._walk_results: dict[str, WalkResult] = {}
        self._without_qgroup: tuple[str, ...] | None = None

    def _qgroups(self) -> Mapping[str, Qgroup]:
        if self.method == "walk":
            return {}
        paths = [share.path for share in self.shares]
        try:
            if not self.organizations:
                return self.qgroup_reader(self.volume_path, paths)
            return self.qgroup_reader(self.volume_path, paths, [
                organisation_qgroup(organization.root) for organization in self.organizations])
        except Exception as error:
            if self.method == "qgroup":
                raise
            # auto: no btrfs or quotas disabled is expected; every share falls back to the walk.
            logger.info("quota: no qgroups (%s); measuring shares by walking them", error)
            return {}

    def read(self) -> QuotaSnapshot:
        """Return every share's usage: from its qgroup, else from the last walk."""
        qgroups = self._qgroups()
        now = self.clock()
        usages: list[ShareUsage] = []
        without: list[str] = []
        for share in self.shares:
            qgroup = qgroups.get(share.path)
            if qgroup is not None:
                limit = qgroup.referenced_limit_bytes
                usages.append(ShareUsage(share.name, "qgroup", qgroup.referenced_bytes,
                                         limit if limit is not None else share.quota_bytes,
                                         limit is not None, now,
                                         organization=share.organization))
                continue
            without.append(share.path)
            walked = self._walk_results.get(share.path)
            if walked is None:
                usages.append(ShareUsage(share.name, "pending", None, share.quota_bytes,
                                         False, None, organization=share.organization))
            else:
                usages.append(ShareUsage(share.name, "walk", walked.used_bytes,
                                         share.quota_bytes, False, walked.measured_at,
                                         walked.unreadable_directories,
                                         walked.duration_seconds,
                                         organization=share.organization))
        self._without_qgroup = tuple(without)
        return QuotaSnapshot(tuple(usages), self._organisations(qgroups, usages))

    def _organisations(self, qgroups: Mapping[str, Qgroup], usages: Sequence[ShareUsage],
                       ) -> tuple[OrganisationUsage, ...]:
        """Each organisation's usage: its level-1 qgroup, else the sum of its shares'."""
        found = []
        used_by_share = {share.name: share.used_bytes for share in usages}
        for organization in self.organizations:
            qgroup = qgroups.get(organisation_qgroup(organization.root))
            if qgroup is not None:
                limit = qgroup.referenced_limit_bytes
                found.append(OrganisationUsage(
                    organization.id, qgroup.referenced_bytes,
                    limit if limit is not None else organization.quota_bytes, limit is not None))
                continue
            known = [used_by_share[share.name] for share in self.shares
                     if posixpath.dirname(share.path) == posixpath.normpath(organization.root)]
            used = None if not known or None in known else sum(
                value for value in known if value is not None)
            found.append(OrganisationUsage(organization.id, used, organization.quota_bytes,
                                           False))
        return tuple(found)

    def walk(self) -> int:
        """Walk every share that has no qgroup; return how many were walked."""
        if self._without_qgroup is None:
            self.read()  # learn which shares need a walk before reading a million inodes
        targets = self._without_qgroup or ()
        results = dict(self._walk_results)
        for path in targets:
            results[path] = self.walker(path)
        self._walk_results = results  # one assignment: readers see the old or the new dict
        return len(targets)


class QuotaCollector(BackgroundCollector[QuotaSnapshot]):
    """Exports nasops_quota_* from a QuotaReader refreshed in the background."""

    name = "quota"

    def __init__(
        self, reader: QuotaReader, interval_seconds: float, walk_interval_seconds: float,
        *, clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(reader.read, interval_seconds, clock=clock)
        self.reader = reader
        self.walk_refresher: Refresher[int] = Refresher("quota-walk", reader.walk,
                                                        walk_interval_seconds)

    def start(self) -> None:
        """Start the qgroup and the walk threads."""
        self.walk_refresher.start()
        super().start()

    def stop(self) -> None:
        """Stop both threads."""
        self.walk_refresher.stop(timeout=0.5)
        super().stop()

    def families(self, snapshot: QuotaSnapshot) -> list[Metric]:
        """Given a quota snapshot, return the nasops_quota_* families."""
        shares = snapshot.shares
        measured = [share for share in shares if share.used_bytes is not None]
        return [
            gauge("nasops_quota_used_bytes",
                  "Bytes used by the share: btrfs qgroup referenced bytes, or allocated bytes "
                  "found by the background walk (see nasops_quota_measured_timestamp_seconds).",
                  ["share"], (([share.name], share.used_bytes or 0) for share in measured)),
            gauge("nasops_quota_limit_bytes",
                  "Size limit of the share: the btrfs qgroup limit, else the spec's quota.",
                  ["share"], (([share.name], share.limit_bytes) for share in shares
                              if share.limit_bytes is not None)),
            gauge("nasops_quota_enforced",
                  "1 if btrfs enforces the share's limit (qgroup limit set), else 0.",
                  ["share"], (([share.name], float(share.enforced)) for share in shares)),
            gauge("nasops_quota_measured_timestamp_seconds",
                  "When the share's usage was measured; walked shares are re-measured only "
                  "every walk interval (default 1 h), in the background.",
                  ["share"], (([share.name], share.measured_at or 0) for share in measured)),
            gauge("nasops_quota_walk_unreadable_directories",
                  "Directories the usage walk could not read (their content is not counted).",
                  ["share"], (([share.name], share.unreadable_directories) for share in shares
                              if share.method == "walk")),
            gauge("nasops_quota_walk_duration_seconds",
                  "How long the last background walk of the share took.", ["share"],
                  (([share.name], share.walk_seconds) for share in shares
                   if share.walk_seconds is not None)),
            info("nasops_quota_method", "How the share's usage is measured: qgroup, walk, "
                 "or pending (first walk still running).", ["share"],
                 (([share.name], {"method": share.method}) for share in shares)),
            info("nasops_share_organization", "The organisation whose share it is (join on "
                 "share to sum or filter by organisation).", ["share"],
                 (([share.name], {ORGANISATION_LABEL: share.organization}) for share in shares
                  if share.organization)),
            *organisation_families(snapshot.organizations),
        ]


def organisation_families(organizations: Sequence[OrganisationUsage]) -> list[Metric]:
    """Given the organisations' usage, return the nasops_organization_* families."""
    measured = [organization for organization in organizations
                if organization.used_bytes is not None]
    return [
        gauge("nasops_organization_used_bytes",
              "Bytes the organisation stores, all its shares together: its btrfs level-1 "
              "qgroup's referenced bytes, else the sum of its shares' usage.",
              [ORGANISATION_LABEL], (([organization.id], organization.used_bytes or 0)
                                 for organization in measured)),
        gauge("nasops_organization_limit_bytes",
              "Limit of all the organisation's shares together: its qgroup's limit, else the "
              "hosting file's.", [ORGANISATION_LABEL],
              (([organization.id], organization.limit_bytes) for organization in organizations
               if organization.limit_bytes is not None)),
        gauge("nasops_organization_quota_enforced",
              "1 if btrfs enforces the organisation's limit (its qgroup has one), else 0.",
              [ORGANISATION_LABEL], (([organization.id], float(organization.enforced))
                                 for organization in organizations)),
    ]
