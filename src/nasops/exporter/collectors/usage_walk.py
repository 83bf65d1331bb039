"""Measure a tree's disk usage by walking it: the fallback where btrfs qgroups are missing.

This reads every inode, so it only ever runs in a background thread, on a long interval.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class WalkResult:
    """Usage of one tree as a walk found it."""

    used_bytes: int
    """Allocated bytes (st_blocks × 512), hard links counted once, like du."""
    files: int
    unreadable_directories: int
    """Directories the exporter could not list; their content is missing from used_bytes."""
    measured_at: float
    duration_seconds: float


def measure_usage(path: str) -> WalkResult:
    """Given a directory, return its usage without following symlinks or leaving its device."""
    started = time.perf_counter()
    measured_at = time.time()
    try:
        root = os.lstat(path)
    except OSError:
        return WalkResult(0, 0, 1, measured_at, time.perf_counter() - started)
    device = root.st_dev
    used = root.st_blocks * 512
    files = 0
    unreadable = 0
    seen_links: set[int] = set()
    pending = [path]
    while pending:
        directory = pending.pop()
        try:
            entries = os.scandir(directory)
        except OSError:
            unreadable += 1
            continue
        with entries:
            for entry in entries:
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if info.st_dev != device:
                    continue  # another mount or a nested btrfs subvolume: not this share's
                if stat.S_ISDIR(info.st_mode):
                    pending.append(entry.path)
                else:
                    files += 1
                    if info.st_nlink > 1:
                        if info.st_ino in seen_links:
                            continue
                        seen_links.add(info.st_ino)
                used += info.st_blocks * 512
    return WalkResult(used, files, unreadable, measured_at, time.perf_counter() - started)
