"""`nasops secrets init`: create or complete each NAS's secrets file, never showing a secret."""

from __future__ import annotations

import click

from nasops.ansible import ansible_environment, project_root, read_targets
from nasops.errors import PrerequisiteError
from nasops.provision.secrets import describe_outcome, ensure_secrets, group_readable, secrets_needs


def inventory_environment() -> dict[str, str]:
    """The environment inventories are read in: the project's ansible.cfg when there is one."""
    # These commands need no playbook, so a missing project is not an error here.
    try:
        return ansible_environment(project_root())
    except PrerequisiteError:
        return {}


@click.group("secrets")
def secrets_group() -> None:
    """The secrets files named by the inventory (nasops_secrets_file)."""


@secrets_group.command("init")
@click.option("-i", "--inventory", required=True,
              help="Ansible inventory naming the NAS hosts of group 'nas'.")
@click.option("--spec", "spec_override", type=click.Path(dir_okay=False),
              help="Use this spec for every targeted host instead of nasops_spec.")
@click.option("--limit", "-l", help="Ansible host pattern restricting the hosts.")
@click.option("--vault-password-file", type=click.Path(dir_okay=False, exists=True),
              envvar="ANSIBLE_VAULT_PASSWORD_FILE",
              help="Needed only if the inventory itself holds vault-encrypted values.")
def init_secrets(inventory: str, spec_override: str | None, limit: str | None,
                 vault_password_file: str | None) -> None:
    """Create each host's secrets file (0600) or add only the keys it lacks.

    Random passwords for every user of the spec and every restic repository, and a
    Syncthing API key. Existing values and comments are kept; an ansible-vault encrypted
    file is refused. No secret is ever printed.
    """
    targets = read_targets(inventory, limit=limit, spec_override=spec_override,
                           vault_password_file=vault_password_file,
                           environment=inventory_environment())
    written = False
    for need in secrets_needs(targets):
        outcome = ensure_secrets(need)
        written = written or bool(outcome.added)
        click.echo(describe_outcome(outcome, need.hosts))
        if group_readable(need.path):
            click.echo(f"warning: {need.path} is readable by others than its owner; "
                       f"chmod 600 {need.path}", err=True)
    if written:
        click.echo("next: encrypt it with `ansible-vault encrypt FILE` and pass "
                   "--vault-password-file to plan and apply", err=True)


def register(cli: click.Group) -> None:
    """Add the secrets group to the main CLI group."""
    cli.add_command(secrets_group)
