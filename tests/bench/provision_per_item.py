"""The per-item baseline of tests/bench/bench_provision.py: `ansible.builtin.file` per folder
and `ansible.posix.acl` per (folder, entry), default entries included, as an Ansible user
without nasops' bulk modules would write it; run by the `ansible` package of a separate venv
(it bundles ansible.posix)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_VENV = Path("/var/cache/nasops/bench-venv")
ANSIBLE_REQUIREMENT = "ansible>=12,<13"  # bundles ansible.posix; pins ansible-core 2.19
# Permissions the per-item playbook sets, per level (docs/provisioning-contract.md).
ACCESS_PERMISSIONS = {"write": "rwx", "read": "r-x", "traverse": "r-x", "none": "---"}
DEFAULT_PERMISSIONS = {"write": "rwx", "read": "r-x", "none": "---"}  # traverse: no default

PER_ITEM_CONFIG = """\
# The per-item baseline: the same SSH settings as nasops' ansible.cfg, nothing else.
[defaults]
host_key_checking = True
interpreter_python = /usr/bin/python3
retry_files_enabled = False
gathering = explicit

[ssh_connection]
pipelining = True
ssh_args = -C -o ControlMaster=auto -o ControlPersist=300s
"""

PER_ITEM_PLAYBOOK = """\
---
# The per-item approach: one module call per folder and per ACL entry (access and default).
- name: Converge the folder tree item by item
  hosts: nas
  gather_facts: false
  tasks:
    - name: Make sure each folder exists
      ansible.builtin.file:
        path: "{{ item }}"
        state: directory
      loop: "{{ per_item_folders }}"

    - name: Set each ACL entry of each folder
      ansible.posix.acl:
        path: "{{ item.path }}"
        etype: "{{ item.etype }}"
        entity: "{{ item.entity }}"
        permissions: "{{ item.permissions }}"
        default: "{{ item.default }}"
        state: present
      loop: "{{ per_item_entries }}"
"""


def per_item_items(desired: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Given a compiled desired state, return the per-item playbook's loops: every managed
    folder's absolute path, and one item per (folder, entry) for the access ACL and one for
    the default ACL (traverse has none), with the permissions nasops gives that level."""
    folders: list[str] = []
    entries: list[dict[str, Any]] = []
    for share in desired["shares"]:
        for folder in share["folders"]:
            path = share["path"] + ("/" + folder["path"] if folder["path"] else "")
            folders.append(path)
            for entry in folder["entries"]:
                common = {"path": path, "etype": entry["kind"], "entity": entry["name"]}
                entries.append({**common, "permissions": ACCESS_PERMISSIONS[entry["level"]],
                                "default": False})
                if entry["level"] in DEFAULT_PERMISSIONS:
                    entries.append({**common, "default": True,
                                    "permissions": DEFAULT_PERMISSIONS[entry["level"]]})
    return folders, entries


def subset_items(folders: list[str], entries: list[dict[str, Any]], fraction: float,
                 seed: int = 4) -> tuple[list[str], list[dict[str, Any]]]:
    """Given the per-item loops, return those of a random subset of the folders (at least
    one folder), repeatable for a seed."""
    if fraction >= 1:
        return folders, entries
    count = max(1, round(len(folders) * fraction))
    chosen = set(random.Random(seed).sample(folders, count))  # noqa: S311 - not secret
    return ([path for path in folders if path in chosen],
            [entry for entry in entries if entry["path"] in chosen])


