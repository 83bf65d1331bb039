"""Simulated QTS (our reading): `nasops apply` writes people, groups, members, shares and
share rights through the loopback service of simulated_service.py, reading each write back
(issue 15, docs/qts.md).

What these prove: the driver's order, its read-back after every write (a write QTS answers
without making stops the run, naming it), the firmware gate and its record, refusals before
any write, passwords sent only in POST bodies and never shown, and that a second apply and
drift find nothing. What they cannot prove: that a real QNAP takes these forms (the
recorded and live tiers), nor anything of Samba or the folder tree (not built on QTS).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from qts_hosts import PASSWORD, SimulatedHost
from ruamel.yaml import YAML

from nasops.cli.main import main
from nasops.qts.plan import desired_state
from nasops.spec.load import load_spec

pytestmark = pytest.mark.qts_simulated
WRITES = ("/cgi-bin/wizReq.cgi",)
ACCEPT = "--accept-unverified-firmware"


def _ready(host: SimulatedHost) -> dict[str, str]:
    """Advanced Folder Permissions on, the people's passwords made; return them."""
    host.nas.advanced_folder_permissions = True
    assert main(["secrets", "init", "-i", str(host.inventory)]) == 0
    secrets = YAML(typ="safe").load((host.inventory.parent / "secrets.yml").read_text(
        encoding="utf-8"))
    assert secrets["nasops_qts_password"] == PASSWORD  # kept as the provider wrote it
    return dict(secrets["nasops_user_passwords"])


def _secrets(host: SimulatedHost) -> dict[str, str]:
    secrets = YAML(typ="safe").load((host.inventory.parent / "secrets.yml").read_text(
        encoding="utf-8"))
    return dict(secrets["nasops_user_passwords"])


def _writes(host: SimulatedHost) -> list[tuple[str, tuple[str, ...]]]:
    return [(path, fields) for path, fields in host.nas.requests
            if path in WRITES or "action" in fields]


def _record(out: str) -> dict:
    log = Path(next(line for line in out.splitlines()
                    if line.startswith("full log: ")).removeprefix("full log: "))
    return json.loads((log.parent / "result.json").read_text(encoding="utf-8"))



