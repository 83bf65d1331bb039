"""Planning Syncthing's config from the desired state (module_utils/syncthing_plan.py), and the
module nasops.nas.syncthing converging a stateful Syncthing stand-in served over real HTTP."""

from __future__ import annotations

import copy
import json
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.nasops.nas.plugins.module_utils import syncthing_plan as plan
from ansible_collections.nasops.nas.plugins.module_utils.syncthing_client import (
    SyncthingClient,
    SyncthingError,
    SyncthingUnavailable,
)
from ansible_collections.nasops.nas.plugins.modules import syncthing

ROLE = Path(__file__).resolve().parents[2] / "roles" / "nas_sync"





OWN = "NASNASN-NASNASN-NASNASN-NASNASN-NASNASN-NASNASN-NASNASN-NASNASN"
WRITER = "WWWWWWW-WWWWWWW-WWWWWWW-WWWWWWW-WWWWWWW-WWWWWWW-WWWWWWW-WWWWWWW"
READER = "RRRRRRR-RRRRRRR-RRRRRRR-RRRRRRR-RRRRRRR-RRRRRRR-RRRRRRR-RRRRRRR"
VIEWS = "/var/lib/nasops-sync/folders"
KEY = "test-api-key-0123456789"
FOLDERS = [
    {"id": "wsm-afrique-96c442-rw", "label": "Afrique", "path": "/srv/nas/wsm/Afrique",
     "type": "sendreceive", "devices": [WRITER], "excluded": ["Finances"]},
    {"id": "wsm-afrique-96c442-ro", "label": "Afrique (read-only)",
     "path": "/srv/nas/wsm/Afrique", "type": "sendonly", "devices": [READER],
     "excluded": ["Finances"]},
]
DEVICES = [{"id": WRITER, "name": "laptop-w (adiallo)", "addresses": ["tcp://127.0.0.31:22000"]},
           {"id": READER, "name": "laptop-r (mlsimon)", "addresses": ["dynamic"]}]
OPTIONS = {"globalAnnounceEnabled": False, "relaysEnabled": False, "urAccepted": -1,
           "listenAddresses": ["tcp://127.0.0.30:22000"]}


# ---------------------------------------------------------------------------------------------
# Pure planning.


@pytest.mark.parametrize(("relative", "pattern"), [
    ("Finances", "/Finances"),
    ("Partenaires/Bénin", "/Partenaires/Bénin"),
    ("Notes [old] *draft*?", "/Notes \\[old\\] \\*draft\\*\\?"),
    ("a{b,c}\\d", "/a\\{b,c\\}\\\\d"),
])
def test_ignore_patterns_match_exactly_the_nested_folder(relative: str, pattern: str) -> None:
    assert plan.escape_pattern(relative) == pattern


def test_the_ignore_file_lists_the_left_out_folders_sorted_after_a_comment() -> None:
    text = plan.ignore_text(["Rapports", "Finances"])
    assert text.splitlines() == [plan.IGNORE_HEADER.strip(), "/Finances", "/Rapports"]
    assert plan.ignore_text([]) == plan.IGNORE_HEADER


def test_options_are_patched_only_where_they_differ() -> None:
    current = {"globalAnnounceEnabled": True, "relaysEnabled": False, "urAccepted": 0,
               "listenAddresses": ["default"], "maxSendKbps": 0}
    patch, changes = plan.plan_options(current, OPTIONS)
    assert patch == {"globalAnnounceEnabled": False, "urAccepted": -1,
                     "listenAddresses": ["tcp://127.0.0.30:22000"]}
    assert [change["target"] for change in changes] == ["options"] * 3
    assert plan.plan_options({**current, **patch}, OPTIONS) == ({}, [])


def test_devices_are_added_updated_and_removed_but_never_the_nas_itself() -> None:
    current = [{"deviceID": OWN, "name": "nas"},
               {"deviceID": WRITER, "name": "old name", "addresses": ["tcp://127.0.0.31:22000"],
                "introducer": False, "autoAcceptFolders": False, "paused": False,
                "untrusted": False, "compression": "metadata"},
               {"deviceID": "GONEGON-" * 7 + "GONEGON", "name": "laptop-gone (x)"}]
    requests = plan.plan_devices(current, DEVICES, OWN)
    assert [device["deviceID"] for device in requests.puts] == [WRITER, READER]
    assert requests.puts[0]["compression"] == "metadata"  # fields nasops does not own are kept
    assert requests.puts[0]["name"] == "laptop-w (adiallo)"
    assert requests.deletes == ["GONEGON-" * 7 + "GONEGON"]
    details = {change["target"]: change["detail"] for change in requests.changes}
    assert details["device laptop-gone (x)"].startswith("remove GONEGON (unshared")
    assert details["device laptop-r (mlsimon)"] == "add RRRRRRR at dynamic"


