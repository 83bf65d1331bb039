"""Sync with field laptops, proven on real lab hosts: a NAS (127.0.0.30) converged by
`nasops apply` from a copy of the example spec, and a second host (127.0.0.31) playing the
field laptops with two plain Syncthing instances listed in that spec as devices:

- `writer`: a device of adiallo (Cellule Afrique: writes Afrique, cannot read its Finances);
- `reader`: a device of mlsimon (Direction: reads Afrique and its Finances, writes nothing).

Both laptops keep their folders send-receive, as a careless laptop would: whatever holds a
change from the reader back is the NAS. Then the reader does what her handout says and sets
its folders' types. Every wait has a deadline; Syncthing is made to rescan through POST
/rest/db/scan instead of waiting for its watcher.

The tests run in order on one NAS. The first convergence and the one that removes a device
are single real runs of site.yml through the runner `nasops apply` uses (without its check
pass, to keep the module short); the last test is a real `nasops apply`, which must find
nothing to change after everything the others did.
"""

from __future__ import annotations

import contextlib
import io
import json
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import smbclient
from polling import wait_until
from ruamel.yaml import YAML
from smb_probe import SmbUser
from sync_laptop import Laptop, Rest, file_acl_of

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from handout_reading import read_handout  # a helper of the unit tests

from nasops.ansible import read_targets, run_playbook
from nasops.ansible.events import HostResult
from nasops.ansible.summary import render_failures
from nasops.cli.main import main
from nasops.compile import compile_spec
from nasops.lab import LabHost, render_inventory, run_in_host
from nasops.lab.testing import LabHostFactory
from nasops.provision import prepared_workspace
from nasops.spec import load_spec
from nasops.spec.rights import Access, resolve_rights

pytestmark = [pytest.mark.lab, pytest.mark.slow]

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE_SPEC = REPOSITORY / "inventory" / "example" / "wsm.yml"
NAS_ADDRESS, LAPTOP_ADDRESS = "127.0.0.30", "127.0.0.31"
AFRIQUE = "/srv/nas/wsm/Afrique"
VIEWS = "/var/lib/nasops-sync/folders"
REPORTS = "Rapports de mission"
@dataclass
class SyncLab:
    """The converged NAS, its laptops and what the tests need to act as people."""

    nas: LabHost
    writer: Laptop
    reader: Laptop
    directory: Path
    inventory: Path
    desired: dict[str, Any]
    nas_rest: Rest
    passwords: dict[str, str]
    timings: dict[str, float]

    def folder(self, label: str) -> dict[str, Any]:
        return next(item for item in self.desired["sync"]["folders"] if item["label"] == label)

    def scan(self, rest: Rest, folder: dict[str, Any] | str) -> None:
        rest.call("POST", "/rest/db/scan",
                  folder=folder if isinstance(folder, str) else folder["id"])

    def smb(self, login: str) -> SmbUser:
        return SmbUser(NAS_ADDRESS, login, self.passwords[login])


def nasops(*arguments: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(arguments))
    return code, out.getvalue(), err.getvalue()


def write_spec(target: Path, devices: dict[str, dict[str, str]]) -> None:
    """Copy the example spec with `devices` ({login: device}) given to those users."""
    yaml = YAML(typ="rt")
    yaml.width = 4096  # keep the example's flow mappings on their lines
    spec = yaml.load(EXAMPLE_SPEC.read_text(encoding="utf-8"))
    for user in spec["users"]:
        if user["login"] in devices:
            user["devices"] = [devices[user["login"]]]
        elif user["login"] not in devices and "devices" in user:
            del user["devices"]  # the example's devices are not real laptops
    with target.open("w", encoding="utf-8") as handle:
        yaml.dump(spec, handle)


def converge(lab: SyncLab, name: str) -> HostResult:
    """Run site.yml for real on the NAS, as `nasops apply` does after its check pass (left
    out here to keep the test short); record its duration; return what the NAS reported."""
    started = time.monotonic()
    with prepared_workspace(read_targets(str(lab.inventory))) as workspace:
        result = run_playbook(workspace, str(lab.inventory), check=False)
    lab.timings[name] = time.monotonic() - started
    assert not result.failed, render_failures(result)
    return result.hosts["syncnas"]


