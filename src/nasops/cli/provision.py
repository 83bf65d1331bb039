"""`nasops plan`, `nasops apply` and `nasops drift`: the spec against the NAS, through Ansible.

All three validate every targeted host's spec first (exit 2, nothing touched), then run
playbooks/site.yml: plan and drift in check mode only; apply in check mode first (stopping
on any refusal or failure) and then for real. apply then records how it ended on each NAS
(playbooks/record.yml writes /var/lib/nasops/apply.json, which the exporter reads).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from nasops.ansible import (
    RECORD_PLAYBOOK,
    RunResult,
    TargetHost,
    Workspace,
    ansible_environment,
    prepared_workspace,
    project_root,
    read_targets,
    require_secrets,
    require_vault_password,
    run_playbook,
)
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
    """Prints one line per host result on stderr while a run goes on."""

    def __init__(self, *, check_mode: bool, quiet: bool) -> None:
        self.check_mode = check_mode
        self.quiet = quiet

    def __call__(self, event: dict[str, Any]) -> None:
        line = progress_line(event, check_mode=self.check_mode)
        if line and not self.quiet:
            click.echo(line, err=True)


def _prepare(inventory: str, spec_override: str | None, limit: str | None,
             vault_password_file: str | None) -> list[TargetHost]:
    environment = ansible_environment(project_root())
    targets = read_targets(inventory, limit=limit, spec_override=spec_override,
                           vault_password_file=vault_password_file, environment=environment)
    require_secrets(targets)
    require_vault_password(targets, vault_password_file)
    return targets


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
    """Given the real run of an apply, return per reachable host how it ended, as apply.json
    records it: success or failure, and the changes made."""
    if result.check_mode:
        return {}  # a check changes nothing, not even the record
    return {name: {"result": "failure" if host.failures else "success",
                   "changed_items": host.change_count}
            for name, host in result.hosts.items() if host.unreachable is None}


def _record(workspace: Workspace, inventory: str, vault_password_file: str | None,
            result: RunResult) -> None:
    """Write how the apply ended on each NAS (apply.json, read by the exporter), best effort:
    a NAS where it cannot be written gets a warning, the exit code stays the apply's."""
    records = apply_records(result)
    if not records:
        return
    recorded = run_playbook(workspace, inventory, check=False,
                            vault_password_file=vault_password_file,
                            playbook=RECORD_PLAYBOOK, hosts=list(records),
                            extra_variables={"nasops_apply_results": records})
    for name in records:
        host = recorded.hosts.get(name)
        if host is None or host.failed or not recorded.completed:
            click.echo(f"warning: could not record the result of this apply on {name}; "
                       "the exporter keeps showing the previous one", err=True)


@click.command()
@_target_options
@click.option("--all", "show_all", is_flag=True, help="List every item, not the first 25.")
def plan(*, inventory: str, spec_override: str | None, limit: str | None,
         vault_password_file: str | None, quiet: bool, show_all: bool) -> None:
    """Show what `apply` would change on each NAS (check mode; nothing is touched)."""
    targets = _prepare(inventory, spec_override, limit, vault_password_file)
    with prepared_workspace(targets) as workspace:
        _show_warnings(workspace)
        result = _check(workspace, inventory, vault_password_file, quiet=quiet)
    click.echo(render_plan(result, show_all=show_all))


@click.command()
@_target_options
def apply(*, inventory: str, spec_override: str | None, limit: str | None,
          vault_password_file: str | None, quiet: bool) -> None:
    """Make each NAS match its spec: check first, stop on any refusal, then change."""
    targets = _prepare(inventory, spec_override, limit, vault_password_file)
    with prepared_workspace(targets) as workspace:
        _show_warnings(workspace)
        if not quiet:
            click.echo(f"checking {', '.join(workspace.hosts)} (check mode)…", err=True)
        # A refused or failed check changes nothing, not even the apply record: bad input
        # leaves the NAS untouched.
        checked = _check(workspace, inventory, vault_password_file, quiet=True)
        if checked.change_count == 0:
            # The check ran every step read-only and found nothing to do: a second, real run
            # would only repeat it, doubling the time of a no-op apply.
            click.echo(render_apply_summary(checked))
            return
        if not quiet:
            click.echo(f"check passed: {plural(checked.change_count, 'change')} expected; "
                       "applying…", err=True)
        result = run_playbook(workspace, inventory, check=False,
                              vault_password_file=vault_password_file,
                              on_event=_Progress(check_mode=False, quiet=quiet))
        _record(workspace, inventory, vault_password_file, result)
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
    with prepared_workspace(targets) as workspace:
        _show_warnings(workspace)
        result = _check(workspace, inventory, vault_password_file, quiet=quiet or as_json)
    click.echo(render_drift_json(result) if as_json else render_drift(result))
    drifted = [host.name for host in result.hosts.values() if host.drifted]
    if drifted:
        raise DriftFoundError(f"drift found on {', '.join(drifted)}; "
                              "`nasops apply` brings it back to the spec")


def register(cli: click.Group) -> None:
    """Add plan, apply and drift to the main CLI group."""
    for command in (plan, apply, drift):
        cli.add_command(command)
