"""The folder tree engine: converge (or, in check mode, compare) one share's folder tree
and POSIX ACLs in one pass. Standard library only: the `nasops.nas.tree` module runs it
through Ansible, the NAS's drift check imports it from the nasops release."""

from __future__ import annotations

import errno
import os
import posixpath
import pwd
from collections.abc import Callable

from ansible_collections.nasops.nas.plugins.module_utils.acl import (
    ACCESS_XATTR,
    DEFAULT_XATTR,
    KIND_TAGS,
    Acl,
    acl_diff,
    acl_from_mode,
    acl_text,
    decode_acl,
    effective_acl,
    encode_acl,
    file_acl,
    inner_dir_acls,
    managed_dir_acls,
    owner_perm,
)
from ansible_collections.nasops.nas.plugins.module_utils.forget import (
    KEPT,
    MARKER_XATTR,
)
from ansible_collections.nasops.nas.plugins.module_utils.forget import MANAGED as MARKER
from ansible_collections.nasops.nas.plugins.module_utils.forget import read_xattr as _xattr
from ansible_collections.nasops.nas.plugins.module_utils.tree_plan import (
    CHANGES_CAP,
    Principals,
    normalise_folders,
    parse_mountinfo,
    plan_tree,
    prefixes_of,
)

ERRORS_CAP = 20
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
ROOT_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC  # the share path itself may use links
COUNT_KEYS = ("folders", "files", "symlinks_skipped", "special_skipped", "mounts_skipped",
              "managed", "unmanaged", "kept", "acl_written")
# Distinct ACL values seen in one run are few (one per governing folder and owner mode), so
# decoding each once makes a no-op walk cost about one getxattr per file. Bounded anyway.
CACHE_CAP = 4096
UNKNOWN_WARNING = ": would be created by nas_accounts"


class TreeError(Exception):
    """The share cannot be converged; the message says why (``refused:`` for refusals)."""


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


