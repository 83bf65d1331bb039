"""secrets init, plan, apply and drift against a real lab NAS running Debian 13 "trixie",
with the repository's roles: the suite's proof of the second release (issue 14; every other
lab test runs on Debian 12, README).

Runs the CLI in-process against a NAS of this module's own with the reference spec
inventory/example/wsm.yml, through an inventory of its own (the lab's inventory plus
nasops_spec and nasops_secrets_file), nasops logging in as an admin account with sudo: the
cycle, a refusal, every person's rights over SMB as the access report gives them, the
exporter's scrape, a backup and restore of what a person deleted with the drill after it, and
a field laptop (Debian 12's Syncthing, on a host of its own) syncing both ways. The copy of
the spec differs from the example in two places only: the USB repository is a directory of
the NAS (a lab NAS has no USB disk to mount), and François Kaboré's laptop is that host.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import smbclient
import test_access_matrix as matrix  # its checks, called on this NAS (not collected here)
import yaml
from polling import wait_until
from qr_codes import qr_codes_in
from ruamel.yaml import YAML
from smb_probe import SmbUser
from sync_laptop import Laptop, Rest, file_acl_of

from conftest import SEED_SCRIPT
from nasops.cli.main import main
from nasops.compile import compile_spec
from nasops.lab import LabHost, render_inventory, run_in_host
from nasops.lab.testing import LabHostFactory
from nasops.report.access_diff import access_diff, render_text
from nasops.spec import load_spec
from nasops.spec.rights import resolve_rights

pytestmark = [pytest.mark.lab, pytest.mark.slow]

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE_SPEC = REPOSITORY / "inventory" / "example" / "wsm.yml"
ADMIN = "nasadmin"
FINANCES = "/srv/nas/wsm/Afrique/Finances"
AFRIQUE = "/srv/nas/wsm/Afrique"
LAPTOP_ADDRESS = "127.0.0.11"
USB_REPOSITORY = "/var/backups/nasops-restic"
BACKUP_COMMAND = "/opt/nasops/bin/nasops-backup"
# Every path's ACL, in path order (a directory lists in creation order, which a restore does
# not keep), then every file's digest.
RIGHTS_AND_BYTES = ('cd "$1" && find . -print0 | sort -z | xargs -0 getfacl -p -- && '
                    "find . -type f -print0 | sort -z | xargs -0 sha256sum --")


@pytest.fixture(scope="module")
def provision_nas(lab_hosts: LabHostFactory) -> LabHost:
    """A NAS of this module's own (127.0.0.8), Debian 13, that nasops reaches as an ordinary
    admin login with sudo (its inventory: ansible_user nasadmin, ansible_become): the applies
    here harden Samba (no anonymous listing), which test_lab's checks of the bare session NAS
    must not depend on."""
    return lab_hosts("provision", "127.0.0.8", release="trixie", admin_user=ADMIN)


@pytest.fixture(scope="module")
def laptop(lab_hosts: LabHostFactory) -> Laptop:
    """François Kaboré's field laptop: Debian 12's Syncthing 1.19 on a host of its own, as an
    older laptop meets a newer NAS."""
    machine = Laptop(lab_hosts("provlaptop", LAPTOP_ADDRESS), "cotonou",
                     f"{LAPTOP_ADDRESS}:22000", f"{LAPTOP_ADDRESS}:8384")
    machine.start()
    return machine


@pytest.fixture(scope="module")
def inventory(provision_nas: LabHost, laptop: Laptop,
              tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return an inventory for the lab NAS naming a copy of wsm.yml and a secrets file."""
    directory = tmp_path_factory.mktemp("provision")
    document = YAML(typ="rt")
    document.width = 4096  # keep the example's flow mappings on their lines
    document.indent(mapping=2, sequence=4, offset=2)  # and its indentation
    spec = document.load(EXAMPLE_SPEC.read_text(encoding="utf-8"))
    spec["backup"]["repositories"][0]["url"] = USB_REPOSITORY
    kabore = next(user for user in spec["users"] if user["login"] == "fkabore")
    kabore["devices"] = [{"name": "laptop-cotonou", "id": laptop.device_id,
                          "address": f"tcp://{laptop.listen}"}]
    with (directory / "wsm.yml").open("w", encoding="utf-8") as handle:
        document.dump(spec, handle)
    path = directory / "inventory.yml"
    path.write_text(render_inventory(provision_nas, {"nasops_spec": "wsm.yml",
                                               "nasops_secrets_file": "secrets.yml"}),
                    encoding="utf-8")
    return path


