"""What a QNAP NAS running QTS can do with a spec: the rest is refused at the spec's line
(issue 15; docs/qts.md).

Checked offline, before any driver exists, from QNAP's own documentation (the sources are
in docs/qts.md and ../shared/design/qnap-qts.md): a spec that passes here says nothing QTS
cannot express; one that fails is told why in plain words and where. The QTS driver itself
(accounts, shares and rights through the web API, folder ACLs over SSH) is not built: `plan`
and `apply` on a QTS host stop after these checks (nasops.provision.specs).
"""

from __future__ import annotations

import re

from nasops.errors import Problem
from nasops.spec.directory import build_directory
from nasops.spec.load import LoadedSpec

# A QTS data volume: `/share/CACHEDEV<n>_DATA` (QTS), `/share/ZFS<n>_DATA` (QuTS hero).
QTS_VOLUME = re.compile(r"^/share/(?:CACHEDEV|ZFS)[0-9]+_DATA$")
# QTS 5.0 "Creating a User Group": 1 to 128 letters, digits, multi-byte characters, dashes.
QTS_GROUP = re.compile(r"^[^\W_]([^\W_]|-){0,127}$")
# QTS "Shared Folders": "The share name does not support " / \ [ ] : ; | = , + * ? < > ` '".
QTS_SHARE_FORBIDDEN = set("\"/\\[]:;|=,+*?<>`'")


def qts_problems(loaded: LoadedSpec) -> list[Problem]:
    """Given a valid spec, return a located problem for everything QTS cannot do."""
    spec, source = loaded.spec, loaded.source
    problems: list[Problem] = []

    def refuse(path: tuple[str | int, ...], message: str) -> None:
        problems.append(source.problem(path, message))

    if not QTS_VOLUME.match(spec.volume.path):
        refuse(("volume", "path"), (
            f"'{spec.volume.path}' is not a QTS data volume: QTS keeps shares on "
            "/share/CACHEDEV1_DATA (QuTS hero: /share/ZFS1_DATA); write the volume's path"))
    directory = build_directory(spec)
    for index, group in enumerate(spec.groups):
        name = directory.groups[group.name].system_name
        if not QTS_GROUP.match(name):
            refuse(("groups", index, "name"), (
                f"QTS group names hold only letters, digits and '-' (QTS has no '_' or '.' "
                f"there): '{name}' cannot be a QTS group; set system_name"))
    # Logins need no check of their own: nasops' rule (lowercase letters, digits, '.', '-',
    # '_', at most 32 characters with the prefix) is within QTS's (1 to 32 characters,
    # none of ` * = + [ ] { } \ | ; : ' " , < > / ? % $ or a space).
    for index, user in enumerate(spec.users):
        if user.devices:
            refuse(("users", index, "devices"), (
                "QTS syncs laptops with Qsync, not Syncthing: laptops are not listed on QTS; "
                "remove the devices (mark the share `sync: true` for Qsync)"))
    for index, share in enumerate(spec.shares):
        forbidden = sorted(set(share.name) & QTS_SHARE_FORBIDDEN)
        if forbidden:
            refuse(("shares", index, "name"), (
                f"QTS share names cannot hold {' '.join(forbidden)}: rename the share"))
        if share.quota:
            refuse(("shares", index, "quota"), (
                "QTS has no quota per share: its quotas are per user, per volume (a share of "
                "its own size needs a volume of its own); remove the quota"))
    if spec.backup is not None:
        refuse(("backup",), (
            "backups on QTS are not built: nasops' restic runs from systemd timers, which "
            "QTS does not have; back the NAS up from another Linux host (or with HBS 3, "
            "outside nasops) and remove the section"))
    return problems
