#!/usr/bin/python
"""Converge the organisation's POSIX groups, users, memberships and Samba passwords in bulk."""

from __future__ import annotations

DOCUMENTATION = r"""
module: accounts
short_description: Converge groups, users, memberships and Samba passwords in one call
description:
  - Reads /etc/passwd, /etc/group, /etc/shadow and C(pdbedit -L -w) once, plans the difference
    with the desired accounts and runs only the commands that close it.
  - Users get their C(users_group) (their organisation's; a NAS several organisations
    share has one per organisation) as primary group, a nologin shell and no home directory.
  - Users in a users group that are absent from the spec are disabled, never deleted; so
    are those of a users group nasops managed on this NAS before (a new account prefix, an
    organisation gone), recorded in /var/lib/nasops/users-groups.json.
  - Samba passwords are compared through their NT hash (MD4 of UTF-16LE, computed here since
    OpenSSL 3 disables MD4) and only set when they differ, through stdin.
  - Supports check mode; returns the C(changes) list of the provisioning contract.
version_added: "0.1.0"
author: nasops developers (!UNKNOWN)
options:
  users_group:
    description: Primary group of every user that does not name its own C(users_group).
    type: str
  groups:
    description: Desired groups (C(name); other keys ignored).
    type: list
    elements: dict
    required: true
  users:
    description: >-
      Desired users (C(login), C(full_name), C(enabled), C(groups), C(users_group): the
      primary group, O(users_group) when absent).
    type: list
    elements: dict
    required: true
  passwords:
    description: Samba password per enabled login (never logged).
    type: dict
    default: {}
  shell:
    description: Login shell of the users.
    type: str
    default: /usr/sbin/nologin
  home:
    description: Home directory recorded for the users (never created).
    type: str
    default: /nonexistent
  samba:
    description: Also converge the Samba passdb (passwords, enabled flags).
    type: bool
    default: true
  min_uid:
    description: Accounts and groups below this id are system ones, never touched.
    type: int
    default: 1000
"""

EXAMPLES = r"""
- name: Converge the organisation's accounts (passwords from the secrets file)
  nasops.nas.accounts:
    groups:
      - name: cellule-afrique
    users:
      - login: adiallo
        full_name: Aminata Diallo
        enabled: true
        groups: [cellule-afrique]
        users_group: wsm-users
    passwords: "{{ nasops_user_passwords }}"
"""

RETURN = r"""
changes:
  description: What changed (or would change in check mode), one entry per item.
  returned: always
  type: list
  elements: dict
  sample: [{"kind": "user", "target": "adiallo", "detail": "create (groups: cellule-afrique)"}]
watched:
  description: >-
    The files read and the digest of their state before reading, for nasops.nas.converged's
    record of the role.
  returned: success
  type: dict
"""

import datetime  # noqa: E402
from typing import Any, NamedTuple  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nasops.nas.plugins.module_utils.converged import watched  # noqa: E402
from ansible_collections.nasops.nas.plugins.module_utils.nt_hash import (  # noqa: E402, F401
    md4,
    nt_hash,
)
from ansible_collections.nasops.nas.plugins.module_utils.users_groups import (  # noqa: E402
    RECORD_PATH,
    read_users_groups,
    write_users_groups,
)

# Shadow's expiry field counts days since 1970-01-01; day 1 is long past, so "expired now".
EXPIRED_DAY = 1
EXPIRED_DATE = "1970-01-02"


class Refusal(Exception):
    """A desired state this module must not converge to (the message starts with `refused:`)."""


# ---------------------------------------------------------------------------------------------
# Reading the current state (pure parsers over the files' text).


class Account(NamedTuple):
    uid: int
    gid: int
    gecos: str
    shell: str


class Group(NamedTuple):
    gid: int
    members: frozenset[str]


class Shadow(NamedTuple):
    locked: bool
    expire_day: int | None


class SambaAccount(NamedTuple):
    nt_hash: str | None
    disabled: bool


class Current(NamedTuple):
    accounts: dict[str, Account]
    groups: dict[str, Group]
    shadows: dict[str, Shadow]
    samba: dict[str, SambaAccount]


