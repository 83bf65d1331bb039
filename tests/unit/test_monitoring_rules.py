"""Alert rules, dashboard and docs only name metrics the exporter really produces."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from exporter_samples import (
    FakeSyncthing,
    fixture_collectors,
    names,
    parse_samples,
    syncthing_answers,
)
from prometheus_client import generate_latest

from nasops.exporter.registry import GuardedCollectors, build_registry

REPOSITORY = Path(__file__).resolve().parents[2]
MONITORING = REPOSITORY / "monitoring"
RULES = MONITORING / "nasops.rules.yml"
DASHBOARD = MONITORING / "grafana" / "nasops-dashboard.json"
DOCS = REPOSITORY / "docs" / "exporter.md"
METRIC_NAME = re.compile(r"\bnasops_[a-z_]+\b")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Sample names of a scrape against fixtures where every source has data."""
    directory = tmp_path_factory.mktemp("exporter")
    # A Syncthing 1.20 or later: its remoteState is exported too.
    with FakeSyncthing(syncthing_answers(folder_count=2, remote_state=True)) as fake:
        collectors = fixture_collectors(directory, fake.url)
        registry = build_registry(GuardedCollectors(collectors))
        samples = parse_samples(generate_latest(registry).decode())
    return {name for name in names(samples) if name.startswith("nasops_")}


def rule_expressions() -> Iterator[tuple[str, str]]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    for group in document["groups"]:
        for rule in group["rules"]:
            yield rule.get("alert") or rule.get("record"), rule["expr"]


def dashboard_expressions() -> Iterator[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            yield f"variable {variable['name']}", variable["definition"]


def test_the_fixture_scrape_covers_every_collector(exported: set[str]) -> None:
    prefixes = {"nasops_quota_", "nasops_sync_", "nasops_backup_", "nasops_drift_",
                "nasops_apply_", "nasops_samba_", "nasops_collector_", "nasops_exporter_"}
    assert all(any(name.startswith(prefix) for name in exported) for prefix in prefixes)


@pytest.mark.parametrize("source", ["rules", "dashboard"])
def test_every_metric_used_is_exported(exported: set[str], source: str) -> None:
    # The off-NAS QTS collector's families are checked against its own scrape (it needs
    # the simulated QTS service): tests/qts/test_simulated_qts_collector.py.
    expressions = rule_expressions() if source == "rules" else dashboard_expressions()
    unknown = {(where, name) for where, expression in expressions
               for name in METRIC_NAME.findall(expression)
               if name not in exported and not name.startswith("nasops_qts_")}
    assert not unknown


def test_every_exported_metric_is_documented_and_nothing_else(exported: set[str]) -> None:
    # The metric tables of docs/exporter.md: rows starting with the metric's name.
    documented = set(re.findall(r"^\| `(nasops_[a-z_]+)`", DOCS.read_text(encoding="utf-8"),
                                re.MULTILINE))
    assert exported - documented == set(), "exported but not in docs/exporter.md"
    assert documented - exported == set(), "documented but not exported"


def test_every_alert_has_a_severity_and_both_annotations() -> None:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    alerts = [rule for group in document["groups"] for rule in group["rules"]]
    assert len(alerts) >= 15
    for rule in alerts:
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert {"summary", "description"} <= set(rule["annotations"]), rule["alert"]


def test_every_alert_has_a_runbook_section_in_the_docs() -> None:
    # GitHub's anchors: the heading in lower case (alert names have no spaces).
    headings = set(re.findall(r"^### (Nasops\w+)$", DOCS.read_text(encoding="utf-8"),
                              re.MULTILINE))
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    for rule in (rule for group in document["groups"] for rule in group["rules"]):
        alert = rule["alert"]
        assert alert in headings, f"docs/exporter.md has no runbook section for {alert}"
        assert rule["annotations"].get("runbook_url") == \
            f"docs/exporter.md#{alert.lower()}", alert


def test_every_alert_is_tested_firing_and_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in (MONITORING / "tests").glob("*.yml"):
        document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        for test in document["tests"]:
            for case in test.get("alert_rule_test", []):
                (firing if case["exp_alerts"] else quiet).add(case["alertname"])
    alerts = {name for name, _expression in rule_expressions()}
    assert alerts - firing == set(), "alerts without a firing test"
    assert alerts - quiet == set(), "alerts without a quiet test"


def test_the_dashboard_has_a_fleet_row_and_a_per_nas_row() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    rows = [panel["title"] for panel in dashboard["panels"] if panel["type"] == "row"]
    assert rows == ["Fleet overview", "NAS $instance", "QNAP $nas"]
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert {"datasource", "instance", "nas"} <= variables
    identifiers = [panel["id"] for panel in dashboard["panels"]]
    assert len(identifiers) == len(set(identifiers))
    # Each row's panels are about the NAS its variable picks ($instance, or $nas: a QNAP).
    variable = None
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            variable = {"NAS": "$instance", "QNAP": "$nas"}.get(panel["title"].split()[0])
            continue
        position = panel["gridPos"]
        assert position["x"] + position["w"] <= 24, panel["title"]
        assert panel["targets"], panel["title"]
        if variable:
            assert all(variable in target["expr"] for target in panel["targets"]), \
                panel["title"]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_rules_and_their_tests_pass() -> None:
    tests = sorted(str(path) for path in (MONITORING / "tests").glob("*.yml"))
    for argv in (["promtool", "check", "rules", str(RULES)],
                 ["promtool", "test", "rules", *tests]):
        result = subprocess.run(argv, capture_output=True, text=True, check=False,
                                cwd=REPOSITORY, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
