"""Names people cannot tell apart, and folder paths the NAS cannot hold.

Share and folder names get their character rules in `nasops.spec.names` and their sibling
comparison (Samba's case-insensitivity, after NFC) in the cross-checks. Here: group and
device names must not hide invisible characters either, a share's Samba name keeps within
Samba's length with the account prefix added, and every folder's full path on the NAS
(volume / organisation / share / folders) keeps within Linux's PATH_MAX.
"""

from __future__ import annotations

import posixpath
from typing import Any

from nasops.errors import Problem
from nasops.spec.names import MAXIMUM_SHARE_NAME_LENGTH, invisible_character_problem
from nasops.spec.yaml_source import DataPath, SourceMap

# PATH_MAX is 4096 bytes with the final NUL byte.
MAXIMUM_PATH_BYTES = 4095


def _path_bytes(path: str) -> int:
    return len(path.encode("utf-8", "surrogatepass"))


class LookalikeChecker:
    """Walks the raw data for invisible characters in names and for over-long paths."""

    def __init__(self, data: dict[str, Any], source: SourceMap) -> None:
        self.data = data
        self.source = source
        self.problems: list[Problem] = []

    def error(self, path: DataPath, message: str) -> None:
        self.problems.append(self.source.problem(path, message))

    def mappings(self, value: Any) -> list[tuple[int, dict[str, Any]]]:
        return [(index, item) for index, item in enumerate(value)
                if isinstance(item, dict)] if isinstance(value, list) else []

    def run(self) -> list[Problem]:
        for index, group in self.mappings(self.data.get("groups")):
            self.check_visible(("groups", index, "name"), group.get("name"))
        for index, user in self.mappings(self.data.get("users")):
            for position, device in self.mappings(user.get("devices")):
                self.check_visible(("users", index, "devices", position, "name"),
                                   device.get("name"))
        organization = self.data.get("organization")
        organization = {"id": organization} if isinstance(organization, str) else organization
        organization = organization if isinstance(organization, dict) else {}
        root = self.root(organization)
        prefix = organization.get("account_prefix")
        for index, share in self.mappings(self.data.get("shares")):
            name = share.get("name")
            if not isinstance(name, str):
                continue
            if isinstance(prefix, str) and prefix and (
                    len(prefix + name) > MAXIMUM_SHARE_NAME_LENGTH >= len(name)):
                self.error(("shares", index, "name"),
                           f"the Samba share '{prefix}{name}' (account prefix included) is "
                           f"longer than {MAXIMUM_SHARE_NAME_LENGTH} characters; choose a "
                           "shorter name")
            if root is not None:
                self.check_lengths(("shares", index), posixpath.join(root, name),
                                   share.get("folders"))
        return self.problems

    def root(self, organization: dict[str, Any]) -> str | None:
        """Return the organisation's folder on the NAS, or None when the spec cannot say."""
        volume = self.data.get("volume", "/srv/nas")
        volume_path = volume.get("path", "/srv/nas") if isinstance(volume, dict) else volume
        organization_id = organization.get("id")
        if not isinstance(volume_path, str) or not isinstance(organization_id, str):
            return None
        return posixpath.join(volume_path, organization_id)

    def check_visible(self, path: DataPath, name: Any) -> None:
        if isinstance(name, str):
            problem = invisible_character_problem(name)
            if problem:
                self.error(path, problem)

    def check_lengths(self, path: DataPath, full_path: str, folders: Any) -> None:
        """Report the first folder of each branch whose path is longer than PATH_MAX."""
        if _path_bytes(full_path) > MAXIMUM_PATH_BYTES:
            self.error((*path, "name"),
                       f"the path of this folder on the NAS is {_path_bytes(full_path)} bytes "
                       f"long ('{full_path[:40]}…'); Linux allows {MAXIMUM_PATH_BYTES}: use "
                       "shorter names or fewer levels")
            return
        for index, folder in self.mappings(folders):
            name = folder.get("name")
            if isinstance(name, str):
                self.check_lengths((*path, "folders", index), posixpath.join(full_path, name),
                                   folder.get("folders"))


def lookalike_problems(data: Any, source: SourceMap) -> list[Problem]:
    """Given raw spec data and its source map, return invisible-name and path-length problems."""
    return LookalikeChecker(data, source).run() if isinstance(data, dict) else []
