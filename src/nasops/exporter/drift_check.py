"""The read-only drift check run on the NAS by `nasops-drift-check.timer`; writes drift.json.

It compares every share's folder tree and POSIX ACLs with the desired state the trees were
last converged to, which `nasops.nas.tree` keeps in `/etc/nasops/desired.json` (module_utils
desired_copy), using the very comparison the
`nasops.nas.tree` module makes in check mode: the collection's tree engine (module_utils),
which the nasops release carries. Nothing is written but the record; the unit also mounts
the volume read-only.

What it does not compare (users, groups, memberships, quotas, Samba share sections) is left to
`nasops drift` from the controller; the record's message says so.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from ansible_collections.nasops.nas.plugins.module_utils.desired_copy import DESIRED_COPY
from ansible_collections.nasops.nas.plugins.module_utils.tree_engine import Converger, TreeError

from nasops.exporter.run_records import DriftRecord

DEFAULT_DESIRED = DESIRED_COPY
SCOPE = ("folder trees and ACLs only; users, groups, quotas and Samba shares are compared "
         "by `nasops drift` from the controller")


class DriftCheckError(Exception):
    """The check could not run (engine or desired state unusable); the record says why."""


def compare_shares(desired: Mapping[str, Any]) -> tuple[Counter[str], int]:
    """Given the desired state, return drifted items by kind and the
    number of shares compared; raise DriftCheckError if a share cannot be read."""
    by_kind: Counter[str] = Counter()
    shares = desired.get("shares")
    if not isinstance(shares, list):
        raise DriftCheckError("the desired state has no `shares` list")
    for share in shares:
        try:
            converger = Converger(share["path"], share["folders"],
                                         share.get("renamed_from"), check_mode=True)
            result = converger.run()
        except (TreeError, OSError, KeyError, TypeError) as error:
            name = share.get("name", "?") if isinstance(share, Mapping) else "?"
            raise DriftCheckError(f"share {name}: {error}") from error
        for change in result["changes"]:
            by_kind[str(change.get("kind", "unknown"))] += 1
        # Changes beyond the module's cap are counted but not listed: keep them in the total.
        if result.get("changes_truncated"):
            by_kind["unlisted"] += int(result["changes_truncated"])
    return by_kind, len(shares)


def check_drift(desired: Mapping[str, Any], *, clock: Any = time.time) -> DriftRecord:
    """Given the desired state, return the drift record (result `error` with the reason when
    the check itself fails; never raises DriftCheckError)."""
    try:
        by_kind, share_count = compare_shares(desired)
    except DriftCheckError as error:
        return DriftRecord(checked_at=clock(), result="error", message=str(error))
    total = sum(by_kind.values())
    return DriftRecord(
        checked_at=clock(), result="drift" if total else "clean", drifted_items=total,
        drifted_by_kind=dict(sorted(by_kind.items())),
        message=f"compared {share_count} share(s): {SCOPE}")
