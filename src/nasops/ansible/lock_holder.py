"""The NAS side of the apply lock: hold it, keep the apply record, clean up after a killed run.

nasops sends this file's text to the NAS (`python3 -c TEXT LOCK RECORD RUN OWNER APPLIED`,
over an SSH session of its own; standard library only: the NAS may not have the nasops
release yet). It lives exactly as long as that session:

- It takes an exclusive flock on LOCK (the kernel drops it when this process ends, so a
  killed apply never leaves the NAS locked) and writes OWNER (pid, controller, start) into
  it; if another apply holds it, it prints that holder and ends.
- It is the one writer of the apply record (RECORD, /var/lib/nasops/apply.json, schema in
  nasops.exporter.run_records and docs/exporter.md): `running` when the real run starts, then
  how it ended.
- If its standard input ends before nasops said how the run ended (nasops or its SSH
  connection was killed), it ends the modules the run left on the NAS (every process whose
  environment carries NASOPS_APPLY_RUN=RUN, set by site.yml), then records `interrupted`.

- Once the NAS matches its specs (a successful apply, also one with nothing to do), it keeps
  their text in APPLIED (applied-specs.json beside RECORD; root's only): `nasops plan`
  says who gains and who loses access against them (nasops.provision.applied).

Protocol: one JSON object per line each way. In: {"command": "start" | "progress" |
"finish" | "abandon" | "keep", "result", "changed_items", "applied"} ("keep": a run that
changed nothing keeps the specs only, and ends). Out: {"state": "busy", "owner"} or
{"state": "locked", "previous"}, then {"state": "started"}, {"state": "recorded", "kept"}
or {"state": "kept", "kept"}: one reply per command that waits for one.
"""

import contextlib
import fcntl
import json
import os
import signal
import sys
import time
from typing import Any

MARKER_VARIABLE = b"NASOPS_APPLY_RUN="
KILL_SECONDS = 3.0


class Stop(Exception):
    """A signal asked this holder to end: treated as the end of nasops' input."""


def now_text() -> str:
    """Return the current time as RFC 3339 UTC (the records' format)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def emit(message: dict[str, Any]) -> None:
    """Write one reply line; a vanished reader is no reason to stop cleaning up."""
    try:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()
    except OSError:
        pass


def write_record(path: str, record: dict[str, Any], mode: int = 0o644) -> None:
    """Write a record atomically (temporary file + rename), mode 0644 unless told."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        json.dump(record, stream, indent=2)
        stream.write("\n")
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def read_record(path: str) -> dict[str, Any] | None:
    """Return the current record, or None when absent or unreadable."""
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def marked_processes(run: str) -> list[int]:
    """Return the pids whose environment says they belong to this run (its modules)."""
    needle = MARKER_VARIABLE + run.encode() + b"\0"
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as stream:
                environment = stream.read() + b"\0"
        except OSError:
            continue
        if b"\0" + needle in b"\0" + environment:
            found.append(int(entry))
    return found


def end_marked(run: str) -> None:
    """End the run's processes on this host: SIGTERM, then SIGKILL; keep looking a moment,
    as the controller may be starting one while it is being stopped."""
    deadline = time.monotonic() + KILL_SECONDS
    while time.monotonic() < deadline + KILL_SECONDS:
        pids = marked_processes(run)
        late = time.monotonic() >= deadline
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL if late else signal.SIGTERM)
        if not pids and time.monotonic() >= deadline:
            return
        time.sleep(0.2)


def follow(state: dict[str, Any], owner: dict[str, Any], record_path: str,
           applied_path: str) -> None:
    """Follow nasops' commands until it says how the run ended, or its input ends."""
    for line in sys.stdin:
        try:
            message = json.loads(line)
        except ValueError:
            return  # a cut-off line: the controller is gone, as if it had abandoned the run
        command = message.get("command") if isinstance(message, dict) else None
        if command == "start":
            state["started"] = now_text()
            write_record(record_path, dict(
                version=1, result="running", started_at=state["started"], changed_items=0,
                nasops_version=owner.get("nasops_version", ""),
                controller=owner.get("controller", "")))
            emit({"state": "started"})
        elif command == "progress":
            state["changed"] = int(message.get("changed_items", state["changed"]))
        elif command == "keep":  # a no-op apply: no run, only the specs the NAS matches
            emit(keep_applied(applied_path, message.get("applied")))
            return
        elif command in ("finish", "abandon"):
            state["ending"] = message if command == "finish" else None
            return


def keep_applied(path: str, applied: object) -> dict[str, Any]:
    """Keep the specs the NAS now matches (plan's "who gains and who loses access" reads
    them back), root's only: they name every person and private folder. Return the reply."""
    if not isinstance(applied, dict):
        return {"state": "kept", "kept": False}
    try:
        write_record(path, dict(applied, applied_at=now_text()), mode=0o600)
    except OSError as error:
        return {"state": "kept", "kept": False, "error": str(error)}
    return {"state": "kept", "kept": True}


def main(lock_path: str, record_path: str, run: str, owner_text: str,
         applied_path: str) -> None:
    """Hold the lock for one apply and keep its record; see the module docstring."""

    def stop(signum: int, frame: object) -> None:
        raise Stop()

    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, stop)
    owner = json.loads(owner_text)
    os.makedirs(os.path.dirname(lock_path), mode=0o755, exist_ok=True)
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        with open(lock_path, encoding="utf-8") as stream:
            text = stream.read()
        try:
            holder = json.loads(text)
        except ValueError:
            holder = {}
        emit({"state": "busy", "owner": holder})
        return
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, json.dumps(owner).encode(), 0)
    emit({"state": "locked", "previous": read_record(record_path)})
    state: dict[str, Any] = {"started": None, "changed": 0, "ending": None}
    with contextlib.suppress(Stop):
        follow(state, owner, record_path, applied_path)
    started, changed, ending = state["started"], state["changed"], state["ending"]
    # Cleaning up and recording must not be cut short by a second signal.
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, signal.SIG_IGN)
    if started is not None:
        if ending is None or ending.get("result") == "interrupted":
            end_marked(run)
        if ending is not None:
            changed = int(ending.get("changed_items", changed))
        try:
            write_record(record_path, dict(
                version=1, result=ending.get("result") if ending else "interrupted",
                started_at=started, finished_at=now_text(), changed_items=changed,
                nasops_version=owner.get("nasops_version", ""),
                controller=owner.get("controller", "")))
        except OSError as error:  # a full disk: the controller warns, the lock still goes
            emit({"state": "unrecorded", "error": str(error)})
        else:
            # A successful run's finish carries the specs the NAS now matches.
            kept = (keep_applied(applied_path, ending.get("applied"))
                    if ending is not None and ending.get("result") == "success" else {})
            emit({"state": "recorded", "kept": bool(kept.get("kept"))})
    os.ftruncate(descriptor, 0)
    os.close(descriptor)


if __name__ == "__main__":
    main(*sys.argv[1:6])
