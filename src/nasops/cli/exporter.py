"""`nasops exporter`: serve the NAS's Prometheus metrics; `hash-password` for basic auth."""

from __future__ import annotations

import logging
import sys

import click

from nasops.errors import BadInputError
from nasops.exporter.auth import hash_password
from nasops.exporter.config import DEFAULT_CONFIG_PATH, load_config
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


def register(cli: click.Group) -> None:
    """Add the exporter command group to the CLI."""
    cli.add_command(exporter)
