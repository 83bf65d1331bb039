"""A day in the life of the example NGO's NAS: people work, and every alarm stays true.

One NAS (127.0.0.60) converged by `nasops apply` from a copy of the example spec (a local
restic repository, adiallo's laptop as his only device, Éducation/Vormingen closed to cleroy
by a user entry `none`), and a laptop host (127.0.0.61) running adiallo's Syncthing.
People then do what they do: several users save, rename, copy and delete files over SMB (in
shared, private and nested folders, and make folders), an administrator copies with `cp -a`
and moves a file within a share on the NAS, the laptop syncs a file in, a backup, a check and
a restore drill run. Only then: `nasops drift` exits 0, the NAS's own drift check says 0 in a
real Prometheus with the shipped rules, no alert is pending, and a second apply changes
nothing. A hand-made ACL change afterwards is drift and makes the alert pending; a folder and
a person removed from the spec are settled by `nasops forget`, with the data unchanged.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import smbclient
from polling import wait_until
from prometheus_lab import RULES, Prometheus, running_prometheus
from ruamel.yaml import YAML
from smb_probe import SmbUser
from sync_laptop import Laptop, Rest
from test_sync import nasops

from nasops.compile import compile_spec
from nasops.lab import LabHost, render_inventory, run_in_host
from nasops.lab.testing import LabHostFactory
from nasops.spec import load_spec

pytestmark = [pytest.mark.lab, pytest.mark.slow]

EXAMPLE_SPEC = Path(__file__).resolve().parents[2] / "inventory" / "example" / "wsm.yml"
NAS_ADDRESS, LAPTOP_ADDRESS = "127.0.0.60", "127.0.0.61"
ROOT = "/srv/nas/wsm"
REPOSITORY = "/var/backups/nasops-restic"
REMOVED_FOLDER = "Afrique/Partenaires/Burundi"
REMOVED_USER = "rperalta"
NO_CHANGES = "daylife: no changes: the NAS already matches the spec"


@dataclass
class Day:
    """The converged NAS, the laptop and what the tests need to act as people."""

    nas: LabHost
    laptop: Laptop
    directory: Path
    inventory: Path
    spec: Path
    passwords: dict[str, str]
    prometheus: Prometheus

    def smb(self, login: str) -> SmbUser:
        return SmbUser(NAS_ADDRESS, login, self.passwords[login])

    def sh(self, script: str, *arguments: str, codes: tuple[int, ...] = (0,)) -> str:
        return run_in_host(self.nas, ["sh", "-c", script, "sh", *arguments],
                           accepted_codes=codes).stdout


def write_spec(target: Path, device: dict[str, str], *, removed: bool = False,
               cleroy_reads_trainings: bool = False) -> None:
    """Copy the example spec for this NAS; with `removed`, without REMOVED_FOLDER and
    REMOVED_USER; with `cleroy_reads_trainings`, without her `none` on Vormingen."""
    yaml = YAML(typ="rt")
    yaml.width = 4096
    spec = yaml.load(EXAMPLE_SPEC.read_text(encoding="utf-8"))
    for user in spec["users"]:
        user.pop("devices", None)  # the example's devices are not real laptops
        if user["login"] == "adiallo":
            user["devices"] = [device]
    if removed:
        spec["users"] = [user for user in spec["users"] if user["login"] != REMOVED_USER]
    afrique = next(share for share in spec["shares"] if share["name"] == "Afrique")
    partners = next(folder for folder in afrique["folders"] if folder["name"] == "Partenaires")
    if removed:
        partners["folders"] = [folder for folder in partners["folders"]
                               if folder["name"] != "Burundi"]
    education = next(share for share in spec["shares"] if share["name"] == "Éducation")
    trainings = next(folder for folder in education["folders"] if folder["name"] == "Vormingen")
    if not cleroy_reads_trainings:
        trainings["access"]["cleroy"] = "none"  # Sensibilisation reads it; she may not
    spec["backup"]["repositories"] = [{"name": "local", "url": REPOSITORY}]
    spec["backup"]["retention"] = {"last": 10}
    spec["backup"]["drill"] = {"schedule": "monthly", "sample_files": 50}
    spec["monitoring"]["listen_address"] = NAS_ADDRESS
    with target.open("w", encoding="utf-8") as handle:
        yaml.dump(spec, handle)


def apply(day: Day) -> str:
    code, out, err = nasops("apply", "-q", "-i", str(day.inventory))
    assert code == 0, out + err
    return out


def drift(day: Day) -> tuple[int, dict[str, Any]]:
    code, out, err = nasops("drift", "--json", "-i", str(day.inventory))
    assert code in (0, 3), out + err
    return code, json.loads(out)


def nas_drift_items(day: Day, since: float | None = None) -> float:
    """Run the NAS's own drift check now (or, given `since`, wait for one that nasops started
    after that time); return nasops_drift_items as Prometheus sees it."""
    before = time.time() if since is None else since
    if since is None:
        # restart: a check an apply started may still be running, from before the change.
        day.sh("systemctl restart nasops-drift-check.service")
    return float(day.prometheus.wait_for(
        "Prometheus to scrape the new drift check",
        lambda: [value for value in day.prometheus.values(
            f"nasops_drift_items and nasops_drift_check_last_timestamp_seconds > {before}",
            "instance").values()] or None, 30)[0])


def write(day: Day, login: str, share: str, path: str, data: bytes) -> None:
    user = day.smb(login)
    try:
        with smbclient.open_file(user.unc(share, path), mode="wb", **user.options) as handle:
            handle.write(data)
    finally:
        user.close()


@pytest.fixture(scope="module")
def day(lab_hosts: LabHostFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    nas = lab_hosts("daylife", NAS_ADDRESS)
    laptop = Laptop(lab_hosts("daylaptop", LAPTOP_ADDRESS), "writer",
                    f"{LAPTOP_ADDRESS}:22000", f"{LAPTOP_ADDRESS}:8384")
    laptop.start()
    directory = tmp_path_factory.mktemp("day")
    device = {"name": "laptop-field", "id": laptop.device_id,
              "address": f"tcp://{laptop.listen}"}
    spec = directory / "wsm.yml"
    write_spec(spec, device)
    inventory = directory / "inventory.yml"
    inventory.write_text(render_inventory(nas, {"nasops_spec": "wsm.yml",
                                                "nasops_secrets_file": "secrets.yml"}),
                         encoding="utf-8")
    code, out, err = nasops("secrets", "init", "-i", str(inventory))
    assert code == 0, out + err
    stored = YAML(typ="safe").load((directory / "secrets.yml").read_text(encoding="utf-8"))
    code, out, err = nasops("apply", "-q", "-i", str(inventory))
    assert code == 0, out + err
    nas_rest = Rest(f"{NAS_ADDRESS}:8384", stored["nasops_syncthing_api_key"])
    desired = compile_spec(load_spec(spec).spec)
    folder = next(item for item in desired["sync"]["folders"] if item["label"] == "Afrique")
    laptop.accept(nas_rest.call("GET", "/rest/system/status")["myID"], NAS_ADDRESS, folder,
                  laptop.path("Afrique"))
    with running_prometheus(directory, [f"{NAS_ADDRESS}:9750"], [RULES],
                            {"organization": "wsm", "host": "daylife"}) as prometheus:
        yield Day(nas, laptop, directory, inventory, spec,
                  dict(stored["nasops_user_passwords"]), prometheus)


def test_a_day_of_work_is_not_drift_and_raises_no_alert(day: Day) -> None:
    # Several people save, make folders, rename, copy and delete over SMB.
    write(day, "adiallo", "Afrique", "Rapports de mission/mission-2026.docx", b"rapport " * 500)
    write(day, "adiallo", "Afrique", "brouillon.txt", b"a draft")
    adiallo = day.smb("adiallo")
    smbclient.makedirs(adiallo.unc("Afrique", "Nouveau dossier/Sous-dossier"),
                       exist_ok=True, **adiallo.options)
    adiallo.close()
    write(day, "adiallo", "Afrique", "Nouveau dossier/Sous-dossier/notes.txt", b"notes")
    adiallo = day.smb("adiallo")
    smbclient.rename(adiallo.unc("Afrique", "brouillon.txt"),
                     adiallo.unc("Afrique", "Nouveau dossier/version finale.txt"),
                     **adiallo.options)
    smbclient.copyfile(adiallo.unc("Afrique", "Rapports de mission/mission-2026.docx"),
                       adiallo.unc("Afrique", "Rapports de mission/mission-2026 (2).docx"),
                       **adiallo.options)
    smbclient.remove(adiallo.unc("Afrique", "Rapports de mission/mission-2026 (2).docx"),
                     **adiallo.options)
    adiallo.close()
    write(day, "smertens", "Afrique", "Finances/budget.xlsx", b"budget")  # a private folder
    smertens = day.smb("smertens")
    smbclient.rename(smertens.unc("Afrique", "Finances/budget.xlsx"),
                     smertens.unc("Afrique", "Finances/budget 2026.xlsx"), **smertens.options)
    smertens.close()
    write(day, "gvermeulen", "Afrique", "Partenaires/Mali/rapport partenaire.pdf", b"%PDF")
    write(day, "gvermeulen", "Afrique", f"{REMOVED_FOLDER.split('/', 1)[1]}/suivi.odt", b"odt")
    write(day, "cleroy", "Éducation", "Campagnes/affiche.png", b"\x89PNG")
    write(day, "mlsimon", "Direction", "Conseil d'administration/pv.docx", b"pv")
    write(day, "hdupont", "Direction", "Financiën/rekening.xlsx", b"x")
    # An administrator copies with cp -a and moves a file within a share on the NAS.
    day.sh(f'cd "{ROOT}/Afrique" && cp -a "Rapports de mission/mission-2026.docx" '
           '"Rapports de mission/mission-2026 (copie).docx" && '
           'mv "Partenaires/Mali/rapport partenaire.pdf" "Partenaires/Bénin/"')
    # The field laptop syncs a file in.
    run_in_host(day.laptop.host, ["sh", "-c", 'mkdir -p "$1" && echo terrain > "$1/terrain.txt"',
                                  "sh", day.laptop.path("Afrique") + "/Rapports de mission"])
    day.laptop.rest.call("POST", "/rest/db/scan", folder=next(
        folder["id"] for folder in day.laptop.rest.call("GET", "/rest/config/folders")))
    wait_until("the laptop's file to reach the NAS", lambda: day.sh(
        'test -f "$1" && echo yes || true', f"{ROOT}/Afrique/Rapports de mission/terrain.txt"))
    # A backup, a check and a restore drill run as their timers would start them.
    # One after the other, as their schedules space them: a check and a drill wait for no lock.
    for service in ("nasops-backup@local", "nasops-backup-check", "nasops-backup-drill"):
        day.sh(f"systemctl start {service}.service")
    # Access-based enumeration follows the user entry `none`: hidden, not listed-then-denied.
    cleroy = day.smb("cleroy")
    assert "Vormingen" not in (cleroy.listdir("Éducation", "") or ["(not listed)"])
    assert cleroy.listdir("Éducation", "Vormingen") is None
    assert "Vormingen" in (day.smb("jpeeters").listdir("Éducation", "") or [])
    code, document = drift(day)
    assert code == 0, document
    assert nas_drift_items(day) == 0
    time.sleep(3)  # a few rule evaluations on the fresh samples
    assert day.prometheus.alerts() == []
    assert NO_CHANGES in apply(day)


SKIPPED_ROLES = ("nas_base", "nas_release", "nas_accounts", "nas_quotas", "nas_exporter",
                 "nas_backup")


def test_roles_skipped_by_their_record_still_see_every_hand_made_change(day: Day) -> None:
    """After the day's work the roles that manage only files, units, accounts and quotas are
    skipped (their inputs and the NAS's state of what they manage match their record); an
    administrator's changes to that state are drift all the same, and apply repairs them."""
    records = json.loads(day.sh("cat /var/lib/nasops/converged.json"))["roles"]
    assert set(SKIPPED_ROLES) <= set(records), sorted(records)
    assert "nas_sync" not in records  # a running Syncthing is read through its API each time
    code, out, err = nasops("drift", "-i", str(day.inventory))
    assert code == 0, out + err
    log = Path((out + err).split("full log: ")[1].split()[0]).read_text(encoding="utf-8")
    for task in ("Prepare the NAS", "Install the nasops release", "Converge the organisation",
                 "Create, rename and limit", "Install the exporter", "Converge the backups"):
        assert re.search(rf"TASK \[{re.escape(task)}[^\n]*\nskipping:", log), f"{task} ran"
    # Each a change to what one skipped role manages, while its inputs stay the same.
    login = "jpeeters"
    day.sh(r"sed -i 's/^\[global\]$/[global]\n   server signing = disabled/' "
           "/etc/samba/smb.conf")
    day.sh("systemctl stop nasops-exporter.service")
    day.sh("printf 'Other-by-hand-1\\nOther-by-hand-1\\n' | smbpasswd -s \"$1\"", login)
    day.sh("systemctl disable --now nasops-backup@local.timer")
    day.sh(f'mkdir "{ROOT}/Made by hand"')
    code, document = drift(day)
    assert code == 3, document
    found = {(item["kind"], item["target"]) for item in document["hosts"]["daylife"]["changes"]}
    assert {("file", "/etc/samba/smb.conf"), ("service", "nasops-exporter.service"),
            ("password", login), ("service", "nasops-backup@local.timer"),
            ("unmanaged", f"{ROOT}/Made by hand")} <= found, found
    day.sh(f'rmdir "{ROOT}/Made by hand"')
    apply(day)
    assert day.smb(login).listdir("Éducation", "") is not None  # the spec's password again
    code, document = drift(day)
    assert code == 0, document
    assert NO_CHANGES in apply(day)


def test_a_right_given_in_the_spec_reaches_the_person_over_smb(day: Day) -> None:
    """A one-folder change (apply's real pass walks again only the share its check found a
    change in), then back: each time the person sees it over SMB and there is no drift."""
    device = {"name": "laptop-field", "id": day.laptop.device_id,
              "address": f"tcp://{day.laptop.listen}"}
    write_spec(day.spec, device, cleroy_reads_trainings=True)
    apply(day)
    cleroy = day.smb("cleroy")
    assert "Vormingen" in (cleroy.listdir("Éducation", "") or [])
    assert drift(day)[0] == 0
    write_spec(day.spec, device)
    apply(day)
    assert cleroy.listdir("Éducation", "Vormingen") is None
    assert drift(day)[0] == 0
    assert NO_CHANGES in apply(day)


def test_a_hand_made_acl_change_is_drift_and_the_alert_is_pending(day: Day) -> None:
    target = f"{ROOT}/Éducation/Campagnes/affiche.png"
    day.sh('setfacl -m u:rsingh:rw "$1"', target)
    code, document = drift(day)
    assert code == 3
    [item] = document["hosts"]["daylife"]["changes"]
    assert item["kind"] == "acl" and item["target"] == target, item
    assert nas_drift_items(day) == 1
    day.prometheus.wait_for("NasopsDriftPresent pending", lambda: [
        alert for alert in day.prometheus.alerts()
        if alert["labels"]["alertname"] == "NasopsDriftPresent"], 20)
    apply(day)
    assert drift(day)[0] == 0 and nas_drift_items(day) == 0


def test_a_folder_and_a_person_removed_from_the_spec_are_settled_by_forget(day: Day) -> None:
    folder = f"{ROOT}/{REMOVED_FOLDER}"
    fingerprint = 'cd "$1" && find . -type f -exec sha256sum {} + | sort && getfacl -R -p .'
    before = day.sh(fingerprint, folder)
    assert "suivi.odt" in before
    write_spec(day.spec, {"name": "laptop-field", "id": day.laptop.device_id,
                          "address": f"tcp://{day.laptop.listen}"}, removed=True)
    summary = apply(day)
    assert folder in summary, summary
    code, document = drift(day)
    assert code == 3 and [item["kind"] for item in document["hosts"]["daylife"]["changes"]] == [
        "unmanaged"], document
    forgotten = time.time()
    code, out, err = nasops("forget", "-i", str(day.inventory), REMOVED_FOLDER)
    assert code == 0 and folder in out, out + err
    code, document = drift(day)
    assert code == 0, document
    # forget started the NAS's drift check itself: the alert clears without waiting a day.
    assert nas_drift_items(day, since=forgotten) == 0
    assert day.sh(fingerprint, folder) == before  # data and ACLs as they were
    # The person who left is disabled, not deleted, and that is not drift either.
    assert day.sh(f"getent passwd {REMOVED_USER} >/dev/null && echo kept") == "kept\n"
    assert NO_CHANGES in apply(day)
