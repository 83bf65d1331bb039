"""Who gains and who loses access between two versions of a spec, in plain words (issue 16).

Computed from the same rights resolution as the ACLs and the access report
(nasops.spec.rights), so it cannot disagree with what apply does. A folder renamed with
`renamed_from` is the same folder (no access change; a spec that still carries
`renamed_from` after the rename is no change either). A folder that left the spec is
listed apart, because the NAS keeps it and its ACLs until `nasops forget`; a share that
left is no longer offered over the network, so everyone loses it (its files stay on the
NAS). A person who left the spec, or is disabled, loses everything (their account is
disabled, never deleted).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from nasops.report.access_words import WORDS, kind
from nasops.spec.models import Spec
from nasops.spec.rights import Access, RightsTable, resolve_rights


@dataclass(frozen=True)
class AccessChange:
    """One person's access to one folder, before and after."""

    login: str
    name: str
    folder: str
    """The folder as the new spec names it (as the old one did, in a share that left)."""
    before: Access
    after: Access


@dataclass(frozen=True)
class AccessDiff:
    """Everything that changes in who may do what, between two specs."""

    changes: list[AccessChange]
    """In person order, then in tree order."""
    folders: list[str]
    """Every folder of the new spec in tree order, then those of shares that left."""
    renamed: list[tuple[str, str]]
    """(old path, new path) of folders renamed with renamed_from."""
    left_the_spec: list[str]
    """Folders of kept shares the new spec no longer has (kept on the NAS with their ACLs)."""
    shares_left: list[str]
    """Shares the new spec no longer has: no longer offered over the network."""


def _old_paths(new: RightsTable, old_paths: set[tuple[str, ...]]
               ) -> dict[int, tuple[str, ...]]:
    """Given the new spec's folders and the old spec's paths, return each new folder's path
    in the old spec: its renamed_from name where the old spec has it, else its own name
    (a spec still carrying renamed_from after the rename)."""
    mapped: dict[int, tuple[str, ...]] = {}
    for folder in new.folders:
        above = mapped[folder.parent] if folder.parent is not None else ()
        renamed = (*above, folder.renamed_from) if folder.renamed_from else None
        mapped[folder.index] = (renamed if renamed in old_paths
                                else (*above, folder.path[-1]))
    return mapped


def access_diff(before: Spec, after: Spec) -> AccessDiff:
    """Given two specs of one organisation, return every (person, folder) whose access
    changes, the renamed folders and the folders and shares that left the spec."""
    old, new = resolve_rights(before), resolve_rights(after)
    old_index = {folder.path: folder.index for folder in old.folders}
    mapped = _old_paths(new, set(old_index))
    pairs: list[tuple[str, int | None, int | None]] = []  # (path shown, old index, new index)
    renamed = []
    for folder in new.folders:
        old_path = mapped[folder.index]
        pairs.append((folder.display_path, old_index.get(old_path), folder.index))
        if old_path[-1] != folder.path[-1] and old_path in old_index:  # its renamed_from
            renamed.append(("/".join(old_path), folder.display_path))
    reached = {index for _, index, _ in pairs if index is not None}
    kept_shares = {mapped[folder.index][0] for folder in new.folders}
    left = [folder for folder in old.folders if folder.index not in reached]
    # A share that left: everyone loses it (pairs with no new folder); a folder that left a
    # kept share keeps its ACLs on the NAS: listed apart.
    pairs += [(folder.display_path, folder.index, None) for folder in left
              if folder.share not in kept_shares]
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
    return AccessDiff(changes, [path for path, _, _ in pairs], renamed,
                      [folder.display_path for folder in left if folder.share in kept_shares],
                      [folder.display_path for folder in left
                       if folder.share not in kept_shares and folder.parent is None])


def sentence(change: AccessChange, language: str = "en", *, subtree: bool = False) -> str:
    """Given a change, say it in plain words about its person (no jargon: "can change",
    not "rwx"); subtree: the folder and everything below it."""
    words = WORDS[language]
    folder = words["subtree"].format(folder=change.folder) if subtree else change.folder
    return words[kind(change.before, change.after)].format(folder=folder)


def _collapsed(changes: list[AccessChange], diff: AccessDiff, language: str) -> list[str]:
    """One person's changes as sentences, a folder and everything below it that changes
    the same way said once ("… Afrique and every folder in it"); never over a folder that
    left the spec (it keeps its own ACLs on the NAS)."""
    same = {(change.folder, change.before, change.after) for change in changes}
    lines, covered = [], ""
    for change in changes:
        if covered and change.folder.startswith(covered + "/"):
            continue
        below = [path for path in [*diff.folders, *diff.left_the_spec]
                 if path.startswith(change.folder + "/")]
        if below and change.after != Access.TRAVERSE and all(
                (path, change.before, change.after) in same for path in below):
            lines.append(sentence(change, language, subtree=True))
            covered = change.folder
        else:
            lines.append(sentence(change, language))
            covered = ""
    return lines


def render_text(diff: AccessDiff, *, by: str = "person", language: str = "en") -> str:
    """Given a diff, return it as text grouped by person or by folder, in a language."""
    words = WORDS[language]
    lines: list[str] = []
    if by == "folder":
        groups: dict[str, dict[str, list[AccessChange]]] = {}
        for change in diff.changes:
            groups.setdefault(change.folder, {}).setdefault(
                kind(change.before, change.after), []).append(change)
        for folder in [path for path in diff.folders if path in groups]:
            lines.append(f"{folder}:")
            for change_kind, changes in groups[folder].items():
                names = ", ".join(f"{change.name} ({change.login})" for change in changes)
                lines.append(f"  {words['people_' + change_kind]} ({len(changes)}): {names}")
    else:
        people: dict[str, list[AccessChange]] = {}
        for change in diff.changes:
            people.setdefault(change.login, []).append(change)
        for changes in people.values():
            lines.append(f"{changes[0].name} ({changes[0].login}):")
            lines += [f"  {line}" for line in _collapsed(changes, diff, language)]
    if not diff.changes:
        lines.append(words["nobody"])
    lines += [words["renamed"].format(old=old, new=new) for old, new in diff.renamed]
    lines += [words["left"].format(path=path) for path in diff.left_the_spec]
    lines += [words["share_left"].format(share=share) for share in diff.shares_left]
    return "\n".join(lines) + "\n"


def diff_document(diff: AccessDiff, language: str = "en") -> dict[str, Any]:
    """Given a diff, return its JSON-ready document (access-diff --json, plan --json)."""
    return {"changes": [{**asdict(change), "before": change.before.value,
                         "after": change.after.value, "sentence": sentence(change, language)}
                        for change in diff.changes],
            "renamed": [{"from": old, "to": new} for old, new in diff.renamed],
            "left_the_spec": diff.left_the_spec, "shares_left": diff.shares_left}


def render_json(diff: AccessDiff, language: str = "en") -> str:
    """Given a diff, return it as JSON (for a change request or a board's file)."""
    return json.dumps(diff_document(diff, language), indent=1, ensure_ascii=False) + "\n"
