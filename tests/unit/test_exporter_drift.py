"""Apply and drift records: their schema round trip and the drift collector."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from exporter_samples import Samples, parse_samples, value
from prometheus_client import generate_latest

from nasops.exporter.collectors.drift import DriftCollector
from nasops.exporter.registry import GuardedCollectors, build_registry
from nasops.exporter.run_records import (
    ApplyRecord,
    DriftRecord,
    RecordError,
    read_apply_record,
    read_drift_record,
    write_apply_record,
    write_drift_record,
)


def drift_samples(directory: Path) -> Samples:
    registry = build_registry(GuardedCollectors([DriftCollector(directory)]),
                              process_metrics=False)
    return parse_samples(generate_latest(registry).decode())


def test_records_round_trip_through_their_files(tmp_path: Path) -> None:
    apply = ApplyRecord(finished_at=1714557600.5, result="success", changed_items=4,
                        started_at=1714557500.0, nasops_version="0.1.0")
    drift = DriftRecord(checked_at=1714561200.0, result="drift", drifted_items=3,
                        drifted_by_kind={"acl": 2, "user": 1})
    write_apply_record(tmp_path / "apply.json", apply)
    write_drift_record(tmp_path / "drift.json", drift)
    assert read_apply_record(tmp_path / "apply.json") == apply
    assert read_drift_record(tmp_path / "drift.json") == drift
    text = (tmp_path / "apply.json").read_text(encoding="utf-8")
    assert '"finished_at": "2024-05-01T10:00:00.500000Z"' in text


def test_unix_seconds_are_accepted_for_shell_writers(tmp_path: Path) -> None:
    (tmp_path / "apply.json").write_text(json.dumps(
        {"version": 1, "finished_at": 1714557600, "result": "refused"}), encoding="utf-8")
    record = read_apply_record(tmp_path / "apply.json")
    assert record is not None
    assert (record.finished_at, record.result) == (1714557600.0, "refused")


@pytest.mark.parametrize("document", [
    {"version": 2, "checked_at": 1, "result": "clean"},
    {"version": 1, "checked_at": "yesterday", "result": "clean"},
    {"version": 1, "checked_at": "2024-05-01T10:00:00", "result": "clean"},
    {"version": 1, "checked_at": 1, "result": "fine"},
    {"version": 1, "checked_at": 1, "result": "drift", "drifted_items": -1},
    {"version": 1, "checked_at": 1, "result": "drift", "drifted_by_kind": {"acl": "2"}},
    ["not", "an", "object"],
], ids=["version", "bad-time", "naive-time", "result", "negative", "kind-count", "list"])
def test_malformed_drift_records_are_refused(tmp_path: Path, document: object) -> None:
    (tmp_path / "drift.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(RecordError):
        read_drift_record(tmp_path / "drift.json")


def test_the_collector_exports_the_last_apply_and_drift_check(tmp_path: Path) -> None:
    write_apply_record(tmp_path / "apply.json",
                       ApplyRecord(finished_at=100.0, result="failure", changed_items=2))
    write_drift_record(tmp_path / "drift.json",
                       DriftRecord(checked_at=200.0, result="drift", drifted_items=3,
                                   drifted_by_kind={"acl": 2, "user": 1}))
    samples = drift_samples(tmp_path)
    assert value(samples, "nasops_collector_up", collector="drift") == 1
    assert value(samples, "nasops_apply_last_timestamp_seconds") == 100
    assert value(samples, "nasops_apply_last_success") == 0
    assert value(samples, "nasops_apply_last_changed_items") == 2
    assert value(samples, "nasops_drift_check_last_timestamp_seconds") == 200
    assert value(samples, "nasops_drift_check_last_success") == 1
    assert value(samples, "nasops_drift_items") == 3
    assert value(samples, "nasops_drift_items_by_kind", kind="acl") == 2


def test_a_failed_drift_check_exports_no_item_count(tmp_path: Path) -> None:
    write_drift_record(tmp_path / "drift.json",
                       DriftRecord(checked_at=200.0, result="error", message="ssh failed"))
    samples = drift_samples(tmp_path)
    assert value(samples, "nasops_drift_check_last_success") == 0
    assert value(samples, "nasops_drift_items") is None


def test_missing_records_are_not_a_failure_but_a_corrupt_one_is(tmp_path: Path) -> None:
    assert value(drift_samples(tmp_path), "nasops_collector_up", collector="drift") == 1
    write_drift_record(tmp_path / "drift.json", DriftRecord(checked_at=1.0, result="clean"))
    (tmp_path / "apply.json").write_text("{truncated", encoding="utf-8")
    samples = drift_samples(tmp_path)
    assert value(samples, "nasops_collector_up", collector="drift") == 0
    assert value(samples, "nasops_drift_items") == 0  # the readable record is still exported
