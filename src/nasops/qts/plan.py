"""`nasops plan` and `nasops drift` on a QTS host: the control plane's differences from the
spec, read-only (issue 15, docs/qts.md).

What is compared: people (present, enabled), groups and their members, shares (renames by
`renamed_from`), and each person's own share right and the right QTS gives them in effect
once their groups are merged (nasops.qts.share_rights says what each should be). Not yet:
the folder tree and its ACLs (the SSH data plane), share flags, rights of people the spec
does not name. Writing them (apply) is not built.
"""

from __future__ import annotations

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
        rights=share_rights(table))


def _by_name(accounts: list[Account]) -> dict[str, Account]:
    # QTS compares account and share names without case.
    return {account.name.casefold(): account for account in accounts}


def _people(desired: Desired, facts: QtsFacts) -> list[str]:
    present = _by_name(facts.users)
    lines = []
    for login, enabled in desired.people.items():
        found = present.get(login.casefold())
        if found is None:
            lines.append(f"create person {login}" + ("" if enabled else " (disabled)"))
        elif found.enabled != enabled:
            lines.append(f"{'enable' if enabled else 'disable'} person {login}")
    return lines


def _groups(desired: Desired, facts: QtsFacts) -> list[str]:
    present = _by_name(facts.groups)
    lines = []
    for group, wanted in desired.groups.items():
        found = present.get(group.casefold())
        if found is None:
            lines.append(f"create group {group}"
                         + (f" with {', '.join(wanted)}" if wanted else ""))
            continue
        members = {member.casefold() for member in facts.members.get(found.name, [])}
        wanted_folded = {member.casefold() for member in wanted}
        lines += [f"add {member} to group {group}" for member in wanted
                  if member.casefold() not in members]
        lines += [f"remove {visible(member)} from group {group}"
                  for member in sorted(facts.members.get(found.name, []))
                  if member.casefold() not in wanted_folded]
    return lines


def _shares(desired: Desired, facts: QtsFacts) -> list[str]:
    present = {share.name.casefold() for share in facts.shares.shares}
    lines = []
    for share, before in desired.shares.items():
        if share.casefold() in present:
            if before and before.casefold() in present:
                lines.append(f"refused: shares {share} and {before} (renamed_from) both exist "
                             "on the NAS; nasops never merges or deletes a share: settle it "
                             "by hand first")
            continue
        if before and before.casefold() in present:
            lines.append(f"rename share {before} to {share} (in place, files kept)")
        else:
            lines.append(f"create share {share} (closed: only the rights below)")
    return lines


def _rights(desired: Desired, facts: QtsFacts) -> list[str]:
    present_shares = {share.name.casefold() for share in facts.shares.shares}
    rights_of = {login.casefold(): rows for login, rows in facts.rights.items()}
    lines = []
    for share, wanted in desired.rights.items():
        # A share to be renamed is compared under the name the NAS still gives it.
        before = desired.shares.get(share)
        on_nas = share if share.casefold() in present_shares else (
            before if before and before.casefold() in present_shares else None)
        for login in desired.people:
            target = wanted.get(login)
            rows = rights_of.get(login.casefold())
            if rows is None or on_nas is None:
                if target is not None:  # created by this plan: given its right then
                    lines.append(f"give {login} {RIGHT_WORDS[target]} on {share}")
                continue
            row = next((row for row in rows if row.share.casefold() == on_nas.casefold()),
                       None)
            own, effective = (row.own, row.effective) if row else (None, None)
            if own != target:
                lines.append(f"set {login} to {RIGHT_WORDS[target]} on {share} (now "
                             f"{RIGHT_WORDS[own]})")
            elif effective != target and desired.people[login]:
                lines.append(
                    f"refused: QTS gives {login} {EFFECTIVE_WORDS[effective]} on {share} "
                    f"where the spec says {RIGHT_WORDS[target]}: a group's entry (QTS merges "
                    "no access > read/write > read-only) overrides the person's own; "
                    f"nasops gives no group a share right: remove it ({SHARE_PERMISSIONS})")
    return lines


REFUSED = "refused: "


def differences(desired: Desired, facts: QtsFacts) -> tuple[list[str], list[str]]:
    """Given the desired control plane and what was read, return the changes apply would
    make, in the order it would make them, and what it would refuse (without "refused: ")."""
    lines = [*_people(desired, facts), *_groups(desired, facts), *_shares(desired, facts),
             *_rights(desired, facts)]
    return ([line for line in lines if not line.startswith(REFUSED)],
            [line.removeprefix(REFUSED) for line in lines if line.startswith(REFUSED)])


def to_read(desired: Desired, facts: QtsFacts) -> tuple[list[str], list[str]]:
    """Given the desired state and the lists read, return the groups whose members and the
    people whose share rights must be read next (those the NAS has), as QTS spells them."""
    groups, people = _by_name(facts.groups), _by_name(facts.users)
    return ([groups[name.casefold()].name for name in desired.groups
             if name.casefold() in groups],
            [people[login.casefold()].name for login in desired.people
             if login.casefold() in people])
