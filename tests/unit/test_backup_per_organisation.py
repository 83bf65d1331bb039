"""Each repository holds what it says (issue 13): on a NAS several organisations share, a
repository backs up its own organisation's shares with its own retention, from the compiled
state through the role's backup.json to restic's snapshots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from test_backup_support import (
    features,
    make_config,
    make_repository,
    needs_restic,
    raw_restic,
    write_tree,
)

from nasops.ansible.inventory import list_inventory, target_hosts
from nasops.backup.actions.run import run_backups
from nasops.backup.config import parse_config
from nasops.provision.specs import compile_targets

ROOT = Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "nas_backup"


def _collective_backup() -> dict[str, Any]:
    inventory = ROOT / "inventory" / "collective" / "inventory.yml"
    targets = target_hosts(list_inventory(str(inventory)), inventory.parent)
    backup: dict[str, Any] = compile_targets(targets).desired["collectif-nas"]["backup"]
    return backup


def _rendered_config(backup: dict[str, Any]) -> dict[str, Any]:
    """The role's backup.json for this desired `backup` section, templated as a play would
    (the role's defaults and vars, site.yml's variables)."""
    variables: dict[str, Any] = {}
    for layer in ("defaults", "vars"):
        variables.update(yaml.safe_load((ROLE / layer / "main.yml").read_text()))
    variables.update(nas_backup_repositories=backup["repositories"],
                     nas_backup_check=backup["check"], nas_backup_drill=backup["drill"])
    variables = {key: trust_as_template(value) if isinstance(value, str) else value
                 for key, value in variables.items()}
    templar = Templar(loader=DataLoader(), variables=variables)
    text = templar.template(trust_as_template((ROLE / "templates/backup.json.j2").read_text()))
    document: dict[str, Any] = json.loads(text)
    return document


def test_the_role_writes_each_association_s_repository_with_its_own_shares() -> None:
    backup = _collective_backup()
    config, problems = parse_config(_rendered_config(backup))
    assert problems == [] and config is not None
    assert config.sources == ()  # nothing at the top level: each repository says its own
    for desired in backup["repositories"]:
        [repository] = config.repository(desired["name"])
        seen = config.for_repository(repository)
        assert list(seen.sources) == desired["sources"]
        assert seen.retention.daily == desired["retention"]["daily"]
        assert seen.check.read_data_subset == desired["read_data_subset"]
        assert seen.drill.sample_files == desired["sample_files"]
        assert repository.password_file == f"/etc/nasops/restic/{desired['name']}.password"
    seen = {repository.name: config.for_repository(repository)
            for repository in config.repositories}
    atable, relais, commun = seen["atb-disque"], seen["rel-disque"], seen["commun"]
    # No share in two repositories: each association's own, the shared space the provider's.
    assert not (set(atable.sources) & set(relais.sources) or set(commun.sources) & (
        set(atable.sources) | set(relais.sources)))
    assert (atable.retention.daily, relais.retention.daily) == (7, 14)


def test_a_repository_without_its_own_contents_takes_the_top_level_ones() -> None:
    config, problems = parse_config({
        "repositories": [
            {"name": "a", "url": "/r/a", "password_file": "/p/a", "sources": ["/srv/a/"],
             "retention": {"last": 1}, "check": {"read_data_subset": "1/10"},
             "drill": {"sample_files": 3}, "exclude": ["*.tmp"]},
            {"name": "b", "url": "/r/b", "password_file": "/p/b"}],
        "sources": ["/srv/b"], "exclude": ["*.bak"]})
    assert problems == [] and config is not None
    own, default = (config.for_repository(repository) for repository in config.repositories)
    assert (own.sources, own.exclude, own.retention.last, own.retention.daily) == (
        ("/srv/a",), ("*.tmp",), 1, 7)
    assert (own.check.read_data_subset, own.drill.sample_files) == ("1/10", 3)
    assert (default.sources, default.exclude, default.retention.daily) == (
        ("/srv/b",), ("*.bak",), 7)
    assert default.drill.sample_files == 50


@pytest.mark.parametrize(("document", "expected"), [
    ({"repositories": [{"name": "a", "url": "/r/a", "password_file": "/p/a"}]},
     "sources: is required: list at least one"),
    ({"repositories": [{"name": "a", "url": "/r/a", "password_file": "/p/a", "sources": []}]},
     "repositories.0.sources: is required: list at least one"),
    ({"repositories": [{"name": "a", "url": "/r/a", "password_file": "/p/a",
                        "sources": ["srv/a"]}]},
     "repositories.0.sources.0: 'srv/a' must be an absolute path"),
    ({"repositories": [{"name": "a", "url": "/r/a", "password_file": "/p/a",
                        "sources": ["/a"], "retention": {"daily": 0, "weekly": 0,
                                                         "monthly": 0}}]},
     "repositories.0.retention: this retention keeps no snapshot at all"),
    ({"repositories": [{"name": "a", "url": "/r/a", "password_file": "/p/a",
                        "sources": ["/a"], "exclude": ["--password-file=/x"],
                        "drill": {"sample_files": 0, "extra": 1}}]},
     "repositories.0.exclude.0: '--password-file=/x' starts with '-'"),
])
def test_a_repository_s_own_contents_are_checked_and_located(
        document: dict[str, Any], expected: str) -> None:
    config, problems = parse_config(document)
    assert config is None and any(problem.startswith(expected) for problem in problems), problems


@needs_restic
def test_each_repository_holds_only_its_own_sources_with_its_own_retention(
        tmp_path: Path) -> None:
    write_tree(tmp_path / "atable", {"Réseau/compte rendu.txt": "atable\n"})
    write_tree(tmp_path / "relais", {"Pôle/bilan.txt": "relais\n"})
    _path, config = make_config(tmp_path, repositories=[
        {"name": "atb-disque", "url": str(make_repository(tmp_path / "repo-atable")),
         "sources": [str(tmp_path / "atable")], "retention": {"last": 1}},
        {"name": "rel-disque", "url": str(make_repository(tmp_path / "repo-relais")),
         "sources": [str(tmp_path / "relais")], "retention": {"last": 3}}])
    for _run in range(2):
        assert [outcome.result for outcome in run_backups(config, features())] == [
            "success", "success"]
    password = tmp_path / "password"
    for name, source, kept in (("atable", "atable", 1), ("relais", "relais", 2)):
        snapshots = json.loads(raw_restic(tmp_path / f"repo-{name}", "snapshots", "--json",
                                          password_file=password).stdout)
        assert len(snapshots) == kept
        assert {path for snapshot in snapshots for path in snapshot["paths"]} == {
            str(tmp_path / source)}
