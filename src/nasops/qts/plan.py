"""`nasops plan` and `nasops drift` on a QTS host: the control plane's differences from the
spec, read-only (issue 15, docs/qts.md).

What is compared: people (present, enabled), groups and their members, shares (renames by
`renamed_from`), and each person's own share right and the right QTS gives them in effect
once their groups are merged (nasops.qts.share_rights says what each should be), and each
share's flags. The folders are compared by nasops.qts.data_plane (over SSH); not yet: rights
of people the spec does not name. Each change is kept with what apply needs to make it
(nasops.qts.writes).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from nasops.qts.answers import Account
from nasops.qts.facts import QtsFacts
from nasops.qts.share_rights import share_rights
from nasops.spec.load import LoadedSpec
from nasops.spec.names import visible
from nasops.spec.rights import resolve_rights

RIGHT_WORDS = {"RW": "read/write", "RO": "read-only", "Deny": "no access", None: "no entry"}
EFFECTIVE_WORDS = {"RW": "read/write", "RO": "read-only", "Deny": "no access",
                   None: "nothing"}
SHARE_PERMISSIONS = "Control Panel > Privilege > Shared Folders > Edit Shared Folder Permissions"


@dataclass(frozen=True)
class Change:
    """One difference, in words (plan, drift) and as what apply does about it.

    action: create_person, enable_person, disable_person, create_group, add_member,
    remove_member, create_share, rename_share, set_share_flags, set_right, or refused
    (apply stops).
    subject: the login, group or share; target: the group (membership), the share (a right)
    or the name before (a rename); right: RW, RO or None (no entry) for set_right. Names are
    spelled as the NAS spells them where it has them (QTS may compare names with their
    case), as the spec does for what this run creates. words use the spec's names.
    """

    words: str
    action: str
    subject: str = ""
    target: str = ""
    right: str | None = None
    members: tuple[str, ...] = ()
    """create_group: the members it is created with."""
    enabled: bool = True
    """create_person and set_right: whether the person is (to be) enabled."""
    flags: tuple[tuple[str, bool], ...] = ()
    """set_share_flags: every flag of answers.SHARE_FLAGS, as the share must have it."""


@dataclass(frozen=True)
class Desired:
    """The control plane a spec asks of QTS, in QTS's names."""

    people: dict[str, bool]
    """login -> enabled"""
    groups: dict[str, list[str]]
    """group -> member logins"""
    shares: dict[str, str | None]
    """share -> the name it had before (renamed_from), if any"""
    rights: dict[str, dict[str, str]]
    """share -> {login: RW or RO}; a person not listed has no entry"""
    flags: dict[str, dict[str, bool]]
    """share -> its flags (answers.SHARE_FLAGS)"""


# As on Debian (Samba's access based share enum and hide unreadable): people see neither a
# share nor a folder they cannot open. Qsync follows the spec's sync: true.
FLAG_WORDS = {"qsync": "Qsync", "hide_unreadable": "hide what a person cannot open",
              "share_enumeration": "hide the share from who cannot open it"}


def desired_state(loaded: LoadedSpec) -> Desired:
    """Given a spec valid for QTS, return what its control plane should be."""
    table = resolve_rights(loaded.spec)
    directory = table.directory
    groups = {group.system_name: sorted(directory.users[login].system_name
                                        for login in group.members)
              for group in directory.groups.values()}
    return Desired(
        people={user.system_name: user.enabled for user in directory.users.values()},
        groups=groups,
        shares={share.name: share.renamed_from for share in loaded.spec.shares},
        rights=share_rights(table),
        flags={share.name: {"qsync": share.sync, "hide_unreadable": True,
                            "share_enumeration": True} for share in loaded.spec.shares})


def name_key(name: str) -> str:
    """What two names that are the same to people share: QTS compares names without case,
    and an accent may come composed or not (NFC)."""
    return unicodedata.normalize("NFC", name).casefold()


def _by_name(accounts: list[Account]) -> dict[str, Account]:
    return {name_key(account.name): account for account in accounts}


