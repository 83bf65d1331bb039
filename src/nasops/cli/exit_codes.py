"""Run a click command with nasops' exit codes: the one error-to-exit-code mapping.

Used by the full `nasops` CLI and by the NAS-side commands (`nasops-exporter`), which run a
single command group without the rest of the CLI; this module imports only click and
nasops.errors, so the exporter's bundle can ship it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from nasops.errors import NasopsError, os_error_exit_code, os_error_words
from nasops.execute import MASKER

EXIT_ABORTED = 130  # what a shell reports for Ctrl-C (128 + SIGINT)


def run_with_exit_codes(command: click.Command, argv: Sequence[str] | None, prog_name: str) -> int:
    """Given a click command, its arguments (None: the process's) and the name to show,
    run it; return its exit code, turning expected errors into a message and a code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        # Without standalone mode click returns the code of `ctx.exit(code)` instead of exiting.
        returned = command.main(args=arguments, prog_name=prog_name, standalone_mode=False)
    except NasopsError as error:
        # A message may quote what Ansible or a command printed: registered secrets go.
        click.echo(MASKER.mask(str(error)), err=True)
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return EXIT_ABORTED
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Exit as exit_request:
        return exit_request.exit_code
    except OSError as error:
        # A file or folder the user named (an output directory that does not exist, a
        # symbolic link loop): one line, no traceback. OS errors without a path are bugs.
        if error.filename is None:
            raise
        click.echo(f"{error.filename}: {os_error_words(error)}", err=True)
        return os_error_exit_code(error)
    return returned if isinstance(returned, int) else 0
