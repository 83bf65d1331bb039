"""Every targeted host's spec loaded, validated and compiled before anything runs.

All problems of all specs are reported together (exit 2, nothing touched). The secrets files'
values (plain, or encrypted with a vault password file nasops can read) are registered with
the command masker first, so no log text nasops keeps or shows can carry one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasops.ansible.inventory import TargetHost, is_vault_file
from nasops.ansible.workspace import Workspace, workspace_directory
from nasops.errors import BadInputError, Problem, SpecError
from nasops.execute import MASKER
from nasops.provision.compile_apart import compile_into
from nasops.provision.secrets import load_secrets_file

if TYPE_CHECKING:
    from nasops.spec import LoadedSpec


@dataclass
class Compiled:
    """The desired state of every targeted host, and the specs' warnings."""

    desired: dict[str, dict[str, Any]]
    warnings: list[Problem] = field(default_factory=list)


def load_spec_files(hosts: dict[str, list[Path]]
                    ) -> tuple[dict[Path, LoadedSpec], list[Problem], list[str]]:
    """Given each host's spec files, load every file once; return the loaded specs by path,
    the located problems and the one-line messages of files that could not be read (named by
    their hosts), so that a caller reports every problem at once."""
    # Imported here (and compile below): `nasops apply` compiles in a child process, and
    # the parent that waits for Ansible need not hold pydantic and the models.
    from nasops.spec import load_spec  # noqa: PLC0415

    by_path: dict[Path, LoadedSpec] = {}
    problems: list[Problem] = []
    messages: list[str] = []
    for path in dict.fromkeys(path for paths in hosts.values() for path in paths):
        try:
            by_path[path] = load_spec(path)
        except SpecError as error:
            problems += error.problems
        except BadInputError as error:
            names = ", ".join(name for name, paths in hosts.items() if path in paths)
            messages.append(f"inventory host {names}: {error}")
    return by_path, problems, messages


def load_specs(targets: Sequence[TargetHost]) -> dict[str, list[LoadedSpec]]:
    """Given targets, return each host's loaded specs (one, or its organisations' when it
    hosts several); raise one error listing every problem. A spec named by several hosts is
    loaded once."""
    by_path, problems, messages = load_spec_files(
        {target.name: target.spec_paths for target in targets})
    if problems and not messages:
        raise SpecError(problems)
    if problems or messages:
        raise BadInputError("\n".join([*messages, *(problem.format() for problem in problems)]))
    return {target.name: [by_path[path] for path in target.spec_paths] for target in targets}


_QTS_NOT_BUILT = (
    "inventory host {name}: nasops_platform is qts, and this command is not built for QTS "
    "(issue 15): the spec is valid for QTS (`nasops validate -i` checks it); `nasops plan`, "
    "`drift` and `apply` reach the NAS's people, groups, shares and share rights, but "
    "nothing can be forgotten on QTS yet; nothing was run (docs/qts.md)")


def compile_targets(targets: Sequence[TargetHost], *, qts_driver: bool = False
                    ) -> Compiled:
    """Given targets, validate and compile every spec (those of one NAS that hosts several
    organisations checked together and compiled into one state); raise SpecError or
    BadInputError, before anything is written, if any is invalid. A QTS host's spec is
    only checked against what QTS can do; unless the QTS driver runs the command
    (qts_driver: plan, drift, apply, secrets init), that it is not built is an error too."""
    from nasops.compile import compile_spec  # noqa: PLC0415
    from nasops.compile.host import compile_host  # noqa: PLC0415
    from nasops.provision.hosted import check_together, platform_problems  # noqa: PLC0415

    loaded = load_specs(targets)
    desired: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    messages: list[str] = []
    warnings = [warning for specs in loaded.values() for spec in specs
                for warning in spec.warnings]
    for target in targets:
        specs = loaded[target.name]
        refused, host_messages = platform_problems(target.name, target.platform, specs,
                                                   target.spec_paths, target.hosting_path)
        problems += refused
        messages += host_messages
        if target.platform == "qts":
            if not refused and not host_messages and not qts_driver:
                messages.append(_QTS_NOT_BUILT.format(name=target.name))
            continue
        if not target.hosted:
            desired[target.name] = compile_spec(specs[0].spec)
            continue
        by_path = dict(zip(target.spec_paths, specs, strict=True))
        _specs, hosting, found, unreadable, hosting_warnings = check_together(
            target.name, target.spec_paths, by_path, target.hosting_path)
        errors = [problem for problem in found if problem.severity != "warning"]
        problems += errors
        warnings += [problem for problem in found if problem.severity == "warning"]
        warnings += hosting_warnings
        messages += unreadable
        if not errors and not unreadable:
            desired[target.name] = compile_host(target.name, specs, hosting)
    if messages:
        raise BadInputError("\n".join([*messages, *(problem.format() for problem in problems)]))
    if problems:
        raise SpecError(problems)
    return Compiled(desired, list(dict.fromkeys(warnings)))


