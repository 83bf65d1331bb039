"""The QTS data plane: each share's folder tree and POSIX ACLs over SSH, no Python on the NAS.

One script reads every share as two `getfacl` dumps (folders, files; `find -xdev` never
follows a link) plus the NAS's account tables and mounts (nasops.qts.folder_scripts); the
controller plans with the tree engine's own mapping (module_utils acl_dump, tree_plan).
apply sends one script per share making renames and missing folders, reads again, sends one
script per share of `setfacl -P --set` calls, and reads a third time: what the NAS did not
keep stops the run (QTS answers many writes without making them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ansible_collections.nasops.nas.plugins.module_utils.acl_dump import (
    MARKER_ID,
    SharePlan,
    plan_share,
)
from ansible_collections.nasops.nas.plugins.module_utils.tree_plan import (
    Principals,
    normalise_folders,
)

from nasops.qts.folder_scripts import (
    GONE,
    FolderTreeError,
    NasState,
    ShareState,
    Shell,
    ShellResult,
    parse_read,
    read_script,
    structure_script,
    without_acls,
    write_script,
)
from nasops.qts.probe import PERMISSIONS_PAGE


def _errors(result: ShellResult, what: str) -> None:
    """Raise when the script failed for more than files people removed meanwhile."""
    real = [line for line in GONE.sub("", result.stderr).split("\n") if line.strip()]
    if real:
        more = f" (and {len(real) - 5} more)" if len(real) > 5 else ""
        hint = (f"; the volume takes no POSIX ACLs: turn Advanced Folder Permissions on "
                f"({PERMISSIONS_PAGE})" if any("Operation not supported" in line
                                              for line in real) else "")
        raise FolderTreeError(f"{what} failed on the NAS: " + "; ".join(real[:5]) + more + hint)


@dataclass
class FolderPlan:
    """Every share's plan, and the refusals that stop apply before any write."""

    shares: list[tuple[ShareState, SharePlan | None]]
    refusals: list[str]

    def count(self) -> int:
        """How many changes: those listed, and those counted beyond the list."""
        return len(self.changes()) + sum(plan.truncated - 1 for _read, plan in self.shares
                                         if plan is not None and plan.truncated)

    def changes(self) -> list[tuple[str, dict[str, str]]]:
        """(share name, change) of every share, a missing share as one change."""
        listed: list[tuple[str, dict[str, str]]] = []
        for share, plan in self.shares:
            if plan is None:
                listed.append((share.name, {"kind": "folder", "target": ".", "detail":
                                            "the share's folder is not on the NAS yet"}))
            else:
                listed += [(share.name, change) for change in plan.changes]
                if plan.truncated:
                    listed.append((share.name, {"kind": "acl", "target": ".", "what": "more",
                                                "detail": f"{plan.truncated} more"}))
        return listed


def change_words(share: str, change: Mapping[str, str]) -> str:
    """Given a share and one folder change, return it as plan says it."""
    where = share if change["target"] == "." else f"{share}/{change['target']}"
    if change.get("what") == "more":
        return f"rights of {change['detail']} files and folders in {share} (not listed)"
    if change["kind"] == "acl":
        return f"rights of {change.get('what', 'folder')} {where}: {change['detail']}"
    if change["kind"] == "rename":
        return f"folder {where}: rename {change['detail']}"
    return f"folder {where}: {change['detail']}"


def read_nas(shell: Shell, shares: Sequence[Mapping[str, object]]) -> NasState:
    roots = [(str(share["name"]), str(share["path"])) for share in shares]
    result = shell(read_script(roots))
    _errors(result, "reading the shares' folders")
    return parse_read(result.stdout, roots)


