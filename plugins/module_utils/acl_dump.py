"""Folder trees read from ``getfacl`` dumps: parse them, plan a share, write ``setfacl`` input.

For a NAS nasops runs no Python on (QTS): the controller reads each share as two dumps (its
folders, its files), plans with the tree engine's mapping (acl.py, tree_plan.py: the same
rights, inheritance and renames as on Debian) and writes one ``setfacl --restore`` text.
Nothing here touches a file system.
"""

from __future__ import annotations

import posixpath
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import stat_result

from ansible_collections.nasops.nas.plugins.module_utils.acl import (
    EXECUTE,
    GROUP,
    GROUP_OBJ,
    KIND_TAGS,
    MASK,
    OTHER,
    READ,
    UNDEFINED_ID,
    USER,
    USER_OBJ,
    WRITE,
    Acl,
    acl_diff,
    effective_acl,
    file_acl,
    inner_dir_acls,
    managed_dir_acls,
    owner_perm,
)
from ansible_collections.nasops.nas.plugins.module_utils.tree_plan import (
    CHANGES_CAP,
    Principals,
    TreePlan,
    plan_tree,
    prefixes_of,
)

TAGS = {("user", False): USER_OBJ, ("user", True): USER, ("group", False): GROUP_OBJ,
        ("group", True): GROUP, ("mask", False): MASK, ("other", False): OTHER}
TAG_WORDS = {tag: word for (word, _named), tag in TAGS.items()}
# Debian marks the folders nasops manages with an xattr; QTS's userland may have no xattr
# tool, so there the mark is an ACL entry: a group id no account has, with no right. It
# grants nothing, travels with the folder when people rename or move it (an ACL is the
# folder's own), and is not inherited (default ACLs never hold it). A folder marked but no
# longer in the spec is never widened, as on Debian.
MARKER_ID = 0x7FFFFFFE
MARKER = (GROUP, MARKER_ID, 0)
MARKER_NAME = "nasops-managed-mark"
GUARD_CAP = 20  # folders named in the first apply's refusal, the rest in one line
PERMS = re.compile(r"^[r-][w-][x-]\Z")
ESCAPE = re.compile(rb"\\([0-7]{3}|\\)")  # getfacl: \ooo, and \\ for a backslash


class DumpError(ValueError):
    """A dump nasops cannot read: the message says where."""


@dataclass(frozen=True)
class Item:
    """One folder or file of a dump: its path, owner and ACLs (``default`` None: a file)."""

    path: str
    owner: int
    access: Acl
    default: Acl | None
    group: int = -1
    """The owning group (-1: not read)."""


def unescape(text: str) -> str:
    """Given a name as getfacl prints it (``\\ooo`` for bytes it will not print, ``\\\\`` for
    a backslash), return it (bytes that are not UTF-8 kept as surrogates, as os.fsdecode
    does)."""
    raw = ESCAPE.sub(
        lambda match: b"\\" if match[1] == b"\\" else bytes([int(match[1], 8) & 0xFF]),
        text.encode("utf-8", "surrogateescape"))
    return raw.decode("utf-8", "surrogateescape")


def _perm(text: str, where: str) -> int:
    if not PERMS.match(text):
        raise DumpError(f"{where}: permissions {text!r} are not rwx")
    return (READ if text[0] == "r" else 0) | (WRITE if text[1] == "w" else 0) | (
        EXECUTE if text[2] == "x" else 0)


def _entry(line: str, where: str) -> tuple[bool, tuple[int, int, int]]:
    """Given one ACL line (``default:user:1000:rwx``, an ``#effective`` note after it), return
    (is it a default entry, the entry)."""
    fields = line.split("#", 1)[0].strip().split(":")
    default = fields[0] == "default"
    fields = fields[1:] if default else fields
    if len(fields) != 3 or (fields[0], bool(fields[1])) not in TAGS:
        raise DumpError(f"{where}: {line!r} is not an ACL entry")
    tag = TAGS[fields[0], bool(fields[1])]
    if fields[1] and not fields[1].isdigit():
        raise DumpError(f"{where}: {line!r} names an account; nasops reads numeric dumps")
    number = int(fields[1]) if fields[1] else UNDEFINED_ID
    if number > UNDEFINED_ID:
        raise DumpError(f"{where}: {line!r}: id out of range")
    return default, (tag, number, _perm(fields[2], where))


def _blocks(lines: Sequence[str]) -> list[list[str]]:
    """Given a dump's lines, return its blocks of lines. Only "\n" ends a line: getfacl
    escapes it in names, not other characters Python's splitlines() would break on (U+2028,
    \x0b)."""
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip(" \t"):
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [block for block in blocks if block]


