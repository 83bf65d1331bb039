"""The QTS tests' simulated NAS and an inventory pointing at it (fixtures in conftest.py)."""

from __future__ import annotations

import hashlib
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from simulated_service import SimulatedNas, serving

REPOSITORY = Path(__file__).resolve().parents[2]
PASSWORD = "Qts-admin pass: é'\" &=+"


@dataclass
class SimulatedHost:
    """A running simulated QTS NAS and an inventory naming it."""

    nas: SimulatedNas
    port: int
    pin: str
    inventory: Path

    def write_inventory(self, **variables: object) -> Path:
        """Rewrite the inventory with these host variables over the working defaults."""
        values: dict[str, object] = {
            "ansible_host": "127.0.0.1", "nasops_platform": "qts", "nasops_spec": "wsm.yml",
            "nasops_secrets_file": "secrets.yml", "nasops_qts_port": self.port,
            "nasops_qts_certificate_sha256": self.pin}
        values.update(variables)
        lines = "".join(f"          {key}: {value!r}\n" for key, value in values.items()
                        if value is not None)
        self.inventory.write_text(f"all:\n  children:\n    nas:\n      hosts:\n"
                                  f"        wsm-qnap:\n{lines}")
        return self.inventory


@pytest.fixture
def simulated_qts(tmp_path: Path) -> Iterator[SimulatedHost]:
    """A simulated QTS NAS holding part of the QTS example's people, groups and shares,
    plus QTS's own and some the organisation made by hand."""
    nas = SimulatedNas(
        password=PASSWORD,
        users={"admin": (0, True), "guest": (65534, False), "mlsimon": (1000, True),
               "adiallo": (1001, False), "comptable.ancien": (1002, True)},
        groups={"administrators": 0, "everyone": 100, "direction": 1000,
                "benevoles": 1001},
        shares={"Public": False, "Web": False, "Afrique": False, "Archives 2019": True},
        members={"administrators": ["admin", "mlsimon"], "direction": ["mlsimon",
                                                                       "comptable.ancien"]})
    (tmp_path / "wsm.yml").write_text(
        (REPOSITORY / "inventory/qts/wsm.yml").read_text(encoding="utf-8"), encoding="utf-8")
    secrets = tmp_path / "secrets.yml"
    secrets.write_text("nasops_qts_password: '" + PASSWORD.replace("'", "''") + "'\n")
    secrets.chmod(0o600)
    with serving(nas, tmp_path) as (port, der):
        host = SimulatedHost(nas, port, hashlib.sha256(der).hexdigest(),
                             tmp_path / "inventory.yml")
        host.write_inventory()
        yield host


@pytest.fixture
def ansible_vault() -> str:
    """The venv's ansible-vault (tests encrypt a secrets file as a provider would)."""
    found = shutil.which("ansible-vault", path=str(Path(sys.executable).parent))
    if found is None:  # ansible-core installs it; under CI=true a skip fails the run
        pytest.skip("ansible-vault is not installed next to this Python")
    return found
