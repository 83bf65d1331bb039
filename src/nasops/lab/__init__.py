"""The lab: real, disposable NAS hosts on this machine, booted with systemd-nspawn.

Public surface (see docs/lab.md):
    lab_up(name, address, ...) -> LabHost      boot (idempotent; recovers a stale host)
    lab_down(name, purge=False) -> bool        stop and release everything
    lab_status() -> list[HostStatus]           what runs, what is stale
    get_host(name) -> LabHost                  view of an existing host
    run_in_host(host, argv) -> CommandResult   run argv as root over ssh, host key pinned
    write_inventory(host, extra_vars)          rewrite its Ansible inventory (e.g. nasops_spec)
"""

from nasops.lab.inventory import render_inventory, write_inventory
from nasops.lab.lifecycle import get_host, lab_down, lab_status, lab_up
from nasops.lab.model import HostStatus, LabHost
from nasops.lab.paths import GUEST_VOLUME_PATH, LabDirectories
from nasops.lab.ssh import run_in_host, ssh_argv
from nasops.lab.state import Condition

__all__ = [
    "GUEST_VOLUME_PATH",
    "Condition",
    "HostStatus",
    "LabDirectories",
    "LabHost",
    "get_host",
    "lab_down",
    "lab_status",
    "lab_up",
    "render_inventory",
    "run_in_host",
    "ssh_argv",
    "write_inventory",
]