def nasops(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(arguments))
    output = capsys.readouterr()
    return code, output.out, output.err


def nas_snapshot(host: LabHost) -> str:
    """Return the NAS state a refused run must leave alone: ACLs, modes, quotas, accounts."""
    acls = run_in_host(host, ["getfacl", "-R", "-p", "/srv/nas/wsm"]).stdout
    tree = run_in_host(host, ["find", "/srv/nas/wsm", "-printf", r"%p %m %u %g\n"]).stdout
    limits = run_in_host(host, ["btrfs", "qgroup", "show", "-r", "--raw", "/srv/nas"]).stdout
    # Keep only qgroup ids and limits: usage numbers move on their own.
    limit_lines = [" ".join(line.split()[:1] + line.split()[3:4]) for line in limits.splitlines()]
    groups = run_in_host(host, ["getent", "group"]).stdout
    return "\n".join([acls, tree, *limit_lines, groups])


PLAN_PICTURE = REPOSITORY / "docs" / "pictures" / "one-line-change-plan.txt"
# Set to 1 to write the picture again from this NAS (scripts/guide-pictures --lab does).
UPDATE_PICTURES = "NASOPS_UPDATE_PICTURES"


def plan_picture(out: str, host: str) -> str:
    """Given plan's output on the lab NAS, return it as the admin guide shows it: the NAS
    named `wsm-nas`, the time of the last apply and the log's path left out (they differ
    every run)."""
    text = re.sub(r"applied \d{4}-\d\d-\d\dT[0-9:.]+Z?", "applied <time>", out)
    text = re.sub(r"(?m)^full log: .*$", "full log: <the run's ansible.log>", text)
    return re.sub(rf"\b{re.escape(host)}\b", "wsm-nas", text)


def compare_or_write(path: Path, text: str) -> None:
    """Given a picture's path and what the NAS gave, check the committed one is the same
    (or write it when UPDATE_PICTURES is set)."""
    if os.environ.get(UPDATE_PICTURES) == "1":
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, (
        f"{path.name} is not what plan says on a real NAS: run scripts/guide-pictures --lab")


