"""`nasops access-diff`: who gains and who loses access between two specs (issue 16)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import click

from nasops.cli.spec_commands import write_output
from nasops.errors import BadInputError, PrerequisiteError
from nasops.report.access_diff import access_diff, render_json, render_text
from nasops.spec import LoadedSpec, load_spec
from nasops.spec.input_file import MAXIMUM_SPEC_BYTES
from nasops.spec.load import load_spec_text

# A git revision as people write one (HEAD~1, main, v1.2, a hash, HEAD@{2}): nothing that
# could be read as an option or a path outside the revision.
REVISION = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/~^@{}-]{0,99}\Z")


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
    real = path.resolve()  # a link: the file it names is the one git keeps
    # `REV:./name` is the file relative to the directory git runs in: the spec's own.
    blob = f"{revision}:./{real.name}"
    size = _git(git, real.parent, ["cat-file", "-s", blob], path, revision)
    if not size.strip().isdigit() or int(size) > MAXIMUM_SPEC_BYTES:
        raise BadInputError(f"{path}@{revision}: larger than a spec may be")
    content = _git(git, real.parent, ["show", blob], path, revision)
    return load_spec_text(content, f"{path}@{revision}")


def _git(git: str, directory: Path, arguments: list[str], path: Path, revision: str) -> str:
    """Run git in directory; return its output decoded as UTF-8, or raise BadInputError."""
    try:
        completed = subprocess.run([git, "-C", str(directory), *arguments],
                                   capture_output=True, check=False, timeout=60)
    except (subprocess.TimeoutExpired, OSError) as error:
        raise BadInputError(f"{path}: git could not read it at {revision} "
                            f"({type(error).__name__})") from None
    if completed.returncode != 0:
        detail = (completed.stderr.decode(errors="replace").strip().splitlines()
                  or ["git failed"])[-1]
        raise BadInputError(f"{path}: no version at {revision} ({detail})")
    try:
        return completed.stdout.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadInputError(f"{path}@{revision}: not UTF-8 text (byte {error.start}); a "
                            "spec is written in UTF-8") from None


@click.command("access-diff")
@click.argument("old_path", metavar="OLD")
@click.argument("new_path", metavar="[NEW]", required=False)
@click.option("--since", "revision",
              help="Compare OLD (a spec in a git work tree) with its version at this git "
                   "revision instead of a second file, e.g. --since HEAD.")
@click.option("--by", type=click.Choice(["person", "folder"]), default="person",
              show_default=True, help="Group the changes by person or by folder.")
@click.option("--lang", "language", type=click.Choice(["en", "fr", "nl"]),
              help="Language of the sentences (default: the organisation's).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]),
              default="text", show_default=True, help="Output format.")
@click.option("--output", "-o", help="Write to this file instead of standard output.")
def access_diff_command(*, old_path: str, new_path: str | None, revision: str | None,
                        by: str, language: str | None, output_format: str,
                        output: str | None) -> None:
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
    language = language or after.spec.organization.language
    text = (render_json(diff, language) if output_format == "json"
            else render_text(diff, by=by, language=language))
    if output:
        write_output(output, text, "access diff")
        click.echo(f"access diff written to {output}", err=True)
    else:
        click.echo(text, nl=False)


def register(cli: click.Group) -> None:
    """Add access-diff to the main CLI group."""
    cli.add_command(access_diff_command)