def parse_dump(text: str | Sequence[str], folders: bool, label: str = "dump") -> list[Item]:
    """Given ``getfacl -p -n`` output (text, or its lines split at newlines), return its
    items (folders carry their default ACL, empty when there is none); ``label`` names the
    dump in errors."""
    items: list[Item] = []
    # A share holds few distinct ACL lines and ACLs: each is kept once, shared by every item
    # that has it (a dump of 100,000 files would otherwise hold a million small tuples).
    entries: dict[str, tuple[bool, tuple[int, int, int]]] = {}
    acls: dict[Acl, Acl] = {}
    for number, lines in enumerate(_blocks(text.split("\n") if isinstance(text, str)
                                           else text)):
        where = f"{label}, block {number + 1}"
        if not lines[0].startswith("# file: "):
            raise DumpError(f"{where}: does not start with '# file:'")
        path = unescape(lines[0][len("# file: "):])
        owner, group, access, default = None, -1, [], []
        for line in lines[1:]:
            if line.startswith("# owner: "):
                value = line[len("# owner: "):]
                owner = int(value) if value.isdigit() else None
            elif line.startswith("# group: "):
                value = line[len("# group: "):]
                group = int(value) if value.isdigit() else -1
            elif not line.startswith("#"):
                if line not in entries:
                    entries[line] = _entry(line, f"{where} ({path!r})")
                is_default, entry = entries[line]
                (default if is_default else access).append(entry)
        if owner is None or not access or (default and not folders):
            raise DumpError(f"{where} ({path!r}): no numeric owner, no ACL, or a file with a "
                            "default ACL")
        access_acl, default_acl = tuple(sorted(access)), tuple(sorted(default))
        items.append(Item(posixpath.normpath(path), owner,
                          acls.setdefault(access_acl, access_acl),
                          acls.setdefault(default_acl, default_acl) if folders else None,
                          group))
    return items


def acl_option(access: Acl, default: Acl | None) -> str:
    """Given an ACL (and a folder's default ACL), return ``setfacl --set`` text; --set
    replaces both whole (a folder's default is always given: set without one removes it)."""
    def entries(prefix: str, acl: Acl) -> list[str]:
        return [f"{prefix}{TAG_WORDS[tag]}:{'' if number == UNDEFINED_ID else number}:"
                f"{'r' if perm & READ else '-'}{'w' if perm & WRITE else '-'}"
                f"{'x' if perm & EXECUTE else '-'}" for tag, number, perm in acl]
    return ",".join(entries("", access) + entries("default:", default or ()))


def set_groups(writes: Sequence[Item]) -> list[tuple[str, list[str]]]:
    """Given the items to write, return (``--set`` text, paths) with every path sharing one
    ACL in one group: a share has few distinct ACLs, so one setfacl call writes thousands."""
    groups: dict[str, list[str]] = {}
    for item in writes:
        groups.setdefault(acl_option(item.access, item.default), []).append(item.path)
    return list(groups.items())


@dataclass
class SharePlan:
    """What one share needs: the tree plan (renames, missing folders, refusals), the changes in
    plan's words, and the ACLs to write."""

    tree: TreePlan
    changes: list[dict[str, str]] = field(default_factory=list)
    truncated: int = 0
    """Changes made but not listed (beyond CHANGES_CAP)."""
    writes: list[Item] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("folders", "files", "managed", "unmanaged", "acl_written"), 0))


def _fake_stat(directory: bool) -> stat_result:
    return stat_result(((stat.S_IFDIR if directory else stat.S_IFREG) | 0o700,
                        0, 0, 1, 0, 0, 0, 0, 0, 0))


def _depth_key(item: Item) -> tuple[str, ...]:
    return tuple(item.path.split("/"))


def marked(access: Acl) -> Acl:
    """Given a managed folder's access ACL, return it with nasops' mark and the mask named
    entries need: with no other named entry the mask grants nothing (---), so the folder's
    mode keeps no group bit a copy keeping only modes could hand out."""
    if any(tag == MASK for tag, _number, _perm in access):
        return tuple(sorted({*access, MARKER}))
    mask = 0
    for tag, _number, perm in access:
        mask |= perm if tag in (USER, GROUP_OBJ, GROUP) else 0
    return tuple(sorted({*access, MARKER, (MASK, UNDEFINED_ID, mask)}))


