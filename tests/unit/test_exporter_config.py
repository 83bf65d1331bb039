"""Exporter config file: defaults, refusals with located messages, collectors it enables."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from exporter_samples import scrape

from nasops.cli.exporter import exporter
from nasops.errors import BadInputError
from nasops.exporter.auth import parse_users
from nasops.exporter.config import load_config, parse_config
from nasops.exporter.registry import build_collectors


def test_defaults_listen_on_loopback_and_enable_the_local_collectors() -> None:
    config = parse_config("{}")
    assert (config.listen_address, config.port) == ("127.0.0.1", 9750)
    names = [collector.name for collector in build_collectors(config)]
    assert names == ["backup", "drift", "samba"]  # no shares, no Syncthing configured


def test_a_full_config_enables_every_collector(tmp_path: Path) -> None:
    key_file = tmp_path / "api-key"
    key_file.write_text("secret-key\n", encoding="utf-8")
    config = parse_config(json.dumps({
        "shares": [{"name": "Afrique", "path": "/srv/nas/wsm/Afrique", "quota_bytes": 10}],
        "quota": {"method": "qgroup", "btrfs_command": ["sudo", "-n", "/usr/bin/btrfs"]},
        "syncthing": {"api_key_file": str(key_file)},
        "samba": {"command": ["sudo", "-n", "/usr/bin/smbstatus", "--json"]},
    }))
    names = [collector.name for collector in build_collectors(config)]
    assert names == ["quota", "sync", "backup", "drift", "samba"]


@pytest.mark.parametrize(("text", "message"), [
    ("{", "not valid JSON"),
    ('{"port": 70000}', "port"),
    ('{"listen_adress": "0.0.0.0"}', "listen_adress: Extra inputs are not permitted"),
    ('{"syncthing": {"url": "file:///etc/passwd", "api_key_file": "/k"}}', "syncthing.url"),
    ('{"state_directory": "relative"}', "state_directory"),
    ('{"quota": {"method": "du"}}', "quota.method"),
    ('{"samba": {"command": []}}', "samba.command"),
])
def test_bad_configs_are_refused_with_the_key_named(text: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        parse_config(text, "exporter.json")


def test_a_missing_config_file_and_an_empty_api_key_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="cannot read the exporter config"):
        load_config(tmp_path / "missing.json")
    (tmp_path / "key").write_text("\n", encoding="utf-8")
    config = parse_config(json.dumps({"syncthing": {"api_key_file": str(tmp_path / "key")}}))
    with pytest.raises(BadInputError, match="API key file is empty"):
        build_collectors(config)


def test_users_files_must_hold_bcrypt_hashes() -> None:
    with pytest.raises(BadInputError, match="users:2: expected `user:bcrypt-hash`"):
        parse_users("# comment\nprometheus:plaintext\n", "users")
    with pytest.raises(BadInputError, match="no user"):
        parse_users("\n# nothing\n", "users")


def test_hash_password_reads_standard_input_never_the_command_line() -> None:
    result = CliRunner().invoke(exporter, ["hash-password", "--user", "scraper"],
                                input="s3cret\n")
    assert result.exit_code == 0, result.output
    users = parse_users(result.output, "stdout")
    assert list(users) == ["scraper"]
    assert "s3cret" not in result.output


def test_the_command_serves_until_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "exporter.json"
    config.write_text(json.dumps({"port": 0, "state_directory": str(tmp_path),
                                  "backup_status_directory": None, "samba": None}),
                      encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "nasops", "exporter", "--config",
                                str(config)], stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.search(r"listening on (http://\S+)", line)
        assert match, line
        assert 'nasops_collector_up{collector="drift"} 1.0' in scrape(match.group(1))
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0


def test_the_command_refuses_a_bad_config_with_exit_code_2(tmp_path: Path) -> None:
    config = tmp_path / "exporter.json"
    config.write_text('{"prot": 9750}', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "nasops", "exporter", "--config",
                             str(config)], capture_output=True, text=True, timeout=30,
                            check=False)
    assert result.returncode == 2
    assert "prot: Extra inputs are not permitted" in result.stderr
