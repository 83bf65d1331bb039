"""What a role last converged on the NAS, and the one cheap check that it still holds.

A role is skipped on a later run when nothing it depends on changed: its record in
RECORD_PATH holds the fingerprint of the role's inputs (its code and variables, computed by
the action plugin on the controller) and, for each of its module calls, what that call
manages (its `watch`: files, directories, links, units, packages, accounts, qgroup limits,
directory listings) with a digest of the NAS's state of it. Each module takes that digest
BEFORE it compares anything, and a role is recorded only when none of its calls found
something to change: so a hand-made change made at any moment is either seen by the call
(no record) or changes the digest (the role runs again). The check re-reads the state of
every watch (each file's content, mode and owner; units' enabled and active states; …) in
a few commands and compares digests.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import stat
import subprocess
from collections.abc import Callable, Iterable
from typing import Any

from ansible_collections.nasops.nas.plugins.module_utils.forget import MARKER_XATTR, read_xattr
from ansible_collections.nasops.nas.plugins.module_utils.host_files import write_atomically
from ansible_collections.nasops.nas.plugins.module_utils.qgroups import (
    parse_qgroup_parents,
    parse_qgroup_show,
    show_argv,
)

RECORD_PATH = "/var/lib/nasops/converged.json"
RECORD_VERSION = 1
UNIT_DIRECTORY = "/etc/systemd/system"
WATCH_KEYS = ("files", "directories", "links", "units", "unit_patterns", "packages",
              "accounts", "btrfs_quota", "globs", "qgroup_limits", "markers")

Run = Callable[[list[str]], tuple[int, str]]


def run_command(argv: list[str]) -> tuple[int, str]:
    """Run argv (no shell, C locale); return its exit code and standard output."""
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False,
                          env={**os.environ, "LC_ALL": "C"})
    return done.returncode, done.stdout.decode("utf-8", "replace")


# os-release(5): the first, else the second.
OS_RELEASE_PATHS = ("/etc/os-release", "/usr/lib/os-release")
OS_RELEASE_KEYS = ("ID", "VERSION_ID", "VERSION_CODENAME", "PRETTY_NAME")


def read_os_release(paths: tuple[str, ...] = OS_RELEASE_PATHS) -> dict[str, str]:
    """Return the NAS's release as os-release(5) names it (lowercase keys; empty strings
    where the files or a key are missing): the play refuses a release nasops does not
    support before any role runs."""
    found = dict.fromkeys(OS_RELEASE_KEYS, "")
    lines: list[str] = []
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as stream:
                lines = stream.read(65536).splitlines()
            break
        except OSError:
            continue
    for line in lines:
        key, separator, value = line.partition("=")
        if separator and key in found:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            # Shown in the refusal: no control characters, no screenful.
            found[key] = "".join(character for character in value
                                 if character.isprintable())[:100]
    return {key.lower(): value for key, value in found.items()}


def watch_of(params: dict[str, Any]) -> dict[str, list[str]]:
    """Given nasops.nas.host's parameters, return what that call manages (its watch)."""
    files = [spec["dest"] for spec in params.get("secret_files", []) + params.get("files", [])
             # force: false leaves the content to another role (nas_shares' include file).
             if spec.get("force", True) or spec.get("state") == "absent"]
    directories = [spec["path"] for spec in
                   ([params["directory"]] if params.get("directory") else [])
                   + params.get("directories", [])]
    return {
        "files": files,
        "directories": directories,
        "links": [spec["dest"] for spec in params.get("links", [])],
        "units": list(params.get("started", [])),
        "unit_patterns": list(params.get("stopped", [])),
        "packages": list(params.get("packages", [])),
        "accounts": [spec["name"] for spec in params.get("accounts", [])],
        "btrfs_quota": ([params["volume"]] if params.get("volume") and params.get("btrfs_quota")
                        else []),
        # What pruning removes: a file that comes back there is a change.
        "globs": [os.path.join(spec["directory"], pattern) for spec in params.get("prune", [])
                  for pattern in spec["patterns"]],
    }


