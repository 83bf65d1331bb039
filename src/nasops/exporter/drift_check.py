"""The read-only drift check run on the NAS by `nasops-drift-check.timer`; writes drift.json.

It compares every share's folder tree and POSIX ACLs with the last desired state the
nas_exporter role left in `/etc/nasops/desired.json`, using the very comparison `nasops_tree`
makes in check mode: the role copies the module and its module_utils next to the exporter,
and this loads them with a stand-in for `ansible.module_utils.basic` (the NAS has no Ansible).
Nothing is written but the record; the unit also mounts the volume read-only.

What it does not compare (users, groups, memberships, quotas, Samba share sections) is left to
`nasops drift` from the controller; the record's message says so.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import types
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nasops.exporter.run_records import DriftRecord

ENGINE_FILES = {"nasops_acl": "nasops_acl.py", "nasops_plan": "nasops_plan.py",
                "nasops_forget": "nasops_forget.py",
                "nasops_tree": "nasops_tree.py"}
DEFAULT_DESIRED = "/etc/nasops/desired.json"
DEFAULT_ENGINE = "/opt/nasops/tree-engine"
SCOPE = ("folder trees and ACLs only; users, groups, quotas and Samba shares are compared "
         "by `nasops drift` from the controller")


class DriftCheckError(Exception):
    """The check could not run (engine or desired state unusable); the record says why."""


@contextmanager
def _ansible_stand_ins(modules: Mapping[str, types.ModuleType]) -> Iterator[None]:
    """Make `from ansible.module_utils.X import …` find the given modules while loading."""
    names = {f"ansible.module_utils.{name}": module for name, module in modules.items()}
    if "ansible.module_utils.basic" not in sys.modules:
        basic = types.ModuleType("ansible.module_utils.basic")
        basic.AnsibleModule = None  # type: ignore[attr-defined]  # only main() uses it
        names["ansible.module_utils.basic"] = basic
    saved = {name: sys.modules.get(name) for name in names}
    sys.modules.update(names)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def load_tree_engine(directory: str | Path) -> Any:
    """Given the directory holding nasops_tree.py and its module_utils, return the module.

    Raise DriftCheckError if a file is missing or does not load.
    """
    loaded: dict[str, types.ModuleType] = {}
    for name, file_name in ENGINE_FILES.items():
        path = Path(directory) / file_name
        spec = importlib.util.spec_from_file_location(f"_nasops_drift_{name}", path)
        if spec is None or spec.loader is None or not path.is_file():
            raise DriftCheckError(f"{path}: missing (the nas_exporter role installs it)")
        module = importlib.util.module_from_spec(spec)
        # Registered under a private name: dataclasses look their module up while loading.
        sys.modules[spec.name] = module
        with _ansible_stand_ins(loaded):
            try:
                spec.loader.exec_module(module)
            except Exception as error:
                sys.modules.pop(spec.name, None)
                raise DriftCheckError(f"{path}: cannot load: {error}") from error
        loaded[name] = module
    return loaded["nasops_tree"]


def compare_shares(desired: Mapping[str, Any], engine: Any) -> tuple[Counter[str], int]:
    """Given the desired state and the tree engine, return drifted items by kind and the
    number of shares compared; raise DriftCheckError if a share cannot be read."""
    by_kind: Counter[str] = Counter()
    shares = desired.get("shares")
    if not isinstance(shares, list):
        raise DriftCheckError("the desired state has no `shares` list")
    for share in shares:
        try:
            converger = engine.Converger(share["path"], share["folders"],
                                         share.get("renamed_from"), check_mode=True)
            result = converger.run()
        except (engine.TreeError, OSError, KeyError, TypeError) as error:
            name = share.get("name", "?") if isinstance(share, Mapping) else "?"
            raise DriftCheckError(f"share {name}: {error}") from error
        for change in result["changes"]:
            by_kind[str(change.get("kind", "unknown"))] += 1
        # Changes beyond the module's cap are counted but not listed: keep them in the total.
        if result.get("changes_truncated"):
            by_kind["unlisted"] += int(result["changes_truncated"])
    return by_kind, len(shares)


def check_drift(desired: Mapping[str, Any], engine_directory: str | Path,
                *, clock: Any = time.time) -> DriftRecord:
    """Given the desired state and the engine directory, return the drift record (result
    `error` with the reason when the check itself fails; never raises DriftCheckError)."""
    try:
        engine = load_tree_engine(engine_directory)
        by_kind, share_count = compare_shares(desired, engine)
    except DriftCheckError as error:
        return DriftRecord(checked_at=clock(), result="error", message=str(error))
    total = sum(by_kind.values())
    return DriftRecord(
        checked_at=clock(), result="drift" if total else "clean", drifted_items=total,
        drifted_by_kind=dict(sorted(by_kind.items())),
        message=f"compared {share_count} share(s): {SCOPE}")
