"""The wheel alone provisions a NAS: no clone, no NASOPS_ANSIBLE_DIR, only what pip installed.

The wheel is built from a copy of this working tree (pip's isolated build with the declared
setuptools: what `pipx install` and CI do), installed into a fresh venv in a temporary
directory, and its `nasops` runs the first day of a new user from a working directory outside
the clone, with an environment that names nothing of the clone: init, lab up --spec (a NAS of
its own, 127.0.0.92), secrets init, apply, a second apply that changes nothing, drift,
monitoring targets. The collection must be the one in the venv's site-packages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from smb_probe import people_work_over_smb

from nasops.lab.lifecycle import lab_down
from nasops.lab.paths import CACHE_DIRECTORY_VARIABLE, STATE_DIRECTORY_VARIABLE
from nasops.lab.testing import LabHostFactory

pytestmark = [pytest.mark.lab, pytest.mark.slow]

REPOSITORY = Path(__file__).resolve().parents[2]
NAME, ADDRESS, ORGANIZATION = "hwheel", "127.0.0.92", "wheeltest"
COLLECTION = "ansible_collections/nasops/nas/"
# The copy the wheel is built from leaves out the venv, caches and earlier builds: a stale
# build/ directory would end up in the wheel.
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info",
                                    "__pycache__", ".*_cache", ".hypothesis", ".cache", "var")
# Variables that could lead the installed nasops (or its Ansible) back to the clone.
DROPPED_VARIABLES = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "NASOPS_ANSIBLE_DIR"}
COMMAND_TIMEOUT = 900


@dataclass(frozen=True)
class Installed:
    """A fresh venv with the wheel, and where its commands run."""

    venv: Path
    work: Path
    environment: dict[str, str]

    def run(self, tool: str, *arguments: str) -> subprocess.CompletedProcess[str]:
        """Run one of the venv's commands (nasops, python, ansible-galaxy) in `work`."""
        return subprocess.run([str(self.venv / "bin" / tool), *arguments], cwd=self.work,
                              env=self.environment, capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT, check=False)

    def nasops(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """Run the installed nasops; fail with its output unless it exits 0."""
        completed = self.run("nasops", *arguments)
        if completed.returncode != 0:
            pytest.fail(f"nasops {' '.join(arguments)} exited {completed.returncode}:\n"
                        f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}",
                        pytrace=False)
        return completed


def _run_or_fail(argv: list[str], what: str) -> None:
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                               check=False)
    if completed.returncode != 0:
        pytest.fail(f"{what} failed ({completed.returncode}):\n{completed.stderr[-3000:]}",
                    pytrace=False)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of the working tree; return its path."""
    directory = tmp_path_factory.mktemp("wheel")
    source = directory / "source"
    shutil.copytree(REPOSITORY, source, ignore=NOT_COPIED, symlinks=True)
    _run_or_fail([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                  str(directory / "dist"), str(source)], "building the wheel")
    (built,) = (directory / "dist").glob("nasops-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, lab_hosts: LabHostFactory,
              tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Install the wheel into a fresh venv outside the clone.

    Its dependencies are pinned to the versions of this environment (the ones the rest of the
    suite tests), so pip takes them from its cache after the first run.
    """
    directory = tmp_path_factory.mktemp("installed")
    assert REPOSITORY not in directory.parents
    venv = directory / "venv"
    # No pip inside: this environment's pip installs into it (--python), seconds faster.
    _run_or_fail([sys.executable, "-m", "venv", "--without-pip", str(venv)], "python -m venv")
    constraints = directory / "constraints.txt"
    constraints.write_text("".join(
        f"{distribution.metadata['Name']}=={distribution.version}\n"
        for distribution in metadata.distributions()
        if distribution.metadata["Name"] and distribution.metadata["Name"] != "nasops"),
        encoding="utf-8")
    _run_or_fail([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                  "install", "-q", "-c", str(constraints), str(wheel)], "installing the wheel")
    repository = str(REPOSITORY)
    environment = {key: value for key, value in os.environ.items()
                   if repository not in value and key not in DROPPED_VARIABLES
                   and not key.startswith("ANSIBLE_")}
    path = [str(venv / "bin"), *(entry for entry in os.environ.get("PATH", "").split(":")
                                 if entry and repository not in entry)]
    home = directory / "home"
    home.mkdir()
    directories = lab_hosts.directories
    environment.update({"PATH": ":".join(path), "HOME": str(home),
                        STATE_DIRECTORY_VARIABLE: str(directories.state_root),
                        CACHE_DIRECTORY_VARIABLE: str(directories.cache_root)})
    work = directory / "work"
    work.mkdir()
    return Installed(venv, work, environment)


@pytest.fixture(scope="module")
def wheel_nas(lab_hosts: LabHostFactory) -> Iterator[str]:
    """The name of the NAS the installed nasops boots; torn down after the module."""
    # The session's factory tears it down too if this process dies before the finally.
    lab_hosts.started.append(NAME)
    try:
        yield NAME
    finally:
        if NAME in lab_hosts.started:
            lab_hosts.started.remove(NAME)
        lab_down(NAME, purge=True, directories=lab_hosts.directories)


