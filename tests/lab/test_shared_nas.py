"""One NAS, several organisations (issue 13), as a provider and the associations' people use it.

The collective example (inventory/collective: three associations, a login two of them use, a
member in no group, accents and spaces, a shared space) is applied to a lab NAS of its own in
one run. Then, over real SMB: every person reaches exactly what the provider's access report
says and sees only that; people save, copy, rename and delete files and nothing drifts; one
association's edit changes nothing of the others; an association's quota stops writes that
its share's quota would allow; an association leaving the NAS keeps every byte, and its
people can no longer log in, and a newcomer cannot take over their accounts. The tests run
in this order, on one NAS, as one story (the last one takes an organisation off the NAS).
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess

import pytest
import smbclient
from polling import wait_until
from ruamel.yaml import YAML
from smb_probe import SmbUser, access_mismatches, listed_shares, people_work_over_smb
from smbprotocol.exceptions import DiskFull
from sync_laptop import Laptop, Rest

from conftest import SEED_SCRIPT
from nasops.ansible.inventory import list_inventory, target_hosts
from nasops.cli.main import main
from nasops.lab import LabHost, render_inventory, run_in_host
from nasops.lab.testing import LabHostFactory
from nasops.provision.hosted import validate_inventory
from nasops.provision.specs import compile_targets
from nasops.report.hosted import combined_report
from nasops.spec.rights import Access, RightsTable

COLLECTIVE = Path(__file__).resolve().parents[2] / "inventory" / "collective"
FILES = ("atable.yml", "habitat.yml", "relais.yml", "hosting.yml")


@dataclass
class SharedNas:
    """The collective's lab NAS, its inventory directory and the people's passwords."""

    host: LabHost
    directory: Path
    passwords: dict[str, str]

    @property
    def inventory(self) -> str:
        return str(self.directory / "inventory.yml")

    def report(self) -> RightsTable:
        """The provider's access report of the NAS (`nasops access-report -i`)."""
        found = validate_inventory(self.inventory)
        [(host, _)] = found.hosts.items()
        return combined_report(host, [loaded.spec for loaded in found.specs[host]],
                               found.shared.get(host))[1]


def nasops(*arguments: str) -> int:
    return main(list(arguments))


def _yaml() -> YAML:
    yaml = YAML()
    yaml.width = 4096  # long flow mappings on one line (folded keys are not YAML)
    return yaml


def _write_inventory(nas: LabHost, directory: Path, specs: list[str]) -> None:
    (directory / "inventory.yml").write_text(render_inventory(nas, {
        "nasops_specs": specs, "nasops_hosting": "hosting.yml",
        "nasops_secrets_file": "secrets.yml"}), encoding="utf-8")


@pytest.fixture(scope="module")
def shared_nas(lab_hosts: LabHostFactory, tmp_path_factory: pytest.TempPathFactory
               ) -> SharedNas:
    """The collective applied to a NAS of its own (127.0.0.45), a seed file in every folder
    placed as root after the apply."""
    host = lab_hosts("collective", "127.0.0.45")
    directory = tmp_path_factory.mktemp("collective")
    for name in FILES:
        shutil.copy(COLLECTIVE / name, directory / name)
    _write_inventory(host, directory, ["atable.yml", "habitat.yml", "relais.yml"])
    inventory = str(directory / "inventory.yml")
    assert nasops("secrets", "init", "-i", inventory) == 0
    assert nasops("apply", "-q", "-i", inventory) == 0
    desired = compile_targets(target_hosts(list_inventory(inventory), directory)).desired
    folders = [f"{share['path']}/{folder['path']}".rstrip("/")
               for share in desired[host.name]["shares"] for folder in share["folders"]]
    # Placed as root, they inherit their folder's default ACLs: not drift (the next test's
    # apply says "no changes").
    run_in_host(host, ["python3", "-c", SEED_SCRIPT], input_text=json.dumps(folders))
    secrets = YAML(typ="safe").load((directory / "secrets.yml").read_text(encoding="utf-8"))
    return SharedNas(host, directory, dict(secrets["nasops_user_passwords"]))


