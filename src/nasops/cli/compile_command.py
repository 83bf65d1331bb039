"""`nasops compile`: a spec's desired state as a file, for playbooks of one's own.

The spec is validated exactly as `nasops validate` does (every problem, located, exit 2)
before anything is written. The file holds people's names and logins, so it is created 0600
and written beside its final name, then renamed: it is never world-readable and never half
written. Its JSON is byte for byte the state `nasops apply` hands to Ansible.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import click
import yaml  # type: ignore[import-untyped]
from ansible_collections.nasops.nas.plugins.module_utils.host_files import write_atomically

from nasops.compile import compile_desired
from nasops.compile.contract import DesiredState, desired_fingerprint, desired_json
from nasops.errors import BadInputError, NasopsError, os_error_exit_code, os_error_words
from nasops.spec import load_spec

FORMATS = ("json", "yaml")
YAML_SUFFIXES = (".yml", ".yaml")
STANDARD_OUTPUT = "-"
PRIVATE_MODE = 0o600
# Numbers of the YAML 1.2 core schema. PyYAML writes YAML 1.1 and leaves `1e3` or `0o17`
# unquoted, which a YAML 1.2 reader (ruamel, Go) turns into numbers: a share or group
# described "1e3" would arrive as 1000.0.
YAML_12_NUMBER = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
                            r"|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")


class _DesiredDumper(yaml.SafeDumper):  # type: ignore[misc]
    """PyYAML's safe dumper, quoting every text a YAML 1.1 or 1.2 reader could take for
    something else."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> Any:
    if YAML_12_NUMBER.fullmatch(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    return dumper.represent_str(value)


_DesiredDumper.add_representer(str, _represent_text)


def render_desired(state: DesiredState, output_format: str) -> str:
    """Given a desired state and json or yaml, return the text to write."""
    if output_format == "json":
        return desired_json(state)
    # In the contract's key order (version first), for people reading it; the JSON keeps
    # sorted keys so that it matches the file `nasops apply` uses.
    text: str = yaml.dump(state.model_dump(mode="json"), Dumper=_DesiredDumper,
                          allow_unicode=True, sort_keys=False, default_flow_style=False)
    return text


def _refuse_overwriting_the_spec(output: Path, spec_path: str) -> None:
    try:
        same = output.exists() and os.path.samefile(output, spec_path)
    except OSError:
        same = False
    if same:
        raise BadInputError(f"{output}: this is the spec itself; choose another output file")


def write_private_atomically(path: Path, text: str) -> None:
    """Write text to path as a 0600 file that appears whole or not at all."""
    write_atomically(str(path), text.encode("utf-8"), PRIVATE_MODE, make_directory=False)


# What `nasops compile` writes (and may therefore replace without --force); a state written
# before the NAS could host several organisations has `root` where `organizations` is now.
DESIRED_KEYS = {"version", "organization", "shares"}
ORGANISATION_KEYS = {"organizations", "root"}
MAXIMUM_REPLACED_BYTES = 256 * 1024 * 1024


def _is_desired_state(path: Path) -> bool:
    try:
        if path.stat().st_size > MAXIMUM_REPLACED_BYTES:
            return False
        data = yaml.safe_load(path.read_text(encoding="utf-8"))  # JSON is YAML too
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and set(data) >= DESIRED_KEYS \
        and bool(set(data) & ORGANISATION_KEYS)


def _refuse_unsafe_output(output: str, force: bool) -> None:
    """Refuse (exit 2) an output that is not a plain file nasops may replace: a device, FIFO
    or socket (replacing /dev/null as root breaks the system), a link, or a file that is not
    an earlier desired state (a secrets file or an inventory) unless --force."""
    path = Path(output)
    if output == "" or output.endswith("/"):
        raise BadInputError(f"{output!r}: name the file to write")
    if path.is_symlink():
        raise BadInputError(f"{output}: is a symbolic link; name the file itself")
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise BadInputError(f"{output}: {os_error_words(error)}") from None
    if stat.S_ISDIR(mode):
        raise BadInputError(f"{output}: is a directory; name the file to write")
    if not stat.S_ISREG(mode):
        raise BadInputError(f"{output}: is not a regular file (a device, FIFO or socket); "
                            "write to a file, or `-o -` for standard output")
    if not force and not _is_desired_state(path):
        raise BadInputError(f"{output}: exists and is not a desired state; choose another "
                            "file, or --force to replace it")


def _write(output: str, text: str) -> None:
    path = Path(output)
    try:
        write_private_atomically(path, text)
    except OSError as error:
        failure = NasopsError(f"{output}: cannot write the desired state: "
                              f"{os_error_words(error)}")
        failure.exit_code = os_error_exit_code(error)
        raise failure from None


# SPEC is plain text for click: load_spec itself refuses folders, FIFOs and devices in one
# line, where click would print its usage text around the error.
@click.command("compile")
@click.argument("spec_path", metavar="SPEC")
@click.option("--output", "-o", required=True, metavar="FILE",
              help="File to write the desired state to (created 0600); - for standard output.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default=None,
              help="Output format [default: yaml for a .yml or .yaml file, else json].")
@click.option("--force", is_flag=True,
              help="Replace an existing file that is not an earlier desired state.")
def compile_command(spec_path: str, output: str, output_format: str | None,
                    force: bool) -> None:
    """Validate SPEC and write the desired state of its NAS (what the nasops.nas roles
    converge to); exit 2 if SPEC is invalid, writing nothing."""
    if output in ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"):
        output = STANDARD_OUTPUT
    if output != STANDARD_OUTPUT:
        _refuse_overwriting_the_spec(Path(output), spec_path)
        _refuse_unsafe_output(output, force)
    loaded = load_spec(spec_path)
    for warning in loaded.warnings:
        click.echo(warning.format(), err=True)
    state = compile_desired(loaded.spec)
    if output_format is None:
        output_format = "yaml" if output.lower().endswith(YAML_SUFFIXES) else "json"
    text = render_desired(state, output_format)
    if output == STANDARD_OUTPUT:
        click.echo(text, nl=False)
        return
    _write(output, text)
    click.echo(f"desired state of {state.organization} written to {output} "
               f"(sha256 {desired_fingerprint(state)})", err=True)


def register(cli: click.Group) -> None:
    """Add `nasops compile` to the main CLI group."""
    cli.add_command(compile_command)
