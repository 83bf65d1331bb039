"""Several organisations on one NAS: what each spec cannot see alone (issue 13).

Each organisation's spec is valid on its own (`nasops validate SPEC`, its admin's check);
the provider's `nasops validate -i INVENTORY` also checks the specs a NAS hosts together.
Every conflict is reported at both places, in plain words: the one found later is the
located problem and its message names the earlier one as `file:line`.

Checked here (independent of how the NAS will keep the organisations apart): an account
prefix for every organisation, unique prefixes and ids, one volume, unique POSIX account
and group names and Samba share names (Samba compares names without case), no Syncthing
device in two organisations (it would receive the other's folders), one Syncthing's options,
no restic repository location in two organisations, repository names that still fit with
their prefix, one check and one drill schedule, one exporter setting, and (a warning) quotas
that together exceed the volume's size.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from ansible_collections.nasops.nas.plugins.module_utils.organisation_quotas import (
    organisation_qgroup,
)

from nasops.errors import Problem
from nasops.spec.directory import build_directory
from nasops.spec.hosting_file import LoadedHosting
from nasops.spec.load import LoadedSpec
from nasops.spec.names import samba_case_key
from nasops.spec.units import parse_size
from nasops.spec.yaml_source import DataPath


@dataclass(frozen=True)
class Place:
    """Where a value was given: the spec and the data path in it."""

    loaded: LoadedSpec
    path: DataPath

    def where(self) -> str:
        """Return `file:line`, or `file (the default)` where the spec does not say it."""
        source = self.loaded.source
        if self.path not in source.key_positions and self.path not in source.value_positions:
            return f"{source.file} (the default)"
        line, _column = source.position(self.path)
        return f"{source.file}:{line}"

    def problem(self, message: str, *, severity: str = "error") -> Problem:
        return self.loaded.source.problem(self.path, message, severity=severity)


class _Seen:
    """First place of each key of one kind; a later place with the same key is a conflict."""

    def __init__(self, describe: Callable[[str], str]) -> None:
        self.describe = describe
        self.first: dict[str, Place] = {}

    def add(self, key: str, place: Place, problems: list[Problem],
            name: str | None = None) -> None:
        """Note key at place; a conflict names `name` (the key itself by default)."""
        earlier = self.first.setdefault(key, place)
        if earlier is not place and earlier.loaded is not place.loaded:
            problems.append(place.problem(
                f"{self.describe(name or key)}; also at {earlier.where()}, and both "
                "organisations are on the same NAS"))


def check_hosted(host: str, specs: Sequence[LoadedSpec],
                 hosting: LoadedHosting | None = None) -> list[Problem]:
    """Given the loaded specs one NAS hosts (two or more, or one with a hosting file) and its
    hosting file if any, return every conflict between them (errors, and warnings with
    severity 'warning')."""
    problems: list[Problem] = []
    ids = _Seen(lambda key: f"organization id '{key}' is another organisation's too")
    prefixes = _Seen(lambda key: f"account prefix '{key}' is another organisation's too: "
                                 "each organisation needs its own")
    accounts = _Seen(lambda key: f"account or group name '{key}' is another "
                                 "organisation's too")
    # Samba's own comparison (names arrive NFC: the YAML loader normalises them).
    share_names = _Seen(lambda key: f"Samba share name '{key}' is another organisation's "
                                    "too (Samba compares share names without case)")
    devices = _Seen(lambda key: f"Syncthing device {key[:7]}… is another organisation's "
                                "too: it would receive that organisation's folders")
    repositories = _Seen(lambda key: f"restic repository {key} is another organisation's "
                                     "too: each organisation needs its own")
    # Each organisation's btrfs qgroup is named from its directory (a 32-bit hash): two
    # directories with the same would share one limit.
    qgroups = _Seen(lambda key: f"this organisation's quota group {key} is another "
                                "organisation's too (a one-in-four-billion chance): change "
                                "one organisation id")
    local_paths: list[tuple[str, Place]] = []
    for loaded in specs:
        spec, prefix = loaded.spec, loaded.spec.organization.account_prefix
        ids.add(spec.organization.id, Place(loaded, ("organization", "id")), problems)
        qgroups.add(organisation_qgroup(posixpath.join(spec.volume.path, spec.organization.id)),
                    Place(loaded, ("organization", "id")), problems)
        if not prefix and len(specs) > 1:
            problems.append(Place(loaded, ("organization",)).problem(
                f"NAS {host} hosts {len(specs)} organisations: set organization."
                "account_prefix (a few lowercase letters and '-', e.g. "
                f"'{spec.organization.id[:7]}-') so that their accounts, groups and share "
                "names stay apart"))
        else:
            prefixes.add(prefix, Place(loaded, ("organization", "account_prefix")), problems)
        directory = build_directory(spec)
        accounts.add(f"{prefix}{spec.organization.id}-users",
                     Place(loaded, ("organization", "id")), problems)
        for index, user in enumerate(spec.users):
            place = Place(loaded, ("users", index, "login"))
            accounts.add(directory.users[user.login].system_name, place, problems)
            for number, device in enumerate(user.devices):
                devices.add(device.id, Place(loaded, ("users", index, "devices", number, "id")),
                            problems)
        for index, group in enumerate(spec.groups):
            accounts.add(directory.groups[group.name].system_name,
                         Place(loaded, ("groups", index, "name")), problems)
        for index, share in enumerate(spec.shares):
            share_names.add(samba_case_key(prefix + share.name),
                            Place(loaded, ("shares", index, "name")), problems,
                            prefix + share.name)
        local_paths += _repositories_of(loaded, repositories, problems)
    backup_owners = list(specs)
    if hosting is not None:
        shared = LoadedSpec(hosting.shared, hosting.source)
        backup_owners.append(shared)
        prefixes_in_use = [loaded.spec.organization.account_prefix for loaded in specs]
        local_paths += _repositories_of(shared, repositories, problems)
        for index, repository in enumerate(hosting.shared.backup.repositories
                                           if hosting.shared.backup else []):
            taken = [prefix for prefix in prefixes_in_use
                     if prefix and repository.name.startswith(prefix)]
            if taken:
                problems.append(Place(shared, ("backup", "repositories", index, "name")).problem(
                    f"the shared space's repository name cannot start with the account prefix "
                    f"'{taken[0]}': that organisation's repositories are named so"))
        for index, share in enumerate(hosting.shared.shares):
            place = Place(shared, ("shares", index, "name"))
            share_names.add(samba_case_key(share.name), place, problems, share.name)
            taken = [prefix for prefix in prefixes_in_use
                     if prefix and samba_case_key(share.name).startswith(samba_case_key(prefix))]
            if taken:
                problems.append(place.problem(
                    f"a shared share's name cannot start with the account prefix "
                    f"'{taken[0]}': people would take it for that organisation's own"))
    problems += _nested_repositories(local_paths)
    problems += _one_syncthing(host, specs)
    problems += _backups_apart(host, backup_owners)
    problems += _one_setting(host, specs)
    problems += _quotas_fit(host, specs)
    return problems


def _repositories_of(loaded: LoadedSpec, repositories: _Seen,
                     problems: list[Problem]) -> list[tuple[str, Place]]:
    """Note where each repository of one spec (or of the hosting file) is, so that no two
    owners share one; return its local paths with their places (for the nesting check)."""
    local_paths: list[tuple[str, Place]] = []
    backup = loaded.spec.backup
    for index, repository in enumerate(backup.repositories if backup else []):
        place = Place(loaded, ("backup", "repositories", index, "url"))
        repositories.add(repository_location(repository.url), place, problems, repository.url)
        local_paths.append((repository.url, place))
    return local_paths


def repository_location(url: str) -> str:
    """Given a restic repository URL, return where it is, written one way: the user of an
    SFTP URL left out (two users on one host and path are one repository), host names in
    lower case, a REST URL's default port dropped, paths normalised."""
    if url.startswith("/"):
        return posixpath.normpath(url)
    if url.startswith("sftp:"):
        _user, _, rest = url[len("sftp:"):].partition("@")
        host, _, path = rest.partition(":")
        return f"sftp:{host.lower()}:{posixpath.normpath(path or '.')}"
    if url.startswith("rest:"):
        parts = urlsplit(url[len("rest:"):])
        default = {"http": 80, "https": 443}.get(parts.scheme)
        try:
            port = "" if parts.port in (None, default) else f":{parts.port}"
        except ValueError:  # not a port number: compared as written
            return url.rstrip("/")
        return (f"rest:{parts.scheme}://{(parts.hostname or '').lower()}{port}"
                f"{posixpath.normpath(parts.path or '/')}")
    return url.rstrip("/")


