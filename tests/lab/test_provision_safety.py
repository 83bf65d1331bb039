"""Data safety and enforcement on a real NAS: copies get the folder's rights, quotas stop SMB
writes, and removing a folder or a user from the spec never removes their data."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import smbclient
from ruamel.yaml import YAML
from smb_probe import SmbUser
from smbprotocol.exceptions import DiskFull

from nasops.cli.main import main
from nasops.lab import run_in_host

PARTENAIRES = "/srv/nas/wsm/Afrique/Partenaires"
REPORTS = "/srv/nas/wsm/Afrique/Rapports de mission"
EXAMPLE_SPEC = Path(__file__).resolve().parents[2] / "inventory" / "example" / "wsm.yml"


def nasops(*arguments: str) -> int:
    return main(list(arguments))


def test_a_file_copied_with_cp_a_gets_the_folder_rights_at_the_next_apply(
        example_nas: Any) -> None:
    copied = f"{PARTENAIRES}/copied-with-cp-a.txt"
    run_in_host(example_nas.host, ["cp", "-a", "/etc/hostname", copied])
    before = run_in_host(example_nas.host, ["getfacl", "-p", copied]).stdout
    assert "group:partenaires-afrique" not in before
    assert nasops("apply", "-q", "-i", str(example_nas.inventory)) == 0
    after = run_in_host(example_nas.host, ["getfacl", "-p", copied]).stdout
    assert "group:partenaires-afrique:rw-" in after
    assert "group:cellule-afrique:rw-" in after
    assert "other::---" in after
    # And a partner (write through the group) can now change it over SMB.
    partner = SmbUser(example_nas.host.address, "ofaye", example_nas.passwords["ofaye"])
    try:
        partner.save("Afrique", "Partenaires/copied-with-cp-a.txt", b"edited by ofaye\n",
                     append=True)
    finally:
        partner.close()
    # Editing over SMB must not change the file's rights (no drift afterwards).
    assert nasops("drift", "-i", str(example_nas.inventory)) == 0


@pytest.fixture
def reduced_spec(example_nas: Any, tmp_path: Path) -> Iterator[Path]:
    """A copy of the example with a 5M quota on Direction, without 'Rapports de mission' in
    Afrique and without the user jlopez; the original is applied again afterwards."""
    yaml = YAML()
    # ruamel would otherwise fold long flow-mapping keys over two lines, which YAML forbids.
    yaml.width = 4096
    data = yaml.load(EXAMPLE_SPEC.read_text(encoding="utf-8"))
    for share in data["shares"]:
        if share["name"] == "Direction":
            share["quota"] = "5M"
        if share["name"] == "Afrique":
            share["folders"] = [folder for folder in share["folders"]
                                if folder["name"] != "Rapports de mission"]
    data["users"] = [user for user in data["users"] if user["login"] != "jlopez"]
    reduced = tmp_path / "reduced.yml"
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    reduced.write_text(buffer.getvalue(), encoding="utf-8")
    try:
        yield reduced
    finally:
        assert nasops("apply", "-q", "-i", str(example_nas.inventory)) == 0


def test_removals_keep_data_and_quotas_stop_smb_writes(example_nas: Any,
                                                       reduced_spec: Path) -> None:
    host, passwords = example_nas.host, example_nas.passwords
    jlopez = SmbUser(host.address, "jlopez", passwords["jlopez"])
    try:
        assert jlopez.write_and_remove("Amérique latine", "")
        jlopez.save("Amérique latine", "written-by-jlopez.txt", b"my work\n")
    finally:
        jlopez.close()
    reports_acl = run_in_host(host, ["getfacl", "-p", REPORTS]).stdout

    assert nasops("apply", "-q", "-i", str(example_nas.inventory),
                  "--spec", str(reduced_spec)) == 0

    # The folder left the spec: still there with its files, its rights untouched, reported.
    assert run_in_host(host, ["cat", f"{REPORTS}/seed.txt"]).stdout == "seed\n"
    assert run_in_host(host, ["getfacl", "-p", REPORTS]).stdout == reports_acl
    assert nasops("drift", "-q", "-i", str(example_nas.inventory),
                  "--spec", str(reduced_spec)) == 3

    # The user left the spec: login denied, their file and account kept (disabled).
    jlopez = SmbUser(host.address, "jlopez", passwords["jlopez"])
    try:
        assert jlopez.listdir("Amérique latine", "") is None
    finally:
        jlopez.close()
    assert run_in_host(host, ["cat", "/srv/nas/wsm/Amérique latine/written-by-jlopez.txt"]
                       ).stdout == "my work\n"
    assert run_in_host(host, ["id", "jlopez"]).returncode == 0

    # The quota: a small write passes (rights are fine), a write past 5M fails over SMB.
    mlsimon = SmbUser(host.address, "mlsimon", passwords["mlsimon"])
    try:
        assert mlsimon.write_and_remove("Direction", "")
        big = mlsimon.unc("Direction", "too-big.bin")
        # btrfs refuses past the qgroup limit; Samba answers STATUS_DISK_FULL.
        with pytest.raises(DiskFull), smbclient.open_file(big, mode="wb",
                                                         **mlsimon.options) as handle:
            for _ in range(16):
                handle.write(b"\0" * 1024 * 1024)
                handle.flush()
    finally:
        mlsimon.close()
    run_in_host(host, ["rm", "-f", "/srv/nas/wsm/Direction/too-big.bin"])


def test_a_new_account_prefix_disables_the_former_accounts_and_keeps_their_data(
        example_nas: Any, tmp_path: Path) -> None:
    # The organisation takes an account prefix (it will share the NAS): every person gets a
    # new account; the former ones must not stay enabled with their Samba passwords.
    host, inventory = example_nas.host, str(example_nas.inventory)
    yaml = YAML()
    yaml.width = 4096
    data = yaml.load(EXAMPLE_SPEC.read_text(encoding="utf-8"))
    data["organization"]["account_prefix"] = "ws-"
    prefixed = tmp_path / "prefixed.yml"
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    prefixed.write_text(buffer.getvalue(), encoding="utf-8")
    # Passwords for the new logins (the file is only added to).
    assert nasops("secrets", "init", "-i", inventory, "--spec", str(prefixed)) == 0
    try:
        assert nasops("apply", "-q", "-i", inventory, "--spec", str(prefixed)) == 0
        # The former account: locked, its Samba account disabled, kept (not deleted).
        # (nasops' people have no Unix password: the lock is the account's expiry, day 1.)
        assert run_in_host(host, ["getent", "shadow", "adiallo"]).stdout.split(":")[7] == "1"
        samba = run_in_host(host, ["pdbedit", "-L", "-w", "-u", "adiallo"]).stdout
        assert samba.split(":")[4].startswith("[D"), samba
        assert run_in_host(host, ["id", "adiallo"]).returncode == 0
        former = SmbUser(host.address, "adiallo", example_nas.passwords["adiallo"])
        try:
            assert former.listdir("ws-Afrique", "") is None
        finally:
            former.close()
        assert run_in_host(host, ["cat", f"{PARTENAIRES}/Bénin/seed.txt"]).stdout == "seed\n"
        # Aminata works under her new login (its password was added to the secrets file):
        # saving a file over SMB must not make drift fire.
        secrets = YAML(typ="safe").load((example_nas.inventory.parent / "secrets.yml")
                                        .read_text(encoding="utf-8"))
        renamed = SmbUser(host.address, "ws-adiallo",
                          secrets["nasops_user_passwords"]["ws-adiallo"])
        try:
            renamed.save("ws-Afrique", "Partenaires/saved-as-ws-adiallo.txt", b"rapport\n")
        finally:
            renamed.close()
        assert nasops("drift", "-q", "-i", inventory, "--spec", str(prefixed)) == 0
    finally:
        # Back to the example: its people enabled again, the prefixed accounts disabled.
        assert nasops("apply", "-q", "-i", inventory) == 0
    person = SmbUser(host.address, "adiallo", example_nas.passwords["adiallo"])
    try:
        # Her file from the prefixed days is still there, and she can change it again.
        person.save("Afrique", "Partenaires/saved-as-ws-adiallo.txt", b"relu\n", append=True)
    finally:
        person.close()
    assert run_in_host(host, ["cat", f"{PARTENAIRES}/saved-as-ws-adiallo.txt"]
                       ).stdout == "rapport\nrelu\n"
    run_in_host(host, ["rm", "-f", f"{PARTENAIRES}/saved-as-ws-adiallo.txt"])  # this test's own
    assert run_in_host(host, ["getent", "shadow", "ws-adiallo"]).stdout.split(":")[7] == "1"
    assert run_in_host(host, ["getent", "shadow", "adiallo"]).stdout.split(":")[7] != "1"
    assert nasops("drift", "-q", "-i", inventory) == 0
