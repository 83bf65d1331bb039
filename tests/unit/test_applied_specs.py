"""The specs a NAS keeps once it matches them, and plan's "who gains and who loses access"
read back from them (nasops.provision.applied) — through the apply lock's real holder
script and reader, run locally as on the unit tests' fake NAS (ansible_connection=local).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_nas import SPEC

from nasops.ansible import TargetHost
from nasops.ansible.apply_lock import ApplyLocks
from nasops.provision.applied import (
    access_document,
    access_section,
    applied_record,
    read_applied,
)
from nasops.report.access_diff import access_diff, diff_document, render_text
from nasops.spec import load_spec


@pytest.fixture
def variables(tmp_path: Path) -> dict[str, str]:
    """The inventory variables of a local fake NAS keeping its records in tmp_path."""
    return {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "nasops_apply_lock_file": str(tmp_path / "apply.lock"),
            "nasops_apply_record_file": str(tmp_path / "apply.json")}


def _keep(variables: dict[str, str], target: TargetHost) -> None:
    """An apply with nothing to do: the NAS keeps the specs, records nothing."""
    locks = ApplyLocks("test-run")
    locks.acquire({target.name: variables}, [target.name])
    with locks:
        locks.keep({target.name: applied_record(target)}, [target.name])
        locks.let_go([target.name])
    assert locks.warnings == []


def _changed_spec(directory: Path) -> Path:
    """The small spec where Bob joins Finance, the private Money folder's group."""
    text = SPEC.read_text(encoding="utf-8")
    directory.mkdir()
    changed = directory / "small.yml"
    changed.write_text(text.replace("{login: bob, name: Bob, groups: [Team]}",
                                    "{login: bob, name: Bob, groups: [Team, Finance]}"),
                       encoding="utf-8")
    return changed


def test_a_nas_without_a_kept_spec_says_so(variables: dict[str, str]) -> None:
    reading = read_applied("local-nas", variables)
    assert (reading.found, reading.problem) == (False, "")
    assert access_section(reading, [SPEC]) == [
        "local-nas: no earlier apply of nasops' is kept on this NAS: `nasops access-report "
        "SPEC` shows who will reach what"]
    assert access_document(reading, [SPEC]) == {
        "known": False, "problem": None, "applied_at": None, "notes": [], "organisations": {},
        "gone": []}


def test_the_kept_spec_is_root_s_only_and_plan_says_who_gains_against_it(
        variables: dict[str, str], tmp_path: Path) -> None:
    _keep(variables, TargetHost("local-nas", SPEC, None))
    kept = tmp_path / "applied-specs.json"
    assert kept.stat().st_mode & 0o777 == 0o600
    record = json.loads(kept.read_text(encoding="utf-8"))
    assert record["specs"] == [{"file": "small.yml", "text": SPEC.read_text(encoding="utf-8")}]
    # The apply record (the exporter's) is not touched by keeping the specs.
    assert not (tmp_path / "apply.json").exists()

    reading = read_applied("local-nas", variables)
    assert reading.applied_at == record["applied_at"]
    unchanged = access_section(reading, [SPEC])
    assert unchanged[1:] == ["  tiny:", "    nobody gains or loses access"]

    changed = _changed_spec(tmp_path / "new")
    lines = access_section(reading, [changed])
    assert lines[0] == ("local-nas: who gains and who loses access (against the specs "
                        f"applied {record['applied_at']}):")
    # The same sentences as `nasops access-diff OLD NEW`.
    expected = render_text(access_diff(load_spec(SPEC).spec, load_spec(changed).spec))
    assert lines[1:] == ["  tiny:", *[f"    {line}" for line in expected.splitlines()]]
    assert "    Bob (bob):" in lines and "      can now change Common/Money" in lines

    # plan --json: the same comparison as access-diff's document, per organisation.
    document = access_document(reading, [changed])
    assert document == {
        "known": True, "problem": None, "applied_at": record["applied_at"], "notes": [],
        "organisations": {"tiny": {"applied_before": True, **diff_document(
            access_diff(load_spec(SPEC).spec, load_spec(changed).spec))}},
        "gone": []}
    assert document["organisations"]["tiny"]["changes"] == [
        {"login": "bob", "name": "Bob", "folder": "Common/Money", "before": "none",
         "after": "write", "sentence": "can now change Common/Money"}]