def register_secrets(targets: Sequence[TargetHost], vault_password_file: str | None) -> None:
    """Register every target's secrets (plain, or vault-encrypted with a password file nasops
    can read) with this process's command masker."""
    for target in targets:
        if target.secrets_path is not None:
            register_plain_secrets(target.secrets_path)
            register_vault_secrets(target.secrets_path, vault_password_file)


@contextmanager
def prepared_workspace(targets: Sequence[TargetHost],
                       vault_password_file: str | None = None) -> Iterator[Workspace]:
    """Given targets, compile every spec (compile_targets), register the secrets with the
    masker, then yield the run's written workspace (nasops.ansible.workspace, holding each
    state's outline), removed on exit."""

    def compile_all() -> tuple[dict[str, dict[str, Any]], list[Problem]]:
        compiled = compile_targets(targets)
        return compiled.desired, compiled.warnings

    with workspace_directory() as directory:
        # In a child process: this one waits for Ansible without the compiled trees.
        outlines, warnings = compile_into(directory, targets, compile_all)
        # Here, not in the child: the masker that must know them is this process's.
        register_secrets(targets, vault_password_file)
        yield Workspace(directory, [target.name for target in targets], outlines, warnings)


def register_plain_secrets(path: Path) -> None:
    """Given a plain (not vault) secrets file, register its values with the command masker.

    Ansible keeps them out of results (no_log); this also keeps them out of any log text
    nasops shows, should a role ever echo one by mistake.
    """
    if not path.is_file():
        return
    # A malformed file is refused here, before Ansible, without quoting its lines.
    _collect_secrets(load_secrets_file(path))


def register_vault_secrets(path: Path, vault_password_file: str | None) -> None:
    """Given an ansible-vault encrypted secrets file and the vault password file, register
    the password and the file's values with the command masker (as for a plain file).

    Only a password held in a regular, non-executable file is read (an executable one is a
    script Ansible runs; nasops does not run it a second time). A file that does not decrypt
    is left to Ansible, which says why.
    """
    if not vault_password_file or not path.is_file() or not is_vault_file(path):
        return
    password_path = Path(vault_password_file).expanduser()
    if not password_path.is_file() or os.access(password_path, os.X_OK):
        return
    password = password_path.read_bytes().strip()
    if not password:
        return
    MASKER.add(password.decode("utf-8", errors="replace"))
    # Imported here: only runs with encrypted secrets pay for Ansible's vault code.
    from ansible.errors import AnsibleError  # type: ignore[import-untyped]  # noqa: PLC0415
    from ansible.parsing.vault import (  # type: ignore[import-untyped]  # noqa: PLC0415
        VaultLib,
        VaultSecret,
    )
    from ruamel.yaml import YAML  # noqa: PLC0415
    from ruamel.yaml.error import YAMLError  # noqa: PLC0415

    try:
        plain = VaultLib([("default", VaultSecret(password))]).decrypt(path.read_bytes())
        data = YAML(typ="safe", pure=True).load(plain.decode("utf-8"))
    except (AnsibleError, YAMLError, ValueError, UnicodeDecodeError):
        return
    _collect_secrets(data)


def _collect_secrets(value: Any) -> None:
    """Register every string of at least 6 characters in value with the masker."""
    if isinstance(value, dict):
        for item in value.values():
            _collect_secrets(item)
    elif isinstance(value, list):
        for item in value:
            _collect_secrets(item)
    elif isinstance(value, str) and len(value) >= 6:
        # Short strings are keys or flags, and masking them would garble messages.
        MASKER.add(value)
