"""Share-level rights on QTS, one entry per person (issue 15, docs/qts.md).

QTS merges a person's share rights with their groups' as Deny > RW > RO: a person given
read-only by name in a share their group may change would get RW there, where nasops gives
the person's own entry precedence over their groups'. So the QTS driver is to give no group
and no Deny entry at share level, only each person's own: RW where the person may change
something in the share, RO where they may only read or pass through (the folder ACLs, as on
Debian, then say exactly where), none otherwise. Computed from the same rights table as the
ACLs, so it cannot disagree with them. `nasops plan` and `drift` compare QTS with it
(nasops.qts.plan) and `apply` writes it (nasops.qts.writes).
"""

from __future__ import annotations

from nasops.spec.rights import Access, RightsTable

READ_WRITE, READ_ONLY = "RW", "RO"


def share_rights(table: RightsTable) -> dict[str, dict[str, str]]:
    """Given a spec's rights table, return {share: {login as QTS knows it: RW or RO}} for
    every enabled person who reaches something in the share."""
    folders_of: dict[str, list[int]] = {}
    for folder in table.folders:
        folders_of.setdefault(folder.share, []).append(folder.index)
    rights: dict[str, dict[str, str]] = {}
    for share, indexes in folders_of.items():
        entries: dict[str, str] = {}
        for login, accesses in table.access.items():
            user = table.directory.users[login]
            if not user.enabled:
                continue  # disabled on QTS too: no right to keep for them
            reached = {accesses[index] for index in indexes}
            if Access.WRITE in reached:
                entries[user.system_name] = READ_WRITE
            elif reached & {Access.READ, Access.TRAVERSE}:
                entries[user.system_name] = READ_ONLY
        rights[share] = dict(sorted(entries.items()))
    return rights


def qts_effective(person: str | None, groups: list[str | None]) -> str | None:
    """Given a person's own share right and their groups' (RW, RO, Deny or None), return
    what QTS gives them: Deny over RW over RO, the person and their groups alike (QTS 4.5
    user guide, "Shared Folder Permissions"; docs/qts.md)."""
    found = {right for right in (person, *groups) if right is not None}
    for right in ("Deny", READ_WRITE, READ_ONLY):
        if right in found:
            return None if right == "Deny" else right
    return None
