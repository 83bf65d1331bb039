"""The pure parts behind interrupted and concurrent applies, run for real on this machine.

The guardian (ends a whole tree, setsid workers included, when nasops goes), the lock holder
(flock, owner record, the one writer of apply.json, ending a killed run's marked processes),
the pruning of run directories and the apply record's schema.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nasops.ansible import apply_lock, workspace
from nasops.ansible.apply_lock import HOLDER_SCRIPT, ApplyLocks, LockBusyError, holder_argv
from nasops.ansible.guardian import descendants
from nasops.ansible.runner import GUARDIAN_SCRIPT
from nasops.errors import PrerequisiteError
from nasops.exporter.run_records import RecordError, read_apply_record
from nasops.provision.converge import take_locks
from nasops.provision.record import settle_record

# Forks a worker that calls setsid (as Ansible's do) and sleeps; prints the worker's pid.
TREE = """
import os, sys, time
pid = os.fork()
if pid == 0:
    os.setsid()
    time.sleep(600)
    os._exit(0)
print(pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pids: list[int], seconds: float = 8.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    return [pid for pid in pids if _alive(pid)]


def test_guardian_ends_setsid_workers_when_its_pipe_closes(tmp_path: Path) -> None:
    run_directory = tmp_path / "nasops-run-x"
    run_directory.mkdir()
    read_end, write_end = os.pipe()
    guardian = subprocess.Popen(
        [sys.executable, "-I", str(GUARDIAN_SCRIPT), "--remove", str(run_directory), "--",
         sys.executable, "-c", TREE], stdin=read_end, stdout=subprocess.PIPE, text=True)
    os.close(read_end)
    assert guardian.stdout is not None
    worker = int(guardian.stdout.readline())
    tree = descendants(guardian.pid)
    assert worker in tree and len(tree) == 2
    os.close(write_end)  # what nasops' death (even SIGKILL) does to the pipe
    assert guardian.wait(10) == 143
    assert _wait_gone(tree) == []
    assert not run_directory.exists()


def test_guardian_passes_the_exit_code_of_a_command_that_ends() -> None:
    read_end, write_end = os.pipe()
    guardian = subprocess.Popen([sys.executable, "-I", str(GUARDIAN_SCRIPT), "--",
                                 sys.executable, "-c", "raise SystemExit(4)"], stdin=read_end)
    os.close(read_end)
    assert guardian.wait(10) == 4
    os.close(write_end)


@pytest.fixture
def local_host(tmp_path: Path) -> dict[str, str]:
    """Inventory variables of a NAS on this machine, with its lock and record in tmp_path."""
    return {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            apply_lock.LOCK_VARIABLE: str(tmp_path / "run" / "apply.lock"),
            apply_lock.RECORD_VARIABLE: str(tmp_path / "state" / "apply.json")}


def test_second_apply_is_refused_naming_the_holder_then_a_finish_records(
        local_host: dict[str, str], tmp_path: Path) -> None:
    first = ApplyLocks("run-one")
    first.acquire({"nas": local_host}, ["nas"])
    with first:
        first.start()
        record = read_apply_record(tmp_path / "state" / "apply.json")
        assert record is not None and record.result == "running"
        assert record.finished_at is None and record.started_at is not None
        with pytest.raises(LockBusyError) as refused:
            ApplyLocks("run-two").acquire({"nas": local_host}, ["nas"])
        assert f"pid {os.getpid()} on controller " in str(refused.value)
        first.progress({"nas": 3})
        first.finish({"nas": {"result": "success", "changed_items": 190}})
    record = read_apply_record(tmp_path / "state" / "apply.json")
    assert record is not None and (record.result, record.changed_items) == ("success", 190)
    again = ApplyLocks("run-three")
    again.acquire({"nas": local_host}, ["nas"])  # released: the next one gets it
    again.release()


def test_a_run_whose_controller_vanishes_is_ended_and_recorded_interrupted(
        local_host: dict[str, str], tmp_path: Path) -> None:
    locks = ApplyLocks("run-killed")
    locks.acquire({"nas": local_host}, ["nas"])
    locks.start()
    locks.progress({"nas": 7})
    # A module of this run on the NAS, and one of another run that must be left alone.
    ours = subprocess.Popen(["sleep", "600"], env={**os.environ, "NASOPS_APPLY_RUN": "run-killed"})
    theirs = subprocess.Popen(["sleep", "600"], env={**os.environ, "NASOPS_APPLY_RUN": "other"})
    try:
        time.sleep(0.3)  # let the holder read the progress line
        locks.release()  # the SSH session ends as when nasops is SIGKILLed
        assert ours.wait(10) != 0
        assert theirs.poll() is None
    finally:
        theirs.kill()
        ours.kill()
    record = read_apply_record(tmp_path / "state" / "apply.json")
    assert record is not None and (record.result, record.changed_items) == ("interrupted", 7)


def test_a_previous_run_left_running_is_reported(local_host: dict[str, str],
                                                tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "apply.json").write_text(json.dumps(
        {"version": 1, "result": "running", "started_at": "2025-01-01T00:00:00Z",
         "controller": "ops-1"}))
    locks = ApplyLocks("run-after")
    locks.acquire({"nas": local_host}, ["nas"])
    with locks:
        assert locks.stale_runs() == [
            "nas: the previous apply (started 2025-01-01T00:00:00Z from ops-1) did not finish;"
            " this one converges from where it stopped"]


def test_holder_argv_uses_the_inventory_connection_and_refuses_what_it_cannot_open() -> None:
    variables = {"ansible_host": "127.0.0.80", "ansible_user": "root", "ansible_port": 2222,
                 "ansible_ssh_private_key_file": "/keys/id", "ansible_ssh_common_args":
                 "-o UserKnownHostsFile=/k -o StrictHostKeyChecking=yes"}
    argv = holder_argv("nas", variables, "run", {"pid": 1})
    assert argv[0] == "ssh" and argv[argv.index("-p") + 1] == "2222"
    assert argv[argv.index("-i") + 1] == "/keys/id"
    assert "UserKnownHostsFile=/k" in argv and argv[-2] == "127.0.0.80"
    assert argv[-1].startswith("/usr/bin/python3 -c ")
    assert HOLDER_SCRIPT.read_text(encoding="utf-8")[:40] in argv[-1].replace("'\"'\"'", "'")
    for bad in ({"ansible_password": "x"}, {"ansible_connection": "docker"},
                {"ansible_host": "{{ address }}"}):
        with pytest.raises(PrerequisiteError, match="inventory host nas: "):
            holder_argv("nas", bad, "run", {})


def test_prune_removes_only_dead_runs_directories(tmp_path: Path) -> None:
    def run_directory(name: str, pid: int | None, start: str | None) -> Path:
        path = tmp_path / name
        path.mkdir()
        if pid is not None:
            (path / "owner.json").write_text(json.dumps({"pid": pid, "start": start}))
        return path

    dead = subprocess.Popen(["true"])
    dead.wait()
    mine = run_directory("nasops-run-alive", os.getpid(), workspace.process_start(os.getpid()))
    gone = run_directory("nasops-run-dead", dead.pid, "1")
    reused = run_directory("nasops-run-reused", os.getpid(), "1")  # pid now someone else's
    young = run_directory("nasops-run-unowned", None, None)
    other = run_directory("something-else", dead.pid, "1")
    removed = workspace.prune_run_directories(tmp_path)
    assert sorted(removed) == sorted([gone, reused])
    assert mine.exists() and young.exists() and other.exists()
    old = time.time() + 2 * workspace.UNOWNED_AGE_SECONDS
    assert workspace.prune_run_directories(tmp_path, now=old) == [young]


def test_apply_records_schema_running_and_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "apply.json"
    path.write_text(json.dumps({"version": 1, "result": "interrupted", "changed_items": 4,
                                "started_at": "2025-01-01T00:00:00Z",
                                "finished_at": "2025-01-01T00:01:00Z"}))
    record = read_apply_record(path)
    assert record is not None and record.result == "interrupted" and record.changed_items == 4
    path.write_text(json.dumps({"version": 1, "result": "running"}))
    with pytest.raises(RecordError, match="needs started_at"):
        read_apply_record(path)


@pytest.mark.parametrize(("previous", "expected"), [
    ({"result": "interrupted", "changed_items": 4}, ("success", 0)),
    ({"result": "failure", "changed_items": 2}, ("success", 0)),
    ({"result": "success", "changed_items": 190}, ("success", 190)),
])
def test_a_no_op_apply_leaves_a_true_record(local_host: dict[str, str], tmp_path: Path,
                                            previous: dict[str, object],
                                            expected: tuple[str, int]) -> None:
    """After an apply that failed or was interrupted, a no-op apply (the NAS matches its spec)
    records success, so the apply alerts stop; a last success is left as it was."""
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "apply.json").write_text(json.dumps(
        {"version": 1, "started_at": "2025-01-01T00:00:00Z",
         "finished_at": "2025-01-01T00:01:00Z", **previous}))
    settle_record(take_locks({"nas": local_host}, ["nas"]), ["nas"])
    record = read_apply_record(tmp_path / "state" / "apply.json")
    assert record is not None and (record.result, record.changed_items) == expected


