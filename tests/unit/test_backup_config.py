"""The wrapper's config file: valid documents load, every problem is named with its place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nasops.backup.config import load_config
from nasops.backup.errors import BackupConfigError
from nasops.errors import EXIT_BAD_INPUT

MINIMAL: dict[str, Any] = {
    "repositories": [{"name": "usb", "url": "/mnt/usb/restic",
                      "password_file": "/etc/nasops/restic/usb.password"}],
    "sources": ["/srv/nas/Afrique/"],
}


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "backup.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_minimal_config_gets_defaults(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, MINIMAL))
    assert config.sources == ("/srv/nas/Afrique",)
    assert config.retention.keep() == {"last": 0, "hourly": 0, "daily": 7, "weekly": 4,
                                       "monthly": 12, "yearly": 0, "within": None}
    assert config.check.read_data_subset == "5%"
    assert config.drill.sample_files == 50
    assert config.state_directory == "/var/lib/nasops/backup"
    assert [repository.name for repository in config.repository(None)] == ["usb"]


@pytest.mark.parametrize(("change", "message"), [
    ({"sources": ["srv/nas"]}, "sources.0: 'srv/nas' must be an absolute path"),
    ({"sources": []}, "sources: is required: list at least one"),
    ({"sources": "/srv"}, "sources: must be a list"),
    ({"retention": {"daily": 0, "weekly": 0, "monthly": 0}}, "retention: this retention keeps "
     "no snapshot at all"),
    ({"retention": {"within": "30 days"}}, "retention.within: '30 days' is not valid; write it "
     "like 30d"),
    ({"retention": {"daily": True}}, "retention.daily: must be a whole number from 0 to 10000"),
    ({"check": {"read_data_subset": "lots"}}, "check.read_data_subset: 'lots' is not valid"),
    ({"drill": {"sample_files": 0}}, "drill.sample_files: must be a whole number from 1"),
    ({"drill": {"sample": 3}}, "drill.sample: unknown key"),
    ({"colour": "blue"}, "colour: unknown key"),
    ({"lock_wait_seconds": -1}, "lock_wait_seconds: must be seconds from 0 to 86400"),
    ({"exclude_caches": "yes"}, "exclude_caches: must be true or false"),
    ({"version": 2}, "version: must be 1"),
    ({"repositories": [MINIMAL["repositories"][0], MINIMAL["repositories"][0]]},
     "repositories: names must be unique: usb"),
    ({"repositories": [{"name": "USB", "url": "/x", "password_file": "/p"}]},
     "repositories.0.name: 'USB' is not valid"),
    ({"repositories": [{"name": "usb", "password_file": "/p"}]}, "repositories.0.url: is "
     "required"),
    ({"repositories": ["usb"]}, "repositories.0: must be a JSON object"),
    ({"repositories": [{"name": "usb", "url": "/x", "password_file": "p"}]},
     "repositories.0.password_file: 'p' must be an absolute path"),
])
def test_invalid_configs_name_the_problem(tmp_path: Path, change: dict[str, Any],
                                          message: str) -> None:
    with pytest.raises(BackupConfigError) as raised:
        load_config(_write(tmp_path, {**MINIMAL, **change}))
    assert message in str(raised.value)
    assert str(raised.value).startswith(str(tmp_path / "backup.json"))
    assert raised.value.exit_code == EXIT_BAD_INPUT


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(BackupConfigError, match="backup config not found"):
        load_config(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "sources": [,]\n}', encoding="utf-8")
    with pytest.raises(BackupConfigError, match=r"broken.json:2:\d+: not valid JSON"):
        load_config(broken)


def test_unknown_repository_lists_the_known_ones(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, MINIMAL))
    with pytest.raises(BackupConfigError, match=r"no repository named 'usbb' \(configured: usb\)"):
        config.repository("usbb")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(BackupConfigError) as raised:
        load_config(_write(tmp_path, {"sources": ["a", "/b", "c"], "colour": 1}))
    lines = str(raised.value).splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [
        "colour: unknown key", "repositories: is required: list at least one",
        "sources.0: 'a' must be an absolute path", "sources.2: 'c' must be an absolute path"]


def test_top_level_must_be_an_object(tmp_path: Path) -> None:
    with pytest.raises(BackupConfigError, match=r"\(top level\): must be a JSON object"):
        load_config(_write(tmp_path, ["not", "an", "object"]))
