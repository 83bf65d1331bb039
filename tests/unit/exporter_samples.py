"""Fakes for the exporter's tests and benchmark: a real HTTP Syncthing stand-in and fixtures.

FakeSyncthing is a real http.server on 127.0.0.1 (not a mock): the exporter's client, its
timeouts and its error handling are exercised over a socket, exactly as against Syncthing.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ansible_collections.nasops.nas.plugins.module_utils.syncthing_client import SyncthingClient
from prometheus_client.parser import text_string_to_metric_families

from nasops.backup.status import record
from nasops.exporter.collectors.backup import BackupCollector
from nasops.exporter.collectors.backup_schedule import ScheduleIntervals
from nasops.exporter.collectors.base import BackgroundCollector, SourceCollector
from nasops.exporter.collectors.btrfs import BtrfsQgroupReader
from nasops.exporter.collectors.drift import DriftCollector
from nasops.exporter.collectors.quota import QuotaCollector, QuotaReader
from nasops.exporter.collectors.samba import SambaCollector, SambaReader
from nasops.exporter.collectors.sync import SyncCollector, SyncReader
from nasops.exporter.config import (
    BackupScheduleConfig,
    ExpectedRepository,
    OrganizationConfig,
    ShareConfig,
)
from nasops.exporter.run_records import (
    APPLY_FILE,
    DRIFT_FILE,
    ApplyRecord,
    DriftRecord,
    write_apply_record,
    write_drift_record,
)

API_KEY = "fake-syncthing-api-key"
OWN_DEVICE = "NASNASN-NASNASN-NASNASN-NASNASN-NASNASN-NASNASN-NASNASN-NASNASN"
SEEN = "2024-05-01T10:00:00.123456789+02:00"
NEVER = "1970-01-01T01:00:00+01:00"


def device_id(number: int) -> str:
    """Given a number, return a well-formed, distinct Syncthing device ID."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    groups = [letters[(number + index) % 32] * 7 for index in range(8)]
    return "-".join(groups)


def answer_key(path: str, **parameters: str) -> str:
    """Given an endpoint and its query parameters, return the key FakeSyncthing looks up."""
    return f"{path}?{urllib.parse.urlencode(sorted(parameters.items()))}"


def syncthing_answers(folder_count: int = 2, devices_per_folder: int = 2,
                      *, remote_state: bool = False) -> dict[str, Any]:
    """Return the answers of a Syncthing 1.19 with that many folders and remote devices (of a
    1.20 or later with `remote_state`: completions say what the remote does with the folder).

    Folder `folder-0` has one pull error; device 0 is connected, the others not, and the last
    device was never seen.
    """
    device_count = max(devices_per_folder, 1)
    devices = [device_id(number) for number in range(device_count)]
    answers: dict[str, Any] = {
        answer_key("/rest/system/status"): {"myID": OWN_DEVICE, "uptime": 100},
        answer_key("/rest/config/devices"): [{"deviceID": OWN_DEVICE, "name": "nas"}] + [
            {"deviceID": device, "name": f"laptop-{number}", "paused": False}
            for number, device in enumerate(devices)],
        answer_key("/rest/system/connections"): {"connections": {
            device: {"connected": number == 0, "paused": False, "address": ""}
            for number, device in enumerate(devices)}, "total": {}},
        answer_key("/rest/stats/device"): {
            device: {"lastSeen": NEVER if number == device_count - 1 and number else SEEN,
                     "lastConnectionDurationS": 10.5}
            for number, device in enumerate(devices)},
    }
    folders = []
    for number in range(folder_count):
        folder = f"folder-{number}"
        members = devices[:devices_per_folder]
        folders.append({"id": folder, "label": f"Folder {number}", "type": "sendreceive",
                        "path": f"/srv/nas/{folder}", "paused": False,
                        "devices": [{"deviceID": OWN_DEVICE}] + [
                            {"deviceID": device, "introducedBy": ""} for device in members]})
        answers[answer_key("/rest/db/status", folder=folder)] = {
            "state": "idle" if number else "syncing", "stateChanged": SEEN,
            "needBytes": 1024 * number, "needTotalItems": number, "globalBytes": 10**9,
            "pullErrors": int(number == 0), "errors": 0, "version": 3}
        answers[answer_key("/rest/folder/errors", folder=folder)] = {
            "folder": folder, "page": 1, "perpage": 65536,
            "errors": [{"path": "locked.docx", "error": "permission denied"}]
            if number == 0 else None}
        for index, device in enumerate(members):
            answers[answer_key("/rest/db/completion", folder=folder, device=device)] = {
                "completion": 100 if index == 0 else 50.5, "globalBytes": 10**9,
                "needBytes": 0 if index == 0 else 4096, "needItems": 0 if index == 0 else 3,
                "needDeletes": 0, "sequence": 9}
            if remote_state:  # Syncthing says "unknown" for a device not connected now
                answers[answer_key("/rest/db/completion", folder=folder, device=device)][
                    "remoteState"] = "valid" if index == 0 else "unknown"
    answers[answer_key("/rest/config/folders")] = folders
    return answers


