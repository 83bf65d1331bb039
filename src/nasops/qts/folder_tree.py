"""The QTS data plane: each share's folder tree and POSIX ACLs over SSH, no Python on the NAS.

One shell script reads every share as two ``getfacl`` dumps (folders, files; ``find -xdev``
never follows a link nor leaves the volume) plus the NAS's account tables; the controller
plans with the tree engine's own mapping (module_utils acl_dump, tree_plan); apply sends one
script making renames and missing folders, reads again, sends one ``setfacl --restore`` per
share, and reads a third time: what QTS did not keep stops the run (QTS answers many writes
without making them). Only POSIX tools are used (BusyBox ``ash``, ``find``, ``getfacl``,
``setfacl``, ``mkdir``, ``mv``), with ``LC_ALL=C`` so getfacl escapes every non-ASCII byte.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ansible_collections.nasops.nas.plugins.module_utils.acl_dump import (
    DumpError,
    Item,
    SharePlan,
    parse_dump,
    plan_share,
    restore_text,
)
from ansible_collections.nasops.nas.plugins.module_utils.tree_plan import (
    Principals,
    normalise_folders,
)

from nasops.errors import NasopsError

MARK = "@@nasops "
TOOLS = ("find", "getfacl", "setfacl", "mkdir", "mv")
# Messages of a file people removed while nasops read or wrote: nothing left to converge
# (a name may hold a newline, so a message can span lines).
GONE = re.compile(r"(?s)(?:find|getfacl|setfacl): .*?: No such file or directory(?:\n|$)")
DUMP = "-exec getfacl -p -n -- {} +"


@dataclass(frozen=True)
class ShellResult:
    returncode: int
    stdout: str
    stderr: str


Shell = Callable[[str], ShellResult]
"""Runs a POSIX shell script as the NAS's administrator (`sh -s` over SSH) and returns what
it printed; the script is the whole input, nothing else is sent."""


class FolderTreeError(NasopsError):
    """The shares' folders cannot be read or converged; the message says why."""


@dataclass
class ShareState:
    """One share as read: missing, or its folders, files and how many links it holds."""

    name: str
    root: str
    missing: bool = True
    directories: list[Item] = field(default_factory=list)
    files: list[Item] = field(default_factory=list)
    links: int = 0


@dataclass
class NasState:
    shares: list[ShareState]
    users: dict[str, int]
    groups: dict[str, int]


def read_script(shares: Sequence[tuple[str, str]]) -> str:
    """Given (name, root) of each share, return the script printing its dumps and the NAS's
    account tables between marker lines (getfacl escapes names, so no name forges one)."""
    lines = ["LC_ALL=C; export LC_ALL",
             f"for tool in {' '.join(TOOLS)}; do command -v \"$tool\" >/dev/null || "
             f"echo '{MARK}no-tool '\"$tool\"; done",
             f"echo '{MARK}passwd'; cat /etc/passwd", f"echo '{MARK}group'; cat /etc/group"]
    for number, (_name, root) in enumerate(shares):
        quoted = shlex.quote(root)
        lines += [f"echo '{MARK}share {number}'",
                  f"if [ -d {quoted} ] && [ ! -L {quoted} ]; then",
                  f"  echo '{MARK}directories'; find {quoted} -xdev -type d {DUMP}",
                  f"  echo '{MARK}files'; find {quoted} -xdev -type f {DUMP}",
                  f"  echo '{MARK}links'; find {quoted} -xdev -type l | wc -l",
                  f"else echo '{MARK}missing'; fi"]
    return "\n".join(lines) + f"\necho '{MARK}end'\n"


def _accounts(text: str) -> dict[str, int]:
    table: dict[str, int] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[2].isdigit():
            table.setdefault(fields[0], int(fields[2]))
    return table


