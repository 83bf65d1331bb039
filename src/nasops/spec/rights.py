"""Rights resolution: the one function that says who may do what in every folder.

Semantics (used by the access report, the compiler and drift alike):
- levels none < read < write; principals are groups, and users as exceptions;
- a folder inherits its parent's entries, its own entries override the same principal,
  `inherit: false` starts from nothing;
- a user's right is their own entry if the folder has one, else the best of their groups';
- someone with read or write deep in the tree gets traverse-only on the ancestors;
- disabled users have no access anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from nasops.spec.directory import Directory, Principal, build_directory
from nasops.spec.models import LEVEL_RANKS, Folder, Level, Share, Spec


class Access(StrEnum):
    """What a user can effectively do in a folder."""

    NONE = "none"
    TRAVERSE = "traverse"
    READ = "read"
    WRITE = "write"


LEVEL_TO_ACCESS = {Level.NONE: Access.NONE, Level.READ: Access.READ, Level.WRITE: Access.WRITE}


@dataclass
class FolderRights:
    """One folder of the tree with its resolved access entries."""

    index: int
    path: tuple[str, ...]
    parent: int | None
    inherit: bool
    entries: dict[Principal, Level]
    renamed_from: str | None = None
    children: list[int] = field(default_factory=list)
    traverse: set[Principal] = field(default_factory=set)
    """Principals that need traverse-only here to reach rights further down."""

    @property
    def share(self) -> str:
        """Return the name of the share this folder belongs to."""
        return self.path[0]

    @property
    def display_path(self) -> str:
        """Return the folder as people write it: 'Afrique/Finances'."""
        return "/".join(self.path)


@dataclass
class RightsTable:
    """Every folder's entries and every user's effective access to every folder."""

    directory: Directory
    folders: list[FolderRights]
    access: dict[str, list[Access]]
    """login -> effective access, one per folder index."""

    def who(self, folder_index: int) -> dict[Access, list[str]]:
        """Given a folder index, return the logins grouped by their access there."""
        grouped: dict[Access, list[str]] = {access: [] for access in Access}
        for login, levels in self.access.items():
            grouped[levels[folder_index]].append(login)
        return grouped

    def folder_index(self, display_path: str) -> int:
        """Given 'Share/Sub/Folder', return its index; raise KeyError if unknown."""
        for folder in self.folders:
            if folder.display_path == display_path:
                return folder.index
        raise KeyError(display_path)


def _walk(directory: Directory, share: Share) -> Iterable[tuple[tuple[str, ...], Folder | Share,
                                                                 int | None]]:
    """Yield (path, node, parent position) in pre-order; parent position is relative."""
    stack: list[tuple[tuple[str, ...], Folder | Share, int | None]] = [((share.name,), share,
                                                                         None)]
    while stack:
        path, node, parent = stack.pop()
        yield path, node, parent
        for child in reversed(node.folders):
            stack.append(((*path, child.name), child, len(path)))


def resolve_folders(spec: Spec, directory: Directory) -> list[FolderRights]:
    """Given a spec, return every folder (pre-order) with inherited and own entries merged."""
    folders: list[FolderRights] = []
    for share in spec.shares:
        ancestors: list[int] = []
        for path, node, _ in _walk(directory, share):
            del ancestors[len(path) - 1:]
            parent = ancestors[-1] if ancestors else None
            inherit = getattr(node, "inherit", True)
            entries = dict(folders[parent].entries) if parent is not None and inherit else {}
            for key, level in node.access.items():
                entries[directory.resolve(key)] = level
            folder = FolderRights(len(folders), path, parent, inherit, entries,
                                  node.renamed_from)
            if parent is not None:
                folders[parent].children.append(folder.index)
            folders.append(folder)
            ancestors.append(folder.index)
    return folders


def user_levels(folders: Sequence[FolderRights], login: str, groups: Iterable[Principal],
                ) -> list[Access]:
    """Given the folders and a user's groups, return the user's access per folder.

    The plain definition, one user at a time; `resolve_rights` gives the same for everyone
    at once, faster.
    """
    user = Principal("user", login)
    group_list = list(groups)
    levels: list[Access] = []
    for folder in folders:
        entries = folder.entries
        own = entries.get(user)
        if own is not None:
            levels.append(LEVEL_TO_ACCESS[own])
            continue
        best = Level.NONE
        for group in group_list:
            level = entries.get(group)
            if level is not None and LEVEL_RANKS[level] > LEVEL_RANKS[best]:
                best = level
        levels.append(LEVEL_TO_ACCESS[best])
    return _add_traverse(folders, levels)


def _add_traverse(folders: Sequence[FolderRights], levels: list[Access]) -> list[Access]:
    """Mark ancestors of any readable folder as traverse where they give nothing."""
    reaches_below = [False] * len(folders)
    for folder in reversed(folders):
        if folder.parent is not None and (
                reaches_below[folder.index] or levels[folder.index] in (Access.READ,
                                                                        Access.WRITE)):
            reaches_below[folder.parent] = True
    return [Access.TRAVERSE if level is Access.NONE and reaches_below[index] else level
            for index, level in enumerate(levels)]


def _principal_traverse(folders: Sequence[FolderRights], access: Mapping[str, list[Access]],
                        ) -> None:
    """Fill each folder's `traverse` with the principals that must be let through."""
    granted_below: list[set[Principal]] = [set() for _ in folders]
    for folder in reversed(folders):
        if folder.parent is None:
            continue
        readable = {principal for principal, level in folder.entries.items()
                    if level is not Level.NONE}
        granted_below[folder.parent] |= readable | granted_below[folder.index]
    for folder in folders:
        folder.traverse = {principal for principal in granted_below[folder.index]
                           if folder.entries.get(principal, Level.NONE) is Level.NONE}
        # A user's own 'none' entry would hide the way to a folder their group opens.
        for principal, level in folder.entries.items():
            if (principal.kind == "user" and level is Level.NONE
                    and access.get(principal.name, [])[folder.index:folder.index + 1]
                    == [Access.TRAVERSE]):
                folder.traverse.add(principal)


