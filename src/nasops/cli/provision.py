"""`nasops plan`, `nasops apply` and `nasops drift`: the spec against the NAS, through Ansible.

All three validate every targeted host's spec first (exit 2, nothing touched), then run
playbooks/site.yml: plan and drift in check mode only; apply in check mode first (stopping
on any refusal or failure) and then for real. The real run holds each NAS's apply lock
(nasops.ansible.apply_lock: a second apply is refused, naming the holder), whose holder on the
NAS records how it ended in /var/lib/nasops/apply.json (running, then success, failure or
interrupted), which the exporter reads. SIGTERM, SIGINT and SIGHUP end the whole run
(ansible-playbook and its workers, the run's modules on the NAS), record it as interrupted,
remove the run directory and exit with 128 + the signal number.

Every run keeps ansible-playbook's output, masked, in a run directory named at the end
(`full log: PATH`; nasops.ansible.run_log); -v… is passed on to ansible-playbook and --json
prints one document instead of the text (nasops.cli.run_report).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from nasops.ansible import RunResult, TargetHost, Workspace
from nasops.ansible.runner import interruptible
from nasops.ansible.summary import (
    plural,
    progress_line,
    render_apply_summary,
    render_drift,
    render_failures,
    render_plan,
)
from nasops.cli.qts_apply import apply_qts
from nasops.cli.run_report import (
    RunReport,
    json_option,
    reported,
    tags_option,
    verbosity_option,
)
from nasops.errors import EXIT_DRIFT, BadInputError, CommandFailedError, NasopsError
from nasops.provision import prepare, prepared_workspace
from nasops.provision.applied import (
    access_document,
    access_section,
    applied_records,
    read_applied,
)
from nasops.provision.converge import (
    check,
    converge,
    roles_to_run,
    take_locks,
    tree_shares,
    unchanged_sections,
)
from nasops.provision.record import settle_record
from nasops.provision.targets import Hostvars


class DriftFoundError(NasopsError):
    """The NAS differs from its spec (exit code 3); the report was already printed."""

    exit_code = EXIT_DRIFT


def _target_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options every provisioning command shares."""
    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.option("-i", "--inventory", required=True,
                     help="Ansible inventory (any format) naming the NAS hosts of group 'nas'."),
        click.option("--spec", "spec_override", type=click.Path(dir_okay=False),
                     help="Use this spec for every targeted host instead of nasops_spec."),
        click.option("--limit", "-l", help="Ansible host pattern restricting the hosts."),
        click.option("--vault-password-file", type=click.Path(dir_okay=False, exists=True),
                     envvar="ANSIBLE_VAULT_PASSWORD_FILE",
                     help="File holding the ansible-vault password of the secrets files."),
        click.option("--quiet", "-q", is_flag=True, help="Do not show progress per step."),
        verbosity_option,
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


def _check(report: RunReport, workspace: Workspace, vault_password_file: str | None,
           *, quiet: bool, record: bool = False) -> RunResult:
    """Run the check-mode pass (nasops.provision.converge.check) with progress lines."""
    return check(report.run, workspace, vault_password_file,
                 _Progress(check_mode=True, quiet=quiet), record=record)


def _check_only(report: RunReport, inventory: str, spec_override: str | None,
                limit: str | None, vault_password_file: str | None, *, quiet: bool,
                drift: bool = False, show_access: bool = False,
                show_all: bool = False) -> tuple[RunResult | None, list[str]]:
    """plan and drift: every targeted spec compiled, then the check pass alone; return its
    result and, with show_access, plan's section on who gains and who loses access (with
    --json, kept in the report's document instead). QTS
    hosts are read by the QTS driver instead, its report printed here: None is returned."""
    targets, hostvars = prepare(inventory, spec_override, limit, vault_password_file,
                                qts_driver=True)
    if targets and targets[0].platform == "qts":
        _check_qts(report, targets, hostvars, vault_password_file, drift=drift,
                   show_access=show_access, show_all=show_all)
        return None, []
    with interruptible(), prepared_workspace(targets, vault_password_file) as workspace:
        report.show_warnings(workspace)
        result = _check(report, workspace, vault_password_file,
                        quiet=quiet or report.quiet_progress)
    access: list[str] = []
    if show_access:
        for target in targets:
            reading = read_applied(target.name, hostvars.get(target.name, {}))
            if report.as_json:
                report.access[target.name] = access_document(reading, target.spec_paths)
            else:
                access += access_section(reading, target.spec_paths, show_all=show_all)
    return result, access


