"""`nasops qts probe` and `nasops qts capture`: read-only QTS commands (issue 15, docs/qts.md)."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from nasops.cli.secrets import inventory_environment
from nasops.errors import BadInputError
from nasops.qts.capture import Recording, capture_directory, write_capture
from nasops.qts.commands import prepared_hosts
from nasops.qts.connection import qts_hosts, qts_password, qts_secrets
from nasops.qts.facts import (
    read_facts,
    read_group_rights,
    read_members,
    read_rights,
    read_share_detail,
)
from nasops.qts.probe import probe_lines
from nasops.qts.session import QtsSession
from nasops.spec.names import visible

RECORDED = Path("tests/qts/recorded")


@click.group("qts")
def qts_group() -> None:
    """A QNAP NAS running QTS: read-only checks before the install (docs/qts.md)."""


_inventory = click.option("-i", "--inventory", required=True,
                          help="Ansible inventory; its nasops_platform: qts hosts are read.")
_limit = click.option("--limit", "-l", help="Ansible host pattern restricting the hosts.")
_vault = click.option("--vault-password-file", type=click.Path(dir_okay=False, exists=True),
                      envvar="ANSIBLE_VAULT_PASSWORD_FILE",
                      help="File holding the ansible-vault password of the secrets file.")


@qts_group.command("probe")
@_inventory
@_limit
@_vault
def probe(inventory: str, limit: str | None, vault_password_file: str | None) -> None:
    """Say what each QTS NAS is and what nasops would do there; write nothing.

    Firmware and whether nasops has a verified profile of it, the folder-rights switches,
    which of the spec's people, groups and shares exist or would be created, and what of
    the spec QTS cannot take. One login per NAS, logged out at the end.
    """
    hosts = qts_hosts(inventory, limit=limit, vault_password_file=vault_password_file,
                      environment=inventory_environment())
    for host in prepared_hosts(hosts, vault_password_file):
        with QtsSession(host.endpoint) as session:
            session.login(host.password)
            facts = read_facts(session)
        click.echo("\n".join(probe_lines(host.target.name, host.endpoint.place, facts,
                                         host.loaded)))


@qts_group.command("capture")
@_inventory
@_limit
@_vault
@click.option("-o", "--output", type=click.Path(file_okay=False), default=str(RECORDED),
              show_default=True, help="Directory the capture's own directory is made in.")
@click.option("--operator", default=None,
              help="Who captured, for the meta file (default: the login running nasops).")
def capture(inventory: str, limit: str | None, vault_password_file: str | None,
            output: str, operator: str | None) -> None:
    """Record, redacted, the answers nasops reads from each QTS NAS (read-only).

    Into OUTPUT/<model>-<firmware>/: the login answer, the lists of users, groups and
    shares (first page), the members of administrators, the share rights of the
    account nasops logs in with and of the group everyone, the first share's properties;
    session ids, the
    organisation's names and long hex strings replaced; and meta.json (model, firmware,
    date, operator, sha256 of each answer). Commit it to tests/qts/recorded/ so that the
    parsers are tested on what that firmware answers.
    """
    hosts = qts_hosts(inventory, limit=limit, vault_password_file=vault_password_file,
                      environment=inventory_environment())
    prepared = [(target, endpoint,
                 qts_password(target, qts_secrets(target, vault_password_file)))
                for target, endpoint in hosts]
    for target, endpoint, password in prepared:
        recording = Recording()
        with QtsSession(endpoint, recorder=recording) as session:
            session.login(password)
            # Refused before anything is read: a capture is never overwritten.
            directory = capture_directory(Path(output), session.firmware)
            if directory.exists():
                raise BadInputError(f"{directory}: a capture of this firmware exists; move it "
                                    "away or pass another -o directory")
            facts = read_facts(session)
            # A group and a person every QTS has, so no organisation's name is asked for.
            read_members(session, ["administrators"])
            read_rights(session, [endpoint.user])
            read_group_rights(session, "everyone")
            if facts.shares.shares:  # the first share listed (its name is redacted)
                read_share_detail(session, facts.shares.shares[0].name)
        files = write_capture(directory, recording.answers, session.firmware,
                              operator or getpass.getuser())
        click.echo(f"{target.name}: {len(files)} files in {visible(str(directory))} "
                   "(redacted; review them before committing)")


def register(cli: click.Group) -> None:
    """Add the qts group to the main CLI group."""
    cli.add_command(qts_group)
