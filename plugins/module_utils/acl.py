"""POSIX ACL mapping of nasops: pure functions, no file system access.

An ACL is a normalised tuple of entries ``(tag, id, perm)`` sorted by tag then id, as the kernel
stores them, so two ACLs are equal exactly when they grant the same rights. Ids of entries without
a qualifier (``user::``, ``group::``, ``mask::``, ``other::``) are ``UNDEFINED_ID``.

The mapping is the contract's table (docs/provisioning-contract.md, "POSIX mapping").
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable

ACCESS_XATTR = "system.posix_acl_access"
DEFAULT_XATTR = "system.posix_acl_default"
ACL_VERSION = 2
UNDEFINED_ID = 0xFFFFFFFF
USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
NAMED_TAGS = (USER, GROUP)
MASKED_TAGS = (USER, GROUP_OBJ, GROUP)  # the entries the mask limits (acl(5))
READ, WRITE, EXECUTE = 4, 2, 1
ALL = READ | WRITE | EXECUTE

_HEADER = struct.Struct("<I")
_ENTRY = struct.Struct("<HHI")

# Level → permission on a managed directory (access ACL, default ACL). Traverse has no default
# entry: content created inside must not inherit a right that only lets people pass through.
DIR_ACCESS_PERMS = {"write": ALL, "read": READ | EXECUTE, "traverse": READ | EXECUTE, "none": 0}
DIR_DEFAULT_PERMS = {"write": ALL, "read": READ | EXECUTE, "none": 0}
LEVELS = tuple(DIR_ACCESS_PERMS)
KIND_TAGS = {"user": USER, "group": GROUP}
TAG_PREFIXES = {USER_OBJ: "user", USER: "user", GROUP_OBJ: "group", GROUP: "group",
                MASK: "mask", OTHER: "other"}

Entry = tuple[int, int, int]
Acl = tuple[Entry, ...]
NameOf = Callable[[int, int], str]


def decode_acl(data: bytes) -> Acl:
    """Given the kernel's binary xattr value of an ACL, return the normalised ACL."""
    if len(data) < _HEADER.size or (len(data) - _HEADER.size) % _ENTRY.size:
        raise ValueError(f"ACL xattr of {len(data)} bytes is not a whole number of entries")
    (version,) = _HEADER.unpack_from(data)
    if version != ACL_VERSION:
        raise ValueError(f"ACL xattr version {version}, expected {ACL_VERSION}")
    return tuple(sorted(
        (tag, acl_id, perm) for tag, perm, acl_id in _ENTRY.iter_unpack(data[_HEADER.size:])
    ))


def encode_acl(acl: Iterable[Entry]) -> bytes:
    """Given an ACL, return the kernel's binary xattr value (entries sorted by tag then id)."""
    parts = [_HEADER.pack(ACL_VERSION)]
    for tag, acl_id, perm in sorted(acl):
        if not 0 <= acl_id <= UNDEFINED_ID:
            raise ValueError(f"ACL entry id {acl_id} cannot be written (unresolved principal)")
        parts.append(_ENTRY.pack(tag, perm, acl_id))
    return b"".join(parts)


def acl_from_mode(mode: int) -> Acl:
    """Given a st_mode without ACL xattr, return the equivalent minimal ACL."""
    return ((USER_OBJ, UNDEFINED_ID, (mode >> 6) & ALL),
            (GROUP_OBJ, UNDEFINED_ID, (mode >> 3) & ALL),
            (OTHER, UNDEFINED_ID, mode & ALL))


def owner_perm(acl: Acl) -> int:
    """Given an access ACL, return the permission of its owner (``user::``) entry."""
    return next((perm for tag, _qualifier, perm in acl if tag == USER_OBJ), 0)


def _build(owner: int, named: Iterable[Entry], mask: int | None) -> Acl:
    """Given owner perm, named entries and mask (None: none), return an ACL with group::--- and
    other::---. A mask without named entries would turn into the owning group's mode bits, so
    it is only present next to named entries."""
    entries = [(USER_OBJ, UNDEFINED_ID, owner), (GROUP_OBJ, UNDEFINED_ID, 0),
               (OTHER, UNDEFINED_ID, 0), *named]
    if entries[3:] and mask is not None:
        entries.append((MASK, UNDEFINED_ID, mask))
    return tuple(sorted(entries))


