"""Settling folders and shares that left the spec: `nasops forget` marks them as kept.

A managed folder carries the xattr ``trusted.nasops=managed``. Once it leaves the spec it is
kept (never deleted, its ACL never widened) and reported as ``unmanaged`` on every run, so
drift stays until someone says what it is. Forgetting it sets the marker to ``kept``: the tree
engine and the quota module then leave it, and everything under it, as it is and stop
reporting it. The data and ACLs are untouched. Putting a folder back in the spec makes it
managed again.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from collections.abc import Iterable, Mapping

MARKER_XATTR = "trusted.nasops"
MANAGED = b"managed"
KEPT = b"kept"
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def read_xattr(target: int | str, name: str, missing: bytes | None = None) -> bytes | None:
    """Given an fd or a path (never followed), return an xattr's value or ``missing``."""
    try:
        if isinstance(target, int):
            return os.getxattr(target, name)
        return os.getxattr(target, name, follow_symlinks=False)
    except OSError as error:
        if error.errno != errno.ENODATA:
            raise
        return missing


def marker_of(target: int | str) -> bytes:
    """Given an fd or a path (never followed), return its nasops marker (b"" when none)."""
    return read_xattr(target, MARKER_XATTR, b"") or b""


def managed_paths(shares: Iterable[Mapping]) -> tuple[set[str], set[str]]:
    """Given the desired state's shares, return (share roots, every managed folder path)."""
    roots, managed = set(), set()
    for share in shares:
        root = posixpath.normpath(share["path"])
        roots.add(root)
        for folder in share.get("folders") or []:
            managed.add(posixpath.normpath(posixpath.join(root, folder["path"])))
    return roots, managed


def _open_without_links(path: str) -> int:
    """Given an absolute path, return an fd on that directory, refusing any symlink on the way
    (a link could point the marker at a folder elsewhere)."""
    fd = os.open("/", DIR_FLAGS)
    try:
        for part in [part for part in path.split("/") if part]:
            child = os.open(part, DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def forget(paths: Iterable[str], shares: Iterable[Mapping], organisation_roots: Iterable[str],
           *, check_mode: bool) -> tuple[list[dict[str, str]], list[str]]:
    """Given absolute paths, the desired state's shares and the directories holding them
    (each organisation's, and a shared NAS's shared shares'), mark each path that left the
    spec as kept; return (changes, refusals). Nothing is written when any path is refused."""
    if isinstance(organisation_roots, str):
        # Iterated, a string's characters would make "/" a root: refuse it loudly.
        raise TypeError("organisation_roots must be a list of directories, not a string")
    roots, managed = managed_paths(shares)
    directories = [posixpath.normpath(root) for root in organisation_roots]
    changes: list[dict[str, str]] = []
    refusals: list[str] = []
    wanted: list[tuple[str, int]] = []
    for raw in paths:
        path = posixpath.normpath(raw)
        organisation_root = next((root for root in directories if path != root
                                  and posixpath.isabs(path)
                                  and posixpath.commonpath([path, root]) == root), None)
        if not posixpath.isabs(raw) or path != raw.rstrip("/") or organisation_root is None:
            refusals.append(f"refused: {raw}: not a folder under {' or '.join(directories)}")
            continue
        if path in managed or path in roots:
            refusals.append(f"refused: {path} is in the spec: remove it from the spec first")
            continue
        try:
            fd = _open_without_links(path)
        except OSError as error:
            refusals.append(f"refused: {path}: {os.strerror(error.errno or 0).lower()} "
                            "(a folder, without symbolic links on the way)")
            continue
        marker = marker_of(fd)
        if marker == KEPT:
            os.close(fd)
            continue  # already forgotten: nothing to do
        is_share = posixpath.dirname(path) == organisation_root
        if marker != MANAGED and not is_share:
            os.close(fd)
            refusals.append(f"refused: {path} was never a managed folder: nothing to forget")
            continue
        wanted.append((path, fd))
    try:
        if refusals:
            return [], refusals
        for path, fd in wanted:
            if not check_mode:
                os.setxattr(fd, MARKER_XATTR, KEPT)
            changes.append({"kind": "forget", "target": path,
                            "detail": "left the spec: kept as it is (data and ACLs), "
                                      "no longer reported"})
    finally:
        for _path, fd in wanted:
            os.close(fd)
    return changes, refusals


def kept_entries(root: str, names: Iterable[str]) -> set[str]:
    """Given a directory and names of directories in it, return those marked kept."""
    kept = set()
    for name in names:
        path = posixpath.join(root, name)
        try:
            if stat.S_ISDIR(os.lstat(path).st_mode) and marker_of(path) == KEPT:
                kept.add(name)
        except OSError:
            continue
    return kept