def test_a_record_nasops_did_not_write_is_a_line_not_a_failure(
        variables: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "applied-specs.json").write_text("{not json", encoding="utf-8")
    reading = read_applied("local-nas", variables)
    assert reading.problem == "not a record nasops wrote"
    assert access_section(reading, [SPEC]) == [
        "local-nas: who gains and who loses access is not known: what the NAS last applied "
        "could not be read (not a record nasops wrote)"]
    # A kept spec this nasops cannot read any more, and an organisation that left.
    (tmp_path / "applied-specs.json").write_text(json.dumps({"applied_at": "then", "specs": [
        {"file": "old.yml", "text": "version: 99\n"},
        # Half a character (JSON lets a lone surrogate through): a note, not a traceback.
        {"file": "half.yml", "text": "version: 1 # \udc80\n"},
        {"file": "gone.yml", "text": SPEC.read_text(encoding="utf-8").replace(
            "id: tiny", "id: gone")}]}), encoding="utf-8")
    lines = access_section(read_applied("local-nas", variables), [SPEC])
    assert "  the spec old.yml last applied no longer reads with this nasops version: " \
           "`nasops access-diff OLD NEW` compares two files" in lines
    assert any(line.startswith("  the spec half.yml last applied no longer reads")
               for line in lines)
    assert f"    not applied to this NAS before: `nasops access-report {SPEC}` shows who " \
           "will reach what" in lines
    assert lines[-1] == ("  gone: no longer in this NAS's specs: its people can no longer "
                         "log in; its files stay")


def test_a_long_section_is_cut_unless_all_is_asked(
        variables: dict[str, str], tmp_path: Path) -> None:
    text = SPEC.read_text(encoding="utf-8")
    people = "".join(f"  - {{login: p{number}, name: P{number}, groups: [Team]}}\n"
                     for number in range(40))
    before = text.replace("users:\n", "users:\n" + people)
    spec = tmp_path / "small.yml"
    spec.write_text(before, encoding="utf-8")
    _keep(variables, TargetHost("local-nas", spec, None))
    after = tmp_path / "new" / "small.yml"
    after.parent.mkdir()
    after.write_text(before.replace("access: {Team: write}", "access: {Team: read}"),
                     encoding="utf-8")
    reading = read_applied("local-nas", variables)
    cut = access_section(reading, [after])
    assert len(cut) == 26 and cut[-1].startswith("  … ") and "plan --all" in cut[-1]
    whole = access_section(reading, [after], show_all=True)
    assert len(whole) > 80 and not whole[-1].startswith("  … ")


def test_the_reader_refuses_a_record_larger_than_nasops_writes(tmp_path: Path) -> None:
    from nasops.provision.applied import READER  # noqa: PLC0415

    (tmp_path / "applied-specs.json").write_bytes(b"x" * 101)
    answer = subprocess.run([sys.executable, "-c", READER, str(tmp_path / "applied-specs.json"),
                             "100"], capture_output=True, check=True, text=True).stdout
    assert json.loads(answer) == {"found": True, "error": "larger than plan reads"}


def test_the_reader_refuses_a_fifo_without_waiting_for_it(tmp_path: Path) -> None:
    from nasops.provision.applied import READER  # noqa: PLC0415

    os.mkfifo(tmp_path / "applied-specs.json")  # nobody ever writes it: a blocking read hangs
    answer = subprocess.run([sys.executable, "-c", READER, str(tmp_path / "applied-specs.json"),
                             "100"], capture_output=True, check=True, text=True,
                            timeout=30).stdout
    assert json.loads(answer) == {"found": True, "error": "not a regular file"}


