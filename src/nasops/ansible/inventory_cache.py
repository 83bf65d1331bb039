"""`ansible-inventory --list` answers kept between commands, named after what they are read from.

Why: every nasops command reads the inventory through ansible-inventory (nasops.ansible.
inventory), about 0.7 s of CPU of which 0.5 s is Ansible importing itself, for an answer
that only changes when a file changes. Only an answer read from known files alone is kept:
one regular, non-executable inventory file that never says `plugin`, its group_vars and
host_vars (no linked folder among them, at most 500 files), no vault anywhere (no password
given or configured, nothing vaulted), no setting that makes Ansible read elsewhere
(playbook_dir, vars plugins, inventory plugins, ANSIBLE_HOME, `--limit @file`), and no
variable named like a secret in the answer. The name covers ansible-core's version and the
tool run, the arguments, every ANSIBLE_* variable, the working directory, the bytes of those
files and of every ansible.cfg Ansible could read; it is taken again after the run, and an
answer whose files changed meanwhile is not kept. Entries unused for a week are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from nasops.cache import controller_cache, private_directory

UNUSED_SECONDS = 7 * 24 * 3600
# Where Ansible looks for its configuration when ANSIBLE_CONFIG does not say (in order).
CONFIG_FILES = ("ansible.cfg", "~/.ansible.cfg", "/etc/ansible/ansible.cfg")
VARIABLE_DIRECTORIES = ("group_vars", "host_vars")
# Larger files are read by ansible-inventory every time (hashing them costs more than it saves).
LARGEST_FILE = 4 * 1024 * 1024
# Variables whose values may be secrets: an answer holding one is never written to disk.
SECRET_NAME = re.compile(r"pass|secret|token|credential|vault|key|pw|pin|psk|cert|auth",
                         re.IGNORECASE)
VAULT_MARK = b"$ANSIBLE_VAULT"
# Settings that make Ansible read other files, or decrypt, while reading an inventory: with
# any of them set (in a variable or an ansible.cfg), nothing is kept.
FAR_READING_VARIABLE = re.compile(r"VAULT|PLAYBOOK|VARS|INVENTORY|PLUGIN|HOME|LIMIT")
FAR_READING_SETTING = re.compile(
    rb"vault|playbook_dir|vars_plugin|enable_plugins|inventory_plugins|\[inventory\]|home",
    re.IGNORECASE)
# Vars plugins found there run without being enabled (REQUIRES_ENABLED = False).
VARS_PLUGIN_DIRECTORIES = ("~/.ansible/plugins/vars", "/usr/share/ansible/plugins/vars")
# More files than this under group_vars/host_vars cost more to hash than a run.
MOST_FILES = 500


def _variable_files(base: Path) -> list[Path] | None:
    """Every file under base's group_vars and host_vars (None: a linked folder among them,
    which Ansible follows and a walk may not, or too many files to be worth it)."""
    found: list[Path] = []
    for name in VARIABLE_DIRECTORIES:
        directory = base / name
        if not directory.is_dir():
            continue
        for root, folders, files in os.walk(directory):
            if any(Path(root, folder).is_symlink() for folder in folders):
                return None
            found += [Path(root, file) for file in files]
            if len(found) > MOST_FILES:
                return None
    return sorted(found)


def _configuration_files(environment: Mapping[str, str]) -> list[Path]:
    """Every ansible.cfg Ansible could read (ANSIBLE_CONFIG may name a folder)."""
    configured = environment.get("ANSIBLE_CONFIG")
    found = []
    if configured:
        path = Path(configured).expanduser()
        found.append(path / "ansible.cfg" if path.is_dir() else path)
    return found + [Path(name).expanduser() for name in CONFIG_FILES]


def _encoded(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _far_reading(inventory: Path, environment: Mapping[str, str]) -> bool:
    """Whether Ansible may read more than the inventory's own files for this answer."""
    plugins = [Path(place).expanduser() for place in VARS_PLUGIN_DIRECTORIES]
    return (any(FAR_READING_VARIABLE.search(key) for key in environment
                if key.startswith("ANSIBLE_"))
            or "$" in str(inventory)  # Ansible expands variables in -i
            or any(place.is_dir() and any(place.iterdir()) for place in plugins))


