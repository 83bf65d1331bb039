"""Account names the NAS already uses: refused at validate, before a role meets them.

Every login and group becomes a Linux account named account_prefix + name. Such a name must
not be one of the system's own accounts (root, nobody, sudo…), one nasops creates itself
(nasops-sync, nasops-exporter), the organisation's users group, nor longer than Linux's 32
characters once the prefix is added. The spec carries no uid or gid: ids come from the NAS
(1000 and up), so reserved ids cannot be asked for.
"""

from __future__ import annotations

import re
from typing import Any

from nasops.errors import Problem
from nasops.spec.names import login_problem, posix_group_problem, slugify
from nasops.spec.yaml_source import DataPath, SourceMap

MAXIMUM_ACCOUNT_LENGTH = 32
ACCOUNT_PREFIX = re.compile(r"^([a-z][a-z0-9]{0,7}-)?\Z")
ORGANIZATION_ID = re.compile(r"^[a-z][a-z0-9-]{0,30}\Z")
# Debian's base-passwd users and groups, those Debian 12 creates on a NAS (systemd, D-Bus,
# ssh, Samba, cron, TPM, NFS), and nasops's own service accounts.
SYSTEM_ACCOUNT_NAMES = """
root daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc gnats
nobody adm tty disk kmem dialout fax voice cdrom floppy tape sudo audio dip operator src
shadow utmp video sasl plugdev staff users nogroup input sgx kvm render netdev crontab
messagebus sshd polkitd sambashare ssl-cert statd tss uuidd
nasops nasops-sync nasops-exporter nasops-backup
"""
SYSTEM_ACCOUNTS = frozenset(SYSTEM_ACCOUNT_NAMES.split())
# Whole families of system names: Debian's new system accounts start with '_' (_apt, _ssh),
# systemd's with 'systemd-', and nasops keeps 'nasops-' for its own services.
SYSTEM_PREFIXES = ("_", "systemd-", "nasops-")


def users_group(prefix: str, organization_id: str) -> str:
    """Given the account prefix and organisation id, return the organisation's users group."""
    return f"{prefix}{organization_id}-users"


def system_account_problem(full_name: str) -> str | None:
    """Given a full account name (prefix included), return why the NAS already owns it."""
    if full_name in SYSTEM_ACCOUNTS:
        return f"'{full_name}' is an account of the NAS's system itself"
    if full_name.startswith(SYSTEM_PREFIXES):
        family = next(prefix for prefix in SYSTEM_PREFIXES if full_name.startswith(prefix))
        return f"'{full_name}' starts with '{family}', which system and service accounts use"
    return None


class AccountChecker:
    """Checks every login and group's system name as the NAS will see it."""

    def __init__(self, data: dict[str, Any], source: SourceMap) -> None:
        self.data = data
        self.source = source
        self.problems: list[Problem] = []
        organization = data.get("organization")
        if isinstance(organization, str):
            organization = {"id": organization}
        organization = organization if isinstance(organization, dict) else {}
        prefix = organization.get("account_prefix") or ""
        self.prefix = prefix if isinstance(prefix, str) and ACCOUNT_PREFIX.match(prefix) else ""
        organization_id = organization.get("id")
        self.organization_id = (organization_id if isinstance(organization_id, str)
                                and ORGANIZATION_ID.match(organization_id) else None)

    def error(self, path: DataPath, message: str) -> None:
        self.problems.append(self.source.problem(path, message))

    def items(self, key: str) -> list[tuple[int, dict[str, Any]]]:
        values = self.data.get(key)
        return [(index, value) for index, value in enumerate(values)
                if isinstance(value, dict)] if isinstance(values, list) else []

    def run(self) -> list[Problem]:
        own_group = None
        if self.organization_id is not None:
            own_group = users_group(self.prefix, self.organization_id)
            if len(own_group) > MAXIMUM_ACCOUNT_LENGTH:
                where: DataPath = (("organization", "id")
                                   if isinstance(self.data.get("organization"), dict)
                                   else ("organization",))
                self.error(where, f"every person joins the group '{own_group}', longer than "
                                  f"Linux's {MAXIMUM_ACCOUNT_LENGTH} characters; choose a "
                                  "shorter id")
        for index, group in self.items("groups"):
            self.check_group(index, group, own_group)
        for index, user in self.items("users"):
            login = user.get("login")
            if isinstance(login, str) and login_problem(login) is None:
                self.check_name(("users", index, "login"), f"login '{login}'", login,
                                own_group, "choose another login")
        return self.problems

    def check_group(self, index: int, group: dict[str, Any], own_group: str | None) -> None:
        name, explicit = group.get("name"), group.get("system_name")
        if not isinstance(name, str) or not name.strip():
            return
        system_name = explicit if isinstance(explicit, str) else slugify(name)
        if not system_name or posix_group_problem(system_name):
            return  # the cross-checks already say the name cannot be derived or is invalid
        where: DataPath = ("groups", index, "system_name" if explicit is not None else "name")
        self.check_name(where, f"group '{name}'", system_name, own_group,
                        "add a different system_name")

    def check_name(self, path: DataPath, who: str, name: str, own_group: str | None,
                   fix: str) -> None:
        full = self.prefix + name
        problem = system_account_problem(full)
        if problem:
            self.error(path, f"{who} would be the account '{full}' on the NAS: {problem}; {fix}")
        elif full == own_group:
            self.error(path, f"{who} would be the account '{full}', the organisation's own "
                             f"users group that nasops gives every person; {fix}")
        elif len(full) > MAXIMUM_ACCOUNT_LENGTH:
            self.error(path, f"{who} would be the account '{full}' (account prefix included), "
                             f"longer than Linux's {MAXIMUM_ACCOUNT_LENGTH} characters; {fix}")


def account_problems(data: Any, source: SourceMap) -> list[Problem]:
    """Given raw spec data and its source map, return every account-name problem."""
    return AccountChecker(data, source).run() if isinstance(data, dict) else []