def _check_qts(report: RunReport, targets: list[TargetHost], hostvars: Hostvars,
               vault_password_file: str | None, *, drift: bool, show_access: bool = False,
               show_all: bool = False) -> None:
    """plan and drift on QTS hosts (read-only, nasops.qts.commands); drift found raises.
    With show_access, plan says first who gains and who loses access, as on Debian."""
    from nasops.qts.commands import (  # noqa: PLC0415 - QTS only
        check_lines,
        endpoints,
        prepared_hosts,
        read_host,
        reading_document,
    )

    if report.tags:
        raise BadInputError("--tags are not built for QTS hosts (docs/qts.md)")
    drifted, refused = [], []
    for host in prepared_hosts(endpoints(targets, hostvars), vault_password_file):
        reading = read_host(host)
        paths = host.target.spec_paths
        if report.as_json:
            report.qts_hosts[host.target.name] = reading_document(reading)
            if show_access and reading.applied is not None:
                report.access[host.target.name] = access_document(reading.applied, paths)
        else:
            if show_access and reading.applied is not None:
                click.echo("\n".join(access_section(reading.applied, paths,
                                                     show_all=show_all)))
            click.echo("\n".join(check_lines(host, reading, drift=drift)))
        if reading.refused:
            refused.append(host.target.name)
        if reading.changes:
            drifted.append(host.target.name)
    # As on Debian: what apply would refuse makes plan and drift fail (exit 2) first.
    if refused:
        raise BadInputError(f"refused on {', '.join(refused)}: settle what is refused above "
                            "first (docs/qts.md)")
    if drift and drifted:
        raise DriftFoundError(f"drift found on {', '.join(drifted)}: `nasops apply` settles "
                              "it (docs/qts.md)")


def _applied(targets: list[TargetHost]) -> dict[str, dict[str, Any]]:
    """Each target's specs as its NAS keeps them once it matches them (plan compares)."""
    records, warnings = applied_records(targets)
    for line in warnings:
        _warn(line)
    return records


def _warn(line: str) -> None:
    click.echo(f"warning: {line}", err=True)


@click.command()
@_target_options
@tags_option
@json_option
@click.option("--all", "show_all", is_flag=True, help="List every item, not the first 25.")
def plan(*, inventory: str, spec_override: str | None, limit: str | None,
         vault_password_file: str | None, quiet: bool, verbosity: int, as_json: bool,
         show_all: bool, tags: tuple[str, ...]) -> None:
    """Show what `apply` would change on each NAS (check mode; nothing is touched)."""
    with reported("plan", inventory, as_json=as_json, verbosity=verbosity,
                  tags=tags) as report:
        result, access = _check_only(report, inventory, spec_override, limit,
                                     vault_password_file, quiet=quiet,
                                     show_access=True, show_all=show_all)
        if result is not None and not as_json:
            # Who gains and who loses access first: what a board approves.
            click.echo("\n".join([*access, "", render_plan(result, show_all=show_all)]))


@click.command()
@_target_options
@tags_option
@json_option
@click.option("--accept-unverified-firmware", is_flag=True,
              help="QTS only: write to a firmware nasops has no verified profile of (kept in "
                   "the run record).")
