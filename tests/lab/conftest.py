"""Session fixtures giving tests real lab NAS hosts, always torn down at the end of the session.

    def test_something(lab_nas: LabHost) -> None:            # a booted NAS at 127.0.0.2
        run_in_host(lab_nas, ["ls", "/srv/nas"])

    def test_backup(lab_nas: LabHost, lab_hosts: LabHostFactory) -> None:  # nasops.lab.testing
        offsite = lab_hosts("offsite", "127.0.0.3")          # extra hosts, same teardown

Tests here run against a state directory of their own (/var/lib/nasops/lab-test unless
NASOPS_LAB_STATE_DIR is set), so they never touch the hosts someone started by hand; the base
cache is shared. Without root or prerequisites the tests skip, except under CI=true: there
they fail, so a broken CI machine cannot pass by skipping everything.
"""

from __future__ import annotations

import atexit
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from nasops.cli.main import main
from nasops.compile import compile_spec
from nasops.lab import LabDirectories, LabHost, render_inventory, run_in_host
from nasops.lab.paths import CACHE_DIRECTORY_VARIABLE, STATE_DIRECTORY_VARIABLE
from nasops.lab.prerequisites import MachineFacts, missing_prerequisites
from nasops.lab.rootfs import MANIFEST_NAME, RELEASES, base_directory
from nasops.lab.testing import LabHostFactory, purge_all
from nasops.spec import load_spec
from nasops.spec.rights import RightsTable, resolve_rights

TEST_STATE_ROOT = Path("/var/lib/nasops/lab-test")
LAB_DIRECTORY = Path(__file__).parent
EXAMPLE_SPEC = LAB_DIRECTORY.parents[1] / "inventory" / "example" / "wsm.yml"
# Session-wide hosts: the modules that use one must run in the same xdist worker.
SHARED_HOSTS = frozenset({"example_nas", "lab_nas"})
# Lab test groups, longest first (measured wall time in CI); unknown groups come after them.
LAB_GROUP_ORDER = ("test_day_in_the_life", "example_nas", "test_apply_interrupted",
                   "test_provision_cli", "test_shared_nas", "test_backup", "test_roles_apply",
                   "test_monitoring", "test_sync", "test_wheel", "test_own_playbook",
                   "test_simulated_qts_folders", "lab_nas")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/lab with `lab`, so `-m "not lab"` leaves them all out, and
    with an xdist group: a module's tests share module-scoped hosts, so they run in one worker,
    and every module using the session's `example_nas` runs in the same worker as well."""
    lab_items = [item for item in items if LAB_DIRECTORY in Path(str(item.path)).parents]
    group_of = _module_groups(lab_items)
    groups: dict[str, list[pytest.Item]] = {}
    for item in lab_items:
        item.add_marker(pytest.mark.lab)
        group = group_of[item.path]
        item.add_marker(pytest.mark.xdist_group(group))
        groups.setdefault(group, []).append(item)
    # Longest groups first (scripts/test turns xdist's own reordering off): the lab groups
    # are the critical path, the unit tests fill the workers' gaps after them.
    rank = {name: position for position, name in enumerate(LAB_GROUP_ORDER)}
    ordered = sorted(groups, key=lambda name: rank.get(name, len(rank)))
    lab_set = set(lab_items)
    items[:] = [item for name in ordered for item in groups[name]] + [
        item for item in items if item not in lab_set]


def _module_groups(lab_items: list[pytest.Item]) -> dict[Path, str]:
    """Given the lab tests, return each module's xdist group: the module's name, or the name
    of the session host it uses (`example_nas`, `lab_nas`), merging modules that share one."""
    uses: dict[Path, set[str]] = {}
    for item in lab_items:
        shared = SHARED_HOSTS.intersection(getattr(item, "fixturenames", ()))
        uses.setdefault(item.path, set()).update(shared)
    group_of: dict[Path, str] = {}
    for module, shared in uses.items():
        # Modules that share a host with this one, transitively (a handful of modules).
        linked, hosts = {module}, set(shared)
        while True:
            more = {other for other, used in uses.items() if used & hosts} - linked
            if not more:
                break
            linked |= more
            hosts = hosts.union(*(uses[other] for other in more))
        group_of[module] = "+".join(sorted(hosts)) if hosts else module.stem
    return group_of


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"true", "1", "yes"}


