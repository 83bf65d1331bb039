"""Probe what one user can really do in a folder, over SMB, as that user.

Uses smbprotocol (a real SMB2/3 client) with one connection cache per user, so hundreds of
folders are probed over one session instead of one smbclient process per check.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import smbclient
from smbprotocol.exceptions import SMBOSError, SMBResponseException

from nasops.spec.rights import Access

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
