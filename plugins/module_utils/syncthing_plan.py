"""Planning helpers of the nas_sync modules: pure functions, no I/O.

Given Syncthing's current config (as its REST API returns it) and the desired folders,
devices and options, return the requests that close the gap and the contract's `changes`
entries ({kind: sync, target, detail}). Syncthing fills omitted fields with its defaults, so
only the fields nasops manages are compared; everything else in an existing object is kept.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

KIND = "sync"
# Fields nasops owns on every device and folder, with the values it always wants.
DEVICE_FIXED = {"introducer": False, "autoAcceptFolders": False, "paused": False,
                "untrusted": False}
FOLDER_FIXED = {"ignorePerms": True, "paused": False}
FOLDER_TYPES = ("sendreceive", "sendonly")
# Characters with a meaning in Syncthing ignore patterns, escaped with a backslash.
PATTERN_SPECIALS = "\\*?[]{}"
IGNORE_HEADER = ("// Written by nasops (role nas_sync): folders below with other rights are "
                 "not part of this folder.\n")
IGNORE_FILE = ".stignore"
MARKER = ".stfolder"


def change(target: str, detail: str) -> dict[str, str]:
    """Given a target and a detail, return one entry of the `changes` list."""
    return {"kind": KIND, "target": target, "detail": detail}


def short_id(device_id: str) -> str:
    """Given a device ID, return its first group, as Syncthing shows it in logs."""
    return device_id.split("-", 1)[0]


def escape_pattern(relative: str) -> str:
    """Given a folder path relative to a synced folder, return the ignore pattern that
    matches exactly that folder (anchored, special characters escaped)."""
    escaped = "".join("\\" + character if character in PATTERN_SPECIALS else character
                      for character in relative)
    return "/" + escaped


def ignore_text(excluded: Iterable[str]) -> str:
    """Given the nested folders a synced folder leaves out, return its .stignore text."""
    return IGNORE_HEADER + "".join(escape_pattern(path) + "\n" for path in sorted(excluded))


def view_path(views_root: str, folder_id: str) -> str:
    """Given the views directory and a folder ID, return the path Syncthing sees."""
    return posixpath.join(views_root, folder_id)


# ---------------------------------------------------------------------------------------------
# Validation of the desired state (the role passes the compiled `sync` section).


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value) and not any(ord(c) < 32 for c in value)


def folder_problems(folders: Sequence[Mapping[str, Any]]) -> list[str]:
    """Given the desired folders, return what is wrong with them (empty when all is well)."""
    problems: list[str] = []
    seen: set[str] = set()
    for number, folder in enumerate(folders):
        where = f"folders[{number}]"
        folder_id, path = folder.get("id"), folder.get("path")
        if not _text(folder_id) or "/" in str(folder_id) or folder_id in seen:
            problems.append(f"{where}: id must be a unique name without '/' ({folder_id!r})")
        seen.add(str(folder_id))
        if not _text(path) or not str(path).startswith("/"):
            problems.append(f"{where}: path must be absolute ({path!r})")
        if folder.get("type") not in FOLDER_TYPES:
            problems.append(f"{where}: type must be one of {', '.join(FOLDER_TYPES)}")
        excluded = folder.get("excluded", [])
        if not isinstance(excluded, list) or not all(
                _text(item) and not item.startswith("/") and ".." not in item.split("/")
                for item in excluded):
            problems.append(f"{where}: excluded must list relative folder paths")
        if not isinstance(folder.get("devices", []), list):
            problems.append(f"{where}: devices must be a list of device IDs")
    return problems


# ---------------------------------------------------------------------------------------------
# Options and GUI.


def plan_options(current: Mapping[str, Any], desired: Mapping[str, Any],
                 ) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Given current and desired options, return (the PATCH body, changes)."""
    patch = {key: value for key, value in desired.items() if current.get(key) != value}
    return patch, [change("options", f"{key}: {current.get(key)!r} -> {value!r}")
                   for key, value in sorted(patch.items())]


def gui_needs_password(gui: Mapping[str, Any]) -> bool:
    """Given the GUI config, return whether the web GUI is open without a password."""
    return not gui.get("user") or not gui.get("password")


# ---------------------------------------------------------------------------------------------
# Devices.


@dataclass
class Requests:
    """What to send to Syncthing: objects to PUT (create or replace) and IDs to DELETE."""

    puts: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    changes: list[dict[str, str]] = field(default_factory=list)


