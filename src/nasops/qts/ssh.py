"""SSH to a QTS NAS for its data plane (nasops.qts.folder_tree): OpenSSH, a pinned host key.

Inventory variables of a `nasops_platform: qts` host: `nasops_qts_ssh_host_key` (the NAS's
SSH host key as `ssh-keyscan` prints it, without the host name: `ssh-ed25519 AAAA…`; without
it nasops does not reach the folders), `nasops_qts_ssh_user` (admin), `nasops_qts_ssh_port`
(22), `nasops_qts_ssh_key_file` (else ssh-agent). The client ignores ~/.ssh/config and
known_hosts: the pin is the only key it accepts, written to a private file for the run.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ansible_collections.nasops.nas.plugins.module_utils.host_names import REMOTE_USER

from nasops.errors import BadInputError, NasopsError
from nasops.qts.folder_scripts import ShellResult, run_script

HOST_KEY_VARIABLE = "nasops_qts_ssh_host_key"
USER_VARIABLE = "nasops_qts_ssh_user"
PORT_VARIABLE = "nasops_qts_ssh_port"
KEY_FILE_VARIABLE = "nasops_qts_ssh_key_file"
HOST_KEY = re.compile(r"(?P<type>ssh-ed25519|ecdsa-sha2-nistp(?:256|384|521)|ssh-rsa) "
                      r"(?P<key>[A-Za-z0-9+/]{40,8192}={0,2})")
HOW_TO_PIN = ("read it on the NAS itself (its console, or a machine you trust on the same "
              "switch): ssh-keyscan -t ed25519 ADDRESS, without the address")
SSH_FAILURE = 255
# A dump of a large share takes a while on a NAS's CPU; a hung connection must not hang apply.
TIMEOUT_SECONDS = 1800


class QtsSshError(NasopsError):
    """The NAS could not be reached over SSH, or is not the NAS the inventory pins."""


@dataclass(frozen=True)
class SshEndpoint:
    """Where a QTS NAS answers SSH, as whom, and the host key it must show."""

    host: str
    port: int
    user: str
    host_key: str
    key_file: str | None = None

    def argv(self, known_hosts: Path) -> list[str]:
        """The ssh command running `sh -s` on the NAS (the script comes on stdin)."""
        key_type = self.host_key.split(" ", 1)[0]
        # An RSA key is checked with SHA-2 signatures: OpenSSH 8.8 and later refuse SHA-1.
        algorithms = "rsa-sha2-512,rsa-sha2-256" if key_type == "ssh-rsa" else key_type
        identity = ["-i", self.key_file, "-o", "IdentitiesOnly=yes"] if self.key_file else []
        return ["ssh", "-F", "/dev/null", *identity, "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}",
                "-o", "GlobalKnownHostsFile=/dev/null", "-o", f"HostKeyAlgorithms={algorithms}",
                "-o", "ConnectTimeout=15", "-o", "LogLevel=ERROR", "-T", "-p", str(self.port),
                "-l", self.user, "--", self.host, "sh -s"]


def ssh_endpoint_of(host: str, address: str, variables: Mapping[str, Any]
                    ) -> SshEndpoint | None:
    """Given a host's name, its checked address and inventory variables, return its checked
    SSH endpoint, None when no host key is pinned; BadInputError naming every problem."""
    if HOST_KEY_VARIABLE not in variables:
        return None
    problems = []
    pinned = variables[HOST_KEY_VARIABLE]
    found = HOST_KEY.fullmatch(pinned.strip()) if isinstance(pinned, str) else None
    if found is None:
        problems.append(f"{HOST_KEY_VARIABLE} must be the NAS's SSH host key "
                        f"('ssh-ed25519 AAAA…'); {HOW_TO_PIN}")
    user = variables.get(USER_VARIABLE, "admin")
    if not isinstance(user, str) or not REMOTE_USER.fullmatch(user):
        problems.append(f"{USER_VARIABLE} must be a login (letters, digits, '.', '-', '_'), "
                        f"got {user!r}")
    port = variables.get(PORT_VARIABLE, 22)
    port = int(port) if isinstance(port, str) and port.isdigit() else port
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        problems.append(f"{PORT_VARIABLE} must be a port number (1 to 65535), got {port!r}")
    key_file = variables.get(KEY_FILE_VARIABLE)
    if key_file is not None and (not isinstance(key_file, str) or key_file.startswith("-")
                                 or "\n" in key_file or not os.path.isfile(key_file)):
        problems.append(f"{KEY_FILE_VARIABLE} must name a readable key file, got {key_file!r}")
    if problems or found is None:
        raise BadInputError("\n".join(f"inventory host {host}: {problem}"
                                      for problem in problems))
    return SshEndpoint(address, int(port), str(user), f"{found['type']} {found['key']}",
                       key_file)


class SshShell:
    """Runs scripts on one NAS over SSH; use as a context manager (the pin's file)."""

    def __init__(self, endpoint: SshEndpoint) -> None:
        self.endpoint = endpoint
        self.directory: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> SshShell:
        self.directory = tempfile.TemporaryDirectory(prefix="nasops-qts-ssh-")
        where = self.endpoint.host if self.endpoint.port == 22 else \
            f"[{self.endpoint.host}]:{self.endpoint.port}"
        (Path(self.directory.name) / "known_hosts").write_text(
            f"{where} {self.endpoint.host_key}\n", encoding="utf-8")
        return self

    def __exit__(self, *_exception: object) -> None:
        if self.directory is not None:
            self.directory.cleanup()
            self.directory = None

    def __call__(self, script: str) -> ShellResult:
        if self.directory is None:
            raise RuntimeError("SshShell used outside its with block")
        argv = self.endpoint.argv(Path(self.directory.name) / "known_hosts")
        try:
            done = run_script(argv, script, TIMEOUT_SECONDS)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise QtsSshError(f"{self.endpoint.host}: ssh: {error}") from None
        if done.returncode == SSH_FAILURE:
            detail = done.stderr.strip().split("\n")[-1:] or ["no answer"]
            raise QtsSshError(f"{self.endpoint.user}@{self.endpoint.host}:"
                              f"{self.endpoint.port}: ssh failed: {detail[0]} (the host "
                              f"key must match {HOST_KEY_VARIABLE}); nothing was run there")
        return done
