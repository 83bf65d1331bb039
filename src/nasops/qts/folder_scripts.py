"""The shell scripts of the QTS data plane and the reading of what they print.

POSIX tools only (BusyBox `ash`, `find`, `getfacl`, `setfacl`, `mkdir`, `mv`, `sort`,
`cksum`, `cut`), `LC_ALL=C`. Every value written into a script is shell-quoted; the read's
sections are marked by lines no name can forge (getfacl escapes a newline in a name, the
kernel escapes it in mountinfo, account tables are line-based files cut to name:id).
"""

from __future__ import annotations

import posixpath
import re
import shlex
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ansible_collections.nasops.nas.plugins.module_utils.acl_dump import (
    DumpError,
    Item,
    SharePlan,
    parse_dump,
    set_groups,
)
from ansible_collections.nasops.nas.plugins.module_utils.tree_plan import mounts, parse_mountinfo

from nasops.errors import NasopsError

MARK = "@@nasops "
TOOLS = ("find", "getfacl", "setfacl", "mkdir", "mv", "sort", "cksum", "cut")
DUMP = "-exec getfacl -p -n -- {} +"
# Messages of a file people removed while nasops read or wrote: nothing left to converge.
# One whole line each: a name with a newline makes a message nasops will not excuse.
GONE = re.compile(r"(?m)^(?:find|getfacl|setfacl|mv|mkdir): [^\n]*: No such file or "
                  r"directory$\n?")
PATHS_PER_CALL = 200  # well under any ARG_MAX, BusyBox's included
# QTS's own folders inside a share (recycle bin, snapshots, thumbnails, Mac streams): QTS
# manages them, nasops neither reads nor writes them.
QTS_OWN = ("@Recycle", "@Recently-Snapshot", ".@__*", "@__*", ".streams")
PRUNE = ("\\( " + " -o ".join(f"-name {shlex.quote(name)}" for name in QTS_OWN)
         + " \\) -prune -o")
# A newline, for find's -path: set once at the top of every script.
NEWLINE = 'nl="$(printf \'\\n_\')"; nl="${nl%_}"'


@dataclass(frozen=True)
class ShellResult:
    returncode: int
    stdout: str
    stderr: str


Shell = Callable[[str], ShellResult]
"""Runs a POSIX shell script as the NAS's administrator (`sh -s` over SSH) and returns what
it printed; the script is the whole input, nothing else is sent."""


def run_script(argv: Sequence[str], script: str, timeout: float | None = None) -> ShellResult:
    """Given the command running `sh -s` (ssh to the NAS, or this machine's own sh in tests
    and benchmarks) and a script, run it with the script on stdin. Bytes both ways, decoded
    here: text mode would turn a "\\r" the NAS prints into a line end."""
    done = subprocess.run(list(argv), input=script.encode("utf-8", "surrogateescape"),
                          capture_output=True, timeout=timeout, check=False)
    return ShellResult(done.returncode, done.stdout.decode("utf-8", "surrogateescape"),
                       done.stderr.decode("utf-8", "surrogateescape"))


def local_shell(script: str) -> ShellResult:
    """This machine's own sh as the NAS's (the data plane's tests and benchmark)."""
    return run_script(["sh", "-s"], script)


class FolderTreeError(NasopsError):
    """The shares' folders cannot be read or converged; the message says why."""


@dataclass
class ShareState:
    """One share as read: missing, or its folders and files, and its links' fingerprint."""

    name: str
    root: str
    missing: bool = True
    directories: list[Item] = field(default_factory=list)
    files: list[Item] = field(default_factory=list)
    links: str = ""
    """`find -type l | sort | cksum` at the read: a write goes ahead only if it is unchanged."""


@dataclass
class NasState:
    shares: list[ShareState]
    users: dict[str, int]
    groups: dict[str, int]
    mounts: str = ""
    """/proc/self/mountinfo as the NAS printed it."""


def without_acls(mountinfo: str, root: str) -> bool:
    """Given mountinfo and a share's folder, return whether the file system holding it is
    mounted `noacl` (QTS's data volume, Advanced Folder Permissions off: setfacl would fail
    "Operation not supported")."""
    holding = None
    for mount in mounts(mountinfo):  # the last of equally long points is the one on top
        inside = mount.point in ("/", root) or root.startswith(mount.point.rstrip("/") + "/")
        if inside and (holding is None or len(mount.point) >= len(holding.point)):
            holding = mount
    # ext only: ZFS (QuTS hero) says noacl when its ACLs are not POSIX ones, which is not
    # Advanced Folder Permissions being off (unverified).
    return holding is not None and holding.kind.startswith("ext") and (
        "noacl" in holding.options or "noacl" in holding.super_options)


def _links(quoted_root: str) -> str:
    """The share's links' fingerprint: how many have a line break in their path (a listing
    cannot tell those apart: such a share is refused), then the sorted listing's cksum."""
    return (f'{{ find {quoted_root} -xdev {PRUNE} -type l -path "*$nl*" -print | wc -l; '
            f"find {quoted_root} -xdev {PRUNE} -type l -print | sort | cksum; }}")


