"""ansible-inventory's answers kept between commands (nasops.ansible.inventory_cache): a kept
answer is used only while every file it was read from is unchanged, and nothing dynamic,
vaulted or secret-looking is kept. Real ansible-inventory runs; the one it would run again is
counted by wrapping nasops's command runner."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nasops.ansible import inventory as inventory_module
from nasops.ansible.inventory import list_inventory
from nasops.errors import BadInputError
from nasops.execute import run_command

INVENTORY = """all:
  children:
    nas:
      hosts:
        nas1: {ansible_host: 127.0.0.40, nasops_spec: wsm.yml, nasops_secrets_file: s.yml}
"""


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[list[str]]:
    """The ansible-inventory runs made (each still made for real), with a private cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    made: list[list[str]] = []

    def counted(argv: list[str], **options: Any) -> Any:
        made.append(argv)
        return run_command(argv, **options)

    monkeypatch.setattr(inventory_module, "run_command", counted)
    return made


def _host(data: dict[str, Any], name: str = "nas1") -> dict[str, Any]:
    return data["_meta"]["hostvars"][name]  # type: ignore[no-any-return]


def test_an_unchanged_inventory_is_read_once_and_every_change_is_seen(
        tmp_path: Path, runs: list[list[str]]) -> None:
    inventory = tmp_path / "site" / "inventory.yml"
    inventory.parent.mkdir()
    inventory.write_text(INVENTORY, encoding="utf-8")
    first = list_inventory(str(inventory))
    assert list_inventory(str(inventory)) == first
    assert len(runs) == 1
    entries = list((tmp_path / "cache" / "nasops" / "inventory").iterdir())
    assert [stat.S_IMODE(entry.stat().st_mode) for entry in entries] == [0o600]
    # Every file the answer is read from changes it: host_vars, group_vars, the file itself.
    (inventory.parent / "host_vars").mkdir()
    (inventory.parent / "host_vars" / "nas1.yml").write_text("colour: blue\n", encoding="utf-8")
    assert _host(list_inventory(str(inventory)))["colour"] == "blue"
    (inventory.parent / "group_vars" / "nas").mkdir(parents=True)
    (inventory.parent / "group_vars" / "nas" / "main.yml").write_text("size: 3\n",
                                                                       encoding="utf-8")
    assert _host(list_inventory(str(inventory)))["size"] == 3
    (inventory.parent / "host_vars" / "nas1.yml").write_text("colour: red\n", encoding="utf-8")
    assert _host(list_inventory(str(inventory)))["colour"] == "red"
    inventory.write_text(INVENTORY.replace("127.0.0.40", "127.0.0.41"), encoding="utf-8")
    assert _host(list_inventory(str(inventory)))["ansible_host"] == "127.0.0.41"
    assert len(runs) == 5
    # A limit and an ANSIBLE_ variable are part of the question.
    list_inventory(str(inventory), limit="nas1")
    list_inventory(str(inventory), environment={"ANSIBLE_INVENTORY_ENABLED": "yaml"})
    assert len(runs) == 7
    list_inventory(str(inventory), limit="nas1")
    assert len(runs) == 7


@pytest.mark.parametrize(("name", "content", "executable"), [
    ("plugin.yml", "plugin: ansible.builtin.constructed\nstrict: false\n", False),
    ("script.sh", "#!/bin/sh\necho '{\"nas\": {\"hosts\": [\"nas1\"]}, \"_meta\": "
                  "{\"hostvars\": {}}}'\n", True),
    ("secret.yml", INVENTORY.replace("s.yml}", "s.yml, ansible_become_password: hunter2}"),
     False),
    ("secret.ini", "[nas]\nnas1 ansible_password=hunter2\n", False),
    ("vaulted.yml", INVENTORY.replace("s.yml}", "s.yml, x: !vault \"$ANSIBLE_VAULT;1.1;AES256"
                                       "\\n3132\"}"), False),
])
def test_dynamic_vaulted_or_secret_inventories_are_asked_every_time(
        tmp_path: Path, runs: list[list[str]], name: str, content: str,
        executable: bool) -> None:
    inventory = tmp_path / name
    inventory.write_text(content, encoding="utf-8")
    if executable:
        inventory.chmod(0o755)
    for _ in range(2):
        # Only the number of runs matters here (the vaulted value needs a password).
        with contextlib.suppress(BadInputError):
            list_inventory(str(inventory))
    assert len(runs) == 2
    directory = tmp_path / "cache" / "nasops" / "inventory"
    assert not directory.exists() or not list(directory.iterdir())


