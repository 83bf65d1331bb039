"""The Prometheus file_sd targets of a whole fleet: one exporter per NAS of the inventory."""

from __future__ import annotations

import ipaddress
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nasops.ansible.inventory import inventory_base, list_inventory, target_hosts
from nasops.spec import load_spec


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


def targets_from_inventory_data(data: Mapping[str, Any], base: Path) -> list[dict[str, Any]]:
    """Given `ansible-inventory --list` data and its base directory, return file_sd entries.

    Each NAS gives `<ansible_host>:<its spec's monitoring.port>` with the labels organization
    and host (the inventory name). Raise BadInputError (or SpecError) naming what is wrong.
    """
    host_variables: Mapping[str, Any] = data.get("_meta", {}).get("hostvars", {})
    entries = []
    for target in target_hosts(data, base):
        spec = load_spec(target.spec_path).spec
        variables = host_variables.get(target.name, {})
        address = str(variables.get("ansible_host") or target.name)
        entries.append({"targets": [_host_port(address, spec.monitoring.port)],
                        "labels": {"organization": spec.organization.id, "host": target.name}})
    return entries


def fleet_targets(inventory: str) -> list[dict[str, Any]]:
    """Given an inventory path, return the file_sd entries of every NAS in it."""
    data = list_inventory(inventory, environment=_venv_environment())
    return targets_from_inventory_data(data, inventory_base(inventory))


def render_targets(entries: list[dict[str, Any]]) -> str:
    """Given file_sd entries, return the JSON text Prometheus reads."""
    return json.dumps(entries, indent=2, ensure_ascii=False) + "\n"


def write_targets(path: Path, text: str) -> None:
    """Write text to path atomically: Prometheus re-reads file_sd files when they change."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
