"""`nasops monitoring targets`: a Prometheus file_sd file for the fleet, via ansible-inventory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nasops.cli.main import main
from nasops.compile.desired import compile_spec
from nasops.spec import load_spec

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE_INVENTORY = REPOSITORY / "inventory" / "example" / "inventory.yml"


def test_the_example_inventory_gives_one_target_per_nas(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitoring", "targets", "-i", str(EXAMPLE_INVENTORY)]) == 0
    output = capsys.readouterr().out
    # The spec listens on 127.0.0.1; a NAS reached on loopback shares this machine's network.
    assert json.loads(output) == [{"targets": ["127.0.0.1:9750"],
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


@pytest.mark.parametrize(("variables", "listen", "target", "warned"), [
    ("ansible_host: 192.0.2.5", "0.0.0.0", "192.0.2.5:9800", False),  # noqa: S104
    ("ansible_host: 192.0.2.5", "192.0.2.6", "192.0.2.6:9800", False),
    ("ansible_host: 'fd00::5'", "::", "[fd00::5]:9800", False),
    ("ansible_host: 192.0.2.5", "127.0.0.1", "192.0.2.5:9800", True),
    # As playbooks/site.yml: a lab host listens on its own address, an inventory override wins.
    ("{ansible_host: 127.0.0.40, nasops_lab_volume: /v}", "127.0.0.1", "127.0.0.40:9800", False),
    ("{ansible_host: 192.0.2.5, nasops_exporter_listen_address: 198.51.100.5}", "127.0.0.1",
     "198.51.100.5:9800", False),
    ("ansible_host: 192.0.2.5", "nas.example.org", "nas.example.org:9800", False),
    ("ansible_host: 192.0.2.5", "localhost", "192.0.2.5:9800", True),
])
def test_the_target_is_where_the_exporter_listens(  # noqa: PLR0917 - pytest parameters
    tmp_path: Path, capsys: pytest.CaptureFixture[str], variables: str, listen: str,
    target: str, warned: bool,
) -> None:
    (tmp_path / "nas.yml").write_text(
        f"organization: acme\nmonitoring:\n  listen_address: '{listen}'\n  port: 9800\n",
        encoding="utf-8")
    inventory = tmp_path / "inventory.yml"
    mapping = variables if variables.startswith("{") else "{" + variables + "}"
    inventory.write_text("all:\n  children:\n    nas:\n      hosts:\n        nas: "
                         + mapping[:-1] + ", nasops_spec: nas.yml}\n", encoding="utf-8")
    assert main(["monitoring", "targets", "-i", str(inventory)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)[0]["targets"] == [target]
    assert (f"listens on {listen} only" in captured.err) is warned


def test_the_desired_state_carries_the_monitoring_section(tmp_path: Path) -> None:
    spec_file = tmp_path / "nas.yml"
    spec_file.write_text("organization: acme\nmonitoring:\n  listen_address: 192.0.2.6\n"
                         "  port: 9800\n  drift_check: '*-*-* 02:00'\n", encoding="utf-8")
    desired = compile_spec(load_spec(spec_file).spec)
    assert desired["monitoring"] == {"listen_address": "192.0.2.6", "port": 9800,
                                     "drift_check": "*-*-* 02:00"}


@pytest.mark.parametrize("address", ["nas local", "192.0.2.300:9750", "-x", ""])
def test_validate_refuses_a_listen_address_that_is_no_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], address: str,
) -> None:
    spec_file = tmp_path / "nas.yml"
    spec_file.write_text(f"organization: acme\nmonitoring:\n  listen_address: '{address}'\n",
                         encoding="utf-8")
    assert main(["validate", str(spec_file)]) == 2
    error = capsys.readouterr().err
    assert f"{spec_file}:3:" in error and "is not an IP address or host name" in error
    assert "Traceback" not in error