def test_a_directory_inventory_or_a_vault_password_is_asked_every_time(
        tmp_path: Path, runs: list[list[str]]) -> None:
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "hosts.yml").write_text(INVENTORY, encoding="utf-8")
    password = tmp_path / "vault-password"
    password.write_text("x\n", encoding="utf-8")
    for _ in range(2):
        list_inventory(str(tmp_path / "inventory"))
        list_inventory(str(tmp_path / "inventory" / "hosts.yml"),
                       vault_password_file=str(password))
    assert len(runs) == 4


def test_a_cache_others_can_change_is_not_used(tmp_path: Path,
                                                runs: list[list[str]]) -> None:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(INVENTORY, encoding="utf-8")
    directory = tmp_path / "cache" / "nasops" / "inventory"
    directory.mkdir(parents=True)
    directory.chmod(0o777)
    for _ in range(2):
        list_inventory(str(inventory))
    assert len(runs) == 2 and not list(directory.iterdir())
    # A kept answer damaged on disk (a full disk, a crash) is asked again.
    directory.chmod(0o700)
    list_inventory(str(inventory))
    [entry] = directory.iterdir()
    entry.write_text("{not json", encoding="utf-8")
    assert _host(list_inventory(str(inventory)))["ansible_host"] == "127.0.0.40"
    assert len(runs) == 4


def test_an_answer_unused_for_a_week_is_removed(tmp_path: Path,
                                                runs: list[list[str]]) -> None:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(INVENTORY, encoding="utf-8")
    list_inventory(str(inventory))
    directory = tmp_path / "cache" / "nasops" / "inventory"
    [old] = directory.iterdir()
    os.utime(old, (0, 0))
    inventory.write_text(INVENTORY + "\n", encoding="utf-8")
    list_inventory(str(inventory))
    assert old not in list(directory.iterdir()) and len(list(directory.iterdir())) == 1


def _site(tmp_path: Path) -> Path:
    inventory = tmp_path / "site" / "inventory.yml"
    inventory.parent.mkdir(exist_ok=True)
    inventory.write_text(INVENTORY, encoding="utf-8")
    return inventory


