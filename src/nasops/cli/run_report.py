"""How plan, apply, drift and forget end: the kept log named, the `--json` document, -v.

Every run of ansible-playbook a command makes goes through one RunReport: its output is kept,
masked, in the command's run directory (nasops.ansible.run_log), shown as it comes with -v,
and the command ends with `full log: PATH` (on stdout after the summary, or after the error
message on stderr). With --json, stdout carries only the run document, also on failure
(exit codes unchanged: the error message still goes to stderr).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import click

from nasops.ansible import RunResult, Workspace, run_playbook
from nasops.ansible.run_log import RUNS_DIRECTORY_VARIABLE, RunLog, runs_root
from nasops.ansible.summary import render_json, run_document
from nasops.errors import BadInputError, NasopsError, Problem, os_error_words
from nasops.execute import MASKER
from nasops.provision.converge import NEEDED_BY_OTHERS, SITE_TAGS

# Ansible's own maximum; more v's are accepted and mean the same.
MAXIMUM_VERBOSITY = 6


def _tags(context: click.Context, parameter: click.Parameter, values: tuple[str, ...]
          ) -> tuple[str, ...]:
    """Given --tags values (repeatable, or comma-separated), return them checked."""
    tags: list[str] = []
    for value in values:
        for part in value.split(","):
            tag = part.strip()
            if tag not in SITE_TAGS:
                raise click.BadParameter(
                    f"'{tag}' is not a step of nasops; use one of {', '.join(SITE_TAGS)}")
            if tag not in tags:
                tags.append(tag)
    # The roles after them read what nas_base and nas_release register: they come along.
    if tags:
        tags += [role for role in NEEDED_BY_OTHERS if role not in tags]
    return tuple(tags)


def tags_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add --tags: run only these roles (Ansible's --tags; the checks always run)."""
    return click.option(
        "--tags", "-t", "tags", multiple=True, callback=_tags, metavar="ROLE[,ROLE]",
        help="Run only these steps (e.g. nas_shares,nas_quotas); repeatable.",
    )(function)


def verbosity_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add -v (repeatable) to a command: passed on to ansible-playbook, whose output is then
    shown on stderr as it comes (masked), instead of nasops' progress lines."""
    return click.option(
        "--verbose", "-v", "verbosity", count=True,
        help="Pass -v, -vv, -vvv … to ansible-playbook and show its output on stderr.",
    )(function)


def json_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add --json: one JSON document on stdout, nothing else there."""
    return click.option(
        "--json", "as_json", is_flag=True,
        help="Print one JSON document (hosts, changes, errors, exit_code, log) on stdout.",
    )(function)


@dataclass
class RunReport:
    """One command's runs of ansible-playbook and what it ends with."""

    command: str
    inventory: str
    as_json: bool = False
    verbosity: int = 0
    tags: tuple[str, ...] = ()
    log: RunLog | None = None
    result: RunResult | None = None
    warnings: list[Problem] = field(default_factory=list)
    # plan's who gains and who loses access, per host (nasops.provision.applied).
    access: dict[str, Any] = field(default_factory=dict)
    # QTS hosts (nasops.qts.commands), which the QTS driver reads and writes, not Ansible.
    qts_hosts: dict[str, Any] = field(default_factory=dict)
    qts_log: str | None = None

    @property
    def quiet_progress(self) -> bool:
        """Return whether nasops' progress lines are left out: --json keeps the terminal for
        errors, -v shows Ansible's own lines instead."""
        return self.as_json or self.verbosity > 0

    def show_warnings(self, workspace: Workspace) -> None:
        """Show the specs' warnings on stderr and keep them for the document."""
        for warning in workspace.warnings:
            click.echo(warning.format(), err=True)
        self.warnings += [w for w in workspace.warnings if w not in self.warnings]

    def _echo(self, line: str) -> None:
        click.echo(line, err=True)

    def run(self, workspace: Workspace, **options: Any) -> RunResult:
        """Run a playbook (options as run_playbook's) with the kept log and -v; remember its
        result. The run directory is created on the first run, not before: a command that
        stops before Ansible has no log to keep."""
        if self.log is None:
            try:
                self.log = RunLog.create(self.command, self.inventory)
            except OSError as error:
                # Before Ansible starts: nothing was touched; say where and how to fix it.
                raise BadInputError(
                    f"{error.filename or runs_root()}: cannot keep the run's log there: "
                    f"{os_error_words(error)}; set {RUNS_DIRECTORY_VARIABLE} to a folder "
                    "you can write") from None
        verbosity = min(self.verbosity, MAXIMUM_VERBOSITY)
        # The command's --tags, unless this run narrows them (apply's real pass).
        tags = options.pop("tags", self.tags)
        result = run_playbook(workspace, self.inventory, run_log=self.log,
                              verbosity=verbosity, echo=self._echo if verbosity else None,
                              tags=tags, **options)
        self.result = result
        return result

    def document(self, error: NasopsError | None) -> dict[str, Any]:
        """Return the run document for the command ending with error (None: success)."""
        document = run_document(self.command, self.result,
                                exit_code=error.exit_code if error is not None else 0,
                                log=str(self.log.path) if self.log else None, error=error,
                                warnings=self.warnings)
        if self.qts_hosts or self.qts_log:
            check = self.command != "apply"
            counted = [host["change_count"] for host in self.qts_hosts.values()]
            document.update(platform="qts", check_mode=check, log=self.qts_log,
                            hosts=self.qts_hosts, change_count=sum(counted),
                            drift=any(counted) if check and self.qts_hosts else None)
        if self.command == "plan":  # Debian and QTS hosts alike
            document["access"] = self.access
        return document

    def finish(self, error: NasopsError | None) -> None:
        """Keep the document next to the log, print it (--json) or name the log."""
        # Every text masked before it is encoded: a secret holding a quote or a backslash
        # would no longer match once JSON escaped it.
        document = masked(self.document(error))
        if self.log is not None:
            self.log.write_result(document)
        if self.as_json:
            click.echo(render_json(document))
        if self.log is None:
            return
        if error is not None:
            # The message is printed by the exit-code mapping; the log's path ends it.
            error.args = (f"{error}\nfull log: {self.log.path}",)
        elif not self.as_json:
            click.echo(f"full log: {self.log.path}")


def masked(value: Any) -> Any:
    """Given a JSON document, return it with every registered secret masked in its texts."""
    if isinstance(value, str):
        return MASKER.mask(value)
    if isinstance(value, dict):
        return {MASKER.mask(str(key)): masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


@contextmanager
def reported(command: str, inventory: str, *, as_json: bool = False,
             verbosity: int = 0, tags: tuple[str, ...] = ()) -> Iterator[RunReport]:
    """Yield the RunReport of a command; when it ends (an expected error included), print
    its document or name its log."""
    report = RunReport(command, inventory, as_json=as_json, verbosity=verbosity, tags=tags)
    try:
        yield report
    except NasopsError as error:
        report.finish(error)
        raise
    report.finish(None)