class Converger:
    """Converge one share: validate everything, then rename, create and walk once."""

    def __init__(self, path: str, folders: list[dict], share_renamed_from: str | None = None,
                 *, owner: str = "root", create: bool = True, check_mode: bool = False,
                 missing_rename_source: str = "create",
                 principals: Principals | None = None, absolute_targets: bool = False) -> None:
        if not posixpath.isabs(path) or not posixpath.isabs(share_renamed_from or "/"):
            raise TreeError("path and share_renamed_from must be absolute")
        self.root = posixpath.normpath(path)
        self.old_root = share_renamed_from and posixpath.normpath(share_renamed_from)
        self.owner, self.create, self.check = owner, create, check_mode
        self.absolute_targets = absolute_targets
        self.refuse_missing = missing_rename_source == "refuse"
        self.folders, problems = normalise_folders(folders)
        if problems:
            more = f"; and {len(problems) - ERRORS_CAP} more" if len(problems) > ERRORS_CAP else ""
            raise TreeError("invalid folders: " + "; ".join(problems[:ERRORS_CAP]) + more)
        self.principals = principals or Principals()
        self.unknown_before = len(self.principals.unknown)
        self.managed: dict[str, tuple[Acl, Acl]] = {}
        for folder in self.folders:
            resolved = [(KIND_TAGS[kind], self.principals.resolve(kind, name), level)
                        for kind, name, level in folder["entries"]]
            self.managed[folder["path"]] = managed_dir_acls(resolved)
        self.prefixes = prefixes_of(self.managed)
        self.changes: list[dict] = []
        self.truncated = 0
        self.changed = False
        self.counts = dict.fromkeys(COUNT_KEYS, 0)
        self.warnings: list[str] = []
        self.errors: list[str] = []
        # One small before/after pair per listed change: Ansible diffs each pair on its own,
        # where one text for the whole tree would cost it time quadratic in the changes.
        self.diff: list[dict[str, str]] = []
        self.created: set[str] = set()
        self.owner_id = -1
        self.decoded: dict[bytes, Acl] = {}
        self.file_acls: dict[tuple[Acl, int], Acl] = {}
        self.granted: dict[Acl, Acl] = {}

    def note(self, kind: str, rel: str, detail: str, before: str = "", after: str = "") -> None:
        """Record one change (capped); every kind but ``unmanaged`` makes the run changed."""
        self.changed = self.changed or kind != "unmanaged"
        if len(self.changes) >= CHANGES_CAP:
            self.truncated += 1
            return
        if self.absolute_targets:
            target = posixpath.join(self.root, rel) if rel else self.root
        else:
            target = rel or "."
        self.changes.append({"kind": kind, "target": target, "detail": detail})
        if before or after:
            self.diff.append({"before_header": target, "after_header": target,
                              "before": before and before + "\n", "after": after and after + "\n"})

    def acls_text(self, access: Acl, default: Acl | None) -> str:
        name_of = self.principals.name_of
        return "\n".join(acl_text(access, name_of) + acl_text(default or (), name_of, "default:"))

    def plan(self) -> None:
        """Check principals, owner and renames; raise TreeError listing every refusal before
        anything is touched."""
        unknown = self.principals.unknown[self.unknown_before:]
        if unknown:
            names = ", ".join(unknown)
            if not self.check:
                raise TreeError(f"unknown users/groups: {names}; nas_accounts must create them "
                                "before the shares are converged")
            self.warnings.append(names + UNKNOWN_WARNING)
        try:
            self.owner_id = pwd.getpwnam(self.owner).pw_uid
        except KeyError as error:
            if not self.check:
                raise TreeError(f"owner {self.owner!r} does not exist") from error
        self.tree = plan_tree(self.root, self.old_root, self.folders, _lstat, self.refuse_missing)
        self.warnings += self.tree.warnings
        if self.tree.refusals:
            raise TreeError("; ".join(self.tree.refusals))
        if self.tree.share_rename:
            self.note("rename", "", f"from {self.tree.share_rename}")
        for parent, old, new in self.tree.renames:
            self.note("rename", posixpath.join(parent, new), f"from {posixpath.join(parent, old)}")
        for rel in self.tree.missing:
            if not self.create:
                self.warnings.append(f"managed folder {rel or '.'} is missing (create: false)")
                continue
            access, default = self.managed[rel]
            named = [line for line in acl_text(access, self.principals.name_of)
                     if line.split(":")[1]]
            self.note("folder", rel, "create: " + (", ".join(named) or "no named entries"),
                      "", self.acls_text(access, default))
            if self.check:  # what the walk will count once it exists
                for key in ("folders", "managed", "acl_written"):
                    self.counts[key] += 1

    def open_folder(self, rel: str, create: bool) -> int:
        """Given a logical folder path, return an fd on it, opening every component without
        following symlinks (creating missing ones, 0770 owner:root, when ``create``)."""
        try:
            fd = os.open(self.root, ROOT_FLAGS)
        except FileNotFoundError:
            if not create:
                raise
            os.makedirs(posixpath.dirname(self.root), mode=0o755, exist_ok=True)
            self.make_dir(None, self.root, "")
            fd = os.open(self.root, ROOT_FLAGS)
        done = ""
        try:
            for part in rel.split("/") if rel else []:
                done = posixpath.join(done, part)
                try:
                    child = os.open(part, DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    self.make_dir(fd, part, done)
                    child = os.open(part, DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return fd

    def make_dir(self, parent_fd: int | None, name: str, rel: str) -> None:
        os.mkdir(name, 0o770, dir_fd=parent_fd)
        os.chown(name, self.owner_id, 0, dir_fd=parent_fd, follow_symlinks=False)
        os.chmod(name, 0o770, dir_fd=parent_fd)  # noqa: S103 - group/other come from the ACL
        self.created.add(rel)

    def apply(self) -> None:
        """Apply renames (share first, then parents before children), create missing folders."""
        if self.tree.share_rename:
            if _lstat(self.root) is not None:
                raise TreeError(f"refused: {self.root} appeared meanwhile")
            os.makedirs(posixpath.dirname(self.root), mode=0o755, exist_ok=True)
            os.rename(self.tree.share_rename, self.root)
        for parent, old, new in self.tree.renames:
            fd = self.open_folder(parent, create=False)
            try:
                if _lstat(f"/proc/self/fd/{fd}/{new}") is not None:
                    raise TreeError(f"refused: {new!r} appeared in {parent or '.'} meanwhile")
                os.rename(old, new, src_dir_fd=fd, dst_dir_fd=fd)
            finally:
                os.close(fd)
        for rel in self.tree.missing if self.create else []:
            os.close(self.open_folder(rel, create=True))

    def converge(self, target: int | str, rel: str, mode_of: Callable[[], int], access: Acl,
                 default: Acl | None) -> None:
        """Given an fd (directory, with ``default``) or a /proc/self/fd path (file, never
        followed), write its ACLs where what they grant differs. ``mode_of`` gives st_mode,
        needed only when there is no ACL xattr (the mode is then the whole ACL).

        ACLs are compared by what they grant (effective_acl): a file people saved over SMB
        carries the folder's default entries under a narrower mask, grants exactly the
        contract's rights, and is left as it is (docs/provisioning-contract.md)."""
        data = _xattr(target, ACCESS_XATTR)
        before = self.decode(data) if data else acl_from_mode(mode_of())
        before_default = None
        if default is None:  # a file: its owner keeps their own bits
            owner = owner_perm(before)
            wanted = self.file_acls.get((access, owner))
            if wanted is None:
                if len(self.file_acls) >= CACHE_CAP:
                    self.file_acls.clear()
                wanted = self.file_acls[access, owner] = file_acl(access, owner)
            access = wanted
        else:
            before_default = self.decode(_xattr(target, DEFAULT_XATTR) or b"\2\0\0\0")
        access_differs = self.effective(before) != self.effective(access)
        default_differs = default is not None and (
            self.effective(before_default or ()) != self.effective(default))
        if not access_differs and not default_differs:
            return
        self.counts["acl_written"] += 1
        if not self.check:
            # Writing the access ACL also sets the mode bits (user::, mask → group, other::).
            if access_differs and isinstance(target, int):
                os.setxattr(target, ACCESS_XATTR, encode_acl(access))
            elif access_differs:
                os.setxattr(target, ACCESS_XATTR, encode_acl(access), follow_symlinks=False)
            if default is not None and default_differs:
                os.setxattr(target, DEFAULT_XATTR, encode_acl(default))
        if rel in self.created:
            return
        if len(self.changes) >= CHANGES_CAP:  # not listed: no need to describe it
            self.note("acl", rel, "")
        else:
            # What the rights were and will be: entries the mask hid are shown masked.
            name_of = self.principals.name_of
            lines = acl_diff(self.effective(before), self.effective(access), name_of)
            lines += acl_diff(self.effective(before_default or ()),
                              self.effective(default or ()), name_of, "default:")
            self.note("acl", rel, ", ".join(lines), self.acls_text(before, before_default),
                      self.acls_text(access, default))

    def effective(self, acl: Acl) -> Acl:
        """Given an ACL, return what it grants (each distinct ACL computed once)."""
        granted = self.granted.get(acl)
        if granted is None:
            if len(self.granted) >= CACHE_CAP:
                self.granted.clear()
            granted = self.granted[acl] = effective_acl(acl)
        return granted

    def decode(self, data: bytes) -> Acl:
        """Given an ACL xattr value, return the ACL (each distinct value decoded once)."""
        acl = self.decoded.get(data)
        if acl is None:
            if len(self.decoded) >= CACHE_CAP:
                self.decoded.clear()
            acl = self.decoded[data] = decode_acl(data)
        return acl

    def visit_dir(self, fd: int, rel: str, st_mode: int, governing: Acl | None,
                  ) -> tuple[Acl | None, bool]:
        """Converge one directory; return (default ACL governing its content, descend?)."""
        self.counts["folders"] += 1
        marker = _xattr(fd, MARKER_XATTR, b"")
        if rel in self.managed:
            self.counts["managed"] += 1
            access, default = self.managed[rel]
            if marker != MARKER:
                if not self.check:
                    os.setxattr(fd, MARKER_XATTR, MARKER)
                if rel not in self.created:
                    self.note("folder", rel, "mark as managed")
            self.converge(fd, rel, lambda: st_mode, access, default)
            return default, True
        if marker == KEPT:  # left the spec, settled by `nasops forget`: left alone, silently
            self.counts["kept"] += 1
            return None, rel in self.prefixes
        if marker == MARKER:  # left the spec: never widened, content left alone too
            self.counts["unmanaged"] += 1
            self.note("unmanaged", rel, "marked managed but not in the spec: ACL kept as is")
            return None, rel in self.prefixes
        if governing is None:
            return None, rel in self.prefixes
        self.converge(fd, rel, lambda: st_mode, *inner_dir_acls(governing))
        return governing, True

    def visit_entry(self, frame: tuple, entry: os.DirEntry, rel: str) -> tuple | None:
        """Given the current directory frame and one of its entries, converge the entry;
        return the frame to descend into, if any."""
        fd, _entries, _rel, actual, governing = frame
        if entry.is_symlink():
            self.counts["symlinks_skipped"] += 1
        elif entry.is_dir(follow_symlinks=False):
            if governing is None and rel not in self.prefixes and rel not in self.managed:
                return None
            child_actual = posixpath.join(actual, entry.name)
            st = entry.stat(follow_symlinks=False)
            if st.st_dev != self.device or child_actual in self.mounts:
                self.counts["mounts_skipped"] += 1
                self.warnings.append(f"not entering {child_actual}: another file system")
                return None
            child_fd = os.open(entry.name, DIR_FLAGS, dir_fd=fd)
            try:
                child_governing, descend = self.visit_dir(child_fd, rel, st.st_mode, governing)
                if descend:
                    return (child_fd, iter(list(os.scandir(child_fd))), rel, child_actual,
                            child_governing)
            except BaseException:
                os.close(child_fd)
                raise
            os.close(child_fd)
        elif entry.is_file(follow_symlinks=False):
            if governing is None or (self.mounts and
                                     posixpath.join(actual, entry.name) in self.mounts):
                return None
            self.counts["files"] += 1
            self.converge(f"/proc/self/fd/{fd}/{entry.name}", rel,
                          lambda: entry.stat(follow_symlinks=False).st_mode, governing, None)
        else:
            self.counts["special_skipped"] += 1
        return None

    def walk(self) -> None:
        """Visit the whole share once, depth first, holding one fd per level."""
        top = self.tree.actual[""] if self.check else self.root
        try:
            root_fd = os.open(top, ROOT_FLAGS)
        except FileNotFoundError:
            return
        try:
            root_st = os.fstat(root_fd)
            self.device = root_st.st_dev
            with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as info:
                self.mounts = parse_mountinfo(info.read(), top)
            governing, _managed = self.visit_dir(root_fd, "", root_st.st_mode, None)
            stack = [(root_fd, iter(list(os.scandir(root_fd))), "", top, governing)]
        except BaseException as error:
            os.close(root_fd)
            if isinstance(error, OSError) and error.errno in (errno.EOPNOTSUPP, errno.ENOTSUP):
                raise TreeError(f"{top}: the file system does not support POSIX ACLs or user "
                                "xattrs") from error
            raise
        renamed: dict[str, dict[str, str]] = {}
        for parent, old, new in self.tree.renames if self.check else []:
            renamed.setdefault(parent, {})[old] = new  # walk old names as the new ones
        while stack:
            entry = next(stack[-1][1], None)
            if entry is None:
                os.close(stack.pop()[0])
                continue
            rel, name = stack[-1][2], entry.name
            name = renamed[rel].get(name, name) if rel in renamed else name
            try:
                child = self.visit_entry(stack[-1], entry, f"{rel}/{name}" if rel else name)
            except FileNotFoundError:
                continue  # removed while we walked: nothing left to converge
            except OSError as error:
                if error.errno in (errno.EOPNOTSUPP, errno.ENOTSUP):
                    for frame in stack:
                        os.close(frame[0])
                    raise TreeError(f"{stack[-1][3]}: the file system does not support POSIX "
                                    "ACLs or user xattrs") from error
                self.errors.append(f"{posixpath.join(stack[-1][3], entry.name)}: {error}")
                continue
            if child:
                stack.append(child)
        if self.errors:
            raise TreeError(f"failed on {len(self.errors)} item(s): "
                            + "; ".join(self.errors[:ERRORS_CAP]))

    def run(self) -> dict:
        """Validate, apply (unless check mode), walk; return the module result."""
        self.plan()
        if not self.check:
            self.apply()
        self.walk()
        return self.result()

    def result(self) -> dict:
        return {"changed": self.changed, "changes": self.changes,
                "changes_truncated": self.truncated, "counts": self.counts,
                "unknown_principals": self.principals.unknown, "path": self.root,
                "warnings": self.warnings,
                "diff": self.diff}


def converge_shares(shares: list[dict], *, owner: str = "root", create: bool = True,
                    check_mode: bool = False, missing_rename_source: str = "create",
                    ) -> tuple[dict, list[str]]:
    """Given the desired state's shares, converge them all; return (result, errors).

    Every share is validated and planned before any is touched, so a refusal anywhere leaves
    every share as it was. A share that then fails does not stop the others (as one call per
    share would). Targets are absolute; ``changes`` is capped per share."""
    principals = Principals()
    convergers: list[Converger] = []
    errors: list[str] = []
    for index, share in enumerate(shares):
        path, folders = share.get("path"), share.get("folders")
        if not isinstance(path, str) or not isinstance(folders, list):
            errors.append(f"shares[{index}]: needs a path (string) and folders (list)")
            continue
        try:
            convergers.append(Converger(
                path, folders, share.get("renamed_from"), owner=owner, create=create,
                check_mode=check_mode, missing_rename_source=missing_rename_source,
                principals=principals, absolute_targets=True))
        except TreeError as error:
            errors.append(f"{path}: {error}")
    if not errors:
        for converger in convergers:
            try:
                converger.plan()
            except (TreeError, OSError) as error:
                errors.append(str(error))
    if errors:  # nothing was touched; refusals first, so the message says what it is
        errors.sort(key=lambda message: not message.startswith("refused:"))
        return _combined(convergers, principals), errors
    for converger in convergers:
        try:
            if not check_mode:
                converger.apply()
            converger.walk()
        except (TreeError, OSError) as error:
            message = str(error)
            if not message.startswith(("refused:", converger.root)):
                message = f"{converger.root}: {message}"
            errors.append(message)
    return _combined(convergers, principals), errors


def _combined(convergers: list[Converger], principals: Principals) -> dict:
    """Given the shares' convergers, return one module result for them all."""
    counts = dict.fromkeys(COUNT_KEYS, 0)
    warnings: list[str] = []
    diff: list[dict[str, str]] = []
    for converger in convergers:
        for key in COUNT_KEYS:
            counts[key] += converger.counts[key]
        for warning in converger.warnings:
            if not warning.endswith(UNKNOWN_WARNING) and warning not in warnings:
                warnings.append(warning)
        diff += converger.diff
    if principals.unknown:
        warnings.insert(0, ", ".join(principals.unknown) + UNKNOWN_WARNING)
    # One cap for all shares (the counts stay exact): a first apply of thousands of folders
    # would otherwise send the controller megabytes of changes and diffs to hold.
    changes = [change for converger in convergers for change in converger.changes]
    listed = {change["target"] for change in changes[:CHANGES_CAP]}
    return {"changed": any(converger.changed for converger in convergers),
            "changes": changes[:CHANGES_CAP],
            "changes_truncated": sum(converger.truncated for converger in convergers)
            + max(0, len(changes) - CHANGES_CAP),
            "counts": counts, "unknown_principals": principals.unknown,
            "paths": [converger.root for converger in convergers], "warnings": warnings,
            "diff": [pair for pair in diff if pair["before_header"] in listed]}
