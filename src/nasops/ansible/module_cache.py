"""Ansible's module payloads kept from one run to the next, named after what they are built from.

Why: before a module's first use in a run, ansible-playbook builds its payload (AnsiballZ: the
module and every module_utils file it imports, found by parsing them all) into a cache inside
the run's own temporary directory, which goes with the run. Every plan, apply and drift built
the same dozen payloads again: about a second of controller CPU per pass, a fifth of a pass
that changes nothing. nasops keeps them in `~/.cache/nasops/module-payloads/<fingerprint>`;
the events callback links the run's cache there (Ansible has no setting for it). The
fingerprint names everything a payload is built from: ansible-core's version and module files,
the project's modules and module_utils (the nasops.nas collection, or the roles' `library/`),
and the controller's Python (Ansible pickles payloads). An edited file is a new directory, so a
stale payload is never sent; directories unused for a week are removed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pickletools
import shutil
import sys
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from nasops.cache import controller_cache, private_directory

# The variable the events callback reads (nasops/ansible/callback/nasops_events.py).
CACHE_VARIABLE = "NASOPS_MODULE_CACHE"
UNUSED_SECONDS = 7 * 24 * 3600
# ansible-core's directories whose files go into payloads (or build them).
ANSIBLE_SOURCES = ("modules", "module_utils", "executor", "_internal")
# The project's directories that hold modules and module_utils.
PROJECT_SOURCES = ("plugins", "library", "module_utils", "roles/*/library",
                   "roles/*/module_utils")


def default_base() -> Path:
    """Return the directory the payload caches live under (XDG cache)."""
    return controller_cache("module-payloads")


# Where else Ansible finds modules and module_utils (its defaults, and the variables that
# add places): their files go into payloads too.
SEARCH_DIRECTORIES = ("~/.ansible/plugins/modules", "~/.ansible/plugins/module_utils",
                      "/usr/share/ansible/plugins/modules",
                      "/usr/share/ansible/plugins/module_utils")
SEARCH_VARIABLES = ("ANSIBLE_LIBRARY", "ANSIBLE_MODULE_UTILS")
# Settings that change a payload without changing its name in Ansible's cache.
PAYLOAD_VARIABLES = ("ANSIBLE_MODULE_COMPRESSION", "ANSIBLE_MODULE_STRICT_UTF8_RESPONSE",
                     "_ANSIBLE_MODULE_METADATA")


def _files(directories: Iterator[Path]) -> Iterator[Path]:
    for directory in directories:
        # Bytecode is not sent; compiling the sources must not change the fingerprint.
        yield from sorted(path for path in directory.rglob("*")
                          if path.is_file() and "__pycache__" not in path.parts)


def fingerprint(root: Path) -> str:
    """Given the project root (ansible.cfg, playbooks, roles), return a digest of what
    Ansible builds its payloads from. Sizes and modification times stand for contents, as
    for the release archive (nasops.release.bundle): a few milliseconds, not seconds."""
    spec = importlib.util.find_spec("ansible")
    if spec is None or spec.origin is None:
        raise OSError("ansible-core is not importable")
    version = metadata.version("ansible-core")
    settings = [f"{name}={os.environ.get(name)}" for name in
                (*SEARCH_VARIABLES, *PAYLOAD_VARIABLES)]
    digest = hashlib.sha256("\n".join([version, sys.version, str(root.resolve()),
                                        *settings, ""]).encode())
    ansible_root = Path(spec.origin).resolve().parent
    projects = (directory for pattern in PROJECT_SOURCES for directory in root.glob(pattern))
    searched = [Path(place).expanduser() for place in SEARCH_DIRECTORIES] + [
        Path(place).expanduser() for name in SEARCH_VARIABLES
        for place in os.environ.get(name, "").split(os.pathsep) if place]
    sources = [*(ansible_root / name for name in ANSIBLE_SOURCES), *projects, *searched]
    for path in _files(directory for directory in sources if directory.is_dir()):
        info = path.stat()
        digest.update(f"{path}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def _drop_damaged(directory: Path) -> None:
    """Remove payloads Ansible could not read back (a file cut short by a crash would fail
    every later run until the fingerprint changes); Ansible builds them again."""
    for entry in directory.iterdir():
        if entry.name.endswith((".lock", "-part")) or not entry.is_file():
            continue
        # The pickle's opcodes are walked, nothing is built (that would import Ansible).
        try:
            opcodes = [opcode.name for opcode, _, _ in pickletools.genops(entry.read_bytes())]
            whole = bool(opcodes) and opcodes[-1] == "STOP"
        except (ValueError, EOFError, UnicodeDecodeError):
            whole = False
        if not whole:
            entry.unlink(missing_ok=True)


def payload_cache(root: Path, base: Path | None = None) -> Path | None:
    """Given the project root, return this fingerprint's cache directory (created, marked
    used now), removing the ones unused for a week; None when it cannot be used safely, and
    Ansible then builds its payloads in the run, as it always does."""
    base = base or default_base()
    try:
        directory = base / fingerprint(root)
        if not (private_directory(base) and private_directory(directory)):
            return None
        directory = directory.resolve()
        _drop_damaged(directory)
        now = time.time()
        os.utime(directory, (now, now))
        for other in base.iterdir():
            # Another fingerprint's runs may be going on: only long-unused ones go.
            if other.name != directory.name and other.is_dir() and not other.is_symlink() \
                    and now - other.stat().st_mtime > UNUSED_SECONDS:
                shutil.rmtree(other, ignore_errors=True)
    except (OSError, metadata.PackageNotFoundError):
        return None
    return directory


def environment(root: Path) -> dict[str, str]:
    """Given the project root, return the variable that hands the cache to the callback
    (nothing when there is none)."""
    # The fingerprint describes the ansible-core importable here: only the tools beside this
    # Python are that one (nasops.ansible.tools falls back to PATH).
    if not (Path(sys.executable).parent / "ansible-playbook").is_file():
        return {}
    # Ansible names role modules ansible.legacy.<name>: two of one name would share a payload.
    names = [path.name for path in root.glob("roles/*/library/*")]
    if len(names) != len(set(names)):
        return {}
    directory = payload_cache(root)
    return {} if directory is None else {CACHE_VARIABLE: str(directory)}
