"""Simulated QTS (our reading): the exporter's off-NAS QTS collector against the loopback
service (issue 15, docs/qts.md). Proves the collector's logic and its exposition (promtool
check metrics), not what a real QNAP reports."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from qts_hosts import PASSWORD, REPOSITORY, SimulatedHost

from nasops.exporter.collectors.qts import QtsCollector
from nasops.exporter.config import ExporterConfig
from nasops.exporter.registry import GuardedCollectors, build_collectors, build_registry

pytestmark = pytest.mark.qts_simulated


def _collector(host: SimulatedHost, password_file: Path) -> QtsCollector:
    config = ExporterConfig.model_validate({
        "quota": None, "samba": None, "drift": False, "backup_status_directory": None,
        "qts": {"name": "wsm-qnap", "host": "127.0.0.1", "port": host.port,
                "certificate_sha256": host.pin, "password_file": str(password_file)}})
    collectors = build_collectors(config)
    assert [collector.name for collector in collectors] == ["qts"]
    collector = collectors[0]
    assert isinstance(collector, QtsCollector)
    return collector


def _scrape(collector: QtsCollector) -> str:
    registry = build_registry(GuardedCollectors([collector]), process_metrics=False)
    return generate_latest(registry).decode()


def test_simulated_qts_collector_exports_usage_health_and_firmware(
        simulated_qts: SimulatedHost, tmp_path: Path) -> None:
    password_file = tmp_path / "qts-password"
    password_file.write_text(PASSWORD + "\n")
    simulated_qts.nas.usage = {"Afrique": 123_456_789, "Archives 2019": 42}
    collector = _collector(simulated_qts, password_file)
    collector.refresher.refresh_once()
    text = _scrape(collector)
    for line in ('nasops_collector_up{collector="qts"} 1.0',
                 'nasops_qts_info{firmware="5.1.9.2954",model="nasops-simulated",'
                 'nas="wsm-qnap"} 1.0',
                 'nasops_qts_health_info{nas="wsm-qnap",status="good"} 1.0',
                 'nasops_qts_volume_size_bytes{nas="wsm-qnap",volume="DataVol1"} 4e+12',
                 'nasops_qts_volume_free_bytes{nas="wsm-qnap",volume="DataVol1"} 3e+12',
                 'nasops_qts_share_used_bytes{nas="wsm-qnap",share="Afrique"} 1.23456789e+08',
                 'nasops_qts_share_used_bytes{nas="wsm-qnap",share="Archives 2019"} 42.0'):
        assert line in text, line
    assert "volume=\"volume 2\"" not in text  # QTS's own volume is left out
    # Every QTS family the alert rules and the dashboard read is one this collector exports.
    monitoring = REPOSITORY / "monitoring"
    used = set(re.findall(r"\bnasops_qts_[a-z_]+\b", (monitoring / "nasops.rules.yml").read_text(
        encoding="utf-8") + (monitoring / "grafana" / "nasops-dashboard.json").read_text(
        encoding="utf-8")))
    exported = set(re.findall(r"^(nasops_qts_[a-z_]+)[{ ]", text, re.MULTILINE))
    assert used and used <= exported, used - exported
    assert PASSWORD not in text
    # One session per refresh, closed after.
    assert simulated_qts.nas.logins == 1 and simulated_qts.nas.sessions == set()
    promtool = shutil.which("promtool")
    if promtool is None:  # outside CI only: scripts/setup installs prometheus, and under
        # CI=true a skip fails the run (tests/conftest.py)
        pytest.skip("promtool is not installed (apt install prometheus)")
    checked = subprocess.run([promtool, "check", "metrics"], input=text, text=True,
                             capture_output=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_simulated_qts_collector_never_retries_a_refused_login(
        simulated_qts: SimulatedHost, tmp_path: Path) -> None:
    password_file = tmp_path / "qts-password"
    password_file.write_text("not the password\n")
    collector = _collector(simulated_qts, password_file)
    for _ in range(3):
        collector.refresher.refresh_once()
    assert simulated_qts.nas.logins == 1  # QTS would block the address after a few
    assert 'nasops_collector_up{collector="qts"} 0.0' in _scrape(collector)
    assert "not tried again until the exporter restarts" in str(
        collector.refresher.latest().error)


def test_simulated_qts_collector_is_down_when_the_certificate_is_not_the_pinned_one(
        simulated_qts: SimulatedHost, tmp_path: Path) -> None:
    password_file = tmp_path / "qts-password"
    password_file.write_text(PASSWORD)
    simulated_qts.pin = "0" * 64
    collector = _collector(simulated_qts, password_file)
    collector.refresher.refresh_once()
    assert 'nasops_collector_up{collector="qts"} 0.0' in _scrape(collector)
    assert simulated_qts.nas.requests == []