def read_script(shares: Sequence[tuple[str, str]]) -> str:
    """Given (name, root) of each share, return the script printing the NAS's account tables,
    its mounts and each share's dumps between marker lines."""
    lines = ["LC_ALL=C; export LC_ALL", NEWLINE,
             f"for tool in {' '.join(TOOLS)}; do command -v \"$tool\" >/dev/null || "
             f"echo '{MARK}no-tool '\"$tool\"; done",
             f"echo '{MARK}passwd'; cut -d: -f1,3 /etc/passwd",
             f"echo '{MARK}group'; cut -d: -f1,3 /etc/group",
             f"echo '{MARK}mounts'; cat /proc/self/mountinfo"]
    for number, (_name, root) in enumerate(shares):
        quoted = shlex.quote(root)
        # The links first: a folder swapped for a link after this is caught before any write.
        lines += [f"echo '{MARK}share {number}'",
                  f"if [ -d {quoted} ] && [ ! -L {quoted} ]; then",
                  f"  echo '{MARK}links'; {_links(quoted)}",
                  f"  echo '{MARK}directories'; find {quoted} -xdev {PRUNE} -type d {DUMP}",
                  f"  echo '{MARK}files'; find {quoted} -xdev {PRUNE} -type f {DUMP}",
                  f"else echo '{MARK}missing'; fi"]
    return "\n".join(lines) + f"\necho '{MARK}end'\n"


def _accounts(text: str) -> dict[str, int]:
    table: dict[str, int] = {}
    for line in text.split("\n"):
        name, _colon, number = line.partition(":")
        if name and number.isdigit():
            table.setdefault(name, int(number))
    return table


def _outside_mounts(items: list[Item], mounts: set[str]) -> list[Item]:
    """Items not on another file system mounted in the share (find -xdev still lists a
    mount point itself, and a bind mount of the same device is not "another device")."""
    if not mounts:
        return items
    return [item for item in items if not any(
        item.path == point or item.path.startswith(point + "/") for point in mounts)]


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
    # The small sections as text; the dumps (the bulk) are parsed from their lines as read.
    texts = {words: "\n".join(body) for words, body in sections
             if words in ("passwd", "group", "mounts")}
    states = [ShareState(name, root) for name, root in shares]
    current: ShareState | None = None
    try:
        for words, body in sections:
            if words.startswith("share "):
                current = states[int(words.split()[1])]
            elif current is not None and words in ("directories", "files"):
                current.missing = False
                items = _outside_mounts(
                    parse_dump(body, words == "directories", f"share {current.name!r}, {words}"),
                    parse_mountinfo(texts.get("mounts", ""), current.root))
                (current.directories if words == "directories" else current.files).extend(items)
            elif current is not None and words == "links":
                current.links = "\n".join(body).strip()
    except (DumpError, ValueError, IndexError) as error:
        raise FolderTreeError(f"the NAS's folder dump cannot be read: {error}") from error
    return NasState(states, _accounts(texts.get("passwd", "")), _accounts(texts.get("group", "")),
                    texts.get("mounts", ""))


def _unchanged_links(root: str, links: str) -> str:
    """The script line stopping everything when the share's links changed since the read:
    mkdir, mv and setfacl follow a link someone swapped in for a folder."""
    quoted = shlex.quote(root)
    message = shlex.quote(f"refused: links in {root} changed while nasops worked: nothing "
                          "written")
    return f'[ "$({_links(quoted)})" = {shlex.quote(links)} ] || {{ echo {message} >&2; exit 1; }}'


def structure_script(root: str, plan: SharePlan, links: str) -> str:
    """Given a share's root, plan and links' fingerprint, return the script renaming folders
    (parents first, each by its new parent) and making missing ones (0770: their rights come
    with the ACLs written next), refusing a target that appeared meanwhile."""
    lines = ["LC_ALL=C; export LC_ALL", NEWLINE, "set -e", _unchanged_links(root, links)]
    for parent, old, new in plan.tree.renames:
        source, target = (shlex.quote(posixpath.join(root, parent, name)) for name in (old, new))
        message = shlex.quote(f"refused: {posixpath.join(parent, new)} appeared meanwhile")
        lines.append(f"if [ -e {target} ] || [ -L {target} ]; then echo {message} >&2; exit 1; "
                     f"fi; mv -- {source} {target}")
    for rel in plan.tree.missing:
        lines.append(f"mkdir -m 0770 -- {shlex.quote(posixpath.join(root, rel))}")
    return "\n".join(lines) + "\n"


def write_script(root: str, plan: SharePlan, links: str) -> str:
    """Given a share's root, plan and links' fingerprint, return the script writing its ACLs:
    `setfacl -P --set` per group of paths sharing one ACL (-P: a path that is a link is
    skipped, where --restore would follow it), every call run, the status kept."""
    lines = ["LC_ALL=C; export LC_ALL", NEWLINE, _unchanged_links(root, links), "status=0"]
    for acl, paths in set_groups(plan.writes):
        for start in range(0, len(paths), PATHS_PER_CALL):
            chunk = " ".join(shlex.quote(path) for path in paths[start:start + PATHS_PER_CALL])
            lines.append(f"setfacl -P --set={shlex.quote(acl)} -- {chunk} || status=1")
    return "\n".join(lines) + '\nexit "$status"\n'
