"""The CLI entry point: every command module is reachable, lazily, and exit codes survive."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click

from nasops.cli.main import COMMAND_MODULES, COMMANDS, cli, main


def test_every_registered_command_is_listed_and_every_listed_one_exists() -> None:
    registered: dict[str, str] = {}
    for module_name in COMMAND_MODULES:
        holder = click.Group()
        importlib.import_module(f"nasops.cli.{module_name}").register(holder)
        registered.update(dict.fromkeys(holder.commands, module_name))
    assert registered == COMMANDS


def test_a_command_runs_without_importing_the_other_groups() -> None:
    probe = ("import sys; from nasops.cli.main import main; code = main(['backup', '--help']);"
             "print(sorted(m for m in sys.modules if m.startswith('nasops.cli.')));"
             "sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    loaded = result.stdout.strip().splitlines()[-1]
    assert "nasops.cli.backup" in loaded
    assert "nasops.cli.provision" not in loaded and "nasops.cli.lab" not in loaded


def test_click_exit_codes_reach_the_caller() -> None:
    @click.command("exit-probe")
    @click.pass_context
    def probe(context: click.Context) -> None:
        context.exit(4)

    cli.add_command(probe)
    try:
        assert main(["exit-probe"]) == 4
    finally:
        del cli.commands["exit-probe"]


def test_unknown_command_is_bad_input() -> None:
    assert main(["no-such-command"]) == 2