def _lines(text: str) -> list[list[str]]:
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def parse_passwd(text: str) -> dict[str, Account]:
    """Given /etc/passwd text, return {login: Account}."""
    return {fields[0]: Account(int(fields[2]), int(fields[3]), fields[4], fields[6])
            for fields in _lines(text) if len(fields) >= 7}


def parse_group(text: str) -> dict[str, Group]:
    """Given /etc/group text, return {name: Group}."""
    return {fields[0]: Group(int(fields[2]), frozenset(filter(None, fields[3].split(","))))
            for fields in _lines(text) if len(fields) >= 4}


def parse_shadow(text: str) -> dict[str, Shadow]:
    """Given /etc/shadow text, return {login: Shadow} (locked password, expiry day)."""
    shadows = {}
    for fields in _lines(text):
        if len(fields) >= 8:
            expire = fields[7].strip()
            shadows[fields[0]] = Shadow(fields[1].startswith("!"), int(expire) if expire else None)
    return shadows


def parse_pdbedit(text: str) -> dict[str, SambaAccount]:
    """Given `pdbedit -L -w` output (smbpasswd format), return {login: SambaAccount}."""
    accounts = {}
    for fields in _lines(text):
        if len(fields) < 5:
            continue
        stored = fields[3].upper()
        has_hash = len(stored) == 32 and all(char in "0123456789ABCDEF" for char in stored)
        flags = fields[4].strip("[] ")
        accounts[fields[0]] = SambaAccount(stored if has_hash else None, "D" in flags)
    return accounts


# ---------------------------------------------------------------------------------------------
# Planning: the commands that close the gap, each with its entry in the `changes` list.


class Action(NamedTuple):
    kind: str
    target: str
    detail: str
    argv: tuple[str, ...] = ()
    stdin: str | None = None

    def change(self) -> dict[str, str]:
        return {"kind": self.kind, "target": self.target, "detail": self.detail}


def _gecos(full_name: str) -> str:
    # ':' and newlines would break /etc/passwd, ',' separates GECOS subfields.
    return " ".join(full_name.replace(":", " ").replace(",", " ").split())


def _guard_system(name: str, ident: int | None, what: str, min_uid: int) -> None:
    if ident is not None and ident < min_uid:
        raise Refusal(f"refused: {what} '{name}' is a system {what} (id {ident} < {min_uid}); "
                      f"rename it in the spec")


