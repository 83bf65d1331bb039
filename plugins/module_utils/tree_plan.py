"""Planning helpers of nasops.nas.tree: input validation, principals, renames, mount points.

Nothing here changes the file system; the rename planner only looks (through an injected
``lstat``) so every refusal is known before anything is touched.
"""

from __future__ import annotations

import grp
import posixpath
import pwd
import re
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import stat_result

from ansible_collections.nasops.nas.plugins.module_utils.acl import (
    GROUP,
    KIND_TAGS,
    LEVELS,
    UNDEFINED_ID,
    USER,
)

Lstat = Callable[[str], "stat_result | None"]
# Changes listed per share (the rest counted): a first apply over 100,000 files would
# otherwise print, and hold, 100,000 lines.
CHANGES_CAP = 500


def _path_problem(path: str) -> str | None:
    """Given a folder path relative to the share, return what is wrong with it, if anything."""
    if path == "":
        return None
    if path.startswith("/") or "\0" in path:
        return "must be relative to the share root"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "must not contain empty, '.' or '..' components"
    return None


def _rename_problem(path: str, old: object, positions: Mapping[str, int],
                    claimed: set[tuple[str, str]]) -> str | None:
    """Given a folder path and its renamed_from, return what is wrong with it, if anything."""
    parent, name = posixpath.split(path)
    if not path:
        return "the share root is renamed through share_renamed_from"
    if not isinstance(old, str) or _path_problem(old) or "/" in old or old in ("", name):
        return f"{old!r} must be a former name in the same parent"
    if (parent, old) in claimed:
        return f"{old!r}: two folders claim it"
    if posixpath.join(parent, old) in positions:
        return f"{old!r} names a folder still listed"
    claimed.add((parent, old))
    return None


def _entries(where: str, raw: object, problems: list[str]) -> list[tuple[str, str, str]]:
    """Given a folder's raw entries, return them as (kind, name, level), noting problems."""
    entries: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for number, entry in enumerate(raw if isinstance(raw, list) else []):
        item = entry if isinstance(entry, Mapping) else {}
        kind, name, level = item.get("kind"), item.get("name"), item.get("level")
        if kind not in KIND_TAGS or not isinstance(name, str) or not name or level not in LEVELS:
            problems.append(f"{where}.entries[{number}]: need kind user|group, a name and level "
                            f"{'|'.join(LEVELS)}, got {entry!r}")
        elif (kind, name) in seen:
            problems.append(f"{where}.entries[{number}]: {kind} {name!r} appears twice")
        else:
            seen.add((kind, name))
            entries.append((kind, name, level))
    if raw is not None and not isinstance(raw, list):
        problems.append(f"{where}.entries must be a list")
    return entries


def normalise_folders(folders: Sequence[Mapping[str, object]],
                      ) -> tuple[list[dict[str, object]], list[str]]:
    """Given the share's ``folders`` list from the desired state, return (folders as
    ``{path, renamed_from, entries: [(kind, name, level)]}``, problems). Extra keys are ignored."""
    result: list[dict[str, object]] = []
    problems: list[str] = []
    positions: dict[str, int] = {}
    for index, folder in enumerate(folders):
        positions.setdefault(str(folder.get("path")), index)
    claimed: set[tuple[str, str]] = set()
    for index, folder in enumerate(folders):
        where, path = f"folders[{index}]", folder.get("path")
        if not isinstance(path, str) or _path_problem(path):
            problems.append(f"{where}.path {path!r}: {_path_problem(str(path)) or 'not a string'}")
            continue
        if positions[path] != index:
            problems.append(f"{where}.path {path!r} appears twice")
        if path and positions.get(posixpath.dirname(path), -1) > index:
            problems.append(f"{where}.path {path!r} comes before its parent (not pre-order)")
        old = folder.get("renamed_from")
        problem = None if old is None else _rename_problem(path, old, positions, claimed)
        if problem:
            problems.append(f"{where}.renamed_from {problem}")
        entries = _entries(where, folder.get("entries"), problems)
        result.append({"path": path, "renamed_from": old, "entries": entries})
    return result, problems


class Principals:
    """Names ↔ ids, each resolved once; unknown names get placeholder ids above 32 bits, which
    compare as "different from anything on disk" and can never be written."""

    def __init__(self, users: Mapping[str, int] | None = None,
                 groups: Mapping[str, int] | None = None) -> None:
        self.ids: dict[tuple[int, str], int] = {}
        self.names: dict[tuple[int, int], str] = {}
        self.unknown: list[str] = []
        # Tables read from another machine (a NAS nasops runs no Python on) replace this
        # machine's account database: names resolve there, not on the controller.
        self.tables = None if users is None or groups is None else {
            USER: dict(users), GROUP: dict(groups)}
        self.reverse = None if self.tables is None else {
            tag: {number: name for name, number in sorted(table.items(), reverse=True)}
            for tag, table in self.tables.items()}

    def _lookup_id(self, tag: int, name: str) -> int:
        if self.tables is not None:
            return self.tables[tag][name]
        return pwd.getpwnam(name).pw_uid if tag == USER else grp.getgrnam(name).gr_gid

    def _lookup_name(self, tag: int, number: int) -> str:
        if self.reverse is not None:
            return self.reverse[USER if tag == USER else GROUP][number]
        return pwd.getpwuid(number).pw_name if tag == USER else grp.getgrgid(number).gr_name

    def resolve(self, kind: str, name: str) -> int:
        """Given a kind (user|group) and a name, return its id (a placeholder if unknown)."""
        tag = KIND_TAGS[kind]
        if (tag, name) not in self.ids:
            try:
                number = self._lookup_id(tag, name)
            except KeyError:
                number = UNDEFINED_ID + 1 + len(self.unknown)
                self.unknown.append(f"{kind} {name}")
            self.ids[tag, name] = number
            self.names[tag, number] = name
        return self.ids[tag, name]

    def name_of(self, tag: int, number: int) -> str:
        """Given an ACL entry tag and id, return the user or group name (or the number)."""
        if (tag, number) not in self.names:
            try:
                name = self._lookup_name(tag, number)
            except (KeyError, OverflowError):
                name = str(number)
            self.names[tag, number] = name
        return self.names[tag, number]


