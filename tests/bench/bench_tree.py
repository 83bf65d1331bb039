"""Benchmark of the tree engine (not a pytest test): run as root on an ACL-capable file system.

    .venv/bin/python tests/bench/bench_tree.py [--base /srv/nas] [--folders 2000] [--files 100000]

Builds a share of managed folders holding plain files, then times the first converge (every ACL
written), a no-op re-converge, the same in check mode, and a one-folder change; the floor is
`getfacl -R -p <tree> > /dev/null`, timed in the same run on the same warm tree. Results go to
tests/bench/results/tree-<label>.json (label "local" unless --label).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
# Existing system accounts, so the benchmark creates none.
GROUPS = ("staff", "users", "mail")  # adm is the second entry of every folder
USERS = ("daemon", "bin")
LEVELS = ("write", "read", "traverse", "none")
TARGET_RATIO = 3.0


def load_tree_module() -> ModuleType:
    """Return the tree engine (the collection's module_utils/tree_engine.py)."""
    from ansible_collections.nasops.nas.plugins.module_utils import (  # noqa: PLC0415
        tree_engine,
    )
    return tree_engine


def build_spec(folder_count: int) -> list[dict[str, Any]]:
    """Given a number of managed folders, return a share's folders list: a root, then top
    folders of 50 children each, entries varied across levels, groups and users."""
    folders: list[dict[str, Any]] = [{"path": "", "renamed_from": None, "entries": [
        {"kind": "group", "name": "staff", "level": "write"},
        {"kind": "group", "name": "adm", "level": "traverse"}]}]
    top = 0
    while len(folders) < folder_count:
        name = f"Dossier {top:03d}"
        folders.append({"path": name, "renamed_from": None, "entries": [
            {"kind": "group", "name": GROUPS[top % 3], "level": "write"},
            {"kind": "group", "name": "adm", "level": "traverse"}]})
        for child in range(min(49, folder_count - len(folders))):
            entries = [{"kind": "group", "name": GROUPS[(top + child) % 3],
                        "level": LEVELS[child % 2]},
                       {"kind": "group", "name": "adm", "level": LEVELS[(child + 1) % 4]}]
            if child % 7 == 0:
                entries.append({"kind": "user", "name": USERS[child % 2], "level": "none"})
            folders.append({"path": f"{name}/Sous-dossier {child:02d}", "renamed_from": None,
                            "entries": entries})
        top += 1
    return folders


def build_tree(root: Path, folders: list[dict[str, Any]], file_count: int) -> None:
    """Create the folders and spread ``file_count`` small files over them (no ACLs yet)."""
    for folder in folders:
        (root / folder["path"]).mkdir(parents=True, exist_ok=True)
    per_folder, extra = divmod(file_count, len(folders))
    for index, folder in enumerate(folders):
        directory = root / folder["path"]
        for number in range(per_folder + (1 if index < extra else 0)):
            descriptor = os.open(directory / f"fichier-{number:04d}.odt",
                                 os.O_CREAT | os.O_WRONLY, 0o644)
            os.write(descriptor, b"x" * 64)
            os.close(descriptor)


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    outcome = action()
    elapsed = time.perf_counter() - start
    print(f"  {elapsed:8.3f} s", file=sys.stderr)
    return elapsed, outcome


def best_of(runs: int, action: Callable[[], Any]) -> tuple[float, list[float], Any]:
    """Run ``action`` several times; return (median seconds, all seconds, last outcome)."""
    seconds, outcome = [], None
    for _ in range(runs):
        elapsed, outcome = timed(action)
        seconds.append(round(elapsed, 3))
    return statistics.median(seconds), seconds, outcome


def getfacl_floor(root: Path) -> None:
    with open(os.devnull, "w", encoding="utf-8") as sink:
        subprocess.run(["getfacl", "-R", "-p", str(root)], stdout=sink, check=True)


def filesystem_of(path: Path) -> str:
    return subprocess.run(["stat", "-f", "-c", "%T", str(path)], capture_output=True,
                          text=True, check=True).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=tempfile.gettempdir(), help="where to build the tree")
    parser.add_argument("--folders", type=int, default=2000)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="repeats of the warm measurements")
    parser.add_argument("--label", default="local")
    parser.add_argument("--keep", action="store_true", help="keep the generated tree")
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("run as root (ACLs on files owned by others, xattrs, chown)")
    tree = load_tree_module()
    workdir = Path(tempfile.mkdtemp(prefix="nasops-bench-", dir=args.base))
    share = workdir / "Partage"
    spec = build_spec(args.folders)
    try:
        build_seconds, _ = timed(lambda: build_tree(share, spec, args.files))

        def converge(folders: list[dict[str, Any]], check: bool = False) -> dict[str, Any]:
            return tree.Converger(str(share), folders, check_mode=check).run()

        first_seconds, first = timed(lambda: converge(spec))
        floor, floor_runs, _ = best_of(args.runs, lambda: getfacl_floor(share))
        noop, noop_runs, noop_result = best_of(args.runs, lambda: converge(spec))
        check, check_runs, check_result = best_of(args.runs, lambda: converge(spec, True))
        changed_spec = json.loads(json.dumps(spec))
        # One sub-folder: a group goes from read to write (its files are rewritten too).
        changed = next(folder for folder in changed_spec
                       if folder["path"].count("/") and folder["entries"][0]["level"] == "read")
        changed["entries"][0]["level"] = "write"
        one_seconds, one = timed(lambda: converge(changed_spec))
        floor_after, _, _ = best_of(args.runs, lambda: getfacl_floor(share))
        assert not noop_result["changed"] and noop_result["counts"]["acl_written"] == 0
        assert not check_result["changed"]
        counts = first["counts"]
        results = {
            "label": args.label,
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": {"kernel": platform.release(), "python": platform.python_version(),
                        "cpus": os.cpu_count(), "filesystem": filesystem_of(share)},
            "tree": {"managed_folders": counts["managed"], "folders": counts["folders"],
                     "files": counts["files"], "build_seconds": round(build_seconds, 3)},
            "seconds": {
                "first_converge": round(first_seconds, 3),
                "noop_converge": noop, "noop_converge_runs": noop_runs,
                "noop_check_mode": check, "noop_check_mode_runs": check_runs,
                "one_folder_change": round(one_seconds, 3),
                "getfacl_floor": floor, "getfacl_floor_runs": floor_runs,
                "getfacl_floor_after": floor_after,
            },
            "changed_folder": changed["path"],
            "acl_written": {"first_converge": counts["acl_written"],
                            "one_folder_change": one["counts"]["acl_written"]},
            "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "noop_over_floor": round(noop / floor, 2),
            "target_noop_over_floor": TARGET_RATIO,
            "target_met": noop / floor <= TARGET_RATIO,
        }
    finally:
        if not args.keep:
            print("removing the tree (slow with ext4 'discard')", file=sys.stderr)
            shutil.rmtree(workdir)
    output = HERE / "results" / f"tree-{args.label}.json"
    output.parent.mkdir(exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0 if results["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
