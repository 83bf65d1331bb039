"""Syncthing folders and devices, read from its REST API in the background.

One refresh makes 5 + 2 × folders + (folder, remote device) pairs requests; completion is
expensive for Syncthing, so the interval is long (default 60 s) and scrapes never call it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ansible_collections.nasops.nas.plugins.module_utils.syncthing_client import (
    SyncthingClient,
    SyncthingError,
)
from prometheus_client.core import Metric

from nasops.exporter.collectors.base import BackgroundCollector, gauge, info
from nasops.exporter.collectors.syncthing import (
    mapping,
    number,
    sequence,
    text,
    timestamp,
)

# Folder states of Syncthing 1.19 (lib/model/folderstate.go); exported as a state set.
FOLDER_STATES = ("idle", "scanning", "scan-waiting", "sync-waiting", "sync-preparing",
                 "syncing", "cleaning", "clean-waiting", "error")
# What a remote device does with a folder the NAS shares with it, as Syncthing 1.20 and later
# (Debian 13's 1.29; not Debian 12's 1.19) says in /rest/db/completion's remoteState ("unknown"
# while it is not connected): only with it can a laptop that never accepted a folder be told
# from one that is behind.
REMOTE_STATES = ("valid", "paused", "notSharing", "unknown")
# Either state, known or from a newer Syncthing, becomes a label value and a word of
# `nasops sync status`: a word, or the answer is malformed.
STATE_WORD = re.compile(r"[A-Za-z][A-Za-z-]{0,39}")


@dataclass(frozen=True)
class FolderStatus:
    """One shared folder as Syncthing sees it."""

    folder: str
    label: str
    folder_type: str
    paused: bool
    state: str = ""
    state_changed: float = 0.0
    need_bytes: float = 0.0
    need_items: float = 0.0
    global_bytes: float = 0.0
    errors: int = 0


@dataclass(frozen=True)
class Completion:
    """How complete one remote device is for one folder."""

    folder: str
    device: str
    ratio: float
    need_bytes: float
    need_items: float
    remote_state: str = ""
    """Syncthing's remoteState; empty when this Syncthing does not give it."""


@dataclass(frozen=True)
class DeviceStatus:
    """One remote device."""

    device: str
    name: str
    connected: bool
    paused: bool
    last_seen: float
    """Unix time; 0 when Syncthing never saw it."""


@dataclass(frozen=True)
class SyncSnapshot:
    """Everything the sync collector exports."""

    folders: tuple[FolderStatus, ...]
    completions: tuple[Completion, ...]
    devices: tuple[DeviceStatus, ...]
    own_device: str = ""
    """The NAS's own device ID (what laptops add; `nasops sync status` shows it)."""


class SyncReader:
    """Reads a SyncSnapshot through a SyncthingClient; raises SyncthingError on bad answers."""

    def __init__(self, client: SyncthingClient) -> None:
        self.client = client

    def _folder(self, entry: object, own_device: str) -> tuple[FolderStatus, list[str]]:
        config = mapping(entry, "/rest/config/folders")
        folder = text(config, "id", "/rest/config/folders")
        devices = [text(mapping(device, "/rest/config/folders"), "deviceID",
                        "/rest/config/folders") for device in sequence(config.get("devices"),
                                                                      "/rest/config/folders")]
        label = text(config, "label", "/rest/config/folders", "")
        folder_type = text(config, "type", "/rest/config/folders", "")
        remote = [device for device in devices if device != own_device]
        if config.get("paused") is True:
            return FolderStatus(folder, label, folder_type, True), remote
        where = f"/rest/db/status?folder={folder}"
        status = mapping(self.client.get("/rest/db/status", folder=folder), where)
        errors_where = f"/rest/folder/errors?folder={folder}"
        errors = mapping(self.client.get("/rest/folder/errors", folder=folder), errors_where)
        return FolderStatus(
            folder, label, folder_type, False,
            state=state_word(text(status, "state", where), "state", where),
            state_changed=timestamp(status.get("stateChanged"), where),
            need_bytes=number(status, "needBytes", where),
            need_items=number(status, "needTotalItems", where),
            global_bytes=number(status, "globalBytes", where),
            errors=len(sequence(errors.get("errors"), errors_where)),
        ), remote

    def _completion(self, folder: str, device: str) -> Completion:
        where = f"/rest/db/completion?folder={folder}&device={device}"
        answer = mapping(self.client.get("/rest/db/completion", folder=folder, device=device),
                         where)
        # needItems appeared in 1.x answers; older ones only give bytes.
        items = number(answer, "needItems", where) if "needItems" in answer else 0.0
        remote_state = text(answer, "remoteState", where, "")
        if remote_state:
            state_word(remote_state, "remoteState", where)
        return Completion(folder, device, number(answer, "completion", where) / 100,
                          number(answer, "needBytes", where), items, remote_state)

    def read(self) -> SyncSnapshot:
        """Return the folders, per (folder, remote device) completion and devices."""
        own_device = text(mapping(self.client.get("/rest/system/status"),
                                  "/rest/system/status"), "myID", "/rest/system/status")
        folders: list[FolderStatus] = []
        completions: list[Completion] = []
        for entry in sequence(self.client.get("/rest/config/folders"), "/rest/config/folders"):
            status, remote = self._folder(entry, own_device)
            folders.append(status)
            if not status.paused:
                completions += [self._completion(status.folder, device) for device in remote]
        connections = mapping(mapping(self.client.get("/rest/system/connections"),
                                      "/rest/system/connections").get("connections", {}),
                              "/rest/system/connections")
        statistics = mapping(self.client.get("/rest/stats/device"), "/rest/stats/device")
        devices: list[DeviceStatus] = []
        for entry in sequence(self.client.get("/rest/config/devices"), "/rest/config/devices"):
            config = mapping(entry, "/rest/config/devices")
            device = text(config, "deviceID", "/rest/config/devices")
            if device == own_device:
                continue
            connection = mapping(connections.get(device, {}), "/rest/system/connections")
            seen = mapping(statistics.get(device, {}), "/rest/stats/device").get("lastSeen")
            devices.append(DeviceStatus(
                device, text(config, "name", "/rest/config/devices", ""),
                connection.get("connected") is True, config.get("paused") is True,
                timestamp(seen, "/rest/stats/device") if seen is not None else 0.0))
        return SyncSnapshot(tuple(folders), tuple(completions), tuple(devices),
                            own_device)