def apply(lab: SyncLab, name: str) -> str:
    """Run `nasops apply` on the NAS; record its duration; return its summary followed by
    the tasks that changed something (for the messages of failed assertions)."""
    started = time.monotonic()
    code, out, err = nasops("apply", "-i", str(lab.inventory))
    lab.timings[name] = time.monotonic() - started
    assert code == 0, out + err
    changed = [line for line in err.splitlines() if line.endswith("… changed")]
    return "\n".join([out.rstrip("\n"), *changed])


NO_CHANGES = "syncnas: no changes: the NAS already matches the spec"


@pytest.fixture(scope="module")
def sync_lab(lab_hosts: LabHostFactory, tmp_path_factory: pytest.TempPathFactory,
             ) -> Iterator[SyncLab]:
    """The NAS converged from a spec listing both laptops, which run and accept its folders."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    nas = lab_hosts("syncnas", NAS_ADDRESS)
    laptop_host = lab_hosts("synclaptop", LAPTOP_ADDRESS)
    writer = Laptop(laptop_host, "writer", f"{LAPTOP_ADDRESS}:22000", f"{LAPTOP_ADDRESS}:8384")
    reader = Laptop(laptop_host, "reader", f"{LAPTOP_ADDRESS}:22001", f"{LAPTOP_ADDRESS}:8385")
    writer.start()
    reader.start()
    timings["hosts and laptops"] = time.monotonic() - started
    directory = tmp_path_factory.mktemp("sync")
    write_spec(directory / "wsm.yml", {
        "adiallo": {"name": "laptop-writer", "id": writer.device_id,
                    "address": f"tcp://{writer.listen}"},
        "mlsimon": {"name": "laptop-reader", "id": reader.device_id,
                    "address": f"tcp://{reader.listen}"},
    })
    inventory = directory / "inventory.yml"
    inventory.write_text(render_inventory(nas, {"nasops_spec": "wsm.yml",
                                                "nasops_secrets_file": "secrets.yml"}),
                         encoding="utf-8")
    code, out, err = nasops("secrets", "init", "-i", str(inventory))
    assert code == 0, out + err
    stored = YAML(typ="safe").load((directory / "secrets.yml").read_text(encoding="utf-8"))
    desired = compile_spec(load_spec(directory / "wsm.yml").spec)
    lab = SyncLab(nas, writer, reader, directory, inventory, desired,
                  Rest(f"{NAS_ADDRESS}:8384", stored["nasops_syncthing_api_key"]),
                  dict(stored["nasops_user_passwords"]), timings)
    converge(lab, "first apply")
    nas_id = lab.nas_rest.call("GET", "/rest/system/status")["myID"]
    writer.accept(nas_id, NAS_ADDRESS, lab.folder("Afrique"), writer.path("Afrique"))
    # Marie-Line does what her handout says: she adds the NAS with "Auto Accept" and does
    # nothing else; exactly the folders her rights allow arrive (Direction reads every
    # synced share and its private Finances, changes none), at the laptop's default path.
    offered = {folder["id"]: folder["label"] for folder in desired["sync"]["folders"]
               if reader.device_id in folder["devices"]}
    rights = resolve_rights(load_spec(directory / "wsm.yml").spec)
    assert all(label.endswith(" (read-only)") and rights.access["mlsimon"][
        rights.folder_index(label.removesuffix(" (read-only)"))] == Access.READ
        for label in offered.values()), offered
    assert {"Afrique (read-only)", "Afrique/Finances (read-only)",
            "Amérique latine (read-only)", "Asie (read-only)"} <= set(offered.values())
    accepted = reader.onboard(nas_id, NAS_ADDRESS, set(offered))
    assert set(accepted) == set(offered), accepted
    assert all(path.startswith("/root/reader/") for path in accepted.values()), accepted
    reader.roots = {"Afrique": accepted[lab.folder("Afrique (read-only)")["id"]],
                    "Finances": accepted[lab.folder("Afrique/Finances (read-only)")["id"]]}
    yield lab
    print("\nsync lab timings: " + ", ".join(f"{name} {seconds:.1f} s"
                                              for name, seconds in timings.items()))


def smb_write(lab: SyncLab, login: str, path: str, data: bytes) -> None:
    """Write a file in the Afrique share over SMB as `login`."""
    user = lab.smb(login)
    try:
        with smbclient.open_file(user.unc("Afrique", path), mode="wb", **user.options) as handle:
            handle.write(data)
    finally:
        user.close()


def smb_read(lab: SyncLab, login: str, path: str) -> bytes:
    """Read a file of the Afrique share over SMB as `login`."""
    user = lab.smb(login)
    try:
        with smbclient.open_file(user.unc("Afrique", path), mode="rb", **user.options) as handle:
            return bytes(handle.read())
    finally:
        user.close()


def nas_has(lab: SyncLab, path: str) -> bool:
    return run_in_host(lab.nas, ["test", "-f", path], accepted_codes=(0, 1)).returncode == 0


def acl_lines(lab: SyncLab, *options: str) -> set[str]:
    """Return getfacl's entries (no comments, no effective rights) of a path on the NAS."""
    output = run_in_host(lab.nas, ["getfacl", "-cpE", *options]).stdout
    return {line for line in output.splitlines() if line.strip()}


