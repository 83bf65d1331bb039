"""The users groups nasops has managed on this NAS (nasops.nas.accounts' own record).

Every person's account has their organisation's users group as primary group, and a person
who leaves the spec is disabled (never deleted) by finding them in that group. When the
group itself changes (a new account prefix or organisation id) or the organisation leaves
the NAS, its former members would stay enabled with their Samba passwords: the record keeps
every users group nasops has managed here, so that their members who are in no spec any
more are disabled too. Standard library only: it runs on the NAS.
"""

from __future__ import annotations

import json
import os
import re

RECORD_PATH = "/var/lib/nasops/users-groups.json"
RECORD_VERSION = 1
# POSIX group names as nasops writes them (the spec's grammar); anything else is ignored.
GROUP_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}\Z")


def read_users_groups(path: str = RECORD_PATH) -> list[str]:
    """Return the users groups recorded (none when the record is missing or malformed)."""
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict) or data.get("version") != RECORD_VERSION \
            or not isinstance(data.get("users_groups"), list):
        return []
    return [name for name in data["users_groups"]
            if isinstance(name, str) and GROUP_NAME.match(name)]


def write_users_groups(names: list[str], path: str = RECORD_PATH) -> None:
    """Write the record atomically (readable by all: group names are no secret)."""
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    partial = f"{path}.partial"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        json.dump({"version": RECORD_VERSION, "users_groups": sorted(set(names))}, stream)
        stream.write("\n")
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(partial, path)
