"""`nasops backup snapshots` and `nasops backup status`: reading, never changing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nasops.backup import status
from nasops.backup.config import BackupConfig
from nasops.backup.parse import Snapshot, parse_snapshots
from nasops.backup.restic.snapshots import build_snapshots_argv
from nasops.backup.session import ResticFeatures, ResticSession
from nasops.errors import NasopsError


@dataclass(frozen=True)
class SnapshotListing:
    """The snapshots of one repository, or why they could not be listed."""

    repository: str
    snapshots: tuple[Snapshot, ...] = ()
    error: NasopsError | None = None


def list_snapshots(
    config: BackupConfig, features: ResticFeatures, repository_name: str | None = None
) -> list[SnapshotListing]:
    """Given the config, return the snapshots of the named repository or of each one."""
    listings = []
    for repository in config.repository(repository_name):
        try:
            session = ResticSession(config, repository, features)
            result = session.run(build_snapshots_argv(session.options))
            listings.append(SnapshotListing(repository.name,
                                            tuple(parse_snapshots(result.stdout))))
        except NasopsError as error:
            listings.append(SnapshotListing(repository.name, error=error))
    return listings


def read_statuses(config: BackupConfig, repository_name: str | None = None
                  ) -> list[dict[str, Any]]:
    """Given the config, return the status document of each configured repository."""
    return [status.read_status(config.state_directory, repository.name)
            for repository in config.repository(repository_name)]