def service_sees(lab: SyncLab, path: str) -> list[str]:
    """Return the names Syncthing's service sees in a directory (in its mount namespace)."""
    script = ('nsenter -t "$(systemctl show -P MainPID nasops-syncthing.service)" -m '
              'ls -A "$1"')
    return run_in_host(lab.nas, ["sh", "-c", script, "sh", path]).stdout.split("\n")[:-1]


def completion(lab: SyncLab, folder: dict[str, Any], device: str) -> dict[str, Any]:
    return lab.nas_rest.call("GET", "/rest/db/completion",  # type: ignore[no-any-return]
                             folder=folder["id"], device=device)


def test_syncthing_runs_as_its_account_on_the_hosts_own_address(sync_lab: SyncLab) -> None:
    users = run_in_host(sync_lab.nas, ["ps", "-o", "user=", "-C", "syncthing"]).stdout.split()
    assert users and set(users) == {"nasops-sync"}
    listening = run_in_host(sync_lab.nas, ["ss", "-Hltnup"]).stdout
    syncthing = [line.split()[4] for line in listening.splitlines() if '"syncthing"' in line]
    assert sorted(syncthing) == [f"{NAS_ADDRESS}:22000", f"{NAS_ADDRESS}:8384"], listening
    options = sync_lab.nas_rest.call("GET", "/rest/config/options")
    assert (options["globalAnnounceEnabled"], options["localAnnounceEnabled"],
            options["relaysEnabled"], options["natEnabled"], options["urAccepted"],
            options["crashReportingEnabled"]) == (False, False, False, False, -1, False)
    nas_id = sync_lab.nas_rest.call("GET", "/rest/system/status")["myID"]
    shared = {folder["id"]: (folder["type"], {device["deviceID"] for device in folder["devices"]}
                             - {nas_id})
              for folder in sync_lab.nas_rest.call("GET", "/rest/config/folders")}
    writer, reader = sync_lab.writer.device_id, sync_lab.reader.device_id
    assert shared[sync_lab.folder("Afrique")["id"]] == ("sendreceive", {writer})
    assert shared[sync_lab.folder("Afrique (read-only)")["id"]] == ("sendonly", {reader})
    assert shared[sync_lab.folder("Afrique/Finances (read-only)")["id"]] == ("sendonly", {reader})
    assert all(writer not in devices for _, devices in
               [value for key, value in shared.items() if key.endswith("-ro")])


