"""The `nasops` entry point: registers the command groups and maps errors to exit codes."""

from __future__ import annotations

import importlib
import sys

import click

from nasops import __version__
from nasops.cli.exit_codes import run_with_exit_codes

# Command name -> module under nasops.cli that registers it. Modules are imported only when
# their command runs: `nasops backup run` on a timer should not pay for Ansible or pydantic.
COMMANDS = {
    "validate": "spec_commands",
    "access-report": "spec_commands",
    "spec": "spec_commands",
    "init": "spec_commands",
    "compile": "compile_command",
    "lab": "lab",
    "plan": "provision",
    "apply": "provision",
    "drift": "provision",
    "forget": "forget",
    "secrets": "secrets",
    "exporter": "exporter",
    "monitoring": "monitoring",
    "backup": "backup",
    "sync": "sync",
    "qts": "qts",
    "access-diff": "access_diff",
    "guide": "guide",
}
COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))


class LazyGroup(click.Group):
    """A click group that imports a command's module the first time the command is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        module_name = COMMANDS.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"nasops.cli.{module_name}")
        holder = click.Group()
        module.register(holder)
        return holder.commands.get(cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nasops")
def cli() -> None:
    """Provision and operate a small organisation's NAS from one YAML spec."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; expected errors become a message and an exit code, never a traceback."""
    return run_with_exit_codes(cli, argv, "nasops")


if __name__ == "__main__":
    sys.exit(main())
