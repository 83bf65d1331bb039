"""The Ansible inventory of a lab host: one group, one host, ssh pinned to the lab key."""

from __future__ import annotations

import io
import os
import shlex
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML

from nasops.lab.model import LabHost
from nasops.lab.ssh import ssh_options

DEFAULT_GROUP = "nas"


def inventory_data(
    host: LabHost,
    extra_vars: Mapping[str, Any] | None = None,
    group: str = DEFAULT_GROUP,
) -> dict[str, Any]:
    """Given a lab host and extra host vars (e.g. nasops_spec), return the inventory as data."""
    host_vars: dict[str, Any] = {
        "ansible_host": host.address,
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(host.private_key_path),
        "ansible_ssh_common_args": shlex.join(ssh_options(host.known_hosts_path)),
        "ansible_python_interpreter": "/usr/bin/python3",
        "nasops_lab_volume": host.volume_path,
        # Lab hosts share the machine's network: each service binds only the host's address
        # (playbooks/site.yml's defaults are a real NAS's).
        "nasops_samba_interfaces": [host.address],
        "nasops_syncthing_gui_address": f"{host.address}:8384",
        "nasops_syncthing_listen_addresses": [f"tcp://{host.address}:22000"],
        "nasops_exporter_listen_address": host.address,
    }
    if host.admin_user:
        # As a provider forbidding root logins has it: an admin account and sudo.
        host_vars.update(ansible_user=host.admin_user, ansible_become=True)
    host_vars.update(extra_vars or {})
    return {"all": {"children": {group: {"hosts": {host.name: host_vars}}}}}


def render_inventory(
    host: LabHost,
    extra_vars: Mapping[str, Any] | None = None,
    group: str = DEFAULT_GROUP,
) -> str:
    """Given a lab host and extra host vars, return the inventory YAML text."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    # One line per value: easier to read and to copy into an ssh command.
    yaml.width = 4096
    buffer = io.StringIO()
    buffer.write(f"# Ansible inventory of lab host {host.name}, written by `nasops lab up`.\n")
    yaml.dump(inventory_data(host, extra_vars, group), buffer)
    return buffer.getvalue()


def write_inventory(
    host: LabHost,
    extra_vars: Mapping[str, Any] | None = None,
    group: str = DEFAULT_GROUP,
) -> None:
    """Write the host's inventory file (atomically) with the given extra host vars."""
    partial = host.inventory_path.with_name(host.inventory_path.name + ".partial")
    partial.write_text(render_inventory(host, extra_vars, group), encoding="utf-8")
    os.replace(partial, host.inventory_path)
