"""Run one command so that its whole process tree ends when nasops ends, even on SIGKILL.

Run as a script (`python -I guardian.py [--remove DIR] -- argv…`, standard library only, so it
starts in milliseconds) with its standard input a pipe nasops holds open. Ansible's workers
call setsid, so a process-group kill misses them; as a child subreaper (prctl), this process
inherits every orphan of the tree and finds them all by walking /proc. When the pipe reaches
end of file before the command has exited (nasops stopped it, or nasops itself was killed),
or this process gets SIGTERM, SIGINT or SIGHUP, it ends the whole tree: SIGTERM, a short
grace, then SIGKILL. SSH ControlMaster processes (`[mux]`) are left: they hold no task and
end on their own (ControlPersist); killing them could cut another run's connection.
With --remove it then deletes the run's directory (nasops killed by SIGKILL cannot).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import shutil
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
GRACE_SECONDS = 2.0
POLL_SECONDS = 0.2
# Exit code when the tree was ended before the command finished (128 + SIGTERM).
STOPPED_CODE = 143


def set_subreaper() -> None:
    """Make orphaned descendants reparent to this process, so they can be found and ended."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _parents() -> dict[int, int]:
    """Return pid → parent pid for every process (processes that vanish are skipped)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stream:
                stat = stream.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: fields follow the last ')'.
        fields = stat[stat.rfind(b")") + 2:].split()
        parents[int(entry)] = int(fields[1])
    return parents


def descendants(root: int) -> list[int]:
    """Given a pid, return the pids of all its descendants (children first)."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found: list[int] = []
    pending = list(children.get(root, []))
    while pending:
        pid = pending.pop(0)
        found.append(pid)
        pending += children.get(pid, [])
    return found


def is_connection_master(pid: int) -> bool:
    """Return whether pid is an SSH ControlMaster (its title ends with `[mux]`)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as stream:
            return stream.read().rstrip(b"\0").endswith(b"[mux]")
    except OSError:
        return False


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def end_tree(root: int) -> None:
    """End every descendant of root but SSH connection masters: SIGTERM, grace, SIGKILL."""
    deadline = time.monotonic() + GRACE_SECONDS
    sent_kill = False
    while True:
        _reap()
        targets = [pid for pid in descendants(root) if not is_connection_master(pid)]
        if not targets:
            return
        force = time.monotonic() >= deadline
        if force and sent_kill and time.monotonic() >= deadline + GRACE_SECONDS:
            return  # unkillable (uninterruptible sleep): nothing more can be done
        for pid in targets:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL if force else signal.SIGTERM)
        sent_kill = sent_kill or force
        time.sleep(0.05 if force else POLL_SECONDS / 2)


def _remove(directory: str | None) -> None:
    # Only a nasops run directory: never anything else, whatever the argument says.
    if directory and os.path.basename(directory.rstrip("/")).startswith("nasops-run-"):
        shutil.rmtree(directory, ignore_errors=True)


def run(argv: list[str], remove: str | None) -> int:
    """Run argv under guard; return its exit code, or STOPPED_CODE if the tree was ended."""
    set_subreaper()
    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, request_stop)
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    control = sys.stdin.fileno()
    watching = True
    while True:
        if child.poll() is not None:
            _reap()
            return child.returncode
        if watching:
            ready, _, _ = select.select([control], [], [], POLL_SECONDS)
            if ready and not os.read(control, 4096):
                stop_requested = True  # end of file: nasops is gone or asks us to stop
                watching = False
        else:
            time.sleep(POLL_SECONDS)
        if stop_requested:
            end_tree(os.getpid())
            child.poll()
            _remove(remove)
            return STOPPED_CODE


def main(arguments: list[str]) -> int:
    """Parse `[--remove DIR] -- argv…` and run."""
    remove = None
    if arguments[:1] == ["--remove"]:
        remove, arguments = arguments[1], arguments[2:]
    if arguments[:1] == ["--"]:
        arguments = arguments[1:]
    if not arguments:
        print("usage: guardian.py [--remove DIR] -- COMMAND…", file=sys.stderr)
        return 2
    return run(arguments, remove)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