def test_secrets_plan_apply_drift_cycle(
    provision_nas: LabHost, inventory: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    host = provision_nas.name
    code, out, err = nasops(capsys, "secrets", "init", "-i", str(inventory))
    assert code == 0, err
    assert "created with 23 user password(s), 2 restic password(s)" in out
    assert (inventory.parent / "secrets.yml").stat().st_mode & 0o777 == 0o600

    code, out, err = nasops(capsys, "plan", "-i", str(inventory))
    assert code == 0, err
    # Who gains and who loses access comes first: a fresh NAS keeps no spec applied before.
    assert out.startswith(f"{host}: no earlier apply of nasops' is kept on this NAS")
    assert " changes to make" in out.splitlines()[2]
    # On a fresh NAS the ACLs come with each folder's creation, so there is no ACL section.
    for section in ("accounts", "shares", "folders", "quotas"):
        assert f"  {section} (" in out
    assert "cellule-afrique" in out
    assert run_in_host(provision_nas, ["getent", "group", "cellule-afrique"],
                       accepted_codes=(0, 2)).returncode == 2  # plan touched nothing

    # The apply opens its own ssh connections (plan's, kept open by ControlPersist, would
    # otherwise serve it) inside a window free of the lab's own root logins.
    # (A short path: a Unix socket's name has at most 107 bytes, pytest's tmp_path is longer.)
    control = Path(tempfile.mkdtemp(prefix="nasops-cp-", dir="/tmp"))
    # Removed afterwards: the directory mkdtemp just made for ssh's sockets, nothing else.
    request.addfinalizer(lambda: shutil.rmtree(control, ignore_errors=True))
    monkeypatch.setenv("ANSIBLE_SSH_CONTROL_PATH_DIR", str(control))
    started = math.ceil(time.time())
    time.sleep(started - time.time() + 0.1)
    code, out, err = nasops(capsys, "apply", "-i", str(inventory))
    ended = math.floor(time.time())
    assert code == 0, err
    assert f" on {host} (" in out
    # nasops logged in as the admin login only and became root with sudo, never as root.
    window = [f"--since=@{started}", f"--until=@{ended}"]
    logins = run_in_host(provision_nas, ["journalctl", "--no-pager", "-o", "cat",
                                         "-u", "ssh.service", *window]).stdout
    assert logins.count(f"Accepted publickey for {ADMIN} ") >= 2, logins  # Ansible, the lock
    assert "Accepted publickey for root " not in logins, logins
    sudo = run_in_host(provision_nas, ["journalctl", "--no-pager", "-o", "cat", "_COMM=sudo",
                                       *window]).stdout
    assert f"{ADMIN} : " in sudo and "BECOME-SUCCESS" in sudo, sudo
    assert f"[{host}] nas_accounts: " in err
    # Through sudo too, no secret in a command line (sudo logs every one it runs), anywhere in
    # the NAS's journal of the apply, or in nasops' output: module arguments travel in files.
    journal = run_in_host(provision_nas, ["journalctl", "--no-pager", "-o", "cat",
                                          *window]).stdout
    secrets = stored_secrets(inventory)
    for secret in [*secrets["nasops_user_passwords"].values(),
                   *secrets["nasops_restic_passwords"].values(),
                   secrets["nasops_syncthing_api_key"]]:
        assert secret not in journal and secret not in out + err
    # The exporter's record of the apply: written by `nasops apply` with what it changed.
    record = json.loads(run_in_host(provision_nas, ["cat", "/var/lib/nasops/apply.json"]).stdout)
    changed = int(next(line for line in out.splitlines() if f" on {host} (" in line).split()[0])
    assert (record["result"], record["changed_items"]) == ("success", changed), record
    assert FINANCES in run_in_host(provision_nas, ["find", AFRIQUE, "-type", "d"]).stdout

    code, out, err = nasops(capsys, "apply", "-i", str(inventory), "-q")
    assert code == 0, err
    assert out.splitlines()[0] == f"{host}: no changes: the NAS already matches the spec"

    code, out, err = nasops(capsys, "drift", "-i", str(inventory), "-q")
    assert (code, out.splitlines()[0]) == (0, f"{host}: no drift: the NAS matches the spec")

    # Lies Maes is to join the Africa cell: plan says so first, in the organisation's
    # language, read against the spec the NAS kept at the apply (over nasops' own SSH
    # session, as the admin login with sudo), the same sentences as `nasops access-diff`.
    spec = inventory.parent / "wsm.yml"
    joined = inventory.parent / "wsm-joined.yml"
    joined.write_text(spec.read_text(encoding="utf-8").replace(
        "{login: lmaes, name: Lies Maes, groups: [Cellule Asie]}",
        "{login: lmaes, name: Lies Maes, groups: [Cellule Asie, Cellule Afrique]}"),
        encoding="utf-8")
    code, out, err = nasops(capsys, "plan", "-i", str(inventory), "--spec", str(joined), "-q")
    assert code == 0, err
    expected = render_text(access_diff(load_spec(spec).spec, load_spec(joined).spec),
                           language="fr")
    assert "Lies Maes (lmaes):" in expected
    lines = out.splitlines()
    assert lines[0].startswith(f"{host}: who gains and who loses access (against the specs "
                               "applied 20")
    assert lines[1:2 + len(expected.splitlines())] == [
        "  wsm:", *[f"    {line}" for line in expected.splitlines()]]
    # The admin guide shows this very plan, drawn from this real NAS (docs/guide-admin.md).
    compare_or_write(PLAN_PICTURE, plan_picture(out, host))

    # Someone grants the partners write access to the private finance folder by hand.
    run_in_host(provision_nas, ["setfacl", "-m", "g:partenaires-afrique:rwx", FINANCES])
    code, out, err = nasops(capsys, "drift", "-i", str(inventory), "-q")
    assert code == 3, out + err
    assert FINANCES in out
    assert f"drift found on {host}" in err

    code, out, err = nasops(capsys, "apply", "-i", str(inventory), "-q")
    assert code == 0, err
    acl = run_in_host(provision_nas, ["getfacl", "-p", FINANCES]).stdout
    assert "group:partenaires-afrique:" not in acl
    code, out, err = nasops(capsys, "drift", "-i", str(inventory), "-q")
    assert code == 0, out + err


@pytest.fixture
def big_file(provision_nas: LabHost) -> Iterator[str]:
    """Write 3 MiB into the Afrique share (removed afterwards)."""
    path = f"{AFRIQUE}/grand-rapport.bin"
    run_in_host(provision_nas, ["dd", "if=/dev/urandom", f"of={path}", "bs=1M", "count=3",
                          "status=none"])
    run_in_host(provision_nas, ["sync"])
    yield path
    run_in_host(provision_nas, ["rm", "-f", path])


def test_quota_below_usage_is_refused_and_nothing_changes(
    provision_nas: LabHost, inventory: Path, big_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = inventory.parent / "wsm.yml"
    tiny_quota = inventory.parent / "wsm-tiny-quota.yml"
    text = spec.read_text(encoding="utf-8")
    assert text.count("quota: 200G") == 3
    # Afrique is the first share with a 200G quota; 1M is the smallest quota a spec accepts.
    tiny_quota.write_text(text.replace("quota: 200G", "quota: 1M", 1), encoding="utf-8")
    # Someone also widened an ACL: a refused apply must not repair it either.
    run_in_host(provision_nas, ["setfacl", "-m", "g:partenaires-afrique:rwx", FINANCES])
    before = nas_snapshot(provision_nas)
    try:
        for command in ("plan", "apply"):
            code, out, err = nasops(capsys, command, "-i", str(inventory), "--spec",
                                    str(tiny_quota), "-q")
            assert code == 2, out + err
            first = err.splitlines()[0]
            assert first.startswith(f"{provision_nas.name} [nas_quotas: ")
            assert "]: refused: " in first and "below" in first
            # The message ends the error; the run's kept log is named after it.
            message, log_line = err.rstrip().rsplit("\n", 1)
            assert message.endswith("nothing was changed")
            assert log_line.startswith("full log: ")
            assert nas_snapshot(provision_nas) == before
    finally:
        nasops(capsys, "apply", "-i", str(inventory), "-q")


def test_on_debian_13_every_person_reaches_what_the_report_says_and_the_exporter_is_up(
    provision_nas: LabHost, inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    release = run_in_host(provision_nas, ["cat", "/etc/os-release"]).stdout
    assert "VERSION_CODENAME=trixie" in release, release
    # A seed file in every folder, placed as root: the apply gives it the folder's rights.
    spec = load_spec(inventory.parent / "wsm.yml").spec
    folders = [f"{share['path']}/{folder['path']}".rstrip("/")
               for share in compile_spec(spec)["shares"] for folder in share["folders"]]
    run_in_host(provision_nas, ["python3", "-c", SEED_SCRIPT], input_text=json.dumps(folders))
    code, out, err = nasops(capsys, "apply", "-i", str(inventory), "-q")
    assert code == 0, out + err
    secrets = yaml.safe_load((inventory.parent / "secrets.yml").read_text(encoding="utf-8"))
    nas = SimpleNamespace(host=provision_nas, rights=resolve_rights(spec),
                          passwords=dict(secrets["nasops_user_passwords"]))
    matrix.test_every_user_and_folder_behaves_as_the_access_report_says(nas)
    matrix.test_access_based_enumeration_hides_unreachable_folders(nas)
    # Every person created, wrote and deleted files over SMB: still no drift.
    code, out, err = nasops(capsys, "drift", "-i", str(inventory), "-q")
    assert code == 0, out + err

    # Samba 4.22, restic 0.18, Syncthing 1.29 and systemd 257 read by the exporter.
    with urllib.request.urlopen(f"http://{provision_nas.address}:9750/metrics",
                                timeout=10) as answer:
        scrape = answer.read().decode("utf-8")
    up = dict(re.findall(r'^nasops_collector_up\{collector="([a-z_]+)"\} (\S+)$', scrape,
                         re.MULTILINE))
    assert up and set(up.values()) == {"1.0"}, up


def stored_secrets(inventory: Path) -> dict[str, Any]:
    """Return the secrets file `nasops secrets init` wrote next to the inventory."""
    return yaml.safe_load(  # type: ignore[no-any-return]
        (inventory.parent / "secrets.yml").read_text(encoding="utf-8"))


def person(host: LabHost, inventory: Path, login: str) -> SmbUser:
    """Return `login` logged in over SMB with the password nasops gave them."""
    return SmbUser(host.address, login, stored_secrets(inventory)["nasops_user_passwords"][login])


def test_on_debian_13_a_deleted_folder_comes_back_from_the_backup_and_the_drill_passes(
    provision_nas: LabHost, inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = stored_secrets(inventory)
    aminata = person(provision_nas, inventory, "adiallo")
    benin = "Partenaires/Bénin"
    try:
        smbclient.makedirs(aminata.unc("Afrique", f"{benin}/2026"), exist_ok=True,
                           **aminata.options)
        aminata.save("Afrique", f"{benin}/2026/rapport Cotonou.txt", "rapport été\n".encode())
        aminata.save("Afrique", f"{benin}/2026/budget.xlsx", bytes(range(256)) * 2000)
    finally:
        aminata.close()
    saved = f"{AFRIQUE}/{benin}/2026"
    before = run_in_host(provision_nas, ["sh", "-c", RIGHTS_AND_BYTES, "sh", saved]).stdout
    # The night's backup, through the unit its timer starts (restic 0.18, systemd 257).
    run_in_host(provision_nas, ["systemctl", "start", "nasops-backup@usb.service"], timeout=300)
    status = json.loads(run_in_host(provision_nas, [
        "cat", "/var/lib/nasops/backup/usb.json"]).stdout)
    attempt = status["backup"]["last_attempt"]
    assert attempt["result"] == "success", attempt

    # The next morning the person deletes the year's folder by mistake, over SMB.
    aminata = person(provision_nas, inventory, "adiallo")
    try:
        smbclient.remove(aminata.unc("Afrique", f"{benin}/2026/rapport Cotonou.txt"),
                         **aminata.options)
        smbclient.remove(aminata.unc("Afrique", f"{benin}/2026/budget.xlsx"), **aminata.options)
        smbclient.rmdir(aminata.unc("Afrique", f"{benin}/2026"), **aminata.options)
    finally:
        aminata.close()
    restored = run_in_host(provision_nas, [
        BACKUP_COMMAND, "restore", "--repository", "usb", "--snapshot",
        attempt["snapshot_id"], "--path", saved], timeout=300)
    after = run_in_host(provision_nas, ["sh", "-c", RIGHTS_AND_BYTES, "sh", saved]).stdout
    assert after == before, restored.stdout + restored.stderr
    drill = run_in_host(provision_nas, [BACKUP_COMMAND, "drill", "--repository", "usb"],
                        timeout=300)
    result = json.loads(run_in_host(provision_nas, [
        "cat", "/var/lib/nasops/backup/usb.json"]).stdout)["drill"]["last_attempt"]
    assert result["result"] == "success" and result["verified_files"] >= 2, result
    output = restored.stdout + restored.stderr + drill.stdout + drill.stderr
    for password in secrets["nasops_restic_passwords"].values():
        assert password not in output
    code, out, err = nasops(capsys, "drift", "-i", str(inventory), "-q")
    assert code == 0, out + err


def test_on_debian_13_a_field_laptop_syncs_both_ways_and_nothing_drifts(
    provision_nas: LabHost, inventory: Path, laptop: Laptop,
    capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = stored_secrets(inventory)
    nas = Rest(f"{provision_nas.address}:8384", str(secrets["nasops_syncthing_api_key"]))
    desired = compile_spec(load_spec(inventory.parent / "wsm.yml").spec)
    folder = next(item for item in desired["sync"]["folders"] if item["label"] == "Afrique")
    key_file = inventory.parent / "syncthing.env"
    key_file.write_text(f"STGUIAPIKEY={secrets['nasops_syncthing_api_key']}\n",
                        encoding="utf-8")
    # The provider reads the NAS's device ID with `nasops sync status` and prints François's
    # handout with it; François's laptop adds the NAS from the handout's QR code, decoded
    # from the printed page: it must be the NAS's real ID.
    code, out, err = nasops(capsys, "sync", "status", "--json", "--url",
                            f"http://{provision_nas.address}:8384", "--api-key-file",
                            str(key_file))
    assert code == 0, err
    shown_id = json.loads(out)["device_id"]
    assert shown_id == nas.call("GET", "/rest/system/status")["myID"]
    handouts = inventory.parent / "handouts"
    code, out, err = nasops(capsys, "guide", str(inventory.parent / "wsm.yml"), "--person",
                            "fkabore", "--nas-device-id", shown_id, "--format", "pdf",
                            "-o", str(handouts))
    assert code == 0, err
    decoded = qr_codes_in(handouts / "fkabore.pdf")
    assert decoded == [shown_id]
    nas_id = decoded[0]

    def shown() -> dict[str, Any]:
        """What `nasops sync status --json` says of the laptop for the folder."""
        code, out, err = nasops(capsys, "sync", "status", "--json", "--url",
                                f"http://{provision_nas.address}:8384", "--api-key-file",
                                str(key_file))
        assert code == 0, err
        return next(item for entry in json.loads(out)["folders"] if entry["id"] == folder["id"]
                    for item in entry["devices"] if item["id"] == laptop.device_id)

    # François accepts the NAS but not yet its folder: Debian 13's Syncthing says so
    # (remoteState), where a Syncthing 1.19 would only show an incomplete laptop.
    laptop.add_nas(nas_id, provision_nas.address)
    wait_until("the laptop connects to the NAS", lambda: nas.call(
        "GET", "/rest/system/connections")["connections"].get(
            laptop.device_id, {}).get("connected"), timeout=120)
    wait_until("the NAS knows the laptop has not accepted Afrique",
               lambda: shown()["remote_state"] == "notSharing")
    laptop.add_folder(nas_id, folder, laptop.path("Afrique"))
    wait_until("the NAS knows the laptop shares Afrique",
               lambda: shown()["remote_state"] == "valid")
    # Debian 12's Syncthing on the laptop does not say it.
    assert "remoteState" not in laptop.rest.call("GET", "/rest/db/completion",
                                                 folder=folder["id"], device=nas_id)

    # A colleague saves a mission report over SMB; it reaches the laptop.
    aminata = person(provision_nas, inventory, "adiallo")
    try:
        aminata.save("Afrique", "Rapports de mission/Mali été.txt", "écrit au bureau\n".encode())
    finally:
        aminata.close()
    nas.call("POST", "/rest/db/scan", folder=folder["id"])
    on_laptop = laptop.path("Afrique/Rapports de mission/Mali été.txt")
    wait_until("the SMB file reaches the laptop", lambda: laptop.has(on_laptop))
    assert laptop.read(on_laptop) == "écrit au bureau\n"
    # On the road, François writes a report on the laptop; it reaches the NAS with the
    # folder's rights, and the colleague reads it over SMB.
    written = laptop.path("Afrique/Rapports de mission/Cotonou terrain.txt")
    run_in_host(laptop.host, ["tee", written], input_text="écrit sur le terrain\n")
    laptop.rest.call("POST", "/rest/db/scan", folder=folder["id"])
    on_nas = f"{AFRIQUE}/Rapports de mission/Cotonou terrain.txt"
    # Syncthing writes it as its own account; the NAS's ACL keeper gives it the folder's
    # rights within about a second: the ACL the contract gives the folder's files.
    default = run_in_host(provision_nas, ["getfacl", "-cpE", "-d",
                                          f"{AFRIQUE}/Rapports de mission"]).stdout
    wanted = file_acl_of({line for line in default.splitlines() if line.strip()})
    assert "group:cellule-afrique:rw-" in wanted and "user:nasops-sync:rw-" in wanted, wanted

    def has_the_folder_rights() -> bool:
        acl = run_in_host(provision_nas, ["getfacl", "-cpE", on_nas], accepted_codes=(0, 1))
        return {line for line in acl.stdout.splitlines() if line.strip()} == wanted

    wait_until(f"the laptop's file reaches the NAS with its folder's ACL {sorted(wanted)}",
               has_the_folder_rights)
    aminata = person(provision_nas, inventory, "adiallo")
    try:
        with smbclient.open_file(aminata.unc("Afrique", "Rapports de mission/Cotonou terrain.txt"),
                                 mode="rb", **aminata.options) as handle:
            assert handle.read() == "écrit sur le terrain\n".encode()
    finally:
        aminata.close()
    wait_until("the NAS sees the laptop complete", lambda: shown()["completion_percent"] == 100)
    code, out, err = nasops(capsys, "drift", "-i", str(inventory), "-q")
    assert code == 0, out + err