def test_every_person_reaches_exactly_what_the_provider_s_report_says(
        shared_nas: SharedNas) -> None:
    table = shared_nas.report()
    # The report gives nobody anything in another organisation's shares; SMB then matches
    # the report for every (person, folder), so nobody reaches across either.
    crossing = [(login, folder.display_path) for login in table.access for folder in table.folders
                if folder.path[0][:4] != login[:4] and folder.path[0] != "Commun"]
    across = [pair for pair in crossing
              if table.access[pair[0]][table.folder_index(pair[1])] is not Access.NONE]
    assert not across, across[:10]
    mismatches, levels = access_mismatches(table, shared_nas.host.address, shared_nas.passwords)
    assert not mismatches, "\n".join(mismatches[:40])
    # Zero access across organisations was really asked (73 pairs), and the levels the
    # example gives were all seen (it has no pass-through-only folder).
    assert len(crossing) > 50, len(crossing)
    assert all(levels[level] > 0 for level in (Access.NONE, Access.READ, Access.WRITE)), levels


def test_people_see_only_the_shares_and_folders_they_reach(shared_nas: SharedNas) -> None:
    # Samba's access-based enumeration, share list (smbclient -L) and folders.
    table = shared_nas.report()
    roots = {folder.path[0]: folder.index for folder in table.folders if folder.parent is None}
    problems: list[str] = []
    hidden_folders = 0
    for login in sorted(table.access):
        if not table.directory.users[login].enabled:
            continue
        seen = listed_shares(shared_nas.host.address, login, shared_nas.passwords[login])
        reachable = {share for share, index in roots.items()
                     if table.access[login][index] is not Access.NONE}
        if seen != reachable:
            problems.append(f"{login} sees shares {sorted(seen)}, reaches {sorted(reachable)}")
        user = SmbUser(shared_nas.host.address, login, shared_nas.passwords[login])
        try:
            for folder in table.folders:
                if folder.parent is None or table.access[login][folder.parent] is Access.NONE:
                    continue
                parent = table.folders[folder.parent]
                names = user.listdir(parent.path[0], "/".join(parent.path[1:])) or []
                should_see = table.access[login][folder.index] is not Access.NONE
                hidden_folders += not should_see
                if (folder.path[-1] in names) != should_see:
                    problems.append(f"{login}: {folder.display_path} visible="
                                    f"{not should_see}, expected {should_see}")
        finally:
            user.close()
    # The shared space's `inherit: false` office is hidden from most people who read Commun.
    assert hidden_folders >= 3, hidden_folders
    assert not problems, "\n".join(problems[:40])


def test_people_work_and_nothing_drifts_and_a_second_apply_changes_nothing(
        shared_nas: SharedNas, capsys: pytest.CaptureFixture[str]) -> None:
    people_work_over_smb(shared_nas.host.address, shared_nas.passwords, [
        ("atb-marie", "atb-Réseau", ""),
        ("rel-marie", "rel-Pôle", "Comptabilité"),
        ("rel-zoe", "rel-Pôle", "Ateliers et formations"),
        ("hab-tom", "Commun", "Bureau du collectif"),
        ("atb-marie", "Commun", "À Table !"),
        ("rel-samir", "Commun", "Relais Solidaire")])
    capsys.readouterr()
    assert nasops("drift", "-q", "-i", shared_nas.inventory) == 0
    assert nasops("apply", "-q", "-i", shared_nas.inventory) == 0
    assert "no changes: the NAS already matches the spec" in capsys.readouterr().out


def _restic(nas: LabHost, repository: str, password: str, *arguments: str,
            accepted: tuple[int, ...] = (0,)) -> CompletedProcess[str]:
    """restic on the NAS, on one owner's repository (an association's or the shared space's),
    with one repository's password file as the NAS keeps it."""
    return run_in_host(nas, [
        "env", f"RESTIC_REPOSITORY=/srv/sauvegardes/{repository}",
        f"RESTIC_PASSWORD_FILE=/etc/nasops/restic/{password}.password",
        "restic", "--no-cache", *arguments], accepted_codes=accepted)


