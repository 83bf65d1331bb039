"""`nasops access-diff`: who gains and who loses access between two specs (issue 16)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import click

from nasops.cli.spec_commands import write_output
from nasops.errors import BadInputError, PrerequisiteError
from nasops.execute import run_command
from nasops.report.access_diff import access_diff, render_json, render_text
from nasops.spec import LoadedSpec, load_spec
from nasops.spec.input_file import MAXIMUM_SPEC_BYTES
from nasops.spec.load import load_spec_text

# A git revision as people write one (HEAD~1, main, v1.2, a hash, HEAD@{2}): nothing that
# could be read as an option or a path outside the revision.
REVISION = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/~^@{}-]{0,99}$")


def spec_at_revision(path: Path, revision: str) -> LoadedSpec:
    """Given a spec file in a git work tree and a revision, return that version of it."""
    if not REVISION.match(revision) or ".." in revision:
        raise BadInputError(f"--since {revision!r}: not a git revision (e.g. HEAD, HEAD~1, a "
                            "commit hash, a tag)")
    git = shutil.which("git")
    if git is None:
        raise PrerequisiteError("--since needs git (apt install git)")
    if not path.is_file():
        raise BadInputError(f"{path}: no such spec file")
    # `REV:./name` is the file relative to the directory git runs in: the spec's own.
    result = run_command([git, "-C", str(path.parent), "show", f"{revision}:./{path.name}"],
                         accepted_codes=range(256))
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["git failed"])[-1]
        raise BadInputError(f"{path}: no version at {revision} ({detail})")
    if len(result.stdout.encode()) > MAXIMUM_SPEC_BYTES:
        raise BadInputError(f"{path}@{revision}: larger than a spec may be")
    return load_spec_text(result.stdout, f"{path}@{revision}")


@click.command("access-diff")
@click.argument("old_path", metavar="OLD")
@click.argument("new_path", metavar="[NEW]", required=False)
@click.option("--since", "revision",
              help="Compare OLD (a spec in a git work tree) with its version at this git "
                   "revision instead of a second file, e.g. --since HEAD.")
@click.option("--by", type=click.Choice(["person", "folder"]), default="person",
              show_default=True, help="Group the changes by person or by folder.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]),
              default="text", show_default=True, help="Output format.")
@click.option("--output", "-o", help="Write to this file instead of standard output.")
def access_diff_command(*, old_path: str, new_path: str | None, revision: str | None,
                        by: str, output_format: str, output: str | None) -> None:
    """Say who gains and who loses access from OLD to NEW, in plain words.

    `nasops access-diff OLD NEW` compares two specs; `nasops access-diff SPEC --since HEAD`
    compares the spec with its last committed version (what a board approves before a
    change). A folder renamed with renamed_from is no access change.
    """
    if new_path is not None and revision is None:
        before, after = load_spec(old_path), load_spec(new_path)
    elif revision is not None and new_path is None:
        before, after = spec_at_revision(Path(old_path), revision), load_spec(old_path)
    else:
        raise BadInputError("give two specs (nasops access-diff OLD NEW) or one spec and a "
                            "git revision (nasops access-diff SPEC --since HEAD)")
    if before.spec.organization.id != after.spec.organization.id:
        raise BadInputError(f"the two specs are of different organisations "
                            f"({before.spec.organization.id}, {after.spec.organization.id})")
    diff = access_diff(before.spec, after.spec)
    text = render_json(diff) if output_format == "json" else render_text(diff, by=by)
    if output:
        write_output(output, text, "access diff")
        click.echo(f"access diff written to {output}", err=True)
    else:
        click.echo(text, nl=False)


def register(cli: click.Group) -> None:
    """Add access-diff to the main CLI group."""
    cli.add_command(access_diff_command)
