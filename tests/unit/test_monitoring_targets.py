"""`nasops monitoring targets`: a Prometheus file_sd file for the fleet, via ansible-inventory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nasops.cli.main import main

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE_INVENTORY = REPOSITORY / "inventory" / "example" / "inventory.yml"


def test_the_example_inventory_gives_one_target_per_nas(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitoring", "targets", "-i", str(EXAMPLE_INVENTORY)]) == 0
    output = capsys.readouterr().out
    assert json.loads(output) == [{"targets": ["127.0.0.2:9750"],
                                   "labels": {"organization": "wsm", "host": "wsm-nas"}}]


def write_fleet(directory: Path) -> Path:
    (directory / "specs").mkdir()
    (directory / "specs" / "acme.yml").write_text(
        "version: 1\norganization: acme\nmonitoring:\n  port: 9800\n", encoding="utf-8")
    (directory / "specs" / "beta.yml").write_text(
        "version: 1\norganization: beta\n", encoding="utf-8")
    inventory = directory / "fleet.yml"
    inventory.write_text(
        "all:\n"
        "  children:\n"
        "    nas:\n"
        "      hosts:\n"
        "        acme-nas:\n"
        "          ansible_host: 'fd00::12'\n"
        "          nasops_spec: specs/acme.yml\n"
        "        beta-nas.example.org:\n"
        "          nasops_spec: specs/beta.yml\n"
        "    printers:\n"
        "      hosts:\n"
        "        printer-1: {}\n", encoding="utf-8")
    return inventory


def test_a_fleet_is_written_atomically_with_each_spec_port(tmp_path: Path) -> None:
    inventory = write_fleet(tmp_path)
    output = tmp_path / "sd" / "nasops.json"
    assert main(["monitoring", "targets", "-i", str(inventory), "-o", str(output)]) == 0
    entries = json.loads(output.read_text(encoding="utf-8"))
    assert entries == [
        {"targets": ["[fd00::12]:9800"], "labels": {"organization": "acme", "host": "acme-nas"}},
        {"targets": ["beta-nas.example.org:9750"],
         "labels": {"organization": "beta", "host": "beta-nas.example.org"}},
    ]
    assert [path.name for path in output.parent.iterdir()] == ["nasops.json"]


def test_a_host_without_its_spec_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text("all:\n  children:\n    nas:\n      hosts:\n        lost-nas: {}\n",
                         encoding="utf-8")
    assert main(["monitoring", "targets", "-i", str(inventory)]) == 2
    assert "lost-nas: missing variable nasops_spec" in capsys.readouterr().err