class SyncCollector(BackgroundCollector[SyncSnapshot]):
    """Exports nasops_sync_* from a SyncReader refreshed in the background."""

    name = "sync"

    def __init__(self, reader: SyncReader, interval_seconds: float,
                 *, clock: Callable[[], float] | None = None) -> None:
        super().__init__(reader.read, interval_seconds, clock=clock)

    def families(self, snapshot: SyncSnapshot) -> list[Metric]:
        """Given a sync snapshot, return the nasops_sync_* families."""
        folders = snapshot.folders
        active = [folder for folder in folders if not folder.paused]
        names = {device.device: device.name for device in snapshot.devices}

        def per_folder(values: Callable[[FolderStatus], float]
                       ) -> Iterable[tuple[list[str], float]]:
            return (([folder.folder], values(folder)) for folder in active)

        def per_completion(values: Callable[[Completion], float]
                           ) -> Iterable[tuple[list[str], float]]:
            return (([item.folder, item.device, names.get(item.device, "")], values(item))
                    for item in snapshot.completions)

        device_labels = ["device", "device_name"]
        completion_labels = ["folder", *device_labels]
        return [
            info("nasops_sync_folder", "Syncthing folder id, label and type.", ["folder"],
                 (([folder.folder], {"label": folder.label, "type": folder.folder_type})
                  for folder in folders)),
            gauge("nasops_sync_folder_paused", "1 if the folder is paused.", ["folder"],
                  (([folder.folder], float(folder.paused)) for folder in folders)),
            gauge("nasops_sync_folder_state", "1 for the folder's current Syncthing state.",
                  ["folder", "state"],
                  (([folder.folder, state], float(folder.state == state)) for folder in active
                   for state in _known(folder.state, FOLDER_STATES))),
            gauge("nasops_sync_folder_state_changed_timestamp_seconds",
                  "When the folder last changed state.", ["folder"],
                  per_folder(lambda folder: folder.state_changed)),
            gauge("nasops_sync_folder_need_bytes",
                  "Bytes the NAS still needs to be in sync with the cluster.", ["folder"],
                  per_folder(lambda folder: folder.need_bytes)),
            gauge("nasops_sync_folder_need_items",
                  "Files, directories and deletions the NAS still needs.", ["folder"],
                  per_folder(lambda folder: folder.need_items)),
            gauge("nasops_sync_folder_global_bytes", "Size of the folder's latest version.",
                  ["folder"], per_folder(lambda folder: folder.global_bytes)),
            gauge("nasops_sync_folder_errors",
                  "Files the folder failed to scan or pull (GET /rest/folder/errors).",
                  ["folder"], per_folder(lambda folder: folder.errors)),
            gauge("nasops_sync_device_completion_ratio",
                  "How complete the remote device is for the folder, 0 to 1 (Syncthing's "
                  "last knowledge when the device is disconnected).", completion_labels,
                  per_completion(lambda item: item.ratio)),
            gauge("nasops_sync_device_need_bytes",
                  "Bytes the remote device still needs for the folder.", completion_labels,
                  per_completion(lambda item: item.need_bytes)),
            gauge("nasops_sync_device_need_items",
                  "Items the remote device still needs for the folder.", completion_labels,
                  per_completion(lambda item: item.need_items)),
            gauge("nasops_sync_device_remote_state",
                  "1 for what the remote device does with the folder: valid (shares it), "
                  "paused, notSharing (never accepted it or removed it), unknown (not "
                  "connected); only from a Syncthing that says (remoteState, 1.20 and later).",
                  [*completion_labels, "state"],
                  (([item.folder, item.device, names.get(item.device, ""), state],
                    float(item.remote_state == state))
                   for item in snapshot.completions if item.remote_state
                   for state in _known(item.remote_state, REMOTE_STATES))),
            gauge("nasops_sync_device_last_seen_timestamp_seconds",
                  "When Syncthing last saw the device; 0 if never.", device_labels,
                  (([device.device, device.name], device.last_seen)
                   for device in snapshot.devices)),
            gauge("nasops_sync_device_connected", "1 if the device is connected now.",
                  device_labels, (([device.device, device.name], float(device.connected))
                                  for device in snapshot.devices)),
            gauge("nasops_sync_device_paused", "1 if the device is paused on the NAS.",
                  device_labels, (([device.device, device.name], float(device.paused))
                                  for device in snapshot.devices)),
        ]


def state_word(value: str, key: str, where: str) -> str:
    """Given a state Syncthing answered, return it; raise SyncthingError unless it is a word."""
    if not STATE_WORD.fullmatch(value):
        raise SyncthingError(f"malformed answer from {where}: {key!r} is not a state word")
    return value


def _known(current: str, known: tuple[str, ...]) -> tuple[str, ...]:
    # An unknown state (a newer Syncthing) is still shown rather than silently dropped.
    return known if current in known else (*known, current)