def merged_watch(*watches: dict[str, Any] | None) -> dict[str, list[str]]:
    """Given several watches (None ignored), return their union."""
    merged: dict[str, list[str]] = {key: [] for key in WATCH_KEYS}
    for watch in watches:
        for key in WATCH_KEYS:
            for item in (watch or {}).get(key, []):
                if item not in merged[key]:
                    merged[key].append(item)
    return merged


def watched(watch: dict[str, Any], run: Run | None = None) -> dict[str, Any]:
    """Given a watch, return it with the digest of its state now (a module takes it before
    comparing anything)."""
    try:
        return {"watch": watch, "state": state_digest(watch, run or run_command)}
    except (OSError, ValueError, TypeError):  # not recordable: the role runs next time
        return {"watch": watch, "state": None}


def _stat_state(info: os.stat_result) -> list[Any]:
    state: list[Any] = [info.st_mode, info.st_uid, info.st_gid]
    if stat.S_ISDIR(info.st_mode):
        state.append(info.st_ino)  # a share's is 256 while it is a btrfs subvolume
    return state


def _path_state(path: str, *, content: bool) -> list[Any]:
    """Return a path's kind, mode and owner (a directory's inode too) and, when asked, a
    file's content digest; for a symbolic link, the link and then its target as the modules
    see it (they follow links). An unreadable path is its error, never an exception."""
    try:
        info = os.lstat(path)
        state: list[Any] = [path, *_stat_state(info)]
        if stat.S_ISLNK(info.st_mode):
            state.append(os.readlink(path))
            info = os.stat(path)
            state += _stat_state(info)
        if content and stat.S_ISREG(info.st_mode):
            digest = hashlib.sha256()
            with open(path, "rb") as stream:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(block)
            state.append(digest.hexdigest())
    except OSError as error:
        return [path, "error", error.errno]
    return state


def _markers(root: str) -> list[Any]:
    """Return the nasops marker (xattr) of each entry of a directory: a folder settled by
    `nasops forget` is told by it, and a marker removed by hand makes it reported again."""
    try:
        entries = sorted(entry.name for entry in os.scandir(root)
                         if not entry.name.startswith("."))
    except OSError as error:
        return [root, "error", error.errno]
    return [[name, _marker(os.path.join(root, name))] for name in entries]


def _marker(path: str) -> str | int | None:
    try:
        value = read_xattr(path, MARKER_XATTR, b"")
    except OSError as error:
        return error.errno
    return (value or b"").hex()


def _account_lines(names: list[str]) -> list[str]:
    """Return the passwd and group lines of the accounts (missing ones as absent)."""
    lines = []
    for database in ("/etc/passwd", "/etc/group"):
        try:
            with open(database, encoding="utf-8", errors="replace") as stream:
                entries = {line.split(":", 1)[0]: line.rstrip("\n") for line in stream}
        except OSError:
            entries = {}
        lines += [entries.get(name, f"{database}:{name}:absent") for name in names]
    return lines


def _qgroup_limits(volume: str, run: Run) -> list[Any]:
    """Return the exit code of `btrfs qgroup show` on the volume and every qgroup's limits
    and parents (not its usage, which changes whenever people save files)."""
    code, out = run(show_argv(["btrfs"], volume, sync=True, parents=True))
    try:
        qgroups = parse_qgroup_show(out) if code == 0 else {}
        parents = parse_qgroup_parents(out) if code == 0 else {}
    except ValueError:
        return [code, "unreadable"]
    return [code, sorted([qgroup.identifier, qgroup.referenced_limit_bytes,
                          qgroup.exclusive_limit_bytes, sorted(parents.get(qgroup.identifier, []))]
                         for qgroup in qgroups.values())]