def test_a_file_written_over_smb_reaches_exactly_the_laptops_that_may_read_it(
        sync_lab: SyncLab) -> None:
    smb_write(sync_lab, "pvandamme", f"{REPORTS}/from-smb.txt", b"written over SMB\n")
    smb_write(sync_lab, "smertens", "Finances/budget.txt", b"private budget\n")
    for label in ("Afrique", "Afrique (read-only)", "Afrique/Finances (read-only)"):
        sync_lab.scan(sync_lab.nas_rest, sync_lab.folder(label))
    writer, reader = sync_lab.writer, sync_lab.reader
    wait_until("the SMB file reaches the writer's laptop",
               lambda: writer.has(writer.path(f"Afrique/{REPORTS}/from-smb.txt")))
    wait_until("the SMB file reaches the reader's laptop",
               lambda: reader.has(reader.path(f"Afrique/{REPORTS}/from-smb.txt")))
    wait_until("the private budget reaches the reader (Direction reads Finances)",
               lambda: reader.has(reader.path("Finances/budget.txt")))
    assert writer.read(writer.path(f"Afrique/{REPORTS}/from-smb.txt")) == "written over SMB\n"
    # The writer may not read Finances: once the writer is complete, nothing of it is there.
    wait_until("the writer's laptop is complete for Afrique",
               lambda: completion(sync_lab, sync_lab.folder("Afrique"),
                                  writer.device_id)["completion"] == 100)
    found = run_in_host(writer.host, ["find", writer.path(""), "-name", "budget.txt", "-o",
                                      "-name", "Finances"]).stdout
    assert found == ""
    # Not only left out by .stignore (which writers could edit over SMB): the service does not
    # see it at all through the writers' folder, while the readers' Finances folder does.
    writers_view = f"{VIEWS}/{sync_lab.folder('Afrique')['id']}"
    readers_view = f"{VIEWS}/{sync_lab.folder('Afrique/Finances (read-only)')['id']}"
    assert service_sees(sync_lab, f"{writers_view}/Finances") == []  # masked
    assert "budget.txt" in service_sees(sync_lab, readers_view)


def test_a_writers_change_reaches_the_nas_with_the_folder_acl_and_a_colleague_edits_it(
        sync_lab: SyncLab) -> None:
    writer = sync_lab.writer
    local = writer.path(f"Afrique/{REPORTS}/from-the-field.txt")
    run_in_host(writer.host, ["tee", local], input_text="written in the field\n")
    run_in_host(writer.host, ["chmod", "0600", local])  # laptop permission bits are ignored
    sync_lab.scan(writer.rest, sync_lab.folder("Afrique"))
    on_nas = f"{AFRIQUE}/{REPORTS}/from-the-field.txt"
    wait_until("the laptop's file reaches the NAS", lambda: nas_has(sync_lab, on_nas))
    wanted = file_acl_of(acl_lines(sync_lab, "-d", f"{AFRIQUE}/{REPORTS}"))
    assert "group:cellule-afrique:rw-" in wanted and "user:nasops-sync:rw-" in wanted
    wait_until(f"{on_nas} gets its folder's ACL {sorted(wanted)}",
               lambda: acl_lines(sync_lab, on_nas) == wanted)
    owner = run_in_host(sync_lab.nas, ["stat", "-c", "%U", on_nas]).stdout.strip()
    assert owner == "nasops-sync"
    path = f"{REPORTS}/from-the-field.txt"
    assert smb_read(sync_lab, "pvandamme", path) == b"written in the field\n"
    smb_write(sync_lab, "pvandamme", path, b"edited over SMB by a colleague\n")
    assert smb_read(sync_lab, "pvandamme", path) == b"edited over SMB by a colleague\n"
    sync_lab.scan(sync_lab.nas_rest, sync_lab.folder("Afrique"))
    wait_until("the colleague's edit goes back to the laptop",
               lambda: writer.read(local) == "edited over SMB by a colleague\n")


def test_a_readers_change_on_the_laptop_never_reaches_the_nas(sync_lab: SyncLab) -> None:
    reader, read_only = sync_lab.reader, sync_lab.folder("Afrique (read-only)")
    smb_write(sync_lab, "pvandamme", f"{REPORTS}/for-readers.txt", b"from the NAS\n")
    sync_lab.scan(sync_lab.nas_rest, read_only)
    local = reader.path(f"Afrique/{REPORTS}/for-readers.txt")
    wait_until("the NAS file reaches the reader", lambda: reader.has(local))
    run_in_host(reader.host, ["tee", local], input_text="changed by a reader\n")
    run_in_host(reader.host, ["tee", reader.path(f"Afrique/{REPORTS}/reader-new.txt")],
                input_text="new from a reader\n")
    sync_lab.scan(reader.rest, read_only)
    reader_short = reader.device_id.split("-", 1)[0]
    # The NAS hears of both changes (they are in its index)…
    for name in ("for-readers.txt", "reader-new.txt"):
        wait_until(f"the NAS's index knows the reader's {name}",
                   lambda name=name: (sync_lab.nas_rest.known(read_only["id"], f"{REPORTS}/{name}")
                                      or {}).get("global", {}).get("modifiedBy") == reader_short)
    sync_lab.scan(sync_lab.nas_rest, read_only)
    sync_lab.scan(sync_lab.nas_rest, sync_lab.folder("Afrique"))
    wait_until("the NAS sees it is out of step with the reader (send-only keeps its own)",
               lambda: sync_lab.nas_rest.call("GET", "/rest/db/status",
                                              folder=read_only["id"])["needFiles"] >= 1)
    time.sleep(3)  # a send-receive folder would have pulled by now
    # …and takes neither.
    assert smb_read(sync_lab, "pvandamme", f"{REPORTS}/for-readers.txt") == b"from the NAS\n"
    assert not nas_has(sync_lab, f"{AFRIQUE}/{REPORTS}/reader-new.txt")
    assert sync_lab.nas_rest.known(sync_lab.folder("Afrique")["id"],
                                   f"{REPORTS}/reader-new.txt") is None