def prefixes_of(paths: Iterable[str]) -> set[str]:
    """Given managed folder paths, return the folders on the way to them (the share's root
    included): walked even where nothing governs them."""
    prefixes = {""}
    for rel in paths:
        parent = posixpath.dirname(rel)
        while parent and parent not in prefixes:
            prefixes.add(parent)
            parent = posixpath.dirname(parent)
    return prefixes


@dataclass(frozen=True)
class Mount:
    """One line of /proc/self/mountinfo: where, its options, its file system's type and
    its super block's options."""

    point: str
    options: tuple[str, ...]
    kind: str
    super_options: tuple[str, ...]


def mounts(text: str) -> list[Mount]:
    """Given /proc/self/mountinfo text (this machine's, or a NAS's), return its mounts."""
    found = []
    # Lines end at \n and fields at a space only: the kernel escapes space, tab, newline and
    # backslash in paths as \ooo; any other blank (U+2028, NBSP) is part of a name.
    for line in text.split("\n"):
        fields = line.split(" ")
        if len(fields) < 7 or "-" not in fields[6:]:
            continue
        separator = fields.index("-", 6)
        tail = [*fields[separator + 1:], "", "", ""]
        point = re.sub(r"\\([0-7]{3})", lambda match: chr(int(match[1], 8)), fields[4])
        found.append(Mount(point, tuple(fields[5].split(",")), tail[0],
                           tuple(tail[2].split(","))))
    return found


def parse_mountinfo(text: str, root: str) -> set[str]:
    """Given /proc/self/mountinfo text and a directory, return the mount points below it."""
    below = root.rstrip("/") + "/"
    return {mount.point for mount in mounts(text) if mount.point.startswith(below)}


@dataclass
class TreePlan:
    """Where every managed folder is now, and what must happen before the walk."""

    actual: dict[str, str]
    share_rename: str | None = None
    renames: list[tuple[str, str, str]] = field(default_factory=list)  # (parent, old, new)
    missing: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def where(self, rel: str) -> str:
        """Given a logical folder path, return where it is now (before renames)."""
        if rel not in self.actual:
            parent, name = posixpath.split(rel)
            self.actual[rel] = posixpath.join(self.where(parent), name)
        return self.actual[rel]


def _rename(plan: TreePlan, old: str, new: str, lstat: Lstat, refuse_missing: bool,
            ) -> tuple[bool, stat_result | None]:
    """Given a rename from ``old`` to ``new`` (paths now), return (rename needed, stat of the
    folder wherever it is), noting refusals and warnings in the plan."""
    old_st, new_st = lstat(old), lstat(new)
    if old_st and new_st:
        plan.refusals.append(f"refused: rename conflict: both {old} and {new} exist")
    elif old_st:
        return True, old_st
    elif not new_st and refuse_missing:
        plan.refusals.append(f"refused: rename source {old} not found (nor {new})")
    elif not new_st:
        plan.warnings.append(f"rename source {old} not found; {new} is created instead")
    return False, new_st


def plan_tree(root: str, old_root: str | None, folders: Sequence[Mapping[str, object]],
              lstat: Lstat, refuse_missing: bool = False) -> TreePlan:
    """Given the share root, its former path, normalised folders and an lstat (None when
    missing), return the plan: renames in pre-order, missing folders, refusals."""
    plan = TreePlan(actual={"": root})
    root_st = lstat(root)
    if old_root:
        needed, root_st = _rename(plan, old_root, root, lstat, refuse_missing)
        if needed:
            plan.share_rename = plan.actual[""] = old_root
    if root_st and not stat.S_ISDIR(root_st.st_mode):
        plan.refusals.append(f"refused: {plan.actual['']} exists and is not a directory")
    for folder in folders:
        rel, old_name = str(folder["path"]), folder["renamed_from"]
        if not rel:
            continue
        parent, name = posixpath.split(rel)
        here = plan.where(parent)
        folder_st = lstat(posixpath.join(here, name))
        if isinstance(old_name, str):
            needed, folder_st = _rename(plan, posixpath.join(here, old_name),
                                        posixpath.join(here, name), lstat, refuse_missing)
            if needed:
                plan.renames.append((parent, old_name, name))
                plan.actual[rel] = posixpath.join(here, old_name)
        if folder_st and not stat.S_ISDIR(folder_st.st_mode):
            plan.refusals.append(f"refused: {plan.where(rel)} exists and is not a directory")
    plan.missing = [str(folder["path"]) for folder in folders
                    if lstat(plan.where(str(folder["path"]))) is None]
    return plan
