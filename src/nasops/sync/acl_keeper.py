"""Give every file Syncthing writes on the NAS the ACL the spec gives files of its folder.

Syncthing creates a file with mode 0666 in its folder, so the kernel copies the folder's
default ACL with the directories' `rwx` into the named entries (only the mask drops the x).
The contract's POSIX mapping wants files without x unless the owner has it, and the tree's
convergence would report every synced file as drift. This service follows Syncthing's event
stream (`ItemFinished`) and rewrites such a file's ACL at once, as `nasops.nas.tree` would.

It runs as the sync account (the owner of what Syncthing writes) in the same mount namespace
as Syncthing (the folders' views), reading the API key from STGUIAPIKEY, from the nasops
release on the NAS (`python3 -m nasops.sync.acl_keeper`). Standard library only; the ACL
mapping is the collection's (module_utils/acl.py), as the tree's convergence uses it, and so
is the REST client (module_utils/syncthing_client.py).
"""

from __future__ import annotations

import os
import stat
import sys
import time

from ansible_collections.nasops.nas.plugins.module_utils.acl import (
    ACCESS_XATTR,
    DEFAULT_XATTR,
    acl_from_mode,
    decode_acl,
    encode_acl,
    file_acl,
    owner_perm,
)
from ansible_collections.nasops.nas.plugins.module_utils.syncthing_client import (
    SyncthingClient,
    url_problem,
)

POLL_SECONDS = 60
RETRY_SECONDS = 5


def synced_folders(client: SyncthingClient) -> dict[str, str]:
    """Return {folder ID: path} of the folders Syncthing may write (send-receive)."""
    folders = client.get("/rest/config/folders")
    return {folder["id"]: folder["path"] for folder in folders
            if folder.get("type") == "sendreceive"}


def keep_acl(path: str) -> bool:
    """Given a file Syncthing just wrote, give it the contract's file ACL; return whether it
    changed. Only regular files this account owns are touched; links are never followed."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False  # gone again, a link, or not ours to read
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid():
            return False
        try:
            default = decode_acl(os.getxattr(os.path.dirname(path), DEFAULT_XATTR))
        except OSError:
            return False  # the folder has no default ACL: not a managed tree
        try:
            before = decode_acl(os.getxattr(descriptor, ACCESS_XATTR))
        except OSError:
            before = acl_from_mode(status.st_mode)
        wanted = file_acl(default, owner_perm(before))
        if wanted == before:
            return False
        os.setxattr(descriptor, ACCESS_XATTR, encode_acl(wanted))
        return True
    finally:
        os.close(descriptor)


def follow(client: SyncthingClient) -> None:
    """Follow Syncthing's events until it goes away (then return, to start over)."""
    folders = synced_folders(client)
    since = 0
    while True:
        events = client.get("/rest/events", since=str(since), timeout=str(POLL_SECONDS))
        for event in events or []:
            since = max(since, int(event["id"]))
            data = event.get("data") or {}
            if event.get("type") == "ConfigSaved":
                folders = synced_folders(client)
            elif (event.get("type") == "ItemFinished" and data.get("type") == "file"
                  and data.get("action") == "update" and not data.get("error")
                  and data.get("folder") in folders):
                target = os.path.join(folders[data["folder"]], data["item"])
                if keep_acl(target):
                    print(f"ACL set on {target}", flush=True)


def main() -> int:
    url = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8384"
    problem = url_problem(url)
    if problem:
        print(f"the Syncthing URL {problem}", file=sys.stderr)
        return 2
    key = os.environ.get("STGUIAPIKEY", "")
    if not key:
        print("STGUIAPIKEY is not set", file=sys.stderr)
        return 2
    # A long poll waits POLL_SECONDS for events: the request may take that long and more.
    client = SyncthingClient(url, key, timeout_seconds=POLL_SECONDS + 30)
    while True:
        try:
            follow(client)
        except Exception as error:  # a keeper must outlive any hiccup
            # Syncthing restarting (a long poll cut mid-answer, event IDs starting again from
            # 1): read from the start of its buffer again; rewriting an ACL twice changes
            # nothing. Exiting instead would leave the unit restarting, which the next apply
            # would see as a change.
            print(f"waiting for Syncthing: {error}", flush=True)
            time.sleep(RETRY_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