def test_each_association_s_backup_holds_its_own_files_under_its_own_password(
        shared_nas: SharedNas) -> None:
    host = shared_nas.host
    # The timers' own services, as the night would start them, then the monthly drill.
    repositories = {"atable": "atb-disque", "relais": "rel-disque", "commun": "commun"}
    for repository in repositories.values():
        run_in_host(host, ["systemctl", "start", f"nasops-backup@{repository}.service"],
                    timeout=300)
    run_in_host(host, ["systemctl", "start", "nasops-backup-drill.service"], timeout=300)
    for owner, saved in (("atable", "/srv/nas/atable/Réseau/atb-marie.txt"),
                         ("relais", "/srv/nas/relais/Pôle/Comptabilité/rel-marie.txt"),
                         ("commun", "/srv/nas/commun/Commun/À Table !/atb-marie.txt")):
        listed = [line for line in _restic(host, owner, repositories[owner], "ls", "latest")
                  .stdout.splitlines() if line.startswith("/")]
        # What people saved over SMB is in its owner's backup (an association's, or the
        # provider's for the shared space), and nothing of any other owner is.
        assert saved in listed, listed
        root = f"/srv/nas/{owner}"
        assert all(path.startswith(f"{root}/") or f"{root}/".startswith(f"{path}/")
                   for path in listed), listed  # its files, and the directories above them
    # One owner's password opens nothing of another's (restic 0.14 exits 1, later versions
    # 12 for a wrong password).
    for owner, other in (("relais", "atb-disque"), ("atable", "rel-disque"),
                         ("commun", "atb-disque")):
        refused = _restic(host, owner, other, "snapshots", accepted=(1, 12))
        assert "wrong password" in refused.stderr, refused.stderr
    metrics = scrape(host)
    for repository in repositories.values():
        for family in ("nasops_backup_last_success", "nasops_backup_drill_last_success"):
            value = re.search(rf'^{family}\{{repository="{repository}"\}} (\S+)$', metrics,
                              re.MULTILINE)
            assert value and float(value.group(1)) == 1, (family, repository)
    owners = dict(re.findall(r'^nasops_backup_organization_info\{organization_id="([^"]+)",'
                             r'repository="([^"]+)"\} 1\.0$', metrics, re.MULTILINE))
    assert owners == {owner: repository for owner, repository in repositories.items()}, owners
    assert nasops("drift", "-q", "-i", shared_nas.inventory) == 0


def test_one_organisation_s_edit_changes_nothing_of_the_others(
        shared_nas: SharedNas, capsys: pytest.CaptureFixture[str]) -> None:
    spec = shared_nas.directory / "relais.yml"
    yaml = _yaml()
    data = yaml.load(spec.read_text(encoding="utf-8"))
    data["shares"][0]["folders"].append({"name": "Archives 2026",
                                         "access": {"Bénévoles": "none"}})
    with spec.open("w", encoding="utf-8") as stream:
        yaml.dump(data, stream)
    capsys.readouterr()
    assert nasops("plan", "-q", "--json", "-i", shared_nas.inventory) == 0
    document = json.loads(capsys.readouterr().out)
    changes = document["hosts"][shared_nas.host.name]["changes"]
    # Who gains access, against the specs the NAS last matched (kept by the apply): Le
    # Relais's team on its new folder, nobody in the other organisations.
    access = document["access"][shared_nas.host.name]
    assert access["known"] and access["gone"] == [] and access["notes"] == [], access
    organisations = access["organisations"]
    assert sorted(organisations) == ["atable", "habitat", "relais"], organisations
    assert {(change["login"], change["folder"], change["before"], change["after"])
            for change in organisations["relais"]["changes"]} == {
        ("marie", "Pôle/Archives 2026", "none", "write"),
        ("samir", "Pôle/Archives 2026", "none", "write")}, organisations["relais"]
    assert all(organisations[name]["changes"] == [] for name in ("atable", "habitat"))
    # The new folder, and the NAS's own copy of the desired state (its drift check's).
    assert [(change["kind"], change["target"]) for change in changes] == [
        ("folder", "/srv/nas/relais/Pôle/Archives 2026"),
        ("desired copy", "/etc/nasops/desired.json")], changes
    assert nasops("apply", "-q", "-i", shared_nas.inventory) == 0
    assert nasops("drift", "-q", "-i", shared_nas.inventory) == 0


@pytest.fixture
def small_relais_quota(shared_nas: SharedNas) -> Iterator[None]:
    """The provider gives Le Relais 40M in all (its share's own quota stays 100G)."""
    hosting = shared_nas.directory / "hosting.yml"
    text = hosting.read_text(encoding="utf-8")
    hosting.write_text(text.replace("relais: {quota: 300G}", "relais: {quota: 40M}"),
                       encoding="utf-8")
    try:
        yield
    finally:
        hosting.write_text(text, encoding="utf-8")
        run_in_host(shared_nas.host, ["rm", "-f", "/srv/nas/relais/Pôle/big-1.bin",
                                      "/srv/nas/relais/Pôle/big-2.bin"])
        assert nasops("apply", "-q", "-i", shared_nas.inventory) == 0


