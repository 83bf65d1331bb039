"""Field laptops played by plain Syncthing instances on a lab host, and the REST calls the
sync tests make (test_sync, test_day_in_the_life, and the Debian 13 path of
test_provision_cli). Not a test module."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from polling import wait_until

from nasops.lab import LabHost, run_in_host

LAPTOP_CONFIG = """<configuration version="36">
    <gui enabled="true" tls="false"><address>{gui}</address></gui>
    <options>
        <listenAddress>tcp://{listen}</listenAddress>
        <globalAnnounceEnabled>false</globalAnnounceEnabled>
        <localAnnounceEnabled>false</localAnnounceEnabled>
        <relaysEnabled>false</relaysEnabled>
        <natEnabled>false</natEnabled>
        <urAccepted>-1</urAccepted>
        <crashReportingEnabled>false</crashReportingEnabled>
        <startBrowser>false</startBrowser>
    </options>
</configuration>
"""


class Rest:
    """A Syncthing REST API reached from the test machine (lab hosts share its network)."""

    def __init__(self, address: str, api_key: str) -> None:
        self.url, self.api_key = f"http://{address}", api_key

    def call(self, method: str, path: str, body: Any = None, **query: str) -> Any:
        suffix = f"?{urllib.parse.urlencode(query)}" if query else ""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (always http://127.0.0.N)
            f"{self.url}{path}{suffix}", data=data, method=method,
            headers={"X-API-Key": self.api_key})
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            raw = answer.read()
        return json.loads(raw) if raw.strip() else None

    def answers(self) -> bool:
        try:
            self.call("GET", "/rest/system/ping")
        except (urllib.error.URLError, OSError):
            return False
        return True

    def known(self, folder: str, name: str) -> dict[str, Any] | None:
        """Return what the index says about a file, or None when it does not know it."""
        try:
            return self.call("GET", "/rest/db/file", folder=folder, file=name)  # type: ignore[no-any-return]
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise


@dataclass
class Laptop:
    """One Syncthing instance on the laptop host, run as a plain transient service."""

    host: LabHost
    name: str
    listen: str
    gui: str
    api_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    device_id: str = ""
    roots: dict[str, str] = field(default_factory=dict)
    """Where the folders the laptop accepted by itself are: a test's first path part
    ("Afrique") -> the folder's path on the laptop."""

    @property
    def rest(self) -> Rest:
        return Rest(self.gui, self.api_key)

    def start(self) -> None:
        home = f"/root/{self.name}-syncthing"
        run_in_host(self.host, ["mkdir", "-p", home])
        run_in_host(self.host, ["tee", f"{home}/config.xml"],
                    input_text=LAPTOP_CONFIG.format(gui=self.gui, listen=self.listen))
        run_in_host(self.host, [
            "systemd-run", f"--unit=laptop-{self.name}", "--setenv=HOME=/root",
            f"--setenv=STGUIAPIKEY={self.api_key}", "/usr/bin/syncthing", "serve",
            "--no-browser", "--no-restart", "--no-upgrade", "--no-default-folder",
            "--skip-port-probing", "--logflags=0", f"--home={home}"])
        wait_until(f"the {self.name} laptop's Syncthing answers", self.rest.answers)
        self.device_id = self.rest.call("GET", "/rest/system/status")["myID"]

    def stop(self) -> None:
        run_in_host(self.host, ["systemctl", "stop", f"laptop-{self.name}"])

    def accept(self, nas_id: str, nas_address: str, folder: dict[str, Any], local: str,
               ) -> None:
        """Add the NAS (its Syncthing on nas_address:22000) and one folder it offers, kept
        send-receive on the laptop."""
        self.add_nas(nas_id, nas_address)
        self.add_folder(nas_id, folder, local)

    def add_nas(self, nas_id: str, nas_address: str) -> None:
        """Accept the NAS as a device (its folders still to be accepted)."""
        self.rest.call("PUT", f"/rest/config/devices/{nas_id}", {
            "deviceID": nas_id, "name": "nas", "addresses": [f"tcp://{nas_address}:22000"]})

    def onboard(self, nas_id: str, nas_address: str, expected: set[str]) -> dict[str, str]:
        """Do what the handout says: add the NAS with "Auto Accept" ticked (not
        "Introducer") and nothing else; wait for the folders the NAS offers to arrive
        (expected: their ids); return {folder id: path on the laptop}."""
        self.rest.call("PATCH", "/rest/config/defaults/folder", {"path": f"/root/{self.name}"})
        self.rest.call("PUT", f"/rest/config/devices/{nas_id}", {
            "deviceID": nas_id, "name": "nas", "addresses": [f"tcp://{nas_address}:22000"],
            "autoAcceptFolders": True, "introducer": False})

        def accepted() -> dict[str, str]:
            return {folder["id"]: folder["path"]
                    for folder in self.rest.call("GET", "/rest/config/folders")}

        wait_until(f"the {self.name} laptop accepts the NAS's folders by itself",
                   lambda: expected <= set(accepted()), timeout=120)
        return accepted()

    def add_folder(self, nas_id: str, folder: dict[str, Any], local: str) -> None:
        """Accept one folder the NAS offers, kept send-receive on the laptop."""
        self.rest.call("PUT", f"/rest/config/folders/{folder['id']}", {
            "id": folder["id"], "label": folder["label"], "path": local,
            "type": "sendreceive", "devices": [{"deviceID": nas_id}]})

    def path(self, local: str) -> str:
        first, _, rest = local.partition("/")
        if first in self.roots:
            return f"{self.roots[first]}/{rest}" if rest else self.roots[first]
        return f"/root/{self.name}/{local}"

    def has(self, path: str) -> bool:
        return run_in_host(self.host, ["test", "-f", path], accepted_codes=(0, 1)).returncode == 0

    def read(self, path: str) -> str:
        return run_in_host(self.host, ["cat", path]).stdout


def file_acl_of(folder_default: set[str]) -> set[str]:
    """Given a folder's default ACL (`getfacl -d` lines), return the ACL the contract gives its
    files: owner rw-, named entries without x, mask = their union, group:: and other:: ---."""
    named = {}
    for line in folder_default:
        tag, name, perm = line.removeprefix("default:").split(":")
        if tag in ("user", "group") and name:
            named[f"{tag}:{name}"] = perm.replace("x", "-")
    mask = "".join(flag if any(perm[index] == flag for perm in named.values()) else "-"
                   for index, flag in enumerate("rwx"))
    return ({f"{entry}:{perm}" for entry, perm in named.items()}
            | {"user::rw-", "group::---", "other::---", f"mask::{mask}"})
