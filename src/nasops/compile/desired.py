"""Compile a validated spec into the desired state of one NAS.

The desired state is plain JSON-ready data, already resolved: system names, absolute paths,
every folder's access entries (with traverse-only entries), Samba share settings, quotas and
the Syncthing folders and devices (with the sync account's ACL entries, `nasops.sync`), the
backups (`nasops.compile.backup`) and the exporter's monitoring settings.
The roles and the bulk modules on the NAS do no rights reasoning of their own: they receive
this and converge to it. Its shape is the typed contract `nasops.compile.contract.DesiredState`:
`compile_desired` validates what is built here through it.
"""

from __future__ import annotations

import posixpath
from typing import Any

from nasops.compile.backup import compile_backup
from nasops.compile.contract import DESIRED_STATE_VERSION, DesiredState
from nasops.spec.directory import Principal, build_directory
from nasops.spec.models import LEVEL_RANKS, Level, Spec
from nasops.spec.rights import Access, FolderRights, RightsTable, resolve_rights
from nasops.spec.units import parse_size
from nasops.sync.regions import SYNC_ACCOUNT, plan_sync

# Order entries so the desired state (and every diff of it) is stable.
KIND_ORDER = {"user": 0, "group": 1}
ACCESS_RANKS = {access: rank for rank, access in enumerate(Access)}  # none < … < write


def _entries(folder: FolderRights, table: RightsTable,
             enabled_members: dict[str, list[str]]) -> list[dict[str, str]]:
    """Return the folder's entries as {kind, name (system), level}, traverse included.

    A named-user ACL entry is matched before any group entry, so a user's entry carries
    the user's whole effective access there (their groups' rights included), never less.
    """
    directory = table.directory
    entries: dict[Principal, str] = {}
    for principal in set(folder.entries) | folder.traverse:
        if principal.kind == "user":
            entries[principal] = table.access[principal.name][folder.index].value
        elif principal in folder.traverse:
            entries[principal] = "traverse"
        elif folder.entries[principal] is not Level.NONE:
            entries[principal] = folder.entries[principal].value
    _expand_restricted_groups(entries, table, folder.index, enabled_members)
    return [
        {"kind": principal.kind, "name": directory.system_name(principal), "level": level}
        for principal, level in sorted(entries.items(),
                                       key=lambda item: (KIND_ORDER[item[0].kind],
                                                         directory.system_name(item[0])))
    ]


def _expand_restricted_groups(entries: dict[Principal, str], table: RightsTable,
                              index: int, enabled_members: dict[str, list[str]]) -> None:
    """Replace, in place, each group entry that gives an enabled member more than that
    member's resolved access with one user entry per enabled member (their whole access, as
    for any user entry).

    It happens where a user exception narrows a member's rights (`adiallo: none` next to
    `Cellule Afrique: write`), or where a group passes through a folder to reach rights that
    such a member does not share. The kernel honours `user:x:---` before `group:g:rwx`, but
    Samba shows the ACL to Windows as allow-only entries, where the group's allow wins:
    access-based enumeration ("hide unreadable") would list the folder to the person the spec
    closes it to, and then deny it. Without a group entry that exceeds a member's rights,
    both views agree."""
    for principal, level in list(entries.items()):
        if principal.kind != "group":
            continue
        members = enabled_members[principal.name]
        rank = ACCESS_RANKS[Access(level)]
        if all(ACCESS_RANKS[table.access[login][index]] >= rank for login in members):
            continue
        del entries[principal]
        for login in members:
            entries.setdefault(Principal("user", login), table.access[login][index].value)


def _with_sync_account(entries: list[dict[str, str]], level: str | None,
                       ) -> list[dict[str, str]]:
    """Given a folder's entries and the sync account's level there, return the entries with
    the account's own (users first, then by name, like every entry list)."""
    if level is None:
        return entries
    account = {"kind": "user", "name": SYNC_ACCOUNT, "level": level}
    return sorted([*entries, account], key=lambda entry: (KIND_ORDER[entry["kind"]],
                                                          entry["name"]))