def test_the_reader_sets_the_folder_types_her_handout_lists_and_they_fit_the_nas(
        sync_lab: SyncLab, tmp_path: Path) -> None:
    # Syncthing lets no device set another's folder types: auto-accepted folders come as the
    # laptop's default (send-receive). Marie-Line's handout lists each folder that arrives
    # and the type to choose; she sets them as it says (the GUI's Edit > Advanced > Folder
    # Type writes this field), read from her handout's HTML, not from the spec.
    reader, nas_rest = sync_lab.reader, sync_lab.nas_rest
    nas_id = nas_rest.call("GET", "/rest/system/status")["myID"]
    code, _, err = nasops("guide", str(sync_lab.directory / "wsm.yml"), "--person", "mlsimon",
                          "--nas-device-id", nas_id, "--format", "html", "-o", str(tmp_path))
    assert code == 0, err
    listed = read_handout((tmp_path / "mlsimon.html").read_text(encoding="utf-8")).laptop
    arrived = {folder["label"]: folder["id"]
               for folder in reader.rest.call("GET", "/rest/config/folders")}
    assert sorted(label for label, _ in listed) == sorted(arrived)  # nothing more, nothing less
    for label, kind in listed:
        reader.rest.call("PATCH", f"/rest/config/folders/{arrived[label]}", {"type": kind})
    # Each laptop folder is then the counterpart of the NAS's: Receive Only where the NAS
    # sends only (she reads), Send & Receive where it takes changes (she writes).
    counterpart = {"sendonly": "receiveonly", "sendreceive": "sendreceive"}
    nas_types = {folder["id"]: folder["type"]
                 for folder in nas_rest.call("GET", "/rest/config/folders")}
    laptop_types = {folder["id"]: folder["type"]
                    for folder in reader.rest.call("GET", "/rest/config/folders")}
    assert laptop_types == {folder: counterpart[nas_types[folder]] for folder in laptop_types}
    assert "receiveonly" in laptop_types.values()
    # What the handout says of a Receive Only folder holds: a change she makes stays on her
    # laptop, is listed as a local change, never reaches the NAS, and "Revert Local Changes"
    # brings the NAS's file back.
    read_only = sync_lab.folder("Afrique (read-only)")
    smb_write(sync_lab, "pvandamme", f"{REPORTS}/handout.txt", b"as on the NAS\n")
    sync_lab.scan(nas_rest, read_only)
    local = reader.path(f"Afrique/{REPORTS}/handout.txt")
    wait_until("the NAS file reaches the reader", lambda: reader.has(local))
    run_in_host(reader.host, ["tee", local], input_text="changed on the laptop\n")
    sync_lab.scan(reader.rest, read_only)
    wait_until("her laptop lists the change as a local change", lambda: reader.rest.call(
        "GET", "/rest/db/status", folder=read_only["id"])["receiveOnlyChangedFiles"] >= 1)
    nas_short = nas_id.split("-", 1)[0]
    known = nas_rest.known(read_only["id"], f"{REPORTS}/handout.txt") or {}
    assert known.get("global", {}).get("modifiedBy") == nas_short, known
    reader.rest.call("POST", "/rest/db/revert", folder=read_only["id"])
    wait_until("Revert Local Changes brings the NAS's file back",
               lambda: reader.read(local) == "as on the NAS\n")
    assert smb_read(sync_lab, "pvandamme", f"{REPORTS}/handout.txt") == b"as on the NAS\n"


