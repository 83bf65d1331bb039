"""The per-run workspace: every spec validated first, then a private second inventory."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from nasops.ansible.inventory import TargetHost
from nasops.compile import compile_spec, desired_fingerprint
from nasops.errors import EXIT_BAD_INPUT, BadInputError, SpecError
from nasops.execute import MASKER
from nasops.provision.specs import prepared_workspace, register_plain_secrets
from nasops.spec import load_spec

SPECS = Path(__file__).parent / "fixtures" / "ansible" / "specs"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_workspace_files_and_cleanup(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.yml"
    targets = [TargetHost("tiny-nas", SPECS / "small.yml", secrets),
               TargetHost("other-nas", SPECS / "other.yml", secrets)]
    with prepared_workspace(targets) as workspace:
        directory = workspace.directory
        assert _mode(directory) == 0o700
        assert workspace.hosts == ["tiny-nas", "other-nas"]
        listing = json.loads((workspace.inventory_path / "inventory.yml").read_text()
                             .split("\n", 1)[1])
        assert listing == {"all": {"hosts": {"tiny-nas": None, "other-nas": None}}}
        host_file = workspace.inventory_path / "host_vars" / "tiny-nas.json"
        assert _mode(host_file) == 0o600
        variables = json.loads(host_file.read_text(encoding="utf-8"))
        assert variables["nasops_secrets_file"] == str(secrets)
        compiled = compile_spec(load_spec(SPECS / "small.yml").spec)
        # The whole state in the file; in the variable, the same without the folder trees.
        desired_file = Path(variables["nasops_desired_file"])
        assert json.loads(desired_file.read_text(encoding="utf-8")) == compiled
        # The fingerprint `nasops compile` prints for the same spec.
        assert variables["nasops_desired_fingerprint"] == desired_fingerprint(compiled)
        assert variables["nasops_desired"] == {**compiled, "shares": [
            {key: value for key, value in share.items() if key != "folders"}
            for share in compiled["shares"]]}
        assert all(share["folders"] for share in compiled["shares"])
        assert variables["nasops_desired"]["organizations"][0]["root"] == "/srv/nas/tiny"
    assert not directory.exists()


def test_workspace_is_removed_when_the_run_raises() -> None:
    targets = [TargetHost("tiny-nas", SPECS / "small.yml", None)]
    with pytest.raises(RuntimeError), prepared_workspace(targets) as workspace:
        directory = workspace.directory
        raise RuntimeError("ansible exploded")
    assert not directory.exists()


def test_every_spec_problem_is_reported_before_anything_is_written(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text((SPECS / "broken.yml").read_text(encoding="utf-8"), encoding="utf-8")
    also_broken = tmp_path / "also.yml"
    also_broken.write_text("organization: {id: Bad Id}\n", encoding="utf-8")
    targets = [TargetHost("a", broken, None), TargetHost("b", also_broken, None),
               TargetHost("c", SPECS / "small.yml", None)]
    before = set(Path("/tmp").glob("nasops-run-*"))
    with pytest.raises(SpecError) as caught, prepared_workspace(targets):
        pytest.fail("the workspace must not be created")
    message = str(caught.value)
    assert caught.value.exit_code == EXIT_BAD_INPUT
    assert f"{broken}:4" in message and "Nobody" in message
    assert f"{also_broken}:1" in message
    assert set(Path("/tmp").glob("nasops-run-*")) == before


def test_missing_spec_file_names_the_host(tmp_path: Path) -> None:
    targets = [TargetHost("a", tmp_path / "gone.yml", None),
               TargetHost("b", SPECS / "broken.yml", None)]
    with pytest.raises(BadInputError) as caught, prepared_workspace(targets):
        pass
    lines = str(caught.value).splitlines()
    assert lines[0] == f"inventory host a: {tmp_path / 'gone.yml'}: no such spec file"
    assert any("Nobody" in line for line in lines[1:])


def test_plain_secrets_are_registered_with_the_masker(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.yml"
    secrets.write_text("nasops_user_passwords:\n  alice: Sesame-Open-4242\n", encoding="utf-8")
    register_plain_secrets(secrets)
    assert MASKER.mask("login failed for Sesame-Open-4242") == "login failed for ********"
    # A vault file cannot be read without its password: it is left alone.
    vault = tmp_path / "vault.yml"
    vault.write_text("$ANSIBLE_VAULT;1.1;AES256\n6162\n", encoding="utf-8")
    register_plain_secrets(vault)
