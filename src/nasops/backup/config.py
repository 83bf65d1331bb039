"""The wrapper's own config file on the NAS (JSON, written by the nas_backup Ansible role).

Example::

    {
      "version": 1,
      "repositories": [
        {"name": "usb", "url": "/mnt/backup-usb/restic",
         "password_file": "/etc/nasops/restic/usb.password", "mount_point": "/mnt/backup-usb"},
        {"name": "offsite", "url": "sftp:backup@offsite.example.org:/srv/restic/wsm",
         "password_file": "/etc/nasops/restic/offsite.password"},
        {"name": "cloud", "url": "rest:https://backup.example.org/wsm/",
         "password_file": "/etc/nasops/restic/cloud.password",
         "environment_file": "/etc/nasops/restic/cloud.env"}
      ],
      "sources": ["/srv/nas/Afrique", "/srv/nas/Asie"],
      "exclude": ["*.tmp"],
      "retention": {"daily": 7, "weekly": 4, "monthly": 12},
      "check": {"read_data_subset": "5%"},
      "drill": {"sample_files": 50},
      "state_directory": "/var/lib/nasops/backup"
    }

Passwords never live here: only the paths of files holding them. A repository may say its
own `sources`, `exclude`, `retention`, `check.read_data_subset` and `drill.sample_files`
(the nas_backup role always writes them there: on a NAS several organisations share, each
repository holds its own organisation's shares); what it leaves out comes from the top level.

Validated by hand rather than with pydantic: building pydantic models costs a tenth of a
second or more at every start, and a timer starts this wrapper for every run. Every problem
is reported at once, one line each, as `FILE: where: message`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from nasops.backup.errors import BackupConfigError

DEFAULT_CONFIG_PATH = "/etc/nasops/backup.json"
DEFAULT_STATE_DIRECTORY = "/var/lib/nasops/backup"
DEFAULT_SCRATCH_DIRECTORY = "/var/lib/nasops/drill"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,30}\Z")
# The same forms the spec accepts (nasops.spec.units), checked without importing the spec.
DURATION_PATTERN = re.compile(r"^(?:\d+y)?(?:\d+m)?(?:\d+d)?(?:\d+h)?\Z")
# restic 0.14's `--read-data-subset` grammar (checked against restic itself): `x%` with
# 0 < x <= 100, `n/t` with 1 <= n <= t <= 256, or a whole size > 0 with a unit B, K, M, G or T.
SUBSET_PERCENT = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)%\Z")
SUBSET_FRACTION = re.compile(r"^(\d+)/(\d+)\Z")
SUBSET_SIZE = re.compile(r"^(\d+)[BKMGT]\Z", re.IGNORECASE)
SUBSET_BUCKETS = 256
KEEP_COUNTS = ("last", "hourly", "daily", "weekly", "monthly", "yearly")
MAX_KEEP = 10000
MAX_SAMPLE = 100000
MAX_LOCK_WAIT = 86400
# The same SFTP form the spec accepts (nasops.spec.grammars): ssh gets the host and user as
# arguments, so neither may start with '-' (`-oProxyCommand=…` would be an ssh option).
SFTP_URL = re.compile(r"^sftp:([A-Za-z0-9_][A-Za-z0-9_.-]*)@([A-Za-z0-9][A-Za-z0-9.-]*):\S+\Z")
Value = TypeVar("Value")


@dataclass(frozen=True)
class RetentionConfig:
    """How many snapshots `forget` keeps (same meaning as the spec's retention)."""

    last: int = 0
    hourly: int = 0
    daily: int = 7
    weekly: int = 4
    monthly: int = 12
    yearly: int = 0
    within: str | None = None

    def keep(self) -> dict[str, int | str | None]:
        """Return the keep-* values for the forget argv builder."""
        return {**{name: getattr(self, name) for name in KEEP_COUNTS}, "within": self.within}


@dataclass(frozen=True)
class CheckConfig:
    """Integrity check: how much data to read back each time (None: structure only)."""

    read_data_subset: str | None = "5%"


@dataclass(frozen=True)
class DrillConfig:
    """Restore drill: how many random files, restored where."""

    sample_files: int = 50
    scratch_directory: str = DEFAULT_SCRATCH_DIRECTORY


@dataclass(frozen=True)
class RepositoryConfig:
    """One restic repository and where its secrets are."""

    name: str
    url: str
    password_file: str
    environment_file: str | None = None
    """KEY=VALUE lines for backend credentials (e.g. RESTIC_REST_PASSWORD, AWS_*)."""
    mount_point: str | None = None
    """When set, refuse to touch the repository unless this is a mount point (USB disk)."""
    sources: tuple[str, ...] | None = None
    """What goes into this repository; None: the config's top-level sources."""
    exclude: tuple[str, ...] | None = None
    retention: RetentionConfig | None = None
    check: CheckConfig | None = None
    sample_files: int | None = None


@dataclass(frozen=True)
class BackupConfig:
    """Everything `nasops backup` needs on the NAS."""

    repositories: tuple[RepositoryConfig, ...]
    sources: tuple[str, ...]
    """Absolute paths: then the paths inside snapshots are the paths on the NAS, which
    restore in place and the drill's comparison with the source rely on."""
    exclude: tuple[str, ...] = ()
    exclude_caches: bool = True
    """Skip directories tagged with CACHEDIR.TAG (browser and build caches)."""
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    check: CheckConfig = field(default_factory=CheckConfig)
    drill: DrillConfig = field(default_factory=DrillConfig)
    state_directory: str = DEFAULT_STATE_DIRECTORY
    cache_directory: str | None = None
    host: str | None = None
    """Hostname recorded in snapshots; restic uses the machine's name when unset."""
    lock_wait_seconds: float = 600
    """How long to wait for a lock held by a live process before giving up."""
    restic_binary: str = "restic"

    def for_repository(self, repository: RepositoryConfig) -> BackupConfig:
        """Given one of its repositories, return this config as that repository sees it:
        its own sources, excludes, retention, check subset and drill sample where it says."""
        return replace(
            self,
            sources=self.sources if repository.sources is None else repository.sources,
            exclude=self.exclude if repository.exclude is None else repository.exclude,
            retention=repository.retention or self.retention,
            check=repository.check or self.check,
            drill=self.drill if repository.sample_files is None else replace(
                self.drill, sample_files=repository.sample_files))

    def repository(self, name: str | None) -> list[RepositoryConfig]:
        """Given a name or None, return that repository or all of them; BackupConfigError."""
        if name is None:
            return list(self.repositories)
        for repository in self.repositories:
            if repository.name == name:
                return [repository]
        known = ", ".join(repository.name for repository in self.repositories)
        raise BackupConfigError(f"no repository named '{name}' (configured: {known})")


class _Reader:
    """Reads one JSON object, collecting every problem with its place instead of stopping."""

    def __init__(self, document: Any, where: str, problems: list[str]) -> None:
        self.where = where
        self.problems = problems
        self.document: dict[str, Any] = document if isinstance(document, dict) else {}
        if not isinstance(document, dict):
            self.problem("", "must be a JSON object")

    def problem(self, key: str, message: str) -> None:
        """Given a key and a message, remember the problem at `where.key`."""
        place = ".".join(part for part in (self.where, key) if part) or "(top level)"
        self.problems.append(f"{place}: {message}")

    def get(self, key: str, default: Value, check: Callable[[Any], str | None]) -> Value:
        """Given a key, its default and a check returning a problem or None, return the
        value (the default when absent or invalid)."""
        if key not in self.document:
            return default
        value = self.document[key]
        problem = check(value)
        if problem:
            self.problem(key, problem)
            return default
        return value  # type: ignore[no-any-return]

    def get_list(self, key: str, check: Callable[[Any], str | None],
                 required: bool = False) -> list[Any]:
        """Given a key and a check for each item, return the valid items; problems are
        reported as `key.index`."""
        values = self.document.get(key, [])
        if not isinstance(values, list):
            self.problem(key, "must be a list")
            return []
        if required and not values:
            self.problem(key, "is required: list at least one")
        valid = []
        for index, value in enumerate(values):
            problem = check(value)
            if problem:
                self.problem(f"{key}.{index}", problem)
            else:
                valid.append(value)
        return valid

    def unknown_keys(self, known: set[str]) -> None:
        """Report every key this object does not know."""
        for key in sorted(set(self.document) - known):
            self.problem(key, "unknown key")


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) and value else "must be a non-empty string"