def test_a_stopped_laptop_shows_disconnected_with_last_seen_and_what_it_needs(
        sync_lab: SyncLab, tmp_path: Path) -> None:
    stopped_at = time.time()
    sync_lab.writer.stop()
    writer_id, afrique = sync_lab.writer.device_id, sync_lab.folder("Afrique")
    wait_until("the NAS sees the writer's laptop go", lambda: not sync_lab.nas_rest.call(
        "GET", "/rest/system/connections")["connections"][writer_id]["connected"])
    smb_write(sync_lab, "pvandamme", f"{REPORTS}/while-away.bin", secrets.token_bytes(65536))
    sync_lab.scan(sync_lab.nas_rest, afrique)
    wait_until("the NAS knows the laptop lacks the new file",
               lambda: completion(sync_lab, afrique, writer_id)["needBytes"] >= 65536)
    key_file = tmp_path / "syncthing.env"
    key_file.write_text(f"STGUIAPIKEY={sync_lab.nas_rest.api_key}\n", encoding="utf-8")
    arguments = ("sync", "status", "--url", f"http://{NAS_ADDRESS}:8384", "--api-key-file",
                 str(key_file))
    code, out, err = nasops(*arguments, "--json")
    assert code == 0, err
    status = json.loads(out)
    device = next(item for item in status["devices"] if item["id"] == writer_id)
    assert device["name"] == "laptop-writer (adiallo)"
    assert device["connected"] is False
    last_seen = datetime.fromisoformat(device["last_seen"]).timestamp()
    assert stopped_at - 120 <= last_seen <= time.time() + 1
    folder = next(item for item in status["folders"] if item["id"] == afrique["id"])
    needs = next(item for item in folder["devices"] if item["id"] == writer_id)
    assert needs["need_bytes"] >= 65536 and needs["completion_percent"] < 100
    assert folder["need_bytes"] == 0  # the NAS itself lacks nothing
    code, text, err = nasops(*arguments)
    assert code == 0, err
    assert "laptop-writer (adiallo)" in text and "disconnected, last seen" in text
    on_nas = json.loads(run_in_host(sync_lab.nas, ["cat", "/etc/nasops/sync.json"]).stdout)
    assert on_nas["url"] == f"http://{NAS_ADDRESS}:8384"


def test_a_device_removed_from_the_spec_is_unshared_and_its_files_stay(sync_lab: SyncLab,
                                                                       ) -> None:
    writer = sync_lab.writer
    write_spec(sync_lab.directory / "wsm.yml", {
        "adiallo": {"name": "laptop-writer", "id": writer.device_id,
                    "address": f"tcp://{writer.listen}"}})
    reported = converge(sync_lab, "apply removing the reader")
    sync_changes = {(change.target, change.detail.split(" ")[0]) for change in reported.changes
                    if change.kind == "sync"}
    assert ("device laptop-reader (mlsimon)", "remove") in sync_changes, sync_changes
    rest = sync_lab.nas_rest
    devices = {device["deviceID"] for device in rest.call("GET", "/rest/config/devices")}
    assert sync_lab.reader.device_id not in devices and writer.device_id in devices
    folders = {folder["id"] for folder in rest.call("GET", "/rest/config/folders")}
    assert folders == {sync_lab.folder("Afrique")["id"]}
    for path in (f"{AFRIQUE}/Finances/budget.txt", f"{AFRIQUE}/{REPORTS}/for-readers.txt",
                 f"{AFRIQUE}/{REPORTS}/from-smb.txt"):
        assert nas_has(sync_lab, path), f"{path} left the NAS with the device"
    assert sync_lab.reader.has(sync_lab.reader.path("Finances/budget.txt"))


def test_a_second_apply_changes_nothing_even_after_all_that_sync_activity(sync_lab: SyncLab,
                                                                         ) -> None:
    # Files arrived by sync, were edited over SMB, refused, and a device left: `nasops apply`
    # with the same spec must find the NAS (ACLs of synced files included) as the spec says.
    summary = apply(sync_lab, "second apply")
    assert summary.splitlines()[0] == NO_CHANGES, summary