def managed_dir_acls(principals: Iterable[tuple[int, int, str]]) -> tuple[Acl, Acl]:
    """Given resolved ``(tag, id, level)`` entries of a managed folder, return its
    (access ACL, default ACL): user::rwx, group::---, other::---, mask::rwx."""
    principals = list(principals)
    access = [(tag, acl_id, DIR_ACCESS_PERMS[level]) for tag, acl_id, level in principals]
    default = [(tag, acl_id, DIR_DEFAULT_PERMS[level]) for tag, acl_id, level in principals
               if level in DIR_DEFAULT_PERMS]
    return _build(ALL, access, ALL), _build(ALL, default, ALL)


def inner_dir_acls(managed_default: Acl) -> tuple[Acl, Acl]:
    """Given the default ACL of the nearest managed folder, return (access, default) of a folder
    people made inside it: exactly what inheritance gives a new directory."""
    return managed_default, managed_default


def file_acl(managed_default: Acl, owner: int) -> Acl:
    """Given the default ACL of the nearest managed folder and the file owner's current perm,
    return the file's access ACL: named entries without x unless the owner has x, owner kept,
    group::---, other::---, mask = union of the named entries."""
    keep = ALL if owner & EXECUTE else READ | WRITE
    named = [(tag, acl_id, perm & keep) for tag, acl_id, perm in managed_default
             if tag in NAMED_TAGS]
    mask = 0
    for _tag, _qualifier, perm in named:
        mask |= perm
    return _build(owner, named, mask)


def effective_acl(acl: Acl) -> Acl:
    """Given an ACL, return what it grants: every entry the mask limits (named users, the owning
    group, named groups) masked, and the mask itself left out.

    Two ACLs with the same effective ACL give every person the same rights. A file saved over
    SMB, written by Syncthing or copied with ``cp`` inherits the folder's default ACL with the
    directories' ``rwx`` in its named entries and the file's mode in the mask (``rw-``): the
    entries read differently from the contract's file ACL, the rights are the same, and that is
    not drift (docs/provisioning-contract.md, "What counts as drift")."""
    mask = next((perm for tag, _qualifier, perm in acl if tag == MASK), ALL)
    return tuple((tag, acl_id, perm & mask if tag in MASKED_TAGS else perm)
                 for tag, acl_id, perm in acl if tag != MASK)


def perm_text(perm: int) -> str:
    """Given a permission, return it as ``rwx`` text."""
    return ("r" if perm & READ else "-") + ("w" if perm & WRITE else "-") + (
        "x" if perm & EXECUTE else "-")


def entry_key_text(tag: int, acl_id: int, name_of: NameOf) -> str:
    """Given an entry's tag and id, return its getfacl-style key, e.g. ``group:staff``."""
    qualifier = name_of(tag, acl_id) if tag in NAMED_TAGS else ""
    return f"{TAG_PREFIXES[tag]}:{qualifier}"


def acl_text(acl: Acl, name_of: NameOf, prefix: str = "") -> list[str]:
    """Given an ACL, return its getfacl-style lines (``prefix`` is ``default:`` for defaults)."""
    return [f"{prefix}{entry_key_text(tag, acl_id, name_of)}:{perm_text(perm)}"
            for tag, acl_id, perm in acl]


def acl_diff(before: Acl, after: Acl, name_of: NameOf, prefix: str = "") -> list[str]:
    """Given current and desired ACLs, return one ``key:old -> new`` text per entry that
    differs, ``absent`` standing for a missing entry."""
    old = {(tag, acl_id): perm for tag, acl_id, perm in before}
    new = {(tag, acl_id): perm for tag, acl_id, perm in after}
    lines = []
    for key in sorted(old.keys() | new.keys()):
        if old.get(key) != new.get(key):
            was = perm_text(old[key]) if key in old else "absent"
            will = perm_text(new[key]) if key in new else "absent"
            lines.append(f"{prefix}{entry_key_text(*key, name_of)}:{was} -> {will}")
    return lines