def test_holder_argv_discovers_no_interpreter_and_refuses_become_it_cannot_do() -> None:
    argv = holder_argv("nas", {"ansible_python_interpreter": "auto_silent"}, "run", {})
    assert argv[-1].startswith("/usr/bin/python3 -c ")
    assert holder_argv("nas", {"ansible_become": True}, "run", {})[-1].startswith("sudo -n ")
    for bad in ({"ansible_become": True, "ansible_become_method": "su"},
                {"ansible_become": True, "ansible_become_password": "x"}):
        with pytest.raises(PrerequisiteError, match="sudo -n"):
            holder_argv("nas", bad, "run", {})


def test_a_cut_off_line_from_the_controller_ends_the_run_as_interrupted(
        local_host: dict[str, str], tmp_path: Path) -> None:
    locks = ApplyLocks("run-cut")
    locks.acquire({"nas": local_host}, ["nas"])
    locks.start()
    holder = locks.holders["nas"].process
    assert holder.stdin is not None
    holder.stdin.write('{"command": "progr')  # what a dropped session leaves
    holder.stdin.flush()
    locks.release()
    record = read_apply_record(tmp_path / "state" / "apply.json")
    assert record is not None and record.result == "interrupted"


def test_the_lock_reads_become_as_ansible_does() -> None:
    # An INI inventory gives strings: "false" must not make the lock call sudo.
    for value in ("false", "no", "0", "", False):
        assert not holder_argv("nas", {"ansible_become": value}, "run", {})[-1].startswith(
            "sudo ")
    for value in ("true", "yes", "True", True, 1):
        assert holder_argv("nas", {"ansible_become": value}, "run", {})[-1].startswith("sudo -n ")