def observe(watch: dict[str, Any], run: Run = run_command) -> dict[str, Any]:
    """Given a watch, return the NAS's state of everything in it (a few commands in all)."""
    units = list(watch.get("units", []))
    for pattern in watch.get("unit_patterns", []):
        units += sorted(os.path.basename(path)
                        for path in glob.glob(os.path.join(UNIT_DIRECTORY, pattern)))
    state: dict[str, Any] = {
        "files": [_path_state(path, content=True) for path in watch.get("files", [])],
        "directories": [_path_state(path, content=False)
                        for path in watch.get("directories", [])],
        "links": [_path_state(path, content=False) for path in watch.get("links", [])],
        "accounts": _account_lines(list(watch.get("accounts", []))),
    }
    if units:
        # One call for every unit: `systemctl show` prints one block per unit, in order.
        _code, out = run(["systemctl", "show", "--property=Id,UnitFileState,ActiveState",
                          "--", *units])
        state["units"] = [units, sorted(out.split("\n\n"))]
    if watch.get("packages"):
        _code, out = run(["dpkg-query", "--show", "--showformat",
                          "${Package} ${Version} ${db:Status-Status}\n", *watch["packages"]])
        state["packages"] = out
    state["globs"] = [[pattern, sorted(glob.glob(pattern))] for pattern in watch.get("globs", [])]
    state["markers"] = [_markers(root) for root in watch.get("markers", [])]
    state["qgroup_limits"] = [[volume, *_qgroup_limits(volume, run)]
                              for volume in watch.get("qgroup_limits", [])]
    state["btrfs_quota"] = [[volume, run(["btrfs", "qgroup", "show", "--raw", volume])[0]]
                            for volume in watch.get("btrfs_quota", [])]
    return state


def state_digest(watch: dict[str, Any], run: Run = run_command) -> str:
    """Given a watch, return a digest of the NAS's state of it."""
    text = json.dumps([watch, observe(watch, run)], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def read_records(path: str = RECORD_PATH) -> dict[str, Any]:
    """Return the roles' records ({} when there are none or the file is unreadable)."""
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != RECORD_VERSION:
        return {}
    roles = data.get("roles")
    return roles if isinstance(roles, dict) else {}


def write_records(roles: dict[str, Any], path: str = RECORD_PATH) -> None:
    """Write the roles' records atomically (root only: fingerprints cover secrets)."""
    text = json.dumps({"version": RECORD_VERSION, "roles": roles}, sort_keys=True) + "\n"
    write_atomically(path, text.encode("utf-8"), 0o600)


def record_of(fingerprint: str, calls: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Given a role's fingerprint and its calls' `watched` results (each may carry `facts`
    for the roles after it, e.g. the release's path), return the role's record."""
    calls = list(calls)
    facts: dict[str, Any] = {}
    for call in calls:
        facts.update(call.get("facts") or {})
    return {"fingerprint": fingerprint, "facts": facts,
            "watched": [{"watch": call["watch"], "state": call["state"]} for call in calls]}


def valid_watch(watch: Any) -> bool:
    """Return whether a watch has only known keys, each a list of strings that commands
    cannot take for options or lines (an item reaches systemctl, dpkg-query and btrfs as an
    argument: never one starting with '-', holding a control character, or empty)."""
    return isinstance(watch, dict) and all(
        key in WATCH_KEYS and isinstance(items, list)
        and all(isinstance(item, str) and item and not item.startswith("-")
                and not any(ord(character) < 32 for character in item) for item in items)
        for key, items in watch.items())


def _valid(record: Any) -> bool:
    return isinstance(record, dict) and isinstance(record.get("watched"), list) and all(
        isinstance(call, dict) and valid_watch(call.get("watch"))
        and isinstance(call.get("state"), str) for call in record["watched"])


def current_roles(fingerprints: dict[str, str], records: dict[str, Any],
                  run: Run = run_command) -> dict[str, str]:
    """Given each role's input fingerprint and the records, return for each role why it must
    run ("" when it need not: same inputs, and the NAS's state of every watch unchanged)."""
    reasons = {}
    for role, fingerprint in fingerprints.items():
        record = records.get(role)
        if not _valid(record):
            reasons[role] = "no record of a converged run"
        elif record.get("fingerprint") != fingerprint:
            reasons[role] = "its inputs changed"
        else:
            try:
                changed = any(call["state"] != state_digest(call["watch"], run)
                              for call in record["watched"])
            except (OSError, ValueError, TypeError):
                changed = True
            reasons[role] = "what it manages changed on the NAS" if changed else ""
    return reasons
