"""The spec side of tests/bench/bench_provision.py: the generated spec (bench_spec's generator
without Syncthing) and the one-folder change; also used by the unit smoke test."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent


def load_spec_generator() -> ModuleType:
    """Return tests/bench/bench_spec.py (its generate_spec and write_yaml)."""
    specification = importlib.util.spec_from_file_location("bench_spec", HERE / "bench_spec.py")
    assert specification is not None and specification.loader is not None
    module = importlib.util.module_from_spec(specification)
    specification.loader.exec_module(module)
    return module


# One repository the lab NAS reaches, as on a NAS whose backups work: bench_spec's USB disk
# (not plugged in on a lab NAS) and offsite host (no network) would make every real pass
# retry `nasops-backup init` (about 0.5 s) as it must while a repository is unreachable.
REACHABLE_REPOSITORIES = [{"name": "local", "url": "/srv/backup/restic"}]


def generate_spec(users: int = 300, groups: int = 40, folders: int = 2000,
                  seed: int = 2024) -> dict[str, Any]:
    """Return the benchmark's spec data: bench_spec's generator without Syncthing (no laptop
    devices, no synced share), which issue 4 does not measure, and with one reachable
    repository."""
    data: dict[str, Any] = load_spec_generator().generate_spec(users, groups, folders, seed)
    for person in data["users"]:
        person.pop("devices", None)
    for share in data["shares"]:
        share["sync"] = False
    data["backup"]["repositories"] = [dict(item) for item in REACHABLE_REPOSITORIES]
    return data


def write_spec(data: dict[str, Any], path: Path) -> None:
    """Write spec data as YAML (bench_spec's writer)."""
    load_spec_generator().write_yaml(data, path)


def _leaves(node: dict[str, Any], trail: tuple[str, ...]) -> list[tuple[dict[str, Any], str]]:
    found: list[tuple[dict[str, Any], str]] = []
    for child in node.get("folders", []):
        path = (*trail, child["name"])
        found += _leaves(child, path) if child.get("folders") else [(child, "/".join(path))]
    return found


def change_one_folder(data: dict[str, Any], desired: dict[str, Any],
                      ) -> tuple[dict[str, Any], str]:
    """Given spec data and its compiled desired state, return a copy where one leaf folder of
    the first share that has one changes a group's right there from read to write (or write to
    read), and that folder's path (share/…/folder). A group that already has a right on the
    leaf has one on every folder above it, so only that folder's ACL (and its files') change.
    (A leaf without any group right gets read for a first group: its parents then change too,
    gaining a traverse entry.)"""
    changed = json.loads(json.dumps(data))
    display_names = {group["name"]: group["display_name"] for group in desired["groups"]}
    for share, compiled in zip(changed["shares"], desired["shares"], strict=True):
        leaves = _leaves(share, (share["name"],))
        if not leaves:
            continue
        folder, path = leaves[0]
        relative = path.split("/", 1)[1]
        entries = next(item["entries"] for item in compiled["folders"]
                       if item["path"] == relative)
        access = folder.setdefault("access", {})
        flip = {"read": "write", "write": "read"}
        granted = [entry for entry in entries
                   if entry["kind"] == "group" and entry["level"] in flip]
        if granted:
            access[display_names[granted[0]["name"]]] = flip[granted[0]["level"]]
        else:
            access[desired["groups"][0]["display_name"]] = "read"
        return changed, path
    raise ValueError("the spec has no folder below a share root")


def machine() -> dict[str, Any]:
    """Describe the machine without naming it (bench_spec's description, same keys)."""
    description: dict[str, Any] = load_spec_generator().machine()
    description["load_average_at_start"] = description.pop("load_average")
    return description


def code_state(repository: Path = HERE.parents[1]) -> dict[str, Any]:
    """Return a fingerprint of what an apply runs (src, plugins, roles, playbooks, ansible.cfg:
    paths, sizes, modification times) and its newest change: the tree is shared and may change
    during a run, and the report must say so."""
    digest, newest = hashlib.sha256(), 0.0
    paths = [repository / "ansible.cfg"]
    for top in ("src", "plugins", "roles", "playbooks"):
        paths += sorted(path for path in (repository / top).rglob("*")
                        if path.is_file() and "__pycache__" not in path.parts
                        and ".egg-info" not in str(path))
    for path in paths:
        status = path.stat()
        digest.update(f"{path.relative_to(repository)}\0{status.st_size}\0"
                      f"{status.st_mtime_ns}\n".encode())
        newest = max(newest, status.st_mtime)
    return {"fingerprint": digest.hexdigest()[:16], "newest_change": time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(newest))}

