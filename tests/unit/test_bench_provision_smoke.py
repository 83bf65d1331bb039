"""The provisioning benchmark's generators at a tiny size, so that the script cannot rot.

tests/bench/bench_provision.py needs root and a lab NAS; here only what it generates is
checked: the spec (valid, sync left out), the one-folder change, the per-item playbook and its
loops, the subset, the result parsing, the ratios and targets of issue 18, the process-tree RSS
sum (over a fake /proc and a real child), the tree walk script (run here on a temporary tree)
and the report.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
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
    root = desired["organizations"][0]["root"]
    assert len(folders) == 30 and all(folder.startswith(root) for folder in folders)
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


def test_change_count(bench: ModuleType) -> None:
    assert bench.change_count("2714 changes on bench (accounts 634)\n") == 2714
    assert bench.change_count("1 change on bench (ACL entries 1)\n") == 1
    assert bench.change_count("bench: no changes: the NAS already matches the spec\n") == 0


def test_parse_sizes(bench: ModuleType) -> None:
    assert bench.parse_sizes("2000x100000, 6000X300000") == [(2000, 100000), (6000, 300000)]
    for bad in ("2000", "2000x", "x100", "2000x1e5"):
        with pytest.raises(argparse.ArgumentTypeError, match="FOLDERSxFILES"):
            bench.parse_sizes(bad)


def _stat_line(pid: int, name: str, parent: int, rss_pages: int, state: str = "S") -> str:
    # Fields after comm: state ppid pgrp session tty tpgid flags minflt cminflt majflt
    # cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime vsize rss
    return (f"{pid} ({name}) {state} {parent} 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 "
            f"4096 {rss_pages} 0 0\n")


def test_tree_rss_sums_descendants_of_a_fake_proc(tmp_path: Path) -> None:
    memory = _load_part("provision_memory")
    # 100: the benchmark; 200 nasops > 300 ansible-playbook > 400 fork; 500 an adopted ssh
    # master; 600 someone else's process; a comm with spaces and parentheses.
    processes = [(100, "python3", 1, 5000), (200, "nasops", 100, 10),
                 (300, "ansible-playbook", 200, 20), (400, "a (b) c", 300, 30),
                 (500, "ssh", 100, 40), (600, "smbd", 1, 7000)]
    for pid, name, parent, rss in processes:
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(_stat_line(pid, name, parent, rss))
    (tmp_path / "self").mkdir()  # not a PID
    (tmp_path / "700").mkdir()  # vanished: no stat
    table = memory.process_table(tmp_path)
    assert sorted(table) == [100, 200, 300, 400, 500, 600]
    assert table[400].parent == 300 and table[400].state == "S"
    assert memory.descendants(table, 100) == {200, 300, 400, 500}
    assert memory.tree_rss(table, 100) == (10 + 20 + 30 + 40) * memory.PAGE_SIZE
    assert memory.tree_rss(table, 300) == 30 * memory.PAGE_SIZE
    assert memory.megabytes(123_456_789) == 123.5


def test_pss_is_read_from_smaps_rollup(tmp_path: Path) -> None:
    memory = _load_part("provision_memory")
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "smaps_rollup").write_text(
        "00400000-7fff [rollup]\nRss:              81920 kB\nPss:              40960 kB\n")
    assert memory.pss_bytes(7, tmp_path) == 40960 * 1024
    assert memory.pss_bytes(8, tmp_path) == 0  # gone


def test_peak_sampler_sees_a_real_child() -> None:
    # In a fresh process: a test worker may have other children (a session's lab hosts),
    # which the sampler would rightly count as its descendants too.
    program = (
        "import importlib.util, subprocess, sys\n"
        "spec = importlib.util.spec_from_file_location('memory', sys.argv[1])\n"
        "memory = importlib.util.module_from_spec(spec); sys.modules['memory'] = memory\n"
        "spec.loader.exec_module(memory)\n"
        "child = 'import time; block = bytearray(80_000_000); time.sleep(0.6)'\n"
        "with memory.PeakSampler() as sampler:\n"
        "    subprocess.run([sys.executable, '-c', child], check=True)\n"
        "print(sampler.samples, memory.megabytes(sampler.peak_bytes),"
        " memory.megabytes(sampler.peak_pss_bytes))\n")
    done = subprocess.run([sys.executable, "-c", program,
                           str(SCRIPT.parent / "provision_memory.py")],
                          capture_output=True, text=True, check=True)
    samples, peak, pss = done.stdout.split()
    assert 0 < float(pss) <= float(peak)
    assert int(samples) >= 3
    assert 80 <= float(peak) < 400


def test_walk_script_runs_the_tree_engine(tmp_path: Path,
                                          tiny: tuple[dict[str, Any], Path]) -> None:
    walk = _load_part("provision_walk")
    desired = compile_spec(load_spec(tiny[1]).spec)
    for share in desired["shares"]:  # a tree that does not exist: every folder is missing
        share["path"] = str(tmp_path / "nas" / share["name"])
    files = walk.staged_files(desired)
    assert "ansible_collections/__init__.py" in files
    assert f"{walk.PACKAGE}/__init__.py" in files and f"{walk.PACKAGE}/tree_engine.py" in files
    staged = subprocess.run([sys.executable, "-c", walk.STAGE_SCRIPT], check=True, text=True,
                            input=json.dumps({"files": files}), capture_output=True)
    directory = staged.stdout.strip()
    try:
        done = subprocess.run([sys.executable, "-c", walk.WALK_SCRIPT, directory], check=True,
                              capture_output=True, text=True)
    finally:
        subprocess.run(["rm", "-rf", "--", directory], check=True)
    report = walk.parse_walk(done.stdout)
    assert report["changes"] == 30 and report["shares"] == len(desired["shares"])
    assert not (tmp_path / "nas").exists()  # check mode
    with pytest.raises(RuntimeError, match="walk failed"):
        walk.parse_walk('{"errors": ["refused: x"], "changes": 0}\n')


def _size(folders: int, files: int, *, noop: float, walk: float, one_folder: float,
          peak: float) -> dict[str, Any]:
    return {
        "date": "2026-01-01T00:00:00+00:00", "ansible_dir": str(SCRIPT.parents[2]),
        "spec": {"users": 8, "groups": 4, "shares": 1, "folders": folders,
                 "acl_entries": 3 * folders, "files": files, "changed_folder": "A/B",
                 "desired_state_json_bytes": 500_000},
        "tree": {"directories": folders + 1, "files": files},
        "seconds": {"first_apply": 60.0, "apply_after_files": 20.0, "noop_apply_1": noop,
                    "noop_apply": noop, "one_folder_change": one_folder, "floor_walk": walk,
                    "floor_walk_runs": [walk], "floor_getfacl": 4 * walk,
                    "floor_getfacl_runs": [4 * walk]},
        "changes": {"first_apply": 100, "noop_apply_1": 0},
        "load_average": {"first_apply": 2.0, "noop_apply_1": 3.5},
        "load_average_end": {"first_apply": 2.5, "noop_apply_1": 3.0},
        "peak_rss_mb": {"first_apply": peak, "noop_apply_1": peak - 10},
        "peak_pss_mb": {"first_apply": peak - 40, "noop_apply_1": peak - 50},
        "walk": {"engine_seconds": [walk - 0.5], "changes": [0], "counts": {}},
        "noop_breakdown_seconds": {"nas_shares": 3.0}, "roles": ["nas_base", "nas_shares"],
    }


def test_ratios_growth_targets_and_report(bench: ModuleType) -> None:
    small = _size(2000, 100_000, noop=9.0, walk=2.0, one_folder=11.5, peak=140.0)
    large = _size(6000, 300_000, noop=14.0, walk=5.0, one_folder=18.0, peak=160.0)
    for size in (small, large):
        bench.add_ratios(size)
    assert small["ratios"] == {"noop_over_walk": 4.5, "noop_over_getfacl": 1.12,
                               "noop_minus_2x_walk_plus_5_s": 0.0,
                               "one_folder_minus_noop": 2.5, "peak_rss_mb": 140.0,
                               "noop_peak_rss_mb": 130.0, "peak_pss_mb": 100.0,
                               "noop_peak_pss_mb": 90.0}
    assert small["targets"] == {"noop_within_2x_walk_plus_5_s": True,
                                "one_folder_within_noop_plus_3_s": True,
                                "peak_rss_within_150_mb": None,  # set at 6000 folders
                                "peak_pss_within_150_mb": None}
    assert large["targets"] == {"noop_within_2x_walk_plus_5_s": True,
                                "one_folder_within_noop_plus_3_s": False,
                                "peak_rss_within_150_mb": False,
                                "peak_pss_within_150_mb": True}
    results: dict[str, Any] = {
        "date": "2026-01-01T00:00:00+00:00", "repeat": 1, "sizes": [large, small],
        "machine": {"cpus": 2, "cpu": "x", "kernel": "6", "python": "3.11",
                    "load_average_at_start": [1.0, 1.0, 1.0]},
        "notes": ["A note."]}
    bench.add_growth(results)
    assert results["growth"] == [{
        "from": "2000x100000", "to": "6000x300000", "noop_seconds_per_1000_folders": 1.25,
        "walk_seconds_per_1000_folders": 0.75,
        "noop_minus_2x_walk_seconds_per_1000_folders": -0.25,
        "one_folder_seconds_per_1000_folders": 1.62}]
    assert results["targets"]["2000x100000 to 6000x300000: "
                              "noop_growth_under_1_s_per_1000_folders"] is False
    assert results["targets"]["2000x100000: peak_rss_within_150_mb"] is None
    results["caveats"] = bench.caveats(results)
    report = bench.markdown(results)
    assert ("| 6,000 / 300,000 | 60.0 | 20.0 | 14.0 | 18.0 | 5.0 | 20.0 | 2.8× | -1.0 | +4.0 "
            "| 150 / 160 | 110 / 120 | 3.5 |") in report
    assert "- 2000x100000: peak rss within 150 mb: n/a" in report
    assert "- 6000x300000: one folder within noop plus 3 s: MISSED" in report
    assert "- 2000x100000 → 6000x300000: no-op +1.25 s per 1000 folders" in report
    assert "| noop apply 1 | 14.0 | 0 | 150.0 / 110.0 | 3.5 → 3.0 |" in report
    assert "## 6,000 folders / 300,000 files" in report and "## 2,000 folders" in report
    assert report.endswith("- A note.\n")


def _load_part(name: str) -> ModuleType:
    specification = importlib.util.spec_from_file_location(name, SCRIPT.parent / f"{name}.py")
    assert specification is not None and specification.loader is not None
    module = importlib.util.module_from_spec(specification)
    # Registered first: its dataclasses look their module up while they are made (the test
    # failed when run alone, passing only after another test had registered it).
    sys.modules[name] = module
    specification.loader.exec_module(module)
    return module
