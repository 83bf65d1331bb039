"""Compile the spec's `backup` section into the desired state's (docs/provisioning-contract.md).

Resolved here so the nas_backup role only writes files: share names become absolute share
paths (the paths inside snapshots are then the paths on the NAS), every repository gets its
own backup schedule, and a local repository on a removable disk gets the mount point that
must be mounted before anything touches it. Each repository carries what goes into it (its
organisation's sources, excludes and retention): on a NAS several organisations share, the
repositories of one never hold another's files (`nasops.compile.host`).
"""

from __future__ import annotations

import copy
import posixpath
import re
from typing import Any

from nasops.spec.models import Repository, Spec

# `/mnt/<disk>/…` and `/media/<disk>/…` are where removable and extra disks are mounted by
# convention: a repository there is refused while the disk is not mounted, so an unplugged
# USB disk never gets a repository created on the root file system under the empty directory.
REMOVABLE_MOUNT = re.compile(r"^(/(?:mnt|media)/[^/]+)(?:/|$)")
SFTP_URL = re.compile(r"^sftp:(?P<user>[^@/\s]+)@(?P<host>[^:\s]+):(?P<path>.*)\Z")


def _repository(repository: Repository, default_schedule: str,
                contents: dict[str, Any]) -> dict[str, Any]:
    url = repository.url
    sftp = SFTP_URL.match(url)
    if url.startswith("/"):
        kind = "local"
    elif sftp:
        kind = "sftp"
    else:
        kind = url.split(":", 1)[0]
    removable = REMOVABLE_MOUNT.match(url) if kind == "local" else None
    return {
        "name": repository.name,
        "url": url,
        "kind": kind,
        "schedule": repository.schedule or default_schedule,
        "mount_point": removable.group(1) if removable else None,
        "local_path": posixpath.normpath(url) if kind == "local" else None,
        "sftp_host": sftp.group("host") if sftp else None,
        "sftp_user": sftp.group("user") if sftp else None,
        **contents,
    }


def compile_backup(spec: Spec, root: str) -> dict[str, Any]:
    """Given a validated spec and its organisation root, return the desired `backup` section
    (repository names as in the spec: `nasops.compile.host` prefixes them on a shared NAS).

    Without a backup section: `{"enabled": false}` (the role then stops the timers and keeps
    the repositories, their passwords and the status files).
    """
    backup = spec.backup
    if backup is None:
        return {"enabled": False}
    by_folded_name = {share.name.casefold(): share.name for share in spec.shares}
    names = ([by_folded_name[source.casefold()] for source in backup.sources]
             if backup.sources is not None else [share.name for share in spec.shares])
    retention = backup.retention
    contents = {
        "organization": spec.organization.id,
        "sources": [posixpath.join(root, name) for name in dict.fromkeys(names)],
        "exclude": list(backup.exclude),
        "retention": {"last": retention.last, "hourly": retention.hourly,
                      "daily": retention.daily, "weekly": retention.weekly,
                      "monthly": retention.monthly, "yearly": retention.yearly,
                      "within": retention.within},
        "read_data_subset": backup.check.read_data_subset,
        "sample_files": backup.drill.sample_files,
    }
    return {
        "enabled": True,
        "schedule": backup.schedule,
        # Each repository its own copy: the state is data, not shared objects.
        "repositories": [_repository(repository, backup.schedule, copy.deepcopy(contents))
                         for repository in backup.repositories],
        "check": {"schedule": backup.check.schedule},
        "drill": {"schedule": backup.drill.schedule},
    }
