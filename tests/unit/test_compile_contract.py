"""The typed desired-state contract: compile goes through it without changing a byte, it
refuses what it does not name, and its fingerprint is the hash of one canonical text."""

from __future__ import annotations

import copy
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from pydantic import ValidationError
from test_rights_properties import SETTINGS, spec_data, to_spec

from nasops.ansible.inventory import TargetHost
from nasops.ansible.workspace import write_workspace
from nasops.compile import compile_desired, compile_spec
from nasops.compile.contract import (
    DesiredState,
    canonical_json,
    desired_fingerprint,
    desired_json,
)
from nasops.compile.desired import desired_data
from nasops.spec import load_spec

REPOSITORY = Path(__file__).parents[2]
UNIT = Path(__file__).parent
SPECS = [
    REPOSITORY / "src" / "nasops" / "data" / "starter-spec.yml",
    REPOSITORY / "inventory" / "example" / "wsm.yml",
    *sorted((UNIT / "spec_corpus" / "valid").glob("*.yml")),
    UNIT / "fixtures" / "ansible" / "specs" / "small.yml",
    UNIT / "fixtures" / "ansible" / "specs" / "other.yml",
]
EXAMPLE = SPECS[1]


def workspace_bytes(data: dict[str, Any]) -> str:
    """The desired file as nasops.ansible.workspace writes it for a run (written for real:
    the NAS keeps a copy, which must not differ from `nasops compile -o`'s)."""
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "run"
        directory.mkdir()
        write_workspace(directory, [TargetHost("nas", Path(scratch) / "spec.yml", None)],
                        {"nas": data})
        return (directory / "desired" / "nas.json").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def example_data() -> dict[str, Any]:
    return desired_data(load_spec(EXAMPLE).spec)


def test_the_corpus_covers_backups_sync_and_prefixes() -> None:
    # The byte-for-byte test below is worth only what its specs exercise.
    states = [desired_data(load_spec(path).spec) for path in SPECS]
    assert {state["backup"]["enabled"] for state in states} == {True, False}
    assert any(state["sync"]["folders"] for state in states)
    assert any(state["organizations"][0]["account_prefix"] for state in states)
    assert any(share["quota_bytes"] for state in states for share in state["shares"])
    assert any(folder["renamed_from"] for state in states for share in state["shares"]
               for folder in share["folders"])


@pytest.mark.parametrize("path", SPECS, ids=lambda path: path.name)
def test_compile_through_the_model_changes_no_byte(path: Path) -> None:
    spec = load_spec(path).spec
    before = desired_data(spec)
    state = compile_desired(spec)
    after = compile_spec(spec)
    assert after == before
    # Same keys in the same order (model field order), and the run's desired file unchanged.
    assert json.dumps(after, ensure_ascii=False) == json.dumps(before, ensure_ascii=False)
    assert desired_json(state) == workspace_bytes(before)


@pytest.mark.parametrize("path", SPECS, ids=lambda path: path.name)
def test_the_written_json_reads_back_as_the_same_state(path: Path) -> None:
    state = compile_desired(load_spec(path).spec)
    again = DesiredState.model_validate_json(desired_json(state))
    assert again == state
    assert desired_fingerprint(again) == desired_fingerprint(state)
    assert DesiredState.model_validate(json.loads(desired_json(state))) == state


@SETTINGS
@given(spec_data())
def test_random_specs_compile_through_the_model_unchanged(data: dict[str, Any]) -> None:
    spec = to_spec(data)
    assert compile_spec(spec) == desired_data(spec)


