#!/usr/bin/python
"""Ansible module nasops.nas.sync_folders: prepare every synced folder on disk in one call."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sync_folders
short_description: Prepare synced folders on disk (markers, ignore files, view mount points)
description:
  - For each synced folder of the desired state, makes sure the folder's Syncthing marker
    (C(.stfolder)) exists, that its C(.stignore) leaves out exactly the nested folders listed in
    C(excluded), and that the service's mount point C(views_root/<id>) exists.
  - Files are written by root, so this also works for folders the sync account may only read.
    A new C(.stignore) gets the ACL a file of its folder must have (docs/provisioning-contract.md),
    so the tree's own convergence finds nothing to change.
  - Nothing is ever deleted; mount points of folders that left the spec stay, empty.
version_added: "0.1.0"
author: nasops developers (!UNKNOWN)
options:
  folders:
    description: The desired state's C(sync.folders) (C(id), C(path), C(type), C(excluded)).
    type: list
    elements: dict
    required: true
  views_root:
    description: Directory holding one mount point per folder ID (bound by systemd).
    type: path
    required: true
notes:
  - Supports check mode. Runs on the NAS with the Python standard library only.
"""

EXAMPLES = r"""
- name: Prepare the synced folders
  nasops.nas.sync_folders:
    views_root: /var/lib/nasops-sync/folders
    folders:
      - {id: wsm-afrique-96c442-rw, path: /srv/nas/wsm/Afrique, type: sendreceive,
         excluded: [Finances]}
"""

RETURN = r"""
changes:
  description: What changed (or would change in check mode).
  returned: always
  type: list
  elements: dict
  sample:
    - {"kind": "sync", "target": "/srv/nas/wsm/Afrique/.stignore", "detail": "ignore /Finances"}
"""

import os  # noqa: E402
import posixpath  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nasops.nas.plugins.module_utils.acl import (  # noqa: E402
    ACCESS_XATTR,
    DEFAULT_XATTR,
    acl_from_mode,
    decode_acl,
    encode_acl,
    file_acl,
    owner_perm,
)
from ansible_collections.nasops.nas.plugins.module_utils.syncthing_plan import (  # noqa: E402
    IGNORE_FILE,
    MARKER,
    change,
    escape_pattern,
    folder_problems,
    ignore_text,
    view_path,
)

# Syncthing skips its own temporary names (.syncthing.*.tmp), so it never sees this one.
TEMPORARY = ".syncthing.nasops-stignore.tmp"


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def contract_acl(descriptor: int, folder: str) -> None:
    """Given an open new file and its folder, give the file the ACL the contract's POSIX
    mapping gives files there: the folder's default entries without x, mask = their union."""
    try:
        default = decode_acl(os.getxattr(folder, DEFAULT_XATTR))
    except OSError:
        return  # no default ACL: the folder is not managed, nothing to follow
    try:
        before = decode_acl(os.getxattr(descriptor, ACCESS_XATTR))
    except OSError:
        before = acl_from_mode(os.fstat(descriptor).st_mode)
    wanted = file_acl(default, owner_perm(before))
    if wanted != before:
        os.setxattr(descriptor, ACCESS_XATTR, encode_acl(wanted))


def write_ignores(folder: str, text: str) -> None:
    """Given a folder and the text of its ignore file, write it atomically with its ACL."""
    temporary = posixpath.join(folder, TEMPORARY)
    if os.path.lexists(temporary):
        os.unlink(temporary)  # left by an interrupted run of this module
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                         0o666)
    try:
        os.write(descriptor, text.encode("utf-8"))
        os.fsync(descriptor)
        contract_acl(descriptor, folder)
    finally:
        os.close(descriptor)
    os.replace(temporary, posixpath.join(folder, IGNORE_FILE))


def mount_points(folders: list[dict], views_root: str, check: bool) -> list[dict[str, str]]:
    """Create the views directory and one mount point per folder ID; return the changes."""
    changes: list[dict[str, str]] = []
    for directory in [views_root] + [view_path(views_root, folder["id"]) for folder in folders]:
        if not os.path.isdir(directory):
            changes.append(change(directory, "create (mount point of the synced folders)"))
            if not check:
                os.makedirs(directory, mode=0o755, exist_ok=True)
    return changes


def folder_files(path: str, excluded: list[str], check: bool) -> list[dict[str, str]]:
    """Given a synced directory and what it leaves out, make its marker and ignore file
    right; return the changes."""
    changes: list[dict[str, str]] = []
    present = os.path.isdir(path)
    if not present and not check:
        raise FileNotFoundError(f"{path} does not exist: the nas_shares role creates the "
                                "share folders before nas_sync runs")
    marker = posixpath.join(path, MARKER)
    if not (present and os.path.isdir(marker)):
        changes.append(change(marker, "create (Syncthing's folder marker)"))
        if not check:
            # Mode 0777 so that the folder's default ACL applies unchanged.
            os.mkdir(marker, 0o777)
    text = ignore_text(excluded)
    if not present or _read(posixpath.join(path, IGNORE_FILE)) != text:
        patterns = ", ".join(escape_pattern(item) for item in excluded) or "nothing"
        changes.append(change(posixpath.join(path, IGNORE_FILE), f"ignore {patterns}"))
        if not check:
            write_ignores(path, text)
    return changes


def converge(folders: list[dict], views_root: str, check: bool) -> list[dict[str, str]]:
    """Given the desired folders, return the changes made (or, in check mode, to make)."""
    changes = mount_points(folders, views_root, check)
    prepared: dict[str, list[str]] = {}
    for folder in folders:
        # The -rw and -ro folders of one region share its directory, marker and ignore file.
        excluded = sorted(folder.get("excluded") or [])
        if prepared.setdefault(folder["path"], excluded) != excluded:
            raise ValueError(f"{folder['path']}: two folders leave out different subfolders")
    for path, excluded in prepared.items():
        changes += folder_files(path, excluded, check)
    return changes


def main() -> None:
    module = AnsibleModule(
        argument_spec={"folders": {"type": "list", "elements": "dict", "required": True},
                       "views_root": {"type": "path", "required": True}},
        supports_check_mode=True,
    )
    folders, views_root = module.params["folders"], module.params["views_root"]
    problems = folder_problems(folders)
    if not views_root.startswith("/"):
        problems.append(f"views_root must be absolute ({views_root!r})")
    if problems:
        module.fail_json(msg="invalid sync folders: " + "; ".join(problems), changes=[])
    try:
        changes = converge(folders, views_root, module.check_mode)
    except (OSError, ValueError) as error:
        module.fail_json(msg=str(error), changes=[])
    module.exit_json(changed=bool(changes), changes=changes)


if __name__ == "__main__":
    main()
