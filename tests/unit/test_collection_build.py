"""`ansible-galaxy collection build` of the repository root: the nasops.nas archive holds the
collection (roles, playbooks, plugins) and nothing of the Python project around it.

The root is both the Python project and the collection, and galaxy.yml's build_ignore is a
list of exclusions: a new top-level directory (a tool's cache, a build output) would slip into
the archive unnoticed. This test names what may be at the archive's top level instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from ansible.release import __version__ as ansible_version

from nasops.ansible.tools import ansible_tool

REPOSITORY = Path(__file__).resolve().parents[2]
# What the archive may hold at its top level: galaxy's own two files, the readme galaxy.yml
# names, the settings `nasops apply` runs Ansible with, and the collection's directories.
ALLOWED_TOP_LEVEL = {"MANIFEST.json", "FILES.json", "README.md", "LICENSE", "ansible.cfg",
                     "meta", "playbooks", "plugins", "roles"}
SHIPPED_DIRECTORIES = ("meta", "playbooks", "plugins", "roles")
# The ansible-test sanity checks that need nothing but ansible-test itself. The others
# (validate-modules, ansible-doc, runtime-metadata, yamllint, pep8, pylint, import) install
# their tools from PyPI into virtual environments: docs/collection.md has the command.
# replace-urlopen is left out while plugins/modules/syncthing.py calls urllib itself.
OFFLINE_SANITY_TESTS = ("action-plugin-docs", "changelog", "compile", "empty-init", "ignores",
                        "line-endings", "no-assert", "no-get-exception", "no-illegal-filenames",
                        "no-smart-quotes", "shebang", "symlinks", "use-argspec-type-path",
                        "use-compat-six")


def _shipped_files() -> set[str]:
    """Return the files of the collection's directories in the working tree."""
    found = set()
    for directory in SHIPPED_DIRECTORIES:
        for path in (REPOSITORY / directory).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                found.add(path.relative_to(REPOSITORY).as_posix())
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the collection once; return the archive."""
    output = tmp_path_factory.mktemp("collection")
    result = subprocess.run(
        [ansible_tool("ansible-galaxy"), "collection", "build", "--output-path", str(output),
         str(REPOSITORY)],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    [archive_path] = output.glob("nasops-nas-*.tar.gz")
    return archive_path


@pytest.fixture(scope="module")
def archive(built: Path) -> tuple[list[str], dict[str, object]]:
    """Return the archive's member names and its MANIFEST.json."""
    with tarfile.open(built) as tar:
        names = tar.getnames()
        manifest_file = tar.extractfile("MANIFEST.json")
        assert manifest_file is not None
        manifest = json.load(manifest_file)
    return names, manifest


def test_archive_is_named_after_galaxy_yml(archive: tuple[list[str], dict[str, object]]) -> None:
    galaxy = yaml.safe_load((REPOSITORY / "galaxy.yml").read_text(encoding="utf-8"))
    info = archive[1]["collection_info"]
    assert isinstance(info, dict)
    assert (info["namespace"], info["name"], info["version"]) == (
        "nasops", "nas", galaxy["version"])


def test_archive_holds_only_the_collection(archive: tuple[list[str], dict[str, object]]) -> None:
    names = archive[0]
    top_level = {name.split("/", 1)[0] for name in names}
    assert top_level <= ALLOWED_TOP_LEVEL, sorted(top_level - ALLOWED_TOP_LEVEL)
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_archive_holds_every_file_of_the_collection(
    archive: tuple[list[str], dict[str, object]],
) -> None:
    names = set(archive[0])
    missing = _shipped_files() - names
    assert not missing, sorted(missing)
    # The entry points people and nasops use by name.
    for required in ("meta/runtime.yml", "playbooks/site.yml", "playbooks/forget.yml",
                     "plugins/modules/tree.py", "plugins/action/host.py",
                     "roles/nas_base/tasks/main.yml"):
        assert required in names


def test_built_collection_passes_the_offline_sanity_checks(built: Path, tmp_path: Path) -> None:
    """Run ansible-test sanity on the archive's content, unpacked where ansible-test needs it
    (…/ansible_collections/nasops/nas), with the repository's list of accepted findings."""
    root = tmp_path / "ansible_collections" / "nasops" / "nas"
    root.mkdir(parents=True)
    with tarfile.open(built) as tar:
        tar.extractall(root, filter="data")
    release = ".".join(ansible_version.split(".")[:2])
    ignores = REPOSITORY / "tests" / "sanity" / f"ignore-{release}.txt"
    assert ignores.is_file(), f"ansible-core {release}: write {ignores.name} (see docs)"
    (root / "tests" / "sanity").mkdir(parents=True)
    shutil.copy(ignores, root / "tests" / "sanity")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    argv = [ansible_tool("ansible-test"), "sanity", "--local", "--python", python, "--color",
            "no"]
    for name in OFFLINE_SANITY_TESTS:
        argv += ["--test", name]
    # A home of its own: ansible-test keeps caches and virtual environments there.
    environment = {**os.environ, "HOME": str(tmp_path / "home")}
    result = subprocess.run(argv, cwd=root, env=environment, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("Running sanity test") == len(OFFLINE_SANITY_TESTS), result.stdout
