"""`nasops lab …`: boot, list, reach and remove disposable NAS hosts on this machine."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from nasops.errors import BadInputError
from nasops.lab import Condition, LabDirectories, get_host, lab_down, lab_status, lab_up, ssh_argv
from nasops.lab.lifecycle import DEFAULT_NAME
from nasops.lab.rootfs import DEFAULT_RELEASE, RELEASES
from nasops.lab.validate import validate_address


def _progress(message: str) -> None:
    # Progress goes to stderr so stdout's last line stays the inventory path for scripts.
    click.echo(message, err=True)


def _address_option(
    _context: click.Context, _parameter: click.Parameter, value: str | None
) -> str | None:
    """Refuse any address outside 127.0.0.0/8 before anything else happens (exit code 2)."""
    return validate_address(value) if value else None


@click.group("lab")
def lab() -> None:
    """Disposable NAS hosts on this machine (systemd-nspawn, needs root)."""


@lab.command("up")
@click.option("--name", default=DEFAULT_NAME, show_default=True, help="Lab host name.")
@click.option(
    "--address",
    callback=_address_option,
    help="Address in 127.0.0.0/8 (new hosts only; default: lowest free from 127.0.0.2).",
)
@click.option("--hostname", help="Hostname inside (new hosts only; default: the name).")
@click.option("--volume-size", help="Size of the btrfs data volume (new hosts only; default 2G).")
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Spec this host gets: written into its inventory with a secrets file of its own.",
)
@click.option(
    "--release",
    type=click.Choice(sorted(RELEASES)),
    help=f"Debian release of a new host (default {DEFAULT_RELEASE}); its base is built once "
    "and cached per release.",
)
@click.option(
    "--admin-user",
    help="Give a new host this ordinary login (lab key, sudo without a password) and write "
    "its inventory to log in as it with become, as on a NAS that refuses root logins.",
)
def up_command(  # click passes the options by keyword
    *,
    name: str,
    address: str | None,
    hostname: str | None,
    volume_size: str | None,
    spec_path: str | None,
    release: str | None,
    admin_user: str | None,
) -> None:
    """Boot a lab host (idempotent) and print the path of its Ansible inventory."""
    started = time.monotonic()
    inventory_vars = None
    if spec_path:
        # The secrets file lives with the host's state, so `down --purge` removes it too.
        secrets_file = LabDirectories.from_environment().host(name).directory / "secrets.yml"
        inventory_vars = {
            "nasops_spec": str(Path(spec_path).resolve()),
            "nasops_secrets_file": str(secrets_file),
        }
    host = lab_up(
        name,
        address,
        hostname=hostname,
        volume_size=volume_size,
        inventory_vars=inventory_vars,
        progress=_progress,
        release=release,
        admin_user=admin_user,
    )
    _progress(f"{name}: ready in {time.monotonic() - started:.1f} s")
    click.echo(str(host.inventory_path))


@lab.command("status")
def status_command() -> None:
    """List lab hosts: running, stopped, or stale (left over by a crash)."""
    statuses = lab_status()
    if not statuses:
        click.echo("no lab hosts")
        return
    click.echo(f"{'NAME':<16} {'ADDRESS':<16} {'HOSTNAME':<16} {'STATE':<8} PID")
    for status in statuses:
        pid = str(status.nspawn_pid) if status.nspawn_pid else "-"
        click.echo(
            f"{status.name:<16} {status.address:<16} {status.hostname:<16} "
            f"{status.condition.value:<8} {pid}"
        )
        if status.leftovers:
            click.echo(f"  left over: {', '.join(status.leftovers)}")


@lab.command("down")
@click.option("--name", default=DEFAULT_NAME, show_default=True, help="Lab host name.")
@click.option("--purge", is_flag=True, help="Also delete its data volume, keys and changes.")
def down_command(name: str, purge: bool) -> None:
    """Stop a lab host cleanly and release its mounts, loop device and address."""
    if not lab_down(name, purge, progress=_progress):
        _progress(f"{name}: no such lab host, nothing to do")


@lab.command("ssh", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def ssh_command(name: str, command: tuple[str, ...]) -> None:
    """Open a root shell on lab host NAME, or run COMMAND there (`-- COMMAND…`).

    With a command, the exit code is the command's (255 if ssh itself failed).
    """
    host = get_host(name)
    running = {status.name for status in lab_status() if status.condition is Condition.RUNNING}
    if name not in running:
        raise BadInputError(
            f"lab host {name} is not running; start it with `nasops lab up --name {name}`"
        )
    argv = ssh_argv(host, command, interactive=not command and sys.stdin.isatty())
    sys.stdout.flush()
    sys.stderr.flush()
    # Replace this process with ssh: the terminal, signals and the exit code pass through.
    # An argument list, no shell involved.
    os.execvp(argv[0], argv)  # noqa: S606


def register(cli: click.Group) -> None:
    """Add the `lab` command group to the nasops CLI."""
    cli.add_command(lab)
