"""Simulated QTS (our reading): the live check's procedure (tests/qts/live_check.py) on the
simulated service. Proves the procedure — nasopstest-* resources only, each step's exit
code, everything it made removed and read back, the evidence record — not that a real
QNAP passes it: that is tests/qts/live/ on a real NAS (docs/qts.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from live_check import PREFIX, LiveTarget, run_live_check
from qts_hosts import PASSWORD, SimulatedHost

pytestmark = pytest.mark.qts_simulated


def test_simulated_qts_live_check_leaves_the_nas_as_it_found_it(
        simulated_qts: SimulatedHost, tmp_path: Path) -> None:
    nas = simulated_qts.nas
    nas.advanced_folder_permissions = True
    before = (dict(nas.users), dict(nas.groups), dict(nas.shares), dict(nas.rights),
              {group: list(members) for group, members in nas.members.items()})
    work = tmp_path / "work"
    work.mkdir()
    document = run_live_check(
        LiveTarget("127.0.0.1", simulated_qts.port, simulated_qts.pin, "admin", PASSWORD),
        work, tmp_path / "evidence", tier="simulated", say=lambda _line: None)
    assert document["passed"] and document["tier"] == "simulated"
    assert document["model"] == "nasops-simulated"
    assert [step["step"] for step in document["steps"]][:3] == [
        "no nasopstest-* on the NAS before", "secrets init", "plan"]
    assert document["cleanup"][0]["removed"] == [
        "nasopstest-ana", "nasopstest-ben", "nasopstest-team", "nasopstest-moved"]
    # Only nasopstest-* was ever written; the NAS is back as it was.
    assert (nas.users, nas.groups, nas.shares, nas.rights, nas.members) == before
    written = [fields for path, fields in nas.requests if "action" in fields]
    assert written  # the check did write (and every write named only nasopstest-*)
    [record] = (tmp_path / "evidence").glob("nasops-simulated-5.1.9-2954-20241120-*.json")
    assert json.loads(record.read_text(encoding="utf-8")) == document
    assert PASSWORD not in record.read_text(encoding="utf-8")


def test_simulated_qts_live_check_refuses_a_nas_with_leftovers(
        simulated_qts: SimulatedHost, tmp_path: Path) -> None:
    simulated_qts.nas.users[f"{PREFIX}-old"] = (4000, True)
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(AssertionError, match="remove these first: nasopstest-old"):
        run_live_check(
            LiveTarget("127.0.0.1", simulated_qts.port, simulated_qts.pin, "admin",
                       PASSWORD), work, tmp_path / "evidence", tier="simulated",
            say=lambda _line: None)
    # The clean-up still ran (it removes nasopstest-* whoever made them) and said so.
    [record] = (tmp_path / "evidence").glob("*.json")
    document = json.loads(record.read_text(encoding="utf-8"))
    assert document["passed"] is False and document["cleanup"][0]["left"] == []
