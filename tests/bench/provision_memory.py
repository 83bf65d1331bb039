"""Controller peak memory of a process tree, for tests/bench/bench_provision.py (issue 18).

Why /proc sampling and not a cgroup: this machine has cgroup v1 and its memory hierarchy is
managed by whatever started the session; a cgroup v2 `memory.peak` is not available. So a
thread sums the RSS and the PSS of the benchmark's descendants every ~50 ms and keeps the
peaks.

Why PSS as well as RSS: ansible-playbook forks a worker per task, which shares most of its
pages with its parent (copy-on-write). Summed RSS counts each shared page once per process
(the tree's ~70 MB of Python and Ansible twice or more); PSS (/proc/PID/smaps_rollup) gives
each process its share of a shared page, so their sum is the memory the tree really uses.

Why a child subreaper: Ansible's ssh ControlPersist master daemonises (fork, daemon()), so it
leaves `nasops apply`'s tree and would be reparented to init, uncounted. While an apply runs,
the benchmark process is a subreaper: orphans come to it and stay counted (the master then
serves the next applies too, so it is counted in each). The lab's nspawn is started outside
those windows and never adopted.
"""

from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
INTERVAL = 0.05


@dataclass(frozen=True)
class Process:
    """What the sampler needs of one process."""

    parent: int
    state: str
    rss_bytes: int


def parse_stat(text: str) -> Process:
    """Given /proc/PID/stat, return the parent, state and RSS (comm may hold spaces and
    parentheses, so fields are counted from the last ')')."""
    fields = text[text.rindex(")") + 2:].split()
    # After comm: state(3) ppid(4) … rss(24), so index = field number - 3.
    return Process(parent=int(fields[1]), state=fields[0], rss_bytes=int(fields[21]) * PAGE_SIZE)


def process_table(proc: Path = PROC) -> dict[int, Process]:
    """Return every readable process under proc by PID (those that vanish are skipped)."""
    table: dict[int, Process] = {}
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        try:
            table[int(entry.name)] = parse_stat(
                Path(entry.path, "stat").read_text(encoding="utf-8", errors="replace"))
        except (OSError, ValueError, IndexError):
            continue
    return table


def descendants(table: dict[int, Process], root: int) -> set[int]:
    """Given a process table, return the PIDs below root (root itself excluded)."""
    children: dict[int, list[int]] = {}
    for pid, process in table.items():
        children.setdefault(process.parent, []).append(pid)
    found: set[int] = set()
    pending = list(children.get(root, []))
    while pending:
        pid = pending.pop()
        if pid not in found:
            found.add(pid)
            pending += children.get(pid, [])
    return found


def pss_bytes(pid: int, proc: Path = PROC) -> int:
    """Return a process's proportional set size (0 when it is gone or unreadable)."""
    try:
        with open(proc / str(pid) / "smaps_rollup", encoding="ascii") as stream:
            for line in stream:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def tree_rss(table: dict[int, Process], root: int) -> int:
    """Given a process table, return the summed RSS in bytes of root's descendants (root, the
    benchmark itself, is not counted: it is not part of `nasops apply`)."""
    return sum(table[pid].rss_bytes for pid in descendants(table, root))


class PeakSampler:
    """Sample the RSS and PSS of this process's descendants in a thread; `peak_bytes` (summed
    RSS) and `peak_pss_bytes` when stopped."""

    def __init__(self, root: int | None = None, proc: Path = PROC,
                 interval: float = INTERVAL) -> None:
        self.root = os.getpid() if root is None else root
        self.proc, self.interval = proc, interval
        self.peak_bytes = 0
        self.peak_pss_bytes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            table = process_table(self.proc)
            self.peak_bytes = max(self.peak_bytes, tree_rss(table, self.root))
            self.peak_pss_bytes = max(self.peak_pss_bytes, sum(
                pss_bytes(pid, self.proc) for pid in descendants(table, self.root)))
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        set_subreaper(True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        set_subreaper(False)
        reap_adopted()


def set_subreaper(enabled: bool) -> None:
    """Make this process (not) the reaper of its descendants' orphans."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, int(enabled), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_adopted(proc: Path = PROC) -> int:
    """Wait for this process's exited adopted children (an ssh master that timed out or
    lost its host); return how many. Only zombies are waited for, by PID, so no
    subprocess's exit status is ever taken from it."""
    reaped = 0
    for pid, process in process_table(proc).items():
        if process.parent == os.getpid() and process.state == "Z":
            try:
                os.waitpid(pid, os.WNOHANG)
                reaped += 1
            except ChildProcessError:
                pass
    return reaped


def megabytes(count: int) -> float:
    """Return bytes as MB (10^6), one decimal."""
    return round(count / 1_000_000, 1)

