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
        target = partner.unc("Afrique", "Partenaires/copied-with-cp-a.txt")
        with smbclient.open_file(target, mode="ab", **partner.options) as handle:
            handle.write(b"edited by ofaye\n")
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
        kept = jlopez.unc("Amérique latine", "written-by-jlopez.txt")
        with smbclient.open_file(kept, mode="wb", **jlopez.options) as handle:
            handle.write(b"my work\n")
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