def test_a_vault_password_from_the_environment_keeps_nothing(
        tmp_path: Path, runs: list[list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    # ansible-inventory decrypts vaulted group_vars when a password is configured: the
    # decrypted values must never reach the cache, whatever their names.
    inventory = _site(tmp_path)
    password = tmp_path / "vault-password"
    password.write_text("correct horse\n", encoding="utf-8")
    plain = tmp_path / "plain.yml"
    plain.write_text("colour: hunter2\n", encoding="utf-8")
    (inventory.parent / "group_vars").mkdir()
    vaulted = inventory.parent / "group_vars" / "nas.yml"
    subprocess.run([str(Path(sys.executable).parent / "ansible-vault"), "encrypt",
                    "--vault-password-file", str(password), "--output", str(vaulted),
                    str(plain)], check=True, capture_output=True)
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(password))
    for _ in range(2):
        assert _host(list_inventory(str(inventory)))["colour"] == "hunter2"
    assert len(runs) == 2
    assert not any((tmp_path / "cache").rglob("*.json"))


def test_ansible_cfg_is_part_of_the_question_and_far_reading_settings_keep_nothing(
        tmp_path: Path, runs: list[list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    inventory = _site(tmp_path)
    monkeypatch.chdir(tmp_path)
    configuration = tmp_path / "configuration"
    configuration.mkdir()
    (configuration / "ansible.cfg").write_text("[defaults]\nforks = 5\n", encoding="utf-8")
    # ANSIBLE_CONFIG naming a folder: Ansible reads the ansible.cfg in it.
    monkeypatch.setenv("ANSIBLE_CONFIG", str(configuration))
    list_inventory(str(inventory))
    list_inventory(str(inventory))
    assert len(runs) == 1
    (configuration / "ansible.cfg").write_text("[defaults]\nforks = 6\n", encoding="utf-8")
    list_inventory(str(inventory))
    assert len(runs) == 2
    (configuration / "ansible.cfg").write_text(
        "[defaults]\nplaybook_dir = /srv\n", encoding="utf-8")
    list_inventory(str(inventory))
    list_inventory(str(inventory))
    assert len(runs) == 4
    monkeypatch.delenv("ANSIBLE_CONFIG")
    for name in ("ANSIBLE_PLAYBOOK_DIR", "ANSIBLE_VARS_ENABLED", "ANSIBLE_HOME"):
        monkeypatch.setenv(name, str(tmp_path))
        list_inventory(str(inventory))
        list_inventory(str(inventory))
        monkeypatch.delenv(name)
    assert len(runs) == 10


def test_linked_folders_limit_files_and_quoted_plugin_keys_keep_nothing(
        tmp_path: Path, runs: list[list[str]]) -> None:
    inventory = _site(tmp_path)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "main.yml").write_text("colour: blue\n", encoding="utf-8")
    (inventory.parent / "group_vars").mkdir()
    (inventory.parent / "group_vars" / "nas").symlink_to(tmp_path / "shared")
    assert _host(list_inventory(str(inventory)))["colour"] == "blue"
    (tmp_path / "shared" / "main.yml").write_text("colour: red\n", encoding="utf-8")
    assert _host(list_inventory(str(inventory)))["colour"] == "red"
    (inventory.parent / "group_vars" / "nas").unlink()
    (tmp_path / "hosts.txt").write_text("nas1\n", encoding="utf-8")
    for _ in range(2):
        list_inventory(str(inventory), limit=f"nas1,@{tmp_path / 'hosts.txt'}")
    quoted = tmp_path / "quoted.yml"
    quoted.write_text('"plugin": ansible.builtin.constructed\n', encoding="utf-8")
    for _ in range(2):
        with contextlib.suppress(BadInputError):
            list_inventory(str(quoted))
    assert len(runs) == 6


def test_a_file_changed_while_ansible_reads_it_is_not_kept_under_its_old_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    inventory = _site(tmp_path)

    def edited_meanwhile(argv: list[str], **options: Any) -> Any:
        done = run_command(argv, **options)
        inventory.write_text(INVENTORY.replace("127.0.0.40", "127.0.0.41"), encoding="utf-8")
        return done

    monkeypatch.setattr(inventory_module, "run_command", edited_meanwhile)
    list_inventory(str(inventory))
    assert not any((tmp_path / "cache").rglob("*.json"))


def test_a_cache_that_cannot_be_written_or_odd_names_never_stop_a_command(
        tmp_path: Path, runs: list[list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    inventory = _site(tmp_path)
    (inventory.parent / "host_vars").mkdir()
    (inventory.parent / "host_vars" / os.fsdecode(b"notes-\xe9.txt")).write_bytes(b"x\n")
    monkeypatch.setenv("ANSIBLE_NOCOLOR", os.fsdecode(b"\xff"))
    real_open = os.open

    def read_only(path: Any, flags: int, *arguments: Any) -> int:
        if flags & os.O_CREAT:  # a read-only disk: creating and removing both refused
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *arguments)

    monkeypatch.setattr(os, "open", read_only)
    monkeypatch.setattr(Path, "unlink", lambda *_, **__: (_ for _ in ()).throw(
        OSError(errno.EROFS, "Read-only file system")))
    assert _host(list_inventory(str(inventory)))["ansible_host"] == "127.0.0.40"
    assert len(runs) == 1