def extra_key_places(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Return (where, mapping) for one mapping of every kind of the contract."""
    share = next(share for share in state["shares"] if share["folders"][0]["entries"])
    sync = state["sync"]
    backup = state["backup"]
    return [("top", state), ("groups[0]", state["groups"][0]), ("users[0]", state["users"][0]),
            ("share", share), ("folder", share["folders"][0]),
            ("entry", share["folders"][0]["entries"][0]), ("sync", sync),
            ("sync.options", sync["options"]), ("sync.devices[0]", sync["devices"][0]),
            ("sync.folders[0]", sync["folders"][0]), ("backup", backup),
            ("backup.repositories[0]", backup["repositories"][0]),
            ("backup.repositories[0].retention", backup["repositories"][0]["retention"]),
            ("backup.check", backup["check"]),
            ("backup.drill", backup["drill"]), ("monitoring", state["monitoring"])]


@pytest.mark.parametrize("where", [where for where, _ in extra_key_places(
    desired_data(load_spec(EXAMPLE).spec))])
def test_a_key_the_contract_does_not_name_is_refused(example_data: dict[str, Any],
                                                     where: str) -> None:
    state = copy.deepcopy(example_data)
    mapping = dict(extra_key_places(state))[where]
    mapping["colour"] = "red"
    with pytest.raises(ValidationError, match="colour") as raised:
        DesiredState.model_validate(state)
    assert [error["type"] for error in raised.value.errors()] == ["extra_forbidden"]


@pytest.mark.parametrize(("change", "expected"), [
    (lambda state: state.pop("organizations"), "missing"),
    (lambda state: state["organizations"][0].pop("root"), "missing"),
    (lambda state: state["users"][0].pop("users_group"), "missing"),
    (lambda state: state.update(version=1), "literal_error"),
    (lambda state: state["shares"][0].update(quota_bytes="200G"), "int_type"),
    (lambda state: state["shares"][0].update(quota_bytes=-1), "greater_than_equal"),
    (lambda state: state["users"][0].update(enabled="yes"), "bool_type"),
    (lambda state: state["users"][0].update(login=7), "string_type"),
    (lambda state: state["shares"][0]["folders"][0]["entries"][0].update(level="rw"),
     "literal_error"),
    (lambda state: state["sync"]["folders"][0].update(type="receiveonly"), "literal_error"),
    (lambda state: state["sync"]["options"].update(usage_reporting=True), "literal_error"),
    (lambda state: state["monitoring"].update(port=70000), "less_than_equal"),
    (lambda state: state.update(backup={"enabled": False, "schedule": "daily"}),
     "extra_forbidden"),
    (lambda state: state.update(backup={"enabled": True}), "missing"),
], ids=["missing-organizations", "missing-root", "missing-users-group", "version-1",
        "quota-text", "quota-negative", "enabled-text", "login-number", "level-rw",
        "sync-type", "usage-reporting", "port", "backup-off-extra", "backup-on-empty"])
def test_wrong_values_are_refused(example_data: dict[str, Any], change: Any,
                                  expected: str) -> None:
    state = copy.deepcopy(example_data)
    change(state)
    with pytest.raises(ValidationError) as raised:
        DesiredState.model_validate(state)
    assert expected in {error["type"] for error in raised.value.errors()}


def test_backup_off_is_just_enabled_false(example_data: dict[str, Any]) -> None:
    state = DesiredState.model_validate({**example_data, "backup": {"enabled": False}})
    assert state.model_dump(mode="json")["backup"] == {"enabled": False}


def test_a_state_cannot_be_changed_after_compile(example_data: dict[str, Any]) -> None:
    state = DesiredState.model_validate(example_data)
    with pytest.raises(ValidationError, match="frozen"):
        state.root = "/elsewhere"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        state.shares[0].path = "/elsewhere"  # type: ignore[misc]


def test_fingerprint_is_the_sha256_of_the_canonical_text() -> None:
    state = {"b": [1, {"d": None, "c": "Bénin"}], "a": True}
    canonical = '{"a":true,"b":[1,{"c":"Bénin","d":null}]}'
    assert canonical_json(state) == canonical
    assert desired_fingerprint(state) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert desired_fingerprint(dict(reversed(state.items()))) == desired_fingerprint(state)


def test_fingerprint_of_a_model_and_of_its_data_agree(example_data: dict[str, Any]) -> None:
    state = DesiredState.model_validate(example_data)
    fingerprint = desired_fingerprint(state)
    assert len(fingerprint) == 64 and int(fingerprint, 16) >= 0
    assert desired_fingerprint(example_data) == fingerprint
    assert desired_fingerprint(json.loads(desired_json(state))) == fingerprint


def test_fingerprint_changes_with_one_acl_entry(example_data: dict[str, Any]) -> None:
    changed = copy.deepcopy(example_data)
    entry = next(entry for share in changed["shares"] for folder in share["folders"]
                 for entry in folder["entries"] if entry["level"] == "write")
    entry["level"] = "read"
    assert desired_fingerprint(DesiredState.model_validate(changed)) != desired_fingerprint(
        DesiredState.model_validate(example_data))
