"""`nasops sync status` against the exporter's real-HTTP Syncthing stand-in."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from exporter_samples import (
    API_KEY,
    OWN_DEVICE,
    FakeSyncthing,
    answer_key,
    device_id,
    syncthing_answers,
)

from nasops.cli.main import main
from nasops.errors import BadInputError
from nasops.sync.status import load_connection, read_api_key, render_status


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["sync", "status", *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def answers() -> dict[str, Any]:
    answers = syncthing_answers(folder_count=2, devices_per_folder=2)
    answers[answer_key("/rest/system/version")] = {"version": "v1.19.2-ds1"}
    folders = answers[answer_key("/rest/config/folders")]
    folders[1]["type"] = "sendonly"
    return answers


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "syncthing.env"
    path.write_text(f"STGUIAPIKEY={API_KEY}\n", encoding="utf-8")
    return path


@pytest.fixture
def fake(answers: dict[str, Any]) -> Iterator[FakeSyncthing]:
    with FakeSyncthing(answers) as server:
        yield server


def test_json_gives_folders_devices_completion_last_seen_and_errors(
        fake: FakeSyncthing, key_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--json", "--url", fake.url, "--api-key-file", str(key_file))
    assert code == 0, err
    status = json.loads(out)
    assert status["syncthing_version"] == "v1.19.2-ds1"
    assert status["device_id"] == OWN_DEVICE  # the NAS's own, what laptops add
    first, second = status["folders"]
    assert (first["id"], first["state"], first["error_count"]) == ("folder-0", "syncing", 1)
    assert first["errors"] == [{"path": "locked.docx", "error": "permission denied"}]
    assert second["need_bytes"] == 1024 and second["need_items"] == 1
    laptop = next(item for item in first["devices"] if item["id"] == device_id(1))
    assert (laptop["name"], laptop["completion_percent"], laptop["need_bytes"],
            laptop["need_items"]) == ("laptop-1", 50.5, 4096, 3)
    devices = {device["id"]: device for device in status["devices"]}
    assert devices[device_id(0)]["connected"] is True
    assert devices[device_id(0)]["last_seen"] == "2024-05-01T08:00:00.123456Z"
    assert devices[device_id(1)] == {"id": device_id(1), "name": "laptop-1", "connected": False,
                                     "paused": False, "last_seen": None}


def test_text_says_who_is_disconnected_since_when_and_what_a_send_only_folder_refuses(
        fake: FakeSyncthing, key_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--url", fake.url, "--api-key-file", str(key_file))
    assert code == 0, err
    assert out.startswith(f"Syncthing v1.19.2-ds1 at {fake.url}\n"
                          f"this NAS's device ID: {OWN_DEVICE}\n")
    assert ("Folder 0 (folder-0, sendreceive): syncing, the NAS needs 0 B (0 items), "
            "1 error(s)") in out
    assert "    error: locked.docx: permission denied" in out
    assert "Folder 1 (folder-1, sendonly): idle, refuses 1.0 KiB (1 items) changed on laptops" \
        in out
    assert "  laptop-1: 50.5 % complete, needs 4.0 KiB (3 items); disconnected, last seen never" \
        in out
    assert "laptop-0 [AAAAAAA]: connected" in out


def test_a_folder_a_laptop_never_accepted_is_said_so_where_syncthing_tells(
        key_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = syncthing_answers(folder_count=2, devices_per_folder=2, remote_state=True)
    answers[answer_key("/rest/system/version")] = {"version": "v1.29.5"}
    # The connected laptop-0 never accepted folder-1 (Syncthing 1.20 or later says so).
    answers[answer_key("/rest/db/completion", folder="folder-1", device=device_id(0))].update(
        completion=0, remoteState="notSharing")
    with FakeSyncthing(answers) as server:
        code, out, err = run(capsys, "--url", server.url, "--api-key-file", str(key_file))
        assert code == 0, err
        assert "  laptop-0: has not accepted this folder; connected" in out
        # The folder it did accept keeps its completion.
        assert "  laptop-0: 100.0 % complete" in out
        code, out, err = run(capsys, "--json", "--url", server.url, "--api-key-file",
                             str(key_file))
    folders = json.loads(out)["folders"]
    states = {(folder["id"], item["id"]): item["remote_state"] for folder in folders
              for item in folder["devices"]}
    assert states[("folder-1", device_id(0))] == "notSharing"
    assert states[("folder-0", device_id(0))] == "valid"
    assert states[("folder-0", device_id(1))] == "unknown"


def test_json_has_no_remote_state_from_a_syncthing_that_does_not_say(
        fake: FakeSyncthing, key_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--json", "--url", fake.url, "--api-key-file", str(key_file))
    assert code == 0, err
    assert {item["remote_state"] for folder in json.loads(out)["folders"]
            for item in folder["devices"]} == {None}


def test_a_last_seen_time_is_shown_with_its_age() -> None:
    document = {"syncthing_version": "v1", "url": "http://x", "folders": [], "devices": [
        {"id": device_id(2), "name": "laptop-nepal (bthapa)", "connected": False,
         "paused": False, "last_seen": "2024-05-01T10:00:00Z"}]}
    text = render_status(document, now=1714557600.0 + 600)
    assert "laptop-nepal (bthapa) [CCCCCCC]: disconnected, last seen " in text
    assert "(10 min ago)" in text and "no synced folders" in text


def test_the_config_written_by_the_role_is_used_and_options_override_it(
        fake: FakeSyncthing, key_file: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "sync.json"
    config.write_text(json.dumps({"version": 1, "url": fake.url,
                                  "api_key_file": str(key_file)}), encoding="utf-8")
    code, out, err = run(capsys, "--json", "--config", str(config))
    assert code == 0, err
    assert json.loads(out)["url"] == fake.url
    plain = tmp_path / "key"
    plain.write_text(f"{API_KEY}\n", encoding="utf-8")
    connection = load_connection(config, None, plain)
    assert (connection.url, connection.api_key) == (fake.url, API_KEY)


@pytest.mark.parametrize(("content", "message"), [
    ("", "no API key"),
    ("A=1\nB=2\n", "no API key"),
])
def test_a_key_file_without_a_key_is_bad_input(tmp_path: Path, content: str,
                                               message: str) -> None:
    path = tmp_path / "key"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BadInputError, match=message):
        read_api_key(path)


def test_bad_input_exits_2_and_syncthing_down_exits_1(
        key_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--config", str(tmp_path / "missing.json"))
    assert code == 2 and "give --url and --api-key-file" in err
    code, _, err = run(capsys, "--url", "file:///etc/passwd", "--api-key-file", str(key_file))
    assert code == 2 and "http://" in err
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, _, err = run(capsys, "--url", f"http://127.0.0.1:{port}", "--api-key-file",
                       str(key_file))
    assert code == 1 and "cannot read Syncthing" in err


def test_a_wrong_key_is_reported_without_showing_it(
        fake: FakeSyncthing, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("STGUIAPIKEY='not-the-key'\n", encoding="utf-8")
    code, _, err = run(capsys, "--url", fake.url, "--api-key-file", str(wrong))
    assert code == 1 and "answered 403" in err and "not-the-key" not in err
