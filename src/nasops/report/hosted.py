"""The access report as people and providers need it on a NAS with account prefixes.

People type their login with their organisation's account prefix (`atb-marie`) and see
shares under their Samba names (`atb-Réseau`): the report shows exactly those. On a NAS that
hosts several organisations (issue 13), the provider's view puts every organisation's people
and folders in one report: a person of one organisation has no access to another's folders,
and the report shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from nasops.spec.directory import Directory
from nasops.spec.models import Organization, Spec
from nasops.spec.rights import Access, FolderRights, RightsTable, resolve_rights


def as_people_see(spec: Spec, table: RightsTable) -> RightsTable:
    """Given a spec and its rights table, return the table as people see the NAS: logins as
    they type them and shares under their Samba names (both with the account prefix); the
    same table when the organisation has no prefix."""
    prefix = spec.organization.account_prefix
    if not prefix:
        return table
    users = table.directory.users
    directory = Directory(groups=table.directory.groups,
                          users={entry.system_name: replace(entry, login=entry.system_name)
                                 for entry in users.values()},
                          keys=table.directory.keys)
    folders = [replace(folder, path=(prefix + folder.path[0], *folder.path[1:]))
               for folder in table.folders]
    return RightsTable(directory=directory, folders=folders,
                       access={users[login].system_name: levels
                               for login, levels in table.access.items()})


def combined_report(host: str, specs: Sequence[Spec],
                    shared: Spec | None = None) -> tuple[Spec, RightsTable]:
    """Given the specs one NAS hosts (checked together, so logins and share names are
    unique) and the stand-in spec of its shared shares if any, return a spec naming the NAS
    and one rights table of every organisation's people and folders, shares under their
    Samba names, the shared shares last."""
    folders: list[FolderRights] = []
    tables = [as_people_see(spec, resolve_rights(spec)) for spec in specs]
    if shared is not None:  # its users are already every organisation's, by typed login
        tables.append(resolve_rights(shared))
    total = sum(len(table.folders) for table in tables)
    access: dict[str, list[Access]] = {}
    directory = Directory()
    for table in tables:
        offset = len(folders)
        for folder in table.folders:
            folders.append(replace(
                folder, index=folder.index + offset,
                parent=None if folder.parent is None else folder.parent + offset,
                children=[child + offset for child in folder.children]))
        for login, levels in table.access.items():
            row = access.setdefault(login, [Access.NONE] * total)
            row[offset:offset + len(levels)] = levels
        directory.users.update(table.directory.users)
        directory.groups.update({entry.system_name: entry
                                 for entry in table.directory.groups.values()})
    names = ", ".join(spec.organization.name or spec.organization.id for spec in specs)
    nas = Spec.model_construct(organization=Organization.model_construct(
        id=host, name=f"NAS {host}: {names}", account_prefix=""))
    return nas, RightsTable(directory=directory, folders=folders, access=access)
