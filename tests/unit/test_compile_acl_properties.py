"""Property test: the compiled ACL entries grant each person the same rights whichever way
they are read, the kernel's way and the way Samba shows them to Windows.

The kernel takes a named-user entry before any group entry; Samba maps POSIX ACLs to
allow-only Windows ACEs, where a person gets the union of every entry that names them or one
of their groups (that is what access-based enumeration, `hide unreadable`, evaluates). Both
must give exactly the rights table's access, for random specs with user exceptions.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from test_rights_properties import SETTINGS, spec_data, to_spec

from nasops.compile import compile_spec
from nasops.spec.rights import Access, resolve_rights

RANK = {access.value: rank for rank, access in enumerate(Access)}
SYNC_ACCOUNT = "nasops-sync"


def kernel_level(entries: list[dict[str, str]], login: str, groups: set[str]) -> str:
    """A named-user entry wins; otherwise the best of the person's groups' entries."""
    for entry in entries:
        if entry["kind"] == "user" and entry["name"] == login:
            return entry["level"]
    levels = [entry["level"] for entry in entries
              if entry["kind"] == "group" and entry["name"] in groups]
    return max(levels, key=RANK.__getitem__, default="none")


def windows_level(entries: list[dict[str, str]], login: str, groups: set[str]) -> str:
    """Allow-only ACEs: the union of every entry naming the person or one of their groups."""
    levels = [entry["level"] for entry in entries
              if (entry["kind"] == "user" and entry["name"] == login)
              or (entry["kind"] == "group" and entry["name"] in groups)]
    return max(levels, key=RANK.__getitem__, default="none")


@SETTINGS
@given(spec_data())
def test_kernel_and_windows_views_both_give_the_resolved_rights(data: dict[str, Any]) -> None:
    spec = to_spec(data)
    table = resolve_rights(spec)
    desired = compile_spec(spec)
    groups_of = {user["login"]: set(user["groups"]) for user in desired["users"]}
    enabled = {user["login"] for user in desired["users"] if user["enabled"]}
    folders = [(share, folder) for share in desired["shares"] for folder in share["folders"]]
    assert len(folders) == len(table.folders)
    for (_, folder), rights in zip(folders, table.folders, strict=True):
        entries = [entry for entry in folder["entries"] if entry["name"] != SYNC_ACCOUNT]
        for user in spec.users:
            login = table.directory.users[user.login].system_name
            if login not in enabled:
                continue
            expected = table.access[user.login][rights.index].value
            assert kernel_level(entries, login, groups_of[login]) == expected, (folder, login)
            assert windows_level(entries, login, groups_of[login]) == expected, (folder, login)
