"""The restic argv builders: pure functions, checked as data tables."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from nasops.backup.restic.backup import build_backup_argv
from nasops.backup.restic.check import build_check_argv
from nasops.backup.restic.common import ResticOptions
from nasops.backup.restic.forget import build_forget_argv
from nasops.backup.restic.init import build_cat_config_argv, build_init_argv
from nasops.backup.restic.ls import build_ls_argv
from nasops.backup.restic.restore import build_restore_argv, escape_pattern
from nasops.backup.restic.snapshots import build_snapshots_argv
from nasops.backup.restic.unlock import build_unlock_argv
from nasops.backup.restic.version import build_version_argv

PLAIN = ResticOptions()
CACHED = ResticOptions(binary="/usr/bin/restic", cache_directory="/var/cache/restic")
RETRYING = ResticOptions(retry_lock_seconds=600)

CASES: list[tuple[str, Callable[[], tuple[str, ...]], tuple[str, ...]]] = [
    ("version", lambda: build_version_argv(CACHED), ("/usr/bin/restic", "version")),
    ("init", lambda: build_init_argv(PLAIN), ("restic", "init")),
    ("init never retries locks", lambda: build_init_argv(RETRYING), ("restic", "init")),
    ("cat config", lambda: build_cat_config_argv(RETRYING),
     ("restic", "cat", "--no-lock", "config")),
    ("backup", lambda: build_backup_argv(PLAIN, ["/srv/nas/A", "/srv/nas/B"]),
     ("restic", "backup", "--json", "--quiet", "--", "/srv/nas/A", "/srv/nas/B")),
    ("backup with everything",
     lambda: build_backup_argv(CACHED, ["/srv/nas"], excludes=["*.tmp", "~$*"],
                               tags=["nasops"], host="nas", exclude_caches=True),
     ("/usr/bin/restic", "backup", "--cache-dir", "/var/cache/restic", "--json", "--quiet",
      "--host", "nas", "--tag", "nasops", "--exclude", "*.tmp", "--exclude", "~$*",
      "--exclude-caches", "--", "/srv/nas")),
    ("backup, restic >= 0.16", lambda: build_backup_argv(RETRYING, ["/srv"]),
     ("restic", "backup", "--json", "--quiet", "--retry-lock", "600s", "--", "/srv")),
    ("source looking like an option stays a path",
     lambda: build_backup_argv(PLAIN, ["--password=x"]),
     ("restic", "backup", "--json", "--quiet", "--", "--password=x")),
    ("forget", lambda: build_forget_argv(PLAIN, {"daily": 7, "weekly": 4, "monthly": 12}),
     ("restic", "forget", "--json", "--prune", "--keep-daily", "7", "--keep-weekly", "4",
      "--keep-monthly", "12")),
    ("forget: zeros left out, within, tag, no prune",
     lambda: build_forget_argv(PLAIN, {"last": 0, "daily": 0, "yearly": 2, "within": "30d"},
                               tags=["nasops"], prune=False),
     ("restic", "forget", "--json", "--keep-yearly", "2", "--keep-within", "30d",
      "--tag", "nasops")),
    ("check", lambda: build_check_argv(PLAIN), ("restic", "check")),
    ("check subset", lambda: build_check_argv(PLAIN, "1/10"),
     ("restic", "check", "--read-data-subset=1/10")),
    ("check subset, retrying", lambda: build_check_argv(RETRYING, "5%"),
     ("restic", "check", "--retry-lock", "600s", "--read-data-subset=5%")),
    ("snapshots never lock", lambda: build_snapshots_argv(RETRYING),
     ("restic", "snapshots", "--json", "--no-lock")),
    ("snapshots filtered", lambda: build_snapshots_argv(PLAIN, tags=["nasops"], latest=1),
     ("restic", "snapshots", "--json", "--no-lock", "--tag", "nasops", "--latest", "1")),
    ("ls", lambda: build_ls_argv(PLAIN, "1a2b3c4d"), ("restic", "ls", "--json", "1a2b3c4d")),
    ("ls a folder", lambda: build_ls_argv(PLAIN, "latest", ["/srv/nas/A"]),
     ("restic", "ls", "--json", "latest", "/srv/nas/A")),
    ("restore", lambda: build_restore_argv(PLAIN, "latest", "/"),
     ("restic", "restore", "latest", "--target", "/")),
    ("restore some files, verified",
     lambda: build_restore_argv(PLAIN, "1a2b", "/tmp/x", include_paths=["/a/b[1].txt", "/c"],
                                verify=True),
     ("restic", "restore", "1a2b", "--target", "/tmp/x", "--include", "/a/b\\[1].txt",
      "--include", "/c", "--verify")),
    ("unlock only removes stale locks", lambda: build_unlock_argv(RETRYING),
     ("restic", "unlock")),
]


@pytest.mark.parametrize(("name", "build", "expected"), CASES, ids=[case[0] for case in CASES])
def test_builder(name: str, build: Callable[[], tuple[str, ...]],
                 expected: tuple[str, ...]) -> None:
    argv = build()
    assert argv == expected
    assert isinstance(argv, tuple) and all(isinstance(part, str) for part in argv)


@pytest.mark.parametrize(("path", "pattern"), [
    ("/srv/nas/plain.txt", "/srv/nas/plain.txt"),
    ("/a[1].txt", "/a\\[1].txt"),
    ("/star*x?", "/star\\*x\\?"),
    ("/back\\slash", "/back\\\\slash"),
    ("/espace é/ü", "/espace é/ü"),
])
def test_escape_pattern(path: str, pattern: str) -> None:
    assert escape_pattern(path) == pattern


@pytest.mark.parametrize("build", [
    lambda: build_backup_argv(PLAIN, []),
    lambda: build_forget_argv(PLAIN, {"daily": 0, "weekly": 0, "monthly": 0}),
    lambda: build_forget_argv(PLAIN, {"dayly": 7}),
    lambda: build_ls_argv(PLAIN, "--all"),
    lambda: build_restore_argv(PLAIN, "", "/"),
])
def test_builders_refuse_dangerous_input(build: Callable[[], tuple[str, ...]]) -> None:
    with pytest.raises(ValueError):
        build()
