"""`nasops secrets init`: creates 0600 files, adds only missing keys, refuses vault files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from nasops.ansible.tools import ansible_tool
from nasops.cli.main import main
from nasops.execute import MASKER, run_command

SPECS = Path(__file__).parent / "fixtures" / "ansible" / "specs"


def _inventory(directory: Path, secrets: str = "secrets/nas.yml") -> Path:
    inventory = directory / "inventory.ini"
    inventory.write_text(
        "[nas]\n"
        f"tiny-nas nasops_spec={SPECS / 'small.yml'} nasops_secrets_file={secrets}\n"
        f"other-nas nasops_spec={SPECS / 'other.yml'} nasops_secrets_file=other.yml\n",
        encoding="utf-8")
    return inventory


def _load(path: Path) -> dict[str, object]:
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_init_creates_private_files_with_every_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = _inventory(tmp_path)
    assert main(["secrets", "init", "-i", str(inventory)]) == 0
    tiny, other = tmp_path / "secrets" / "nas.yml", tmp_path / "other.yml"
    assert stat.S_IMODE(tiny.stat().st_mode) == 0o600
    data = _load(tiny)
    assert list(data) == ["nasops_user_passwords", "nasops_restic_passwords",
                          "nasops_syncthing_api_key"]
    passwords = data["nasops_user_passwords"]
    assert isinstance(passwords, dict) and sorted(passwords) == ["alice", "bob"]
    assert len(set(passwords.values())) == 2
    assert all(len(value) >= 30 for value in passwords.values())
    assert list(_load(other)) == ["nasops_user_passwords", "nasops_syncthing_api_key"]
    output = capsys.readouterr()
    printed = output.out + output.err
    for value in [*passwords.values(), data["nasops_syncthing_api_key"]]:
        assert str(value) not in printed
        assert MASKER.mask(str(value)) == "********"
    assert f"tiny-nas: {tiny}: created with 2 user password(s), 1 restic password(s), " \
           "the Syncthing API key" in output.out


def test_init_is_idempotent_and_adds_only_missing_keys(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = _inventory(tmp_path)
    assert main(["secrets", "init", "-i", str(inventory)]) == 0
    tiny = tmp_path / "secrets" / "nas.yml"
    first = tiny.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["secrets", "init", "-i", str(inventory)]) == 0
    assert tiny.read_text(encoding="utf-8") == first
    assert "complete, nothing to add" in capsys.readouterr().out
    # Someone added a comment and a key of their own, and removed bob's password.
    edited = first.replace("nasops_user_passwords:\n",
                           "# our own note\nnasops_user_passwords:\n")
    edited = "\n".join(line for line in edited.splitlines() if not line.startswith("  bob:"))
    tiny.write_text(edited + "\nextra_key: keep me  # mine\n", encoding="utf-8")
    tiny.chmod(0o640)
    alice = _load(tiny)["nasops_user_passwords"]
    assert main(["secrets", "init", "-i", str(inventory)]) == 0
    after = tiny.read_text(encoding="utf-8")
    assert "# our own note" in after and "extra_key: keep me  # mine" in after
    data = _load(tiny)
    passwords = data["nasops_user_passwords"]
    assert isinstance(passwords, dict) and isinstance(alice, dict)
    assert passwords["alice"] == alice["alice"] and passwords["bob"]
    assert stat.S_IMODE(tiny.stat().st_mode) == 0o640  # the owner's choice is kept
    output = capsys.readouterr()
    assert f"tiny-nas: {tiny}: added 1 user password(s)" in output.out
    assert "readable by others" in output.err


def test_init_refuses_a_vault_encrypted_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = _inventory(tmp_path, secrets="vaulted.yml")
    vaulted = tmp_path / "vaulted.yml"
    vaulted.write_text("nasops_syncthing_api_key: abcdefgh\n", encoding="utf-8")
    password = tmp_path / "password"
    password.write_text("vault-pass\n", encoding="utf-8")
    run_command([ansible_tool("ansible-vault"), "encrypt", "--vault-password-file",
                 str(password), str(vaulted)])
    before = vaulted.read_bytes()
    assert main(["secrets", "init", "-i", str(inventory), "--limit", "tiny-nas"]) == 2
    assert vaulted.read_bytes() == before
    assert "ansible-vault edit" in capsys.readouterr().err


def test_init_names_hosts_without_a_secrets_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(f"[nas]\nlonely nasops_spec={SPECS / 'small.yml'}\n", encoding="utf-8")
    assert main(["secrets", "init", "-i", str(inventory)]) == 2
    assert "inventory host lonely: missing variable nasops_secrets_file" in capsys.readouterr().err


def test_init_rejects_a_malformed_secrets_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = _inventory(tmp_path, secrets="bad.yml")
    (tmp_path / "bad.yml").write_text("nasops_user_passwords: [alice]\n", encoding="utf-8")
    assert main(["secrets", "init", "-i", str(inventory), "--limit", "tiny-nas"]) == 2
    assert "nasops_user_passwords must be a mapping" in capsys.readouterr().err