def plan_folders(shell: Shell, shares: Sequence[Mapping[str, object]], *,
                 refuse_unknown: bool = False) -> FolderPlan:
    """Given the compiled spec's shares, read the NAS once and plan every share. People and
    groups not on the NAS yet are refused only with ``refuse_unknown`` (right before
    writing): before, apply's web writes are still to make them."""
    state = read_nas(shell, shares)
    principals = Principals(state.users, state.groups)
    planned: list[tuple[ShareState, SharePlan | None]] = []
    refusals: list[str] = []
    for share, read in zip(shares, state.shares, strict=True):
        folders, problems = normalise_folders(share.get("folders") or [])  # type: ignore[arg-type]
        refusals += [f"share {read.name!r}: {problem}" for problem in problems]
        # Checked for a share not made yet too: apply's web writes come first.
        if without_acls(state.mounts, read.root):
            refusals.append(f"share {read.name!r}: refused: its volume is mounted without "
                            f"POSIX ACLs (noacl): turn Advanced Folder Permissions on "
                            f"({PERMISSIONS_PAGE})")
        if read.missing or problems:
            planned.append((read, None))
            continue
        if read.links.split("\n", 1)[0].strip() != "0":
            refusals.append(f"share {read.name!r}: refused: a link's path there holds a line "
                            "break; nasops cannot tell links apart to write safely: rename it")
        plan = plan_share(read.root, folders, principals, read.directories, read.files,
                          refuse_missing=True)
        refusals += [f"share {read.name!r}: {refusal}" for refusal in plan.tree.refusals]
        planned.append((read, plan))
    if MARKER_ID in state.groups.values() or MARKER_ID in state.users.values():
        refusals.append(f"refused: an account on the NAS has id {MARKER_ID}, which nasops "
                        "uses to mark the folders it manages (docs/qts.md)")
    if principals.unknown and refuse_unknown:
        refusals.append("unknown on the NAS: " + ", ".join(principals.unknown)
                        + " (nothing written to the folders)")
    return FolderPlan(planned, refusals)


def _checked(plan: FolderPlan) -> list[tuple[ShareState, SharePlan]]:
    if plan.refusals:
        raise FolderTreeError("; ".join(plan.refusals))
    missing = [read.name for read, share_plan in plan.shares if share_plan is None]
    if missing:
        raise FolderTreeError("refused: the folder of share(s) " + ", ".join(missing) +
                              " is not on the NAS: the share is created through the web API "
                              "first")
    return [(read, share_plan) for read, share_plan in plan.shares if share_plan is not None]


def _run(shell: Shell, script: str, what: str) -> None:
    result = shell(script)
    _errors(result, what)
    if result.returncode and not GONE.search(result.stderr):
        raise FolderTreeError(f"{what} failed on the NAS (exit {result.returncode})")


@dataclass
class FoldersDone:
    """What apply did to the folders: in plan's words (500 per share listed), and how many."""

    words: list[str]
    count: int


def apply_folders(shell: Shell, shares: Sequence[Mapping[str, object]],
                  said: Callable[[str], None] = lambda _words: None) -> FoldersDone:
    """Converge every share's folders; return what was done, in plan's words. Stops with
    FolderTreeError at a refusal (before any write) or at what the NAS did not keep. Reads
    the NAS once when nothing is to change, twice for ACLs alone, three times with renames
    or new folders (their ACLs and their content's are read after they are made)."""
    done: list[str] = []
    count = 0
    checked = _checked(plan_folders(shell, shares, refuse_unknown=True))
    if any(share_plan.tree.renames or share_plan.tree.missing for _read, share_plan in checked):
        for read, share_plan in checked:
            if not (share_plan.tree.renames or share_plan.tree.missing):
                continue
            _run(shell, structure_script(read.root, share_plan, read.links),
                 f"making the folders of share {read.name!r}")
            for change in share_plan.changes:
                if change["kind"] in ("rename", "folder"):
                    done.append(change_words(read.name, change))
                    count += 1
                    said(done[-1])
        checked = _checked(plan_folders(shell, shares, refuse_unknown=True))
    for read, share_plan in checked:
        if not share_plan.writes:
            continue
        _run(shell, write_script(read.root, share_plan, read.links),
             f"writing the ACLs of share {read.name!r}")
        more = [{"kind": "acl", "target": ".", "what": "more",
                 "detail": f"{share_plan.truncated} more"}] if share_plan.truncated else []
        count += share_plan.counts["acl_written"]
        for change in [*share_plan.changes, *more]:
            if change["kind"] == "acl":
                done.append(change_words(read.name, change))
                said(done[-1])
    if not done:
        return FoldersDone(done, 0)  # nothing written: nothing to read back
    again = plan_folders(shell, shares)
    left = [(name, change) for name, change in again.changes()
            if change["kind"] != "unmanaged" and change.get("what") != "more"]
    if left:
        unmanaged = sum(change["kind"] == "unmanaged" for _name, change in again.changes())
        first = ", ".join(f"{name}/{change['target']} ({change['kind']})"
                          for name, change in left[:5])
        raise FolderTreeError(f"the NAS did not keep {again.count() - unmanaged} change(s) "
                              f"nasops wrote, e.g. {first}: {count} change(s) were made "
                              "before this")
    return FoldersDone(done, count)


__all__ = ["FolderPlan", "FolderTreeError", "FoldersDone", "Shell", "ShellResult",
           "apply_folders",
           "change_words", "plan_folders"]