def widened(before: Acl, after: Acl, owner: int = -1, group: int = -1,
            everyone: frozenset[int] = frozenset()) -> list[tuple[int, int]]:
    """Given two ACLs (the item's owner and owning group, and the ids of groups holding every
    person, QTS's `everyone`), return the (tag, id) of each person or group ``after`` grants
    more than ``before`` did, masks applied. What reached everyone before (``other::``, a
    group of everyone) counts as had by whoever had no entry of their own; a named entry
    that grants less (a deny) counts as it is, and one ``after`` drops widens its holder
    when what reaches everyone then grants more."""
    def grants(acl: Acl) -> tuple[dict[tuple[int, int], int], int, int]:
        had = {(tag, number): perm for tag, number, perm in effective_acl(acl)}
        if owner >= 0:  # the owner's and owning group's own entries are theirs by name
            had.setdefault((USER, owner), had.get((USER_OBJ, UNDEFINED_ID), 0))
        if group >= 0:
            had.setdefault((GROUP, group), had.get((GROUP_OBJ, UNDEFINED_ID), 0))
        # A member of any group entry is judged by the group entries alone (acl(5)): a group
        # of everyone reaches them, other:: does not.
        all_groups = 0
        for number in everyone:
            all_groups |= had.get((GROUP, number), 0)
        return had, all_groups, had.get((OTHER, UNDEFINED_ID), 0) | all_groups
    had, all_groups, anyone = grants(before)
    has, _all_groups, reach = grants(after)
    found = [(tag, number) for (tag, number), perm in has.items() if tag in (USER, GROUP)
             and perm & ~(had.get((tag, number), anyone) | (all_groups if tag == GROUP else 0))]
    found += [(tag, number) for (tag, number), perm in had.items()
              if tag in (USER, GROUP) and (tag, number) not in has and reach & ~perm]
    return found


def is_marked(access: Acl) -> bool:
    return any(tag == GROUP and number == MARKER_ID for tag, number, _perm in access)


class _Planner:
    """Walk a share's dumps in the tree engine's order and decide each item's ACLs."""

    def __init__(self, root: str, folders: Sequence[Mapping[str, object]],
                 principals: Principals, tree: TreePlan, plan: SharePlan) -> None:
        self.root, self.principals, self.tree, self.plan = root, principals, tree, plan
        self.managed: dict[str, tuple[Acl, Acl]] = {}
        for folder in folders:
            entries = folder["entries"]
            resolved = [(KIND_TAGS[kind], principals.resolve(kind, name), level)
                        for kind, name, level in (entries if isinstance(entries, list) else [])]
            access, default = managed_dir_acls(resolved)
            self.managed[str(folder["path"])] = (marked(access), default)
        self.prefixes = prefixes_of(self.managed)
        self.adopted = True  # set by plan_share from the share's top folder
        self.guarded = 0
        tables = principals.tables or {}
        self.everyone = frozenset(number for name, number in tables.get(GROUP, {}).items()
                                  if name == "everyone")  # QTS's group of every person
        self.granted: dict[Acl, Acl] = {}
        # Where renamed folders are now → their name in the spec (walked as the new names).
        self.logical_of = {where: rel for rel, where in tree.actual.items()}

    def logical(self, path: str) -> str | None:
        """Given a path of the dump, return its folder path in the spec's names (None: not in
        the share)."""
        top = self.tree.actual[""]
        if path == top:
            return ""
        if not path.startswith(top.rstrip("/") + "/"):
            return None
        rel, where = "", top
        for part in path[len(top.rstrip("/")) + 1:].split("/"):
            where = posixpath.join(where, part)
            rel = self.logical_of.get(where, posixpath.join(rel, part) if rel else part)
        return rel

    def effective(self, acl: Acl) -> Acl:
        """What an ACL grants, each distinct ACL worked out once (a share has few)."""
        if acl not in self.granted:
            self.granted[acl] = effective_acl(acl)
        return self.granted[acl]

    def compare(self, item: Item, rel: str, access: Acl, default: Acl | None) -> None:
        before_default = item.default
        access_differs = self.effective(item.access) != self.effective(access)
        default_differs = default is not None and (
            self.effective(before_default or ()) != self.effective(default))
        if not access_differs and not default_differs:
            return
        self.plan.counts["acl_written"] += 1
        self.plan.writes.append(Item(item.path, item.owner, access, default))
        if len(self.plan.changes) >= CHANGES_CAP:  # written, counted, not described
            self.plan.truncated += 1
            return
        name_of = self.principals.name_of
        lines = acl_diff(effective_acl(item.access), effective_acl(access), name_of)
        lines += acl_diff(effective_acl(before_default or ()), effective_acl(default or ()),
                          name_of, "default:")
        shown = [line for line in lines if MARKER_NAME not in line]
        self.plan.changes.append({"kind": "acl", "target": rel or ".", "detail": ", ".join(
            shown or ["mark as managed"]), "what": "file" if default is None else "folder"})

    def folders(self, items: Sequence[Item]) -> dict[str, Acl | None]:
        """Decide every folder; return the default ACL governing each walked folder's content."""
        governing: dict[str, Acl | None] = {}
        for item in sorted(items, key=_depth_key):
            rel = self.logical(item.path)
            if rel is None or (rel and posixpath.dirname(rel) not in governing):
                continue  # outside the share, or below a folder the walk does not enter
            above = governing.get(posixpath.dirname(rel)) if rel else None
            self.plan.counts["folders"] += 1
            if rel in self.managed:
                self.plan.counts["managed"] += 1
                access, default = self.managed[rel]
                self.compare(item, rel, access, default)
                governing[rel] = default
            elif is_marked(item.access):
                # Left the spec (or renamed, moved by people): never widened, its content
                # left alone too (tree_engine.Converger.visit_dir does the same).
                self.plan.counts["unmanaged"] += 1
                self.plan.changes.append({"kind": "unmanaged", "target": rel, "detail":
                                          "marked managed but not in the spec: kept as is"})
                if rel in self.prefixes:
                    governing[rel] = None
            elif above is None:
                if rel in self.prefixes:
                    governing[rel] = None
            else:
                access, default = inner_dir_acls(above)
                self.adoption_guard(item, rel, access, default)
                self.compare(item, rel, access, default)
                governing[rel] = above
        return governing

    def adoption_guard(self, item: Item, rel: str, access: Acl, default: Acl) -> None:
        """On a share nasops has not marked yet (its first apply, on a NAS that already holds
        data), refuse to widen a folder whose rights were set by hand: give it its rights in
        the spec, or remove them, first. Afterwards, as on Debian, folders take their
        parent's rights."""
        if self.adopted:
            return
        # Without a default ACL, what is made inside takes modes: its access ACL says enough.
        gained = widened(item.access, access, item.owner, item.group, self.everyone) + (
            widened(item.default, default, item.owner, item.group, self.everyone)
            if item.default else [])
        if not gained:
            return
        self.guarded += 1
        if self.guarded > GUARD_CAP:
            return
        names = sorted({self.principals.name_of(tag, number) for tag, number in gained})
        self.plan.tree.refusals.append(
            f"refused: {rel} has rights set by hand that the first apply would widen "
            f"(for {', '.join(names)}): list it in the spec with its rights, or remove those "
            "rights, first" if self.guarded < GUARD_CAP else
            "refused: more folders have rights set by hand that the first apply would widen "
            "(not listed)")

    def files(self, items: Sequence[Item], governing: Mapping[str, Acl | None]) -> None:
        for item in items:
            rel = self.logical(item.path)
            above = governing.get(posixpath.dirname(rel)) if rel else None
            if above is None:
                continue
            self.plan.counts["files"] += 1
            self.compare(item, rel, file_acl(above, owner_perm(item.access)), None)


