"""Which NAS hosts a command reaches: the inventory read through Ansible, each host's spec
and secrets file checked before anything runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nasops.ansible import (
    TargetHost,
    ansible_environment,
    project_root,
    require_secrets,
    require_vault_password,
)
from nasops.ansible.inventory import inventory_base, list_inventory, target_hosts
from nasops.errors import BadInputError

Hostvars = Mapping[str, Mapping[str, Any]]


def prepare(inventory: str, spec_override: str | None, limit: str | None,
            vault_password_file: str | None, *, qts_driver: bool = False,
            ) -> tuple[list[TargetHost], Hostvars]:
    """Given the inventory and the command's options, return the targets and every host's
    inventory variables (the apply lock connects with them as Ansible would).

    Raise BadInputError when a host lacks its secrets file or the vault password is needed.
    QTS hosts: their specs are checked against QTS first; a command the QTS driver runs
    (qts_driver: plan, drift, apply) gets them back, all of them or none (the driver
    reaches them itself, nasops.qts.commands); any other command is refused there.
    """
    environment = ansible_environment(project_root())
    data = list_inventory(inventory, limit=limit, vault_password_file=vault_password_file,
                          environment=environment)
    targets = target_hosts(data, inventory_base(inventory), spec_override=spec_override)
    qts = [target for target in targets if target.platform == "qts"]
    if qts:
        # Before the secrets: what QTS cannot do, then, for a command the QTS driver does
        # not run, that it is not built for QTS (raises, every problem located; issue 15).
        from nasops.provision.specs import compile_targets  # noqa: PLC0415 - QTS only

        compile_targets(qts, qts_driver=qts_driver)
        if len(qts) != len(targets):
            raise BadInputError(
                f"{inventory}: this run targets QTS hosts ({', '.join(t.name for t in qts)}) "
                "and Debian hosts together; nasops reads QTS its own way: run them apart "
                "(--limit)")
        return targets, data.get("_meta", {}).get("hostvars", {})
    require_secrets(targets)
    require_vault_password(targets, vault_password_file)
    return targets, data.get("_meta", {}).get("hostvars", {})
