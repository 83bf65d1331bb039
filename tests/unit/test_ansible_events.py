"""Folding the callback's JSON lines into per-host results (from a fixture, no Ansible run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nasops.ansible.events import Change, Failure, fold_events, load_run, read_events

CHECK_RUN = Path(__file__).parent / "fixtures" / "ansible" / "events" / "check-run.jsonl"
HOSTS = ["tiny-nas", "other-nas"]


def _recap(**hosts: int) -> dict[str, Any]:
    return {"event": "recap", "hosts": {
        name: {"ok": 1, "failures": failures, "unreachable": 0, "changed": 0, "skipped": 0,
               "rescued": 0, "ignored": 0} for name, failures in hosts.items()}}


def test_fixture_run_gives_changes_failures_and_warnings() -> None:
    result = load_run(CHECK_RUN, HOSTS, check_mode=True)
    tiny, other = result.hosts["tiny-nas"], result.hosts["other-nas"]
    assert result.completed and result.check_mode
    # 7 accounts + 1 quota + 5 tree + 1 share + the template task without a changes list +
    # 1 unmanaged folder (from an ok result); the handler is not counted.
    assert len(tiny.changes) == 16
    assert tiny.unmanaged == [Change("unmanaged", "/srv/nas/tiny/Old",
                                     "not in the spec; left as it is",
                                     "nas_quotas: share directories")]
    assert tiny.unlisted == 3
    assert tiny.change_count == 15 + 3  # unmanaged is not a change; unlisted ones are
    assert tiny.drifted
    assert tiny.changes[0] == Change("task", "nas_base: samba configuration", "changed",
                                     "nas_base: samba configuration")
    assert Change("acl", "/srv/nas/tiny/Common/Money", "group:finance:write",
                  "nas_shares: folder tree and ACLs") in tiny.changes
    assert tiny.warnings == ["quota not enforced: /srv/nas is not btrfs"]
    assert not tiny.failed  # its failure was ignored
    assert other.failures == [Failure("nas_quotas: quotas", "refused: quota 1M of "
                                      "/srv/nas/other/Work is below its usage 5M")]
    assert result.refusals == [("other-nas", other.failures[0])]
    assert result.failed
    assert result.change_count == 18


def test_unreachable_host_fails() -> None:
    events: list[dict[str, Any]] = [
        {"event": "result", "host": "a", "status": "unreachable", "task": "Gathering Facts",
         "msg": "ssh: connect to host 127.0.0.2 port 22: Connection refused"},
        {"event": "recap", "hosts": {"a": {"ok": 0, "failures": 0, "unreachable": 1}}},
    ]
    result = fold_events(events, ["a"], check_mode=False)
    assert result.hosts["a"].unreachable == ("ssh: connect to host 127.0.0.2 port 22: "
                                             "Connection refused")
    assert result.failed and not result.refusals


def test_rescued_failure_does_not_count() -> None:
    events = [{"event": "result", "host": "a", "status": "failed", "task": "try", "msg": "x"},
              _recap(a=0)]
    assert not fold_events(events, ["a"], check_mode=False).failed


def test_host_the_playbook_skipped_is_a_failure() -> None:
    result = fold_events([_recap(a=0)], ["a", "b"], check_mode=True)
    assert not result.hosts["a"].failed
    assert "no task ran on this host" in result.hosts["b"].failures[0].message


def test_a_role_debug_warning_becomes_a_warning_and_other_messages_do_not() -> None:
    events = [
        {"event": "result", "host": "a", "status": "ok", "task": "Warn", "role": "nas_backup",
         "action": "ansible.builtin.debug",
         "msg": "WARNING: not every repository could be reached: usb: not mounted"},
        {"event": "result", "host": "a", "status": "ok", "task": "Key", "role": "nas_backup",
         "action": "ansible.builtin.debug", "msg": "Authorise this key: ssh-ed25519 AAAA"},
        {"event": "result", "host": "a", "status": "ok", "task": "Echo", "action": "command",
         "msg": "WARNING: from a command's output, not a role's message"},
        _recap(a=0)]
    host = fold_events(events, ["a"], check_mode=False).hosts["a"]
    assert host.warnings == ["not every repository could be reached: usb: not mounted"]
    assert host.changes == []


def test_run_without_recap_is_not_a_success() -> None:
    result = fold_events([], ["a"], check_mode=True)
    assert not result.completed and result.failed


def test_read_events_leaves_a_partial_line_for_later(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    assert read_events(path) == ([], 0)
    first = json.dumps({"event": "play_start"}) + "\n"
    path.write_text(first + '{"event": "tas', encoding="utf-8")
    events, offset = read_events(path)
    assert events == [{"event": "play_start"}] and offset == len(first)
    assert read_events(path, offset) == ([], offset)
    with path.open("a", encoding="utf-8") as stream:
        stream.write('k_start"}\n')
    events, offset = read_events(path, offset)
    assert events == [{"event": "task_start"}]
    assert offset == path.stat().st_size