# Codes per folder, one byte each, chosen so that the best of several accesses is their
# bitwise OR ("thermometer" bits): read (011) | traverse (001) = read, write (111) wins all.
# Combining a user's groups is then one OR of big integers instead of a loop per folder.
NONE_CODE, TRAVERSE_CODE, READ_CODE, WRITE_CODE = 0b000, 0b001, 0b011, 0b111
ACCESS_BY_CODE = {NONE_CODE: Access.NONE, TRAVERSE_CODE: Access.TRAVERSE,
                  READ_CODE: Access.READ, WRITE_CODE: Access.WRITE}
LEVEL_CODES = {Level.NONE: NONE_CODE, Level.READ: READ_CODE, Level.WRITE: WRITE_CODE}
READABLE = re.compile(b"[%c%c]" % (READ_CODE, WRITE_CODE))  # a byte that reads or writes


def _entry_codes(folders: Sequence[FolderRights]) -> dict[Principal, dict[int, int]]:
    """Return, per principal, the code of its entry by folder index (where it has one)."""
    codes: dict[Principal, dict[int, int]] = {}
    for folder in folders:
        for principal, level in folder.entries.items():
            codes.setdefault(principal, {})[folder.index] = LEVEL_CODES[level]
    return codes


def _with_entries(base: bytes, entries: dict[int, int]) -> bytes:
    """Return base codes with some folders' codes replaced."""
    codes = bytearray(base)
    for index, code in entries.items():
        codes[index] = code
    return bytes(codes)


def _with_traverse(parents: Sequence[int | None], base: bytes) -> bytes:
    """Given base codes (none, read, write), return them with traverse on the ancestors of
    every readable folder that gives nothing itself."""
    codes = bytearray(base)
    marked = bytearray(len(codes))
    for found in READABLE.finditer(base):  # scanning in C: most folders are skipped
        parent = parents[found.start()]
        # A marked folder's ancestors are all marked already: stop there.
        while parent is not None and not marked[parent]:
            marked[parent] = 1
            if codes[parent] == NONE_CODE:
                codes[parent] = TRAVERSE_CODE
            parent = parents[parent]
    return bytes(codes)


def _best(arrays: list[bytes], size: int) -> bytes:
    """Return the per-folder best of several code arrays (all none if there are none)."""
    combined = 0
    for array in arrays:
        combined |= int.from_bytes(array, "little")
    return combined.to_bytes(size, "little")


def resolve_rights(spec: Spec, directory: Directory | None = None) -> RightsTable:
    """Given a validated spec, return its RightsTable (the single source of who-can-what).

    Gives, for every user, what `user_levels` gives, computed per group once: with traverse
    ranked between none and read, a user's access is the best of their groups' accesses,
    unless the user is named in an access list, and then it is worked out for them alone.
    """
    directory = directory or build_directory(spec)
    folders = resolve_folders(spec, directory)
    size = len(folders)
    parents = [folder.parent for folder in folders]
    entry_codes = _entry_codes(folders)
    group_base: dict[str, bytes] = {}
    group_codes: dict[str, bytes] = {}
    for name in directory.groups:
        group_base[name] = _with_entries(bytes(size), entry_codes.get(Principal("group", name),
                                                                      {}))
        group_codes[name] = _with_traverse(parents, group_base[name])
    by_signature: dict[tuple[str, ...], bytes] = {}
    by_codes: dict[bytes, list[Access]] = {}  # users with equal access share one list
    access: dict[str, list[Access]] = {}
    for login, user in directory.users.items():
        own = entry_codes.get(Principal("user", login))
        if not user.enabled:
            codes = bytes(size)
        elif own is not None:
            base = _best([group_base[name] for name in user.groups], size)
            codes = _with_traverse(parents, _with_entries(base, own))
        else:
            signature = tuple(sorted(user.groups))
            if signature not in by_signature:
                by_signature[signature] = _best([group_codes[name] for name in signature], size)
            codes = by_signature[signature]
        if codes not in by_codes:
            by_codes[codes] = list(map(ACCESS_BY_CODE.__getitem__, codes))
        access[login] = by_codes[codes]
    _principal_traverse(folders, access)
    return RightsTable(directory, folders, access)
