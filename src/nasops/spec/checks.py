"""Checks across the spec (names, references, duplicates, quotas, backups).

They run on the raw YAML data, next to the schema check, so that one run reports every
problem at once even when parts of the file do not match the schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from nasops.backup.config import NAME_PATTERN as REPOSITORY_NAME
from nasops.errors import Problem
from nasops.spec.accounts import account_problems
from nasops.spec.grammars import REPOSITORY_URL
from nasops.spec.lookalike import lookalike_problems
from nasops.spec.names import (
    folder_name_problem,
    login_problem,
    posix_group_problem,
    samba_case_key,
    share_name_problem,
    slugify,
    suggestion,
)
from nasops.spec.places import check_places
from nasops.spec.units import format_size, parse_size
from nasops.spec.yaml_source import DataPath, SourceMap
from nasops.sync.device_id import device_id_content_problem


class Checker:
    """Collects located problems while walking the raw spec data."""

    def __init__(self, data: Any, source: SourceMap) -> None:
        self.data = data if isinstance(data, dict) else {}
        self.source = source
        self.problems: list[Problem] = []
        # casefolded key (group name, system name or login) -> ("group" or "user", name)
        self.principals: dict[str, tuple[str, str]] = {}

    def error(self, path: DataPath, message: str) -> None:
        self.problems.append(self.source.problem(path, message))

    def warning(self, path: DataPath, message: str) -> None:
        self.problems.append(self.source.problem(path, message, severity="warning"))

    def line(self, path: DataPath) -> int:
        """Given a data path, return its line, so that messages can point at the other one."""
        return self.source.position(path)[0]

    def twice(self, name: str, first: str, first_path: DataPath, path: DataPath = ()) -> str:
        """Return '(first on line 6)' or, when only capitals differ, a sentence saying so."""
        line = self.line(first_path)
        if name == first and {path, first_path} & self.source.renormalized:
            return (f"(line {line} has the same name, its accents encoded differently: "
                    "Unicode NFC and NFD)")
        if name == first:
            return f"(first on line {line})"
        return f"('{first}' on line {line} is the same name: capitals do not count)"

    def items(self, key: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield (index, mapping) for the list at `key`, skipping malformed entries."""
        values = self.data.get(key)
        if isinstance(values, list):
            for index, value in enumerate(values):
                if isinstance(value, dict):
                    yield index, value

    def run(self) -> list[Problem]:
        self.check_groups()
        self.check_users()
        self.check_shares()
        self.check_backup()
        self.problems += account_problems(self.data, self.source)
        self.problems += lookalike_problems(self.data, self.source)
        return self.problems

    def account_prefix(self) -> str:
        organization = self.data.get("organization")
        if isinstance(organization, dict):
            return str(organization.get("account_prefix") or "")
        return ""

    def check_groups(self) -> None:
        seen: dict[str, tuple[str, DataPath]] = {}
        system_seen: dict[str, tuple[str, DataPath]] = {}
        for index, group in self.items("groups"):
            name = group.get("name")
            if not isinstance(name, str) or not name.strip():
                continue
            key = name.casefold()
            if key in seen:
                self.error(("groups", index, "name"), f"group '{name}' is listed twice "
                           f"{self.twice(name, *seen[key], ('groups', index, 'name'))}")
                continue
            seen[key] = (name, ("groups", index, "name"))
            self.principals[key] = ("group", name)
            explicit = group.get("system_name")
            system_name = explicit if isinstance(explicit, str) else slugify(name)
            problem = posix_group_problem(system_name)
            if problem and explicit is not None:
                self.error(("groups", index, "system_name"), problem)
                continue
            if problem or not system_name:
                self.error(("groups", index, "name"),
                           f"cannot derive a system name from '{name}'; add system_name")
                continue
            full = self.account_prefix() + system_name
            if full in system_seen:
                other, other_path = system_seen[full]
                self.error(("groups", index, "name"),
                           f"group '{name}' would get the system name '{full}', already used "
                           f"by group '{other}' (line {self.line(other_path)}); add a "
                           "different system_name")
            system_seen[full] = (name, ("groups", index, "name"))
            self.principals.setdefault(system_name.casefold(), ("group", name))

    def group_names(self) -> list[str]:
        return [str(group.get("name")) for _, group in self.items("groups")
                if isinstance(group.get("name"), str)]

    def check_users(self) -> None:
        seen: dict[str, int] = {}
        device_ids: dict[str, str] = {}
        groups = self.group_names()
        group_keys = set(self.principals)
        logins = {str(user.get("login")).casefold() for _, user in self.items("users")}
        for index, user in self.items("users"):
            login = user.get("login")
            if not isinstance(login, str):
                continue
            problem = login_problem(login)
            if problem:
                self.error(("users", index, "login"), problem)
            key = login.casefold()
            if key in seen:
                self.error(("users", index, "login"), f"login '{login}' is listed twice "
                           f"(first on line {self.line(('users', seen[key], 'login'))})")
            elif key in self.principals and self.principals[key][0] == "group":
                self.error(("users", index, "login"),
                           f"login '{login}' is also a group name; access entries would be "
                           "ambiguous, rename one of them")
            seen.setdefault(key, index)
            self.principals.setdefault(key, ("user", login))
            member_of = user.get("groups")
            for position, group in enumerate(member_of if isinstance(member_of, list) else []):
                if not isinstance(group, str):
                    continue
                if group.casefold() in group_keys:
                    continue
                if group.casefold() in logins:
                    self.error(("users", index, "groups", position),
                               f"'{group}' is a person's login, not a group")
                else:
                    self.error(("users", index, "groups", position),
                               f"unknown group '{group}'{suggestion(group, groups)}")
            self.check_devices(index, user, device_ids)

    def check_devices(self, index: int, user: dict[str, Any], device_ids: dict[str, str]) -> None:
        devices = user.get("devices")
        names: set[str] = set()
        for position, device in enumerate(devices if isinstance(devices, list) else []):
            if not isinstance(device, dict):
                continue
            path: DataPath = ("users", index, "devices", position)
            name, device_id = device.get("name"), device.get("id")
            if isinstance(name, str):
                if name.casefold() in names:
                    self.error((*path, "name"), f"device name '{name}' is used twice")
                names.add(name.casefold())
            if isinstance(device_id, str):
                # The schema checks the shape; Syncthing would refuse wrong check characters,
                # and nas_sync would otherwise silently leave the device out.
                problem = device_id_content_problem(device_id)
                if problem:
                    self.error((*path, "id"), problem)
                owner = device_ids.get(device_id)
                if owner is not None:
                    self.error((*path, "id"), f"this device ID is already listed for {owner}")
                device_ids[device_id] = str(user.get("login"))
        if user.get("state") == "disabled" and names:
            self.warning(("users", index, "devices"),
                         "this user is disabled; their devices will not be synchronised")

    def principal_names(self) -> list[str]:
        users = [str(user.get("login")) for _, user in self.items("users")]
        return self.group_names() + users

    def check_access(self, path: DataPath, access: Any) -> None:
        if not isinstance(access, dict):
            return
        seen: dict[tuple[str, str], str] = {}
        for principal in access:
            found = self.principals.get(str(principal).casefold())
            if found is None:
                hint = suggestion(str(principal), self.principal_names())
                self.error((*path, "access", principal),
                           f"unknown group or user '{principal}'{hint}")
            elif found in seen:
                # Both keys would land on one principal and the last would silently win.
                who = "group" if found[0] == "group" else "person"
                self.error((*path, "access", principal),
                           f"'{seen[found]}' and '{principal}' are the same {who}; "
                           "keep one of the two entries")
            else:
                seen[found] = str(principal)

    def check_folders(self, path: DataPath, folders: Any) -> None:
        if not isinstance(folders, list):
            return
        siblings: dict[str, tuple[str, DataPath]] = {}
        former: dict[str, int] = {}
        for index, folder in enumerate(folders):
            if not isinstance(folder, dict):
                continue
            here: DataPath = (*path, "folders", index)
            name = folder.get("name")
            if isinstance(name, str):
                self.check_name(here, name, siblings, folder_name_problem)
            self.check_rename(here, folder, siblings, former)
            self.check_access(here, folder.get("access"))
            if folder.get("inherit") is False and not folder.get("access"):
                self.warning(here, "inherit: false with no access entries: only the NAS "
                                   "administrator can open this folder")
            self.check_folders(here, folder.get("folders"))
        for former_name, index in former.items():
            if former_name in siblings:
                self.error((*path, "folders", index, "renamed_from"),
                           "renamed_from names a folder that is still in the spec; "
                           "a rename needs the old name to be gone")

    def check_name(self, path: DataPath, name: str, seen: dict[str, tuple[str, DataPath]],
                   rule: Any) -> None:
        problem = rule(name)
        if problem:
            self.error((*path, "name"), problem)
        key = samba_case_key(name)
        if key in seen:
            # Samba (and so SMB clients) treat 'Reports' and 'reports' as one folder.
            self.error((*path, "name"), f"'{name}' appears twice here "
                                        f"{self.twice(name, *seen[key], (*path, 'name'))}")
        else:
            seen[key] = (name, (*path, "name"))

    def check_rename(self, path: DataPath, item: dict[str, Any],
                     siblings: dict[str, tuple[str, DataPath]],
                     former: dict[str, int]) -> None:
        old = item.get("renamed_from")
        if not isinstance(old, str):
            return
        problem = folder_name_problem(old)
        if problem:
            self.error((*path, "renamed_from"), problem)
        elif samba_case_key(old) == samba_case_key(str(item.get("name", ""))):
            self.error((*path, "renamed_from"), "renamed_from is the same as the name")
        elif samba_case_key(old) in former:
            self.error((*path, "renamed_from"), f"two entries claim to be renamed from '{old}'")
        else:
            # Only well-formed renames are checked against the siblings afterwards.
            former[samba_case_key(old)] = int(path[-1])

    def check_shares(self) -> None:
        seen: dict[str, tuple[str, DataPath]] = {}
        former: dict[str, int] = {}
        volume = self.data.get("volume")
        volume_size = None
        if isinstance(volume, dict) and isinstance(volume.get("size"), str | int):
            try:
                volume_size = parse_size(volume["size"])
            except ValueError:
                volume_size = None
        for index, share in self.items("shares"):
            path: DataPath = ("shares", index)
            name = share.get("name")
            if isinstance(name, str):
                self.check_name(path, name, seen, share_name_problem)
            self.check_rename(path, share, seen, former)
            self.check_access(path, share.get("access"))
            quota = share.get("quota")
            if volume_size is not None and isinstance(quota, str | int):
                try:
                    quota_bytes = parse_size(quota)
                except ValueError:
                    quota_bytes = 0
                if quota_bytes > volume_size:
                    self.error((*path, "quota"),
                               f"quota {quota} is larger than the volume "
                               f"({format_size(volume_size)})")
            self.check_folders(path, share.get("folders"))
        for old, index in former.items():
            if old in seen:
                self.error(("shares", index, "renamed_from"),
                           "renamed_from names a share that is still in the spec")

    def check_backup(self) -> None:
        backup = self.data.get("backup")
        if not isinstance(backup, dict):
            return
        share_names = [str(share.get("name")) for _, share in self.items("shares")]
        sources = backup.get("sources")
        for position, source in enumerate(sources if isinstance(sources, list) else []):
            if isinstance(source, str) and source.casefold() not in {
                    name.casefold() for name in share_names}:
                self.error(("backup", "sources", position),
                           f"unknown share '{source}'{suggestion(source, share_names)}")
        repositories = backup.get("repositories")
        names: dict[str, int] = {}
        for position, repository in enumerate(
                repositories if isinstance(repositories, list) else []):
            if not isinstance(repository, dict):
                continue
            path: DataPath = ("backup", "repositories", position)
            name = repository.get("name")
            if isinstance(name, str):
                if name in names:
                    first = self.line(("backup", "repositories", names[name], "name"))
                    self.error((*path, "name"),
                               f"repository name '{name}' is used twice (first on line {first})")
                names.setdefault(name, position)
                prefix = self.account_prefix()
                # On a NAS several organisations share it is named with the account prefix
                # (units, password files and metrics carry it): checked here, where the
                # organisation's admin sees it, not only when the provider adds a second one.
                # The grammar the NAS side reads the name with: one home for it.
                if prefix and not REPOSITORY_NAME.match(prefix + name):
                    self.error((*path, "name"),
                               f"with the account prefix '{prefix}' this repository is named "
                               f"'{prefix}{name}' on a shared NAS, longer than "
                               "31 characters; shorten the name")
            url = repository.get("url")
            # The rest of a repository URL's grammar is checked in places.py.
            if isinstance(url, str) and not REPOSITORY_URL.match(url):
                self.error((*path, "url"),
                           f"'{url}' is not a restic repository; use an absolute path, "
                           "sftp:user@host:/path, rest:https://host/path or rclone:remote:path")


def check_spec_data(data: Any, source: SourceMap) -> list[Problem]:
    """Given raw spec data and its source map, return every cross-check problem."""
    return Checker(data, source).run() + check_places(data, source)
