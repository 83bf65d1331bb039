"""Create or complete a NAS's secrets file: Samba passwords, restic passwords, Syncthing key.

An existing file is edited round-trip (comments and order kept) and only missing keys are
added; an ansible-vault encrypted file is never written. Secret values are registered with
the command masker and never returned in anything meant for display.
"""

from __future__ import annotations

import io
import re
import secrets
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ansible_collections.nasops.nas.plugins.module_utils.host_files import write_atomically
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.reader import ReaderError

from nasops.ansible.inventory import SECRETS_VARIABLE, VAULT_HEADER, TargetHost
from nasops.errors import BadInputError
from nasops.execute import MASKER
from nasops.spec.input_file import MAXIMUM_SECRETS_BYTES, read_regular_file

USER_PASSWORDS = "nasops_user_passwords"
RESTIC_PASSWORDS = "nasops_restic_passwords"
SYNCTHING_API_KEY = "nasops_syncthing_api_key"
PASSWORD_BYTES = 24
API_KEY_BYTES = 32
# What went wrong in a secrets file, by the parser's words; the parser's own message is never
# shown: it quotes the line, and the line holds a password.
PARSE_PROBLEMS = (
    (r"duplicate key", "a key is set twice"),
    (r"\btab\b|'\\t'|\t", "a tab character is used for indentation; YAML needs spaces"),
    (r"quoted scalar", "a quote is not closed"),
    (r"could not find expected ':'|mapping values are not allowed",
     "a ':' is missing or unexpected (check the indentation, or put the value in quotes)"),
    (r"expected <block end>|did not find expected|block mapping|block collection",
     "bad indentation: this line does not line up with the lines above it"),
    (r"cannot start any token",
     "a value starts with a character YAML does not accept there; put it in quotes"),
    (r"alias|anchor", "a value starts with '*' or '&'; put it in quotes"),
    (r"special characters are not allowed|control character|non-printable",
     "an invisible control character is in the text"),
)
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
    # Imported here: the specs module imports this one to read secrets files.
    from nasops.provision.specs import compile_targets  # noqa: PLC0415

    # The names as the NAS has them (a shared NAS's repositories carry their organisation's
    # prefix): read from the compiled desired states, which also checks a shared NAS's specs
    # together before any password is made.
    desired = compile_targets(targets, qts_driver=True).desired
    needs: dict[Path, tuple[list[str], list[str], list[str]]] = {}
    for target in targets:
        if target.secrets_path is None:  # excluded above; this narrows the type
            continue
        hosts, logins, repositories = needs.setdefault(target.secrets_path, ([], [], []))
        hosts.append(target.name)
        if target.platform == "qts":
            # The QTS driver gives each person this password at creation (no backup there).
            from nasops.qts.plan import desired_state  # noqa: PLC0415 - QTS only
            from nasops.spec.load import load_spec  # noqa: PLC0415

            logins += list(desired_state(load_spec(target.spec_path)).people)
            continue
        state = desired[target.name]
        logins += [user["login"] for user in state["users"]]
        if state["backup"]["enabled"]:
            repositories += [repository["name"]
                             for repository in state["backup"]["repositories"]]
    return [SecretsNeed(path, tuple(hosts), tuple(dict.fromkeys(logins)),
                        tuple(dict.fromkeys(repositories)))
            for path, (hosts, logins, repositories) in needs.items()]


def _round_trip_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def _parse_problem(path: Path, text: str, error: BaseException) -> str:
    """Given a parser error, return `file:line:col: what is wrong`, quoting nothing."""
    if isinstance(error, ReaderError):
        # A character YAML refuses: its code point is safe to name, its neighbours are not.
        position = max(0, min(int(error.position or 0), len(text)))
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        character = error.character if isinstance(error.character, int) else ord(
            str(error.character)[:1] or "?")
        return (f"{path}:{line}:{column}: secrets file: an invisible control character "
                f"(U+{character:04X}) is in the text; delete it")
    context = str(getattr(error, "context", "") or "")
    # An unclosed quote is found at the end of the file; where it was opened is the news.
    marks = ("context_mark", "problem_mark") if "quoted" in context else ("problem_mark",
                                                                          "context_mark")
    mark = getattr(error, marks[0], None) or getattr(error, marks[1], None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    words = " ".join(str(getattr(error, name, "") or "") for name in ("problem", "context"))
    sentence = next((plain for pattern, plain in PARSE_PROBLEMS if re.search(pattern, words)),
                    "not valid YAML here")
    return f"{where}: secrets file: {sentence} (line not shown: it may hold a password)"


def _refuse_references(path: Path, value: Any, seen: set[int]) -> None:
    """Refuse '*' references: nasops never writes them, and nested ones expand without end."""
    if not isinstance(value, dict | list):
        return
    if id(value) in seen:
        raise BadInputError(f"{path}: secrets file: uses '*' references to other values; "
                            "write each value out")
    seen.add(id(value))
    for item in value.values() if isinstance(value, dict) else value:
        _refuse_references(path, item, seen)


def _read(path: Path) -> bytes:
    return read_regular_file(path, "secrets file", MAXIMUM_SECRETS_BYTES)


def _parse(path: Path, content: bytes, yaml: YAML) -> Any:
    """Given a plain secrets file's bytes, return its data; errors quote none of it."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadInputError(f"{path}: secrets file: not UTF-8 text (at byte {error.start}); "
                            "save the file as UTF-8") from None
    try:
        with warnings.catch_warnings():
            # ruamel's warnings (a reused anchor) quote the line too.
            warnings.simplefilter("ignore")
            data = yaml.load(text)
    except (YAMLError, ValueError, TypeError, RecursionError) as error:
        raise BadInputError(_parse_problem(path, text, error)) from None
    _refuse_references(path, data, set())
    return data


def load_secrets_file(path: Path) -> Any:
    """Given a secrets file, return its data, or None when it is ansible-vault encrypted.

    Only a regular file of at most MAXIMUM_SECRETS_BYTES is read. A parse error names the
    line and column and the kind of mistake, never the text: that text is a password.
    """
    content = _read(path)
    if content.startswith(VAULT_HEADER):
        return None
    return _parse(path, content, YAML(typ="safe", pure=True))


def _load_existing(path: Path, yaml: YAML) -> CommentedMap:
    content = _read(path)
    if content.startswith(VAULT_HEADER):
        raise BadInputError(
            f"{path} is encrypted with ansible-vault; nasops does not write encrypted files. "
            f"Decrypt it (ansible-vault decrypt {path}), run `nasops secrets init` again and "
            f"encrypt it back, or add the missing keys with ansible-vault edit {path}")
    data = _parse(path, content, yaml)
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
    write_atomically(str(path), text.encode("utf-8"), mode, make_directory=False)


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
