"""`nasops sync …` (runs on the NAS): what Syncthing says about the synced shares.

Exit codes: 0 read, 1 Syncthing could not be read, 2 bad options or config.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from nasops.sync.status import DEFAULT_CONFIG_PATH, load_connection, read_status, render_status


@click.group("sync")
def sync() -> None:
    """Synced shares: Syncthing on the NAS and the laptops."""


@sync.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.option("--config", "config_path", default=DEFAULT_CONFIG_PATH, show_default=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="URL and key file of the REST API (written by the nas_sync role).")
@click.option("--url", help="REST API base URL, e.g. http://127.0.0.1:8384 (overrides the "
                            "config).")
@click.option("--api-key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="File holding the API key, alone or as STGUIAPIKEY=… (overrides the config).")
@click.option("--timeout", type=click.FloatRange(0.5, 300), default=10.0, show_default=True,
              help="Seconds to wait for each answer.")
def status_command(as_json: bool, config_path: Path, url: str | None,
                   api_key_file: Path | None, timeout: float) -> None:
    """Per folder: state, bytes the NAS needs, errors; per laptop: completion, bytes it
    needs, connected or last seen."""
    document = read_status(load_connection(config_path, url, api_key_file), timeout)
    click.echo(json.dumps(document, indent=2, ensure_ascii=False) if as_json
               else render_status(document))


def register(cli: click.Group) -> None:
    """Add the `sync` group to the CLI."""
    cli.add_command(sync)
