"""Who is who: the spec's groups and users with their system names and memberships."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from nasops.spec.models import Spec
from nasops.spec.names import slugify


@dataclass(frozen=True, order=True)
class Principal:
    """A group or a user that can appear in an access list."""

    kind: Literal["group", "user"]
    name: str

    def label(self) -> str:
        """Return how reports show it: groups as-is, users prefixed with '@'."""
        return self.name if self.kind == "group" else f"@{self.name}"


@dataclass(frozen=True)
class GroupEntry:
    """A group with the name it has on the NAS and its members' logins."""

    name: str
    system_name: str
    description: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class UserEntry:
    """A user with the name they have on the NAS and their groups' spec names."""

    login: str
    system_name: str
    full_name: str
    groups: tuple[str, ...]
    enabled: bool


@dataclass
class Directory:
    """Resolves access-list keys (any case, group display or system name, login)."""

    groups: dict[str, GroupEntry] = field(default_factory=dict)
    users: dict[str, UserEntry] = field(default_factory=dict)
    keys: dict[str, Principal] = field(default_factory=dict)

    def resolve(self, key: str) -> Principal:
        """Given an access-list key, return its principal (the spec was validated)."""
        return self.keys[key.casefold()]

    def system_name(self, principal: Principal) -> str:
        """Given a principal, return its POSIX name on the NAS."""
        if principal.kind == "group":
            return self.groups[principal.name].system_name
        return self.users[principal.name].system_name


def build_directory(spec: Spec) -> Directory:
    """Given a validated spec, return its Directory."""
    directory = Directory()
    prefix = spec.organization.account_prefix
    members: dict[str, list[str]] = {group.name: [] for group in spec.groups}
    by_key = {group.name.casefold(): group.name for group in spec.groups}
    for group in spec.groups:
        by_key.setdefault((group.system_name or slugify(group.name)).casefold(), group.name)
    for user in spec.users:
        # A group listed twice (any case) makes one membership.
        resolved = tuple(dict.fromkeys(by_key[name.casefold()] for name in user.groups))
        for group_name in resolved:
            members[group_name].append(user.login)
        directory.users[user.login] = UserEntry(
            login=user.login, system_name=prefix + user.login, full_name=user.name,
            groups=resolved, enabled=user.state == "present")
        directory.keys[user.login.casefold()] = Principal("user", user.login)
    for group in spec.groups:
        system_name = prefix + (group.system_name or slugify(group.name))
        directory.groups[group.name] = GroupEntry(
            name=group.name, system_name=system_name, description=group.description,
            members=tuple(members[group.name]))
        principal = Principal("group", group.name)
        directory.keys[group.name.casefold()] = principal
        directory.keys.setdefault((group.system_name or slugify(group.name)).casefold(),
                                  principal)
    return directory
