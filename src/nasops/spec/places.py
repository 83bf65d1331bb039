"""Cross-checks for dangerous places, repository URLs, names in reports, and schedules.

They run on the raw YAML data next to `nasops.spec.checks` (which calls them), so that every
problem is reported at once with its line. Each needs more than one field: a repository is
dangerous because of where the volume is, a schedule is checked by systemd for all at once.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from nasops.errors import Problem
from nasops.spec.calendar import schedule_problem, systemd_verdicts
from nasops.spec.grammars import (
    REPOSITORY_URL,
    formula_problem,
    plain_path_problem,
    repository_url_problem,
)
from nasops.spec.models import Spec
from nasops.spec.names import share_name_problem
from nasops.spec.yaml_source import DataPath, SourceMap

# Nothing of the organisation may live in or under these: pseudo and volatile file systems
# (emptied at boot or not files at all), the system's own folders and nasops' own state.
SYSTEM_TREES = (
    "/proc", "/sys", "/dev", "/run", "/tmp", "/var/tmp", "/var/run", "/var/lock",  # noqa: S108
    "/boot", "/efi", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
    "/root", "/snap", "/var/log", "/var/cache", "/var/spool", "/var/mail", "/var/lib/samba",
    "/var/lib/nasops", "/var/lib/nasops-sync", "/opt/nasops",
)
# ... nor exactly at these: they hold other things, a volume or repository needs its own.
SHARED_PARENTS = ("/", "/var", "/var/lib", "/var/opt", "/var/local", "/home", "/opt", "/mnt",
                  "/media")
SCHEDULE_PATHS: tuple[DataPath, ...] = (
    ("backup", "schedule"), ("backup", "check", "schedule"), ("backup", "drill", "schedule"),
    ("monitoring", "drift_check"),
)


def is_within(path: str, parent: str) -> bool:
    """Given two normalised absolute paths, return whether path is parent or inside it."""
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def place_problem(path: str, what: str) -> str | None:
    """Given a plain absolute path, return why `what` cannot live there, or None."""
    parts = path.split("/")
    if "." in parts or ".." in parts:
        return f"'{path}' contains '.' or '..'; write the folder's plain path"
    normalized = posixpath.normpath(path)
    if normalized == "/":
        return f"{what} cannot be / itself; give it a folder of its own"
    for tree in SYSTEM_TREES:
        if is_within(normalized, tree):
            return (f"'{path}' is in {tree}, a folder of the system (or a volatile or pseudo "
                    f"file system emptied at boot); {what} needs a folder of its own")
    if normalized in SHARED_PARENTS:
        return (f"'{path}' is a folder that holds other things; {what} needs a folder of its "
                f"own inside it, e.g. {normalized.rstrip('/')}/nas")
    return None


class PlaceChecker:
    """Collects located problems about places, URLs, report names and schedules."""

    def __init__(self, data: dict[str, Any], source: SourceMap) -> None:
        self.data = data
        self.source = source
        self.problems: list[Problem] = []

    def error(self, path: DataPath, message: str) -> None:
        self.problems.append(self.source.problem(path, message))

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        return value if isinstance(value, dict) else {}

    def volume(self) -> str | None:
        """Return the volume's path when it is plain and absolute, else None."""
        volume = self.data.get("volume", "/srv/nas")
        path = volume.get("path", "/srv/nas") if isinstance(volume, dict) else volume
        if not isinstance(path, str) or plain_path_problem(path):
            return None  # the schema explains it
        return path

    def run(self) -> list[Problem]:
        self.check_volume()
        self.check_repositories()
        self.check_sources()
        self.check_report_names()
        self.check_schedules()
        return self.problems

    def check_volume(self) -> None:
        volume = self.volume()
        where: DataPath = ("volume", "path") if isinstance(self.data.get("volume"), dict) \
            else ("volume",)
        if volume is None:
            return  # the schema explains it
        problem = place_problem(volume, "the shares' volume")
        if problem:
            self.error(where, problem)

    def repositories(self) -> Iterator[tuple[DataPath, dict[str, Any]]]:
        repositories = self.mapping("backup").get("repositories")
        for index, repository in enumerate(
                repositories if isinstance(repositories, list) else []):
            if isinstance(repository, dict):
                yield ("backup", "repositories", index), repository

    def check_repositories(self) -> None:
        volume = self.volume()
        for path, repository in self.repositories():
            url = repository.get("url")
            if not isinstance(url, str) or not REPOSITORY_URL.match(url):
                continue  # checks.py explains it
            problem = repository_url_problem(url)
            if problem is None and url.startswith("/"):
                problem = place_problem(url, "a backup repository")
                normalized = posixpath.normpath(url)
                if problem is None and volume and is_within(normalized,
                                                            posixpath.normpath(volume)):
                    problem = (f"'{url}' is inside the volume {volume} that it backs up: "
                               "a failing disk would take the data and its backup together, "
                               "and the backup would copy itself; use another disk")
                elif problem is None and volume and is_within(posixpath.normpath(volume),
                                                              normalized):
                    problem = (f"'{url}' contains the volume {volume}; a repository needs a "
                               "folder of its own, on another disk")
            if problem:
                self.error((*path, "url"), problem)

    def check_sources(self) -> None:
        backup = self.data.get("backup")
        if not isinstance(backup, dict) or "sources" in backup:
            return
        shares = self.data.get("shares")
        # A misspelt `shares:` key is explained as an unknown key; this would only add noise.
        misspelt = set(self.data) - set(Spec.model_fields)
        if not shares and not misspelt:
            self.error(("backup",), "this backup has nothing to back up: the spec has no "
                                    "shares; add shares or remove the backup section")

    def check_report_names(self) -> None:
        shares = self.data.get("shares")
        for index, share in enumerate(shares if isinstance(shares, list) else []):
            if isinstance(share, dict):
                self.check_name(("shares", index), share, share_name_problem)

    def check_name(self, path: DataPath, item: dict[str, Any], rule: Any) -> None:
        name = item.get("name")
        # Only names the name rules accept: one problem per name is enough.
        if isinstance(name, str) and not rule(name):
            problem = formula_problem(name)
            if problem:
                self.error((*path, "name"), problem)

    def check_schedules(self) -> None:
        """Ask systemd-analyze (where present) about every schedule our own check accepts."""
        found: list[tuple[DataPath, str]] = []
        for path in SCHEDULE_PATHS:
            value: Any = self.data
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, str):
                found.append((path, value.strip()))
        for path, repository in self.repositories():
            if isinstance(repository.get("schedule"), str):
                found.append(((*path, "schedule"), repository["schedule"].strip()))
        accepted = [(path, value) for path, value in found if schedule_problem(value) is None]
        verdicts = systemd_verdicts([value for _, value in accepted])
        for path, value in accepted:
            if verdicts.get(value):
                self.error(path, str(verdicts[value]))


def check_places(data: Any, source: SourceMap) -> list[Problem]:
    """Given raw spec data and its source map, return the problems of this module's checks."""
    return PlaceChecker(data if isinstance(data, dict) else {}, source).run()