@pytest.mark.parametrize("result", ["success", "failure", "interrupted"])
def test_only_a_successful_run_keeps_its_specs_with_its_record(
        variables: dict[str, str], tmp_path: Path, result: str) -> None:
    locks = ApplyLocks("test-run")
    locks.acquire({"local-nas": variables}, ["local-nas"])
    with locks:
        locks.start()
        locks.finish({"local-nas": {"result": result, "changed_items": 3}},
                     {"local-nas": applied_record(TargetHost("local-nas", SPEC, None))})
    assert locks.warnings == []
    record = json.loads((tmp_path / "apply.json").read_text(encoding="utf-8"))
    assert (record["result"], record["changed_items"]) == (result, 3)
    assert (tmp_path / "applied-specs.json").exists() == (result == "success")


def test_a_settled_no_op_apply_records_success_and_keeps_the_specs(
        variables: dict[str, str], tmp_path: Path) -> None:
    from nasops.provision.record import settle_record  # noqa: PLC0415

    # The last apply failed: a no-op apply settles the record and keeps the specs, in turn
    # (start, then finish with the specs), one reply each.
    (tmp_path / "apply.json").write_text('{"version": 1, "result": "failure"}',
                                         encoding="utf-8")
    locks = ApplyLocks("test-run")
    locks.acquire({"local-nas": variables}, ["local-nas"])
    applied = {"local-nas": applied_record(TargetHost("local-nas", SPEC, None))}
    assert settle_record(locks, ["local-nas"], applied) == []
    record = json.loads((tmp_path / "apply.json").read_text(encoding="utf-8"))
    assert (record["result"], record["changed_items"]) == ("success", 0)
    assert read_applied("local-nas", variables).texts == [("small.yml", SPEC.read_text(
        encoding="utf-8"))]


@pytest.mark.parametrize("kept", [
    "[]", '{"specs": "x"}', '{"specs": [1]}', '{"specs": [{"file": "a"}]}', "null",
    "[" * 100_000 + "]" * 100_000],
    # (short ids: pytest passes the test's id to child processes in the environment)
    ids=["list", "specs-text", "spec-number", "spec-no-text", "null", "deep-nesting"])
def test_any_other_shape_the_nas_sends_is_one_line(
        variables: dict[str, str], tmp_path: Path, kept: str) -> None:
    (tmp_path / "applied-specs.json").write_text(kept, encoding="utf-8")
    reading = read_applied("local-nas", variables)
    assert reading.problem == "not a record nasops wrote"
    assert len(access_section(reading, [SPEC])) == 1


def test_control_characters_from_the_nas_do_not_reach_the_terminal(
        variables: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "applied-specs.json").write_text(json.dumps({
        "applied_at": "\x1b[2Jnow", "specs": [
            {"file": "\x1b]0;x\x07s.yml", "text": SPEC.read_text(encoding="utf-8")}]}),
        encoding="utf-8")
    reading = read_applied("local-nas", variables)
    assert reading.applied_at == "\\u001b[2Jnow"
    assert reading.texts[0][0] == "\\u001b]0;x\\u0007s.yml"


def test_a_nas_sending_more_than_plan_reads_is_cut_off(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from nasops.provision import applied  # noqa: PLC0415

    # A NAS whose python was replaced: it streams without end; plan reads a bounded amount.
    # (Patched: the hostile NAS is a local command in place of the SSH session, and a small
    # limit keeps the test quick; the cap itself is the real code.)
    monkeypatch.setattr(applied, "MAXIMUM_RECORD_BYTES", 1000)
    monkeypatch.setattr(applied, "remote_argv", lambda host, variables, command: [
        sys.executable, "-c", "import sys\nwhile True: sys.stdout.write('x' * 65536)"])
    reading = applied.read_applied("local-nas", {})
    assert reading.problem == "the NAS sent more than plan reads"
