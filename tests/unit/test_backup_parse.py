"""Reading restic's output and mapping failures to error classes.

The texts are restic 0.14's real output, captured on Debian 12; the 0.17 forms (JSON error
messages, exit codes 10/11/12) follow restic's source and are not produced by a real binary
here.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from nasops.backup.errors import (
    BackupError,
    RepositoryFullError,
    RepositoryLockedError,
    RepositoryNotFoundError,
    RepositoryUnreachableError,
    WrongPasswordError,
    classify_failure,
)
from nasops.backup.parse import (
    LockHolder,
    parse_backup_errors,
    parse_backup_summary,
    parse_forget_counts,
    parse_go_duration,
    parse_lock_holder,
    parse_ls_files,
    parse_restore_errors,
    parse_snapshots,
    parse_version,
    timestamp_ns,
)
from nasops.backup.session import lock_is_stale
from nasops.execute import CommandResult

LOCKED = """unable to create lock in backend: repository is already locked by PID 13638 on vm \
by root (UID 0, GID 0)
lock was created at 2026-11-22 20:30:17 (1.486620405s ago)
storage ID 9785096e
the `unlock` command can be used to remove stale locks
"""
LOCKED_EXCLUSIVELY = """unable to create lock in backend: repository is already locked \
exclusively by PID 42 on nas-2 by backup (UID 998, GID 998)
lock was created at 2026-11-22 19:00:00 (1h2m3.5s ago)
storage ID 1234abcd
"""
SUMMARY = ('{"message_type":"summary","files_new":4,"files_changed":1,"files_unmodified":2,'
           '"dirs_new":3,"data_blobs":4,"tree_blobs":4,"data_added":17431,'
           '"total_files_processed":7,"total_bytes_processed":15003,'
           '"total_duration":0.213615894,"snapshot_id":"ba993d6f"}')
ERROR_014 = ('{"message_type":"error","error":{"Op":"open","Path":"src/a/f2","Err":13},'
             '"during":"archival","item":"/tmp/rx/src/a/f2"}')
ERROR_017 = ('{"message_type":"error","error":{"message":"open /srv/x: permission denied"},'
             '"during":"archival","item":"/srv/x"}')


def test_version() -> None:
    assert parse_version("restic 0.14.0 compiled with go1.19.8 on linux/amd64") == (0, 14, 0)
    assert parse_version("restic 0.17.3 (v0.17.3-0-g1234) compiled with go1.23") == (0, 17, 3)
    with pytest.raises(ValueError):
        parse_version("bash: restic: command not found")


def test_summary_and_errors() -> None:
    summary = parse_backup_summary('{"message_type":"status"}\n' + SUMMARY)
    assert summary is not None
    assert (summary.snapshot_id, summary.files_new, summary.files_changed,
            summary.files_total, summary.bytes_new, summary.bytes_total) == (
        "ba993d6f", 4, 1, 7, 17431, 15003)
    assert parse_backup_summary("Fatal: nothing") is None
    unreadable = parse_backup_errors(SUMMARY, ERROR_014 + "\nWarning: at least one source "
                                     "file could not be read\n" + ERROR_017 + "\n" + ERROR_014)
    assert [(item.path, item.reason) for item in unreadable] == [
        ("/tmp/rx/src/a/f2", f"open: {os.strerror(13).lower()}"),
        ("/srv/x", "open /srv/x: permission denied"),
    ]


def test_lock_holder() -> None:
    holder = parse_lock_holder(LOCKED)
    assert holder is not None
    assert (holder.pid, holder.host, holder.user, holder.exclusive) == (13638, "vm", "root", False)
    assert holder.age_seconds == pytest.approx(1.486620405)
    exclusive = parse_lock_holder(LOCKED_EXCLUSIVELY)
    assert exclusive is not None and exclusive.exclusive and exclusive.user == "backup"
    assert exclusive.age_seconds == pytest.approx(3723.5)
    assert parse_lock_holder("Fatal: wrong password or no key found") is None


@pytest.mark.parametrize(("text", "seconds"), [
    ("1.5s", 1.5), ("5m3s", 303.0), ("1h2m3.5s", 3723.5), ("250ms", 0.25), ("3µs", 3e-6),
    ("soon", None), ("5m3", None),
])
def test_go_duration(text: str, seconds: float | None) -> None:
    assert parse_go_duration(text) == (pytest.approx(seconds) if seconds else None)


def test_lock_staleness_follows_restic() -> None:
    own = LockHolder(os.getpid(), "nas", "root", exclusive=False, age_seconds=10)
    assert not lock_is_stale(own, "nas"), "a live PID on this host holds a live lock"
    assert not lock_is_stale(own, "other-host"), "another host's PID cannot be checked"
    old = LockHolder(os.getpid(), "nas", "root", exclusive=False, age_seconds=31 * 60)
    assert lock_is_stale(old, "nas"), "older than 30 minutes is stale, like restic says"
    dead = LockHolder(_dead_pid(), "nas", "root", exclusive=True, age_seconds=5)
    assert lock_is_stale(dead, "nas")


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_snapshots_ls_forget_restore() -> None:
    snapshots = parse_snapshots(
        '[{"time":"2026-11-22T21:30:28.1+01:00","paths":["/srv"],"hostname":"vm",'
        '"id":"bb","short_id":"b"},{"time":"2026-11-22T20:30:13.5Z","paths":["/srv"],'
        '"hostname":"vm","tags":["nasops"],"id":"aa"}]')
    assert [snapshot.id for snapshot in snapshots] == ["aa", "bb"], "oldest first, by time"
    assert snapshots[0].short_id == "aa" and snapshots[0].tags == ("nasops",)
    files = parse_ls_files(
        '{"time":"x","struct_type":"snapshot","id":"aa"}\n'
        '{"name":"d","type":"dir","path":"/srv/d","struct_type":"node"}\n'
        '{"name":"f","type":"file","path":"/srv/d/f","size":3,'
        '"mtime":"2026-11-22T20:30:06.788661729Z","struct_type":"node"}\n')
    assert [(node.path, node.size) for node in files] == [("/srv/d/f", 3)]
    assert files[0].mtime_ns == 1795379406788661729
    assert parse_forget_counts('[{"keep":[{}],"remove":[{},{}]},{"keep":[{}],"remove":null}]\n'
                               "loading indexes...\nremoving 1 old packs\n") == (2, 2)
    assert parse_forget_counts("") == (0, 0)
    assert parse_restore_errors(
        "restoring <Snapshot 5b34241a …> to scratch\n"
        "ignoring error for /tmp/rx/src/a/r14: ciphertext verification failed\n"
        "ignoring error for /tmp/rx/src/a/r14: UtimesNano: no such file or directory\n"
        "Fatal: There were 2 errors\n") == {
        "/tmp/rx/src/a/r14": "ciphertext verification failed"}


def test_timestamps_keep_nanoseconds_and_offsets() -> None:
    assert timestamp_ns("1970-01-01T00:00:01.5Z") == 1_500_000_000
    assert timestamp_ns("1970-01-01T01:00:01.000000001+01:00") == 1_000_000_001
    assert timestamp_ns("garbage") is None


def _failed(stderr: str, code: int = 1) -> CommandResult:
    return CommandResult(("restic", "backup"), code, "", stderr)


@pytest.mark.parametrize(("stderr", "code", "expected"), [
    ("Fatal: wrong password or no key found\n", 1, WrongPasswordError),
    ("Fatal: an error\n", 12, WrongPasswordError),
    ("Fatal: unable to open config file: stat /mnt/usb/restic/config: no such file or "
     "directory\nIs there a repository at the following location?\n/mnt/usb/restic\n", 1,
     RepositoryNotFoundError),
    ("Fatal: unable to open config file: <config/> does not exist\nIs there a repository at "
     "the following location?\nrclone::local:/tmp/x\n", 1, RepositoryNotFoundError),
    ("Fatal: repository does not exist: unable to open config file\n", 10,
     RepositoryNotFoundError),
    ('Fatal: unable to open config file: client.Head: Head "http://127.0.0.1:1/config": dial '
     "tcp 127.0.0.1:1: connect: connection refused\nIs there a repository at the following "
     "location?\nrest:http://127.0.0.1:1/\n", 1, RepositoryUnreachableError),
    ("subprocess ssh: ssh: connect to host 192.0.2.1 port 22: No route to host\nFatal: unable "
     "to open repository at sftp:b@192.0.2.1:/srv: unable to start the sftp session, error: "
     "EOF\n", 1, RepositoryUnreachableError),
    ("Fatal: unable to save snapshot: write /mnt/repo/data/3b/3b40-tmp: no space left on "
     "device\n", 1, RepositoryFullError),
    ("Save(<data/1a2b>) returned error: disk quota exceeded\n", 1, RepositoryFullError),
    (LOCKED, 1, RepositoryLockedError),
    ("Fatal: unable to create lock in backend\n", 11, RepositoryLockedError),
    ("Fatal: repository contains errors\n", 1, BackupError),
])
def test_classify_failure(stderr: str, code: int, expected: type[BackupError]) -> None:
    error = classify_failure("usb", _failed(stderr, code))
    assert type(error) is expected
    assert "'usb'" in str(error)
    assert error.result is not None and error.result.returncode == code


def test_not_found_is_a_kind_of_unreachable() -> None:
    error = classify_failure("usb", _failed("Fatal: unable to open config file: stat /x/config:"
                                            " no such file or directory\n"))
    assert isinstance(error, RepositoryUnreachableError)
    assert error.kind == "repository_unreachable"
