"""The sync rights model: which folders the NAS offers to which laptops, of which type, and
the sync account's ACL entries, on small readable specs and on the reference NGO."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest

from nasops.compile import compile_spec
from nasops.spec import load_spec, load_spec_text
from nasops.spec.models import Device, Spec
from nasops.sync.device_id import device_id_from_seed, device_id_problem
from nasops.sync.regions import SYNC_ACCOUNT, folder_id

EXAMPLE = Path(__file__).parents[2] / "inventory" / "example" / "wsm.yml"
# Real IDs, as Syncthing 1.19 generated them in the lab.
REAL_IDS = ("NUCNOHS-ZBDKAQM-7PA5D4C-PFXH7SA-YO6NJTD-455HGA5-A47F6OH-5QKF7QK",
            "IZ5GHBB-NRBIZ3P-DISWIKG-AMC4IZX-A6MIQDW-F53POFN-R65WP6B-QOHEDQE",
            "4FPKE5Y-DACBMWH-SVNANO4-DQPE5E2-KW45N2N-ZQJ5PEP-XQ3GPFS-KCILAAF")
WRITER, READER, PARTNER, GONE = (device_id_from_seed(name) for name in
                                 ("writer", "reader", "partner", "gone"))


def with_devices(spec: Spec, devices: dict[str, list[str]]) -> Spec:
    """Given a spec and {login: [device IDs]}, return it with exactly those devices."""
    users = [user.model_copy(update={"devices": [
        Device(name=f"laptop-{number}", id=identifier, address="tcp://127.0.0.31:22000")
        for number, identifier in enumerate(devices.get(user.login, []))]})
        for user in spec.users]
    return spec.model_copy(update={"users": users})


@pytest.fixture(scope="module")
def example() -> Spec:
    return load_spec(EXAMPLE).spec


def folders_by_label(desired: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {folder["label"]: folder for folder in desired["sync"]["folders"]}


def sync_levels(desired: dict[str, Any], share: str) -> dict[str, str | None]:
    """Return {folder path: the sync account's level there} of one share."""
    folders = next(item for item in desired["shares"] if item["display_name"] == share)["folders"]
    return {folder["path"]: next((entry["level"] for entry in folder["entries"]
                                  if entry["name"] == SYNC_ACCOUNT), None)
            for folder in folders}


def test_device_ids_are_checked_like_syncthing_does() -> None:
    assert all(device_id_problem(identifier) is None for identifier in REAL_IDS)
    assert device_id_problem(device_id_from_seed("any")) is None
    # A made-up ID of the right shape, with wrong check characters.
    placeholder = "AAAAAAA-BBBBBBB-CCCCCCC-DDDDDDD-EEEEEEE-FFFFFFF-GGGGGGG-HHHHHHH"
    assert "check character of group 2" in str(device_id_problem(placeholder))
    typo = REAL_IDS[0][:-1] + ("A" if REAL_IDS[0][-1] != "A" else "B")
    assert "group 8" in str(device_id_problem(typo))
    assert "56 letters" in str(device_id_problem("NUCNOHS-ZBDKAQM"))
    # Syncthing 1.19 accepted the first (its check characters are right) but stored it as the
    # second, which holds the same 256 bits: the spec's ID would never match what runs.
    rewritten = ("CTY67JX-FHHJS5Q-Q62FK6X-3I3VAVR-X5AKKI5-GZJRH7O-SB3WQVU-FMW23BA",
                 "CTY67JX-FHHJS5Q-Q62FK6X-3I3VAVR-X5AKKI5-GZJRH7O-SB3WQVU-FMW23AB")
    assert "6th character of group 8" in str(device_id_problem(rewritten[0]))
    assert device_id_problem(rewritten[1]) is None


def test_made_up_device_ids_are_stable_and_encoded_as_syncthing_does() -> None:
    made_up = device_id_from_seed("laptop")
    assert made_up == device_id_from_seed("laptop") != device_id_from_seed("laptop-2")
    digest = hashlib.sha256(b"laptop").digest()
    compact = made_up.replace("-", "")
    data = "".join(compact[index:index + 13] for index in range(0, 56, 14))  # no check chars
    assert base64.b32decode(data + "====") == digest


def test_writers_and_readers_of_one_region_get_two_folders_and_private_parts_stay_out(
        example: Spec) -> None:
    desired = compile_spec(with_devices(example, {"adiallo": [WRITER], "mlsimon": [READER]}))
    folders = folders_by_label(desired)
    afrique_rw, afrique_ro = folders["Afrique"], folders["Afrique (read-only)"]
    assert (afrique_rw["type"], afrique_rw["devices"]) == ("sendreceive", [WRITER])
    assert (afrique_ro["type"], afrique_ro["devices"]) == ("sendonly", [READER])
    assert afrique_rw["path"] == afrique_ro["path"] == "/srv/nas/wsm/Afrique"
    # adiallo (Cellule Afrique) cannot read Finances: it is left out of both, and only the
    # reader (Direction reads Finances) gets it, send-only.
    assert afrique_rw["excluded"] == afrique_ro["excluded"] == ["Finances"]
    finances = folders["Afrique/Finances (read-only)"]
    assert (finances["type"], finances["devices"], finances["excluded"]) == (
        "sendonly", [READER], [])
    assert WRITER not in {device for folder in folders.values() for device in folder["devices"]
                          if folder["type"] == "sendonly"}
    # The reader reads the other cells' shares too; the writer reads none of them.
    assert set(folders) == {"Afrique", "Afrique (read-only)", "Afrique/Finances (read-only)",
                            "Amérique latine (read-only)", "Asie (read-only)"}


def test_a_partner_who_writes_a_subfolder_gets_it_send_receive_and_the_rest_send_only(
        example: Spec) -> None:
    desired = compile_spec(with_devices(example, {"adiallo": [WRITER],
                                                  "gvermeulen": [PARTNER]}))
    folders = folders_by_label(desired)
    assert folders["Afrique"]["excluded"] == ["Partenaires", "Finances"]
    assert folders["Afrique (read-only)"]["devices"] == [PARTNER]
    partners = folders["Afrique/Partenaires"]
    assert (partners["type"], sorted(partners["devices"])) == (
        "sendreceive", sorted([WRITER, PARTNER]))
    assert partners["folder"] == "Partenaires" and partners["excluded"] == []
    assert partners["owners"] == ["adiallo", "gvermeulen"]


def test_the_sync_account_gets_the_best_right_of_the_devices_owners_and_nothing_else(
        example: Spec) -> None:
    desired = compile_spec(with_devices(example, {"adiallo": [WRITER], "mlsimon": [READER]}))
    afrique = sync_levels(desired, "Afrique")
    assert afrique[""] == afrique["Partenaires/Bénin"] == afrique["Rapports de mission"] == "write"
    assert afrique["Finances"] == "read"
    assert set(sync_levels(desired, "Asie").values()) == {"read"}
    assert set(sync_levels(desired, "Éducation").values()) == {None}  # not synced
    only_writer = compile_spec(with_devices(example, {"adiallo": [WRITER]}))
    assert sync_levels(only_writer, "Afrique")["Finances"] is None
    assert set(sync_levels(only_writer, "Asie").values()) == {None}


def test_the_sync_account_is_an_acl_entry_but_never_a_samba_user(example: Spec) -> None:
    desired = compile_spec(with_devices(example, {"adiallo": [WRITER]}))
    afrique = next(share for share in desired["shares"] if share["display_name"] == "Afrique")
    root_entries = afrique["folders"][0]["entries"]
    assert {"kind": "user", "name": SYNC_ACCOUNT, "level": "write"} in root_entries
    users = [entry["name"] for entry in root_entries if entry["kind"] == "user"]
    assert users == sorted(users) and root_entries[:len(users)] == [
        entry for entry in root_entries if entry["kind"] == "user"]
    assert all(SYNC_ACCOUNT not in share["valid_users"] for share in desired["shares"])
    assert desired["sync"]["account"] == SYNC_ACCOUNT


def test_a_disabled_persons_laptop_gets_nothing(example: Spec) -> None:
    desired = compile_spec(with_devices(example, {"ojanssens": [GONE]}))
    sync = desired["sync"]
    # The disabled user's device is simply dropped (the spec check warns about it).
    assert sync["devices"] == [] and sync["folders"] == []
    assert sync["enabled"] is False  # no laptop to sync with: Syncthing does not run


def test_the_example_spec_syncs_its_laptops_with_everything_off_but_the_lan(
        example: Spec) -> None:
    sync = compile_spec(example)["sync"]
    assert sync["enabled"] is True
    assert {device["name"] for device in sync["devices"]} == {
        "laptop-cotonou (fkabore)", "laptop-bujumbura (cndayisaba)",
        "laptop-la-paz (mquispe)", "laptop-kathmandu (bthapa)"}
    owners = {device["id"]: device["owner"] for device in sync["devices"]}
    # Each cell's laptops get their cell's share, read-write, without the private Finances.
    assert sorted((folder["label"], folder["type"], sorted(owners[item] for item in
                   folder["devices"]), folder["excluded"]) for folder in sync["folders"]) == [
        ("Afrique", "sendreceive", ["cndayisaba", "fkabore"], ["Finances"]),
        ("Amérique latine", "sendreceive", ["mquispe"], ["Finances"]),
        ("Asie", "sendreceive", ["bthapa"], ["Finances"])]
    assert sync["options"] == {"global_discovery": False, "local_discovery": False,
                               "relays": False, "nat_traversal": False,
                               "usage_reporting": False, "listen_addresses": []}


def test_without_devices_sync_is_off() -> None:
    spec = load_spec_text("""
organization: tiny
groups: [{name: Team}]
users: [{login: alice, groups: [Team]}]
shares: [{name: Projects, sync: true, access: {Team: write}}]
""").spec
    desired = compile_spec(spec)
    assert desired["sync"]["enabled"] is False and desired["sync"]["folders"] == []
    assert all(entry["name"] != SYNC_ACCOUNT for share in desired["shares"]
               for folder in share["folders"] for entry in folder["entries"])


def test_a_device_of_someone_who_reads_nothing_synced_is_still_known() -> None:
    spec = load_spec_text(f"""
organization: tiny
sync: {{listen_addresses: ["tcp://0.0.0.0:22000"], relays: true}}
groups: [{{name: Team}}, {{name: Guests}}]
users:
  - {{login: alice, groups: [Team], devices: [{{name: a, id: {WRITER}}}]}}
  - {{login: gus, groups: [Guests], devices: [{{name: g, id: {READER}}}]}}
shares:
  - {{name: Projects, sync: true, access: {{Team: write}}}}
""").spec
    sync = compile_spec(spec)["sync"]
    assert sync["enabled"] is True
    assert [device["name"] for device in sync["devices"]] == ["a (alice)", "g (gus)"]
    assert [(folder["label"], folder["devices"]) for folder in sync["folders"]] == [
        ("Projects", [WRITER])]
    assert sync["options"]["relays"] is True
    assert sync["options"]["listen_addresses"] == ["tcp://0.0.0.0:22000"]
    assert sync["devices"][0]["addresses"] == ["dynamic"]


def test_folder_ids_are_stable_readable_and_distinct() -> None:
    first = folder_id("wsm", ("Amérique latine", "Rapports de mission"), "write")
    assert first == folder_id("wsm", ("Amérique latine", "Rapports de mission"), "write")
    assert first.startswith("wsm-amerique-latine-rapports-de-mission-") and first.endswith("-rw")
    assert folder_id("wsm", ("Amérique latine", "Rapports de mission"), "read").endswith("-ro")
    # Names that slugify alike still get distinct IDs.
    assert folder_id("wsm", ("Bénin",), "write") != folder_id("wsm", ("Benin",), "write")
    assert len(folder_id("wsm", ("x" * 200,), "write")) < 64
