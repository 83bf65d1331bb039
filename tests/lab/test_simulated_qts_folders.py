"""Simulated QTS (our reading) on a real lab host: `nasops apply` on a `nasops_platform: qts`
inventory makes people, groups, shares and share rights through the simulated web API, which
renders them into the host's accounts, share folders and real Samba (tests/qts/
simulated_rendering.py), then converges the folder tree and POSIX ACLs over real SSH with
the host's real find, getfacl and setfacl under a QTS-shaped volume (/share/CACHEDEV1_DATA,
a directory of the host's btrfs: not QTS's ext4, and no BusyBox: Debian's dash).

It proves nasops' QTS logic end to end on real files and real SMB, never that a QNAP
behaves so: QTS's own Samba, its enforcement beyond POSIX and its firmware are not here.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ruamel.yaml import YAML

from conftest import SEED_SCRIPT
from nasops.cli.main import main
from nasops.compile import compile_spec
from nasops.lab import LabHost, run_in_host
from nasops.lab.testing import LabHostFactory
from nasops.spec import load_spec
from nasops.spec.rights import Access, RightsTable, resolve_rights

# The simulated web API's modules live beside the other QTS tests.
sys.path.insert(0, str(Path(__file__).parents[1] / "qts"))
from simulated_rendering import renderer
from simulated_service import SimulatedNas, serving
from smb_probe import SmbUser, access_mismatches, people_work_over_smb

pytestmark = pytest.mark.lab

REPOSITORY = Path(__file__).parents[2]
SPEC = REPOSITORY / "inventory/qts/wsm.yml"
ADDRESS = "127.0.0.12"
VOLUME = "/share/CACHEDEV1_DATA"
PASSWORD = "Qts-admin pass: é'\" &=+"


@dataclass
class QtsLab:
    host: LabHost
    nas: SimulatedNas
    inventory: Path
    passwords: dict[str, str]
    rights: RightsTable


def nasops(capsys: pytest.CaptureFixture[str] | None, *arguments: str) -> tuple[int, str]:
    code = main(list(arguments))
    return code, capsys.readouterr().out if capsys is not None else ""


@pytest.fixture(scope="module")
def qts_lab(lab_hosts: LabHostFactory, tmp_path_factory: pytest.TempPathFactory,
            ) -> Iterator[QtsLab]:
    host = lab_hosts("qts", ADDRESS)
    run_in_host(host, ["sh", "-c", f"mkdir -p {VOLUME} /etc/config && chmod 0755 /share "
                       f"{VOLUME} && systemctl stop smbd"])
    host_key = " ".join(run_in_host(host, ["cat", "/etc/ssh/ssh_host_ed25519_key.pub"])
                        .stdout.split()[:2])
    nas = SimulatedNas(password=PASSWORD, users={"admin": (0, True), "guest": (65534, False)},
                       groups={"administrators": 0, "everyone": 100},
                       shares={"Public": False, "Web": False},
                       advanced_folder_permissions=True)
    nas.on_logout = renderer(
        lambda script: run_in_host(host, ["sh", "-s"], input_text=script) and None,
        VOLUME, ADDRESS)
    directory = tmp_path_factory.mktemp("qts-lab")
    (directory / "wsm.yml").write_text(SPEC.read_text(encoding="utf-8"), encoding="utf-8")
    secrets = directory / "secrets.yml"
    secrets.write_text("nasops_qts_password: '" + PASSWORD.replace("'", "''") + "'\n")
    secrets.chmod(0o600)
    with serving(nas, directory, ADDRESS) as (port, der):
        inventory = directory / "inventory.yml"
        variables = {"ansible_host": ADDRESS, "nasops_platform": "qts",
                     "nasops_spec": "wsm.yml", "nasops_secrets_file": "secrets.yml",
                     "nasops_qts_port": port,
                     "nasops_qts_certificate_sha256": hashlib.sha256(der).hexdigest(),
                     "nasops_qts_ssh_host_key": host_key, "nasops_qts_ssh_user": "root",
                     "nasops_qts_ssh_key_file": str(host.private_key_path)}
        inventory.write_text(json.dumps({"all": {"children": {"nas": {"hosts": {
            "wsm-qnap": variables}}}}}), encoding="utf-8")
        assert main(["secrets", "init", "-i", str(inventory)]) == 0
        assert main(["apply", "-i", str(inventory), "--accept-unverified-firmware"]) == 0
        spec = load_spec(SPEC).spec
        # A file in every folder, saved as root after the first apply: the next apply must
        # give each one its folder's rights.
        folders = [f"{VOLUME}/{share['name']}/{folder['path']}".rstrip("/")
                   for share in compile_spec(spec)["shares"] for folder in share["folders"]]
        run_in_host(host, ["python3", "-c", SEED_SCRIPT], input_text=json.dumps(folders))
        assert main(["apply", "-q", "-i", str(inventory)]) == 0
        loaded = YAML(typ="safe").load(secrets.read_text(encoding="utf-8"))
        yield QtsLab(host, nas, inventory, dict(loaded["nasops_user_passwords"]),
                     resolve_rights(spec))


def test_simulated_qts_plan_and_drift_find_nothing_after_apply(
        qts_lab: QtsLab, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code, out = nasops(capsys, "plan", "-i", str(qts_lab.inventory))
    assert code == 0, out
    assert "0 changes apply would make" in out and "folder tree" not in out, out
    # The NAS kept the spec it matches (apply wrote it over SSH): plan compares with it.
    assert "wsm-qnap: who gains and who loses access (against the specs applied 20" in out
    assert "nobody gains or loses access" in out, out
    code, out = nasops(capsys, "drift", "-i", str(qts_lab.inventory))
    assert code == 0, out
    # The folders were read over SSH: rights of the example's private folder are on disk.
    acl = run_in_host(qts_lab.host, ["getfacl", "-p", f"{VOLUME}/Direction"]).stdout
    assert "group:direction:rwx" in acl and "other::---" in acl, acl


def test_simulated_qts_every_person_and_folder_over_smb_matches_the_access_report(
        qts_lab: QtsLab) -> None:
    mismatches, seen = access_mismatches(qts_lab.rights, ADDRESS, qts_lab.passwords)
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches[:40])
    assert all(seen[level] >= 5 for level in Access), seen


def test_simulated_qts_people_work_over_smb_and_drift_stays_clean(
        qts_lab: QtsLab, capsys: pytest.CaptureFixture[str]) -> None:
    table = qts_lab.rights
    saves: list[tuple[str, str, str]] = []
    for login in sorted(table.access):
        writable = [folder for folder in table.folders
                    if table.access[login][folder.index] is Access.WRITE]
        if writable and len(saves) < 8:
            folder = writable[len(saves) % len(writable)]
            saves.append((login, folder.path[0], "/".join(folder.path[1:])))
    assert len({login for login, _share, _folder in saves}) >= 5, saves
    people_work_over_smb(ADDRESS, qts_lab.passwords, saves)
    capsys.readouterr()
    code, out = nasops(capsys, "drift", "-i", str(qts_lab.inventory))
    assert code == 0, out
    for login, share, folder in saves:
        saved = f"{VOLUME}/{share}/{folder}/{login}.txt".replace("//", "/")
        assert run_in_host(qts_lab.host, ["test", "-f", saved], accepted_codes=(0, 1)
                           ).returncode == 0, saved


def test_simulated_qts_a_hand_made_folder_right_is_reported_then_settled(
        qts_lab: QtsLab, capsys: pytest.CaptureFixture[str]) -> None:
    folder = f"{VOLUME}/Direction"
    run_in_host(qts_lab.host, ["setfacl", "-m", "u:smertens:rwx", folder])
    capsys.readouterr()
    code, out = nasops(capsys, "drift", "-i", str(qts_lab.inventory))
    assert code == 3 and "rights of folder Direction: " in out and "smertens" in out, out
    code, out = nasops(capsys, "apply", "-i", str(qts_lab.inventory),
                       "--accept-unverified-firmware")
    assert code == 0 and "rights of folder Direction" in out, out
    assert "smertens" not in run_in_host(qts_lab.host, ["getfacl", "-p", folder]).stdout
    code, out = nasops(capsys, "drift", "-i", str(qts_lab.inventory))
    assert code == 0, out



def test_simulated_qts_a_new_person_with_a_right_on_an_existing_folder_in_one_apply(
        qts_lab: QtsLab, capsys: pytest.CaptureFixture[str]) -> None:
    """The folders name someone the web API has not made yet: plan lists it, apply makes
    the person first, then the folders' rights (run last: it changes the module's spec)."""
    spec = qts_lab.inventory.parent / "wsm.yml"
    text = spec.read_text(encoding="utf-8")
    assert "    access: {Direction: write}\n" in text and "  - {login: rsingh," in text
    spec.write_text(text.replace("    access: {Direction: write}\n",
                                 "    access: {Direction: write, evaneck: read}\n", 1)
                    .replace("  - {login: rsingh,", "  - {login: evaneck, name: Eva Van Eck}\n"
                             "  - {login: rsingh,", 1), encoding="utf-8")
    inventory = str(qts_lab.inventory)
    assert main(["secrets", "init", "-i", inventory]) == 0
    capsys.readouterr()
    code, out = nasops(capsys, "plan", "-i", inventory)
    assert code == 0 and "rights of folder Direction: user:evaneck:absent -> r-x" in out, out
    # Said first, as the board approves it, against what the NAS last matched.
    assert "Eva Van Eck (evaneck):\n      can now read Direction\n" in out, out
    code, out = nasops(capsys, "apply", "-i", inventory, "--accept-unverified-firmware")
    assert code == 0, out
    code, out = nasops(capsys, "drift", "-i", inventory)
    assert code == 0, out
    secrets = YAML(typ="safe").load((qts_lab.inventory.parent / "secrets.yml").read_text(
        encoding="utf-8"))
    user = SmbUser(ADDRESS, "evaneck", secrets["nasops_user_passwords"]["evaneck"])
    try:
        assert user.probe("Direction", "").access() is Access.READ
    finally:
        user.close()


def test_simulated_qts_an_apply_holding_the_nas_stops_another(
        qts_lab: QtsLab, capsys: pytest.CaptureFixture[str]) -> None:
    lock = f"{VOLUME}/.nasops-apply.lock"
    assert run_in_host(qts_lab.host, ["test", "-e", lock], accepted_codes=(0, 1)
                       ).returncode == 1, "each apply releases the lock"
    run_in_host(qts_lab.host, ["sh", "-c", f"mkdir {lock} && echo 'laptop-it (process 42) "
                                           f"since 2026-12-07' > {lock}/holder"])
    try:
        run_in_host(qts_lab.host, ["setfacl", "-m", "u:smertens:rwx", f"{VOLUME}/Direction"])
        capsys.readouterr()
        code = main(["apply", "-i", str(qts_lab.inventory), "--accept-unverified-firmware"])
        error = capsys.readouterr().err
        assert code == 1 and "another apply holds this NAS (laptop-it" in error, error
        assert "smertens" in run_in_host(qts_lab.host, ["getfacl", "-p",
                                                        f"{VOLUME}/Direction"]).stdout
    finally:
        run_in_host(qts_lab.host, ["rm", "-r", lock])
    assert main(["apply", "-q", "-i", str(qts_lab.inventory),
                 "--accept-unverified-firmware"]) == 0

def test_simulated_qts_a_wrong_ssh_host_key_stops_before_any_script_runs(
        qts_lab: QtsLab, capsys: pytest.CaptureFixture[str]) -> None:
    other = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    document = json.loads(qts_lab.inventory.read_text(encoding="utf-8"))
    document["all"]["children"]["nas"]["hosts"]["wsm-qnap"]["nasops_qts_ssh_host_key"] = other
    wrong = qts_lab.inventory.with_name("wrong-host-key.yml")
    wrong.write_text(json.dumps(document), encoding="utf-8")
    capsys.readouterr()
    code = main(["plan", "-i", str(wrong)])
    captured = capsys.readouterr()
    assert code == 1, captured
    assert "ssh failed" in captured.err and "nothing was run there" in captured.err, captured
    assert "Traceback" not in captured.err + captured.out
