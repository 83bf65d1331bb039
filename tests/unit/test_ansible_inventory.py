"""Reading the user's inventory through the real ansible-inventory, in YAML and INI form."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasops.ansible.inventory import (
    TargetHost,
    group_hosts,
    inventory_base,
    read_targets,
    require_secrets,
    require_vault_password,
    target_hosts,
)
from nasops.ansible.tools import ansible_tool
from nasops.errors import EXIT_BAD_INPUT, BadInputError
from nasops.execute import run_command

FIXTURES = Path(__file__).parent / "fixtures" / "ansible"
YAML_INVENTORY = FIXTURES / "inventories" / "yaml" / "inventory.yml"
INI_INVENTORY = FIXTURES / "inventories" / "ini" / "hosts.ini"
SMALL_SPEC = (FIXTURES / "specs" / "small.yml").resolve()
OTHER_SPEC = (FIXTURES / "specs" / "other.yml").resolve()


def test_yaml_inventory_targets_group_nas_and_its_children() -> None:
    targets = {target.name: target for target in read_targets(str(YAML_INVENTORY))}
    assert sorted(targets) == ["other-nas", "tiny-nas"]  # the printer is not a NAS
    assert targets["tiny-nas"].spec_path == SMALL_SPEC
    assert targets["tiny-nas"].secrets_path == YAML_INVENTORY.parent / "secrets" / "tiny.yml"
    assert targets["other-nas"].spec_path == OTHER_SPEC
    assert targets["other-nas"].secrets_path is None


def test_limit_is_applied_by_ansible_inventory() -> None:
    targets = read_targets(str(YAML_INVENTORY), limit="brussels")
    assert [target.name for target in targets] == ["tiny-nas"]
    targets = read_targets(str(YAML_INVENTORY), limit="nas:!tiny-nas")
    assert [target.name for target in targets] == ["other-nas"]


def test_limit_matching_nothing_is_bad_input() -> None:
    with pytest.raises(BadInputError, match="no host of group 'nas'"):
        read_targets(str(YAML_INVENTORY), limit="no-such-host")


def test_ini_inventory_missing_spec_names_host_and_variable() -> None:
    with pytest.raises(BadInputError) as caught:
        read_targets(str(INI_INVENTORY))
    assert caught.value.exit_code == EXIT_BAD_INPUT
    assert str(caught.value) == (
        "inventory host other-nas: missing variable nasops_spec (the spec file, relative to "
        "the inventory; or nasops_specs, several organisations' specs); set it or pass --spec"
    )


def test_ini_inventory_group_vars_and_limit() -> None:
    [target] = read_targets(str(INI_INVENTORY), limit="tiny-nas")
    assert target == TargetHost("tiny-nas", SMALL_SPEC,
                                INI_INVENTORY.parent / "secrets" / "shared.yml")


def test_spec_override_replaces_every_host_spec(tmp_path: Path) -> None:
    override = tmp_path / "override.yml"
    targets = read_targets(str(INI_INVENTORY), spec_override=str(override))
    assert [target.spec_path for target in targets] == [override, override]


def test_missing_inventory_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such inventory"):
        read_targets(str(tmp_path / "nope.yml"))


def test_inventory_ansible_cannot_parse_is_bad_input(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("all:\n  hosts: [unclosed\n", encoding="utf-8")
    # ansible-inventory only warns about an unparsable source, so no NAS host is found.
    with pytest.raises(BadInputError):
        read_targets(str(broken))


def test_group_hosts_follows_children_once() -> None:
    data = {"nas": {"hosts": ["a"], "children": ["site", "loop"]},
            "site": {"hosts": ["b", "a"]}, "loop": {"children": ["nas"]}}
    assert group_hosts(data, "nas") == ["a", "b"]


def test_relative_paths_resolve_against_inventory_directory(tmp_path: Path) -> None:
    data = {"nas": {"hosts": ["n"]},
            "_meta": {"hostvars": {"n": {"nasops_spec": "specs/x.yml",
                                         "nasops_secrets_file": "/abs/secrets.yml"}}}}
    [target] = target_hosts(data, tmp_path)
    assert target.spec_path == tmp_path / "specs" / "x.yml"
    assert target.secrets_path == Path("/abs/secrets.yml")


def test_inventory_base_for_file_directory_and_host_list(tmp_path: Path) -> None:
    assert inventory_base(str(YAML_INVENTORY)) == YAML_INVENTORY.parent.resolve()
    assert inventory_base(str(tmp_path)) == tmp_path.resolve()
    assert inventory_base("host-a,host-b") == Path.cwd()


def test_require_secrets_names_each_problem(tmp_path: Path) -> None:
    targets = [TargetHost("a", SMALL_SPEC, None),
               TargetHost("b", SMALL_SPEC, tmp_path / "missing.yml")]
    with pytest.raises(BadInputError) as caught:
        require_secrets(targets)
    lines = str(caught.value).splitlines()
    assert "inventory host a: missing variable nasops_secrets_file" in lines[0]
    assert "nasops secrets init" in lines[1]


def test_require_vault_password_for_encrypted_secrets(tmp_path: Path) -> None:
    password = tmp_path / "vault-password"
    password.write_text("correct horse\n", encoding="utf-8")
    secrets = tmp_path / "secrets.yml"
    secrets.write_text("nasops_syncthing_api_key: abcdef\n", encoding="utf-8")
    targets = [TargetHost("a", SMALL_SPEC, secrets)]
    require_vault_password(targets, None, environment={})  # plain: nothing needed
    run_command([ansible_tool("ansible-vault"), "encrypt", "--vault-password-file", str(password),
                 str(secrets)])
    with pytest.raises(BadInputError, match="--vault-password-file"):
        require_vault_password(targets, None, environment={})
    require_vault_password(targets, str(password), environment={})
