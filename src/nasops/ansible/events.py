"""What a playbook run reported: events from the nasops_events callback, folded into results.

The callback writes one JSON object per line (`event` is `play_start`, `task_start`, `result`
or `recap`). This module only reads them; it never runs anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REFUSAL_PREFIX = "refused:"
UNMANAGED = "unmanaged"
# A role's debug message starting so is a warning (e.g. a backup repository not reachable):
# shown with the module warnings, not only in -v output.
WARNING_PREFIX = "WARNING:"
DEBUG_ACTIONS = frozenset({"debug", "ansible.builtin.debug"})


@dataclass(frozen=True)
class Change:
    """One thing a module changed (or, in check mode, would change) on a host."""

    kind: str
    target: str
    detail: str
    step: str


@dataclass(frozen=True)
class Failure:
    """A task that failed on a host."""

    step: str
    message: str

    @property
    def is_refusal(self) -> bool:
        """Return whether the module refused on purpose (quota below usage, rename conflict)."""
        return self.message.lstrip().startswith(REFUSAL_PREFIX)


@dataclass
class HostResult:
    """Everything one host reported during a run."""

    name: str
    changes: list[Change] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unreachable: str | None = None
    recap: dict[str, int] = field(default_factory=dict)
    unlisted: int = 0
    """Changes a module counted but did not list (it caps its `changes`)."""

    @property
    def real_changes(self) -> list[Change]:
        """Return the changes proper: everything but `unmanaged` (reported, never touched)."""
        return [change for change in self.changes if change.kind != UNMANAGED]

    @property
    def unmanaged(self) -> list[Change]:
        """Return the places on the NAS that are not in the spec (left as they are)."""
        return [change for change in self.changes if change.kind == UNMANAGED]

    @property
    def change_count(self) -> int:
        """Return how many changes were (or would be) made, unlisted ones included."""
        return len(self.real_changes) + self.unlisted

    @property
    def drifted(self) -> bool:
        """Return whether anything differs from the spec, unmanaged places included."""
        return bool(self.changes) or self.unlisted > 0

    @property
    def failed(self) -> bool:
        """Return whether the host failed or could not be reached."""
        return bool(self.failures) or self.unreachable is not None


@dataclass
class RunResult:
    """A whole run: per host results, the process exit code and the end of its log."""

    hosts: dict[str, HostResult]
    check_mode: bool
    returncode: int = 0
    log_tail: str = ""
    completed: bool = False
    """Whether the callback wrote the recap; without it the run's outcome is unknown."""

    @property
    def refusals(self) -> list[tuple[str, Failure]]:
        """Return (host, failure) for every refusal."""
        return [(host.name, failure) for host in self.hosts.values()
                for failure in host.failures if failure.is_refusal]

    @property
    def failed(self) -> bool:
        """Return whether any host failed, or the run failed or ended without a recap."""
        return (any(host.failed for host in self.hosts.values()) or self.returncode != 0
                or not self.completed)

    @property
    def change_count(self) -> int:
        """Return the number of changes over all hosts."""
        return sum(host.change_count for host in self.hosts.values())


def step_name(event: Mapping[str, Any]) -> str:
    """Given a task_start or result event, return "role: task" (or the task alone)."""
    task = str(event.get("task") or event.get("action") or "task")
    role = event.get("role")
    return f"{role}: {task}" if role else task


def read_events(path: Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Given the events file and a byte offset, return the complete new events and new offset.

    A line still being written (no newline yet) is left for the next call.
    """
    if not path.exists():
        return [], offset
    with path.open("rb") as stream:
        stream.seek(offset)
        chunk = stream.read()
    end = chunk.rfind(b"\n")
    if end < 0:
        return [], offset
    events = [json.loads(line) for line in chunk[:end].split(b"\n") if line.strip()]
    return events, offset + end + 1


def _add_result(host: HostResult, event: Mapping[str, Any]) -> None:
    """Given a host and one of its result events, add what the event says to it."""
    step = step_name(event)
    for warning in event.get("warnings") or []:
        if warning not in host.warnings:
            host.warnings.append(str(warning))
    status = event.get("status")
    if status == "unreachable":
        host.unreachable = str(event.get("msg") or "unreachable")
    elif status == "failed" and not event.get("ignored"):
        host.failures.append(Failure(step, str(event.get("msg") or "failed")))
    elif status in ("ok", "changed") and not event.get("handler"):
        message = str(event.get("msg") or "")
        if event.get("action") in DEBUG_ACTIONS and message.startswith(WARNING_PREFIX):
            warning = message[len(WARNING_PREFIX):].strip()
            if warning not in host.warnings:
                host.warnings.append(warning)
        # An ok result may still list `unmanaged` places: they are reported, never changed.
        changes = event.get("changes") or []
        host.changes += [Change(str(item.get("kind", "")), str(item.get("target", "")),
                                str(item.get("detail", "")), step) for item in changes]
        host.unlisted += int(event.get("unlisted") or 0)
        if status == "changed" and not changes:
            host.changes.append(Change("task", step, "changed", step))


def fold_events(events: Iterable[Mapping[str, Any]], hosts: Iterable[str],
                *, check_mode: bool) -> RunResult:
    """Given events in order and the targeted hosts, return the RunResult they describe.

    A changed task whose module gave no `changes` list still counts as one change (kind
    `task`), so nothing that would change goes unreported. Handlers are not counted: they
    only react to changes already reported. A failure the recap does not count (rescued by a
    block) is dropped; ignored failures never count.
    """
    results = {name: HostResult(name) for name in hosts}
    completed = False
    for event in events:
        kind = event.get("event")
        if kind == "recap":
            completed = True
            for name, counters in (event.get("hosts") or {}).items():
                host = results.setdefault(name, HostResult(name))
                host.recap = {key: int(value) for key, value in counters.items()}
            continue
        if kind != "result":
            continue
        host = results.setdefault(str(event["host"]), HostResult(str(event["host"])))
        _add_result(host, event)
    for host in results.values():
        if host.recap and host.recap.get("failures", 0) == 0:
            host.failures.clear()
        elif completed and not host.recap:
            # A silent success would read as "no changes": say the playbook skipped it.
            host.failures.append(Failure("playbook", "no task ran on this host; is it in "
                                                     "group 'nas' of the inventory?"))
    return RunResult(results, check_mode, completed=completed)


def load_run(path: Path, hosts: Iterable[str], *, check_mode: bool) -> RunResult:
    """Given an events file (e.g. a fixture) and the hosts, return its RunResult."""
    events, _ = read_events(path)
    return fold_events(events, hosts, check_mode=check_mode)