def _nested_repositories(local_paths: list[tuple[str, Place]]) -> list[Problem]:
    """A local repository inside another organisation's (or holding it) is refused too."""
    problems: list[Problem] = []
    located = [(posixpath.normpath(url), place) for url, place in local_paths
               if url.startswith("/")]
    for path, place in located:
        for other, earlier in located:
            if earlier.loaded is place.loaded or other == path:
                continue
            if path.startswith(other.rstrip("/") + "/"):
                problems.append(place.problem(
                    f"restic repository {path} is inside another organisation's ({other}, "
                    f"at {earlier.where()}): each organisation needs its own place"))
    return problems


def _the_same(path: DataPath, values: Sequence[tuple[LoadedSpec, object]],
              why: str) -> list[Problem]:
    """Given a setting's place and each organisation's value of it, return a problem at each
    one that differs from the first (naming the first's place), saying why it must not."""
    problems: list[Problem] = []
    for loaded, value in values[1:]:
        first, first_value = values[0]
        if value != first_value:
            problems.append(Place(loaded, path).problem(
                f"{value!r} here but {first_value!r} in {Place(first, path).where()}: {why}"))
    return problems


def _one_syncthing(host: str, specs: Sequence[LoadedSpec]) -> list[Problem]:
    """The NAS runs one Syncthing for every organisation's laptops: the organisations with
    laptops must say the same discovery, relay and listening options."""
    with_laptops = [loaded for loaded in specs
                    if any(user.devices for user in loaded.spec.users)]
    return [problem
            for option in ("global_discovery", "local_discovery", "relays", "nat_traversal",
                           "listen_addresses")
            for problem in _the_same(
                ("sync", option),
                [(loaded, getattr(loaded.spec.sync, option)) for loaded in with_laptops],
                f"the laptops of every organisation of NAS {host} reach one Syncthing, so "
                "the specs with laptops must say the same")]


