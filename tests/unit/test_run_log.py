"""The kept run directories: where they are, how they are named and pruned, secrets masked."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nasops.ansible.run_log import (
    KEEP_RUNS,
    LOG_NAME,
    RESULT_NAME,
    LogFollower,
    RunLog,
    inventory_key,
    prune_runs,
    runs_root,
)
from nasops.ansible.runner import playbook_argv
from nasops.execute import MASK, MASKER
from nasops.provision.specs import register_vault_secrets

SECRET = "Leaky-Password-4471"
START = datetime(2025, 1, 14, 9, 30, tzinfo=UTC)


def test_runs_root_follows_the_variable_then_xdg_state(tmp_path: Path) -> None:
    assert runs_root({"NASOPS_RUNS_DIR": str(tmp_path)}) == tmp_path
    assert runs_root({"XDG_STATE_HOME": "/state"}) == Path("/state/nasops/runs")
    assert runs_root({}) == Path("~/.local/state/nasops/runs").expanduser()


def test_inventories_of_the_same_name_in_two_places_keep_apart(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "inventory.yml", tmp_path / "b" / "inventory.yml"
    for path in (first, second):
        path.parent.mkdir()
        path.write_text("all: {}\n", encoding="utf-8")
    assert inventory_key(str(first)).startswith("inventory.yml-")
    assert inventory_key(str(first)) != inventory_key(str(second))
    # The same file named two ways is one inventory.
    assert inventory_key(str(first)) == inventory_key(str(tmp_path / "b/../a/inventory.yml"))
    # A host list (not a file) becomes a safe folder name.
    assert "/" not in inventory_key("192.0.2.1,../../etc,")


def test_run_directory_is_private_and_named_by_time_and_command(tmp_path: Path) -> None:
    run_log = RunLog.create("apply", "inventory.yml", root=tmp_path, now=START)
    assert run_log.directory.name == "20250114T093000.000000Z-apply"
    assert run_log.path == run_log.directory / LOG_NAME
    assert stat.S_IMODE(run_log.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(run_log.path.stat().st_mode) == 0o600
    again = RunLog.create("apply", "inventory.yml", root=tmp_path, now=START)
    assert again.directory.name == "20250114T093000.000000Z-apply-2"
    run_log.write_result({"command": "apply"})
    assert stat.S_IMODE((run_log.directory / RESULT_NAME).stat().st_mode) == 0o600


def test_only_the_newest_runs_of_an_inventory_are_kept(tmp_path: Path) -> None:
    other = RunLog.create("plan", "other.yml", root=tmp_path, now=START)
    runs = [RunLog.create("drift", "inventory.yml", root=tmp_path, keep=5,
                          now=START + timedelta(minutes=minute)) for minute in range(8)]
    parent = runs[0].directory.parent
    stray = parent / "notes.txt"
    stray.write_text("mine", encoding="utf-8")
    looks_like_a_run = tmp_path / "elsewhere"
    looks_like_a_run.mkdir()
    (parent / "20000101T000000.000000Z-plan").symlink_to(looks_like_a_run)
    assert prune_runs(parent, keep=5) == []  # the link is not a run directory
    kept = sorted(entry.name for entry in parent.iterdir()
                  if entry.is_dir() and not entry.is_symlink())
    assert kept == [run.directory.name for run in runs[3:]]
    assert stray.exists() and looks_like_a_run.exists() and other.directory.exists()
    assert KEEP_RUNS == 20


def test_follower_masks_secrets_line_by_line_and_keeps_the_end(tmp_path: Path) -> None:
    MASKER.add(SECRET)
    raw = tmp_path / "raw.log"
    raw.write_text("from an earlier pass\n", encoding="utf-8")
    run_log = RunLog.create("apply", "inventory.yml", root=tmp_path / "runs", now=START)
    shown: list[str] = []
    follower = LogFollower(raw, run_log, shown.append)
    with raw.open("a", encoding="utf-8") as stream:
        stream.write(f"ok: [nas] => {{\"msg\": \"{SECRET}\"}}\npartial line without end")
    follower.follow()
    assert shown == [f'ok: [nas] => {{"msg": "{MASK}"}}']
    with raw.open("a", encoding="utf-8") as stream:
        stream.write(f" and {SECRET}")
    follower.follow(final=True)
    kept = run_log.path.read_text(encoding="utf-8")
    assert SECRET not in kept and "from an earlier pass" not in kept
    assert kept == (f'ok: [nas] => {{"msg": "{MASK}"}}\n'
                    f"partial line without end and {MASK}\n")
    assert shown[-1] == f"partial line without end and {MASK}"


def test_vault_password_and_encrypted_secrets_are_masked(tmp_path: Path) -> None:
    from ansible.parsing.vault import VaultLib, VaultSecret  # noqa: PLC0415

    password, value = "Vault-Word-9902", "Encrypted-Secret-5150"
    password_file = tmp_path / "vault-password"
    password_file.write_text(password + "\n", encoding="utf-8")
    vault = VaultLib([("default", VaultSecret(password.encode()))])
    secrets = tmp_path / "secrets.yml"
    secrets.write_bytes(vault.encrypt(f"nasops_user_passwords: {{alice: {value}}}\n"))
    assert MASKER.mask(value) == value
    register_vault_secrets(secrets, str(password_file))
    assert MASKER.mask(f"{password} {value}") == f"{MASK} {MASK}"


@pytest.mark.parametrize(("verbosity", "flag"), [(0, None), (1, "-v"), (2, "-vv"), (3, "-vvv")])
def test_verbosity_reaches_ansible_playbook(tmp_path: Path, verbosity: int,
                                            flag: str | None) -> None:
    argv = playbook_argv(tmp_path, "inventory.yml", tmp_path / "inventory", ["a"],
                         check=True, verbosity=verbosity)
    flags = [part for part in argv if part.startswith("-v")]
    assert flags == ([flag] if flag else [])
