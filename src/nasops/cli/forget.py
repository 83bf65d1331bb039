"""`nasops forget`: settle folders and shares that left the spec, so drift stops reporting them.

A folder removed from the spec is kept with its data and ACLs and reported as `unmanaged` on
every drift check until someone says what it is. `nasops forget PATH` says "keep it as it is,
it is no longer nasops' business": the NAS marks it kept (playbooks/forget.yml) and nothing
under it is converged or reported again. Putting it back in the spec manages it again.
"""

from __future__ import annotations

import posixpath
import unicodedata
from typing import Any

import click

from nasops.ansible import project_root
from nasops.ansible.runner import interruptible
from nasops.ansible.summary import render_failures, render_refusals
from nasops.cli.provision import _target_options
from nasops.cli.run_report import reported
from nasops.compile.contract import share_roots
from nasops.errors import BadInputError, CommandFailedError
from nasops.provision import prepare, prepared_workspace

FORGET_PLAYBOOK = "forget.yml"


def resolve_paths(paths: tuple[str, ...], desired: dict[str, Any]) -> list[str]:
    """Given the paths people typed and a NAS's desired state (its outline), return absolute
    paths; raise BadInputError on any that leaves the directories holding shares (checked
    again on the NAS, without following links). A relative path is `Share/Folder` under the
    organisation's directory, or on a NAS several organisations share, `ORGANISATION/Share/
    Folder` (or the shared shares' `ID/Share/Folder`) under the volume."""
    roots = share_roots(desired)
    base = roots[0] if len(roots) == 1 else str(desired["volume"])
    resolved, problems = [], []
    for typed in paths:
        # Folder names are NFC on the NAS (as in the spec); a macOS terminal types NFD.
        path = unicodedata.normalize("NFC", typed)
        absolute = posixpath.normpath(path if posixpath.isabs(path)
                                      else posixpath.join(base, path))
        if "\n" in path or "\0" in path or not any(
                absolute != root and posixpath.commonpath([absolute, root]) == root
                for root in roots):
            problems.append(f"{typed!r}: not a folder under {' or '.join(roots)}")
        else:
            resolved.append(absolute)
    if problems:
        raise BadInputError("\n".join(problems) + "\nnothing was changed")
    return resolved


@click.command()
@_target_options
@click.option("--dry-run", "-n", is_flag=True, help="Say what would be marked; touch nothing.")
@click.argument("paths", nargs=-1, required=True)
def forget(*, inventory: str, spec_override: str | None, limit: str | None,
           vault_password_file: str | None, quiet: bool, verbosity: int, dry_run: bool,
           paths: tuple[str, ...]) -> None:
    """Stop reporting folders that left the spec; keep their data and ACLs as they are.

    PATHS are absolute paths on the NAS or `Share/Folder` under the organisation's directory
    (`ORGANISATION/Share/Folder` on a NAS several organisations share).
    """
    del quiet  # one short step: nothing to show on the way
    with reported("forget", inventory, verbosity=verbosity) as report:
        targets, _ = prepare(inventory, spec_override, limit, vault_password_file)
        with interruptible(), prepared_workspace(targets, vault_password_file) as workspace:
            report.show_warnings(workspace)
            per_host = {name: resolve_paths(paths, workspace.desired[name])
                        for name in workspace.hosts}
            roots = {name: share_roots(workspace.desired[name]) for name in workspace.hosts}
            result = report.run(workspace, check=dry_run,
                                vault_password_file=vault_password_file,
                                playbook=project_root() / "playbooks" / FORGET_PLAYBOOK,
                                extra_variables={"nasops_forget_paths": per_host,
                                                 "nasops_forget_roots": roots})
        if result.refusals:
            raise BadInputError(render_refusals(result) + "\nnothing was changed")
        if result.failed:
            raise CommandFailedError("forget failed\n" + render_failures(result))
        verb = "would be kept" if dry_run else "kept"
        for host in result.hosts.values():
            marked = [change.target for change in host.changes if change.kind == "forget"]
            settled = len(per_host.get(host.name, [])) - len(marked)
            for target in marked:
                click.echo(f"{host.name}: {target}: {verb} as it is, no longer reported")
            if settled:
                click.echo(f"{host.name}: {settled} path(s) already kept: nothing to do")


def register(cli: click.Group) -> None:
    """Add forget to the main CLI group."""
    cli.add_command(forget)