def _schedule(loaded: LoadedSpec, task: str) -> str | None:
    backup = loaded.spec.backup
    return None if backup is None else (backup.check if task == "check" else backup.drill).schedule


def _backups_apart(host: str, specs: Sequence[LoadedSpec]) -> list[Problem]:
    """Each organisation's repositories are named on the NAS with its account prefix (units,
    password files and metrics carry the name; the spec checks the length): no two may end
    up with one name (an organisation without a prefix, alone with a hosting file, could
    meet the shared space's). The check and drill timers are the NAS's: every organisation
    with backups (and the hosting file) says the same schedules."""
    problems: list[Problem] = []
    with_backups = [loaded for loaded in specs if loaded.spec.backup is not None]
    names = _Seen(lambda key: f"repository name '{key}' (as the NAS names it, account "
                              "prefix first) is another's too")
    for loaded in with_backups:
        prefix = loaded.spec.organization.account_prefix
        for index, repository in enumerate(loaded.spec.backup.repositories
                                           if loaded.spec.backup else []):
            names.add(prefix + repository.name,
                      Place(loaded, ("backup", "repositories", index, "name")), problems)
    for task in ("check", "drill"):
        problems += _the_same(
            ("backup", task, "schedule"),
            [(loaded, _schedule(loaded, task)) for loaded in with_backups],
            f"the organisations of NAS {host} share one {task} timer, so their specs must "
            f"say the same {task} schedule")
    return problems


def _one_setting(host: str, specs: Sequence[LoadedSpec]) -> list[Problem]:
    """The volume and the exporter are the NAS's: every organisation must say the same."""
    problems: list[Problem] = []
    settings: list[tuple[DataPath, Callable[[LoadedSpec], object], str]] = [
        (("volume", "path"),
         lambda loaded: posixpath.normpath(loaded.spec.volume.path), "volume"),
        (("monitoring", "port"), lambda loaded: loaded.spec.monitoring.port, "exporter"),
        (("monitoring", "listen_address"),
         lambda loaded: loaded.spec.monitoring.listen_address, "exporter"),
        (("monitoring", "drift_check"),
         lambda loaded: loaded.spec.monitoring.drift_check, "exporter"),
    ]
    for path, value_of, what in settings:
        problems += _the_same(path, [(loaded, value_of(loaded)) for loaded in specs],
                              f"the organisations of NAS {host} share one {what}, so their "
                              "specs must say the same")
    return problems


def _quotas_fit(host: str, specs: Sequence[LoadedSpec]) -> list[Problem]:
    """A warning when the shares' quotas of every organisation together exceed the size of
    the volume that one of them states (overcommitting is allowed, but worth a look)."""
    total = sum(parse_size(share.quota) for loaded in specs for share in loaded.spec.shares
                if share.quota)
    for loaded in specs:  # once, at the first organisation that states a size it exceeds
        size = loaded.spec.volume.size
        if size and total > parse_size(size):
            return [Place(loaded, ("volume", "size")).problem(
                f"the quotas of the {len(specs)} organisations of NAS {host} add up to "
                f"more than the volume's {size}: together they can fill it before any quota "
                "stops them", severity="warning")]
    return []