def _people(desired: Desired, facts: QtsFacts) -> list[Change]:
    present = _by_name(facts.users)
    changes = []
    for login, enabled in desired.people.items():
        found = present.get(name_key(login))
        if found is None:
            changes.append(Change(f"create person {login}" + ("" if enabled else
                                                              " (disabled)"),
                                  "create_person", login, enabled=enabled))
        elif found.enabled != enabled:
            action = "enable_person" if enabled else "disable_person"
            changes.append(Change(f"{'enable' if enabled else 'disable'} person {login}",
                                  action, found.name))
    return changes


def _spelled(name: str, present: dict[str, Account]) -> str:
    """The name as the NAS spells it, if it has it; else as given (created by this run)."""
    found = present.get(name_key(name))
    return found.name if found is not None else name


def _groups(desired: Desired, facts: QtsFacts) -> list[Change]:
    present = _by_name(facts.groups)
    people = _by_name(facts.users)
    changes = []
    for group, wanted in desired.groups.items():
        found = present.get(name_key(group))
        if found is None:
            changes.append(Change(f"create group {group}"
                                  + (f" with {', '.join(wanted)}" if wanted else ""),
                                  "create_group", group, members=tuple(wanted)))
            continue
        members = {name_key(member) for member in facts.members.get(found.name, [])}
        wanted_folded = {name_key(member) for member in wanted}
        changes += [Change(f"add {member} to group {group}", "add_member",
                           _spelled(member, people), found.name)
                    for member in wanted if name_key(member) not in members]
        changes += [Change(f"remove {visible(member)} from group {group}", "remove_member",
                           member, found.name)
                    for member in sorted(facts.members.get(found.name, []))
                    if name_key(member) not in wanted_folded]
    return changes


def _shares(desired: Desired, facts: QtsFacts) -> list[Change]:
    spelled = {name_key(share.name): share.name for share in facts.shares.shares}
    present = set(spelled)
    flags_of = {name_key(name): flags for name, flags in facts.flags.items()}
    changes = []
    for share, before in desired.shares.items():
        wanted = desired.flags[share]
        if name_key(share) in present:
            if before and name_key(before) in present:
                changes.append(Change(
                    f"shares {share} and {before} (renamed_from) both exist on the NAS; "
                    "nasops never merges or deletes a share: settle it by hand first",
                    REFUSED_ACTION))
                continue
            changes += _flags(share, spelled[name_key(share)], wanted,
                              flags_of.get(name_key(share)))
            continue
        if before and name_key(before) in present:
            changes.append(Change(f"rename share {before} to {share} (in place, files kept)",
                                  "rename_share", share, spelled[name_key(before)]))
            changes += _flags(share, share, wanted, flags_of.get(name_key(before)))
        else:
            changes.append(Change(f"create share {share} (closed: only the rights below)",
                                  "create_share", share))
            changes += _flags(share, share, wanted, None)
    return changes


def _flags(share: str, written: str, wanted: dict[str, bool],
           found: dict[str, bool] | None) -> list[Change]:
    """The flags change of one share, if any (found None: not read, a share to create)."""
    if found == wanted:
        return []
    words = ", ".join(
        f"{FLAG_WORDS[name]} {'on' if on else 'off'}"
        + (f" (now {'on' if found[name] else 'off'})" if found is not None else "")
        for name, on in wanted.items() if found is None or found.get(name) != on)
    return [Change(f"set share {share}: {words}", "set_share_flags", written,
                   flags=tuple(wanted.items()))]


