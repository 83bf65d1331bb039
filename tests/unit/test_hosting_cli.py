"""`nasops validate -i INVENTORY` for a NAS that hosts several organisations (issue 13), as a
provider runs it: exit 2 with every conflict at both places, or each NAS's organisations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from nasops.ansible.inventory import list_inventory, target_hosts
from nasops.cli.main import main
from nasops.provision.secrets import secrets_needs
from nasops.provision.specs import compile_targets

COLLECTIVE = Path(__file__).resolve().parents[2] / "inventory" / "collective"


@pytest.fixture
def collective(tmp_path: Path) -> Path:
    for name in ("inventory.yml", "hosting.yml", "atable.yml", "habitat.yml", "relais.yml"):
        shutil.copy(COLLECTIVE / name, tmp_path / name)
    return tmp_path


def test_the_provider_checks_the_collective_together(
        collective: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-i", str(collective / "inventory.yml")]) == 0
    assert capsys.readouterr().out == (
        "collectif-nas: valid — 3 organisations: atable, habitat, relais (checked together)\n")
    assert main(["validate", "-i", str(collective / "inventory.yml"), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["valid"] is True and document["errors"] == []
    assert document["organisations"] == {"collectif-nas": ["atable", "habitat", "relais"]}


def test_a_conflict_between_two_organisations_is_shown_at_both_places(
        collective: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # habitat's admin copies relais's prefix: each spec stays valid on its own.
    habitat = collective / "habitat.yml"
    habitat.write_text(habitat.read_text(encoding="utf-8").replace(
        "account_prefix: hab-", "account_prefix: rel-"), encoding="utf-8")
    assert main(["validate", str(habitat)]) == 0
    capsys.readouterr()
    assert main(["validate", "-i", str(collective / "inventory.yml")]) == 2
    error = capsys.readouterr().err
    assert f"{collective / 'relais.yml'}:6:3: organization.account_prefix: account prefix " \
        f"'rel-' is another organisation's too: each organisation needs its own; also at " \
        f"{habitat}:6" in error, error
    assert "Traceback" not in error
    assert main(["validate", "-i", str(collective / "inventory.yml"), "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["valid"] is False
    assert {(entry["file"], entry["line"]) for entry in document["errors"]} >= {
        (str(collective / "relais.yml"), 6)}


def test_validate_wants_one_input(collective: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = str(collective / "inventory.yml")
    assert main(["validate", str(collective / "atable.yml"), "-i", inventory]) == 2
    assert main(["validate"]) == 2
    assert "give one spec file" in capsys.readouterr().err


def _shared_state(collective: Path) -> dict[str, Any]:
    data = list_inventory(str(collective / "inventory.yml"))
    targets = target_hosts(data, collective)
    assert [target.hosted for target in targets] == [True]
    return compile_targets(targets).desired["collectif-nas"]


def test_a_shared_nas_compiles_into_one_state_with_every_organisation_and_the_shared_space(
        collective: Path) -> None:
    state = _shared_state(collective)
    assert state["organization"] == "commun"
    assert [(organization["id"], organization["root"], organization["users_group"],
             organization["quota_bytes"]) for organization in state["organizations"]] == [
        ("atable", "/srv/nas/atable", "atb-atable-users", 300 * 2**30),
        ("habitat", "/srv/nas/habitat", "hab-habitat-users", 500 * 2**30),
        ("relais", "/srv/nas/relais", "rel-relais-users", 300 * 2**30)]
    assert state["shared_root"] == "/srv/nas/commun"
    users = {user["login"]: user for user in state["users"]}
    # Two people named marie: two accounts, each in her own organisation's users group.
    assert users["atb-marie"]["users_group"] == "atb-atable-users"
    assert users["rel-marie"]["users_group"] == "rel-relais-users"
    shares = {share["name"]: share for share in state["shares"]}
    assert shares["Commun"]["path"] == "/srv/nas/commun/Commun"
    assert shares["atb-Réseau"]["path"] == "/srv/nas/atable/Réseau"
    # In the shared space each association writes its own folder only.
    folders = {folder["path"]: folder["entries"] for folder in shares["Commun"]["folders"]}
    writers = {entry["name"] for entry in folders["À Table !"] if entry["level"] == "write"}
    assert writers == {"atb-coordination"}
    # No account of one organisation in any ACL of another's tree.
    for share in state["shares"]:
        if share["name"] == "Commun":
            continue
        prefix = share["name"].split("-", 1)[0] + "-"
        names = {entry["name"] for folder in share["folders"] for entry in folder["entries"]}
        assert all(name.startswith(prefix) for name in names), (share["name"], names)


def test_each_association_s_backups_hold_its_own_shares_under_its_own_name_and_password(
        collective: Path) -> None:
    state = _shared_state(collective)
    repositories = {repository["name"]: repository
                    for repository in state["backup"]["repositories"]}
    # Named with the account prefix (units, password files, metrics); habitat has none; the
    # provider's repository of the shared space has no prefix.
    assert sorted(repositories) == ["atb-disque", "commun", "rel-disque"]
    assert repositories["commun"]["organization"] == "commun"
    assert repositories["commun"]["sources"] == ["/srv/nas/commun/Commun"]
    for name, organisation in (("atb-disque", "atable"), ("rel-disque", "relais")):
        repository = repositories[name]
        assert repository["organization"] == organisation
        assert repository["sources"] and all(
            source.startswith(f"/srv/nas/{organisation}/") for source in repository["sources"])
    # Each its own retention; the shared space is in no association's backup.
    assert repositories["rel-disque"]["retention"]["daily"] == 14
    assert repositories["atb-disque"]["retention"]["daily"] == 7
    inventory = list_inventory(str(collective / "inventory.yml"))
    [need] = secrets_needs(target_hosts(inventory, collective))
    assert need.repositories == ("atb-disque", "rel-disque", "commun")  # a password each


def test_the_shared_space_s_backup_is_checked_against_every_organisation_s(
        collective: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hosting = collective / "hosting.yml"
    text = hosting.read_text(encoding="utf-8")
    hosting.write_text(text.replace(
        "    - {name: commun, url: /srv/sauvegardes/commun}\n",
        "    - {name: atb-commun, url: /srv/sauvegardes/atable/}\n"
        "  check: {schedule: daily}\n"), encoding="utf-8")
    assert main(["validate", "-i", str(collective / "inventory.yml")]) == 2
    error = capsys.readouterr().err
    lines = [line for line in error.splitlines() if line.startswith(f"{hosting}:")]
    assert [line.split(": ", 2)[1] for line in lines] == [
        "backup.repositories[0].name", "backup.repositories[0].url", "backup.check.schedule"], \
        error
    assert "cannot start with the account prefix 'atb-'" in lines[0]
    assert "is another organisation's too" in lines[1] and f"{collective / 'atable.yml'}:" \
        in lines[1]
    assert "share one check timer" in lines[2] and "Traceback" not in error


@pytest.mark.parametrize(("section", "expected"), [
    ('backup: "oui"', "backup: expected a mapping"),
    ("backup: {}", "backup: missing required key 'repositories'"),
    ('backup: {schedule: "daily\\nExecStartPre=/bin/sh", repositories: [{name: c, url: /c}]}',
     "backup.schedule: 'daily\\nExecStartPre=/bin/sh' contains a control character"),
    ('backup: {repositories: [{name: "Bad Name", url: /c}]}', "backup.repositories[0].name:"),
    ("backup: {repositories: [{name: c, url: /c}], drill: {sample_files: 1000000000}}",
     "backup.drill.sample_files: '1000000000' must be at most 100000"),
    ('backup: {repositories: [{name: c, url: "-oProxyCommand=x"}]}',
     "backup.repositories[0].url:"),
])
def test_every_mistake_in_the_shared_space_s_backup_is_located_in_the_hosting_file(
        collective: Path, capsys: pytest.CaptureFixture[str], section: str,
        expected: str) -> None:
    hosting = collective / "hosting.yml"
    text = hosting.read_text(encoding="utf-8")
    start, end = text.index("backup:"), text.index("organizations:")
    hosting.write_text(text[:start] + section + "\n" + text[end:], encoding="utf-8")
    assert main(["validate", "-i", str(collective / "inventory.yml")]) == 2
    error = capsys.readouterr().err
    assert f"{hosting}:" in error and expected in error and "could not be read" not in error \
        and "Traceback" not in error, error


def test_names_stay_when_a_second_organisation_arrives_and_never_meet_the_shared_space_s(
        collective: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = collective / "inventory.yml"
    text = inventory.read_text(encoding="utf-8")
    # À Table ! alone on the NAS (declared with nasops_specs), then joined by the others:
    # its repository is atb-disque both times, so its password key stays.
    inventory.write_text(text.replace("[atable.yml, habitat.yml, relais.yml]", "[atable.yml]")
                         .replace("          nasops_hosting: hosting.yml\n", ""),
                         encoding="utf-8")
    alone = _shared_state(collective)["backup"]["repositories"]
    assert [repository["name"] for repository in alone] == ["atb-disque"]
    # Alone without a prefix, with the provider's hosting file: a repository named like the
    # shared space's is refused at both places (one password file, one unit for two).
    atable = collective / "atable.yml"
    atable.write_text(atable.read_text(encoding="utf-8").replace("  account_prefix: atb-\n", "")
                      .replace("{name: disque,", "{name: commun,"), encoding="utf-8")
    inventory.write_text(text.replace("[atable.yml, habitat.yml, relais.yml]", "[atable.yml]"),
                         encoding="utf-8")
    hosting = collective / "hosting.yml"
    hosting.write_text(hosting.read_text(encoding="utf-8").replace(
        '"atable:Coordination": read, "habitat:Résidents": read, "relais:Équipe": read',
        '"atable:Coordination": read').replace('"habitat:Conseil d\'administration": write',
                                               '"atable:Coordination": write')
        .replace('"relais:Équipe": write', '"atable:Coordination": write')
        .replace(", hab-tom: write, rel-samir: write", "")
        .replace("  habitat: {quota: 500G}\n", "").replace("  relais: {quota: 300G}\n", ""),
        encoding="utf-8")
    assert main(["validate", "-i", str(inventory)]) == 2
    error = capsys.readouterr().err
    assert "repository name 'commun' (as the NAS names it, account prefix first) is another's" \
        in error and f"{hosting}:" in error and f"also at {atable}:" in error, error


ATB_LAPTOP = "GXDEBYB-TBQ2R4L-LBUXUHT-J5LVWFP-TAEIX4M-4U2STPT-4723F4G-M7HSPA3"
REL_LAPTOP = "TFBV7IB-5LYML7P-TB7JZ5M-AKYJUAN-QKDGIFA-WFTHJ3O-O4I5WHD-6ZZMDQE"


def with_laptops(collective: Path) -> None:
    """marie of À Table ! and zoe of Le Relais get a laptop; each syncs their share."""
    for name, share, person, device in (
            ("atable", "Réseau", "{login: marie, name: Marie Dubois, groups: [Coordination, "
             "Trésorerie]}", ATB_LAPTOP),
            ("relais", "Pôle", "{login: zoe, name: Zoé Claes, groups: [Bénévoles]}",
             REL_LAPTOP)):
        spec = collective / f"{name}.yml"
        text = spec.read_text(encoding="utf-8")
        login = person.split(",")[0].removeprefix("{login: ")
        text = text.replace(person, person[:-1] + ", devices: [{name: portable, id: "
                            + device + "}]}")
        text = text.replace(f"  - name: {share}\n", f"  - name: {share}\n    sync: true\n")
        assert login in text and "sync: true" in text and device in text
        spec.write_text(text, encoding="utf-8")


def test_each_laptop_is_offered_its_own_organisation_s_folders_and_nothing_else(
        collective: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with_laptops(collective)
    assert main(["validate", "-i", str(collective / "inventory.yml")]) == 0, \
        capsys.readouterr().err
    sync = _shared_state(collective)["sync"]
    assert sync["enabled"] is True and sync["account"] == "nasops-sync"
    # Named by the logins people type: two organisations may both have a marie.
    assert sorted((device["name"], device["owner"]) for device in sync["devices"]) == [
        ("portable (atb-marie)", "atb-marie"), ("portable (rel-zoe)", "rel-zoe")]
    laptops = {ATB_LAPTOP: "atable", REL_LAPTOP: "relais"}
    offered: dict[str, set[str]] = {"atable": set(), "relais": set()}
    for folder in sync["folders"]:
        organisation = folder["id"].split("-", 1)[0]
        assert folder["path"].startswith(f"/srv/nas/{organisation}/"), folder
        for device in folder["devices"]:
            assert laptops[device] == organisation, folder  # never another's laptop
            offered[organisation].add(folder["label"])
    assert offered["atable"] == {"Réseau"}
    # zoe writes the workshops and reads the rest of Pôle; Comptabilité is not hers.
    assert offered["relais"] == {"Pôle/Ateliers et formations", "Pôle (read-only)"}


def test_the_organisations_with_laptops_share_one_syncthing_s_options(
        collective: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with_laptops(collective)
    spec = collective / "relais.yml"
    spec.write_text(spec.read_text(encoding="utf-8") + "sync:\n  relays: true\n",
                    encoding="utf-8")
    assert main(["validate", "-i", str(collective / "inventory.yml")]) == 2
    error = capsys.readouterr().err
    assert f"{spec}:" in error and "sync.relays: True here but False in" in error and \
        "reach one Syncthing" in error and "Traceback" not in error, error
    assert main(["validate", str(spec)]) == 0  # valid on a NAS of its own


def test_an_inventory_host_naming_a_spec_twice_or_both_variables_is_refused(
        collective: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = collective / "inventory.yml"
    text = inventory.read_text(encoding="utf-8")
    inventory.write_text(text.replace("[atable.yml, habitat.yml, relais.yml]",
                                      "[atable.yml, habitat.yml, ./atable.yml]"),
                         encoding="utf-8")
    assert main(["validate", "-i", str(inventory)]) == 2
    assert "lists" in capsys.readouterr().err
    inventory.write_text(text.replace("nasops_secrets_file:", "nasops_spec: atable.yml\n"
                                      "          nasops_secrets_file:"), encoding="utf-8")
    assert main(["validate", "-i", str(inventory)]) == 2
    assert "not both" in capsys.readouterr().err


def test_the_provider_s_report_shows_every_organisation_as_people_type_and_see_it(
        collective: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["access-report", "-i", str(collective / "inventory.yml"),
                 "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["organization"] == "collectif-nas"
    folders = document["folders"]
    assert folders[0] == "atb-Réseau" and "rel-Pôle/Comptabilité" in folders
    people = {user["login"]: user for user in document["users"]}
    # Two people named marie, two accounts: each sees only her own organisation's folders.
    assert people["atb-marie"]["name"] == "Marie Dubois"
    assert people["rel-marie"]["name"] == "Marie Lambert"
    prefixes = ("atb-", "hab-", "rel-")
    for login, user in people.items():
        own = login.split("-", 1)[0] + "-"
        for folder, access in zip(folders, user["access"], strict=True):
            if folder.startswith(prefixes) and not folder.startswith(own):
                assert access == "none", (login, folder, access)
    # jeanne is in no group: she reads the share and its open folders by name, nothing private.
    jeanne = dict(zip(folders, people["atb-jeanne"]["access"], strict=True))
    assert jeanne["atb-Réseau/Comptes rendus"] == "read"
    assert jeanne["atb-Réseau/Trésorerie et subventions"] == "none"


def test_one_organisation_s_report_uses_its_prefixed_logins_and_share_names(
        collective: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["access-report", str(collective / "relais.yml"), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["login,name,folder,access", "rel-marie,Marie Lambert,rel-Pôle,write"]
    assert main(["access-report", str(collective / "relais.yml"), "-i",
                 str(collective / "inventory.yml")]) == 2


def test_the_shared_space_every_association_reads_and_each_writes_its_own_folder(
        collective: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-i", str(collective / "inventory.yml")]) == 0
    capsys.readouterr()
    assert main(["access-report", "-i", str(collective / "inventory.yml"),
                 "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    people = {user["login"]: dict(zip(document["folders"], user["access"], strict=True))
              for user in document["users"]}
    own = {"atb-marie": "Commun/À Table !", "hab-tom": "Commun/Habitat Partagé",
           "rel-samir": "Commun/Relais Solidaire"}
    for login, folder in own.items():
        assert people[login]["Commun"] == "read"
        for other in own.values():
            assert people[login][other] == ("write" if other == folder else "read"), login
        assert people[login]["Commun/Bureau du collectif"] == "write"
    # Members of no group given the shared space see nothing of it.
    assert {people[login]["Commun"] for login in ("atb-jeanne", "rel-zoe")} == {"none"}
    assert people["hab-ines"]["Commun/Bureau du collectif"] == "none"


def test_every_problem_of_the_hosting_file_is_located_in_it(
        collective: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (collective / "hosting.yml").write_text(
        "version: 1\nid: atable\ncolour: blue\nshares:\n  - name: atb-Commun\n"
        "    quota: lots\n    access: {\"atable:Coordinaton\": read}\n"
        "organizations:\n  atabel: {quota: 300G}\n", encoding="utf-8")
    assert main(["validate", "-i", str(collective / "inventory.yml")]) == 2
    error = capsys.readouterr().err
    hosting = collective / "hosting.yml"
    for expected in (
            f"{hosting}:2:1: id: 'atable' is an organisation's id",
            f"{hosting}:3:1: colour: unknown key here",
            f"{hosting}:6:5: shares[0].quota: 'lots' is not a size",
            f"{hosting}:7:14: shares[0].access.atable:Coordinaton: unknown group or user "
            "'atable:Coordinaton' (did you mean 'atable:Coordination'?)",
            f"{hosting}:9:3: organizations.atabel: no organisation 'atabel' on this NAS (did "
            "you mean 'atable'?)"):
        assert expected in error, error
    assert "Traceback" not in error
    # Once the file is right apart from its share's name, the name is refused too.
    hosting.write_text("version: 1\nid: commun\nshares:\n  - name: ATB-Réseau\n", "utf-8")
    assert main(["validate", "-i", str(collective / "inventory.yml")]) == 2
    error = capsys.readouterr().err
    assert f"{hosting}:4:5: shares[0].name: Samba share name 'ATB-Réseau' is another " \
        f"organisation's too" in error and "also at " in error, error
    assert "cannot start with the account prefix 'atb-'" in error, error


def test_one_organisation_s_spec_cannot_be_applied_to_a_shared_nas_with_spec(
        collective: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # It would rewrite the NAS-wide share sections and accounts of the others.
    assert main(["plan", "-i", str(collective / "inventory.yml"),
                 "--spec", str(collective / "atable.yml")]) == 2
    error = capsys.readouterr().err
    assert "hosts several organisations" in error and "leave it out" in error, error


def test_a_wrong_item_of_nasops_specs_is_named_by_its_index(
        collective: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = collective / "inventory.yml"
    inventory.write_text(inventory.read_text(encoding="utf-8").replace(
        "[atable.yml, habitat.yml, relais.yml]", "[atable.yml, 1, relais.yml]"), "utf-8")
    assert main(["validate", "-i", str(inventory)]) == 2
    assert "nasops_specs[1] must be a spec file path, got 1" in capsys.readouterr().err


def test_the_hosting_file_keeps_the_spec_s_rules_and_every_problem_comes_at_once(
        collective: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hosting, atable = collective / "hosting.yml", collective / "atable.yml"
    text = hosting.read_text(encoding="utf-8")
    # A long group name is fine in its organisation's spec, and with the organisation's id.
    atable.write_text(atable.read_text(encoding="utf-8").replace(
        "  - name: Coordination\n", "  - name: Coordination\n  - name: " + "G" * 60
        + "\n    system_name: longgroup\n"), encoding="utf-8")
    assert main(["validate", "-i", str(collective / "inventory.yml")]) == 0
    capsys.readouterr()
    hosting.write_text(text.replace("    quota: 50G\n", "    quota: 3T\n    sync: true\n")
                       .replace("atable: {quota: 300G}", "atable: {quota: 0}")
                       .replace("      - name: Bureau du collectif\n        inherit: false\n"
                                "        access: {\"atable:Coordination\": write, hab-tom: "
                                "write, rel-samir: write}\n",
                                "      - name: Secret\n        inherit: false\n"),
                       encoding="utf-8")
    # An organisation's own mistake does not hide the hosting file's.
    atable.write_text(atable.read_text(encoding="utf-8").replace(
        "access: {Groupes d'achat: write}", "access: {Nobody: write}"), encoding="utf-8")
    assert main(["validate", "-i", str(collective / "inventory.yml")]) == 2
    error = capsys.readouterr().err
    for expected in ("atable.yml", "unknown group or user 'Nobody'",
                     "shares[0].quota: quota 3T is larger than the volume (2T)",
                     "shares[0].sync: syncing a shared share to laptops is not built yet",
                     "organizations.atable.quota: quota '0' is below 1M"):
        assert expected in error, (expected, error)
    atable.write_text(atable.read_text(encoding="utf-8").replace(
        "access: {Nobody: write}", "access: {Groupes d'achat: write}"), encoding="utf-8")
    hosting.write_text(text.replace("      - name: Bureau du collectif\n        inherit: false\n"
                                    "        access: {\"atable:Coordination\": write, hab-tom: "
                                    "write, rel-samir: write}\n",
                                    "      - name: Secret\n        inherit: false\n"),
                       encoding="utf-8")
    assert main(["validate", "-i", str(collective / "inventory.yml")]) == 0
    assert "warning: shares[0].folders[3]: inherit: false with no access entries" in \
        capsys.readouterr().err


def test_one_organisation_with_a_hosting_file_is_checked_against_its_shared_shares(
        collective: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = collective / "inventory.yml"
    inventory.write_text(inventory.read_text(encoding="utf-8").replace(
        "[atable.yml, habitat.yml, relais.yml]", "[atable.yml]"), encoding="utf-8")
    hosting = collective / "hosting.yml"
    hosting.write_text(
        "version: 1\nid: commun\nshares:\n  - name: atb-réseau\n"
        "    access: {\"atable:Coordination\": read}\n", encoding="utf-8")
    assert main(["validate", "-i", str(inventory)]) == 2
    error = capsys.readouterr().err
    assert f"{hosting}:4:" in error and "Samba share name 'atb-réseau'" in error, error
