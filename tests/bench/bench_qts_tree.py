"""Benchmark of the QTS data plane (not a pytest test): run as root on an ACL-capable file system.

    .venv/bin/python tests/bench/bench_qts_tree.py [--base DIR] [--folders 2000] [--files 100000]

The same share as bench_tree.py (managed folders holding plain files), converged by the QTS
data plane's scripts (nasops.qts.folder_tree) run by this machine's own sh, find, getfacl
and setfacl: the transport is the only stand-in (no SSH, so no network and no NAS CPU). Times
the first apply, a no-op plan (the read: two getfacl dumps per share, then the planning on
the controller), a no-op apply (the same read, nothing written) and a one-folder change,
against the floor `getfacl -R -p <tree>` in the same run. Results go to
tests/bench/results/qts-tree-<label>.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from nasops.qts.folder_scripts import local_shell
from nasops.qts.folder_tree import apply_folders, plan_folders

HERE = Path(__file__).resolve().parent
TARGET_RATIO = 3.0  # as the Debian tree engine's no-op converge


def bench_tree() -> ModuleType:
    """bench_tree.py's share, timing and floor helpers (one home for the tree it builds)."""
    specification = importlib.util.spec_from_file_location("bench_tree", HERE / "bench_tree.py")
    assert specification is not None and specification.loader is not None
    module = importlib.util.module_from_spec(specification)
    sys.modules["bench_tree"] = module
    specification.loader.exec_module(module)
    return module




def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=tempfile.gettempdir(), help="where to build the tree")
    parser.add_argument("--folders", type=int, default=2000)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="repeats of the warm measurements")
    parser.add_argument("--label", default="local")
    parser.add_argument("--output", type=Path, help="results file (default: results/qts-tree-"
                        "LABEL.json)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("run as root (ACLs on files owned by others)")
    tree = bench_tree()
    workdir = Path(tempfile.mkdtemp(prefix="nasops-bench-qts-", dir=args.base))
    root = workdir / "Partage"
    folders = tree.build_spec(args.folders)
    try:
        build_seconds, _ = tree.timed(lambda: tree.build_tree(root, folders, args.files))

        def shares(spec_folders: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{"name": "Partage", "path": str(root), "folders": spec_folders}]

        first_seconds, first = tree.timed(lambda: apply_folders(local_shell, shares(folders)))
        floor, floor_runs, _ = tree.best_of(args.runs, lambda: tree.getfacl_floor(root))
        plan, plan_runs, plan_result = tree.best_of(
            args.runs, lambda: plan_folders(local_shell, shares(folders)))
        noop, noop_runs, noop_done = tree.best_of(
            args.runs, lambda: apply_folders(local_shell, shares(folders)))
        changed = json.loads(json.dumps(folders))
        target = next(folder for folder in changed
                      if folder["path"].count("/") and folder["entries"][0]["level"] == "read")
        target["entries"][0]["level"] = "write"
        one_seconds, one = tree.timed(lambda: apply_folders(local_shell, shares(changed)))
        assert plan_result.changes() == [] and noop_done.words == []
        results = {
            "label": args.label,
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": {"kernel": platform.release(), "python": platform.python_version(),
                        "cpus": os.cpu_count(), "filesystem": tree.filesystem_of(root)},
            "transport": "this machine's sh (no SSH: a NAS's CPU and the network not counted)",
            "tree": {"managed_folders": len(folders), "files": args.files,
                     "build_seconds": round(build_seconds, 3)},
            "seconds": {"first_apply": round(first_seconds, 3),
                        "noop_plan": plan, "noop_plan_runs": plan_runs,
                        "noop_apply": noop, "noop_apply_runs": noop_runs,
                        "one_folder_change": round(one_seconds, 3),
                        "getfacl_floor": floor, "getfacl_floor_runs": floor_runs},
            "changes": {"first_apply": first.count, "one_folder_change": one.count},
            "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "noop_plan_over_floor": round(plan / floor, 2),
            "target_noop_plan_over_floor": TARGET_RATIO,
            "target_met": plan / floor <= TARGET_RATIO,
        }
    finally:
        shutil.rmtree(workdir)  # the benchmark's own mkdtemp tree, never a user's folder
    output = args.output or HERE / "results" / f"qts-tree-{args.label}.json"
    output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0 if results["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