def write_per_item_project(directory: Path, folders: list[str],
                           entries: list[dict[str, Any]]) -> tuple[Path, Path, Path]:
    """Write the per-item playbook, its ansible.cfg and its variables; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    config, playbook = directory / "ansible.cfg", directory / "per-item.yml"
    variables = directory / "per-item-vars.json"
    config.write_text(PER_ITEM_CONFIG, encoding="utf-8")
    playbook.write_text(PER_ITEM_PLAYBOOK, encoding="utf-8")
    variables.write_text(json.dumps({"per_item_folders": folders,
                                     "per_item_entries": entries}), encoding="utf-8")
    return config, playbook, variables


def ensure_per_item_venv(venv: Path) -> Path:
    """Return the per-item venv's ansible-playbook, creating the venv first when missing."""
    ansible_playbook = venv / "bin" / "ansible-playbook"
    if not ansible_playbook.exists():
        print(f"creating {venv} with {ANSIBLE_REQUIREMENT} (the per-item baseline only)",
              file=sys.stderr, flush=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", ANSIBLE_REQUIREMENT],
                       check=True)
    return ansible_playbook


def per_item_versions(ansible_playbook: Path) -> dict[str, str]:
    """Return the per-item venv's ansible and ansible-core versions."""
    python = ansible_playbook.parent / "python"
    script = ("from importlib.metadata import version as v; "
              "print(v('ansible'), v('ansible-core'))")
    done = subprocess.run([str(python), "-c", script], capture_output=True, text=True,
                          check=True)
    ansible, core = done.stdout.split()
    return {"ansible": ansible, "ansible-core": core}


def run_per_item(bench: Any, desired: dict[str, Any], timed_command: Callable[..., Any],
                 log: Callable[[str], None]) -> dict[str, Any]:
    """Run the per-item playbook on bench's host (whole, or a subset extrapolated) with
    bench_provision's timed_command and log; return its figures."""
    ansible_playbook = ensure_per_item_venv(bench.options.per_item_venv)
    all_folders, all_entries = per_item_items(desired)
    total_items = len(all_folders) + len(all_entries)

    def run(label: str, folders: list[str], entries: list[dict[str, Any]]) -> float:
        config, playbook, variables = write_per_item_project(
            bench.work / f"per-item-{label}", folders, entries)
        environment = {**os.environ, "ANSIBLE_CONFIG": str(config), "ANSIBLE_NOCOLOR": "1"}
        with (config.parent / "output.log").open("w", encoding="utf-8") as output:
            seconds, _ = timed_command(
                [str(ansible_playbook), "-i", str(bench.inventory), str(playbook),
                 "-e", f"@{variables}"], timeout=4 * 3600, environment=environment,
                stdout=output)
        log(f"per-item {label}: {len(folders)} folders, {len(folders) + len(entries)} "
            f"items in {seconds:.1f} s")
        return float(seconds)

    startup = run("empty", [], [])
    calibration = subset_items(all_folders, all_entries, bench.options.per_item_calibration)
    calibration_items = len(calibration[0]) + len(calibration[1])
    calibration_seconds = run("calibration", *calibration)
    per_item_seconds = max(calibration_seconds - startup, 0.001) / calibration_items
    estimate = startup + per_item_seconds * total_items
    budget = bench.options.per_item_budget * 60
    fraction = 1.0 if estimate <= budget else min(
        bench.options.per_item_fraction, 0.8 * budget / estimate)
    folders, entries = subset_items(all_folders, all_entries, fraction)
    items = len(folders) + len(entries)
    measured = run("full" if fraction >= 1 else "subset", folders, entries)
    seconds = measured
    if fraction < 1:  # linear: the per-call time of the subset, for every call
        seconds = startup + (measured - startup) * total_items / items
    return {
        "seconds": round(seconds, 1),
        "extrapolated": fraction < 1,
        "measured_seconds": round(measured, 1),
        "subset_fraction_of_folders": round(len(folders) / len(all_folders), 4),
        "subset_folders": len(folders),
        "subset_items": items,
        "total_folders": len(all_folders),
        "total_items": total_items,
        "acl_items": len(all_entries),
        "startup_seconds": round(startup, 2),
        "calibration": {"folders": len(calibration[0]), "items": calibration_items,
                        "seconds": round(calibration_seconds, 1)},
        "seconds_per_item": round((measured - startup) / max(items, 1), 4),
        "ansible": per_item_versions(ansible_playbook),
    }
