"""The documented own-playbook example (docs/own-playbook/) converges a real lab NAS.

An IT provider's flow, as docs/own-playbook.md tells it: `nasops secrets init`, `nasops
compile SPEC -o desired/HOST.json`, then plain `ansible-playbook` with the nasops.nas
collection built by `ansible-galaxy collection build` and installed elsewhere. Ansible is
kept from the checkout (which the dev venv links into its site-packages): only the installed
copy is on its collections path. `nasops drift` must then find nothing, and a second run must
change nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from smb_probe import people_work_over_smb

from nasops.ansible.tools import ansible_tool
from nasops.cli.main import main
from nasops.lab import LabHost, render_inventory, run_in_host
from nasops.lab.testing import LabHostFactory

pytestmark = [pytest.mark.lab, pytest.mark.slow]

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE = REPOSITORY / "docs" / "own-playbook"
EXAMPLE_SPEC = REPOSITORY / "inventory" / "example" / "wsm.yml"
PLAYBOOK_SECONDS = 900


@pytest.fixture(scope="module")
def own_nas(lab_hosts: LabHostFactory) -> LabHost:
    """A NAS of this module's own (127.0.0.93)."""
    return lab_hosts("hown", "127.0.0.93")


@pytest.fixture(scope="module")
def collections(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the collection from the working tree and install it into a temporary collections
    path; return that path (it holds ansible_collections/nasops/nas)."""
    directory = tmp_path_factory.mktemp("collections")
    build = directory / "build"
    galaxy = ansible_tool("ansible-galaxy")
    built = subprocess.run([galaxy, "collection", "build", "--output-path", str(build),
                            str(REPOSITORY)],
                           capture_output=True, text=True, timeout=120, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    [archive] = build.glob("nasops-nas-*.tar.gz")
    # --force: ansible-galaxy takes the checkout the dev venv links into its site-packages
    # for an installed nasops.nas of the same version and would install nothing.
    installed = subprocess.run([galaxy, "collection", "install", "--force", "-p",
                                str(directory), str(archive)],
                               capture_output=True, text=True, timeout=120, check=False)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (directory / "ansible_collections" / "nasops" / "nas" / "MANIFEST.json").is_file()
    return directory


@pytest.fixture(scope="module")
def project(own_nas: LabHost, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The provider's project: the spec, and an inventory naming it, the secrets file and
    the desired state file (the lab host's connection settings come from the lab)."""
    directory = tmp_path_factory.mktemp("own-playbook")
    shutil.copy(EXAMPLE_SPEC, directory / "wsm.yml")
    (directory / "desired").mkdir()
    (directory / "inventory.yml").write_text(render_inventory(own_nas, {
        "nasops_spec": "wsm.yml",
        "nasops_secrets_file": "secrets.yml",
        "nasops_desired_file": f"desired/{own_nas.name}.json",
    }), encoding="utf-8")
    return directory


def nasops(*arguments: str) -> None:
    code = main(list(arguments))
    assert code == 0, f"nasops {' '.join(arguments)} exited {code}"


def run_playbook(project: Path, collections: Path) -> str:
    """Run the example playbook with the installed collection; return its output."""
    environment = {
        **os.environ,
        "ANSIBLE_CONFIG": str(EXAMPLE / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        # Not the checkout the dev venv links into site-packages: only the built collection.
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_NOCOLOR": "1",
    }
    result = subprocess.run(
        [ansible_tool("ansible-playbook"), "-i", "inventory.yml", str(EXAMPLE / "site.yml")],
        cwd=project, env=environment, capture_output=True, text=True,
        timeout=PLAYBOOK_SECONDS, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    return output


def recap(output: str, host: str) -> dict[str, int]:
    """Given ansible-playbook's output, return the host's PLAY RECAP counts."""
    line = re.search(rf"^{re.escape(host)}\s+:\s+(.*)$", output, re.MULTILINE)
    assert line is not None, output[-3000:]
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line.group(1))}


def test_own_playbook_converges_like_apply(
    own_nas: LabHost, project: Path, collections: Path
) -> None:
    inventory = str(project / "inventory.yml")
    nasops("secrets", "init", "-i", inventory)
    desired = project / "desired" / f"{own_nas.name}.json"
    nasops("compile", str(project / "wsm.yml"), "-o", str(desired))

    output = run_playbook(project, collections)
    counts = recap(output, own_nas.name)
    assert counts["failed"] == counts["unreachable"] == 0, counts
    assert counts["changed"] > 0, counts
    # The roles ran from the built collection, not from the checkout.
    assert "nasops.nas.nas_accounts : " in output
    # The provider's own play ran after nasops's.
    motd = run_in_host(own_nas, ["cat", "/etc/motd"]).stdout
    assert "managed with nasops" in motd
    assert run_in_host(own_nas, ["getent", "group", "cellule-afrique"]).returncode == 0
    # No secret reaches Ansible's output.
    secrets = YAML(typ="safe").load((project / "secrets.yml").read_text(encoding="utf-8"))
    values = [*secrets["nasops_user_passwords"].values(),
              *(secrets.get("nasops_restic_passwords") or {}).values(),
              *([secrets["nasops_syncthing_api_key"]] if secrets.get("nasops_syncthing_api_key")
                else [])]
    assert len(values) > len(secrets["nasops_user_passwords"])  # restic passwords too
    for value in values:
        assert value not in output

    # People use the NAS (saves, copies, renames, deletes over SMB) before nasops compares
    # it with the same spec: their files are not drift.
    people_work_over_smb(own_nas.address, secrets["nasops_user_passwords"], [
        ("adiallo", "Afrique", "Rapports de mission"), ("smertens", "Afrique", "Finances"),
        ("cleroy", "Éducation", "Campagnes")])
    assert main(["drift", "-q", "-i", inventory]) == 0

    again = recap(run_playbook(project, collections), own_nas.name)
    assert (again["changed"], again["failed"]) == (0, 0), again