def test_folders_are_shared_unshared_retyped_and_removed() -> None:
    names = {WRITER: "laptop-w", READER: "laptop-r"}
    current = [
        {"id": FOLDERS[0]["id"], "label": "Afrique", "path": f"{VIEWS}/{FOLDERS[0]['id']}",
         "type": "sendonly", "ignorePerms": True, "paused": False, "rescanIntervalS": 60,
         "devices": [{"deviceID": OWN}, {"deviceID": READER, "introducedBy": ""}]},
        {"id": "made-in-the-gui", "label": "Photos", "path": "/tmp/x", "type": "sendreceive",
         "devices": [{"deviceID": OWN}]},
    ]
    requests = plan.plan_folders(current, FOLDERS, OWN, VIEWS, names)
    updated, added = requests.puts
    assert updated["type"] == "sendreceive" and updated["rescanIntervalS"] == 60
    assert [entry["deviceID"] for entry in updated["devices"]] == [OWN, WRITER]
    assert added["devices"] == [{"deviceID": OWN}, {"deviceID": READER}]
    assert added["path"] == f"{VIEWS}/{FOLDERS[1]['id']}" and added["ignorePerms"] is True
    assert requests.deletes == ["made-in-the-gui"]
    details = [change["detail"] for change in requests.changes]
    assert "type: 'sendonly' -> 'sendreceive'" in details
    assert "share with laptop-w" in details and "unshare from laptop-r" in details
    assert "remove (no longer synchronised; its files stay)" in details


def test_desired_folders_are_validated() -> None:
    problems = plan.folder_problems([
        {"id": "a", "path": "relative", "type": "receiveonly", "excluded": ["../up"]},
        {"id": "a", "path": "/ok", "type": "sendonly"},
    ])
    assert len(problems) == 4
    assert plan.folder_problems(FOLDERS) == []


# ---------------------------------------------------------------------------------------------
# The module against a stateful stand-in of Syncthing 1.19's REST config API.

FOLDER_DEFAULTS = {"rescanIntervalS": 3600, "fsWatcherEnabled": True, "ignorePerms": False,
                   "paused": False, "type": "sendreceive", "label": ""}
DEVICE_DEFAULTS = {"addresses": ["dynamic"], "compression": "metadata", "introducer": False,
                   "paused": False, "autoAcceptFolders": False, "untrusted": False}


