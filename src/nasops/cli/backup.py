"""`nasops backup …` (runs on the NAS): run, status, snapshots, check, drill, restore, init.

Exit codes: 0 ok — also when restic could not read some files (exit 3): the snapshot exists,
so the run is not failed, but a WARNING naming the files goes to stderr and the status file
says `warning` (the exporter alerts on it); 1 a repository failed; 2 bad input or config.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

import click

from nasops.backup.actions.check import check_repositories
from nasops.backup.actions.common import Outcome
from nasops.backup.actions.drill import drill_repositories
from nasops.backup.actions.init import init_repositories
from nasops.backup.actions.listing import list_snapshots, read_statuses
from nasops.backup.actions.restore import restore_path
from nasops.backup.actions.run import run_backups
from nasops.backup.config import DEFAULT_CONFIG_PATH, BackupConfig, load_config
from nasops.backup.display import outcome_line, snapshot_lines, status_lines
from nasops.backup.errors import BackupError
from nasops.backup.session import ResticFeatures, detect_features
from nasops.cli.exit_codes import run_with_exit_codes

REPOSITORY_HELP = "Only this repository (default: all)."


def _config(context: click.Context) -> BackupConfig:
    return load_config(context.obj)


def _setup(context: click.Context) -> tuple[BackupConfig, ResticFeatures]:
    config = _config(context)
    return config, detect_features(config.restic_binary)


def _report(action: str, outcomes: Sequence[Outcome]) -> None:
    for outcome in outcomes:
        failed_or_warned = outcome.result != "success"
        click.echo(outcome_line(action, outcome), err=failed_or_warned)
    failed = [outcome.repository for outcome in outcomes if outcome.failed]
    if failed:
        raise BackupError(f"{action} failed for: {', '.join(failed)}")


@click.group("backup")
@click.option("--config", "config_path", default=DEFAULT_CONFIG_PATH, show_default=True,
              envvar="NASOPS_BACKUP_CONFIG", type=click.Path(dir_okay=False),
              help="The wrapper's JSON config (written by the nas_backup role).")
@click.pass_context
def backup(context: click.Context, config_path: str) -> None:
    """Back up the NAS with restic, check and drill the repositories, restore files."""
    context.obj = config_path


@backup.command("run")
@click.option("--repository", help=REPOSITORY_HELP)
@click.pass_context
def run_command(context: click.Context, repository: str | None) -> None:
    """Back up the sources, then apply the retention (forget --prune)."""
    _report("backup", run_backups(_config(context), None, repository))


@backup.command("check")
@click.option("--repository", help=REPOSITORY_HELP)
@click.option("--read-data-subset", help="Override the config, e.g. 100% or 1/10.")
@click.pass_context
def check_command(context: click.Context, repository: str | None,
                  read_data_subset: str | None) -> None:
    """Check the repositories' integrity, reading back a subset of the data."""
    _report("check", check_repositories(_config(context), None, repository, read_data_subset))


@backup.command("drill")
@click.option("--repository", help=REPOSITORY_HELP)
@click.option("--sample-files", type=click.IntRange(1, 100000),
              help="Override the config's sample size.")
@click.pass_context
def drill_command(context: click.Context, repository: str | None,
                  sample_files: int | None) -> None:
    """Restore random files of the latest snapshot and compare them; name any that differ."""
    outcomes = drill_repositories(_config(context), None, repository, sample_files)
    for outcome in outcomes:
        for problem in outcome.record.get("problems") or []:
            click.echo(f"  {outcome.repository}: {problem['path']}: {problem['problem']} "
                       f"({problem['detail']})", err=True)
    _report("drill", outcomes)


@backup.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status documents as JSON.")
@click.option("--repository", help=REPOSITORY_HELP)
@click.pass_context
def status_command(context: click.Context, as_json: bool, repository: str | None) -> None:
    """Show the last backup, check and drill of each repository (reads status files only)."""
    documents = read_statuses(_config(context), repository)
    if as_json:
        click.echo(json.dumps({"repositories": documents}, indent=2, sort_keys=True))
        return
    for document in documents:
        click.echo("\n".join(status_lines(document)))


@backup.command("snapshots")
@click.option("--repository", help=REPOSITORY_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def snapshots_command(context: click.Context, repository: str | None, as_json: bool) -> None:
    """List the snapshots of each repository."""
    config, features = _setup(context)
    listings = list_snapshots(config, features, repository)
    if as_json:
        click.echo(json.dumps([
            {"repository": listing.repository,
             "snapshots": [dataclasses.asdict(snapshot) for snapshot in listing.snapshots],
             "error": str(listing.error) if listing.error else None}
            for listing in listings], indent=2))
    else:
        for listing in listings:
            click.echo(f"{listing.repository}: {len(listing.snapshots)} snapshot(s)")
            if listing.error:
                click.echo(f"  {listing.error}", err=True)
            elif listing.snapshots:
                click.echo("\n".join(snapshot_lines(listing.snapshots)))
    failed = [listing.repository for listing in listings if listing.error]
    if failed:
        raise BackupError(f"could not list the snapshots of: {', '.join(failed)}")


@backup.command("restore")
@click.option("--snapshot", "snapshot_id", required=True, help="Snapshot id, or 'latest'.")
@click.option("--path", "path", required=True, help="Absolute path in the snapshot.")
@click.option("--target", type=click.Path(file_okay=False),
              help="Restore under this directory (default: the original place, if free).")
@click.option("--repository", help="Repository to restore from (default: the first).")
@click.pass_context
def restore_command(context: click.Context, snapshot_id: str, path: str, target: str | None,
                    repository: str | None) -> None:
    """Restore a file or folder of a snapshot."""
    config, features = _setup(context)
    outcome = restore_path(config, features, snapshot_id, path, target=target,
                           repository_name=repository)
    click.echo(f"restored {outcome.files} file(s) of {outcome.path} from snapshot "
               f"{outcome.snapshot_id} of '{outcome.repository}' to {outcome.restored_path}")


@backup.command("init")
@click.option("--repository", help=REPOSITORY_HELP)
@click.pass_context
def init_command(context: click.Context, repository: str | None) -> None:
    """Create the repositories that do not exist yet (idempotent)."""
    config, features = _setup(context)
    outcomes = init_repositories(config, features, repository)
    for outcome in outcomes:
        if outcome.error:
            click.echo(f"{outcome.repository}: FAILED: {outcome.error}", err=True)
        else:
            click.echo(f"{outcome.repository}: "
                       f"{'created' if outcome.created else 'already initialised'}")
    failed = [outcome.repository for outcome in outcomes if outcome.error]
    if failed:
        raise BackupError(f"init failed for: {', '.join(failed)}")


def standalone_main(argv: Sequence[str] | None = None) -> int:
    """The NAS's `nasops-backup` command (installed by the nas_backup role): only this group.

    The NAS has the exporter's release of nasops (not Ansible nor the spec tools), so the
    timers do not go through the full `nasops` CLI; exit codes are nasops' own.
    """
    return run_with_exit_codes(backup, argv, "nasops-backup")


def register(cli: click.Group) -> None:
    """Add the `backup` group to the nasops CLI."""
    cli.add_command(backup)