def _collection_files() -> list[str]:
    """Return the files of the working tree that the installed collection must have."""
    names = ["galaxy.yml", "ansible.cfg", "README.md", "LICENSE"]
    for top in ("meta", "playbooks", "roles", "plugins"):
        names += [path.relative_to(REPOSITORY).as_posix()
                  for path in sorted((REPOSITORY / top).rglob("*"))
                  if path.is_file() and "__pycache__" not in path.parts]
    return names


def test_the_wheel_carries_the_collection_and_the_run_time_files(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata_text = archive.read("nasops-0.1.0.dist-info/METADATA").decode()
        license_text = archive.read("nasops-0.1.0.dist-info/licenses/LICENSE").decode()
    expected = {COLLECTION + name for name in _collection_files()} | {
        "nasops/data/starter-spec.yml", "nasops/data/starter-inventory.yml",
        "nasops/data/templates/access-report.html.j2", "nasops/py.typed",
        "nasops/data/monitoring/nasops.rules.yml",
        "nasops/data/monitoring/grafana/nasops-dashboard.json"}
    assert expected - names == set()
    assert any(name.startswith(COLLECTION + "plugins/module_utils/") for name in names)
    # The Python package, tests and tooling stay out of the collection (as in galaxy.yml).
    collection = {name.removeprefix(COLLECTION) for name in names if name.startswith(COLLECTION)}
    assert {name.split("/")[0] for name in collection} == {
        "galaxy.yml", "ansible.cfg", "README.md", "LICENSE", "meta", "playbooks", "roles",
        "plugins"}
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert "GNU AFFERO GENERAL PUBLIC LICENSE" in license_text
    assert "License-Expression: AGPL-3.0-or-later" in metadata_text
    requirements = [line for line in metadata_text.splitlines()
                    if line.startswith("Requires-Dist:")]
    assert any("ansible-core" in line for line in requirements)
    assert not [line for line in requirements if "paramiko" in line or "fabric" in line]


def test_the_installed_wheel_provisions_a_lab_nas_without_the_clone(
    installed: Installed, wheel_nas: str
) -> None:
    # Everything comes from the venv: the package, the collection and its module_utils.
    probe = installed.run("python", "-c", (
        "import json, nasops, ansible_collections.nasops.nas.plugins.module_utils.acl as acl\n"
        "from nasops.collection import collection_root\n"
        "print(json.dumps([nasops.__file__, acl.__file__, str(collection_root())]))"))
    assert probe.returncode == 0, probe.stderr
    site = installed.venv / "lib"
    locations = [Path(location) for location in json.loads(probe.stdout)]
    for location in locations:
        assert site in location.parents, location
    collection = locations[-1]
    assert collection.parts[-3:] == ("ansible_collections", "nasops", "nas")

    installed.nasops("init", "org", "--organization", ORGANIZATION)
    spec = installed.work / "org" / f"{ORGANIZATION}.yml"
    up = installed.nasops("lab", "up", "--name", wheel_nas, "--address", ADDRESS,
                          "--spec", str(spec))
    inventory = up.stdout.strip().splitlines()[-1]
    installed.nasops("secrets", "init", "-i", inventory)

    first = installed.nasops("apply", "-i", inventory)
    assert f" on {wheel_nas} (" in first.stdout
    log = next(line.removeprefix("full log: ") for line in first.stdout.splitlines()
               if line.startswith("full log: "))
    # Ansible ran the installed collection's playbook; the clone appears nowhere in its log.
    log_text = Path(log).read_text(encoding="utf-8")
    assert f"{collection}/playbooks/site.yml" in log_text
    assert str(REPOSITORY) not in log_text
    share = f"/srv/nas/{ORGANIZATION}/Projects/Finances"
    acl = installed.nasops("lab", "ssh", wheel_nas, "--", "getfacl", "-p", share).stdout
    assert "group:finance:rwx" in acl

    # People use the NAS before nasops looks again: their files are not drift.
    passwords = YAML(typ="safe").load(
        (Path(inventory).parent / "secrets.yml").read_text(encoding="utf-8"))
    people_work_over_smb(ADDRESS, passwords["nasops_user_passwords"], [
        ("bob", "Projects", "Reports"), ("carla", "Projects", "Finances"),
        ("alice", "Direction", "")])

    second = installed.nasops("apply", "-q", "-i", inventory)
    assert second.stdout.splitlines()[0] == (
        f"{wheel_nas}: no changes: the NAS already matches the spec")
    drift = installed.nasops("drift", "-q", "-i", inventory)
    assert drift.stdout.splitlines()[0] == f"{wheel_nas}: no drift: the NAS matches the spec"

    targets = json.loads(installed.nasops("monitoring", "targets", "-i", inventory).stdout)
    assert [entry["targets"] for entry in targets] == [[f"{ADDRESS}:9750"]]
    assert targets[0]["labels"] == {"organization": ORGANIZATION, "host": wheel_nas}

    listing = installed.run("ansible-galaxy", "collection", "list", "nasops.nas")
    assert listing.returncode == 0, listing.stderr
    assert f"# {site}" in listing.stdout
    assert any(line.split() == ["nasops.nas", "0.1.0"] for line in listing.stdout.splitlines())