class StatefulSyncthing:
    """Keeps a config and answers like Syncthing: PUT fills defaults, the NAS's own device
    joins every folder, a GUI change restarts nothing here but is recorded."""

    def __init__(self) -> None:
        self.config: dict[str, Any] = {
            "options": {"globalAnnounceEnabled": True, "relaysEnabled": True, "urAccepted": 0,
                        "listenAddresses": ["default"]},
            "gui": {"address": "127.0.0.1:8384", "user": "", "password": ""},
            "devices": {OWN: {"deviceID": OWN, "name": "nas", **DEVICE_DEFAULTS}},
            "folders": {},
        }
        self.writes: list[str] = []
        # When set, the first attempt of each distinct request is cut off without an answer,
        # as Syncthing does while starting or restarting its GUI listener; every other write
        # is cut after it was applied (the answer lost, not the change).
        self.cut_first_attempts = False
        self.seen: set[str] = set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, code: int, value: Any = None) -> None:
                body = b"" if value is None else json.dumps(value).encode()
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length)) if length else None

            def _handle(self) -> None:
                if self.headers.get("X-API-Key") != KEY:
                    self._answer(403, "CSRF Error")
                    return
                path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
                body = self._body()
                request = f"{self.command} {path} {json.dumps(body, sort_keys=True)}"
                if fake.cut_first_attempts and request not in fake.seen:
                    fake.seen.add(request)
                    if self.command != "GET" and len(fake.seen) % 2:
                        fake.route(self.command, path, body)
                    self.close_connection = True  # no status line: "closed without response"
                    return
                if self.command != "GET":
                    fake.writes.append(f"{self.command} {path}")
                self._answer(*fake.route(self.command, path, body))

            do_GET = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                """Stay quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """Given a request, change the config like Syncthing; return (status, answer)."""
        fixed = {"/rest/system/status": {"myID": OWN},
                 "/rest/config/restart-required": {"requiresRestart": False}}
        parts = path.strip("/").split("/")
        if path in fixed or parts[:2] != ["rest", "config"]:
            return (200, fixed[path]) if path in fixed else (404, None)
        section, key = parts[2], (parts[3] if len(parts) > 3 else None)
        stored = self.config[section]
        if method == "GET":
            return 200, copy.deepcopy(list(stored.values()) if key is None and
                                      section in ("devices", "folders") else stored)
        if method == "PATCH":
            if body.get("password"):
                body = {**body, "password": "$2a$10$hashed"}  # Syncthing hashes it
            stored.update(body)
        elif method == "DELETE":
            if key not in stored:
                return 404, "no such object"
            del stored[key]
        else:
            item = {**(FOLDER_DEFAULTS if section == "folders" else DEVICE_DEFAULTS), **body}
            if section == "folders" and OWN not in {d["deviceID"] for d in item["devices"]}:
                item["devices"] = [{"deviceID": OWN}, *item["devices"]]
            stored[key] = item
        return 200, None

    def __enter__(self) -> StatefulSyncthing:
        self.thread.start()
        return self

    def __exit__(self, *_exception: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def params(url: str, **overrides: Any) -> dict[str, Any]:
    return {"url": url, "api_key": KEY, "options": OPTIONS, "devices": DEVICES,
            "folders": FOLDERS, "views_root": VIEWS, "wait_seconds": 5,
            **overrides}


@pytest.fixture
def fake() -> Iterator[StatefulSyncthing]:
    with StatefulSyncthing() as server:
        yield server


def test_the_module_converges_then_changes_nothing(fake: StatefulSyncthing) -> None:
    rest = SyncthingClient(fake.url, KEY)
    warnings: list[str] = []
    planned = syncthing.converge(rest, params(fake.url), True, warnings.append)
    assert planned["changed"] and not fake.writes  # check mode sends nothing
    first = syncthing.converge(rest, params(fake.url), False, warnings.append)
    assert first["changes"] == planned["changes"] and first["device_id"] == OWN
    assert "PATCH /rest/config/gui" in fake.writes  # the open GUI got a password
    assert fake.config["options"]["urAccepted"] == -1
    afrique = fake.config["folders"][FOLDERS[0]["id"]]
    assert afrique["path"] == f"{VIEWS}/{FOLDERS[0]['id']}" and afrique["ignorePerms"] is True
    assert {entry["deviceID"] for entry in afrique["devices"]} == {OWN, WRITER}
    writes = len(fake.writes)
    second = syncthing.converge(rest, params(fake.url), False, warnings.append)
    assert second == {"changed": False, "changes": [], "restart_required": False,
                      "device_id": OWN}
    assert len(fake.writes) == writes and warnings == []


def test_a_device_gone_from_the_spec_is_unshared_then_removed(fake: StatefulSyncthing) -> None:
    rest = SyncthingClient(fake.url, KEY)
    syncthing.converge(rest, params(fake.url), False, print)
    fake.writes.clear()
    result = syncthing.converge(rest, params(fake.url, devices=DEVICES[:1], folders=FOLDERS[:1]),
                                False, print)
    assert READER not in fake.config["devices"]
    assert list(fake.config["folders"]) == [FOLDERS[0]["id"]]
    # The folder goes before the device it was shared with.
    assert fake.writes == [f"DELETE /rest/config/folders/{FOLDERS[1]['id']}",
                           f"DELETE /rest/config/devices/{READER}"]
    assert {change["target"] for change in result["changes"]} == {
        "device laptop-r (mlsimon)", f"folder Afrique (read-only) ({FOLDERS[1]['id']})"}


def test_requests_cut_off_without_an_answer_are_repeated_until_converged(
        fake: StatefulSyncthing, monkeypatch: pytest.MonkeyPatch) -> None:
    """Syncthing starting or restarting its GUI listener closes connections without an answer,
    at any request of a run (seen in CI on a first apply): each read and write is repeated,
    writes applied before the cut change nothing more, a repeated DELETE's 404 is success."""
    # Only the pause between attempts is shortened (every request is cut once: ~20 pauses);
    # the requests go over real HTTP to the stand-in.
    monkeypatch.setattr(syncthing, "RETRY_DELAY", 0.01)
    rest = SyncthingClient(fake.url, KEY)
    fake.cut_first_attempts = True
    first = syncthing.converge(rest, params(fake.url), False, print)
    assert first["changed"] and first["device_id"] == OWN
    assert set(fake.config["folders"]) == {folder["id"] for folder in FOLDERS}
    assert set(fake.config["devices"]) == {OWN, WRITER, READER}
    assert fake.config["gui"]["user"] == syncthing.GUI_USER
    removed = syncthing.converge(rest, params(fake.url, devices=DEVICES[:1], folders=FOLDERS[:1]),
                                 False, print)
    assert removed["changed"] and READER not in fake.config["devices"]
    assert list(fake.config["folders"]) == [FOLDERS[0]["id"]]
    fake.cut_first_attempts = False
    again = syncthing.converge(rest, params(fake.url, devices=DEVICES[:1], folders=FOLDERS[:1]),
                               False, print)
    assert again["changed"] is False


def test_a_check_on_a_nas_without_syncthing_yet_plans_everything_and_warns() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    warnings: list[str] = []
    result = syncthing.converge(SyncthingClient(url, KEY), params(url), True, warnings.append)
    assert result["changed"] and result["device_id"] == ""
    targets = [change["target"] for change in result["changes"]]
    assert targets.count("options") == len(OPTIONS) and "gui" in targets
    assert "does not answer yet" in warnings[0]
    with pytest.raises(SyncthingUnavailable):
        syncthing.converge(SyncthingClient(url, KEY), params(url, wait_seconds=0), False, print)


def test_a_wrong_api_key_is_named_without_showing_it(fake: StatefulSyncthing) -> None:
    rest = SyncthingClient(fake.url, "not-the-key")
    with pytest.raises(SyncthingError, match="wrong API key") as caught:
        syncthing.converge(rest, params(fake.url, api_key="not-the-key"), False, print)
    assert "not-the-key" not in str(caught.value)
