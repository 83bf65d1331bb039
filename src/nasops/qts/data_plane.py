"""The spec's folders on a QTS host: which shares, where, and in plan's words (issue 15).

A share made through the web API (`path_type=auto`) lives at `<volume>/<share>`, spelled as
the NAS spells it; the people and groups of its folders' entries are the NAS's accounts,
spelled as the NAS spells them (QTS may keep `MLSimon` for the spec's `mlsimon`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nasops.compile import compile_spec
from nasops.qts.facts import QtsFacts
from nasops.qts.folder_tree import (
    FolderPlan,
    FoldersDone,
    Shell,
    apply_folders,
    change_words,
    plan_folders,
)
from nasops.qts.plan import name_key
from nasops.qts.ssh import HOST_KEY_VARIABLE
from nasops.spec.load import LoadedSpec

NOT_REACHED = (f"the folder tree and its ACLs: no {HOST_KEY_VARIABLE} in the inventory, so "
               "nasops does not reach them over SSH (docs/qts.md)")


@dataclass
class FolderReading:
    """The folders' differences in plan's words, refusals, and what is kept as is."""

    changes: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unlisted: int = 0
    """Changes counted beyond those listed (500 per share)."""


def spec_shares(loaded: LoadedSpec, facts: QtsFacts) -> list[dict[str, Any]]:
    """Given a QTS host's spec and what its web API said, return the compiled shares with
    each one's folder on the NAS (``path``) and principals spelled as the NAS does."""
    compiled = compile_spec(loaded.spec)
    volume = loaded.spec.volume.path
    on_nas = {name_key(share.name): share.name for share in facts.shares.shares}
    spelled = {("user", name_key(account.name)): account.name for account in facts.users}
    spelled.update({("group", name_key(account.name)): account.name
                    for account in facts.groups})
    shares = []
    for share in compiled["shares"]:
        name = on_nas.get(name_key(share["name"]), share["name"])
        folders = [{**folder, "entries": [
            {**entry, "name": spelled.get((entry["kind"], name_key(entry["name"])),
                                          entry["name"])} for entry in folder["entries"]]}
            for folder in share["folders"]]
        shares.append({"name": name, "path": posixpath.join(volume, name), "folders": folders})
    return shares


def reading_of(plan: FolderPlan) -> FolderReading:
    reading = FolderReading(refused=list(plan.refusals))
    reading.unlisted = plan.count() - len(plan.changes())
    for share, change in plan.changes():
        (reading.notes if change["kind"] == "unmanaged" else reading.changes).append(
            change_words(share, change))
    return reading


def read_folders(shell: Shell, loaded: LoadedSpec, facts: QtsFacts) -> FolderReading:
    """Given a shell on the NAS, a host's spec and web facts, read its folders and return
    how they differ from the spec."""
    return reading_of(plan_folders(shell, spec_shares(loaded, facts)))


def apply_folder_changes(shell: Shell, loaded: LoadedSpec, facts: QtsFacts,
                         say: Callable[[str], None]) -> FoldersDone:
    """Given a shell on the NAS, a host's spec and web facts read after the web API's
    writes, converge its folders; say and return each change made."""
    return apply_folders(shell, spec_shares(loaded, facts), say)
