"""Read a file the user named (a spec, a secrets file) safely: only a regular file, bounded.

`open()` on a FIFO blocks until a writer appears and `/dev/zero` never ends; a spec is a few
hundred kilobytes at most. So the file is opened without blocking, checked with fstat to be a
regular file, and read up to a size limit; every OS error becomes one plain sentence.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from nasops.errors import BadInputError, os_error_words

MEBIBYTE = 1024 * 1024
# A 20,000-folder spec (ten times a large organisation) is under 2 MiB of YAML.
MAXIMUM_SPEC_BYTES = 8 * MEBIBYTE
# A secrets file holds one password per person and repository: kilobytes.
MAXIMUM_SECRETS_BYTES = 1 * MEBIBYTE
def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def refuse_special_file(path: str | Path, what: str) -> None:
    """Given a path another tool will read (an inventory), refuse a FIFO, device or socket.

    A folder is left to that tool (an inventory may be one); a missing path too.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise BadInputError(_unreadable(str(path), what, error)) from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise BadInputError(f"{path}: is {_kind(mode)}; give the {what} as a file or folder")


def read_regular_file(path: str | Path, what: str, limit: int) -> bytes:
    """Given a path, what it is ('spec file') and a byte limit, return the file's bytes.

    Raise BadInputError with one sentence for a missing file, a folder, a FIFO, a device, a
    file larger than limit or any OS error.
    """
    name = str(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(name, flags)
    except OSError as error:
        raise BadInputError(_unreadable(name, what, error)) from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise BadInputError(f"{name}: is {_kind(status.st_mode)}, not a {what}")
        if status.st_size > limit:
            raise BadInputError(_too_large(name, what, limit))
        # Back to blocking reads for a regular file; /proc files report size 0, so the read
        # itself is bounded too.
        os.set_blocking(descriptor, True)
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(descriptor, min(limit + 1 - total, MEBIBYTE))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise BadInputError(_too_large(name, what, limit))
        return b"".join(chunks)
    except OSError as error:
        raise BadInputError(_unreadable(name, what, error)) from None
    finally:
        os.close(descriptor)


def _unreadable(name: str, what: str, error: OSError) -> str:
    if error.errno == errno.ENOENT:
        return f"{name}: no such {what}"
    return f"{name}: cannot read this {what}: {os_error_words(error)}"


def _too_large(name: str, what: str, limit: int) -> str:
    return (f"{name}: this {what} is larger than {limit // MEBIBYTE} MiB; nasops refuses it "
            "(a real one is far smaller)")


def read_text_file(path: str | Path, what: str, limit: int) -> str:
    """Given a path, what it is and a byte limit, return its UTF-8 text (see read_regular_file)."""
    content = read_regular_file(path, what, limit)
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadInputError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}); "
                            "save the file as UTF-8") from None
