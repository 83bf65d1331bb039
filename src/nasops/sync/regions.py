"""Which Syncthing folders the NAS offers to which laptops, and what its sync account may do.

The rights model (docs/sync.md) in short: a synced share is cut into *regions*. A region
starts at the share root and at every folder where some device owner's access class (write,
read, or nothing) differs from the parent's; it holds the folders below it down to the next
region. Inside a region every device owner has one class, so:

- its writers' devices share a `sendreceive` folder (ID ending in `-rw`);
- its readers' devices share a separate `sendonly` folder (`-ro`): the NAS never takes a
  change from them, whatever the laptop is set to;
- everybody else's devices get nothing of it.

Nested regions are left out of their parent's folders (ignore patterns, and the service sees
them masked: `nas_sync` role), so nothing reaches a laptop whose owner may not read it.

The sync account gets an ACL entry per managed folder: `write` where a region has writers'
devices, `read` where it only has readers' devices, none elsewhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nasops.spec.models import Spec
from nasops.spec.names import slugify
from nasops.spec.rights import Access, FolderRights, RightsTable

SYNC_ACCOUNT = "nasops-sync"
WRITE, READ, NOTHING = "write", "read", "none"
FOLDER_TYPES = {WRITE: "sendreceive", READ: "sendonly"}
ID_SUFFIXES = {WRITE: "rw", READ: "ro"}
SLUG_LENGTH = 40


def access_class(access: Access) -> str:
    """Given a user's access to a folder, return what sync may do for them there."""
    if access is Access.WRITE:
        return WRITE
    return READ if access is Access.READ else NOTHING


@dataclass
class Region:
    """A part of a synced share where every device owner has one access class."""

    root: FolderRights
    folders: list[int] = field(default_factory=list)
    nested: list[FolderRights] = field(default_factory=list)
    """Roots of the regions directly inside this one (left out of its folders)."""
    owners: dict[str, str] = field(default_factory=dict)
    """Device owner login -> class (write or read; owners with nothing are left out)."""

    def members(self, wanted: str) -> list[str]:
        """Given a class, return the device owners having it here, sorted."""
        return sorted(login for login, got in self.owners.items() if got == wanted)

    @property
    def account_level(self) -> str | None:
        """Return the sync account's level here: write, read, or None (no entry)."""
        classes = set(self.owners.values())
        if WRITE in classes:
            return WRITE
        return READ if READ in classes else None


def find_regions(table: RightsTable, share: str, owners: Sequence[str]) -> list[Region]:
    """Given the rights table, a share name and the device owners' logins, return the share's
    regions, the root region first, then in pre-order of their roots."""
    classes = {login: [access_class(access) for access in table.access[login]]
               for login in owners}
    regions: list[Region] = []
    region_of: dict[int, Region] = {}
    for folder in table.folders:
        if folder.share != share:
            continue
        parent = folder.parent
        starts = parent is None or any(classes[login][folder.index] != classes[login][parent]
                                       for login in owners)
        if parent is not None and not starts:
            region = region_of[parent]
        else:
            region = Region(folder, owners={login: classes[login][folder.index]
                                            for login in owners
                                            if classes[login][folder.index] != NOTHING})
            if parent is not None:
                region_of[parent].nested.append(folder)
            regions.append(region)
        region.folders.append(folder.index)
        region_of[folder.index] = region
    return regions


def folder_id(organization: str, path: Sequence[str], kind: str) -> str:
    """Given the organisation, a region's path (share, folders…) and its class, return a
    stable Syncthing folder ID such as `wsm-afrique-3f9a1c-rw`."""
    display = "/".join(path)
    slug = slugify(display)[:SLUG_LENGTH].strip("-") or "share"
    digest = hashlib.sha256(display.encode("utf-8")).hexdigest()[:6]
    return f"{organization}-{slug}-{digest}-{ID_SUFFIXES[kind]}"


@dataclass
class SyncPlan:
    """The desired state's `sync` section and the sync account's level per folder index."""

    state: dict[str, Any]
    account_levels: dict[int, str]


def _devices(spec: Spec, table: RightsTable,
             ) -> tuple[dict[str, list[str]], list[dict[str, Any]]]:
    """Return (device IDs per enabled owner, devices). The IDs are valid: the spec checks
    refuse a bad one (nasops.spec.checks), and only a validated spec gets here."""
    by_owner: dict[str, list[str]] = {}
    devices: list[dict[str, Any]] = []
    for user in spec.users:
        if not user.devices or not table.directory.users[user.login].enabled:
            continue
        # Named by the login the person types (`rel-zoe` on a shared NAS, where two
        # organisations may both have a `zoe`).
        login = table.directory.users[user.login].system_name
        for device in user.devices:
            by_owner.setdefault(user.login, []).append(device.id)
            devices.append({"id": device.id, "name": f"{device.name} ({login})",
                            "owner": login, "addresses": [device.address]})
    return by_owner, devices


def plan_sync(spec: Spec, table: RightsTable, root: str) -> SyncPlan:
    """Given a validated spec, its rights table and the organisation's directory on the NAS,
    return the sync section of the desired state and the sync account's ACL levels."""
    by_owner, devices = _devices(spec, table)
    owners = sorted(by_owner)
    folders: list[dict[str, Any]] = []
    levels: dict[int, str] = {}
    for share in spec.shares:
        if not share.sync:
            continue
        for region in find_regions(table, share.name, owners):
            level = region.account_level
            if level is None:
                continue
            levels.update(dict.fromkeys(region.folders, level))
            inner = region.root.path[1:]
            for kind in (WRITE, READ):
                members = region.members(kind)
                if not members:
                    continue
                label = region.root.display_path + (" (read-only)" if kind == READ else "")
                folders.append({
                    "id": folder_id(spec.organization.id, region.root.path, kind),
                    "label": label,
                    "share": share.name,
                    "path": "/".join((root, *region.root.path)),
                    "folder": "/".join(inner),
                    "type": FOLDER_TYPES[kind],
                    "owners": [table.directory.users[login].system_name
                               for login in members],
                    "devices": [device for login in members for device in by_owner[login]],
                    "excluded": ["/".join(nested.path[len(region.root.path):])
                                 for nested in region.nested],
                })
    policy = spec.sync
    state = {
        # Without a laptop there is nothing to sync: no service, no open port.
        "enabled": bool(devices),
        "account": SYNC_ACCOUNT,
        "options": {
            "global_discovery": policy.global_discovery,
            "local_discovery": policy.local_discovery,
            "relays": policy.relays,
            "nat_traversal": policy.nat_traversal,
            "usage_reporting": policy.usage_reporting,
            "listen_addresses": list(policy.listen_addresses),
        },
        "devices": devices,
        "folders": folders,
    }
    return SyncPlan(state, levels)
