"""Probe what one user can really do in a folder, over SMB, as that user.

Uses smbprotocol (a real SMB2/3 client) with one connection cache per user, so hundreds of
folders are probed over one session instead of one smbclient process per check.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import smbclient
from smbprotocol.exceptions import SMBOSError, SMBResponseException

from nasops.execute import run_command
from nasops.spec.rights import Access, RightsTable

SEED_FILE = "seed.txt"


@dataclass(frozen=True)
class Probe:
    """What the server allowed: listing, which names were visible, reading, writing."""

    can_list: bool
    visible: frozenset[str]
    can_read: bool
    can_write: bool

    def access(self) -> Access:
        """Return the Access level this behaviour corresponds to."""
        if self.can_write and self.can_read and self.can_list:
            return Access.WRITE
        if self.can_read and self.can_list and not self.can_write:
            return Access.READ
        if self.can_list and not self.can_read and not self.can_write:
            return Access.TRAVERSE
        if not (self.can_list or self.can_read or self.can_write):
            return Access.NONE
        return Access.NONE if not self.can_list else Access.TRAVERSE  # inconsistent: flagged


class SmbUser:
    """One logged-in SMB user against one server."""

    def __init__(self, server: str, login: str, password: str) -> None:
        self.server = server
        self.login = login
        self.options: dict[str, Any] = {
            "username": login,
            "password": password,
            "connection_cache": {},
        }

    def unc(self, share: str, folder: str) -> str:
        parts = [f"\\\\{self.server}", share, *[part for part in folder.split("/") if part]]
        return "\\".join(parts)

    def listdir(self, share: str, folder: str) -> list[str] | None:
        try:
            return list(smbclient.listdir(self.unc(share, folder), **self.options))
        except (SMBOSError, SMBResponseException, OSError):
            return None

    def read(self, share: str, path: str) -> bool:
        try:
            with smbclient.open_file(self.unc(share, path), mode="rb", **self.options) as handle:
                handle.read()
        except (SMBOSError, SMBResponseException, OSError):
            return False
        return True

    def save(self, share: str, path: str, data: bytes, *, append: bool = False) -> None:
        """Write (or append to) a file as this person does from their computer; raise what
        the server refused."""
        with smbclient.open_file(self.unc(share, path), mode="ab" if append else "wb",
                                 **self.options) as handle:
            handle.write(data)

    def write_and_remove(self, share: str, folder: str) -> bool:
        target = self.unc(share, f"{folder}/probe-{self.login}-{uuid.uuid4().hex[:8]}.txt")
        try:
            with smbclient.open_file(target, mode="wb", **self.options) as handle:
                handle.write(b"probe\n")
        except (SMBOSError, SMBResponseException, OSError):
            return False
        smbclient.remove(target, **self.options)
        return True

    def probe(self, share: str, folder: str) -> Probe:
        """Given a share and a folder inside it ('' = root), return what this user can do."""
        names = self.listdir(share, folder)
        seed = f"{folder}/{SEED_FILE}" if folder else SEED_FILE
        return Probe(
            can_list=names is not None,
            visible=frozenset(names or ()),
            can_read=self.read(share, seed),
            can_write=self.write_and_remove(share, folder),
        )

    def close(self) -> None:
        smbclient.reset_connection_cache(connection_cache=self.options["connection_cache"])


def listed_shares(server: str, login: str, password: str) -> set[str]:
    """Given a server and a person's login, return the disk shares their share list shows
    (what Windows' network view asks: the srvsvc list, through smbclient -L), after Samba's
    access-based share enumeration."""
    listed = run_command(["smbclient", "-L", f"//{server}", "-U", login, "-g"],
                         environment={"PASSWD": password}, timeout=60)
    return {match.group(1) for match in re.finditer(r"^Disk\|([^|]*)\|", listed.stdout,
                                                     re.MULTILINE)}


def people_work_over_smb(server: str, passwords: dict[str, str],
                         saves: list[tuple[str, str, str]]) -> None:
    """Given the server, the people's passwords and (login, share, folder) triples, have each
    person work there as people do: save a file, copy it, rename the copy, delete the
    original (one renamed file per person stays). Raise if any step is refused."""
    for login, share, folder in saves:
        user = SmbUser(server, login, passwords[login])
        prefix = f"{folder}/" if folder else ""
        original, copy = f"{prefix}{login} notes.txt", f"{prefix}{login} notes (2).txt"
        try:
            with smbclient.open_file(user.unc(share, original), mode="wb",
                                     **user.options) as handle:
                handle.write(f"saved by {login}\n".encode())
            smbclient.copyfile(user.unc(share, original), user.unc(share, copy), **user.options)
            smbclient.rename(user.unc(share, copy), user.unc(share, f"{prefix}{login}.txt"),
                             **user.options)
            smbclient.remove(user.unc(share, original), **user.options)
        finally:
            user.close()


def access_mismatches(table: RightsTable, server: str, passwords: dict[str, str],
                      ) -> tuple[list[str], Counter[Access]]:
    """Given the access report's table, a server and the people's passwords, probe every
    (person, folder) over SMB as that person; return each way SMB disagrees with the
    report (a pass-through person seeing files included) and how often each level was seen."""
    mismatches: list[str] = []
    seen: Counter[Access] = Counter()
    for login in sorted(table.access):
        user = SmbUser(server, login, passwords[login])
        try:
            for folder in table.folders:
                expected = table.access[login][folder.index]
                probe = user.probe(folder.path[0], "/".join(folder.path[1:]))
                observed = probe.access()
                seen[observed] += 1
                if observed is not expected:
                    mismatches.append(f"{login} on {folder.display_path}: report says "
                                      f"{expected.value}, SMB gives {observed.value} ({probe})")
                if expected is Access.TRAVERSE and SEED_FILE in probe.visible:
                    mismatches.append(f"{login} passes through {folder.display_path} but "
                                      "sees its files")
        finally:
            user.close()
    return mismatches, seen
