"""The passes of plan, apply and drift: the check pass (refusals stop everything, nothing is
changed), and the real pass under every NAS's apply lock, recorded however it ends.

Both are handed the command's way of running ansible-playbook (`run`, the CLI's RunReport
keeps its log) and of showing progress (`on_event`), so that this holds no printing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from nasops.ansible import RunResult, Workspace
from nasops.ansible.apply_lock import RUN_VARIABLE, ApplyLocks
from nasops.ansible.events import fold_events
from nasops.ansible.runner import RunInterrupted
from nasops.ansible.summary import plural, render_failures, render_refusals
from nasops.errors import BadInputError, CommandFailedError
from nasops.provision.record import apply_records
from nasops.provision.targets import Hostvars

Run = Callable[..., RunResult]
EventHandler = Callable[[dict[str, Any]], None]
# The tags of playbooks/site.yml: one per role, in the order the play runs them, and the tree
# step of nas_shares alone (a unit test keeps this list and the playbook in step).
SITE_TAGS = ("nas_base", "nas_release", "nas_accounts", "nas_quotas", "nas_shares",
             "nas_shares_tree", "nas_sync", "nas_exporter", "nas_backup")
ROLES = tuple(tag for tag in SITE_TAGS if tag != "nas_shares_tree")
# Always in the real pass: later roles read what nas_base and nas_release register (the
# volume's file system, the release's path); nas_backup creates a repository that could not
# be reached before (a USB disk plugged in since) only in a real pass, never in a check.
NEEDED_BY_OTHERS = ("nas_base", "nas_release")
ALWAYS_RUN = (*NEEDED_BY_OTHERS, "nas_backup")
# A new release restarts whatever runs from it (exporter, backups, the sync ACL keeper).
RUN_ALL_WHEN_CHANGED = ("nas_release",)
# Set by apply (both passes) only: the play then records the roles that converged
# (nasops.nas.converged); plan and drift write nothing on the NAS.
RECORD_VARIABLE = "nasops_record_converged"
# Also apply's alone: the directory where its check pass leaves nasops.nas.converged's answer
# for its real pass (the same fingerprints under the same locks: the NAS is not read again).
ANSWERS_VARIABLE = "nasops_converged_answers"


def apply_variables(workspace: Workspace) -> dict[str, Any]:
    """Return the extra variables both passes of an apply give the play."""
    answers = workspace.directory / "converged"
    answers.mkdir(mode=0o700, exist_ok=True)
    return {RECORD_VARIABLE: True, ANSWERS_VARIABLE: str(answers)}


def roles_to_run(checked: RunResult) -> tuple[str, ...] | None:
    """Given the check pass of an apply, return the roles the real pass must run: those
    whose check found a change or a place that left the spec, and ALWAYS_RUN. None (run
    every role) when a change cannot be told to a role, or when one of RUN_ALL_WHEN_CHANGED
    changes.

    A role whose check found nothing would find nothing again: the roles' checks read the
    NAS (the tree walk, accounts, units, files; nas_backup's repository creation, which only a
    real pass tries, is why it always runs), the apply lock is held from before the check to
    the record (no other apply changes the NAS in between), and the roles before it in the
    real pass change only what the check already listed for them.
    """
    changed: set[str] = set()
    for host in checked.hosts.values():
        if host.unlisted:
            return None
        # Places that left the spec too: the role reports them again in the real pass.
        for change in host.changes:
            role = change.step.split(": ", 1)[0] if ": " in change.step else ""
            if role not in ROLES:
                return None
            changed.add(role)
    if changed & set(RUN_ALL_WHEN_CHANGED):
        return None
    return tuple(role for role in ROLES if role in changed or role in ALWAYS_RUN)


# The tree step, and the roles whose changes cannot change what the tree walk finds (the
# exporter's files and units; the share sections are Samba's). Any other role's change
# (an account, a share directory, the sync account) makes the real pass walk every share.
TREE_STEP = "nas_shares: Converge the folder tree and ACLs of every share"
TREE_NEUTRAL_ROLES = ("nas_shares", "nas_exporter")
# The tree module's change of the drift check's copy of the desired state (desired_copy).
DESIRED_COPY_KIND = "desired copy"
TREE_SHARES_VARIABLE = "nasops_tree_shares"


def tree_shares(checked: RunResult, outlines: dict[str, dict[str, Any]],
                ) -> dict[str, list[str]] | None:
    """Given the check pass of an apply and each host's desired outline, return for each host
    the paths of the shares whose tree the real pass must walk again (those the check listed
    a change or a place that left the spec in) and the path of the desired state's copy when
    the check found it stale, or None when every share must be walked.

    The check walked every share moments ago under the apply lock; a share where it found
    nothing would give nothing again (files people save inherit its unchanged defaults)."""
    narrowed: dict[str, list[str]] = {}
    for name, host in checked.hosts.items():
        shares = (outlines.get(name) or {}).get("shares") or []
        if host.unlisted or any(share.get("renamed_from") for share in shares):
            return None
        paths = [str(share.get("path")) for share in shares]
        chosen: set[str] = set()
        for change in host.changes:
            role = change.step.split(": ", 1)[0] if ": " in change.step else ""
            if role not in TREE_NEUTRAL_ROLES:
                return None
            if change.step != TREE_STEP:
                continue
            if change.kind == DESIRED_COPY_KIND:
                # Listed, the copy's path makes the real pass call the module (which writes
                # the copy once its shares converged) without walking any share for it.
                chosen.add(change.target)
                continue
            share = next((path for path in paths if change.target == path
                          or change.target.startswith(path + "/")), None)
            if share is None:
                return None
            chosen.add(share)
        narrowed[name] = sorted(chosen)
    return narrowed


SECTIONS_VARIABLE = "nasops_share_sections_unchanged"


def unchanged_sections(checked: RunResult, narrowed: dict[str, list[str]] | None) -> list[str]:
    """Given the check pass of an apply and tree_shares' answer, return the hosts whose real
    pass need not write the Samba share sections again: narrowed (only nas_shares and
    nas_exporter changes, which cannot change the sections) and none listed there."""
    if narrowed is None:
        return []
    # Only a host whose nas_shares changes are all the tree's: any other step of the role
    # (the sections, or one added later) makes the real pass write the sections again.
    return sorted(name for name, host in checked.hosts.items() if name in narrowed
                  and not any(change.step.startswith("nas_shares: ")
                              and change.step != TREE_STEP for change in host.changes))


def changes_so_far(events: list[dict[str, Any]], hosts: list[str]) -> dict[str, int]:
    """Given the events of a real run so far, return the changes made on each host."""
    folded = fold_events(events, hosts, check_mode=False)
    return {name: host.change_count for name, host in folded.hosts.items()}


class LockProgress:
    """Follows a real run's events: tells each NAS's lock holder the changes made so far
    (a killed run then records them), and passes every event on."""

    def __init__(self, locks: ApplyLocks, hosts: list[str], then: EventHandler) -> None:
        self.locks = locks
        self.hosts = hosts
        self.then = then
        self.events: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}

    def __call__(self, event: dict[str, Any]) -> None:
        self.then(event)
        self.events.append(event)
        if event.get("event") == "result":
            counts = changes_so_far(self.events, self.hosts)
            if counts != self.counts:
                self.counts = counts
                self.locks.progress(counts)


def check(run: Run, workspace: Workspace, vault_password_file: str | None,
          on_event: EventHandler, *, record: bool = False) -> RunResult:
    """Run the check-mode pass (recording the roles that found nothing to do when record:
    apply's); raise BadInputError on refusals (exit 2) and CommandFailedError on failures
    (exit 1): either way nothing was changed."""
    options: dict[str, Any] = {"extra_variables": apply_variables(workspace)} if record else {}
    result = run(workspace, check=True, vault_password_file=vault_password_file,
                 on_event=on_event, **options)
    if result.refusals:
        others = [line for line in render_failures(result).splitlines()
                  if line not in render_refusals(result).splitlines()]
        raise BadInputError("\n".join([render_refusals(result), *others,
                                       "nothing was changed"]))
    if result.failed:
        raise CommandFailedError("the check run failed; nothing was changed\n"
                                 + render_failures(result))
    return result


def take_locks(hostvars: Hostvars, hosts: list[str]) -> ApplyLocks:
    """Take every NAS's apply lock (before the check pass: nothing else changes the NAS
    until the record is written); raise LockBusyError naming the holder. Use the result as
    a context manager: leaving it without a start records nothing."""
    locks = ApplyLocks(uuid.uuid4().hex)
    locks.acquire(hostvars, hosts)
    return locks


def converge(run: Run, workspace: Workspace, vault_password_file: str | None,
             locks: ApplyLocks, *, on_event: EventHandler, warn: Callable[[str], None],
             tags: tuple[str, ...] | None = None,
             only_shares: dict[str, list[str]] | None = None,
             same_sections: list[str] | None = None,
             applied: Mapping[str, Mapping[str, Any]] | None = None) -> RunResult:
    """Holding every NAS's apply lock (take_locks), run site.yml for real (only the roles in
    tags when given; only the trees of only_shares when given) and record how it ended; on
    a signal, record `interrupted` with the changes made so far and raise RunInterrupted.
    The hosts of same_sections do not write their Samba share sections again; the hosts of
    applied keep these specs where the run succeeded (nasops.provision.applied)."""
    run_id = locks.run
    with locks:
        for line in locks.stale_runs():
            warn(line)
        locks.start()
        progress = LockProgress(locks, list(workspace.hosts), on_event)
        try:
            options: dict[str, Any] = {} if tags is None else {"tags": tags}
            result = run(workspace, check=False, vault_password_file=vault_password_file,
                         on_event=progress,
                         extra_variables={
                             RUN_VARIABLE: run_id, **apply_variables(workspace),
                             **({} if only_shares is None
                                else {TREE_SHARES_VARIABLE: only_shares}),
                             **({SECTIONS_VARIABLE: same_sections} if same_sections else {})},
                         **options)
        except RunInterrupted as interruption:
            counts = changes_so_far(progress.events, list(workspace.hosts))
            locks.finish({host: {"result": "interrupted", "changed_items": count}
                          for host, count in counts.items()})
            for line in locks.warnings:
                warn(line)
            made = ", ".join(f"{plural(count, 'change')} on {host}"
                             for host, count in counts.items())
            raise RunInterrupted(interruption.signum, (
                f"ansible-playbook, its workers and the run's modules on the NAS were "
                f"stopped after {made}; the apply record says interrupted; `nasops apply` "
                "again converges from there")) from None
        locks.finish(apply_records(result), applied)
    for line in locks.warnings:
        warn(line)
    return result