class Planner:
    """Given the desired accounts and the current state, plan the actions (pure, no I/O)."""

    def __init__(self, desired: dict[str, Any], current: Current, today: int) -> None:
        self.desired = desired
        self.current = current
        self.today = today
        self.shell = desired["shell"]
        # One users group per organisation, each user in theirs (validated: every user has one).
        self.users_groups = list(dict.fromkeys(user["users_group"]
                                               for user in desired["users"]))
        # Users groups nasops managed here before (module_utils/users_groups.py).
        self.former_groups = [name for name in desired.get("former_users_groups") or []
                              if name not in self.users_groups]
        self.min_uid = desired["min_uid"]
        self.group_names = [group["name"] for group in desired["groups"]]

    def plan(self) -> list[Action]:
        """Return every action, in the order they must run (groups before users, …)."""
        groups = self._groups()
        users: list[Action] = []
        memberships: list[Action] = []
        states: list[Action] = []
        samba: list[Action] = []
        spec_logins = set()
        for user in self.desired["users"]:
            login = user["login"]
            spec_logins.add(login)
            users += self._user(user)
            memberships += self._memberships(user)
            states += self._state(login, user["enabled"], "")
            if self.desired["samba"]:
                samba += self._samba(login, user["enabled"])
        for login, group in self._orphans(spec_logins):
            note = (" (not in the spec any more; account and data kept)"
                    if group in self.users_groups else
                    f" (of {group}, a users group no longer on this NAS; account and data kept)")
            states += self._state(login, False, note)
            if self.desired["samba"]:
                samba += self._samba(login, False)
        return groups + users + memberships + states + samba

    def _groups(self) -> list[Action]:
        actions = []
        for name in [*self.users_groups, *self.group_names]:
            existing = self.current.groups.get(name)
            _guard_system(name, existing.gid if existing else None, "group", self.min_uid)
            if existing is None:
                actions.append(Action("group", name, "create", ("groupadd", name)))
        return actions

    def _user(self, user: dict[str, Any]) -> list[Action]:
        login, gecos = user["login"], _gecos(user.get("full_name") or "")
        existing = self.current.accounts.get(login)
        if existing is None:
            argv = ["useradd", "--no-create-home", "--home-dir", self.desired["home"],
                    "--shell", self.shell, "--gid", user["users_group"], "--comment", gecos]
            groups = sorted(user.get("groups") or [])
            if groups:
                argv += ["--groups", ",".join(groups)]
            if not user["enabled"]:
                argv += ["--expiredate", EXPIRED_DATE]
            detail = "create" + (" disabled" if not user["enabled"] else "")
            detail += f" (groups: {', '.join(groups)})" if groups else ""
            return [Action("user", login, detail, (*argv, login))]
        _guard_system(login, existing.uid, "user", self.min_uid)
        self._guard_takeover(login, existing.gid, user["users_group"])
        argv, details = ["usermod"], []
        if existing.shell != self.shell:
            argv += ["--shell", self.shell]
            details.append(f"shell {existing.shell} -> {self.shell}")
        users_group = self.current.groups.get(user["users_group"])
        if users_group is None or existing.gid != users_group.gid:
            argv += ["--gid", user["users_group"]]
            details.append(f"primary group -> {user['users_group']}")
        if existing.gecos != gecos:
            argv += ["--comment", gecos]
            details.append(f"full name -> {gecos}")
        if not details:
            return []
        return [Action("user", login, "update " + "; ".join(details), (*argv, login))]

    def _guard_takeover(self, login: str, gid: int, users_group: str) -> None:
        """Refuse to give a person an account of an organisation that left this NAS (a new
        organisation with a former one's account prefix): the account would keep that
        organisation's groups, password and files."""
        for name in self.former_groups:
            former = self.current.groups.get(name)
            if former is not None and former.gid == gid and name != users_group:
                raise Refusal(
                    f"refused: account '{login}' belongs to {name}, the users group of an "
                    "organisation no longer on this NAS: another organisation cannot take it "
                    "over (its groups and files stay with it); give the new organisation "
                    "another account prefix, or, for the same people under a new "
                    f"organisation id, move the account first (usermod -g {users_group} "
                    f"{login})")

    def _memberships(self, user: dict[str, Any]) -> list[Action]:
        login = user["login"]
        if login not in self.current.accounts:
            return []  # useradd --groups sets them
        wanted = set(user.get("groups") or [])
        current = {name for name in self.group_names
                   if name in self.current.groups and login in self.current.groups[name].members}
        actions = [Action("membership", login, f"add to {name}", ("gpasswd", "-a", login, name))
                   for name in sorted(wanted - current)]
        actions += [Action("membership", login, f"remove from {name}",
                           ("gpasswd", "-d", login, name))
                    for name in sorted(current - wanted)]
        return actions

    def _state(self, login: str, enabled: bool, note: str) -> list[Action]:
        if login not in self.current.accounts:
            return []  # useradd handled it
        shadow = self.current.shadows.get(login, Shadow(True, None))
        if enabled and shadow.expire_day is not None:
            return [Action("user", login, "enable" + note,
                           ("usermod", "--expiredate", "", login))]
        expired = shadow.expire_day is not None and shadow.expire_day <= self.today
        if not enabled and not (expired and shadow.locked):
            return [Action("user", login, "disable" + note,
                           ("usermod", "--lock", "--expiredate", EXPIRED_DATE, login))]
        return []

    def _samba(self, login: str, enabled: bool) -> list[Action]:
        stored = self.current.samba.get(login)
        if not enabled:
            if stored is not None and not stored.disabled:
                return [Action("user", login, "disable Samba account",
                               ("smbpasswd", "-d", login))]
            return []
        password = self.desired["passwords"].get(login)
        if password is None:
            raise Refusal(f"refused: no Samba password for '{login}' "
                          f"(add nasops_user_passwords.{login} to the secrets file)")
        actions = []
        if stored is None or stored.nt_hash != nt_hash(password):
            detail = "set" if stored is None else "change"
            actions.append(Action("password", login, detail, ("smbpasswd", "-s", "-a", login),
                                  f"{password}\n{password}\n"))
        if stored is not None and stored.disabled:
            actions.append(Action("user", login, "enable Samba account",
                                  ("smbpasswd", "-e", login)))
        return actions

    def _orphans(self, spec_logins: set[str]) -> list[tuple[str, str]]:
        """Return (login, users group) of every account of a users group nasops manages or
        managed here that the spec does not name."""
        found: dict[str, str] = {}
        for name in [*self.users_groups, *self.former_groups]:
            group = self.current.groups.get(name)
            if group is None:
                continue
            for login, account in self.current.accounts.items():
                if login not in spec_logins and account.uid >= self.min_uid \
                        and (account.gid == group.gid or login in group.members):
                    found.setdefault(login, name)
        return sorted(found.items())


