"""`nasops sync status`: what Syncthing on the NAS says about its folders and laptops.

Read through the REST API with the collection's client and the exporter's reader (one
definition of how Syncthing 1.19 is read); this module only adds the error details, the
connection settings and the rendering for people (text) and programs (JSON).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ansible_collections.nasops.nas.plugins.module_utils.syncthing_client import (
    SyncthingClient,
    SyncthingError,
    url_problem,
)

from nasops.backup.display import format_bytes, format_moment
from nasops.errors import BadInputError, NasopsError
from nasops.exporter.collectors.sync import SyncReader, SyncSnapshot
from nasops.exporter.collectors.syncthing import mapping, sequence, text

DEFAULT_CONFIG_PATH = "/etc/nasops/sync.json"
STATUS_VERSION = 1
# The role writes the key as the service's environment file (STGUIAPIKEY=…).
KEY_VARIABLE = "STGUIAPIKEY"
ERRORS_SHOWN = 20


class SyncStatusError(NasopsError):
    """Syncthing could not be read (exit code 1)."""


@dataclass(frozen=True)
class Connection:
    """Where the REST API is and its key."""

    url: str
    api_key: str


def read_api_key(path: Path) -> str:
    """Given a key file (the key alone, or an environment file with STGUIAPIKEY=), return
    the key; raise BadInputError if it cannot be read or holds none."""
    try:
        content = path.read_text(encoding="utf-8")
    except OSError as error:
        raise BadInputError(f"{path}: cannot read the API key: {error.strerror}") from None
    lines = [line.strip() for line in content.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(f"{KEY_VARIABLE}="):
            return line.split("=", 1)[1].strip().strip("'\"")
    if len(lines) == 1 and "=" not in lines[0]:
        return lines[0]
    raise BadInputError(f"{path}: no API key in it (expected the key alone or "
                        f"{KEY_VARIABLE}=…)")


def load_connection(config_path: Path, url: str | None, api_key_file: Path | None,
                    ) -> Connection:
    """Given the config path and the command-line overrides, return the connection.

    The config (written by the nas_sync role) is only read for what the options leave out.
    """
    config: Mapping[str, Any] = {}
    if url is None or api_key_file is None:
        try:
            loaded = json.loads(config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BadInputError(f"{config_path} does not exist: run this on a NAS where nasops "
                                "set up sync, or give --url and --api-key-file") from None
        except (OSError, ValueError) as error:
            raise BadInputError(f"{config_path}: cannot read it: {error}") from None
        if not isinstance(loaded, dict) or not isinstance(loaded.get("url"), str) \
                or not isinstance(loaded.get("api_key_file"), str):
            raise BadInputError(f"{config_path}: expected an object with 'url' and "
                                "'api_key_file'")
        config = loaded
    chosen_url = url or str(config["url"])
    problem = url_problem(chosen_url)
    if problem:
        raise BadInputError(f"--url {problem}")
    key_file = api_key_file or Path(str(config["api_key_file"]))
    return Connection(chosen_url, read_api_key(key_file))


def _iso(timestamp: float) -> str | None:
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def _errors(client: SyncthingClient, folder: str) -> list[dict[str, str]]:
    where = f"/rest/folder/errors?folder={folder}"
    answer = mapping(client.get("/rest/folder/errors", folder=folder), where)
    return [{"path": text(mapping(item, where), "path", where, ""),
             "error": text(mapping(item, where), "error", where, "")}
            for item in sequence(answer.get("errors"), where)[:ERRORS_SHOWN]]


def status_document(snapshot: SyncSnapshot, errors: Mapping[str, list[dict[str, str]]],
                    url: str, version: str) -> dict[str, Any]:
    """Given what the reader read, the error details per folder, the URL and Syncthing's
    version, return the JSON document of `nasops sync status --json`."""
    names = {device.device: device.name for device in snapshot.devices}
    folders = []
    for folder in snapshot.folders:
        completions = [item for item in snapshot.completions if item.folder == folder.folder]
        folders.append({
            "id": folder.folder, "label": folder.label, "type": folder.folder_type,
            "paused": folder.paused, "state": folder.state or None,
            "state_changed": _iso(folder.state_changed),
            "need_bytes": int(folder.need_bytes), "need_items": int(folder.need_items),
            "global_bytes": int(folder.global_bytes), "error_count": folder.errors,
            "errors": errors.get(folder.folder, []),
            "devices": [{"id": item.device, "name": names.get(item.device, ""),
                         "completion_percent": round(item.ratio * 100, 2),
                         "need_bytes": int(item.need_bytes), "need_items": int(item.need_items),
                         "remote_state": item.remote_state or None}
                        for item in completions],
        })
    devices = [{"id": device.device, "name": device.name, "connected": device.connected,
                "paused": device.paused, "last_seen": _iso(device.last_seen)}
               for device in snapshot.devices]
    return {"version": STATUS_VERSION, "url": url, "syncthing_version": version,
            "device_id": snapshot.own_device, "folders": folders, "devices": devices}


def read_status(connection: Connection, timeout_seconds: float = 10) -> dict[str, Any]:
    """Given the connection, read Syncthing and return the status document; raise
    SyncStatusError when Syncthing cannot be reached or answers nonsense."""
    client = SyncthingClient(connection.url, connection.api_key, timeout_seconds=timeout_seconds)
    try:
        snapshot = SyncReader(client).read()
        version = text(mapping(client.get("/rest/system/version"), "/rest/system/version"),
                       "version", "/rest/system/version", "")
        errors = {folder.folder: _errors(client, folder.folder)
                  for folder in snapshot.folders if folder.errors}
    except SyncthingError as error:
        raise SyncStatusError(f"cannot read Syncthing: {error}") from None
    return status_document(snapshot, errors, connection.url, version)


def _need(folder: Mapping[str, Any]) -> str:
    amount = f"{format_bytes(folder['need_bytes'])} ({folder['need_items']} items)"
    if folder["type"] == "sendonly":
        # A send-only folder never takes a change: what it "needs" are refused changes.
        if not folder["need_items"]:
            return "no change refused"
        return f"refuses {amount} changed on laptops that may only read"
    return f"the NAS needs {amount}"


def _device_state(device: Mapping[str, Any], now: float) -> str:
    if device["paused"]:
        return "paused"
    if device["connected"]:
        return "connected"
    seen = device["last_seen"]
    moment = datetime.fromisoformat(seen).timestamp() if seen else None
    return f"disconnected, last seen {format_moment(moment, now)}"


def render_status(document: Mapping[str, Any], now: float | None = None) -> str:
    """Given the status document, return it as lines for people."""
    moment = now if now is not None else time.time()
    devices = {device["id"]: device for device in document["devices"]}
    lines = [f"Syncthing {document['syncthing_version'] or '?'} at {document['url']}"]
    if document.get("device_id"):
        # What laptops add (`nasops guide --nas-device-id` prints it with a QR code).
        lines.append(f"this NAS's device ID: {document['device_id']}")
    if not document["folders"]:
        lines.append("no synced folders")
    for folder in document["folders"]:
        title = f"{folder['label'] or folder['id']} ({folder['id']}, {folder['type']})"
        if folder["paused"]:
            lines += ["", f"{title}: paused"]
            continue
        errors = f", {folder['error_count']} error(s)" if folder["error_count"] else ""
        lines += ["", f"{title}: {folder['state']}, {_need(folder)}{errors}"]
        lines += [f"    error: {item['path']}: {item['error']}" for item in folder["errors"]]
        for item in folder["devices"]:
            device = devices.get(item["id"])
            state = _device_state(device, moment) if device else "unknown device"
            name = item["name"] or item["id"][:7]
            if item.get("remote_state") == "notSharing":
                # Newer Syncthing says so: its "completion" would only repeat the folder size.
                lines.append(f"  {name}: has not accepted this folder; {state}")
                continue
            lines.append(f"  {name}: {item['completion_percent']:.1f} %"
                         f" complete, needs {format_bytes(item['need_bytes'])} "
                         f"({item['need_items']} items); {state}")
    lines += ["", "Devices:"] if document["devices"] else ["", "no remote devices"]
    for device in document["devices"]:
        lines.append(f"  {device['name'] or '?'} [{device['id'][:7]}]: "
                     f"{_device_state(device, moment)}")
    return "\n".join(lines)
