"""The Prometheus file_sd targets of a whole fleet: one exporter per NAS of the inventory."""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ansible_collections.nasops.nas.plugins.module_utils.host_files import write_atomically

from nasops.ansible.inventory import TargetHost, inventory_base, list_inventory, target_hosts
from nasops.compile.host import nas_name
from nasops.spec import load_spec
from nasops.spec.hosting_file import read_hosting_id


def _host_port(address: str, port: int) -> str:
    try:
        if ipaddress.ip_address(address).version == 6:
            return f"[{address}]:{port}"
    except ValueError:
        pass  # a host name
    return f"{address}:{port}"


def _venv_environment() -> dict[str, str]:
    # ansible-inventory is installed next to this Python (the venv), maybe not on PATH.
    return {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def scrape_address(listen_address: str, reached_at: str) -> tuple[str, str | None]:
    """Given where the exporter listens and the address the inventory reaches the NAS at,
    return the address Prometheus must scrape and a warning (None when there is none).

    An exporter bound to one address answers only there; one bound to every address
    (0.0.0.0, ::) answers at the NAS's own address; one bound to loopback only answers a
    Prometheus on the NAS itself, which the warning says.
    """
    try:
        listening = ipaddress.ip_address(listen_address)
    except ValueError:  # a host name (the spec allows one): it is scraped by that name
        unspecified, loopback = False, listen_address == "localhost"
    else:
        unspecified, loopback = listening.is_unspecified, listening.is_loopback
    if unspecified:
        return reached_at, None
    if loopback and not _is_loopback(reached_at):
        return reached_at, (f"the exporter listens on {listen_address} only: a Prometheus "
                            f"on another machine cannot reach {reached_at}; set "
                            "monitoring.listen_address in the spec")
    return listen_address, None


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def targets_from_inventory_data(data: Mapping[str, Any], base: Path,
                                warnings: list[str] | None = None) -> list[dict[str, Any]]:
    """Given `ansible-inventory --list` data and its base directory, return file_sd entries.

    Each NAS gives the address its exporter listens on (as playbooks/site.yml sets it: the
    inventory's nasops_exporter_listen_address, the host's own address on a lab host, else
    the spec's monitoring.listen_address) with its spec's monitoring.port, and the labels
    organization and host (the inventory name). Warnings are appended to `warnings`.
    Raise BadInputError (or SpecError) naming what is wrong.
    """
    host_variables: Mapping[str, Any] = data.get("_meta", {}).get("hostvars", {})
    entries = []
    for target in target_hosts(data, base):
        if target.platform == "qts":
            # No exporter runs on a QNAP: the off-NAS QTS collector runs where the
            # provider starts it (the monitoring host), an address this inventory does not
            # know; a target here would be scraped where nothing listens.
            if warnings is not None:
                warnings.append(f"{target.name}: left out: a QNAP is read by an exporter on "
                                "another machine, its target is yours to add (docs/qts.md)")
            continue
        spec = load_spec(target.spec_path).spec
        variables = host_variables.get(target.name, {})
        reached_at = str(variables.get("ansible_host") or target.name)
        listen_address = str(variables.get("nasops_exporter_listen_address")
                             or (reached_at if "nasops_lab_volume" in variables
                                 else spec.monitoring.listen_address))
        address, warning = scrape_address(listen_address, reached_at)
        if warning and warnings is not None:
            warnings.append(f"{target.name}: {warning}")
        entries.append({"targets": [_host_port(address, spec.monitoring.port)],
                        "labels": {"organization": _nas_name(target, spec.organization.id),
                                   "host": target.name}})
    return entries


def _nas_name(target: TargetHost, organisation: str) -> str:
    """The NAS's name as its desired state gives it (nasops.compile.host): its organisation's
    id, or on a NAS several organisations share, the hosting file's id, else the host's."""
    if not target.hosted:
        return organisation
    hosting_id = read_hosting_id(target.hosting_path) if target.hosting_path else None
    return nas_name(target.name, organisation if len(target.spec_paths) == 1 else None,
                    hosting_id)


def fleet_targets(inventory: str, warnings: list[str] | None = None
                  ) -> list[dict[str, Any]]:
    """Given an inventory path, return the file_sd entries of every NAS in it."""
    data = list_inventory(inventory, environment=_venv_environment())
    return targets_from_inventory_data(data, inventory_base(inventory), warnings)


def render_targets(entries: list[dict[str, Any]]) -> str:
    """Given file_sd entries, return the JSON text Prometheus reads."""
    return json.dumps(entries, indent=2, ensure_ascii=False) + "\n"


def write_targets(path: Path, text: str) -> None:
    """Write text to path atomically: Prometheus re-reads file_sd files when they change."""
    write_atomically(str(path), text.encode("utf-8"), 0o644)
