"""Who gains and who loses access between two versions of a spec, in plain words (issue 16).

Computed from the same rights resolution as the ACLs and the access report
(nasops.spec.rights), so it cannot disagree with what apply does. A folder renamed with
`renamed_from` is the same folder (no access change); a folder that left the spec is listed
apart, because the NAS keeps it and its rights until `nasops forget`; a person who left the
spec, or is disabled, loses everything (their account is disabled, never deleted).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from nasops.spec.models import Spec
from nasops.spec.rights import Access, RightsTable, resolve_rights

RANK = {Access.NONE: 0, Access.TRAVERSE: 1, Access.READ: 2, Access.WRITE: 3}


@dataclass(frozen=True)
class AccessChange:
    """One person's access to one folder, before and after."""

    login: str
    name: str
    folder: str
    """The folder as the new spec names it (the old name if it left the spec)."""
    before: Access
    after: Access


@dataclass(frozen=True)
class AccessDiff:
    """Everything that changes in who may do what, between two specs."""

    changes: list[AccessChange]
    """In person order, then in the new tree's order."""
    folders: list[str]
    """Every folder of the new spec, in tree order."""
    renamed: list[tuple[str, str]]
    """(old path, new path) of folders renamed with renamed_from."""
    left_the_spec: list[str]
    """Folders the new spec no longer has (kept on the NAS with their rights)."""


def _old_paths(new: RightsTable) -> dict[int, tuple[str, ...]]:
    """Given the new spec's folders, return each one's path in the old spec (renamed_from
    of the folder itself or of any folder above it)."""
    old: dict[int, tuple[str, ...]] = {}
    for folder in new.folders:
        name = folder.renamed_from or folder.path[-1]
        old[folder.index] = ((*old[folder.parent], name) if folder.parent is not None
                             else (name,))
    return old


def access_diff(before: Spec, after: Spec) -> AccessDiff:
    """Given two specs of one organisation, return every (person, folder) whose access
    changes, the renamed folders and the folders that left the spec."""
    old, new = resolve_rights(before), resolve_rights(after)
    old_index = {folder.path: folder.index for folder in old.folders}
    mapped = _old_paths(new)
    pairs: list[tuple[str, int | None, int | None]] = []  # (path shown, old index, new index)
    renamed = []
    for folder in new.folders:
        old_path = mapped[folder.index]
        pairs.append((folder.display_path, old_index.get(old_path), folder.index))
        if folder.renamed_from and old_path in old_index:
            renamed.append(("/".join(old_path), folder.display_path))
    reached = {index for _, index, _ in pairs if index is not None}
    left = [folder.display_path for folder in old.folders if folder.index not in reached]
    people = {**{login: user.full_name for login, user in old.directory.users.items()},
              **{login: user.full_name for login, user in new.directory.users.items()}}
    changes = []
    for login in sorted(people):
        was, now = old.access.get(login), new.access.get(login)
        for path, old_at, new_at in pairs:
            before_access = was[old_at] if was is not None and old_at is not None \
                else Access.NONE
            after_access = now[new_at] if now is not None and new_at is not None \
                else Access.NONE
            if before_access != after_access:
                changes.append(AccessChange(login, people[login], path, before_access,
                                            after_access))
    return AccessDiff(changes, [path for path, _, _ in pairs], renamed, left)


def sentence(change: AccessChange, folder: str | None = None) -> str:
    """Given a change (and how to name its folder, e.g. "it"), say it in plain words (no
    jargon: "can change", not "rwx")."""
    folder = change.folder if folder is None else folder
    before, after = change.before, change.after
    if after == Access.WRITE:
        return f"can now change {folder}"
    if after == Access.READ:
        return (f"can now only read {folder} (no longer change it)" if before == Access.WRITE
                else f"can now read {folder}")
    if after == Access.TRAVERSE:
        return (f"can no longer open {folder}, only pass through it to reach folders below"
                if RANK[before] > RANK[after]
                else f"can now pass through {folder} (seeing only the way to their folders)")
    return ("can no longer pass through " if before == Access.TRAVERSE
            else "can no longer reach ") + folder


def _collapsed(changes: list[AccessChange], folders: list[str]) -> list[str]:
    """One person's changes as sentences, a folder and everything below it that changes
    the same way said once ("… Afrique and every folder in it")."""
    same = {(change.folder, change.before, change.after) for change in changes}
    lines, covered = [], ""
    for change in changes:
        if covered and change.folder.startswith(covered + "/"):
            continue
        below = [path for path in folders if path.startswith(change.folder + "/")]
        if below and change.after != Access.TRAVERSE and all(
                (path, change.before, change.after) in same for path in below):
            lines.append(f"{sentence(change)} and every folder in it")
            covered = change.folder
        else:
            lines.append(sentence(change))
            covered = ""
    return lines


def render_text(diff: AccessDiff, *, by: str = "person") -> str:
    """Given a diff, return it as text grouped by person or by folder."""
    lines: list[str] = []
    if by == "folder":
        groups: dict[str, dict[tuple[Access, Access], list[AccessChange]]] = {}
        for change in diff.changes:
            groups.setdefault(change.folder, {}).setdefault(
                (change.before, change.after), []).append(change)
        for folder in [path for path in diff.folders if path in groups] + [
                path for path in groups if path not in diff.folders]:
            lines.append(f"{folder}:")
            for changes in groups[folder].values():
                count = "1 person" if len(changes) == 1 else f"{len(changes)} people"
                names = ", ".join(f"{change.name} ({change.login})" for change in changes)
                lines.append(f"  {count} {sentence(changes[0], 'it')}: {names}")
    else:
        people: dict[str, list[AccessChange]] = {}
        for change in diff.changes:
            people.setdefault(change.login, []).append(change)
        for changes in people.values():
            lines.append(f"{changes[0].name} ({changes[0].login}):")
            lines += [f"  {line}" for line in _collapsed(changes, diff.folders)]
    if not diff.changes:
        lines.append("nobody gains or loses access")
    lines += [f"renamed, same people: {old} -> {new}" for old, new in diff.renamed]
    lines += [f"left the spec (the NAS keeps it and its rights until `nasops forget`): {path}"
              for path in diff.left_the_spec]
    return "\n".join(lines) + "\n"


def render_json(diff: AccessDiff) -> str:
    """Given a diff, return it as JSON (for a change request or a board's file)."""
    document = {"changes": [{**asdict(change), "sentence": sentence(change)}
                            for change in diff.changes],
                "renamed": [{"from": old, "to": new} for old, new in diff.renamed],
                "left_the_spec": diff.left_the_spec}
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"
