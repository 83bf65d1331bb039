"""Contents the roles compute for nasops.nas.host, templated by Ansible's own Templar.

In a folded YAML value, a quoted backslash-n inside `{{ }}` stays two characters: a password
file would then end with a literal backslash and `n`, and restic would use that as the
password. These tests template the roles' expressions exactly as a play would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLES = Path(__file__).parents[2] / "roles"


def _trusted(value: Any) -> Any:
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    if isinstance(value, dict):
        return {key: _trusted(item) for key, item in value.items()}
    return value


def _role_vars(role: str) -> dict[str, Any]:
    return _trusted(yaml.safe_load((ROLES / role / "vars/main.yml").read_text()))


def _templar(variables: dict[str, Any]) -> Templar:
    return Templar(loader=DataLoader(), variables=variables)


EXPORTER = {"nas_exporter_config_directory": "/etc/nasops",
            "nas_exporter_user": "nasops-exporter", "nas_exporter_sync_enabled": True,
            "nas_exporter_tls_key": "-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
            "nas_exporter_basic_auth_users": ["alice:$2b$12$x", "bob:$2b$12$y"],
            "nas_exporter_syncthing_api_key": "k" * 32}


def test_exporter_secret_files_end_with_a_real_newline() -> None:
    variables = {**_role_vars("nas_exporter"), **EXPORTER}
    files = _templar(variables).template(variables["nas_exporter_secret_files"])
    contents = {Path(item["dest"]).name: item["content"] for item in files}
    assert contents == {"exporter.key": "-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
                        "exporter.users": "alice:$2b$12$x\nbob:$2b$12$y\n",
                        "syncthing-api-key": "k" * 32 + "\n"}
    assert {(item["group"], item["mode"]) for item in files} == {("nasops-exporter", "0640")}


def test_an_unconfigured_secret_file_is_absent_without_any_content() -> None:
    variables = {**_role_vars("nas_exporter"), **EXPORTER, "nas_exporter_tls_key": "  \n",
                 "nas_exporter_basic_auth_users": [], "nas_exporter_sync_enabled": False}
    files = _templar(variables).template(variables["nas_exporter_secret_files"])
    assert [(item.get("state"), "content" in item) for item in files] == [("absent", False)] * 3


def test_backup_password_files_hold_exactly_the_password_and_a_newline() -> None:
    tasks = yaml.safe_load((ROLES / "nas_backup/tasks/enabled.yml").read_text())
    listing = next(task for task in tasks
                   if "nas_backup_password_files" in task.get("ansible.builtin.set_fact", {})
                   and task.get("loop"))
    expression = _trusted(listing["ansible.builtin.set_fact"]["nas_backup_password_files"])
    variables = {**_role_vars("nas_backup"), "nas_backup_password_files": [],
                 "nas_backup_passwords": {"usb": "s3cret-Pa55"},
                 "item": {"name": "usb"}}
    files = _templar(variables).template(expression)
    assert files == [{"dest": "/etc/nasops/restic/usb.password", "content": "s3cret-Pa55\n",
                      "mode": "0600"}]


def test_known_hosts_lines_are_joined_by_newlines() -> None:
    variables = {**_role_vars("nas_backup"), "nas_backup_known_hosts": ["a ssh-ed25519 X",
                                                                         "b ssh-ed25519 Y"]}
    files = _templar(variables).template(variables["nas_backup_ssh_files"])
    assert files[0]["content"] == "a ssh-ed25519 X\nb ssh-ed25519 Y\n"