def plan_share(root: str, folders: Sequence[Mapping[str, object]], principals: Principals,
               directories: Sequence[Item], files: Sequence[Item], *,
               refuse_missing: bool = False) -> SharePlan:
    """Given a share's root, its normalised folders (tree_plan.normalise_folders), principals
    resolved on the NAS and the share's two dumps, return what converging it takes. The dumps
    are read as the tree engine walks in check mode: renamed folders under their new names."""
    kinds = {item.path: True for item in directories}
    kinds.update({item.path: False for item in files})
    twice = len(kinds) != len(directories) + len(files)

    def lstat(path: str) -> stat_result | None:
        directory = kinds.get(posixpath.normpath(path))
        return None if directory is None else _fake_stat(directory)

    tree = plan_tree(root, None, folders, lstat, refuse_missing)
    if twice:  # a name the dump could not tell apart from another: nothing is guessed
        tree.refusals.append(f"refused: the NAS listed a path of {root} twice")
    principals.names.setdefault((GROUP, MARKER_ID), MARKER_NAME)
    plan = SharePlan(tree)
    for parent, old, new in tree.renames:
        plan.changes.append({"kind": "rename", "target": posixpath.join(parent, new),
                             "detail": f"from {posixpath.join(parent, old)}"})
    planner = _Planner(root, folders, principals, tree, plan)
    top = next((item for item in directories if item.path == posixpath.normpath(root)), None)
    planner.adopted = top is None or is_marked(top.access)
    for rel in tree.missing:
        access, _default = planner.managed[rel]
        named = [f"{'user' if tag == USER else 'group'}:{principals.name_of(tag, number)}"
                 for tag, number, _perm in access
                 if tag in (USER, GROUP) and (tag, number, _perm) != MARKER]
        plan.changes.append({"kind": "folder", "target": rel or ".",
                             "detail": "create: " + (", ".join(named) or "no named entries")})
    planner.files(files, planner.folders(directories))
    return plan


__all__ = ["MARKER_ID", "DumpError", "Item", "SharePlan", "acl_option",
           "parse_dump", "plan_share", "set_groups", "unescape"]
