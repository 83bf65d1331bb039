"""`nasops plan`, `nasops apply` and `nasops drift`: the spec against the NAS, through Ansible.

All three validate every targeted host's spec first (exit 2, nothing touched), then run
playbooks/site.yml: plan and drift in check mode only; apply in check mode first (stopping
on any refusal or failure) and then for real. The real run holds each NAS's apply lock
(nasops.ansible.apply_lock: a second apply is refused, naming the holder), whose holder on the
NAS records how it ended in /var/lib/nasops/apply.json (running, then success, failure or
interrupted), which the exporter reads. SIGTERM, SIGINT and SIGHUP end the whole run
(ansible-playbook and its workers, the run's modules on the NAS), record it as interrupted,
remove the run directory and exit with 128 + the signal number.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

import click

from nasops.ansible import (
    RunResult,
    TargetHost,
    Workspace,
    ansible_environment,
    prepared_workspace,
    project_root,
    require_secrets,
    require_vault_password,
    run_playbook,
)
from nasops.ansible.apply_lock import RUN_VARIABLE, ApplyLocks
from nasops.ansible.events import fold_events
from nasops.ansible.inventory import inventory_base, list_inventory, target_hosts
from nasops.ansible.runner import RunInterrupted, interruptible
from nasops.ansible.summary import (
    plural,
    progress_line,
    render_apply_summary,
    render_drift,
    render_drift_json,
    render_failures,
    render_plan,
    render_refusals,
)
from nasops.errors import EXIT_DRIFT, BadInputError, CommandFailedError, NasopsError


class DriftFoundError(NasopsError):
    """The NAS differs from its spec (exit code 3); the report was already printed."""

    exit_code = EXIT_DRIFT


def _target_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options every provisioning command shares."""
    options = [
        click.option("-i", "--inventory", required=True,
                     help="Ansible inventory (any format) naming the NAS hosts of group 'nas'."),
        click.option("--spec", "spec_override", type=click.Path(dir_okay=False),
                     help="Use this spec for every targeted host instead of nasops_spec."),
        click.option("--limit", "-l", help="Ansible host pattern restricting the hosts."),
        click.option("--vault-password-file", type=click.Path(dir_okay=False, exists=True),
                     envvar="ANSIBLE_VAULT_PASSWORD_FILE",
                     help="File holding the ansible-vault password of the secrets files."),
        click.option("--quiet", "-q", is_flag=True, help="Do not show progress per step."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


class _Progress:
    """Prints one line per host result on stderr while a run goes on; with locks, keeps the
    changes made so far on each host (told to the NAS, so a killed run records them)."""

    def __init__(self, *, check_mode: bool, quiet: bool, locks: ApplyLocks | None = None,
                 hosts: list[str] | None = None) -> None:
        self.check_mode = check_mode
        self.quiet = quiet
        self.locks = locks
        self.hosts = hosts or []
        self.events: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}

    def __call__(self, event: dict[str, Any]) -> None:
        line = progress_line(event, check_mode=self.check_mode)
        if line and not self.quiet:
            click.echo(line, err=True)
        self.events.append(event)
        if self.locks is not None and event.get("event") == "result":
            counts = changes_so_far(self.events, self.hosts)
            if counts != self.counts:
                self.counts = counts
                self.locks.progress(counts)


def changes_so_far(events: list[dict[str, Any]], hosts: list[str]) -> dict[str, int]:
    """Given the events of a real run so far, return the changes made on each host."""
    folded = fold_events(events, hosts, check_mode=False)
    return {name: host.change_count for name, host in folded.hosts.items()}


Hostvars = Mapping[str, Mapping[str, Any]]


def _prepare(inventory: str, spec_override: str | None, limit: str | None,
             vault_password_file: str | None) -> list[TargetHost]:
    return _prepare_with_hostvars(inventory, spec_override, limit, vault_password_file)[0]


def _prepare_with_hostvars(inventory: str, spec_override: str | None, limit: str | None,
                           vault_password_file: str | None
                           ) -> tuple[list[TargetHost], Hostvars]:
    """Return the targets and every host's inventory variables (the lock connects with
    them as Ansible would)."""
    environment = ansible_environment(project_root())
    data = list_inventory(inventory, limit=limit, vault_password_file=vault_password_file,
                          environment=environment)
    targets = target_hosts(data, inventory_base(inventory), spec_override=spec_override)
    require_secrets(targets)
    require_vault_password(targets, vault_password_file)
    return targets, data.get("_meta", {}).get("hostvars", {})


def _show_warnings(workspace: Workspace) -> None:
    for warning in workspace.warnings:
        click.echo(warning.format(), err=True)


def _check(workspace: Workspace, inventory: str, vault_password_file: str | None,
           *, quiet: bool) -> RunResult:
    """Run the check-mode pass; raise on refusals (exit 2) and failures (exit 1)."""
    result = run_playbook(workspace, inventory, check=True,
                          vault_password_file=vault_password_file,
                          on_event=_Progress(check_mode=True, quiet=quiet))
    if result.refusals:
        others = [line for line in render_failures(result).splitlines()
                  if line not in render_refusals(result).splitlines()]
        raise BadInputError("\n".join([render_refusals(result), *others,
                                       "nothing was changed"]))
    if result.failed:
        raise CommandFailedError("the check run failed; nothing was changed\n"
                                 + render_failures(result))
    return result


def apply_records(result: RunResult) -> dict[str, dict[str, Any]]:
    """Given the real run of an apply, return per host how it ended, as apply.json records
    it: success or failure (a failed task, or the host could not be reached), and the
    changes made."""
    if result.check_mode:
        return {}  # a check changes nothing, not even the record
    return {name: {"result": "failure" if host.failed else "success",
                   "changed_items": host.change_count}
            for name, host in result.hosts.items()}


def _converge(workspace: Workspace, inventory: str, vault_password_file: str | None,
              hostvars: Hostvars, *, quiet: bool) -> RunResult:
    """Take every NAS's apply lock, run site.yml for real and record how it ended; on a
    signal, record `interrupted` with the changes made so far and raise RunInterrupted."""
    run = uuid.uuid4().hex
    locks = ApplyLocks(run)
    locks.acquire(hostvars, workspace.hosts)
    with locks:
        for line in locks.stale_runs():
            click.echo(f"warning: {line}", err=True)
        locks.start()
        progress = _Progress(check_mode=False, quiet=quiet, locks=locks,
                             hosts=list(workspace.hosts))
        try:
            result = run_playbook(workspace, inventory, check=False,
                                  vault_password_file=vault_password_file, on_event=progress,
                                  extra_variables={RUN_VARIABLE: run})
        except RunInterrupted as interruption:
            counts = changes_so_far(progress.events, list(workspace.hosts))
            locks.finish({host: {"result": "interrupted", "changed_items": count}
                          for host, count in counts.items()})
            _show_lines(locks.warnings)
            made = ", ".join(f"{plural(count, 'change')} on {host}"
                             for host, count in counts.items())
            raise RunInterrupted(interruption.signum, (
                f"ansible-playbook, its workers and the run's modules on the NAS were "
                f"stopped after {made}; the apply record says interrupted; `nasops apply` "
                "again converges from there")) from None
        locks.finish(apply_records(result))
    _show_lines(locks.warnings)
    return result


def _settle_record(hostvars: Hostvars, hosts: list[str]) -> None:
    """After a no-op apply, record `success` (0 changes) where the last apply failed, was
    interrupted or never finished: the NAS matches its spec, and the apply alerts must say so.
    Where the last apply succeeded its record stays. Takes the lock (one SSH session)."""
    locks = ApplyLocks(uuid.uuid4().hex)
    locks.acquire(hostvars, hosts)
    with locks:
        settled = [host for host, holder in locks.holders.items()
                   if (holder.previous or {}).get("result") != "success"]
        locks.let_go([host for host in hosts if host not in settled])
        if settled:
            locks.start()
            locks.finish({host: {"result": "success", "changed_items": 0} for host in settled})
    _show_lines(locks.warnings)


def _show_lines(lines: list[str]) -> None:
    for line in lines:
        click.echo(f"warning: {line}", err=True)


@click.command()
@_target_options
@click.option("--all", "show_all", is_flag=True, help="List every item, not the first 25.")
def plan(*, inventory: str, spec_override: str | None, limit: str | None,
         vault_password_file: str | None, quiet: bool, show_all: bool) -> None:
    """Show what `apply` would change on each NAS (check mode; nothing is touched)."""
    targets = _prepare(inventory, spec_override, limit, vault_password_file)
    with interruptible(), prepared_workspace(targets) as workspace:
        _show_warnings(workspace)
        result = _check(workspace, inventory, vault_password_file, quiet=quiet)
    click.echo(render_plan(result, show_all=show_all))


@click.command()
@_target_options
def apply(*, inventory: str, spec_override: str | None, limit: str | None,
          vault_password_file: str | None, quiet: bool) -> None:
    """Make each NAS match its spec: check first, stop on any refusal, then change."""
    targets, hostvars = _prepare_with_hostvars(inventory, spec_override, limit, vault_password_file)
    with interruptible(), prepared_workspace(targets) as workspace:
        _show_warnings(workspace)
        if not quiet:
            click.echo(f"checking {', '.join(workspace.hosts)} (check mode)…", err=True)
        # A refused or failed check changes nothing, not even the apply record: bad input
        # leaves the NAS untouched.
        checked = _check(workspace, inventory, vault_password_file, quiet=True)
        if checked.change_count == 0:
            # The check ran every step read-only and found nothing to do: a second, real run
            # would only repeat it, doubling the time of a no-op apply.
            _settle_record(hostvars, list(workspace.hosts))
            click.echo(render_apply_summary(checked))
            return
        if not quiet:
            click.echo(f"check passed: {plural(checked.change_count, 'change')} expected; "
                       "applying…", err=True)
        result = _converge(workspace, inventory, vault_password_file, hostvars, quiet=quiet)
    if result.failed:
        click.echo(render_apply_summary(result))
        raise CommandFailedError("apply failed\n" + render_failures(result))
    click.echo(render_apply_summary(result))


@click.command()
@_target_options
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON document {version, drift, hosts: {host: [items]}}.")
def drift(*, inventory: str, spec_override: str | None, limit: str | None,
          vault_password_file: str | None, quiet: bool, as_json: bool) -> None:
    """Compare each NAS with its spec (read-only); exit 3 when they differ."""
    targets = _prepare(inventory, spec_override, limit, vault_password_file)
    with interruptible(), prepared_workspace(targets) as workspace:
        _show_warnings(workspace)
        result = _check(workspace, inventory, vault_password_file, quiet=quiet or as_json)
    click.echo(render_drift_json(result) if as_json else render_drift(result))
    drifted = [host for host in result.hosts.values() if host.drifted]
    if drifted:
        # Apply fixes changes; it never touches a place that left the spec: forget settles it.
        remedies = (["`nasops apply` brings it back to the spec"]
                    if any(host.change_count for host in drifted) else [])
        if any(host.unmanaged for host in drifted):
            remedies.append("`nasops forget PATH` settles a place that left the spec "
                            "(data and ACLs kept)")
        raise DriftFoundError(f"drift found on {', '.join(host.name for host in drifted)}; "
                              + "; ".join(remedies))


def register(cli: click.Group) -> None:
    """Add plan, apply and drift to the main CLI group."""
    for command in (plan, apply, drift):
        cli.add_command(command)