def _plain(value: Any) -> str | None:
    """A value that reaches restic's or ssh's argv: no control character, no leading '-'."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if any(ord(character) < 32 or character == "\x7f" for character in value):
        return f"{value!r} holds a control character"
    return f"{value!r} starts with '-'" if value.startswith("-") else None


def _url(value: Any) -> str | None:
    problem = _plain(value)
    if problem:
        return problem
    if any(character.isspace() for character in value):
        return f"{value!r} holds a space"
    if value.startswith("sftp:") and not SFTP_URL.match(value):
        return f"{value!r} is not sftp:user@host:path with a plain user and host name"
    return None


def _absolute(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    return None if value.startswith("/") else f"'{value}' must be an absolute path"


def _optional(check: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    return lambda value: None if value is None else check(value)


def _integer(low: int, high: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"must be a whole number from {low} to {high}"
        return None
    return check


def subset_problem(value: Any) -> str | None:
    """Given a `read_data_subset` value, return why restic would refuse it, or None."""
    if not isinstance(value, str):
        return f"{value!r} is not valid; write it like 5%, 1/10 or 2G"
    percent = SUBSET_PERCENT.match(value)
    if percent:
        return None if 0 < float(percent.group(1)) <= 100 else (
            f"{value!r}: a percentage must be above 0% and at most 100%")
    fraction = SUBSET_FRACTION.match(value)
    if fraction:
        part, total = int(fraction.group(1)), int(fraction.group(2))
        return None if 1 <= part <= total <= SUBSET_BUCKETS else (
            f"{value!r}: n/t needs 1 <= n <= t <= {SUBSET_BUCKETS}, e.g. 1/10")
    size = SUBSET_SIZE.match(value)
    if size:
        return None if int(size.group(1)) > 0 else f"{value!r}: a size must be above 0"
    return f"{value!r} is not valid; write it like 5%, 1/10 or a whole size like 2G"


def _pattern(pattern: re.Pattern[str], example: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, str) and value and pattern.match(value):
            return None
        return f"{value!r} is not valid; write it like {example}"
    return check


def _repository(document: Any, where: str, problems: list[str]) -> RepositoryConfig:
    reader = _Reader(document, where, problems)
    reader.unknown_keys({"name", "url", "password_file", "environment_file", "mount_point",
                         "sources", "exclude", "retention", "check", "drill"})
    for required in ("name", "url", "password_file"):
        if required not in reader.document and isinstance(document, dict):
            reader.problem(required, "is required")
    own = reader.document
    sources = reader.get_list("sources", _absolute, required=True) if "sources" in own else None
    check = drill = None
    if "check" in own:
        check = _Reader(own["check"], f"{where}.check", problems)
        check.unknown_keys({"read_data_subset"})
    if "drill" in own:
        drill = _Reader(own["drill"], f"{where}.drill", problems)
        drill.unknown_keys({"sample_files"})
    return RepositoryConfig(
        name=reader.get("name", "?", _pattern(NAME_PATTERN, "usb or offsite-2 (a-z, 0-9, -)")),
        url=reader.get("url", "", _url),
        password_file=reader.get("password_file", "", _absolute),
        environment_file=reader.get("environment_file", None, _optional(_absolute)),
        mount_point=reader.get("mount_point", None, _optional(_absolute)),
        sources=None if sources is None else _stripped(sources),
        exclude=tuple(reader.get_list("exclude", _plain)) if "exclude" in own else None,
        retention=(_retention(own["retention"], problems, f"{where}.retention")
                   if "retention" in own else None),
        check=None if check is None else CheckConfig(
            check.get("read_data_subset", "5%", _optional(subset_problem))),
        sample_files=None if drill is None else drill.get(
            "sample_files", 50, _integer(1, MAX_SAMPLE)),
    )


def _stripped(sources: list[str]) -> tuple[str, ...]:
    """Sources without their trailing '/' (restic records paths as given)."""
    return tuple(source.rstrip("/") or "/" for source in sources)


def _retention(document: Any, problems: list[str], where: str = "retention") -> RetentionConfig:
    reader = _Reader(document, where, problems)
    reader.unknown_keys({*KEEP_COUNTS, "within"})
    defaults = RetentionConfig()
    counts = {name: reader.get(name, getattr(defaults, name), _integer(0, MAX_KEEP))
              for name in KEEP_COUNTS}
    within = reader.get("within", None, _optional(_pattern(DURATION_PATTERN, "30d or 1y6m")))
    retention = RetentionConfig(**counts, within=within)
    if not any(retention.keep().values()):
        reader.problem("", "this retention keeps no snapshot at all; set e.g. daily: 7")
    return retention


def parse_config(document: Any) -> tuple[BackupConfig | None, list[str]]:
    """Given the parsed JSON, return the config and no problems, or None and every problem."""
    problems: list[str] = []
    top = _Reader(document, "", problems)
    top.unknown_keys({"version", "repositories", "sources", "exclude", "exclude_caches",
                      "retention", "check", "drill", "state_directory", "cache_directory",
                      "host", "lock_wait_seconds", "restic_binary"})
    top.get("version", 1, lambda value: None if value == 1 else "must be 1")
    raw_repositories = top.get_list("repositories", lambda _value: None, required=True)
    repositories = tuple(_repository(item, f"repositories.{index}", problems)
                         for index, item in enumerate(raw_repositories))
    names = [repository.name for repository in repositories]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        top.problem("repositories", f"names must be unique: {', '.join(duplicates)}")
    # Required at the top level unless every repository says its own.
    sources: list[str] = top.get_list("sources", _absolute, required=not repositories or any(
        repository.sources is None for repository in repositories))
    check = _Reader(top.document.get("check", {}), "check", problems)
    check.unknown_keys({"read_data_subset"})
    drill = _Reader(top.document.get("drill", {}), "drill", problems)
    drill.unknown_keys({"sample_files", "scratch_directory"})
    config = BackupConfig(
        repositories=repositories,
        sources=_stripped(sources),
        exclude=tuple(top.get_list("exclude", _plain)),
        exclude_caches=top.get("exclude_caches", True, lambda value: None if isinstance(
            value, bool) else "must be true or false"),
        retention=_retention(top.document.get("retention", {}), problems),
        check=CheckConfig(check.get("read_data_subset", "5%", _optional(subset_problem))),
        drill=DrillConfig(drill.get("sample_files", 50, _integer(1, MAX_SAMPLE)),
                          drill.get("scratch_directory", DEFAULT_SCRATCH_DIRECTORY, _absolute)),
        state_directory=top.get("state_directory", DEFAULT_STATE_DIRECTORY, _absolute),
        cache_directory=top.get("cache_directory", None, _optional(_absolute)),
        host=top.get("host", None, _optional(_text)),
        lock_wait_seconds=float(top.get("lock_wait_seconds", 600, lambda value: None if (
            isinstance(value, int | float) and not isinstance(value, bool)
            and 0 <= value <= MAX_LOCK_WAIT) else f"must be seconds from 0 to {MAX_LOCK_WAIT}")),
        restic_binary=top.get("restic_binary", "restic", _text),
    )
    return (None, problems) if problems else (config, [])


def load_config(path: str | Path) -> BackupConfig:
    """Given the config file path, return the validated config; raise BackupConfigError."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise BackupConfigError(f"{path}: not UTF-8 text: {error.reason}") from None
    except FileNotFoundError:
        raise BackupConfigError(
            f"{path}: backup config not found (the nas_backup role writes it; "
            "or give --config PATH)") from None
    except OSError as error:
        raise BackupConfigError(f"{path}: cannot read the backup config: {error}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise BackupConfigError(
            f"{path}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None
    config, problems = parse_config(document)
    if config is None:
        raise BackupConfigError("\n".join(f"{path}: {problem}" for problem in problems))
    return config
