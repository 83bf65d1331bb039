"""The lab state file and the running / stopped / stale decision."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from nasops.errors import BadInputError
from nasops.lab.paths import LabDirectories
from nasops.lab.processes import ProcessRecord
from nasops.lab.registry import scan_hosts
from nasops.lab.state import (
    Condition,
    HostState,
    Observation,
    classify,
    leftovers,
    load_state,
    save_state,
    state_from_json,
    state_to_json,
)

STATE = HostState(
    name="nas",
    address="127.0.0.2",
    hostname="nas",
    base_root="/var/cache/nasops/lab/bookworm-0123/rootfs",
    volume_bytes=2 << 30,
    machine_id="0" * 32,
    address_added=True,
    nspawn=ProcessRecord(100, 5000),
    leader=ProcessRecord(101, 5001),
)
RUNNING = Observation(
    nspawn_alive=True,
    leader_alive=True,
    root_mounted=True,
    volume_mounted=True,
    loop_devices=("/dev/loop0",),
    address_present=True,
)


def test_state_round_trips_through_json() -> None:
    assert state_from_json(state_to_json(STATE)) == STATE


def test_state_without_processes_round_trips() -> None:
    stopped = STATE.without_processes()
    assert stopped.nspawn is None and stopped.leader is None
    assert state_from_json(state_to_json(stopped)) == stopped


def test_save_and_load(tmp_path: Path) -> None:
    path = tmp_path / "nas" / "state.json"
    assert load_state(path) is None
    save_state(path, STATE)
    assert load_state(path) == STATE
    assert not list(path.parent.glob("*.partial"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "[]",
        '{"version": 1}',
        '{"version": 99, "name": "nas"}',
        '{"version": 1, "name": 1}',
    ],
)
def test_unreadable_state_says_how_to_recover(text: str) -> None:
    with pytest.raises(BadInputError, match="--purge"):
        state_from_json(text, "state.json")


def test_a_fully_up_host_is_running() -> None:
    assert classify(STATE, RUNNING) is Condition.RUNNING
    assert leftovers(STATE, RUNNING)  # everything is up, so everything is listed


def test_nothing_left_is_stopped() -> None:
    assert classify(STATE, Observation()) is Condition.STOPPED
    assert leftovers(STATE, Observation()) == []


def test_killed_nspawn_with_surviving_container_is_stale() -> None:
    crashed = replace(RUNNING, nspawn_alive=False)
    assert classify(STATE, crashed) is Condition.STALE
    assert "container init pid 101" in leftovers(STATE, crashed)


@pytest.mark.parametrize(
    "observation",
    [
        Observation(root_mounted=True),
        Observation(volume_mounted=True),
        Observation(loop_devices=("/dev/loop3",)),
        Observation(address_present=True),
        Observation(other_mounts=("/var/lib/nasops/lab/nas/root/proc",)),
        replace(RUNNING, leader_alive=False),
        replace(RUNNING, address_present=False),
    ],
)
def test_anything_left_behind_without_a_whole_host_is_stale(observation: Observation) -> None:
    assert classify(STATE, observation) is Condition.STALE


def test_an_address_we_did_not_add_is_not_a_leftover() -> None:
    borrowed = replace(STATE, address_added=False)
    assert classify(borrowed, Observation(address_present=True)) is Condition.STOPPED


def test_leftovers_name_each_thing() -> None:
    everything = replace(RUNNING, nspawn_alive=False)
    assert leftovers(STATE, everything) == [
        "container init pid 101",
        "overlay root mount",
        "data volume mount",
        "loop device /dev/loop0",
        "address 127.0.0.2 on lo",
    ]


def test_scan_hosts_lists_readable_states_and_names_broken_ones(tmp_path: Path) -> None:
    directories = LabDirectories(tmp_path / "state", tmp_path / "cache")
    save_state(directories.host("nas").state_file, STATE)
    broken = directories.host("offsite").state_file
    broken.parent.mkdir(parents=True)
    broken.write_text("{broken")
    (directories.state_root / ".lock").write_text("")
    states, unreadable = scan_hosts(directories)
    assert states == [STATE]
    assert list(unreadable) == ["offsite"]
    assert "nasops lab down --name offsite --purge" in unreadable["offsite"]


def test_a_state_written_before_releases_is_a_bookworm_host() -> None:
    import json  # noqa: PLC0415

    data = json.loads(state_to_json(STATE))
    data.pop("release")
    assert state_from_json(json.dumps(data)).release == "bookworm"
    assert state_from_json(state_to_json(replace(STATE, release="trixie"))).release == "trixie"
