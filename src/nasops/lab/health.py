"""Whether a booted lab host is healthy: `running`, or an error naming each failed unit, how
its process ended and the end of its journal, so a degraded host is never handed to a test
(or a person) silently."""

from __future__ import annotations

from dataclasses import dataclass

from nasops.errors import CommandFailedError
from nasops.lab.model import LabHost
from nasops.lab.ssh import run_in_host, wait_for_ssh

# Enough of each failed unit's journal to show why it failed, short enough to read in an error.
JOURNAL_LINES = 10
# A boot with more failed units than this has one cause worth reading first, not ten.
UNITS_REPORTED = 5


@dataclass(frozen=True)
class FailedUnit:
    """One unit systemd lists as failed, with its `systemctl status` (how its process ended and
    the last lines of its journal)."""

    name: str
    status: str


class DegradedHostError(CommandFailedError):
    """The host booted but systemd is not `running` (usually `degraded`: a unit failed)."""

    def __init__(self, host_name: str, system_state: str, failed: tuple[FailedUnit, ...]) -> None:
        self.host_name = host_name
        self.system_state = system_state
        self.failed = failed
        super().__init__(describe(host_name, system_state, failed))


def describe(host_name: str, system_state: str, failed: tuple[FailedUnit, ...]) -> str:
    """Given what the host reported, return the error text: its state, each failed unit and
    the end of that unit's journal."""
    lines = [f"lab host {host_name} booted but is {system_state or 'not running'}"]
    if not failed:
        lines.append("no failed unit is listed (see `systemctl list-jobs` inside the host)")
    for unit in failed:
        lines.append(f"failed unit {unit.name}:")
        lines.extend(f"  {line}" for line in (unit.status or "(no status)").splitlines())
    return "\n".join(lines)


def parse_failed_units(listing: str) -> list[str]:
    """Given `systemctl list-units --failed --plain --no-legend` output, return the unit names."""
    names = []
    for line in listing.splitlines():
        words = line.split()
        # A leading "●" marks the failed state in some terminals even with --plain.
        if words and words[0] == "●":
            words = words[1:]
        if words:
            names.append(words[0])
    return names


def failed_units(host: LabHost) -> tuple[FailedUnit, ...]:
    """Given a booted host, return its failed units, each with its status and journal end.

    `systemctl status`, not only `journalctl -u`: a unit that fails before journald runs, or
    whose process never reached the unit's cgroup, has no journal lines of its own, but the
    manager still knows how its process ended (e.g. "status=219/CGROUP").
    """
    listing = run_in_host(
        host,
        ["systemctl", "list-units", "--failed", "--plain", "--no-legend", "--no-pager"],
        accepted_codes=range(256),
    )
    found = []
    for name in parse_failed_units(listing.stdout)[:UNITS_REPORTED]:
        status = run_in_host(
            host,
            ["systemctl", "status", "--no-pager", "--full", f"--lines={JOURNAL_LINES}", name],
            accepted_codes=range(256),
        )
        found.append(FailedUnit(name, status.stdout.strip()))
    return tuple(found)


def wait_until_running(host: LabHost, timeout: float) -> None:
    """Wait until the host answers over ssh and its boot finished as `running`; otherwise
    raise DegradedHostError with the failed units and their journals."""
    wait_for_ssh(host, timeout)
    result = run_in_host(
        host,
        ["timeout", str(int(timeout)), "systemctl", "is-system-running", "--wait"],
        timeout=timeout + 10,
        accepted_codes=range(256),
    )
    state = result.stdout.strip()
    if state != "running":
        raise DegradedHostError(host.name, state, failed_units(host))
