"""Turn run events and results into what people read: progress lines, plan, apply and drift.

Pure functions of the data: nothing here runs a command or prints.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from nasops.ansible.events import Change, HostResult, RunResult, step_name
from nasops.errors import EXIT_DRIFT, NasopsError, Problem, SpecError

# Sections of a plan, in the order the roles act; a kind not listed falls under "other".
SECTIONS: tuple[tuple[str, frozenset[str]], ...] = (
    ("accounts", frozenset({"group", "user", "membership", "password"})),
    ("shares", frozenset({"share"})),
    ("folders", frozenset({"folder"})),
    ("ACL entries", frozenset({"acl"})),
    ("quotas", frozenset({"quota"})),
    ("renames", frozenset({"rename"})),
    ("unmanaged folders", frozenset({"unmanaged"})),
    # nasops.nas.host: what the roles install to run the NAS (Samba, exporter, backups).
    ("system files and services",
     frozenset({"account", "directory", "file", "link", "remove", "service",
                "desired copy"})),
)
OTHER_SECTION = "other"
# A fresh NAS yields hundreds of items; the plan shows this many per section by default.
ITEMS_PER_SECTION = 25
RUN_DOCUMENT_VERSION = 2
# Role names are lowercase identifiers, maybe a collection's FQCN; task names are sentences.
ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\Z")
CHECK_STATUS_WORDS = {"changed": "would change"}
# Preflight actions whose success says nothing to people; their failures are still shown.
SILENT_WHEN_OK = frozenset({"validate_argument_spec", "assert"})


def plural(count: int, word: str) -> str:
    """Given a count and a singular noun, return e.g. '1 change' or '12 changes'."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def section_of(kind: str) -> str:
    """Given a change kind, return the name of the plan section it belongs to."""
    for title, kinds in SECTIONS:
        if kind in kinds:
            return title
    return OTHER_SECTION


def grouped_changes(changes: Iterable[Change]) -> dict[str, list[Change]]:
    """Given changes, return them by section, sections in plan order, empty ones left out."""
    order = [title for title, _ in SECTIONS] + [OTHER_SECTION]
    groups: dict[str, list[Change]] = {title: [] for title in order}
    for change in changes:
        groups[section_of(change.kind)].append(change)
    return {title: items for title, items in groups.items() if items}


def progress_line(event: Mapping[str, Any], *, check_mode: bool = False) -> str | None:
    """Given one event, return the progress line to show, or None for events not shown.

    Only host results are shown, skipped ones and passed preflight checks left out:
    "[wsm-nas] nas_accounts: users … ok".
    """
    if event.get("event") != "result" or event.get("status") == "skipped":
        return None
    action = str(event.get("action") or "").rsplit(".", 1)[-1]
    if event.get("status") == "ok" and action in SILENT_WHEN_OK:
        return None
    status = str(event.get("status"))
    if check_mode:
        status = CHECK_STATUS_WORDS.get(status, status)
    if status in ("failed", "unreachable"):
        status += ("" if not event.get("ignored") else " (ignored)")
        if event.get("msg") and not event.get("ignored"):
            status += f": {event['msg']}"
    return f"[{event.get('host')}] {step_name(event)} … {status}"


def _change_line(change: Change) -> str:
    text = f"{change.kind} {change.target}"
    return text + (f": {change.detail}" if change.detail else "")


def _unlisted_line(host: HostResult, indent: str) -> list[str]:
    if not host.unlisted:
        return []
    return [f"{indent}… and {plural(host.unlisted, 'more change')} the modules did not list"]


def render_host_plan(host: HostResult, *, show_all: bool = False) -> list[str]:
    """Given one host's check-mode result, return the lines of its plan."""
    if not host.change_count:
        lines = [f"{host.name}: no changes: the NAS already matches the spec"]
    else:
        lines = [f"{host.name}: {plural(host.change_count, 'change')} to make"]
    for title, items in grouped_changes(host.changes).items():
        lines.append(f"  {title} ({len(items)})")
        shown = items if show_all else items[:ITEMS_PER_SECTION]
        lines += [f"    {_change_line(change)}" for change in shown]
        if len(shown) < len(items):
            lines.append(f"    … and {len(items) - len(shown)} more (--all shows every item)")
    lines += _unlisted_line(host, "  ")
    if host.warnings:
        lines.append("  warnings")
        lines += [f"    {warning}" for warning in host.warnings]
    return lines


def render_plan(result: RunResult, *, show_all: bool = False) -> str:
    """Given a check-mode RunResult, return the human plan of every host."""
    lines: list[str] = []
    for host in result.hosts.values():
        lines += render_host_plan(host, show_all=show_all)
    return "\n".join(lines)


def section_counts(changes: Iterable[Change]) -> str:
    """Given changes, return e.g. 'accounts 5, ACL entries 7'."""
    return ", ".join(f"{title} {len(items)}" for title, items in grouped_changes(changes).items())


def render_apply_summary(result: RunResult) -> str:
    """Given the real run's RunResult, return the summary of each host."""
    lines = []
    for host in result.hosts.values():
        count = host.change_count
        if host.failed:
            lines.append(f"{host.name}: failed after {plural(count, 'change')}")
        elif count:
            lines.append(f"{plural(count, 'change')} on {host.name} "
                         f"({section_counts(host.real_changes) or 'not listed'})")
        else:
            lines.append(f"{host.name}: no changes: the NAS already matches the spec")
        if host.unmanaged:
            lines.append(f"  {plural(len(host.unmanaged), 'place')} not in the spec, left as "
                         "they are: " + ", ".join(change.target for change in host.unmanaged))
        lines += [f"  warning: {warning}" for warning in host.warnings]
    return "\n".join(lines)


