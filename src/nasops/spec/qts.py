"""What a QNAP NAS running QTS can do with a spec: the rest is refused at the spec's line
(issue 15; docs/qts.md).

Checked offline, before the NAS is asked anything, from QNAP's own documentation (the sources are
in docs/qts.md and ../shared/design/qnap-qts.md): a spec that passes here says nothing QTS
cannot express; one that fails is told why in plain words and where. `plan`, `drift` and
`apply` on a QTS host then read and write its control plane (nasops.qts).
"""

from __future__ import annotations

import re

from nasops.errors import Problem
from nasops.spec.directory import build_directory
from nasops.spec.load import LoadedSpec
from nasops.spec.models import Spec
from nasops.spec.yaml_source import DataPath

# A QTS data volume: `/share/CACHEDEV<n>_DATA` (QTS), `/share/ZFS<n>_DATA` (QuTS hero).
QTS_VOLUME = re.compile(r"^/share/(?:CACHEDEV|ZFS)(?P<number>[1-9][0-9]*)_DATA\Z")
# QTS 5.0 "Creating a User Group": 1 to 128 letters, digits, multi-byte characters, dashes.
QTS_GROUP = re.compile(r"^[^\W_]([^\W_]|-){0,127}\Z")
# QTS "Shared Folders": "The share name does not support " / \ [ ] : ; | = , + * ? < > ` '".
QTS_SHARE_FORBIDDEN = set("\"/\\[]:;|=,+*?<>`'")
# QTS's own accounts and shares (names compared without case, as QTS does): its default
# groups (QTS 4.3.4 guide: "QTS provides two default user groups. Administrators … Everyone"),
# the default administrator and guest accounts, and the shares QTS creates itself (QTS 4.5
# guide, "Default Shared Folders"; `homes` holds the home folders). A spec naming one would
# have nasops manage what QTS owns (a person in `administrators` administers the NAS).
QTS_GROUPS = frozenset({"administrators", "everyone"})
QTS_USERS = frozenset({"admin", "guest"})
QTS_SHARES = frozenset({"public", "web", "multimedia", "download", "homes", "home",
                        "recordings"})


Refusal = tuple[DataPath, str]


def qts_problems(loaded: LoadedSpec) -> list[Problem]:
    """Given a valid spec, return a located problem for everything QTS cannot do."""
    spec = loaded.spec
    refusals: list[Refusal] = []
    if not QTS_VOLUME.match(spec.volume.path):
        refusals.append((("volume", "path"), (
            f"'{spec.volume.path}' is not a QTS data volume: QTS keeps shares on "
            "/share/CACHEDEV1_DATA (QuTS hero: /share/ZFS1_DATA); write the volume's path "
            "as QTS shows it, without a trailing '/'")))
    refusals += _name_refusals(spec)
    if spec.sync != type(spec.sync)():
        refusals.append((("sync",), (
            "the `sync` section sets the NAS's Syncthing, which QTS does not run (laptops "
            "sync with Qsync there): remove the section")))
    if spec.backup is not None:
        refusals.append((("backup",), (
            "backups on QTS are not built: nasops' restic runs from systemd timers, which "
            "QTS does not have; back the NAS up from another Linux host (or with HBS 3, "
            "outside nasops) and remove the section")))
    return [loaded.source.problem(path, message) for path, message in refusals]


def _name_refusals(spec: Spec) -> list[Refusal]:
    """Names QTS refuses or owns, devices it does not sync, quotas it does not have."""
    directory = build_directory(spec)
    refusals: list[Refusal] = []
    for index, group in enumerate(spec.groups):
        name = directory.groups[group.name].system_name
        if name.casefold() in QTS_GROUPS:
            refusals.append((("groups", index, "name"), (
                f"'{name}' is one of QTS's own groups (administrators, everyone): QTS "
                "manages it; name the group differently (set system_name)")))
        elif not QTS_GROUP.match(name):
            refusals.append((("groups", index, "name"), (
                f"QTS group names hold only letters, digits and '-' (QTS has no '_' or '.' "
                f"there): '{name}' cannot be a QTS group; set system_name")))
    # Logins need no grammar of their own: nasops' rule (lowercase letters, digits, '.', '-',
    # '_', at most 32 characters with the prefix) is within QTS's (1 to 32 characters,
    # none of ` * = + [ ] { } \ | ; : ' " , < > / ? % $ or a space).
    for index, user in enumerate(spec.users):
        login = directory.users[user.login].system_name
        if login.casefold() in QTS_USERS:
            refusals.append((("users", index, "login"), (
                f"'{login}' is one of QTS's own accounts (admin, guest): choose another "
                "login")))
        if user.devices:
            refusals.append((("users", index, "devices"), (
                "QTS syncs laptops with Qsync, not Syncthing: laptops are not listed on QTS; "
                "remove the devices (mark the share `sync: true` for Qsync)")))
    for index, share in enumerate(spec.shares):
        forbidden = sorted(set(share.name) & QTS_SHARE_FORBIDDEN)
        if share.name.casefold() in QTS_SHARES:
            refusals.append((("shares", index, "name"), (
                f"'{share.name}' is a share QTS creates itself (Public, Web, Multimedia, "
                "Download, homes, Recordings…): name the share differently")))
        if forbidden:
            refusals.append((("shares", index, "name"), (
                f"QTS share names cannot hold {' '.join(forbidden)}: rename the share")))
        before = share.renamed_from
        if before and before.casefold() in QTS_SHARES:
            refusals.append((("shares", index, "renamed_from"), (
                f"'{before}' is a share QTS creates itself: nasops never renames it; remove "
                "renamed_from")))
        if before and set(before) & QTS_SHARE_FORBIDDEN:
            refusals.append((("shares", index, "renamed_from"), (
                f"QTS share names cannot hold {' '.join(sorted(set(before) & QTS_SHARE_FORBIDDEN))}"
                ": no such share can exist on QTS; remove renamed_from")))
        if share.quota:
            refusals.append((("shares", index, "quota"), (
                "QTS has no quota per share: its quotas are per user, per volume (a share of "
                "its own size needs a volume of its own); remove the quota")))
    return refusals