def test_the_organisation_quota_stops_writes_its_share_quota_allows(
        shared_nas: SharedNas, small_relais_quota: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    marie = SmbUser(shared_nas.host.address, "rel-marie", shared_nas.passwords["rel-marie"])
    try:
        marie.save("rel-Pôle", "big-1.bin", b"\0" * 24 * 1024 * 1024)  # within 40M
        capsys.readouterr()
        assert nasops("apply", "-q", "--json", "-i", shared_nas.inventory) == 0
        changes = json.loads(capsys.readouterr().out)["hosts"][shared_nas.host.name]["changes"]
        # The limit, and the NAS's own files that name it (the exporter's configuration and
        # the drift check's copy of the desired state).
        assert [(change["target"], change["detail"]) for change in changes
                if not change["target"].startswith("/etc/nasops/")] == [
            ("organisation relais", "limit 300G -> 40M")]
        # btrfs refuses past the organisation's qgroup limit; Samba says the disk is full.
        with pytest.raises(DiskFull), smbclient.open_file(
                marie.unc("rel-Pôle", "big-2.bin"), mode="wb", **marie.options) as handle:
            for _ in range(32):
                handle.write(b"\0" * 1024 * 1024)
                handle.flush()
    finally:
        marie.close()

    # The exporter (restarted by the apply: its configuration names the limit) says so, by
    # organisation: the limit, enforced, and what Le Relais stores.
    def relais_metrics() -> dict[str, float] | None:
        found = {name: float(number) for name, number in re.findall(
            r'^(nasops_organization_[a-z_]+)\{organization_id="relais"\} (\S+)$',
            scrape(shared_nas.host), re.MULTILINE)}
        return found if found.get("nasops_organization_used_bytes", 0) >= 24 * 2**20 else None

    metrics = wait_until("the exporter reports Le Relais's usage", relais_metrics, 90)
    assert metrics["nasops_organization_limit_bytes"] == 40 * 2**20
    assert metrics["nasops_organization_quota_enforced"] == 1
    owners = [dict(re.findall(r'(\w+)="([^"]*)"', labels)) for labels in re.findall(
        r'^nasops_share_organization_info\{([^}]*)\} 1\.0$', scrape(shared_nas.host),
        re.MULTILINE)]
    assert {"share": "rel-Pôle", "organization_id": "relais"} in owners, owners
    assert {"share": "Commun", "organization_id": "commun"} in owners, owners
    # The other organisations are not limited by it.
    tom = SmbUser(shared_nas.host.address, "hab-tom", shared_nas.passwords["hab-tom"])
    try:
        tom.save("hab-Projet", "big.bin", b"\0" * 32 * 1024 * 1024)
        smbclient.remove(tom.unc("hab-Projet", "big.bin"), **tom.options)
    finally:
        tom.close()


def scrape(host: LabHost) -> str:
    """The NAS exporter's metrics, as Prometheus reads them."""
    with urllib.request.urlopen(f"http://{host.address}:9750/metrics", timeout=10) as answer:
        return str(answer.read().decode("utf-8"))


def _checksums(nas: LabHost, *directories: str) -> str:
    script = 'find "$@" -type f -print0 | sort -z | xargs -0 sha256sum'
    return run_in_host(nas, ["sh", "-c", script, "sh", *directories]).stdout


def _give_laptops(nas: SharedNas, laptops: dict[str, Laptop]) -> None:
    """marie of À Table ! and zoe of Le Relais each get their laptop in their association's
    spec, and each association syncs its share."""
    yaml = _yaml()
    for organisation, share, login in (("atable", "Réseau", "marie"), ("relais", "Pôle", "zoe")):
        path = nas.directory / f"{organisation}.yml"
        data = yaml.load(path.read_text(encoding="utf-8"))
        next(item for item in data["shares"] if item["name"] == share)["sync"] = True
        laptop = laptops[organisation]
        next(user for user in data["users"] if user["login"] == login)["devices"] = [
            {"name": "portable", "id": laptop.device_id, "address": f"tcp://{laptop.listen}"}]
        with path.open("w", encoding="utf-8") as stream:
            yaml.dump(data, stream)


def test_a_laptop_receives_its_association_s_folders_and_never_another_s(
        shared_nas: SharedNas) -> None:
    host = shared_nas.host
    # Laptop stand-ins: plain Syncthing instances, on the NAS host's address but ports of
    # their own (no second lab host to boot), reaching the NAS's Syncthing over TCP.
    laptops = {"atable": Laptop(host, "atb-portable", f"{host.address}:22100",
                                f"{host.address}:8390"),
               "relais": Laptop(host, "rel-portable", f"{host.address}:22101",
                                f"{host.address}:8391")}
    specs = {name: (shared_nas.directory / f"{name}.yml").read_text(encoding="utf-8")
             for name in laptops}
    try:
        for laptop in laptops.values():
            laptop.start()
        _give_laptops(shared_nas, laptops)
        assert nasops("secrets", "init", "-i", shared_nas.inventory) == 0
        assert nasops("apply", "-q", "-i", shared_nas.inventory) == 0
        secrets = YAML(typ="safe").load(
            (shared_nas.directory / "secrets.yml").read_text(encoding="utf-8"))
        nas = Rest(f"{host.address}:8384", secrets["nasops_syncthing_api_key"])
        nas_id = nas.call("GET", "/rest/system/status")["myID"]
        desired = compile_targets(target_hosts(list_inventory(shared_nas.inventory),
                                               shared_nas.directory)).desired[host.name]
        folders = desired["sync"]["folders"]
        # What the NAS's Syncthing itself shares: each folder with its own association's
        # laptop only.
        shared_with = {folder["id"]: {device["deviceID"] for device in folder["devices"]}
                       - {nas_id} for folder in nas.call("GET", "/rest/config/folders")}
        for folder in folders:
            organisation = folder["id"].split("-", 1)[0]
            assert shared_with[folder["id"]] == {laptops[organisation].device_id}, folder
        for laptop in laptops.values():
            laptop.add_nas(nas_id, host.address)
            for folder in folders:
                if laptop.device_id in folder["devices"]:
                    laptop.add_folder(nas_id, folder, laptop.path(folder["id"]))
        # Le Relais's laptop also asks for À Table !'s folder by its ID, as a curious or
        # hostile laptop could.
        [reseau] = [folder for folder in folders if folder["label"] == "Réseau"]
        [ateliers] = [folder for folder in folders
                      if folder["label"] == "Pôle/Ateliers et formations"]
        relais_laptop, atable_laptop = laptops["relais"], laptops["atable"]
        relais_laptop.add_folder(nas_id, reseau, relais_laptop.path("Réseau"))
        # People save over SMB; each laptop receives its own association's file.
        for login, share, name in (("atb-marie", "atb-Réseau", "pour le portable.txt"),
                                   ("rel-samir", "rel-Pôle",
                                    "Ateliers et formations/atelier.txt")):
            person = SmbUser(host.address, login, shared_nas.passwords[login])
            try:
                person.save(share, name, f"saved by {login}\n".encode())
            finally:
                person.close()
        for folder in (reseau, ateliers):
            nas.call("POST", "/rest/db/scan", folder=folder["id"])
        wait_until("marie's laptop receives the file saved in Réseau", lambda: atable_laptop.has(
            atable_laptop.path(f"{reseau['id']}/pour le portable.txt")))
        wait_until("zoe's laptop receives the workshop file", lambda: relais_laptop.has(
            relais_laptop.path(f"{ateliers['id']}/atelier.txt")))
        wait_until("zoe's laptop is complete for its own folders", lambda: all(
            nas.call("GET", "/rest/db/completion", folder=folder["id"],
                     device=relais_laptop.device_id)["completion"] == 100
            for folder in folders if relais_laptop.device_id in folder["devices"]))
        # The NAS has seen the laptop ask for À Table !'s folder and refused it (Syncthing
        # lists it as offered by a device it is not shared with), and nothing of it reached
        # Le Relais's laptop.
        wait_until("the NAS has refused Le Relais's laptop À Table !'s folder", lambda: (
            relais_laptop.device_id in nas.call("GET", "/rest/cluster/pending/folders")
            .get(reseau["id"], {}).get("offeredBy", {})))
        received = run_in_host(host, ["find", relais_laptop.path("Réseau"), "-type", "f",
                                      "-not", "-path", "*/.stfolder*"],
                               accepted_codes=(0, 1)).stdout
        assert received == "", received
        assert relais_laptop.rest.call("GET", "/rest/db/status",
                                       folder=reseau["id"])["globalFiles"] == 0
        assert nasops("drift", "-q", "-i", shared_nas.inventory) == 0
    finally:
        for laptop in laptops.values():
            if laptop.device_id:
                laptop.stop()
        # Back to the specs without laptops, passed or failed: what the next test plans does
        # not depend on how far this one got (its apply stops the NAS's Syncthing).
        for name, text in specs.items():
            (shared_nas.directory / f"{name}.yml").write_text(text, encoding="utf-8")


def test_an_organisation_leaving_keeps_every_byte_and_its_people_cannot_log_in(
        shared_nas: SharedNas, capsys: pytest.CaptureFixture[str]) -> None:
    host = shared_nas.host
    leaving = ("/srv/nas/habitat", "/srv/nas/commun/Commun/Habitat Partagé")
    before = _checksums(host, *leaving)
    assert before.count("\n") >= 4, before
    # The provider takes L'Habitat off the NAS: its spec, and its names in the hosting file.
    hosting = shared_nas.directory / "hosting.yml"
    yaml = _yaml()
    data = yaml.load(hosting.read_text(encoding="utf-8"))
    del data["organizations"]["habitat"]
    commun = data["shares"][0]
    del commun["access"]["habitat:Résidents"]
    for folder in commun["folders"]:
        for key in [key for key in folder["access"] if key.startswith(("habitat:", "hab-"))]:
            del folder["access"][key]
    with hosting.open("w", encoding="utf-8") as stream:
        yaml.dump(data, stream)
    _write_inventory(host, shared_nas.directory, ["atable.yml", "relais.yml"])
    # The provider's own account and share, made by hand: no organisation's, so never
    # nasops' to touch.
    run_in_host(host, ["useradd", "--no-create-home", "--shell", "/bin/sh", "fournisseur"])
    hand_made = ("[fournisseur]\n   path = /srv/fournisseur\n   valid users = fournisseur\n"
                 "   read only = no\n")
    run_in_host(host, ["mkdir", "-p", "/srv/fournisseur"])
    run_in_host(host, ["tee", "-a", "/etc/samba/smb.local.conf"], input_text=hand_made)
    assert nasops("apply", "-q", "-i", shared_nas.inventory) == 0
    assert run_in_host(host, ["getent", "shadow", "fournisseur"]).stdout.split(":")[7] == ""
    assert run_in_host(host, ["cat", "/etc/samba/smb.local.conf"]).stdout.endswith(hand_made)
    assert "[fournisseur]" in run_in_host(host, ["testparm", "-s"]).stdout

    assert _checksums(host, *leaving) == before
    for login in ("hab-tom", "hab-ines"):
        person = SmbUser(host.address, login, shared_nas.passwords[login])
        try:
            assert person.listdir("Commun", "") is None, login
            assert person.listdir("hab-Projet", "") is None, login
        finally:
            person.close()
        # Kept, disabled: the Samba account's flags say D, the account expired (day 1).
        assert "[D" in run_in_host(host, ["pdbedit", "-w", "-u", login]).stdout, login
        assert run_in_host(host, ["getent", "shadow", login]).stdout.split(":")[7] == "1"
    # The others go on as before, and nothing drifts.
    samir = SmbUser(host.address, "rel-samir", shared_nas.passwords["rel-samir"])
    try:
        assert samir.write_and_remove("Commun", "Bureau du collectif")
    finally:
        samir.close()
    assert nasops("drift", "-q", "-i", shared_nas.inventory) == 0

    # A new association taking the prefix of the one that left cannot take over its accounts
    # (their groups and files): refused at the plan, the NAS untouched.
    (shared_nas.directory / "voisins.yml").write_text(
        "version: 1\norganization: {id: voisins, account_prefix: hab-}\n"
        "groups: [{name: Voisins}]\nusers: [{login: tom, name: Tom Nouveau, groups: [Voisins]}]\n"
        "shares: [{name: Jardin, access: {Voisins: write}}]\n", encoding="utf-8")
    _write_inventory(host, shared_nas.directory, ["atable.yml", "relais.yml", "voisins.yml"])
    assert nasops("secrets", "init", "-i", shared_nas.inventory) == 0
    capsys.readouterr()
    assert nasops("plan", "-q", "-i", shared_nas.inventory) == 2
    said = capsys.readouterr()
    assert "refused: account 'hab-tom' belongs to hab-habitat-users" in said.out + said.err
    assert run_in_host(host, ["test", "-e", "/srv/nas/voisins"], accepted_codes=(1,))