def test_simulated_qts_apply_converges_reading_each_write_back_then_changes_nothing(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    passwords = _ready(simulated_qts)
    nas = simulated_qts.nas
    existing = set(nas.users)
    inventory = str(simulated_qts.inventory)
    capsys.readouterr()
    # No verified profile of this firmware: refused before any write, unless accepted.
    assert main(["apply", "-i", inventory]) == 2
    err = capsys.readouterr().err
    assert "nasops has no verified profile of QTS 5.1.9 build 2954" in err, err
    assert ACCEPT in err and "nothing was changed" in err
    assert _writes(simulated_qts) == []

    assert main(["apply", "-i", inventory, ACCEPT]) == 0
    captured = capsys.readouterr()
    out = captured.out
    for line in ("wsm-qnap: create person pvandamme", "wsm-qnap: enable person adiallo",
                 "wsm-qnap: create person ojanssens (disabled)",
                 "wsm-qnap: remove comptable.ancien from group direction",
                 "wsm-qnap: create share Asie (closed: only the rights below)",
                 "wsm-qnap: set share Asie: Qsync on, hide what a person cannot open on, "
                 "hide the share from who cannot open it on",
                 "wsm-qnap: set share Afrique: Qsync on (now off), hide what a person cannot "
                 "open on (now off), hide the share from who cannot open it on (now off)",
                 "wsm-qnap: give pvandamme read/write on Afrique"):
        assert line in out, line
    record = _record(out)
    host = record["hosts"]["wsm-qnap"]
    assert (record["platform"], record["exit_code"], host["status"]) == ("qts", 0, "changed")
    assert host["unverified_firmware_accepted"] is True
    assert f"wsm-qnap: {len(host['made'])} changes made, each read back" in out

    # The NAS as the spec says: people (ojanssens disabled), groups, members, shares, rights;
    # a person created has the secrets file's password, one already there keeps hers.
    desired = desired_state(load_spec(simulated_qts.inventory.parent / "wsm.yml"))
    for login, enabled in desired.people.items():
        assert nas.users[login][1] is enabled, login
        assert nas.passwords.get(login) == (None if login in existing else passwords[login])
    for group, members in desired.groups.items():
        assert sorted(nas.members[group]) == sorted(members), group
    assert {share: nas.share_volumes.get(share, "1") for share in desired.shares} == dict.fromkeys(
        desired.shares, "1")
    # Qsync where the spec syncs; access-based enumeration on every share, as on Debian.
    assert {share: nas.share_flags.get(share) for share in desired.shares} == desired.flags
    assert any(flags["qsync"] for flags in desired.flags.values())
    assert not all(flags["qsync"] for flags in desired.flags.values())
    assert {key: right for key, right in nas.rights.items()} == {
        (login, share): right for share, entries in desired.rights.items()
        for login, right in entries.items()}
    # What the spec does not name is left alone: QTS's own, and the organisation's by hand.
    assert {"admin", "guest", "comptable.ancien"} <= set(nas.users)
    assert {"Public", "Web", "Archives 2019"} <= set(nas.shares)
    # Passwords: only in POST bodies, never shown or kept in the log.
    log = Path(record["log"]).read_text(encoding="utf-8")
    for secret in (PASSWORD, *passwords.values()):
        assert secret not in captured.out + captured.err + log
    assert nas.logins == 2 and nas.sessions == set()  # one login per run, logged out

    assert main(["apply", "-i", inventory, ACCEPT, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)  # the document alone on stdout
    assert (document["platform"], document["check_mode"], document["change_count"]) == (
        "qts", False, 0)
    assert document["hosts"]["wsm-qnap"]["status"] == "ok" and document["errors"] == []
    assert main(["apply", "-i", inventory, ACCEPT]) == 0
    again = capsys.readouterr().out
    assert ("wsm-qnap: no changes: people, groups, shares and share rights match the spec"
            in again)
    assert _record(again)["hosts"]["wsm-qnap"]["unverified_firmware_accepted"] is False
    writes = len(_writes(simulated_qts))
    assert main(["drift", "-i", inventory]) == 0
    assert main(["apply", "-i", inventory]) == 0  # nothing to write: no override needed
    assert len(_writes(simulated_qts)) == writes


def test_simulated_qts_a_write_the_nas_does_not_make_stops_apply_naming_it(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    _ready(simulated_qts)
    nas = simulated_qts.nas
    nas.ignored_writes = {"group_user_edit"}  # "ok", and the members stay as they were
    inventory = str(simulated_qts.inventory)
    capsys.readouterr()
    assert main(["apply", "-i", inventory, ACCEPT]) == 1
    captured = capsys.readouterr()
    # The first group created with its members (Cellule Afrique, in the spec's order).
    assert ("QTS answered the members of group cellule-afrique, but reading it back shows "
            "members none: the NAS did not make it") in captured.err
    assert "full log: " in captured.err
    made = captured.out.count("wsm-qnap: ")
    assert made > 0 and "create person pvandamme" in captured.out  # people came first
    assert "create share" not in captured.out  # stopped there
    # The NAS fixed (or QTS's hiccup gone), the same apply finishes from where the NAS is.
    nas.ignored_writes = set()
    assert main(["apply", "-i", inventory, ACCEPT]) == 0
    out = capsys.readouterr().out
    assert "create person pvandamme" not in out and "create group cellule-afrique" not in out
    assert "remove comptable.ancien from group direction" in out
    assert "add adiallo to group cellule-afrique" in out
    assert main(["drift", "-i", inventory]) == 0


@pytest.mark.parametrize(("ignored", "named"), [
    ("user_create", "QTS answered the creation of person pvandamme, but reading it back "
                    "shows no pvandamme"),
    ("user_password_edit", "QTS did not confirm the password of pvandamme"),
    ("user_edit", "QTS answered enabling adiallo, but reading it back shows adiallo disabled"),
    ("user_group_create", "QTS answered the creation of group cellule-afrique, but reading "
                          "it back shows no group cellule-afrique"),
    ("group_user_edit", "QTS answered the members of group cellule-afrique, but reading it "
                        "back shows members none"),
    ("share_create", "QTS answered the creation of share Amérique latine, but reading it "
                     "back shows no share Amérique latine"),
    ("share_property", "QTS answered the flags of share Afrique, but reading it back shows "
                       "qsync off, hide_unreadable off, share_enumeration off"),
    ("user_share_edit", "QTS answered the share rights of mlsimon on Afrique, but reading it "
                        "back shows own entry none"),
])
def test_simulated_qts_each_kind_of_write_is_read_back(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str], ignored: str,
        named: str) -> None:
    _ready(simulated_qts)
    simulated_qts.nas.ignored_writes = {ignored}
    assert main(["apply", "-i", str(simulated_qts.inventory), ACCEPT]) == 1
    err = capsys.readouterr().err
    assert named in err, err
    assert _record(err)["hosts"]["wsm-qnap"]["status"] == "failed"


def test_simulated_qts_a_refused_password_or_an_opened_share_stops_saying_what_was_made(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    _ready(simulated_qts)
    nas = simulated_qts.nas
    inventory = str(simulated_qts.inventory)
    nas.misbehave = "password-refused"
    assert main(["apply", "-i", inventory, ACCEPT]) == 1
    err = capsys.readouterr().err
    assert "QTS did not confirm the password of pvandamme" in err
    assert "person pvandamme was created with a password nobody knows: set theirs in QTS" \
        in err
    assert nas.passwords["pvandamme"] != _secrets(simulated_qts)["pvandamme"]
    nas.misbehave = "opens-new-shares"
    assert main(["apply", "-i", inventory, ACCEPT]) == 1
    captured = capsys.readouterr()
    assert "create person pvandamme" not in captured.out  # she is there now
    assert "QTS created share Amérique latine open to group everyone (RW) although nasops " \
           "asked for it closed" in captured.err


def test_simulated_qts_a_group_right_reaching_people_just_created_is_found_after_writing(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    _ready(simulated_qts)
    # Opened by hand: everyone may read Afrique. Plan cannot see it reach people not created
    # yet; apply reads the whole NAS again after writing and stops there.
    simulated_qts.nas.group_rights = {("everyone", "Afrique"): "RO"}
    inventory = str(simulated_qts.inventory)
    capsys.readouterr()
    assert main(["apply", "-i", inventory, ACCEPT]) == 1
    err = capsys.readouterr().err
    assert "reading the NAS again still finds: QTS gives jlopez read-only on Afrique where " \
           "the spec says no entry: a group's entry" in err, err
    # Now that they exist, plan refuses it before any write.
    writes = len(_writes(simulated_qts))
    assert main(["apply", "-i", inventory, ACCEPT]) == 2
    assert "refused on wsm-qnap: QTS gives jlopez read-only on Afrique" in \
        capsys.readouterr().err
    assert len(_writes(simulated_qts)) == writes


def test_simulated_qts_names_are_written_as_the_nas_spells_them(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    _ready(simulated_qts)
    nas = simulated_qts.nas
    # QTS compares names without case, but the simulation (as a firmware may) matches them
    # exactly: an edit of "adiallo" or "direction" would miss these.
    nas.users["ADiallo"] = nas.users.pop("adiallo")
    nas.groups["Direction"] = nas.groups.pop("direction")
    nas.members["Direction"] = nas.members.pop("direction")
    inventory = str(simulated_qts.inventory)
    assert main(["apply", "-i", inventory, ACCEPT]) == 0, capsys.readouterr().err
    assert nas.users["ADiallo"][1] is True and "adiallo" not in nas.users
    assert "comptable.ancien" not in nas.members["Direction"]
    assert ("ADiallo", "Afrique") in nas.rights
    assert main(["drift", "-i", inventory]) == 0


def test_simulated_qts_a_share_renamed_in_place_keeps_its_rights(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    _ready(simulated_qts)
    inventory = str(simulated_qts.inventory)
    assert main(["apply", "-i", inventory, ACCEPT]) == 0
    spec = simulated_qts.inventory.parent / "wsm.yml"
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        "  - name: Afrique\n", "  - name: Afrika\n    renamed_from: Afrique\n", 1),
        encoding="utf-8")
    capsys.readouterr()
    assert main(["apply", "-i", inventory, ACCEPT]) == 0
    out = capsys.readouterr().out
    assert "rename share Afrique to Afrika (in place, files kept)" in out
    nas = simulated_qts.nas
    assert "Afrika" in nas.shares and "Afrique" not in nas.shares
    assert not any(share == "Afrique" for _, share in nas.rights)
    assert main(["drift", "-i", inventory]) == 0


def test_simulated_qts_apply_refuses_before_any_write(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = str(simulated_qts.inventory)
    # No people's passwords yet: stopped before the NAS is asked anything.
    assert main(["apply", "-i", inventory, ACCEPT]) == 2
    assert "no password for mlsimon, adiallo" in capsys.readouterr().err
    assert simulated_qts.nas.requests == []
    _ready(simulated_qts)
    # Advanced Folder Permissions off: refused after reading, before writing.
    simulated_qts.nas.advanced_folder_permissions = False
    capsys.readouterr()
    assert main(["apply", "-i", inventory, ACCEPT]) == 2
    err = capsys.readouterr().err
    assert "refused on wsm-qnap: Advanced Folder Permissions must be on" in err
    assert "nothing was changed" in err
    assert _writes(simulated_qts) == []
    # --json: stdout holds the run document alone, the refusal among its errors.
    assert main(["apply", "-i", inventory, ACCEPT, "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert (document["platform"], document["exit_code"], document["change_count"]) == (
        "qts", 2, 0)
    assert document["hosts"]["wsm-qnap"]["status"] == "failed"
    assert "Advanced Folder Permissions must be on" in document["errors"][0]["message"]
    assert main(["apply", "-i", inventory, ACCEPT, "--tags", "nas_shares"]) == 2
    assert "--tags are not built for QTS" in capsys.readouterr().err


def test_simulated_qts_a_disabled_person_cut_off_mid_creation_keeps_no_known_password(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _ready(simulated_qts)
    nas = simulated_qts.nas
    import simulated_service  # noqa: PLC0415 - the service's detail answer, cut short

    full = simulated_service._wizard

    def without_tel(nas_: simulated_service.SimulatedNas, form: dict[str, str]) -> str:
        answer = full(nas_, form)
        return answer.replace("<tel></tel>", "") if form.get("username") == "ojanssens" \
            else answer

    # Patched in the simulated service (the NAS side), not in nasops: nasops' own code runs
    # unchanged against a NAS whose answer lacks a field.
    monkeypatch.setattr(simulated_service, "_wizard", without_tel)
    assert main(["apply", "-i", str(simulated_qts.inventory), ACCEPT]) == 1
    err = capsys.readouterr().err
    assert "ojanssens's detail: the NAS's answer has no <tel>" in err
    assert "person ojanssens was created with a password nobody knows" in err
    assert nas.passwords["ojanssens"] != _secrets(simulated_qts)["ojanssens"]


def test_simulated_qts_secrets_that_are_no_text_stop_before_the_nas_is_asked(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    _ready(simulated_qts)
    path = simulated_qts.inventory.parent / "secrets.yml"
    text = path.read_text(encoding="utf-8")
    requests = len(simulated_qts.nas.requests)
    login = "pvandamme"
    password = _secrets(simulated_qts)[login]
    for value, words in (("123456", "must be text: put them in quotes"),
                         ('"x\\udc80y"', "holds a character that is not text")):
        path.write_text(text.replace(password, value.replace("\\\\", "\\")),
                        encoding="utf-8")
        assert main(["apply", "-i", str(simulated_qts.inventory), ACCEPT]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, err
    assert len(simulated_qts.nas.requests) == requests  # nothing was asked


def test_simulated_qts_names_written_apart_only_by_case_or_accents(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    import unicodedata  # noqa: PLC0415

    _ready(simulated_qts)
    nas = simulated_qts.nas
    # A share QTS keeps decomposed (É as E + accent) is the spec's Éducation: not re-created.
    decomposed = unicodedata.normalize("NFD", "Éducation")
    nas.shares[decomposed] = False
    inventory = str(simulated_qts.inventory)
    assert main(["apply", "-i", inventory, ACCEPT]) == 0, capsys.readouterr().err
    assert "Éducation" not in nas.shares and decomposed in nas.shares
    # Two people nasops cannot tell apart: refused, named with their hidden differences.
    nas.users["ADiallo"] = (5000, True)
    capsys.readouterr()
    assert main(["apply", "-i", inventory, ACCEPT]) == 2
    err = capsys.readouterr().err
    assert ("the NAS has people adiallo and ADiallo, written apart only by capitals or "
            "accents: nasops cannot tell which is adiallo") in err, err


def test_simulated_qts_names_the_nas_sends_are_shown_with_hidden_characters_escaped(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    _ready(simulated_qts)
    nas = simulated_qts.nas
    # Every group already as the spec says, but direction: its members' write is the one.
    desired = desired_state(load_spec(simulated_qts.inventory.parent / "wsm.yml"))
    for group, members in desired.groups.items():
        if group != "direction":
            nas.groups[group] = 3000 + len(nas.groups)
            nas.members[group] = list(members)
    nas.members["direction"].append("evil\u202eRED")
    nas.ignored_writes = {"group_user_edit"}
    assert main(["apply", "-i", str(simulated_qts.inventory), ACCEPT]) == 1
    err = capsys.readouterr().err
    assert "\u202e" not in err and "evil\\u202eRED" in err, err


def test_simulated_qts_an_interrupted_apply_is_recorded_as_interrupted(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from nasops.ansible.runner import RunInterrupted  # noqa: PLC0415
    from nasops.qts import writes  # noqa: PLC0415

    _ready(simulated_qts)
    send = writes.QtsWriter._send

    def cut(self: writes.QtsWriter, path: str, form: dict[str, str], what: str) -> object:
        if form.get("wiz_func") == "user_password_edit":  # SIGTERM mid-creation
            raise RunInterrupted(15)
        return send(self, path, form, what)

    # The signal is raised where interruptible() would raise it (inside a write); the
    # writer, the record and the logout around it are nasops' real code.
    monkeypatch.setattr(writes.QtsWriter, "_send", cut)
    assert main(["apply", "-i", str(simulated_qts.inventory), ACCEPT]) == 143
    err = capsys.readouterr().err
    assert "interrupted by SIGTERM" in err
    assert _record(err)["hosts"]["wsm-qnap"]["status"] == "interrupted"
    assert simulated_qts.nas.sessions == set()  # logged out all the same
