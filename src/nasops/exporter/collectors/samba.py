"""Samba sessions, share connections and open files from `smbstatus --json` (Samba ≥ 4.16).

smbstatus walks Samba's lock databases and may need root (a sudoers rule for this one
command); it runs in the background, never on a scrape.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import Metric

from nasops.exporter.collectors.base import (
    BackgroundCollector,
    CommandRunner,
    gauge,
    run_for_output,
    single_gauge,
)

# IPC$ is the named-pipe share every client opens; it is not a share people use.
HIDDEN_SERVICES = frozenset({"IPC$"})


@dataclass(frozen=True)
class SambaSnapshot:
    """Counts from one smbstatus run."""

    sessions: int
    users: int
    open_files: int
    share_connections: Mapping[str, int]


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    # smbstatus leaves a section out (or empty) when there is nothing in it.
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ValueError(f"smbstatus --json: {key!r} is not an object")
    return value


def parse_smbstatus(output: str) -> SambaSnapshot:
    """Given `smbstatus --json` output, return its counts; raise ValueError if malformed."""
    try:
        data = json.loads(output)
    except ValueError as error:
        raise ValueError(f"smbstatus --json printed something that is not JSON: {error}"
                         ) from None
    if not isinstance(data, Mapping):
        raise ValueError("smbstatus --json printed a JSON document that is not an object")
    sessions = _section(data, "sessions")
    users = {entry.get("username") for entry in sessions.values() if isinstance(entry, Mapping)}
    connections: Counter[str] = Counter()
    for entry in _section(data, "tcons").values():
        service = entry.get("service") if isinstance(entry, Mapping) else None
        if isinstance(service, str) and service not in HIDDEN_SERVICES:
            connections[service] += 1
    return SambaSnapshot(len(sessions), len(users - {None}), len(_section(data, "open_files")),
                         dict(connections))


class SambaReader:
    """Runs smbstatus through an injected command runner."""

    def __init__(self, command: Sequence[str] = ("smbstatus", "--json"),
                 *, runner: CommandRunner = run_for_output, timeout_seconds: float = 20) -> None:
        self.command = tuple(command)
        self.runner = runner
        self.timeout_seconds = timeout_seconds

    def read(self) -> SambaSnapshot:
        """Run smbstatus once and return its counts."""
        return parse_smbstatus(self.runner(self.command, self.timeout_seconds))


class SambaCollector(BackgroundCollector[SambaSnapshot]):
    """Exports nasops_samba_* from a SambaReader refreshed in the background."""

    name = "samba"

    def __init__(self, reader: SambaReader, interval_seconds: float,
                 *, clock: Callable[[], float] | None = None) -> None:
        super().__init__(reader.read, interval_seconds, clock=clock)

    def families(self, snapshot: SambaSnapshot) -> list[Metric]:
        """Given a Samba snapshot, return the nasops_samba_* families."""
        return [
            single_gauge("nasops_samba_sessions", "Open SMB sessions.", snapshot.sessions),
            single_gauge("nasops_samba_users", "Distinct users with an open SMB session.",
                         snapshot.users),
            single_gauge("nasops_samba_open_files", "Files open over SMB.",
                         snapshot.open_files),
            gauge("nasops_samba_share_connections", "SMB connections to each share (IPC$ "
                  "left out).", ["share"],
                  (([share], count) for share, count
                   in sorted(snapshot.share_connections.items()))),
        ]