def _share_state(spec: Spec, table: RightsTable, share_index: int, root: str,
                 sync_levels: dict[int, str], *, folders: list[FolderRights],
                 enabled_members: dict[str, list[str]]) -> dict[str, Any]:
    share = spec.shares[share_index]
    directory = table.directory
    prefix = spec.organization.account_prefix
    principals: set[Principal] = set()
    for folder in folders:
        principals |= {principal for principal, level in folder.entries.items()
                       if LEVEL_RANKS[level] > 0}
        principals |= folder.traverse
    valid_users = sorted(
        ("@" if principal.kind == "group" else "") + directory.system_name(principal)
        for principal in principals
        if principal.kind == "group" or directory.users[principal.name].enabled
    )
    return {
        "name": prefix + share.name,
        "organization": spec.organization.id,
        "display_name": share.name,
        "path": posixpath.join(root, share.name),
        "comment": share.description,
        "quota_bytes": parse_size(share.quota) if share.quota else None,
        "renamed_from": posixpath.join(root, share.renamed_from) if share.renamed_from else None,
        "sync": share.sync,
        "valid_users": valid_users,
        "folders": [
            {
                "path": "/".join(folder.path[1:]),
                "renamed_from": folder.renamed_from,
                # Not in valid_users: the sync account never logs in over SMB.
                "entries": _with_sync_account(_entries(folder, table, enabled_members),
                                              sync_levels.get(folder.index)),
            }
            for folder in folders
        ],
    }


def desired_data(spec: Spec) -> dict[str, Any]:
    """Given a validated spec, return the desired state of its NAS as plain data, not yet
    checked against the contract (`compile_desired` is the way in)."""
    directory = build_directory(spec)
    table = resolve_rights(spec, directory)
    root = posixpath.join(spec.volume.path, spec.organization.id)
    users_group = f"{spec.organization.account_prefix}{spec.organization.id}-users"
    sync = plan_sync(spec, table, root)
    by_share: dict[str, list[FolderRights]] = {}  # grouped once, in the table's order
    for folder in table.folders:
        by_share.setdefault(folder.share, []).append(folder)
    enabled_members = {name: [login for login in group.members
                              if directory.users[login].enabled]
                       for name, group in directory.groups.items()}
    groups = [
        {"name": group.system_name, "display_name": group.name,
         "description": group.description,
         "members": sorted(directory.users[login].system_name for login in group.members)}
        for group in directory.groups.values()
    ]
    users = [
        {"login": user.system_name, "full_name": user.full_name, "enabled": user.enabled,
         "groups": sorted(directory.groups[name].system_name for name in user.groups),
         "users_group": users_group}
        for user in directory.users.values()
    ]
    return {
        "version": DESIRED_STATE_VERSION,
        "organization": spec.organization.id,
        "volume": spec.volume.path,
        "organizations": [{"id": spec.organization.id,
                           "account_prefix": spec.organization.account_prefix,
                           "root": root, "users_group": users_group, "quota_bytes": None}],
        "shared_root": None,
        "groups": groups,
        "users": users,
        "shares": [_share_state(spec, table, index, root, sync.account_levels,
                                folders=by_share.get(share.name, []),
                                enabled_members=enabled_members)
                   for index, share in enumerate(spec.shares)],
        "sync": sync.state,
        "backup": compile_backup(spec, root),
        # The exporter and its drift check (roles/nas_exporter through playbooks/site.yml);
        # `nasops monitoring targets` reads the same spec section.
        "monitoring": {"listen_address": spec.monitoring.listen_address,
                       "port": spec.monitoring.port,
                       "drift_check": spec.monitoring.drift_check},
    }


def compile_desired(spec: Spec) -> DesiredState:
    """Given a validated spec, return the desired state of its NAS, checked against the
    contract (a key or type the contract does not name is a bug here: ValidationError)."""
    return DesiredState.model_validate(desired_data(spec))


def compile_spec(spec: Spec) -> dict[str, Any]:
    """Given a validated spec, return the desired state of its NAS as JSON-ready data."""
    return compile_desired(spec).model_dump(mode="json")
