"""`ansible-inventory --list` answers kept between commands, named after what they are read from.

Why: every nasops command reads the inventory through ansible-inventory (nasops.ansible.
inventory), about 0.7 s of CPU of which 0.5 s is Ansible importing itself, for an answer
that only changes when a file changes. Only a static inventory is kept: one regular,
non-executable file read by Ansible's yaml, ini or toml plugin (a `plugin:` file or a script
may answer differently each time), with no vault password given and nothing vaulted or
secret-looking in it (the cache is a copy; no secret is copied). The name covers
ansible-core's version and the tool run, the arguments, every ANSIBLE_* variable, the
working directory, the bytes of the file, of everything under its group_vars and host_vars,
and of every ansible.cfg Ansible could read. Entries unused for a week are removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Iterator, Mapping, Sequence
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
SECRET_NAME = re.compile(r"pass|secret|token|credential|vault", re.IGNORECASE)
PLUGIN_KEY = re.compile(rb"^plugin\s*:", re.MULTILINE)
VAULT_MARK = b"$ANSIBLE_VAULT"


def _variable_files(base: Path) -> Iterator[Path]:
    for name in VARIABLE_DIRECTORIES:
        directory = base / name
        if directory.is_dir():
            yield from sorted(path for path in directory.rglob("*") if not path.is_dir())
        yield from sorted(base.glob(f"{name}.*"))  # not read by Ansible; harmless to name


def entry_name(argv: Sequence[str], inventory: Path,
               environment: Mapping[str, str]) -> str | None:
    """Given ansible-inventory's argv, the inventory file and the variables it runs with,
    return the cache entry's name, or None when the answer must not be kept."""
    try:
        info = inventory.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o111:
            return None  # a directory or a script: Ansible may read anything, any time
        # Ansible reads group_vars beside the path given; beside the file a link names too.
        bases = dict.fromkeys([inventory.absolute().parent, inventory.resolve().parent])
        files = [inventory, *(path for base in bases for path in _variable_files(base))]
        configured = environment.get("ANSIBLE_CONFIG")
        configs = [Path(configured)] if configured else []
        configs += [Path(name).expanduser() for name in CONFIG_FILES]
        tool = Path(argv[0]).stat()
        digest = hashlib.sha256("\n".join([
            metadata.version("ansible-core"), argv[0], f"{tool.st_size}:{tool.st_mtime_ns}",
            *argv[1:], os.getcwd(),
            *sorted(f"{key}={value}" for key, value in environment.items()
                    if key.startswith("ANSIBLE_")), ""]).encode())
        for path in [*files, *configs]:
            if path.is_file():
                content = path.read_bytes() if path.stat().st_size <= LARGEST_FILE else None
                if content is None or VAULT_MARK in content:
                    return None
                if path == inventory and PLUGIN_KEY.search(content):
                    return None
                digest.update(f"{path.resolve()}:{len(content)}\n".encode() + content)
            else:
                digest.update(f"{path}: none\n".encode())
    except (OSError, metadata.PackageNotFoundError):
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
        partial.unlink(missing_ok=True)
