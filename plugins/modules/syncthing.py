#!/usr/bin/python
"""Ansible module nasops.nas.syncthing: converge Syncthing's config through its REST API."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: syncthing
short_description: Converge Syncthing's options, devices and folders through its REST API
description:
  - Reads the current config (C(/rest/config/options), C(/rest/config/gui),
    C(/rest/config/devices), C(/rest/config/folders)), plans the difference with the desired
    state and sends only the requests that close it (PATCH options, PUT or DELETE per device
    and folder). A second run with the same input changes nothing.
  - Syncthing on the NAS belongs to nasops; devices and folders that are not in the desired
    state are removed from its config. Their files stay on the NAS.
  - The web GUI is given a user and a random password when it has none (the REST API keeps
    working with the API key; the GUI itself is not left open to local users).
  - In check mode against a Syncthing that does not run yet (a fresh NAS), everything is
    planned from an empty config and a warning says so.
version_added: "0.1.0"
author: nasops developers (!UNKNOWN)
options:
  url:
    description: Base URL of the REST API, e.g. C(http://127.0.0.1:8384).
    type: str
    required: true
  api_key:
    description: The API key (never logged).
    type: str
    required: true
  options:
    description: Syncthing option keys and values to enforce (C(/rest/config/options)).
    type: dict
    default: {}
  devices:
    description: Remote devices (C(id), C(name), C(addresses)).
    type: list
    elements: dict
    default: []
  folders:
    description:
      - The desired state's C(sync.folders) (C(id), C(label), C(path), C(type), C(devices)).
    type: list
    elements: dict
    default: []
  views_root:
    description: Directory of the mount points; Syncthing sees folder C(id) at C(views_root/id).
    type: path
    required: true
  wait_seconds:
    description: How long to wait for the REST API to answer (it starts with the service).
    type: int
    default: 60
notes:
  - Supports check mode. Runs on the NAS with the Python standard library only.
"""

EXAMPLES = r"""
- name: Converge Syncthing
  nasops.nas.syncthing:
    url: http://127.0.0.1:8384
    api_key: "{{ nasops_syncthing_api_key }}"
    views_root: /var/lib/nasops-sync/folders
    options: {globalAnnounceEnabled: false, urAccepted: -1}
    devices: [{id: "…", name: laptop-cotonou (fkabore), addresses: [dynamic]}]
    folders: "{{ nasops_desired.sync.folders }}"
"""

RETURN = r"""
changes:
  description: What changed (or would change in check mode).
  returned: always
  type: list
  elements: dict
  sample:
    - {"kind": "sync", "target": "device laptop-cotonou (fkabore)",
       "detail": "add AAAAAAA at dynamic"}
restart_required:
  description: Syncthing says a change takes effect only after a restart.
  returned: always
  type: bool
device_id:
  description: The NAS's own Syncthing device ID (empty when Syncthing does not run yet).
  returned: always
  type: str
"""

import secrets  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nasops.nas.plugins.module_utils.syncthing_client import (  # noqa: E402
    SyncthingClient,
    SyncthingError,
    SyncthingUnavailable,
    url_problem,
)
from ansible_collections.nasops.nas.plugins.module_utils.syncthing_plan import (  # noqa: E402
    change,
    folder_problems,
    gui_needs_password,
    plan_devices,
    plan_folders,
    plan_options,
)

REQUEST_TIMEOUT = 30
RETRY_DELAY = 0.5
GUI_USER = "nasops"


def send_when_up(rest: SyncthingClient, method: str, path: str, seconds: float,
                 body: Any = None) -> Any:
    """Send one request, repeating it while the API does not answer (at most `seconds`):
    Syncthing starting, or its GUI listener restarting, closes connections without an answer,
    at any request of a run. Repeating is safe: a PUT sets a whole object, a PATCH the same
    fields again, and a DELETE that went through before the cut answers 404 the second time."""
    deadline = time.monotonic() + seconds
    repeated = False
    while True:
        try:
            return rest.request(method, path, body)
        except SyncthingUnavailable:
            if time.monotonic() >= deadline:
                raise
            repeated = True
            time.sleep(RETRY_DELAY)
        except SyncthingError as error:
            if repeated and method == "DELETE" and error.status == 404:
                return None
            raise


def read_when_up(rest: SyncthingClient, path: str, seconds: float) -> Any:
    """GET path, retrying while the API does not answer (at most `seconds`)."""
    return send_when_up(rest, "GET", path, seconds)


