"""What makes one lab host itself: keys, hostname, machine id and services bound to its address."""

from __future__ import annotations

import os
from pathlib import Path

from nasops.execute import run_command
from nasops.lab.model import LabHost
from nasops.lab.paths import GUEST_VOLUME_PATH, HostPaths
from nasops.lab.ssh import run_in_host
from nasops.lab.state import HostState

SSHD_DROP_IN = "etc/ssh/sshd_config.d/nasops-lab.conf"
GUEST_HOST_KEY = "etc/ssh/ssh_host_ed25519_key"
# Written once when the host is created; the Samba role owns smb.conf afterwards.
SMB_CONF = "etc/samba/smb.conf"


def generate_key(private_key: Path, comment: str) -> None:
    """Create an ed25519 key pair at private_key (and .pub) unless it exists."""
    if private_key.exists():
        return
    private_key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    run_command(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(private_key)]
    )


def known_hosts_line(address: str, host_public_key: str) -> str:
    """Given an address and the host's public key line, return its known_hosts entry."""
    key_type, key_data = host_public_key.split()[:2]
    return f"{address} {key_type} {key_data}\n"


def ensure_keys(state: HostState, paths: HostPaths) -> None:
    """Create the controller key and the host key, and pin the host key in known_hosts."""
    generate_key(paths.private_key, f"nasops-lab-controller@{state.name}")
    generate_key(paths.host_key, f"root@{state.hostname}")
    host_public_key = paths.host_key.with_suffix(".pub").read_text(encoding="utf-8")
    paths.known_hosts.write_text(known_hosts_line(state.address, host_public_key))


def sshd_drop_in(address: str) -> str:
    """Given the host's address, return its sshd configuration drop-in."""
    return (
        "# Written by nasops lab: listen only on this host's loopback alias.\n"
        f"ListenAddress {address}\n"
        f"HostKey /{GUEST_HOST_KEY}\n"
        "PermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
    )


def minimal_smb_conf(address: str) -> str:
    """Given the host's address, return a valid smb.conf bound to that address only."""
    return (
        "# Written by nasops lab when the host was created; the Samba role replaces it.\n"
        "[global]\n"
        "   server role = standalone server\n"
        "   workgroup = WORKGROUP\n"
        f"   interfaces = {address}\n"
        "   bind interfaces only = yes\n"
        # No NetBIOS: nothing may broadcast, and only port 445 is needed.
        "   disable netbios = yes\n"
        "   smb ports = 445\n"
        "   map to guest = never\n"
        "   log file = /var/log/samba/log.%m\n"
        "   max log size = 1000\n"
    )


def hosts_file(address: str, hostname: str) -> str:
    """Given the address and hostname, return /etc/hosts for the host."""
    return (
        "127.0.0.1\tlocalhost\n"
        f"{address}\t{hostname}\n"
        "::1\t\tlocalhost ip6-localhost ip6-loopback\n"
    )


def _write(root: Path, relative: str, text: str, mode: int = 0o644) -> None:
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".nasops-partial")
    partial.write_text(text, encoding="utf-8")
    partial.chmod(mode)
    os.replace(partial, target)


def personalize(root: Path, state: HostState, paths: HostPaths, *, created: bool) -> None:
    """Write this host's identity into its merged root (before boot; idempotent)."""
    _write(root, "etc/hostname", f"{state.hostname}\n")
    _write(root, "etc/hosts", hosts_file(state.address, state.hostname))
    _write(root, "etc/machine-id", f"{state.machine_id}\n", 0o444)
    _write(root, SSHD_DROP_IN, sshd_drop_in(state.address))
    _write(root, GUEST_HOST_KEY, paths.host_key.read_text(encoding="utf-8"), 0o600)
    _write(
        root,
        GUEST_HOST_KEY + ".pub",
        paths.host_key.with_suffix(".pub").read_text(encoding="utf-8"),
    )
    ssh_directory = root / "root/.ssh"
    ssh_directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write(
        root,
        "root/.ssh/authorized_keys",
        paths.private_key.with_suffix(".pub").read_text(encoding="utf-8"),
        0o600,
    )
    if created or not (root / SMB_CONF).exists():
        _write(root, SMB_CONF, minimal_smb_conf(state.address))
    (root / GUEST_VOLUME_PATH.lstrip("/")).mkdir(parents=True, exist_ok=True)


ADMIN_SCRIPT = """set -eu
login="$1"
id -u "$login" >/dev/null 2>&1 ||
    useradd --create-home --shell /bin/bash --comment "lab admin" "$login"
home=$(getent passwd "$login" | cut -d: -f6)
install -d -m 0700 -o "$login" -g "$login" "$home/.ssh"
cat > "$home/.ssh/authorized_keys"
chown "$login:$login" "$home/.ssh/authorized_keys"
chmod 0600 "$home/.ssh/authorized_keys"
printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\\n' "$login" > /etc/sudoers.d/nasops-lab-admin.new
chmod 0440 /etc/sudoers.d/nasops-lab-admin.new
visudo -cqf /etc/sudoers.d/nasops-lab-admin.new
mv /etc/sudoers.d/nasops-lab-admin.new /etc/sudoers.d/nasops-lab-admin
"""


def create_admin(host: LabHost, login: str, public_key: Path) -> None:
    """Give a booted host an ordinary login (validate_admin_user) that logs in with the lab
    key and may sudo without a password, as providers who forbid root logins set up a NAS;
    idempotent. Root keeps its login: the lab's own tooling uses it."""
    run_in_host(host, ["bash", "-c", ADMIN_SCRIPT, "nasops-lab-admin", login],
                input_text=public_key.read_text(encoding="utf-8"))