def apply(*, inventory: str, spec_override: str | None, limit: str | None,
          vault_password_file: str | None, quiet: bool, verbosity: int, as_json: bool,
          tags: tuple[str, ...], accept_unverified_firmware: bool) -> None:
    """Make each NAS match its spec: check first, stop on any refusal, then change."""
    quiet = quiet or as_json
    with reported("apply", inventory, as_json=as_json, verbosity=verbosity,
                  tags=tags) as report:
        targets, hostvars = prepare(inventory, spec_override, limit, vault_password_file,
                                    qts_driver=True)
        if targets and targets[0].platform == "qts":
            apply_qts(report, targets, hostvars, vault_password_file,
                      accept_unverified_firmware=accept_unverified_firmware)
            return
        # Read before the run: the text the NAS keeps is the one compiled for it.
        applied = _applied(targets)
        with interruptible(), prepared_workspace(targets, vault_password_file) as workspace:
            report.show_warnings(workspace)
            if not quiet:
                click.echo(f"checking {', '.join(workspace.hosts)} (check mode)…", err=True)
            locks = take_locks(hostvars, list(workspace.hosts))
            # A refused or failed check changes nothing, not even the apply record: bad input
            # leaves the NAS untouched (the locks go without a record).
            try:
                checked = _check(report, workspace, vault_password_file, quiet=True,
                                 record=True)
            except BaseException:
                locks.release()
                raise
            if checked.change_count == 0:
                # The check ran every step read-only and found nothing to do: a second, real
                # run would only repeat it, doubling the time of a no-op apply. Only a whole
                # check may say the NAS matches its spec (not one narrowed by --tags).
                if tags:
                    locks.release()
                else:
                    for line in settle_record(locks, list(workspace.hosts), applied):
                        _warn(line)
                if not as_json:
                    click.echo(render_apply_summary(checked))
                return
            if not quiet:
                click.echo(f"check passed: {plural(checked.change_count, 'change')} "
                           "expected; applying…", err=True)
            # Only the roles the check found work for (people's own --tags stay as given).
            narrowed = None if tags else roles_to_run(checked)
            shares = None if tags else tree_shares(checked, workspace.desired)
            result = converge(report.run, workspace, vault_password_file, locks,
                              on_event=_Progress(check_mode=False,
                                                 quiet=quiet or report.quiet_progress),
                              warn=_warn, tags=narrowed, only_shares=shares,
                              same_sections=unchanged_sections(checked, shares),
                              applied=None if tags else applied)
        if not as_json:
            click.echo(render_apply_summary(result))
        if result.failed:
            raise CommandFailedError("apply failed\n" + render_failures(result))


@click.command()
@_target_options
@tags_option
@json_option
def drift(*, inventory: str, spec_override: str | None, limit: str | None,
          vault_password_file: str | None, quiet: bool, verbosity: int, as_json: bool,
          tags: tuple[str, ...]) -> None:
    """Compare each NAS with its spec (read-only); exit 3 when they differ."""
    with reported("drift", inventory, as_json=as_json, verbosity=verbosity,
                  tags=tags) as report:
        result, _ = _check_only(report, inventory, spec_override, limit, vault_password_file,
                                quiet=quiet, drift=True)
        if result is None:
            return
        if not as_json:
            click.echo(render_drift(result))
        drifted = [host for host in result.hosts.values() if host.drifted]
        if drifted:
            # Apply fixes changes; it never touches a place that left the spec: forget
            # settles it.
            remedies = (["`nasops apply` brings it back to the spec"]
                        if any(host.change_count for host in drifted) else [])
            if any(host.unmanaged for host in drifted):
                remedies.append("`nasops forget PATH` settles a place that left the spec "
                                "(data and ACLs kept)")
            raise DriftFoundError(f"drift found on {', '.join(h.name for h in drifted)}; "
                                  + "; ".join(remedies))


def register(cli: click.Group) -> None:
    """Add plan, apply and drift to the main CLI group."""
    for command in (plan, apply, drift):
        cli.add_command(command)