def _rights(desired: Desired, facts: QtsFacts) -> list[Change]:
    spelled = {name_key(share.name): share.name for share in facts.shares.shares}
    present_shares = set(spelled)
    people = _by_name(facts.users)
    rights_of = {name_key(login): rows for login, rows in facts.rights.items()}
    changes = []
    for share, wanted in desired.rights.items():
        # A share to be renamed is compared under the name the NAS still gives it, and
        # written under its new one (the rename comes first).
        before = desired.shares.get(share)
        on_nas = share if name_key(share) in present_shares else (
            before if before and name_key(before) in present_shares else None)
        written = spelled.get(name_key(share), share)
        for login in desired.people:
            target = wanted.get(login)
            rows = rights_of.get(name_key(login))
            person = _spelled(login, people)
            enabled = desired.people[login]
            if rows is None or on_nas is None:
                if target is not None:  # created by this plan: given its right then
                    changes.append(Change(f"give {login} {RIGHT_WORDS[target]} on {share}",
                                          "set_right", person, written, target,
                                          enabled=enabled))
                continue
            row = next((row for row in rows if name_key(row.share) == name_key(on_nas)),
                       None)
            own, effective = (row.own, row.effective) if row else (None, None)
            if own != target:
                changes.append(Change(f"set {login} to {RIGHT_WORDS[target]} on {share} (now "
                                      f"{RIGHT_WORDS[own]})", "set_right", person, written,
                                      target, enabled=enabled))
            elif effective != target and enabled:
                changes.append(Change(group_override(login, share, effective, target),
                                      REFUSED_ACTION))
    return changes


REFUSED_ACTION = "refused"


def group_override(login: str, share: str, effective: str | None, target: str | None) -> str:
    """Say why a right QTS gives in effect, other than the person's own, stops apply."""
    return (f"QTS gives {login} {EFFECTIVE_WORDS[effective]} on {share} where the spec says "
            f"{RIGHT_WORDS[target]}: a group's entry (QTS merges no access > read/write > "
            "read-only) overrides the person's own; nasops gives no group a share right: "
            f"remove it ({SHARE_PERMISSIONS})")


def _collisions(desired: Desired, facts: QtsFacts) -> list[Change]:
    """Refusals for names of the spec the NAS holds twice, spelled apart only by case or
    accents: nasops cannot tell which one is meant."""
    found = []
    for kind, names, wanted in (
            ("people", [user.name for user in facts.users], desired.people),
            ("groups", [group.name for group in facts.groups], desired.groups),
            ("shares", [share.name for share in facts.shares.shares],
             [*desired.shares, *(before for before in desired.shares.values() if before)])):
        by_key: dict[str, list[str]] = {}
        for name in names:
            by_key.setdefault(name_key(name), []).append(name)
        for name in wanted:
            twins = by_key.get(name_key(name), [])
            if len(twins) > 1:
                found.append(Change(
                    f"the NAS has {kind} {' and '.join(visible(twin) for twin in twins)}, "
                    "written apart only by capitals or accents: nasops cannot tell which is "
                    f"{name}; rename or remove the other in QTS first", REFUSED_ACTION))
    return found


def changes_of(desired: Desired, facts: QtsFacts) -> list[Change]:
    """Given the desired control plane and what was read, return every difference in the
    order apply makes them (people, groups and members, shares, rights), refusals among
    them."""
    return [*_collisions(desired, facts), *_people(desired, facts), *_groups(desired, facts),
            *_shares(desired, facts), *_rights(desired, facts)]


def differences(desired: Desired, facts: QtsFacts) -> tuple[list[str], list[str]]:
    """Given the desired control plane and what was read, return the changes apply would
    make, in the order it would make them, and what it would refuse, in words."""
    changes = changes_of(desired, facts)
    return ([change.words for change in changes if change.action != REFUSED_ACTION],
            [change.words for change in changes if change.action == REFUSED_ACTION])


def shares_to_read(desired: Desired, facts: QtsFacts) -> list[str]:
    """Given the desired state and the lists read, return the shares whose flags must be
    read next (the spec's, under the name the NAS gives them now), as QTS spells them."""
    spelled = {name_key(share.name): share.name for share in facts.shares.shares}
    found = []
    for share, before in desired.shares.items():
        name = share if name_key(share) in spelled else before
        if name and name_key(name) in spelled:
            found.append(spelled[name_key(name)])
    return found


def to_read(desired: Desired, facts: QtsFacts) -> tuple[list[str], list[str]]:
    """Given the desired state and the lists read, return the groups whose members and the
    people whose share rights must be read next (those the NAS has), as QTS spells them."""
    groups, people = _by_name(facts.groups), _by_name(facts.users)
    return ([groups[name_key(name)].name for name in desired.groups
             if name_key(name) in groups],
            [people[name_key(login)].name for login in desired.people
             if name_key(login) in people])
