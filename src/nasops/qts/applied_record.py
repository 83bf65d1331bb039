"""The specs a QNAP last matched, kept on it: plan's "who gains and who loses access" on QTS.

As on Debian (nasops.provision.applied), a successful apply has the NAS keep the text of the
specs it now matches, and plan compares the spec about to be applied with it (the same code).
On QTS it is a file at the data volume's root, outside every share
(`<volume>/.nasops-applied.json`), written over SSH while the apply lock is held: first in
the lock's own directory (made 0700 by this apply, so no link can wait there), then renamed
over the old one (a rename replaces a link, never writes through it). plan reads it back,
bounded: the NAS is not trusted to send only what nasops wrote.
"""

from __future__ import annotations

import datetime
import json
import posixpath
import secrets
import shlex
from collections.abc import Mapping
from typing import Any

from nasops.errors import NasopsError
from nasops.provision.applied import (
    MAXIMUM_RECORD_BYTES,
    AppliedSpecs,
    read_record,
)
from nasops.qts.folder_scripts import Shell
from nasops.qts.nas_lock import LOCK_NAME, PARTIAL_RECORD
from nasops.spec.names import visible

RECORD_NAME = ".nasops-applied.json"


def record_path(volume: str) -> str:
    """Given the data volume, return where the NAS keeps the specs it last matched."""
    return posixpath.join(volume, RECORD_NAME)


def keep_script(volume: str, text: str) -> str:
    """Given the volume and the record (one line of ASCII JSON), return the script that
    keeps it; it prints "kept" once the record is in place."""
    partial = shlex.quote(posixpath.join(volume, LOCK_NAME, PARTIAL_RECORD))
    final = shlex.quote(record_path(volume))
    # A JSON line starts with "{": it can never be the heredoc's closing word.
    end = f"NASOPS_RECORD_{secrets.token_hex(8)}"
    return (f"umask 077\n"
            f"if [ ! -d {final} ] && cat > {partial} <<'{end}'\n{text}\n{end}\n"
            f"then mv -f -- {partial} {final} && echo kept && exit 0; fi\n"
            f"rm -f -- {partial}\n")


def keep_applied(shell: Shell, volume: str, host: str,
                 record: Mapping[str, Any] | None) -> str | None:
    """Given the SSH shell (the apply lock held), the volume, the host's name and what it
    keeps (nasops.provision.applied.applied_record, read with the spec before the apply),
    keep it on the NAS; return a warning when it could not be kept (the apply itself
    succeeded: plan then cannot say who gains and who loses access)."""
    if record is None:
        return f"{host}: no record of the specs applied was prepared: none kept"
    stamped = {**record, "applied_at": datetime.datetime.now(datetime.UTC).strftime(
        "%Y-%m-%d %H:%M:%S UTC")}
    text = json.dumps(stamped, ensure_ascii=True, separators=(",", ":"))
    if len(text) > MAXIMUM_RECORD_BYTES - 4096:
        return (f"{host}: its specs are larger than plan reads back "
                f"({MAXIMUM_RECORD_BYTES // 2**20} MiB): they are not kept, and plan cannot "
                "say who gains and who loses access there")
    try:
        kept = shell(keep_script(volume, text)).stdout.strip() == "kept"
    except NasopsError:
        kept = False
    return None if kept else (
        f"{host}: the specs just applied could not be kept in {record_path(volume)}: plan "
        "cannot say who gains and who loses access there")


def read_script(volume: str) -> str:
    """Print "none", "odd" (not a regular file) or "found" then the record's first bytes."""
    quoted = shlex.quote(record_path(volume))
    return (f"if [ -L {quoted} ] || {{ [ -e {quoted} ] && [ ! -f {quoted} ]; }}; "
            "then echo odd\n"
            f"elif [ -f {quoted} ]; then echo found; head -c {MAXIMUM_RECORD_BYTES + 1} "
            f"-- {quoted}\n"
            "else echo none; fi\n")


def read_applied_record(shell: Shell, volume: str, host: str) -> AppliedSpecs:
    """Given the SSH shell, the volume and the host's name, read the specs its NAS keeps
    (never raises: a record that cannot be read makes a line of the plan)."""
    reading = AppliedSpecs(host)
    try:
        result = shell(read_script(volume))
    except NasopsError as error:
        reading.problem = visible(str(error))[:300]
        return reading
    status, _, content = result.stdout.partition("\n")
    if result.returncode != 0 or status not in ("none", "odd", "found"):
        reading.problem = visible(result.stderr.strip()[-300:] or
                                  f"exit code {result.returncode}")
    elif status == "odd":
        reading.found, reading.problem = True, f"{record_path(volume)} is not a regular file"
    elif status == "found" and len(content.encode("utf-8", "surrogateescape")) \
            > MAXIMUM_RECORD_BYTES:
        reading.found, reading.problem = True, "larger than plan reads"
    elif status == "found":
        try:
            read_record(reading, json.loads(content))
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            reading.found, reading.problem = True, "not a record nasops wrote"
    return reading
