"""Live QTS: the live check (tests/qts/live_check.py) on a real QNAP (issue 15's live tier).

Never in CI: collected only when NASOPS_QTS_LIVE_HOST is set (tests/qts/conftest.py). It
writes nasopstest-* people, a group and a share only, reads each back, removes them (a
share's data is kept), and writes an evidence record (tests/qts/live-evidence/ unless
NASOPS_QTS_LIVE_EVIDENCE names another directory) to commit with the result:

    NASOPS_QTS_LIVE_HOST=192.0.2.10 NASOPS_QTS_LIVE_PIN=<sha256 of its certificate> \
    NASOPS_QTS_LIVE_PASSWORD_FILE=/root/qts-admin-password \
    .venv/bin/pytest -p no:cacheprovider tests/qts/live -s

Optional: NASOPS_QTS_LIVE_PORT (443), NASOPS_QTS_LIVE_USER (admin),
NASOPS_QTS_LIVE_VOLUME (/share/CACHEDEV1_DATA). Advanced Folder Permissions must be on and
Windows ACL off (`nasops qts probe` says so first).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from live_check import LiveTarget, run_live_check

EVIDENCE = Path(__file__).resolve().parents[1] / "live-evidence"


def test_live_qts_check(tmp_path: Path) -> None:
    environment = os.environ
    password_file = Path(environment["NASOPS_QTS_LIVE_PASSWORD_FILE"])
    if password_file.stat().st_mode & 0o077:
        pytest.fail(f"{password_file}: readable by others; chmod 600 it")
    target = LiveTarget(
        host=environment["NASOPS_QTS_LIVE_HOST"],
        port=int(environment.get("NASOPS_QTS_LIVE_PORT", "443")),
        pin=environment["NASOPS_QTS_LIVE_PIN"].replace(":", "").lower(),
        user=environment.get("NASOPS_QTS_LIVE_USER", "admin"),
        password=password_file.read_text(encoding="utf-8").rstrip("\n"),
        volume=environment.get("NASOPS_QTS_LIVE_VOLUME", "/share/CACHEDEV1_DATA"))
    evidence = Path(environment.get("NASOPS_QTS_LIVE_EVIDENCE", str(EVIDENCE)))
    document = run_live_check(target, tmp_path, evidence, tier="live")
    assert document["passed"]
