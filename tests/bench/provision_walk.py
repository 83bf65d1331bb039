"""The floor of tests/bench/bench_provision.py (issue 18): the collection's tree engine walking
every share in check mode on the NAS, over one ssh call, as `nasops.nas.tree` does in a no-op
apply (the one full read a no-op needs), without Ansible around it.

The engine's module_utils (tree_engine, acl, forget, tree_plan; they import each other as
`ansible_collections.nasops.nas.plugins.module_utils.X`) and the desired state's shares are
staged once in a temporary directory on the NAS; each timed run is then
`ssh … python3 -c WALK_SCRIPT <directory>`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[2]
MODULE_UTILS = REPOSITORY / "plugins" / "module_utils"
ENGINE_FILES = ("tree_engine.py", "acl.py", "forget.py", "tree_plan.py")
PACKAGE = "ansible_collections/nasops/nas/plugins/module_utils"

# Runs on the NAS, reading a JSON {"files": {relative path: text}} on stdin: writes them in a
# new temporary directory and prints its path.
STAGE_SCRIPT = r"""
import json, os, sys, tempfile
staged = json.load(sys.stdin)
directory = tempfile.mkdtemp(prefix="nasops-bench-walk-", dir="/var/tmp")
for relative, text in staged["files"].items():
    path = os.path.join(directory, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as stream:
        stream.write(text)
print(directory)
"""

# Runs on the NAS: the same call the tree module makes for a no-op apply (converge_shares in
# check mode), on the staged shares; prints what it found and its own time.
WALK_SCRIPT = r"""
import json, sys, time
directory = sys.argv[1]
sys.path.insert(0, directory)
started = time.perf_counter()
from ansible_collections.nasops.nas.plugins.module_utils.tree_engine import converge_shares
with open(directory + "/shares.json") as stream:
    shares = json.load(stream)
result, errors = converge_shares(shares, check_mode=True)
print(json.dumps({"seconds": time.perf_counter() - started, "errors": errors,
                  "changes": len(result["changes"]) + result["changes_truncated"],
                  "counts": result["counts"], "shares": len(shares)}))
"""


def staged_files(desired: dict[str, Any], module_utils: Path = MODULE_UTILS) -> dict[str, str]:
    """Given the compiled desired state, return the files to stage on the NAS: the engine as
    a regular package (an `__init__.py` at each level, so that no other `ansible_collections`
    on the NAS's path can shadow it) and the shares as the module receives them."""
    files = {f"{PACKAGE}/{name}": (module_utils / name).read_text(encoding="utf-8")
             for name in ENGINE_FILES}
    parts = PACKAGE.split("/")
    for depth in range(1, len(parts) + 1):
        files["/".join(parts[:depth]) + "/__init__.py"] = ""
    shares = [{"path": share["path"], "folders": share["folders"],
               "renamed_from": share.get("renamed_from")} for share in desired["shares"]]
    files["shares.json"] = json.dumps(shares)
    return files


def parse_walk(output: str) -> dict[str, Any]:
    """Given WALK_SCRIPT's output, return its report; raise if the engine reported errors."""
    report: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    if report["errors"]:
        raise RuntimeError(f"the tree engine's walk failed: {report['errors'][:3]}")
    return report