def plan_devices(current: Sequence[Mapping[str, Any]], desired: Sequence[Mapping[str, Any]],
                 own_id: str) -> Requests:
    """Given the current and desired remote devices and the NAS's own ID, return requests.

    A device gone from the spec is deleted from Syncthing (and so unshared everywhere); the
    files it synchronised stay on the NAS."""
    requests = Requests()
    existing = {device["deviceID"]: device for device in current if device["deviceID"] != own_id}
    wanted_ids = set()
    for device in desired:
        device_id = device["id"]
        wanted_ids.add(device_id)
        target = f"device {device['name']}"
        wanted = {"deviceID": device_id, "name": device["name"],
                  "addresses": list(device["addresses"]), **DEVICE_FIXED}
        before = existing.get(device_id)
        if before is None:
            requests.puts.append(wanted)
            requests.changes.append(change(target, f"add {short_id(device_id)} at "
                                                   f"{', '.join(wanted['addresses'])}"))
            continue
        differing = {key: value for key, value in wanted.items() if before.get(key) != value}
        if differing:
            requests.puts.append({**before, **wanted})
            requests.changes += [change(target, f"{key}: {before.get(key)!r} -> {value!r}")
                                 for key, value in sorted(differing.items())]
    for device_id, before in sorted(existing.items()):
        if device_id not in wanted_ids:
            requests.deletes.append(device_id)
            requests.changes.append(change(
                f"device {before.get('name') or short_id(device_id)}",
                f"remove {short_id(device_id)} (unshared; its files on the NAS stay)"))
    return requests


# ---------------------------------------------------------------------------------------------
# Folders.


def _device_names(names: Mapping[str, str], device_ids: Iterable[str]) -> str:
    return ", ".join(sorted(names.get(device_id, short_id(device_id))
                            for device_id in device_ids)) or "nobody"


def plan_folders(current: Sequence[Mapping[str, Any]], desired: Sequence[Mapping[str, Any]],
                 own_id: str, views_root: str, names: Mapping[str, str]) -> Requests:
    """Given the current and desired folders, the NAS's own ID, the views directory and
    device names by ID, return requests. Folders not in the spec are removed from Syncthing;
    their files stay on the NAS."""
    requests = Requests()
    existing = {folder["id"]: folder for folder in current}
    for folder in desired:
        folder_id = folder["id"]
        target = f"folder {folder.get('label') or folder_id} ({folder_id})"
        remote = [device for device in dict.fromkeys(folder.get("devices", []))
                  if device != own_id]
        wanted = {"id": folder_id, "label": folder.get("label", ""),
                  "path": view_path(views_root, folder_id), "type": folder["type"],
                  **FOLDER_FIXED}
        before = existing.pop(folder_id, None)
        if before is None:
            devices = [{"deviceID": own_id}] + [{"deviceID": device} for device in remote]
            requests.puts.append({**wanted, "devices": devices})
            requests.changes.append(change(target, f"add {folder['type']} at {folder['path']}, "
                                                   f"shared with {_device_names(names, remote)}"))
            continue
        differing = {key: value for key, value in wanted.items() if before.get(key) != value}
        details = [f"{key}: {before.get(key)!r} -> {value!r}"
                   for key, value in sorted(differing.items())]
        kept = [entry for entry in before.get("devices") or []
                if entry.get("deviceID") == own_id or entry.get("deviceID") in remote]
        have = {entry.get("deviceID") for entry in kept}
        added = [device for device in remote if device not in have]
        removed = [entry.get("deviceID") for entry in before.get("devices") or []
                   if entry.get("deviceID") not in have]
        if own_id not in have:
            kept.insert(0, {"deviceID": own_id})
        if added:
            details.append(f"share with {_device_names(names, added)}")
        if removed:
            details.append(f"unshare from {_device_names(names, removed)}")
        if details:
            devices = kept + [{"deviceID": device} for device in added]
            requests.puts.append({**before, **wanted, "devices": devices})
            requests.changes += [change(target, detail) for detail in details]
    for folder_id, before in sorted(existing.items()):
        requests.deletes.append(folder_id)
        requests.changes.append(change(f"folder {before.get('label') or folder_id} ({folder_id})",
                                       "remove (no longer synchronised; its files stay)"))
    return requests
