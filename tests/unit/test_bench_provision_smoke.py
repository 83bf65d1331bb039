"""The provisioning benchmark's generators at a tiny size, so that the script cannot rot.

tests/bench/bench_provision.py needs root and a lab NAS; here only what it generates is
checked: the spec (valid, sync left out), the one-folder change, the per-item playbook and its
loops, the subset, the result parsing and the report.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from nasops.compile import compile_spec
from nasops.spec import load_spec

SCRIPT = Path(__file__).parents[1] / "bench" / "bench_provision.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    specification = importlib.util.spec_from_file_location("bench_provision", SCRIPT)
    assert specification is not None and specification.loader is not None
    module = importlib.util.module_from_spec(specification)
    sys.modules["bench_provision"] = module
    specification.loader.exec_module(module)
    return module


@pytest.fixture
def tiny(bench: ModuleType, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    data = bench.generate_spec(users=8, groups=4, folders=30)
    path = tmp_path / "bench.yml"
    bench.write_spec(data, path)
    return data, path


def test_spec_validates_without_sync(bench: ModuleType, tiny: tuple[dict[str, Any], Path]) -> None:
    data, path = tiny
    loaded = load_spec(path)
    assert (len(loaded.spec.users), len(loaded.spec.groups)) == (8, 4)
    desired = compile_spec(loaded.spec)
    assert sum(len(share["folders"]) for share in desired["shares"]) == 30
    assert not any(share["sync"] for share in desired["shares"])
    assert not any("devices" in person for person in data["users"])
    assert bench.generate_spec(users=8, groups=4, folders=30) == data  # repeatable


@pytest.mark.parametrize("size", [(8, 4, 30), (20, 5, 80), (300, 40, 2000)])
def test_one_folder_change_changes_one_folder(bench: ModuleType, tmp_path: Path,
                                              size: tuple[int, int, int]) -> None:
    data = bench.generate_spec(*size)
    path = tmp_path / "bench.yml"
    bench.write_spec(data, path)
    before = compile_spec(load_spec(path).spec)
    changed, folder = bench.change_one_folder(data, before)
    changed_path = tmp_path / "changed.yml"
    bench.write_spec(changed, changed_path)
    after = compile_spec(load_spec(changed_path).spec)
    share_name, _, relative = folder.partition("/")
    differing = [(share["name"], old["path"])
                 for share, new_share in zip(before["shares"], after["shares"], strict=True)
                 for old, new in zip(share["folders"], new_share["folders"], strict=True)
                 if old != new]
    assert differing == [(share_name, relative)]


def test_per_item_loops_and_playbook(bench: ModuleType, tiny: tuple[dict[str, Any], Path],
                                     tmp_path: Path) -> None:
    _, path = tiny
    desired = compile_spec(load_spec(path).spec)
    folders, entries = bench.per_item_items(desired)
    all_entries = [entry for share in desired["shares"] for folder in share["folders"]
                   for entry in folder["entries"]]
    assert len(folders) == 30 and all(folder.startswith(desired["root"]) for folder in folders)
    assert len([entry for entry in entries if not entry["default"]]) == len(all_entries)
    assert len([entry for entry in entries if entry["default"]]) == len(
        [entry for entry in all_entries if entry["level"] != "traverse"])
    assert {entry["permissions"] for entry in entries} <= {"rwx", "r-x", "---"}

    subset_folders, subset_entries = bench.subset_items(folders, entries, 0.2)
    assert len(subset_folders) == 6
    assert {entry["path"] for entry in subset_entries} <= set(subset_folders)
    assert bench.subset_items(folders, entries, 0.2) == (subset_folders, subset_entries)

    config, playbook, variables = bench.write_per_item_project(tmp_path / "per-item",
                                                               subset_folders, subset_entries)
    plays = yaml.safe_load(playbook.read_text(encoding="utf-8"))
    modules = [next(key for key in task if "." in key) for task in plays[0]["tasks"]]
    assert modules == ["ansible.builtin.file", "ansible.posix.acl"]
    assert json.loads(variables.read_text(encoding="utf-8"))["per_item_folders"] == subset_folders
    assert "ControlPersist" in config.read_text(encoding="utf-8")


def test_change_count_and_report(bench: ModuleType) -> None:
    assert bench.change_count("2714 changes on bench (accounts 634)\n") == 2714
    assert bench.change_count("1 change on bench (ACL entries 1)\n") == 1
    assert bench.change_count("bench: no changes: the NAS already matches the spec\n") == 0
    results: dict[str, Any] = {
        "date": "2026-01-01T00:00:00+00:00",
        "machine": {"cpus": 2, "cpu": "x", "kernel": "6", "python": "3.11",
                    "load_average_at_start": [1.0, 1.0, 1.0]},
        "spec": {"users": 8, "groups": 4, "shares": 1, "folders": 30, "acl_entries": 90,
                 "files": 100, "changed_folder": "A/B"},
        "tree": {"directories": 30, "files": 100},
        "seconds": {"first_apply": 60.0, "apply_after_files": 20.0, "noop_apply_1": 10.0,
                    "noop_apply": 10.0, "one_folder_change": 12.0, "floor_getfacl": 5.0},
        "changes": {"first_apply": 100, "noop_apply_1": 0},
        "load_average": {"first_apply": 2.0},
        "noop_breakdown_seconds": {"nas_shares": 3.0},
        "roles": ["nas_base", "nas_shares"],
        "ansible_dir": "/elsewhere",
        "compare": {"before": {"roles": ["nas_base"], "noop_apply": 30.0,
                               "noop_apply_runs": [30.0], "load_average": [1.0]}},
        "per_item": {"seconds": 600.0, "extrapolated": True, "measured_seconds": 70.0,
                     "subset_folders": 3, "total_folders": 30, "subset_items": 30,
                     "total_items": 300, "subset_fraction_of_folders": 0.1,
                     "startup_seconds": 3.0},
        "notes": ["Why another Ansible side."],
    }
    bench.add_ratios(results)
    assert results["ratios"] == {"noop_over_floor": 2.0, "per_item_over_noop": 60.0,
                                 "per_item_over_first_apply": 10.0}
    assert all(results["targets"].values())
    results["caveats"] = bench.caveats(results)
    report = bench.markdown(results)
    assert "extrapolated from 3 of 30 folders" in report and "MISSED" not in report
    assert "| before | nas_base | 30.0 |" in report
    assert "ran the Ansible side in /elsewhere (roles: nas_base, nas_shares)" in report
    assert report.endswith("- Why another Ansible side.\n")
