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
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from nasops.errors import NasopsError
from nasops.qts.folder_scripts import FolderTreeError, Shell

LOCK_NAME = ".nasops-apply.lock"
# Where the applied record is written before it is renamed into place (nasops.qts.
# applied_record): inside the lock, which this apply made 0700.
PARTIAL_RECORD = "applied.part"


def holder() -> str:
    """Who takes the lock: this machine, this process, now (UTC)."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    name = "".join(char if char.isalnum() or char in ".-_" else "_"
                   for char in socket.gethostname())[:64]
    return f"{name} (process {os.getpid()}) since {now}"


def take_script(directory: str, who: str) -> str:
    """Print "taken", "held" and the holder, or "failed" and why (no volume, no right).
    mkdir's message is caught in a variable, never a file: a fixed name in the NAS's /tmp
    could be a link someone else planted."""
    quoted = shlex.quote(directory)
    return (f"if error=$(mkdir -m 0700 -- {quoted} 2>&1); then\n"
            f"  if printf '%s\\n' {shlex.quote(who)} > {quoted}/holder; then echo taken;\n"
            f"  else rm -f -- {quoted}/holder; rmdir -- {quoted}; echo failed; "
            "echo 'the holder could not be written'; fi\n"
            f"elif [ -d {quoted} ]; then echo held; cat {quoted}/holder 2>/dev/null\n"
            'else echo failed; printf \'%s\\n\' "$error"; fi\n')


def release_script(directory: str, who: str) -> str:
    quoted = shlex.quote(directory)
    # Only our own: a lock someone removed and another apply took is not ours to remove.
    # The applied record's partial file first (an apply stopped while keeping it).
    return (f'[ "$(cat {quoted}/holder 2>/dev/null)" = {shlex.quote(who)} ] && '
            f"rm -f -- {quoted}/{PARTIAL_RECORD} && "
            f"rm -f -- {quoted}/holder && rmdir -- {quoted} && echo released\n")


@contextmanager
def nas_lock(shell: Shell, volume: str, host: str) -> Iterator[None]:
    """Hold the NAS's apply lock (FolderTreeError naming the holder when another has it)."""
    directory = posixpath.join(volume, LOCK_NAME)
    who = holder()
    result = shell(take_script(directory, who))
    words = result.stdout.strip().split("\n", 1)
    detail = words[1].strip() if len(words) > 1 else ""
    if words[0] == "failed":
        raise FolderTreeError(f"{host}: the apply lock {directory} could not be taken: "
                              f"{detail or 'no reason given'} (is the volume there, and may "
                              "the SSH account write to it?); nothing was changed")
    if words[0] != "taken":
        raise FolderTreeError(
            f"{host}: another apply holds this NAS ({detail or 'holder unknown'}); nothing "
            f"was changed. If no apply is running (one was killed), remove {directory} on "
            "the NAS, then run apply again")
    try:
        yield
    finally:
        _release(shell, directory, who, host)


def _release(shell: Shell, directory: str, who: str, host: str) -> None:
    """Release the lock; never raise over the error that may be ending the apply, but say
    when the lock stays (the next apply would name it)."""
    try:
        released = shell(release_script(directory, who)).stdout.strip() == "released"
    except NasopsError:
        released = False
    if not released:
        print(f"{host}: the apply lock {directory} could not be released: remove it on "
              "the NAS once no apply runs", file=sys.stderr)
