"""One apply at a time on a QNAP: a lock on the NAS itself, taken over SSH (issue 15).

Debian hosts have theirs (an flock on the NAS); QTS has no Python and no flock nasops can
rely on, so the lock is a directory on the data volume (`mkdir` is atomic) holding who took
it and when. An apply stopped by a signal releases it; one killed outright (SIGKILL, a
power cut) leaves it, and the next apply says who held it and how to remove it by hand.
Controllers without `nasops_qts_ssh_host_key` do not take it (they do not reach the NAS over
SSH): the lock binds only applies that write folders.
"""

from __future__ import annotations

import datetime
import os
import posixpath
import shlex
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from nasops.qts.folder_scripts import FolderTreeError, Shell

LOCK_NAME = ".nasops-apply.lock"


def holder() -> str:
    """Who takes the lock: this machine, this process, now (UTC)."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    name = "".join(char if char.isalnum() or char in ".-_" else "_"
                   for char in socket.gethostname())[:64]
    return f"{name} (process {os.getpid()}) since {now}"


def take_script(directory: str, who: str) -> str:
    quoted = shlex.quote(directory)
    return (f"if mkdir -m 0700 -- {quoted} 2>/dev/null; then printf '%s\\n' {shlex.quote(who)}"
            f" > {quoted}/holder && echo taken; else echo held; cat {quoted}/holder "
            "2>/dev/null; fi\n")


def release_script(directory: str, who: str) -> str:
    quoted = shlex.quote(directory)
    # Only our own: a lock someone removed and another apply took is not ours to remove.
    return (f'[ "$(cat {quoted}/holder 2>/dev/null)" = {shlex.quote(who)} ] && '
            f"rm -f -- {quoted}/holder && rmdir -- {quoted}\n")


@contextmanager
def nas_lock(shell: Shell, volume: str, host: str) -> Iterator[None]:
    """Hold the NAS's apply lock (FolderTreeError naming the holder when another has it)."""
    directory = posixpath.join(volume, LOCK_NAME)
    who = holder()
    result = shell(take_script(directory, who))
    words = result.stdout.strip().split("\n", 1)
    if words[0] != "taken":
        held = words[1].strip() if len(words) > 1 and words[0] == "held" else "unknown"
        raise FolderTreeError(
            f"{host}: another apply holds this NAS ({held}); nothing was changed. If no apply "
            f"is running (one was killed), remove {directory} on the NAS, then run apply again")
    try:
        yield
    finally:
        shell(release_script(directory, who))