# ---------------------------------------------------------------------------------------------
# Running on the host.


# What the module reads, as nasops.nas.converged watches it: any change to these files (a
# user, group, lock or Samba password changed by hand, or anything else) makes the role run
# again. Debian's Samba keeps its tdbsam password database here.
WATCHED_FILES = ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow",
                 "/var/lib/samba/private/passdb.tdb", RECORD_PATH]


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def _read_samba(module: AnsibleModule) -> dict[str, SambaAccount]:
    if not module.params["samba"]:
        return {}
    pdbedit = module.get_bin_path("pdbedit")
    if pdbedit is None:
        if module.check_mode:
            module.warn("pdbedit not found (Samba not installed yet): every password would be set")
            return {}
        module.fail_json(msg="pdbedit not found: install samba (role nas_base)")
    rc, out, err = module.run_command([pdbedit, "-L", "-w"])
    if rc != 0:
        module.fail_json(msg=f"pdbedit -L -w failed: {err.strip()}")
    return parse_pdbedit(out)


def _validate(module: AnsibleModule) -> dict[str, Any]:
    params = module.params
    for index, user in enumerate(params["users"]):
        if not isinstance(user.get("login"), str) or not user["login"]:
            module.fail_json(msg=f"users[{index}] has no login")
        user.setdefault("enabled", True)
        user.setdefault("groups", [])
        if not user.get("users_group"):
            if not params["users_group"]:
                module.fail_json(msg=f"users[{index}] has no users_group and the module "
                                     "no users_group to default to")
            user["users_group"] = params["users_group"]
    for index, group in enumerate(params["groups"]):
        if not isinstance(group.get("name"), str) or not group["name"]:
            module.fail_json(msg=f"groups[{index}] has no name")
    return params


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "users_group": {"type": "str"},
            "groups": {"type": "list", "elements": "dict", "required": True},
            "users": {"type": "list", "elements": "dict", "required": True},
            "passwords": {"type": "dict", "default": {}, "no_log": True},
            "shell": {"type": "str", "default": "/usr/sbin/nologin"},
            "home": {"type": "str", "default": "/nonexistent"},
            "samba": {"type": "bool", "default": True},
            "min_uid": {"type": "int", "default": 1000},
        },
        supports_check_mode=True,
    )
    desired = _validate(module)
    # Before anything is read: see nasops.nas.converged.
    state = watched({"files": WATCHED_FILES})
    recorded = read_users_groups()
    desired["former_users_groups"] = recorded
    current = Current(parse_passwd(_read("/etc/passwd")), parse_group(_read("/etc/group")),
                      parse_shadow(_read("/etc/shadow")), _read_samba(module))
    today = (datetime.datetime.now(datetime.timezone.utc).date()
             - datetime.date(1970, 1, 1)).days
    try:
        actions = Planner(desired, current, today).plan()
    except Refusal as refusal:
        module.fail_json(msg=str(refusal))
    changes = [action.change() for action in actions]
    if not module.check_mode:
        for done, action in enumerate(actions):
            rc, _out, err = module.run_command(list(action.argv), data=action.stdin,
                                               binary_data=True)
            if rc != 0:
                # Report what was really done before the failure, never the planned rest.
                module.fail_json(msg=f"{action.argv[0]} failed for {action.target} "
                                     f"({action.detail}): {err.strip()}",
                                 changed=done > 0, changes=changes[:done])
        new_groups = [name for name in dict.fromkeys(user["users_group"]
                                                     for user in desired["users"])
                      if name not in recorded]
        if new_groups:
            # nasops' own bookkeeping (not a change to report), once per users group.
            write_users_groups([*recorded, *new_groups])
    module.exit_json(changed=bool(actions), changes=changes, watched=state)


if __name__ == "__main__":
    main()