class FakeSyncthing:
    """Serves `answers` (key -> JSON value, or bytes sent as they are) on 127.0.0.1."""

    def __init__(self, answers: dict[str, Any], api_key: str = API_KEY) -> None:
        self.answers = answers
        self.api_key = api_key
        self.requests = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.requests += 1
                if self.headers.get("X-API-Key") != fake.api_key:
                    self._send(403, b"CSRF Error\n")
                    return
                parsed = urllib.parse.urlsplit(self.path)
                parameters = dict(urllib.parse.parse_qsl(parsed.query))
                key = answer_key(parsed.path, **parameters)
                if key not in fake.answers:
                    self._send(404, b"404 page not found\n")
                    return
                value = fake.answers[key]
                body = value if isinstance(value, bytes) else json.dumps(value).encode()
                self._send(200, body)

            def _send(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Stay quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the fake."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeSyncthing:
        self._thread.start()
        return self

    def __exit__(self, *_exception: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def qgroup_show_output(subvolume_ids: dict[int, tuple[int, int | None]],
                       with_path: bool = True) -> str:
    """Given {subvolume id: (referenced bytes, limit or None)}, return `qgroup show` output.

    with_path=True mimics btrfs-progs 6.x (header words and a Path column), False 5.x.
    """
    if with_path:
        lines = ["Qgroupid    Referenced    Exclusive  Max referenced  Max exclusive   Path ",
                 "--------    ----------    ---------  --------------  -------------   ---- ",
                 "0/5              16384        16384            none           none   "
                 "<toplevel>"]
    else:
        lines = ["qgroupid         rfer         excl     max_rfer     max_excl ",
                 "--------         ----         ----     --------     -------- ",
                 "0/5             16384        16384         none         none "]
    for identifier, (referenced, limit) in sorted(subvolume_ids.items()):
        maximum = "none" if limit is None else str(limit)
        row = f"0/{identifier:<8} {referenced:>12} {referenced:>12} {maximum:>15} {'none':>14}"
        lines.append(row + (f"   share-{identifier}" if with_path else " "))
    return "\n".join(lines) + "\n"


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_samples(text: str) -> Samples:
    """Given exposition text, return {(sample name, labels): value} (parsed by client_python)."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """Given parsed samples, return the value of name{labels}, or None when absent."""
    return samples.get((name, frozenset(labels.items())))


def names(samples: Samples) -> set[str]:
    """Given parsed samples, return the sample names present."""
    return {name for name, _labels in samples}


def scrape(url: str, headers: dict[str, str] | None = None, timeout: float = 10,
           context: ssl.SSLContext | None = None) -> str:
    """GET url and return the body; raise urllib.error.HTTPError on an error status."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - test URLs
    with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:  # noqa: S310
        return str(answer.read().decode("utf-8"))


def smbstatus_document(sessions: int = 3, open_files: int = 2) -> str:
    """Return `smbstatus --json` output with that many sessions and open files."""
    return json.dumps({
        "timestamp": "2024-05-01T10:15:00.000000+0200", "version": "4.17.12-Debian",
        "smb_conf": "/etc/samba/smb.conf",
        "sessions": {str(1000 + number): {"session_id": str(1000 + number),
                                          "username": f"user{number % 2}",
                                          "remote_machine": "192.0.2.10"}
                     for number in range(sessions)},
        "tcons": {str(2000 + number): {"service": "Afrique" if number else "IPC$",
                                       "session_id": str(1000 + number)}
                  for number in range(sessions)},
        "open_files": {f"/srv/nas/wsm/Afrique/file-{number}.docx": {
            "service_path": "/srv/nas/wsm/Afrique", "filename": f"file-{number}.docx",
            "opens": {}} for number in range(open_files)},
    })


def write_fixture_state(state_directory: Path, now: float) -> None:
    """Write backup status files (nasops.backup.status's own writer) and run records.

    Repository usb: an old success then a failure, a failed check. Repository offsite:
    a recent success with unreadable files, a passed check and drill.
    """
    backup = state_directory / "backup"

    def attempt(result: str, finished_at: float, **fields: Any) -> dict[str, Any]:
        return {"started_at": finished_at - 60, "finished_at": finished_at, "result": result,
                "duration_seconds": 60.0, "error_kind": None, "message": None, **fields}

    made = {"snapshot_id": "1a2b3c4d", "files_new": 12, "files_total": 20000,
            "bytes_new": 1048576, "bytes_total": 524288000, "unreadable_file_count": 0,
            "snapshot_count": 21}
    record(backup, "usb", "backup", attempt("success", now - 86400 * 3, **made), success=True)
    record(backup, "usb", "backup", attempt("failed", now - 3600))
    record(backup, "usb", "check", attempt("failed", now - 7200))
    record(backup, "offsite", "backup",
           attempt("warning", now - 3600, **{**made, "unreadable_file_count": 2}), success=True)
    record(backup, "offsite", "check", attempt("success", now - 7200), success=True)
    record(backup, "offsite", "drill", attempt("success", now - 9000, problem_count=0),
           success=True)
    write_apply_record(state_directory / APPLY_FILE,
                       ApplyRecord(finished_at=now - 600, result="success", changed_items=3,
                                   started_at=now - 660))
    write_drift_record(state_directory / DRIFT_FILE,
                       DriftRecord(checked_at=now - 300, result="drift", drifted_items=2,
                                   drifted_by_kind={"acl": 2}))


def fixture_schedules(directory: Path) -> BackupScheduleConfig:
    """The spec's repositories usb and offsite (both with status files) and archive (none:
    it never ran), with their timer files as nas_backup installs them."""
    timers = directory / "timers"
    timers.mkdir(parents=True, exist_ok=True)
    for timer in ("usb", "offsite", "archive"):
        (timers / f"nasops-backup@{timer}.timer").write_text("[Timer]\n", encoding="utf-8")
    for timer in ("check", "drill"):
        (timers / f"nasops-backup-{timer}.timer").write_text("[Timer]\n", encoding="utf-8")
    return BackupScheduleConfig(
        repositories=[ExpectedRepository(name=name, schedule="daily", organization="wsm")
                      for name in ("usb", "offsite", "archive")],
        timer_directory=str(timers))


def fixture_calendar(argv: Sequence[str], _timeout: float) -> str:
    """`systemd-analyze calendar` for the fixture's schedules: daily, weekly, monthly."""
    second = {"daily": "2024-04-02", "weekly": "2024-04-08", "monthly": "2024-05-01"}
    return (f"    Next elapse: Mon 2024-04-01 00:00:00 UTC\n"
            f"       Iter. #2: Tue {second[argv[-1]]} 00:00:00 UTC\n")


def fixture_collectors(directory: Path, syncthing_url: str) -> list[SourceCollector]:
    """Return one collector per source, all fed from fixtures under directory, refreshed.

    Share Afrique has a qgroup (subvolume 256); share Éducation has none and is walked.
    """
    write_fixture_state(directory, time.time())
    walked = directory / "volume" / "Éducation"
    walked.mkdir(parents=True, exist_ok=True)
    (walked / "affiche.pdf").write_bytes(b"%PDF" * 1000)
    qgroups = qgroup_show_output({256: (150 * 1024**3, 200 * 1024**3)})

    def btrfs(argv: Sequence[str], _timeout: float) -> str:
        return "256\n" if "rootid" in argv else qgroups

    shares = [ShareConfig(name="Afrique", path=str(directory / "volume" / "Afrique"),
                          quota_bytes=200 * 1024**3, organization="wsm"),
              ShareConfig(name="Éducation", path=str(walked), quota_bytes=1024**3,
                          organization="wsm")]
    qgroup_reader = BtrfsQgroupReader(runner=btrfs, is_subvolume=lambda path: "Afrique" in path)
    quota_reader = QuotaReader(str(directory / "volume"), shares, "auto", qgroup_reader,
                               organizations=[OrganizationConfig(
                                   id="wsm", root=str(directory / "volume"),
                                   quota_bytes=500 * 1024**3)])
    quota_reader.walk()
    client = SyncthingClient(syncthing_url, API_KEY, timeout_seconds=5)
    collectors: list[SourceCollector] = [
        QuotaCollector(quota_reader, 60, 3600),
        SyncCollector(SyncReader(client), 60),
        BackupCollector(directory / "backup", schedules=fixture_schedules(directory),
                        intervals=ScheduleIntervals(["systemd-analyze", "calendar"],
                                                    fixture_calendar)),
        DriftCollector(directory),
        SambaCollector(SambaReader(runner=lambda _argv, _timeout: smbstatus_document()), 30),
    ]
    for collector in collectors:
        if isinstance(collector, BackgroundCollector):
            collector.refresher.refresh_once()
    return collectors