def _inputs(inventory: Path) -> list[Path] | None:
    """The inventory file and every file under its group_vars and host_vars, or None."""
    info = inventory.stat()
    if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o111:
        return None  # a directory or a script: Ansible may read anything, any time
    # Ansible reads group_vars beside the path as given, normalised as text (link/.. is
    # not the link's parent); beside the file a link names too.
    given = Path(os.path.normpath(os.path.abspath(inventory)))
    files: list[Path] = [given]
    for base in dict.fromkeys([given.parent, given.resolve().parent]):
        found = _variable_files(base)
        if found is None:
            return None
        files += found
    return files


def _unkeepable(content: bytes | None, *, inventory: bool, configuration: bool) -> bool:
    """Whether a file's content (None: too large to hash) forbids keeping the answer."""
    return (content is None or VAULT_MARK in content
            # A plugin file (`plugin:` however written) makes Ansible ask elsewhere.
            or (inventory and b"plugin" in content.lower())
            or (configuration and FAR_READING_SETTING.search(content) is not None))


def entry_name(argv: Sequence[str], inventory: Path,
               environment: Mapping[str, str]) -> str | None:
    """Given ansible-inventory's argv, the inventory file and the variables it runs with,
    return the cache entry's name, or None when the answer must not be kept."""
    try:
        files = None if _far_reading(inventory, environment) else _inputs(inventory)
        if files is None:
            return None
        tool = Path(argv[0]).stat()
        digest = hashlib.sha256(_encoded("\n".join([
            metadata.version("ansible-core"), argv[0], f"{tool.st_size}:{tool.st_mtime_ns}",
            *argv[1:], os.getcwd(),
            *sorted(f"{key}={value}" for key, value in environment.items()
                    if key.startswith("ANSIBLE_")), ""])))
        configs = _configuration_files(environment)
        for path in [*files, *configs]:
            if not path.is_file():
                digest.update(_encoded(f"{path}: none\n"))
                continue
            content = path.read_bytes() if path.stat().st_size <= LARGEST_FILE else None
            if _unkeepable(content, inventory=path == files[0],
                           configuration=path in configs) or content is None:
                return None
            digest.update(_encoded(f"{path}:{len(content)}\n") + content)
    except (OSError, ValueError, metadata.PackageNotFoundError):
        return None
    return digest.hexdigest()[:40]


def _secret_name(name: str) -> bool:
    # `nasops_secrets_file`, `ansible_ssh_private_key_file`: paths, not secrets.
    return bool(SECRET_NAME.search(name)) and not name.endswith(("_file", "_path"))


def _holds_secret_name(data: Any) -> bool:
    if isinstance(data, dict):
        return any(_secret_name(str(key)) or _holds_secret_name(value)
                   for key, value in data.items())
    if isinstance(data, list):
        return any(_holds_secret_name(item) for item in data)
    return False


def _directory() -> Path | None:
    directory = controller_cache("inventory")
    try:
        return directory if private_directory(directory) else None
    except OSError:
        return None


def read(name: str) -> dict[str, Any] | None:
    """Given an entry's name, return the kept answer (marked used now), or None."""
    directory = _directory()
    if directory is None:
        return None
    path = directory / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        now = time.time()
        os.utime(path, (now, now))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def keep(name: str, data: dict[str, Any]) -> None:
    """Given an entry's name and ansible-inventory's answer, keep it (unless it holds a
    variable that may be a secret) and remove entries unused for a week."""
    directory = _directory()
    if directory is None or _holds_secret_name(data):
        return
    partial = directory / f"{name}.{os.getpid()}-part"
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                             0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            json.dump(data, stream)
        partial.replace(directory / f"{name}.json")  # readers see a whole entry or none
        now = time.time()
        for entry in directory.iterdir():
            if now - entry.lstat().st_mtime > UNUSED_SECONDS:
                entry.unlink(missing_ok=True)
    except OSError:
        with contextlib.suppress(OSError):  # a read-only disk refuses this too
            partial.unlink(missing_ok=True)