def _skip_or_fail(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"lab tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def lab_test_directories() -> LabDirectories:
    """Return the lab roots the tests use (their own state root, the shared cache)."""
    defaults = LabDirectories.from_environment()
    state_root = os.environ.get(STATE_DIRECTORY_VARIABLE) or str(TEST_STATE_ROOT)
    # Each xdist worker purges its state root at start: one root per worker, or they would
    # purge each other's hosts.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        state_root = f"{state_root}-{worker}"
    cache_root = os.environ.get(CACHE_DIRECTORY_VARIABLE) or str(defaults.cache_root)
    return LabDirectories(Path(state_root), Path(cache_root))


@pytest.fixture(scope="session")
def lab_directories() -> LabDirectories:
    """The lab roots for this test session; skips (or fails under CI) if the lab cannot run."""
    directories = lab_test_directories()
    # test_provision_cli runs on Debian 13: both bases, or debootstrap to build them.
    base_cached = all((base_directory(directories.cache_root, release=release)
                       / MANIFEST_NAME).exists() for release in RELEASES)
    problems = missing_prerequisites(MachineFacts.observe(), building=not base_cached)
    if problems:
        _skip_or_fail("; ".join(problems))
    return directories


@pytest.fixture(scope="session")
def lab_hosts(
    lab_directories: LabDirectories, request: pytest.FixtureRequest
) -> Iterator[LabHostFactory]:
    """A factory `lab_hosts(name, address, **lab_up options) -> LabHost` for extra hosts."""
    # Hosts an earlier, interrupted session left behind in the tests' own state root.
    purge_all(lab_directories)
    factory = LabHostFactory(lab_directories)
    # Belt and braces: the finally below, the pytest finalizer, and atexit if pytest dies early.
    request.addfinalizer(factory.teardown)
    atexit.register(factory.teardown)
    try:
        yield factory
    finally:
        factory.teardown()


@pytest.fixture(scope="session")
def lab_nas(lab_hosts: LabHostFactory) -> LabHost:
    """A booted lab NAS named `nas` at 127.0.0.2, shared by the whole session."""
    return lab_hosts("nas", "127.0.0.2")


@dataclass
class ExampleNas:
    """A lab NAS converged to the example spec, with what tests need to log in and compare."""

    host: LabHost
    inventory: Path
    passwords: dict[str, str]
    rights: RightsTable


SEED_SCRIPT = """
import json, os, sys
for folder in json.load(sys.stdin):
    with open(os.path.join(folder, "seed.txt"), "w") as handle:
        handle.write("seed\\n")
"""


def _nasops(*arguments: str) -> None:
    code = main(list(arguments))
    if code != 0:
        pytest.fail(f"nasops {' '.join(arguments)} exited {code}", pytrace=False)


@pytest.fixture(scope="session")
def example_nas(lab_hosts: LabHostFactory, tmp_path_factory: pytest.TempPathFactory
                ) -> ExampleNas:
    """A NAS of its own (127.0.0.10) with the example spec applied and a seed file in every
    folder, placed as root after the first apply (so the second apply must fix their ACLs)."""
    host = lab_hosts("example", "127.0.0.10")
    directory = tmp_path_factory.mktemp("example")
    inventory = directory / "inventory.yml"
    inventory.write_text(render_inventory(host, {"nasops_spec": str(EXAMPLE_SPEC),
                                                 "nasops_secrets_file": "secrets.yml"}),
                         encoding="utf-8")
    _nasops("secrets", "init", "-i", str(inventory))
    _nasops("apply", "-q", "-i", str(inventory))
    spec = load_spec(EXAMPLE_SPEC).spec
    desired = compile_spec(spec)
    folders = [f"{share['path']}/{folder['path']}".rstrip("/")
               for share in desired["shares"] for folder in share["folders"]]
    run_in_host(host, ["python3", "-c", SEED_SCRIPT], input_text=json.dumps(folders))
    _nasops("apply", "-q", "-i", str(inventory))
    secrets = YAML(typ="safe").load((directory / "secrets.yml").read_text(encoding="utf-8"))
    return ExampleNas(host, inventory, dict(secrets["nasops_user_passwords"]),
                      resolve_rights(spec))
