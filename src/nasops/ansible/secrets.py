"""Create or complete a NAS's secrets file: Samba passwords, restic passwords, Syncthing key.

An existing file is edited round-trip (comments and order kept) and only missing keys are
added; an ansible-vault encrypted file is never written. Secret values are registered with
the command masker and never returned in anything meant for display.
"""

from __future__ import annotations

import io
import os
import secrets
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from nasops.ansible.inventory import SECRETS_VARIABLE, TargetHost, is_vault_file
from nasops.ansible.workspace import load_specs
from nasops.compile import compile_spec
from nasops.errors import BadInputError
from nasops.execute import MASKER

USER_PASSWORDS = "nasops_user_passwords"
RESTIC_PASSWORDS = "nasops_restic_passwords"
SYNCTHING_API_KEY = "nasops_syncthing_api_key"
PASSWORD_BYTES = 24
API_KEY_BYTES = 32
HEADER = ("# nasops secrets, written by `nasops secrets init`. Keep this file private;\n"
          "# encrypt it with: ansible-vault encrypt {name}\n")


@dataclass(frozen=True)
class SecretsNeed:
    """The keys one secrets file must hold, and the hosts that use it."""

    path: Path
    hosts: tuple[str, ...]
    logins: tuple[str, ...]
    repositories: tuple[str, ...]


@dataclass
class SecretsOutcome:
    """What `ensure_secrets` did to one file, without any secret value."""

    path: Path
    created: bool
    added: list[str] = field(default_factory=list)
    """Added keys as `section.key` (e.g. `nasops_user_passwords.adiallo`)."""


def secrets_needs(targets: Sequence[TargetHost]) -> list[SecretsNeed]:
    """Given targets, return per secrets file the logins and repositories it must cover.

    Raise BadInputError naming each host without nasops_secrets_file; raise SpecError for
    invalid specs (all problems at once).
    """
    missing = [target.name for target in targets if target.secrets_path is None]
    if missing:
        raise BadInputError("\n".join(
            f"inventory host {name}: missing variable {SECRETS_VARIABLE} (the secrets file, "
            "relative to the inventory)" for name in missing))
    loaded = load_specs(targets)
    needs: dict[Path, tuple[list[str], list[str], list[str]]] = {}
    for target in targets:
        if target.secrets_path is None:  # excluded above; this narrows the type
            continue
        hosts, logins, repositories = needs.setdefault(target.secrets_path, ([], [], []))
        spec = loaded[target.name].spec
        hosts.append(target.name)
        logins += [user["login"] for user in compile_spec(spec)["users"]]
        if spec.backup is not None:
            repositories += [repository.name for repository in spec.backup.repositories]
    return [SecretsNeed(path, tuple(hosts), tuple(dict.fromkeys(logins)),
                        tuple(dict.fromkeys(repositories)))
            for path, (hosts, logins, repositories) in needs.items()]


def _round_trip_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def _load_existing(path: Path, yaml: YAML) -> CommentedMap:
    if is_vault_file(path):
        raise BadInputError(
            f"{path} is encrypted with ansible-vault; nasops does not write encrypted files. "
            f"Decrypt it (ansible-vault decrypt {path}), run `nasops secrets init` again and "
            f"encrypt it back, or add the missing keys with ansible-vault edit {path}")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"))
    except YAMLError as error:
        raise BadInputError(f"{path}: not valid YAML: {error}") from None
    if data is None:
        return CommentedMap()
    if not isinstance(data, CommentedMap):
        raise BadInputError(f"{path}: the secrets file must be a mapping of variables")
    return data


def _register(value: Any) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _register(item)
    elif isinstance(value, str):
        MASKER.add(value)


def _section(data: CommentedMap, key: str, path: Path) -> dict[str, Any]:
    section = data.get(key)
    if section is None:
        section = CommentedMap()
        data[key] = section
    if not isinstance(section, dict):
        raise BadInputError(f"{path}: {key} must be a mapping (name: password)")
    return section


def complete_secrets(data: CommentedMap, need: SecretsNeed) -> list[str]:
    """Given loaded secrets data and what is needed, add missing keys; return their names."""
    added: list[str] = []
    for key, names in ((USER_PASSWORDS, need.logins), (RESTIC_PASSWORDS, need.repositories)):
        if not names and key not in data:
            continue
        section = _section(data, key, need.path)
        for name in names:
            if not section.get(name):
                section[name] = secrets.token_urlsafe(PASSWORD_BYTES)
                added.append(f"{key}.{name}")
    if not data.get(SYNCTHING_API_KEY):
        data[SYNCTHING_API_KEY] = secrets.token_urlsafe(API_KEY_BYTES)
        added.append(SYNCTHING_API_KEY)
    return added


def _write_atomically(path: Path, text: str, mode: int) -> None:
    # Written beside the target then renamed, so a crash never leaves half a secrets file.
    descriptor, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(partial, mode)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def ensure_secrets(need: SecretsNeed) -> SecretsOutcome:
    """Given what one secrets file needs, create or complete it; return what was done.

    A new file is 0600; an existing one keeps its mode and is rewritten only if a key was
    missing.
    """
    yaml = _round_trip_yaml()
    path = need.path
    created = not path.exists()
    data = CommentedMap() if created else _load_existing(path, yaml)
    _register(data)
    added = complete_secrets(data, need)
    _register(data)
    if not added:
        return SecretsOutcome(path, created=False)
    buffer = io.StringIO()
    if created:
        buffer.write(HEADER.format(name=path.name))
    yaml.dump(data, buffer)
    if created:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = 0o600 if created else path.stat().st_mode & 0o777
    _write_atomically(path, buffer.getvalue(), mode)
    return SecretsOutcome(path, created=created, added=added)


def describe_outcome(outcome: SecretsOutcome, hosts: Iterable[str]) -> str:
    """Given an outcome and the hosts using the file, return one line without any secret."""
    who = ", ".join(hosts)
    if not outcome.added:
        return f"{who}: {outcome.path}: complete, nothing to add"
    counts = {USER_PASSWORDS: 0, RESTIC_PASSWORDS: 0}
    for key in outcome.added:
        section = key.split(".", 1)[0]
        if section in counts:
            counts[section] += 1
    parts = []
    if counts[USER_PASSWORDS]:
        parts.append(f"{counts[USER_PASSWORDS]} user password(s)")
    if counts[RESTIC_PASSWORDS]:
        parts.append(f"{counts[RESTIC_PASSWORDS]} restic password(s)")
    if SYNCTHING_API_KEY in outcome.added:
        parts.append("the Syncthing API key")
    verb = "created with" if outcome.created else "added"
    return f"{who}: {outcome.path}: {verb} {', '.join(parts)}"


def group_readable(path: Path) -> bool:
    """Given a file, return whether anyone besides its owner may read it."""
    return bool(path.stat().st_mode & 0o077)
