"""Sync collector against a real HTTP stand-in for Syncthing's REST API (1.19 and newer)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from ansible_collections.nasops.nas.plugins.module_utils.syncthing_client import (
    SyncthingClient,
    SyncthingError,
)
from exporter_samples import (
    API_KEY,
    FakeSyncthing,
    Samples,
    answer_key,
    device_id,
    parse_samples,
    syncthing_answers,
    value,
)
from prometheus_client import generate_latest

from nasops.exporter.collectors.sync import SyncCollector, SyncReader
from nasops.exporter.collectors.syncthing import timestamp
from nasops.exporter.registry import GuardedCollectors, build_registry


def sync_samples(url: str, api_key: str = API_KEY) -> Samples:
    collector = SyncCollector(SyncReader(SyncthingClient(url, api_key, timeout_seconds=2)), 60)
    collector.refresher.refresh_once()
    registry = build_registry(GuardedCollectors([collector]), process_metrics=False)
    return parse_samples(generate_latest(registry).decode())


def test_folders_devices_and_completion_are_exported() -> None:
    with FakeSyncthing(syncthing_answers(folder_count=3, devices_per_folder=2)) as fake:
        samples = sync_samples(fake.url)
    connected, never_seen = device_id(0), device_id(1)
    assert value(samples, "nasops_collector_up", collector="sync") == 1
    assert value(samples, "nasops_sync_folder_info", folder="folder-1", label="Folder 1",
                 type="sendreceive") == 1
    assert value(samples, "nasops_sync_folder_state", folder="folder-0", state="syncing") == 1
    assert value(samples, "nasops_sync_folder_state", folder="folder-0", state="idle") == 0
    assert value(samples, "nasops_sync_folder_need_bytes", folder="folder-2") == 2048
    assert value(samples, "nasops_sync_folder_need_items", folder="folder-2") == 2
    assert value(samples, "nasops_sync_folder_errors", folder="folder-0") == 1
    assert value(samples, "nasops_sync_folder_errors", folder="folder-1") == 0
    assert value(samples, "nasops_sync_folder_state_changed_timestamp_seconds",
                 folder="folder-0") == pytest.approx(1714550400.123456)
    assert value(samples, "nasops_sync_device_completion_ratio", folder="folder-1",
                 device=never_seen, device_name="laptop-1") == pytest.approx(0.505)
    assert value(samples, "nasops_sync_device_need_items", folder="folder-1",
                 device=never_seen, device_name="laptop-1") == 3
    assert value(samples, "nasops_sync_device_connected", device=connected,
                 device_name="laptop-0") == 1
    assert value(samples, "nasops_sync_device_connected", device=never_seen,
                 device_name="laptop-1") == 0
    assert value(samples, "nasops_sync_device_last_seen_timestamp_seconds", device=never_seen,
                 device_name="laptop-1") == 0
    # The NAS itself is neither a device nor a completion target.
    assert not [key for key in samples if ("device_name", "nas") in key[1]]


def test_a_paused_folder_is_exported_as_paused_without_asking_its_status() -> None:
    answers = syncthing_answers(folder_count=1)
    answers[answer_key("/rest/config/folders")][0]["paused"] = True
    del answers[answer_key("/rest/db/status", folder="folder-0")]
    with FakeSyncthing(answers) as fake:
        samples = sync_samples(fake.url)
    assert value(samples, "nasops_collector_up", collector="sync") == 1
    assert value(samples, "nasops_sync_folder_paused", folder="folder-0") == 1
    assert value(samples, "nasops_sync_folder_need_bytes", folder="folder-0") is None


def test_an_unknown_newer_state_is_still_shown() -> None:
    answers = syncthing_answers(folder_count=1)
    answers[answer_key("/rest/db/status", folder="folder-0")]["state"] = "sync-dreaming"
    with FakeSyncthing(answers) as fake:
        samples = sync_samples(fake.url)
    assert value(samples, "nasops_sync_folder_state", folder="folder-0",
                 state="sync-dreaming") == 1


def test_what_a_laptop_does_with_a_folder_is_shown_when_syncthing_says() -> None:
    answers = syncthing_answers(folder_count=2, devices_per_folder=2, remote_state=True)
    laptop = device_id(0)  # the connected one
    # Syncthing 1.20 or later (Debian 13's 1.29): this laptop never accepted folder-0.
    answers[answer_key("/rest/db/completion", folder="folder-0", device=laptop)].update(
        completion=0, remoteState="notSharing")
    with FakeSyncthing(answers) as fake:
        samples = sync_samples(fake.url)
    labels = {"device": laptop, "device_name": "laptop-0"}
    assert value(samples, "nasops_sync_device_remote_state", folder="folder-0",
                 state="notSharing", **labels) == 1
    assert value(samples, "nasops_sync_device_remote_state", folder="folder-0",
                 state="valid", **labels) == 0
    assert value(samples, "nasops_sync_device_remote_state", folder="folder-1",
                 state="valid", **labels) == 1
    assert value(samples, "nasops_sync_device_remote_state", folder="folder-1",
                 device=device_id(1), device_name="laptop-1", state="unknown") == 1


def test_a_syncthing_that_does_not_say_gets_no_remote_state() -> None:
    # Debian 12's Syncthing 1.19: no remoteState in its answers, and nothing is made up.
    with FakeSyncthing(syncthing_answers(folder_count=2, devices_per_folder=2)) as fake:
        samples = sync_samples(fake.url)
    assert not [key for key in samples if key[0] == "nasops_sync_device_remote_state"]
    assert value(samples, "nasops_sync_device_completion_ratio", folder="folder-1",
                 device=device_id(1), device_name="laptop-1") == pytest.approx(0.505)


def broken(key: str, replacement: Any) -> dict[str, Any]:
    answers = syncthing_answers(folder_count=2)
    answers[key] = replacement
    return answers


def state_answer(key: str, state: str) -> dict[str, Any]:
    """Answers where one state Syncthing gives is not a word (it ends up in labels and text)."""
    answers = syncthing_answers(folder_count=2, remote_state=True)
    if key == "state":
        answers[answer_key("/rest/db/status", folder="folder-0")]["state"] = state
    else:
        answers[answer_key("/rest/db/completion", folder="folder-0", device=device_id(0))][
            "remoteState"] = state
    return answers


@pytest.mark.parametrize("answers", [
    broken(answer_key("/rest/db/status", folder="folder-1"), {"state": "idle"}),
    broken(answer_key("/rest/db/status", folder="folder-1"), b"<html>proxy error</html>"),
    broken(answer_key("/rest/config/folders"), {"folders": "not a list"}),
    broken(answer_key("/rest/stats/device"), []),
    broken(answer_key("/rest/system/status"), {"uptime": 3}),
    broken(answer_key("/rest/db/completion", folder="folder-0", device=device_id(1)),
           {"completion": "100"}),
    state_answer("state", "idle\n# HELP forged"),
    state_answer("remoteState", "valid\x1b[2J"),
], ids=["missing-field", "not-json", "wrong-shape", "list-for-object", "no-own-id",
        "string-number", "state-not-a-word", "remote-state-not-a-word"])
def test_malformed_answers_mark_only_the_sync_collector_down(answers: dict[str, Any]) -> None:
    with FakeSyncthing(answers) as fake:
        samples = sync_samples(fake.url)
    assert value(samples, "nasops_collector_up", collector="sync") == 0
    assert not [key for key in samples if key[0].startswith("nasops_sync_")]


def test_a_wrong_api_key_is_reported_without_showing_the_key() -> None:
    with FakeSyncthing(syncthing_answers()) as fake:
        client = SyncthingClient(fake.url, "wrong-key", timeout_seconds=2)
        with pytest.raises(SyncthingError, match="answered 403") as caught:
            client.get("/rest/system/status")
    assert "wrong-key" not in str(caught.value)


def test_syncthing_down_marks_the_collector_down() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    samples = sync_samples(f"http://127.0.0.1:{port}")
    assert value(samples, "nasops_collector_up", collector="sync") == 0


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-05-01T10:00:00Z", 1714557600.0),
    ("2024-05-01T10:00:00.123456789+02:00", 1714550400.123456),
    ("0001-01-01T00:00:00Z", 0.0),
    ("1970-01-01T01:00:00+01:00", 0.0),
])
def test_syncthing_times_with_nanoseconds_and_zero_times(text: str, expected: float) -> None:
    assert timestamp(text, "test") == pytest.approx(expected)
