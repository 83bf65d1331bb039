"""The `nasops` entry point: registers the command groups and maps errors to exit codes."""

from __future__ import annotations

import importlib
import sys

import click

from nasops import __version__
from nasops.errors import NasopsError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nasops")
def cli() -> None:
    """Provision and operate a small organisation's NAS from one YAML spec."""


COMMAND_MODULES = (
    "spec_commands",
    "lab",
    "provision",
    "secrets",
    "exporter",
    "monitoring",
    "backup",
)


def _register_commands() -> None:
    # Imported here so that each group module stays independent of the others.
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"nasops.cli.{name}")
        module.register(cli)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; expected errors become a message and an exit code, never a traceback."""
    _register_commands()
    try:
        # Without standalone mode click returns the code of `ctx.exit(code)` instead of exiting.
        returned = cli.main(args=argv, prog_name="nasops", standalone_mode=False)
    except NasopsError as error:
        click.echo(str(error), err=True)
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Exit as exit_request:
        return exit_request.exit_code
    return returned if isinstance(returned, int) else 0


if __name__ == "__main__":
    sys.exit(main())
