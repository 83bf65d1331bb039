"""Where nasops keeps what it can build again on the controller (XDG cache)."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def controller_cache(name: str) -> Path:
    """Given a kind of cached thing, return its directory:
    ${XDG_CACHE_HOME:-~/.cache}/nasops/NAME."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nasops" / name


def only_trusted_change(path: Path) -> bool:
    """Given a resolved directory, return whether only this user (or root) can change it
    or any directory above it: a sticky directory of root's (/tmp) is no way in either."""
    for directory in (path, *path.parents):
        info = directory.stat()
        writable_by_others = info.st_mode & 0o022
        sticky_of_root = info.st_uid == 0 and info.st_mode & stat.S_ISVTX
        if info.st_uid not in {0, os.getuid()} or (writable_by_others and not sticky_of_root):
            return False
    return True


def private_directory(path: Path) -> bool:
    """Create path 0700 if missing; return whether it is a directory only this user may
    change, nor anyone replace (what nasops reads back from it is trusted)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and not info.st_mode & 0o077 and only_trusted_change(path.resolve()))
