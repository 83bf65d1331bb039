"""The Grafana dashboard imports unchanged and every query follows its variables."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

DASHBOARD = Path(__file__).resolve().parents[2] / "monitoring" / "grafana" / \
    "nasops-dashboard.json"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# A series selector: a metric name, not a function call, with its optional matchers.
SELECTOR = re.compile(r"\b(nasops_[a-z_]+|up|ALERTS|process_[a-z_]+)\b(?!\s*\()(\{[^}]*\})?")
ORGANIZATION = 'organization=~"$organization"'


def dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return document


def test_the_variables_are_datasource_organisation_instance_and_qnap() -> None:
    variables = {variable["name"]: variable for variable in dashboard()["templating"]["list"]}
    assert list(variables) == ["datasource", "organization", "instance", "nas"]
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for name in ("organization", "instance", "nas"):
        assert variables[name]["type"] == "query"
        assert variables[name]["datasource"] == DATASOURCE
        assert variables[name]["definition"] == variables[name]["query"]["query"]
    assert variables["organization"]["includeAll"] and variables["organization"]["multi"]
    assert ORGANIZATION in variables["instance"]["definition"]
    assert ORGANIZATION in variables["nas"]["definition"]


def test_nothing_is_bound_to_one_grafana() -> None:
    # No numeric id and no fixed datasource uid: the JSON imports as it is anywhere.
    document = dashboard()
    assert "id" not in document or document["id"] is None
    text = DASHBOARD.read_text(encoding="utf-8")
    uids = set(re.findall(r'"uid": "([^"]*)"', text)) - {document["uid"]}
    assert uids == {"${datasource}"}


def test_every_panel_uses_the_datasource_variable_and_filters_on_the_variables() -> None:
    row_matcher = None
    checked = 0
    for panel in dashboard()["panels"]:
        if panel["type"] == "row":
            # A QNAP's metrics (the off-NAS QTS collector) are labelled nas, not instance.
            row_matcher = {"NAS": 'instance="$instance"',
                           "QNAP": 'nas="$nas"'}.get(panel["title"].split()[0])
            continue
        assert panel["datasource"] == DATASOURCE, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]
            selectors = SELECTOR.findall(target["expr"])
            assert selectors, (panel["title"], target["expr"])
            for name, matchers in selectors:
                assert ORGANIZATION in matchers, (panel["title"], name)
                if row_matcher:
                    assert row_matcher in matchers, (panel["title"], name)
                checked += 1
    assert checked > 40
