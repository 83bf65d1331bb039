"""The lab's Ansible inventory and ssh command: the host key is pinned, never trusted blindly."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from nasops.lab.inventory import inventory_data, render_inventory, write_inventory
from nasops.lab.model import LabHost
from nasops.lab.ssh import ssh_argv


def make_host(directory: Path = Path("/var/lib/nasops/lab/nas")) -> LabHost:
    return LabHost(
        name="nas",
        address="127.0.0.2",
        hostname="nas",
        state_directory=directory,
        root_path=directory / "root",
        volume_mount_path=directory / "data",
        volume_path="/srv/nas",
        private_key_path=directory / "ssh/id_ed25519",
        known_hosts_path=directory / "ssh/known_hosts",
        inventory_path=directory / "inventory.yml",
        nspawn_pid=1234,
    )


def test_inventory_puts_the_host_in_group_nas_with_pinned_ssh() -> None:
    loaded = YAML(typ="safe").load(render_inventory(make_host()))
    host_vars = loaded["all"]["children"]["nas"]["hosts"]["nas"]
    assert host_vars["ansible_host"] == "127.0.0.2"
    assert host_vars["ansible_user"] == "root"
    assert host_vars["ansible_python_interpreter"] == "/usr/bin/python3"
    assert host_vars["ansible_ssh_private_key_file"] == "/var/lib/nasops/lab/nas/ssh/id_ed25519"
    options = shlex.split(host_vars["ansible_ssh_common_args"])
    assert "UserKnownHostsFile=/var/lib/nasops/lab/nas/ssh/known_hosts" in options
    assert "StrictHostKeyChecking=yes" in options


def test_extra_vars_such_as_the_spec_are_added() -> None:
    data = inventory_data(make_host(), {"nasops_spec": "/etc/nasops/wsm.yml"}, group="offsite")
    assert data["all"]["children"]["offsite"]["hosts"]["nas"]["nasops_spec"] == (
        "/etc/nasops/wsm.yml"
    )


def test_write_inventory_writes_the_file(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    write_inventory(host, {"nasops_spec": "spec.yml"})
    assert "nasops_spec: spec.yml" in host.inventory_path.read_text()


def test_ssh_command_pins_the_host_key_and_never_prompts() -> None:
    argv = ssh_argv(make_host(), ["ls", "-l", "/srv/nas/Rapports de mission"])
    joined = " ".join(argv)
    assert "StrictHostKeyChecking=yes" in argv
    assert "BatchMode=yes" in argv
    assert "StrictHostKeyChecking=no" not in joined
    assert "root@127.0.0.2" in argv
    # The remote shell gets one string that splits back into the same words.
    assert shlex.split(argv[-1]) == ["ls", "-l", "/srv/nas/Rapports de mission"]


def test_interactive_ssh_asks_for_a_terminal() -> None:
    argv = ssh_argv(make_host(), interactive=True)
    assert "-t" in argv and argv[-1] == "root@127.0.0.2"


def test_a_host_with_an_admin_user_is_reached_as_it_with_become() -> None:
    from dataclasses import replace  # noqa: PLC0415

    from nasops.errors import BadInputError  # noqa: PLC0415
    from nasops.lab.validate import validate_admin_user  # noqa: PLC0415

    data = inventory_data(replace(make_host(), admin_user="nasadmin"))
    host_vars = data["all"]["children"]["nas"]["hosts"]["nas"]
    assert (host_vars["ansible_user"], host_vars["ansible_become"]) == ("nasadmin", True)
    for login in ("root", "Admin", "a b", "-x", "x" * 32, ""):
        with pytest.raises(BadInputError, match="invalid admin user"):
            validate_admin_user(login)


def test_the_starter_inventory_logs_in_as_an_admin_with_become() -> None:
    from importlib import resources  # noqa: PLC0415

    text = (resources.files("nasops") / "data" / "starter-inventory.yml").read_text("utf-8")
    host_vars = YAML(typ="safe").load(text)["all"]["children"]["nas"]["hosts"]["my-org-nas"]
    assert host_vars["ansible_become"] is True and host_vars["ansible_user"] != "root"