def parse_read(stdout: str, shares: Sequence[tuple[str, str]]) -> NasState:
    """Given the read script's output, return the NAS's state (FolderTreeError when the
    output is cut short or a tool is missing)."""
    sections: list[tuple[str, list[str]]] = []
    for line in stdout.split("\n"):
        if line.startswith(MARK):
            sections.append((line[len(MARK):], []))
        elif sections:
            sections[-1][1].append(line)
    if not sections or sections[-1][0] != "end":
        raise FolderTreeError("the NAS's answer was cut short (no end mark): nothing written")
    missing_tools = [words[len("no-tool "):] for words, _ in sections
                     if words.startswith("no-tool ")]
    if missing_tools:
        raise FolderTreeError("refused: the NAS lacks " + ", ".join(missing_tools) + " (QTS "
                              "ships them; check the SSH account's PATH)")
    texts = {words: "\n".join(body) for words, body in sections}
    states = [ShareState(name, root) for name, root in shares]
    current: ShareState | None = None
    try:
        for words, body in sections:
            text = "\n".join(body)
            if words.startswith("share "):
                current = states[int(words.split()[1])]
            elif current is not None and words in ("directories", "files"):
                current.missing = False
                label = f"share {current.name!r}, {words}"
                items = parse_dump(text, words == "directories", label)
                (current.directories if words == "directories" else current.files).extend(items)
            elif current is not None and words == "links":
                current.links = int(text.strip() or "0")
    except (DumpError, ValueError, IndexError) as error:
        raise FolderTreeError(f"the NAS's folder dump cannot be read: {error}") from error
    return NasState(states, _accounts(texts.get("passwd", "")), _accounts(texts.get("group", "")))


def _errors(result: ShellResult, what: str) -> None:
    """Raise when the script said more than that a file went away meanwhile."""
    real = [line for line in GONE.sub("", result.stderr).splitlines() if line.strip()]
    if real:
        more = f" (and {len(real) - 5} more)" if len(real) > 5 else ""
        raise FolderTreeError(f"{what} failed on the NAS: " + "; ".join(real[:5]) + more)


@dataclass
class FolderPlan:
    """Every share's plan, and the refusals that stop apply before any write."""

    state: NasState
    shares: list[tuple[ShareState, SharePlan | None]]
    refusals: list[str]

    def changes(self) -> list[tuple[str, dict[str, str]]]:
        """(share name, change) of every share, a missing share as one change."""
        listed: list[tuple[str, dict[str, str]]] = []
        for share, plan in self.shares:
            if plan is None:
                listed.append((share.name, {"kind": "folder", "target": ".", "detail":
                                            "the share's folder is not on the NAS yet"}))
            else:
                listed += [(share.name, change) for change in plan.changes]
        return listed


def change_words(share: str, change: Mapping[str, str]) -> str:
    """Given a share and one folder change, return it as plan says it."""
    where = share if change["target"] == "." else f"{share}/{change['target']}"
    if change["kind"] == "acl":
        return f"rights of folder {where}: {change['detail']}"
    if change["kind"] == "rename":
        return f"folder {where}: rename {change['detail']}"
    return f"folder {where}: {change['detail']}"


def read_nas(shell: Shell, shares: Sequence[Mapping[str, object]]) -> NasState:
    roots = [(str(share["name"]), str(share["path"])) for share in shares]
    result = shell(read_script(roots))
    _errors(result, "reading the shares' folders")
    return parse_read(result.stdout, roots)


def plan_folders(shell: Shell, shares: Sequence[Mapping[str, object]]) -> FolderPlan:
    """Given the compiled spec's shares, read the NAS once and plan every share."""
    state = read_nas(shell, shares)
    principals = Principals(state.users, state.groups)
    planned: list[tuple[ShareState, SharePlan | None]] = []
    refusals: list[str] = []
    for share, read in zip(shares, state.shares, strict=True):
        folders, problems = normalise_folders(share.get("folders") or [])  # type: ignore[arg-type]
        refusals += [f"share {read.name!r}: {problem}" for problem in problems]
        if read.missing or problems:
            planned.append((read, None))
            continue
        plan = plan_share(read.root, folders, principals, read.directories, read.files,
                          refuse_missing=True)
        refusals += [f"share {read.name!r}: {refusal}" for refusal in plan.tree.refusals]
        planned.append((read, plan))
    if principals.unknown:
        refusals.append("unknown on the NAS: " + ", ".join(principals.unknown)
                        + " (the accounts are made first; run apply again)")
    return FolderPlan(state, planned, refusals)


