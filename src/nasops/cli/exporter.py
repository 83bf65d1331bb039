"""`nasops exporter`: serve the NAS's Prometheus metrics; `hash-password` for basic auth."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import click

from nasops.cli.exit_codes import run_with_exit_codes
from nasops.errors import BadInputError, CommandFailedError
from nasops.exporter.auth import BasicAuth, hash_password
from nasops.exporter.config import DEFAULT_CONFIG_PATH, load_config, read_secret_file
from nasops.exporter.drift_check import DEFAULT_DESIRED, check_drift
from nasops.exporter.run_records import DRIFT_FILE, DriftRecord, write_drift_record
from nasops.exporter.server import tls_context
from nasops.exporter.service import Exporter


@click.group("exporter", invoke_without_command=True)
@click.option("--config", "config_path", default=DEFAULT_CONFIG_PATH, show_default=True,
              type=click.Path(dir_okay=False), help="Exporter config file (JSON).")
@click.option("--verbose", "-v", is_flag=True, help="Log every request and refresh.")
@click.pass_context
def exporter(context: click.Context, config_path: str, verbose: bool) -> None:
    """Serve this NAS's metrics for Prometheus until stopped (runs as a systemd service)."""
    if context.invoked_subcommand is not None:
        return
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    Exporter(load_config(config_path)).serve_forever()


@exporter.command("hash-password")
@click.option("--user", default="prometheus", show_default=True, help="User name.")
def hash_password_command(user: str) -> None:
    """Print a `user:bcrypt-hash` line for the basic auth users file.

    The password is read from standard input (asked twice on a terminal), never from the
    command line where other users could see it.
    """
    if ":" in user or not user:
        raise BadInputError(f"user name {user!r} must be non-empty and contain no ':'")
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True,
                                err=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise BadInputError("empty password")
    click.echo(f"{user}:{hash_password(password)}")


@exporter.command("check-config")
@click.argument("config_path", type=click.Path(dir_okay=False))
def check_config_command(config_path: str) -> None:
    """Check a config file and the files it names, as the exporter would load them.

    The nas_exporter role validates the config with this before putting it in place.
    """
    config = load_config(config_path)
    if config.basic_auth is not None:
        BasicAuth.from_file(config.basic_auth.users_file)
    if config.tls is not None:
        try:
            tls_context(config.tls)
        except (OSError, ValueError) as error:
            raise BadInputError(f"cannot load the TLS certificate or key: {error}") from None
    if config.syncthing is not None:
        read_secret_file(config.syncthing.api_key_file, "Syncthing API key")
    click.echo(f"{config_path}: valid")


@exporter.command("drift-check")
@click.option("--desired", "desired_path", default=DEFAULT_DESIRED, show_default=True,
              type=click.Path(dir_okay=False),
              help="The copy of the desired state nasops.nas.tree keeps.")
@click.option("--state-directory", default="/var/lib/nasops", show_default=True,
              type=click.Path(file_okay=False), help="Where drift.json is written.")
def drift_check_command(desired_path: str, state_directory: str) -> None:
    """Compare the share trees and ACLs with the desired state, read-only; write drift.json.

    Runs on the NAS as root (nasops-drift-check.timer). Exit 0 when the check ran (drift or
    not: the record says which), 1 when it could not compare.
    """
    try:
        desired = json.loads(Path(desired_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        record = DriftRecord(checked_at=time.time(), result="error",
                             message=f"{desired_path}: cannot read the desired state: {error}")
    else:
        record = check_drift(desired)
    write_drift_record(Path(state_directory) / DRIFT_FILE, record)
    click.echo(f"{record.result}: {record.drifted_items} item(s) {dict(record.drifted_by_kind)}"
               f" {record.message}")
    if record.result == "error":
        raise CommandFailedError(f"drift check failed: {record.message}")


def standalone_main(argv: Sequence[str] | None = None) -> int:
    """The NAS's `nasops-exporter` command: only this group, with nasops' exit codes.

    On the NAS only the exporter's own dependencies are installed (not Ansible nor the spec
    tools), so it does not go through the full `nasops` CLI.
    """
    return run_with_exit_codes(exporter, argv, "nasops-exporter")


def register(cli: click.Group) -> None:
    """Add the exporter command group to the CLI."""
    cli.add_command(exporter)
