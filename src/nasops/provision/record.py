"""How an apply ended, as the NAS's /var/lib/nasops/apply.json records it (the exporter's
apply alerts read it). The lock's holder on the NAS is the record's one writer
(nasops.ansible.lock_holder); this says what it writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nasops.ansible import RunResult
from nasops.ansible.apply_lock import ApplyLocks


def apply_records(result: RunResult) -> dict[str, dict[str, Any]]:
    """Given the real run of an apply, return per host how it ended, as apply.json records
    it: success or failure (a failed task, or the host could not be reached), and the
    changes made."""
    if result.check_mode:
        return {}  # a check changes nothing, not even the record
    return {name: {"result": "failure" if host.failed else "success",
                   "changed_items": host.change_count}
            for name, host in result.hosts.items()}


def settle_record(locks: ApplyLocks, hosts: list[str],
                  applied: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    """After a no-op apply (holding the locks taken before its check), record `success` (0
    changes) where the last apply failed, was interrupted or never finished: the NAS matches
    its spec, and the apply alerts must say so. Where the last apply succeeded its record
    stays. Every host keeps the specs in applied (it matches them). Return the lock's
    warnings."""
    with locks:
        settled = [host for host, holder in locks.holders.items()
                   if (holder.previous or {}).get("result") != "success"]
        others = [host for host in hosts if host not in settled]
        if applied:
            locks.keep(applied, others)
        locks.let_go(others)
        if settled:
            locks.start()
            locks.finish({host: {"result": "success", "changed_items": 0} for host in settled},
                         applied)
    return list(locks.warnings)