def structure_script(plan: SharePlan) -> str:
    """Given a share's plan, return the script renaming folders and making missing ones
    (0770, rights from the ACL written next), refusing a target that appeared meanwhile."""
    lines = ["set -e"]
    for parent, old, new in plan.tree.renames:
        here = plan.tree.where(parent)
        source, target = (shlex.quote(posixpath.join(here, name)) for name in (old, new))
        lines.append(f"if [ -e {target} ] || [ -L {target} ]; then echo \"refused: {new!r} "
                     f"appeared meanwhile\" >&2; exit 1; fi; mv -- {source} {target}")
    for rel in plan.tree.missing:
        lines.append(f"mkdir -m 0770 -- {shlex.quote(posixpath.join(plan.tree.actual[''], rel))}")
    return "\n".join(lines) + "\n"


def write_script(root: str, plan: SharePlan, links: int) -> str:
    """Given a share's plan and how many links it held when read, return the script writing
    its ACLs in one restore. setfacl follows links even with -P: a link swapped in for a
    folder between the read and this write would be followed, so the write is refused when
    the share holds more links than it did (the window is the seconds in between)."""
    quoted = shlex.quote(root)
    return (f"LC_ALL=C; export LC_ALL\nnow=$(find {quoted} -xdev -type l | wc -l)\n"
            f"if [ \"$now\" -gt {int(links)} ]; then echo \"refused: a link appeared in "
            f"{root} while nasops worked: no ACL written\" >&2; exit 1; fi\n"
            f"setfacl --restore=- <<'NASOPS_END_OF_ACLS'\n{restore_text(plan.writes)}"
            "NASOPS_END_OF_ACLS\n")


def apply_folders(shell: Shell, shares: Sequence[Mapping[str, object]],
                  said: Callable[[str], None] = lambda _words: None) -> list[str]:
    """Converge every share's folders; return what was done, in plan's words. Stops with
    FolderTreeError at a refusal (before any write) or at what the NAS did not keep."""
    plan = plan_folders(shell, shares)
    if plan.refusals:
        raise FolderTreeError("; ".join(plan.refusals))
    missing = [read.name for read, share_plan in plan.shares if share_plan is None]
    if missing:
        raise FolderTreeError("refused: the folder of share(s) " + ", ".join(missing) +
                              " is not on the NAS: the share is created through the web API "
                              "first")
    done: list[str] = []
    for read, share_plan in plan.shares:
        assert share_plan is not None  # noqa: S101 - missing shares refused above
        if share_plan.tree.renames or share_plan.tree.missing:
            result = shell(structure_script(share_plan))
            _errors(result, f"making the folders of share {read.name!r}")
            if result.returncode:
                raise FolderTreeError(f"making the folders of share {read.name!r} failed")
            for change in share_plan.changes:
                if change["kind"] in ("rename", "folder"):
                    done.append(change_words(read.name, change))
                    said(done[-1])
    plan = plan_folders(shell, shares)  # after renames and new folders: their ACLs too
    for read, share_plan in plan.shares:
        if share_plan is None or not share_plan.writes:
            continue
        result = shell(write_script(read.root, share_plan, read.links))
        _errors(result, f"writing the ACLs of share {read.name!r}")
        for change in share_plan.changes:
            if change["kind"] == "acl":
                done.append(change_words(read.name, change))
                said(done[-1])
    left = [(name, change) for name, change in plan_folders(shell, shares).changes()
            if change["kind"] != "unmanaged"]
    if left:
        first = ", ".join(f"{name}/{change['target']} ({change['kind']})"
                          for name, change in left[:5])
        raise FolderTreeError(f"the NAS did not keep {len(left)} change(s) nasops wrote, "
                              f"e.g. {first}: {len(done)} change(s) were made before this")
    return done