def render_drift(result: RunResult) -> str:
    """Given a check-mode RunResult read as drift, return the human drift report."""
    lines = []
    for host in result.hosts.values():
        if not host.drifted:
            lines.append(f"{host.name}: no drift: the NAS matches the spec")
        else:
            count = len(host.changes) + host.unlisted
            lines.append(f"{host.name}: {plural(count, 'difference')} from the spec")
            lines += [f"  {_change_line(change)}" for change in host.changes]
            lines += _unlisted_line(host, "  ")
        lines += [f"  warning: {warning}" for warning in host.warnings]
    return "\n".join(lines)


def role_of(step: str) -> str | None:
    """Given a step ("role: task", or a task of the play itself), return its role, if any.

    Role names are lowercase identifiers (nas_accounts, nasops.nas.nas_shares); task names
    are sentences, so "Note: x" is not taken for a role.
    """
    role, separator, _ = step.partition(": ")
    return role if separator and ROLE_NAME.match(role) else None


def _host_status(host: HostResult) -> str:
    if host.unreachable is not None:
        return "unreachable"
    if any(failure.is_refusal for failure in host.failures):
        return "refused"
    if host.failures:
        return "failed"
    return "changed" if host.change_count else "ok"


def host_document(host: HostResult, *, check_mode: bool) -> dict[str, Any]:
    """Given one host's result, return its part of the run document (`drifted` only means
    something in check mode: a real run's changes are not drift; null there)."""
    by_role: dict[str, int] = {}
    for change in host.real_changes:
        role = role_of(change.step) or ""
        by_role[role] = by_role.get(role, 0) + 1
    return {
        "status": _host_status(host),
        "change_count": host.change_count,
        "unlisted": host.unlisted,
        "by_role": by_role,
        "changes": [{"kind": change.kind, "target": change.target, "detail": change.detail,
                     "step": change.step, "role": role_of(change.step),
                     "section": section_of(change.kind)}
                    for change in host.changes],
        "drifted": host.drifted if check_mode else None,
        "failures": [{"step": failure.step, "message": failure.message,
                      "refusal": failure.is_refusal} for failure in host.failures],
        "unreachable": host.unreachable,
        "warnings": list(host.warnings),
    }


def problem_document(problem: Problem | None = None, message: str = "") -> dict[str, Any]:
    """Given a located spec problem (or a plain message), return one entry of `errors` or
    `warnings`: always the same keys, null where a message has no place."""
    if problem is None:
        return {"file": None, "line": None, "column": None, "path": None, "message": message}
    return {"file": problem.file, "line": problem.line, "column": problem.column,
            "path": problem.path or None, "message": problem.message}


def error_documents(error: NasopsError | None) -> list[dict[str, Any]]:
    """Given the error a command ended with, return its `errors` entries: one per problem
    of a spec, else one with the whole message. Drift found is a result, not an error."""
    if error is None or error.exit_code == EXIT_DRIFT:
        return []
    if isinstance(error, SpecError):
        return [problem_document(problem) for problem in error.problems]
    return [problem_document(message=str(error))]


def run_document(command: str, result: RunResult | None, *, exit_code: int,
                 log: str | None, error: NasopsError | None = None,
                 warnings: Iterable[Problem] = ()) -> dict[str, Any]:
    """Given a command's outcome, return the stable document `--json` prints.

    Keys (version 2): version, command, check_mode, exit_code, log (the kept log's path or
    null), change_count, drift (whether a check-mode run found differences; null for a
    real run), hosts {name: host_document} sorted by name (empty when the
    command ended before Ansible ran), errors and warnings (lists of {file, line, column,
    path, message}). plan adds access: {host: who gains and who loses access}, empty when it
    stopped before reading the NAS (nasops.provision.applied.access_document).
    """
    hosts = sorted(result.hosts.values(), key=lambda host: host.name) if result else []
    return {
        "version": RUN_DOCUMENT_VERSION,
        "command": command,
        "check_mode": result.check_mode if result else None,
        "exit_code": exit_code,
        "log": log,
        "change_count": result.change_count if result else 0,
        "drift": (any(host.drifted for host in hosts)
                  if result is not None and result.check_mode else None),
        "hosts": {host.name: host_document(host, check_mode=result.check_mode)
                  for host in hosts if result is not None},
        "errors": error_documents(error),
        "warnings": [problem_document(problem) for problem in warnings],
    }


def render_json(document: Mapping[str, Any]) -> str:
    """Given a document, return it as indented JSON (people read it too)."""
    return json.dumps(document, indent=2, ensure_ascii=False)


def render_refusals(result: RunResult) -> str:
    """Given a run with refusals, return one line per refusal naming host and step."""
    return "\n".join(f"{host} [{failure.step}]: {failure.message}"
                     for host, failure in result.refusals)


def render_failures(result: RunResult) -> str:
    """Given a failed run, return what failed where; the log's end if no host said why."""
    lines = []
    for host in result.hosts.values():
        if host.unreachable is not None:
            lines.append(f"{host.name}: unreachable: {host.unreachable}")
        lines += [f"{host.name} [{failure.step}]: {failure.message}"
                  for failure in host.failures]
    if not lines:
        ending = ("without a recap from the nasops_events callback" if result.returncode == 0
                  else f"with exit code {result.returncode} before any host reported a failure")
        lines.append(f"ansible-playbook ended {ending}; the end of its output:")
        lines += ["  " + line for line in result.log_tail.splitlines()]
    return "\n".join(lines)
