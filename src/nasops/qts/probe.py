"""`nasops qts probe`: what a QTS NAS is and what nasops would do there, read-only (issue 15).

Reads the firmware, the folder-rights switches, users, groups and shares (nasops.qts.facts)
and sets them against the host's spec: what exists, what nasops would create, what it
refuses and which QTS setting to change first. Nothing is written to the NAS.
"""

from __future__ import annotations

from collections.abc import Iterable

from nasops.qts.answers import Account, Firmware
from nasops.qts.facts import QtsFacts
from nasops.spec.directory import build_directory
from nasops.spec.load import LoadedSpec
from nasops.spec.names import visible
from nasops.spec.qts import QTS_GROUPS, QTS_SHARES, QTS_USERS, qts_problems

# Firmware that a nasops run on a real QNAP has verified, with its evidence record:
# none yet (docs/qts.md, support matrix). Keyed by "version.number", e.g. "5.1.9.2954".
VERIFIED_LIVE: dict[str, str] = {}
# The model the simulated QTS service of the tests announces: never a verified firmware.
SIMULATED_MODEL = "nasops-simulated"
# Where QTS 5 keeps the two switches (Control Panel, the Shared Folders page).
# How many missing names a line lists before "and N more".
SHOWN = 8
PERMISSIONS_PAGE = "Control Panel > Privilege > Shared Folders > Advanced Permissions"


def profile_status(firmware: Firmware | None) -> str:
    """Given the firmware a NAS announced, say whether nasops has a verified profile of it."""
    if firmware is None:
        return "unknown: the NAS did not say its firmware at login"
    if firmware.model == SIMULATED_MODEL:
        return "simulated QTS (our reading), not a real firmware"
    key = f"{firmware.version}.{firmware.number}"
    if key in VERIFIED_LIVE:
        return f"verified live ({VERIFIED_LIVE[key]})"
    return (f"no verified profile for QTS {visible(key)}: reading is safe; apply writes "
            "only with --accept-unverified-firmware, kept in the run record")


def _state(value: bool | None) -> str:
    return {True: "on", False: "off", None: "not reported"}[value]


def switch_problems(facts: QtsFacts) -> list[str]:
    """Given what was read, return why the NAS-wide folder-rights switches stop nasops."""
    problems = []
    if facts.shares.advanced_folder_permissions is not True:
        problems.append("Advanced Folder Permissions must be on for nasops' folder rights "
                        "(Enable Advanced Folder Permissions)")
    if facts.shares.windows_acl is not False:
        problems.append("Windows ACL must be off (Enable Windows ACL Support; turning it off "
                        "drops Windows ACLs set on subfolders: the provider's decision, once)")
    return problems


def _switches(facts: QtsFacts) -> list[str]:
    shares = facts.shares
    return [f"Advanced Folder Permissions: {_state(shares.advanced_folder_permissions)}, "
            f"Windows ACL: {_state(shares.windows_acl)}, access-based share enumeration: "
            f"{_state(shares.access_based_enumeration)}",
            *(f"refused: {problem} ({PERMISSIONS_PAGE})"
              for problem in switch_problems(facts))]


def _compare(kind: str, wanted: dict[str, bool], found: Iterable[Account],
             owned: frozenset[str]) -> str:
    """One line: how many of the spec's names exist (and disabled there), would be created,
    and how many others QTS has (left alone)."""
    present = {account.name.casefold(): account for account in found}
    existing = [name for name in wanted if name.casefold() in present]
    disabled = [name for name in existing if wanted[name]
                and not present[name.casefold()].enabled]
    missing = [name for name in wanted if name.casefold() not in present]
    others = [name for name in present if name not in {w.casefold() for w in wanted}
              and name not in owned]
    line = (f"{kind}: {len(wanted)} in the spec, {len(existing)} already on the NAS, "
            f"{len(missing)} to create")
    if missing:
        shown = ", ".join(visible(name) for name in missing[:SHOWN])
        line += f" ({shown}{f', and {len(missing) - SHOWN} more' if len(missing) > SHOWN else ''})"
    if disabled:
        line += f"; disabled on the NAS: {', '.join(visible(name) for name in disabled)}"
    other = "other" if len(others) == 1 else "others"
    return line + f"; {len(others)} {other} on the NAS, left alone"


def probe_lines(host: str, place: str, facts: QtsFacts, loaded: LoadedSpec) -> list[str]:
    """Given a host, where it answered, what was read and its spec, return the report."""
    firmware = facts.firmware
    if firmware is None:
        what = "model and firmware not reported"
    else:
        system = "QuTS hero (ZFS)" if firmware.is_zfs else "QTS"
        what = (f"{visible(firmware.model)}, {system} {visible(firmware.version)} build "
                f"{visible(firmware.number)} ({visible(firmware.build)})")
    lines = [f"{host} ({place}): {what}",
             f"  firmware profile: {profile_status(firmware)}"]
    lines += [f"  {line}" for line in _switches(facts)]
    directory = build_directory(loaded.spec)
    people = {user.system_name: user.enabled for user in directory.users.values()}
    groups = {group.system_name: False for group in directory.groups.values()}
    shares = {share.name: False for share in loaded.spec.shares}
    share_accounts = [Account(share.name, None) for share in facts.shares.shares]
    lines.append("  " + _compare("people", people, facts.users, QTS_USERS))
    lines.append("  " + _compare("groups", groups, facts.groups, QTS_GROUPS))
    lines.append("  " + _compare("shares", shares, share_accounts, QTS_SHARES))
    problems = qts_problems(loaded)
    if problems:
        lines.append(f"  the spec on QTS: {len(problems)} refused (nasops validate -i says "
                     "where):")
        lines += [f"    {problem.format()}" for problem in problems]
    else:
        lines.append("  the spec on QTS: nothing refused")
    lines.append("  not checked yet: the ACL tools over SSH (the folder tree and its "
                 "rights on QTS are not built)")
    return lines
