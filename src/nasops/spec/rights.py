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
    """Given the folders and a user's groups, return the user's access per folder."""
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


def resolve_rights(spec: Spec, directory: Directory | None = None) -> RightsTable:
    """Given a validated spec, return its RightsTable (the single source of who-can-what)."""
    directory = directory or build_directory(spec)
    folders = resolve_folders(spec, directory)
    named_users = {principal.name for folder in folders for principal in folder.entries
                   if principal.kind == "user"}
    cache: dict[tuple[str, ...], list[Access]] = {}
    access: dict[str, list[Access]] = {}
    for login, user in directory.users.items():
        if not user.enabled:
            access[login] = [Access.NONE] * len(folders)
            continue
        groups = [Principal("group", name) for name in user.groups]
        if login in named_users:
            access[login] = user_levels(folders, login, groups)
            continue
        # Users with the same groups and no entry of their own share one computation.
        signature = tuple(sorted(user.groups))
        if signature not in cache:
            cache[signature] = user_levels(folders, login, groups)
        access[login] = cache[signature]
    _principal_traverse(folders, access)
    return RightsTable(directory, folders, access)
