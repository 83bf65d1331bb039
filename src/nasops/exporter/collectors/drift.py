"""The last apply and the last drift check, read from their records on each scrape."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.core import Metric

from nasops.exporter.collectors.base import Gathered, SourceCollector, gauge, single_gauge
from nasops.exporter.run_records import (
    APPLY_FILE,
    DRIFT_FILE,
    RecordError,
    read_apply_record,
    read_drift_record,
)


class DriftCollector(SourceCollector):
    """Exports nasops_apply_* and nasops_drift_* from apply.json and drift.json.

    A missing record is not a failure (no apply or check has run yet); a corrupt one is.
    """

    name = "drift"

    def __init__(self, state_directory: str | Path) -> None:
        self.state_directory = Path(state_directory)

    def gather(self) -> Gathered:
        """Read both records (two small files) and return their families."""
        families: list[Metric] = []
        problems: list[str] = []
        try:
            apply = read_apply_record(self.state_directory / APPLY_FILE)
        except RecordError as error:
            problems.append(str(error))
            apply = None
        if apply is not None:
            # A running record (an apply now, or one that died with its NAS) has no end yet:
            # it shows as running, with its start, and NasopsApplyStuck alerts when it lasts.
            families.append(single_gauge("nasops_apply_running",
                                         "1 while the apply record says running.",
                                         float(apply.result == "running")))
            if apply.started_at is not None:
                families.append(single_gauge("nasops_apply_last_start_timestamp_seconds",
                                             "When the last apply started.", apply.started_at))
        if apply is not None and apply.finished_at is not None:
            families += [
                single_gauge("nasops_apply_last_timestamp_seconds",
                             "When the last apply finished.", apply.finished_at),
                single_gauge("nasops_apply_last_success",
                             "1 if the last apply succeeded, 0 if it failed or was refused.",
                             float(apply.result == "success")),
                single_gauge("nasops_apply_last_changed_items",
                             "Items the last apply changed.", apply.changed_items),
            ]
        try:
            drift = read_drift_record(self.state_directory / DRIFT_FILE)
        except RecordError as error:
            problems.append(str(error))
            drift = None
        if drift is not None:
            families += [
                single_gauge("nasops_drift_check_last_timestamp_seconds",
                             "When the last read-only drift check ran.", drift.checked_at),
                single_gauge("nasops_drift_check_last_success",
                             "1 if the last drift check could compare the NAS with the spec.",
                             float(drift.result != "error")),
            ]
            if drift.result != "error":
                families += [
                    single_gauge("nasops_drift_items",
                                 "Items that differ from the spec at the last drift check.",
                                 drift.drifted_items),
                    gauge("nasops_drift_items_by_kind",
                          "Drifted items by kind (acl, user, group, share, quota, …).",
                          ["kind"], (([kind], count) for kind, count
                                     in sorted(drift.drifted_by_kind.items()))),
                ]
        return Gathered(families, problems)
