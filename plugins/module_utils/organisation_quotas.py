"""Each organisation's quota on a NAS several organisations share (issue 13): a btrfs level-1
qgroup that holds the qgroups of the organisation's shares, limited to what the provider's
hosting file gives it. btrfs enforces every qgroup of the hierarchy: a write into a share
under its own quota still fails once the organisation's total reaches its limit.

Pure planning (no I/O) for the quota module; standard library only (it runs on the NAS).
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ansible_collections.nasops.nas.plugins.module_utils.qgroups import Qgroup, format_size


class ShareQgroup(NamedTuple):
    """A share directory as the quota module found it (after its own actions)."""

    path: str
    own: str | None
    """Its own qgroup (0/N), or None while it does not exist yet (check mode)."""
    usage_bytes: int | None
    subvolume: bool
    """False: a plain directory (made before nasops), with no qgroup to count."""


class OrganisationPlan(NamedTuple):
    actions: list[tuple[str, Any]]
    changes: list[dict[str, str]]
    refusals: list[str]
    warnings: list[str]


def organisation_qgroup(root: str) -> str:
    """Given an organisation's directory, return its level-1 qgroup: `1/N`, N taken from the
    directory's path, so every run (and the exporter) names the same one without a record."""
    digest = hashlib.sha256(posixpath.normpath(root).encode("utf-8")).digest()
    return f"1/{int.from_bytes(digest[:4], 'big') + 1}"


def _size(size: int | None) -> str:
    return "none" if size is None else format_size(size)


def plan_organisations(organizations: Sequence[Mapping[str, Any]],
                       shares: Sequence[ShareQgroup], qgroups: Mapping[str, Qgroup],
                       parents: Mapping[str, list[str]]) -> OrganisationPlan:
    """Given the organisations (id, root, quota_bytes), their shares as found, and the volume's
    qgroups with their parents, return what makes each organisation's qgroup hold exactly
    its shares under its limit; refuse a limit below what the organisation stores."""
    plan = OrganisationPlan([], [], [], [])
    for organization in organizations:
        root = posixpath.normpath(organization["root"])
        group = organisation_qgroup(root)
        quota = organization.get("quota_bytes")
        existing = qgroups.get(group)
        if existing is None and quota is None:
            continue  # never limited: nothing of it on the volume
        target = f"organisation {organization['id']}"
        members = [share for share in shares if posixpath.dirname(share.path) == root]
        for share in members:
            if not share.subvolume:
                plan.warnings.append(f"quota of {target} not enforced on {share.path}: not a "
                                     "subvolume (move its data into a new share to count it)")
        members = [share for share in members if share.subvolume]
        # What btrfs will count: the qgroup's bytes (shares that left the spec included)
        # and those of the shares it does not hold yet.
        joining = [share for share in members
                   if share.own is None or group not in parents.get(share.own, [])]
        usage = (existing.referenced_bytes if existing is not None else 0) + sum(
            share.usage_bytes or 0 for share in joining)
        if quota is not None and usage > quota:
            plan.refusals.append(f"quota {_size(quota)} for {target} is below what it stores "
                                 f"({_size(usage)})")
            continue
        if existing is None:
            plan.actions.append(("qgroup create", group))
            plan.changes.append({"kind": "quota", "target": target,
                                 "detail": f"create its qgroup {group}"})
        for share in joining:
            plan.actions.append(("qgroup assign", (share.path, share.own, group)))
            plan.changes.append({"kind": "quota", "target": target,
                                 "detail": f"count {share.path} towards its quota"})
        limit = existing.referenced_limit_bytes if existing is not None else None
        if limit != quota:
            plan.actions.append(("qgroup limit", (group, quota)))
            plan.changes.append({"kind": "quota", "target": target,
                                 "detail": f"limit {_size(limit)} -> {_size(quota)}"})
    return plan