def wait_for(rest: SyncthingClient, seconds: float) -> str:
    """Wait until the API answers (at most `seconds`); return the NAS's own device ID."""
    return str(read_when_up(rest, "/rest/system/status", seconds)["myID"])


def converge(rest: SyncthingClient, params: dict[str, Any], check: bool,
             warn: Any) -> dict[str, Any]:
    """Given a client and the module's parameters, converge; return the module's result."""
    try:
        own_id = wait_for(rest, 0 if check else params["wait_seconds"])
    except SyncthingUnavailable as error:
        if not check:
            raise
        warn(f"Syncthing does not answer yet ({error}); planned from an empty config")
        own_id, current = "", {"options": {}, "gui": {}, "devices": [], "folders": []}
    else:
        current = {name: read_when_up(rest, f"/rest/config/{name}", params["wait_seconds"])
                   for name in ("options", "gui", "devices", "folders")}
    names = {device["id"]: device["name"] for device in params["devices"]}
    names.update({device["deviceID"]: device.get("name") or device["deviceID"]
                  for device in current["devices"] if device["deviceID"] not in names})
    option_patch, changes = plan_options(current["options"], params["options"])
    gui_open = own_id != "" and gui_needs_password(current["gui"])
    if gui_open or not own_id:
        changes.append(change("gui", "set a user and a random password (REST keeps the key)"))
    devices = plan_devices(current["devices"], params["devices"], own_id)
    folders = plan_folders(current["folders"], params["folders"], own_id, params["views_root"],
                           names)
    changes += devices.changes + folders.changes
    if check or not changes:
        return {"changed": bool(changes), "changes": changes, "restart_required": False,
                "device_id": own_id}
    wait = params["wait_seconds"]
    if option_patch:
        send_when_up(rest, "PATCH", "/rest/config/options", wait, option_patch)
    # Devices first (folders name them), unsharing before deleting, deletions last.
    for device in devices.puts:
        send_when_up(rest, "PUT", f"/rest/config/devices/{device['deviceID']}", wait, device)
    for folder in folders.puts:
        send_when_up(rest, "PUT",
                     f"/rest/config/folders/{urllib.parse.quote(folder['id'], safe='')}", wait,
                     folder)
    for folder_id in folders.deletes:
        send_when_up(rest, "DELETE",
                     f"/rest/config/folders/{urllib.parse.quote(folder_id, safe='')}", wait)
    for device_id in devices.deletes:
        send_when_up(rest, "DELETE", f"/rest/config/devices/{device_id}", wait)
    # Read before the GUI change below: the GUI listener (and the API with it) restarts on
    # that change, at a moment of its own, and a read then could be cut off.
    restart = read_when_up(rest, "/rest/config/restart-required", wait) or {}
    if gui_open:
        send_when_up(rest, "PATCH", "/rest/config/gui", wait,
                     {"user": GUI_USER, "password": secrets.token_urlsafe(24)})
        time.sleep(RETRY_DELAY)
        wait_for(rest, wait)
    return {"changed": True, "changes": changes,
            "restart_required": bool(restart.get("requiresRestart")), "device_id": own_id}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "api_key": {"type": "str", "required": True, "no_log": True},
            "options": {"type": "dict", "default": {}},
            "devices": {"type": "list", "elements": "dict", "default": []},
            "folders": {"type": "list", "elements": "dict", "default": []},
            "views_root": {"type": "path", "required": True},
            "wait_seconds": {"type": "int", "default": 60},
        },
        supports_check_mode=True,
    )
    params = module.params
    problems = folder_problems(params["folders"])
    known = {device.get("id") for device in params["devices"]}
    for folder in params["folders"]:
        unknown = sorted(set(folder.get("devices", [])) - known)
        if unknown:
            problems.append(f"folder {folder.get('id')}: devices not in the device list: "
                            f"{', '.join(unknown)}")
    problem = url_problem(params["url"])
    if problem:
        problems.append(f"url {problem}")
    if problems:
        module.fail_json(msg="invalid sync state: " + "; ".join(problems), changes=[])
    rest = SyncthingClient(params["url"], params["api_key"], timeout_seconds=REQUEST_TIMEOUT)
    try:
        result = converge(rest, params, module.check_mode, module.warn)
    except SyncthingError as error:
        hint = ("; the service's key and nasops_syncthing_api_key disagree"
                if error.status in (401, 403) else "")
        module.fail_json(msg=f"cannot converge Syncthing: {error}{hint}", changes=[])
    except (KeyError, ValueError) as error:
        module.fail_json(msg=f"cannot converge Syncthing: unexpected answer ({error})",
                         changes=[])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
