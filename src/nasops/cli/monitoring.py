"""`nasops monitoring …`: what the Prometheus server needs to watch the fleet."""

from __future__ import annotations

from pathlib import Path

import click

from nasops.monitoring.targets import fleet_targets, render_targets, write_targets


@click.group("monitoring")
def monitoring() -> None:
    """Prometheus helpers for the whole fleet."""


@monitoring.command("targets")
@click.option("--inventory", "-i", required=True, help="Ansible inventory of the fleet.")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="Write the file_sd JSON here (atomically) instead of standard output.")
def targets(inventory: str, output: str | None) -> None:
    """Write a Prometheus file_sd file with the exporter of every NAS of INVENTORY."""
    warnings: list[str] = []
    entries = fleet_targets(inventory, warnings)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    text = render_targets(entries)
    if output:
        write_targets(Path(output), text)
        click.echo(f"{len(entries)} target(s) written to {output}", err=True)
    else:
        click.echo(text, nl=False)


def register(cli: click.Group) -> None:
    """Add the monitoring command group to the CLI."""
    cli.add_command(monitoring)
