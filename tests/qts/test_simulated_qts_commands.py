"""Simulated QTS (our reading): `nasops qts probe` and `nasops qts capture` against the
loopback service of simulated_service.py (issue 15, docs/qts.md).

What these prove: nasops' client pins the certificate before sending anything, logs in
once and out at the end, never shows the password, reads and reports, redacts a capture
and refuses what it must. What they cannot prove: that a real QNAP answers like the
simulation (the recorded and live tiers).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from qts_hosts import PASSWORD, SimulatedHost

from nasops.cli.main import main
from nasops.qts import answers, facts, session
from nasops.qts.plan import desired_state
from nasops.spec.load import load_spec

pytestmark = pytest.mark.qts_simulated
READS = ("/cgi-bin/priv/privRequest.cgi",) * 3
LOGIN, LOGOUT = "/cgi-bin/authLogin.cgi", "/cgi-bin/authLogout.cgi"


def _paths(host: SimulatedHost) -> list[str]:
    return [path for path, _ in host.nas.requests]


def test_simulated_qts_probe_reports_firmware_switches_names_and_refusals(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["qts", "probe", "-i", str(simulated_qts.inventory)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = captured.out
    assert "nasops-simulated, QTS 5.1.9 build 2954 (20241120)" in out
    assert "firmware profile: simulated QTS (our reading)" in out
    assert ("Advanced Folder Permissions: off, Windows ACL: off, access-based share "
            "enumeration: off") in out
    assert ("refused: Advanced Folder Permissions must be on for nasops' folder rights "
            "(Enable Advanced Folder Permissions) (Control Panel > Privilege > Shared Folders "
            "> Advanced Permissions)") in out
    assert "Windows ACL must be off" not in out
    # 23 people in the spec; mlsimon and adiallo exist (adiallo disabled on the NAS);
    # comptable.ancien is the organisation's own, admin and guest are QTS's.
    assert ("people: 23 in the spec, 2 already on the NAS, 21 to create (pvandamme, fkabore, "
            "cndayisaba, smertens, jlopez, tgarcia, mquispe, rperalta, and 13 more); "
            "disabled on the NAS: adiallo; 1 other on the NAS, left alone") in out
    assert ("groups: 11 in the spec, 1 already on the NAS, 10 to create (cellule-afrique, "
            "cellule-amerique-latine,") in out
    assert ("shares: 5 in the spec, 1 already on the NAS, 4 to create (Amérique latine, Asie, "
            "Éducation, Direction); 1 other on the NAS, left alone") in out
    assert "the spec on QTS: nothing refused" in out
    # Read-only: one login, three lists, one logout, and nothing else was asked.
    assert _paths(simulated_qts) == [LOGIN, *READS, LOGOUT]
    assert simulated_qts.nas.sessions == set()
    assert PASSWORD not in captured.out + captured.err
    # Answers back to back: one TLS connection for the whole run.
    assert simulated_qts.nas.connections == 1


@pytest.mark.parametrize("how", ["the NAS closes each", "an idle one is not reused"])
def test_simulated_qts_a_connection_not_kept_is_opened_again_and_pinned_again(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    if how == "the NAS closes each":
        simulated_qts.nas.misbehave = "closes-connections"
    else:  # every request finds the kept connection idle too long (no sleeping in the test)
        monkeypatch.setattr(session, "REUSE_SECONDS", 0.0)
    pinned: list[str] = []
    connect = session.QtsSession._connect

    def counted(self: session.QtsSession) -> Any:
        connection = connect(self)  # raises unless the NAS shows the pinned certificate
        pinned.append(self.endpoint.place)
        return connection

    # Wrapped, not replaced: the real connect (TLS, pin check) runs, and is counted.
    monkeypatch.setattr(session.QtsSession, "_connect", counted)
    assert main(["qts", "probe", "-i", str(simulated_qts.inventory)]) == 0, \
        capsys.readouterr().err
    assert _paths(simulated_qts) == [LOGIN, *READS, LOGOUT]
    assert simulated_qts.nas.connections == len(pinned) == 5


def test_simulated_qts_probe_refuses_a_certificate_other_than_the_pinned_one(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    simulated_qts.write_inventory(nasops_qts_certificate_sha256="AB:" * 31 + "CD")
    assert main(["qts", "probe", "-i", str(simulated_qts.inventory)]) == 1
    err = capsys.readouterr().err
    assert f"shows a certificate with sha256 {simulated_qts.pin}" in err
    assert "nothing was sent" in err
    assert simulated_qts.nas.requests == []  # the password never left the controller


def test_simulated_qts_wrong_password_is_tried_once_and_never_shown(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    simulated_qts.nas.password = "another one"
    assert main(["qts", "probe", "-i", str(simulated_qts.inventory)]) == 1
    captured = capsys.readouterr()
    assert "QTS refused the login of 'admin'" in captured.err
    assert "does not try again" in captured.err
    assert simulated_qts.nas.logins == 1
    assert _paths(simulated_qts) == [LOGIN]
    assert PASSWORD not in captured.out + captured.err


@pytest.mark.parametrize(("variables", "message"), [
    ({"nasops_qts_certificate_sha256": None}, "nasops_qts_certificate_sha256 must be"),
    ({"nasops_qts_port": 70000}, "nasops_qts_port must be a port number"),
    ({"ansible_host": "-oProxyCommand=x"}, "ansible_host must be a host name"),
    ({"nasops_qts_user": "admin;reboot"}, "nasops_qts_user must be a QTS login"),
    ({"nasops_secrets_file": "missing.yml"}, "missing.yml does not exist"),
    ({"ansible_host": "a..b"}, "ansible_host must be a host name"),
    ({"ansible_host": "x" * 64 + ".lan"}, "ansible_host must be a host name"),
    ({"nasops_specs": ["wsm.yml"], "nasops_spec": None},
     "a NAS several organisations share is not built on QTS"),
])
def test_simulated_qts_bad_inventory_values_stop_before_connecting(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str],
        variables: dict[str, object], message: str) -> None:
    simulated_qts.write_inventory(**variables)
    assert main(["qts", "probe", "-i", str(simulated_qts.inventory)]) == 2
    err = capsys.readouterr().err
    assert "inventory host wsm-qnap" in err or "missing.yml" in err
    assert message in err
    assert simulated_qts.nas.requests == []


def test_simulated_qts_probe_reads_a_vault_encrypted_password(
        simulated_qts: SimulatedHost, ansible_vault: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    vault_password = tmp_path / "vault-password"
    vault_password.write_text("vault secret\n")
    subprocess.run([ansible_vault, "encrypt", "--vault-password-file", str(vault_password),
                    str(tmp_path / "secrets.yml")], check=True, capture_output=True)
    assert main(["qts", "probe", "-i", str(simulated_qts.inventory)]) == 2
    assert "encrypted with ansible-vault; pass --vault-password-file" in capsys.readouterr().err
    assert simulated_qts.nas.requests == []
    assert main(["qts", "probe", "-i", str(simulated_qts.inventory),
                 "--vault-password-file", str(vault_password)]) == 0
    assert simulated_qts.nas.logins == 1


@pytest.mark.parametrize(("misbehave", "message"), [
    ("doctype", "declares a DOCTYPE or entities"),
    ("html", "is XML but not the QTS web API's"),
    ("paged", "the NAS says it has 10 but listed 5"),
    ("ignores-pages", "the NAS listed a name twice (does it ignore the page asked for?)"),
    ("encoding", "declares an encoding nasops cannot read"),
    ("deep", "nested deeper than 32 levels"),
])
def test_simulated_qts_answers_nasops_cannot_trust_stop_the_run(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str],
        misbehave: str, message: str) -> None:
    simulated_qts.nas.misbehave = misbehave
    assert main(["qts", "probe", "-i", str(simulated_qts.inventory)]) == 1
    err = capsys.readouterr().err
    assert message in err and f"127.0.0.1:{simulated_qts.port}" in err
    assert "Traceback" not in err
    if misbehave == "ignores-pages":  # stopped at the second page, not after 100,000 names
        assert _paths(simulated_qts).count(READS[0]) == 2


def test_simulated_qts_a_full_page_without_a_count_stops_the_run(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Pages of two make paging visible with a handful of names; the NAS answering is still
    # the simulated service over TLS, nothing of the client is replaced.
    monkeypatch.setattr(facts, "PAGE", 2)
    simulated_qts.nas.misbehave = "no-count"
    assert main(["qts", "probe", "-i", str(simulated_qts.inventory)]) == 1
    assert "gave a full page without saying how many there are" in capsys.readouterr().err


def test_simulated_qts_invisible_characters_the_nas_sends_are_printed_escaped(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    # A right-to-left override and a zero-width space (a terminal escape is not valid XML
    # and stops the run as unreadable, tested above).
    # A real-looking model, so that the firmware profile line prints the version too.
    simulated_qts.nas.model = "TS-464\u202e"
    simulated_qts.nas.firmware = ("5.1.9\u202e\u200b", "2954\u009b", "20241120")
    assert main(["qts", "probe", "-i", str(simulated_qts.inventory)]) == 0
    out = capsys.readouterr().out
    assert not {"\u202e", "\u200b", "\u009b"} & set(out)
    assert "TS-464\\u202e, QTS 5.1.9\\u202e\\u200b build 2954\\u009b" in out
    assert "no verified profile for QTS 5.1.9\\u202e\\u200b.2954\\u009b" in out


def test_simulated_qts_capture_is_redacted_hashed_and_parses_back(
        simulated_qts: SimulatedHost, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "recorded"
    assert main(["qts", "capture", "-i", str(simulated_qts.inventory), "-o", str(output),
                 "--operator", "provider"]) == 0, capsys.readouterr().err
    directory = output / "nasops-simulated-5.1.9.2954"
    meta = json.loads((directory / "meta.json").read_text())
    assert meta["model"] == "nasops-simulated"
    assert meta["firmware"] == {"version": "5.1.9", "number": "2954", "build": "20241120"}
    assert meta["operator"] == "provider"
    assert sorted(meta["answers"]) == ["group_share_rights.xml", "groups.xml", "login.xml",
                                       "members.xml", "share_property.xml", "share_rights.xml",
                                       "shares.xml", "users.xml"]
    texts = ""
    for name, entry in meta["answers"].items():
        content = (directory / name).read_bytes()
        assert hashlib.sha256(content).hexdigest() == entry["sha256"]
        texts += content.decode()
    # The organisation's names, its host name and the session id are gone; QTS's own stay.
    for secret in ("mlsimon", "adiallo", "comptable.ancien", "Mlsimon", "direction",
                   "benevoles", "Afrique", "Archives 2019", "wsm-nas", PASSWORD):
        assert secret not in texts
    assert "<authSid>REDACTED</authSid>" in texts
    for own in ("admin", "administrators", "Public"):
        assert f">{own}<" in texts
    users = answers.users(answers.parse((directory / "users.xml").read_bytes(), "users"))
    assert [user.name for user in users] == ["admin", "guest", "user-1", "user-2", "user-3"]
    assert [user.enabled for user in users] == [True, False, True, False, True]
    # mlsimon is user-1 wherever it appears, also inside the members' list.
    assert answers.members(answers.parse((directory / "members.xml").read_bytes(),
                                         "members")) == ["admin", "user-1"]
    shares = answers.shares(answers.parse((directory / "shares.xml").read_bytes(), "shares"))
    assert [share.name for share in shares.shares] == ["Public", "Web", "share-1", "share-2"]
    # A capture is evidence: a second one of the same firmware is refused, not overwritten.
    assert main(["qts", "capture", "-i", str(simulated_qts.inventory), "-o",
                 str(output)]) == 2
    assert "a capture of this firmware exists" in capsys.readouterr().err


def _as_the_spec_says(host: SimulatedHost) -> None:
    """Set the simulated NAS to what the QTS example asks of its control plane."""
    desired = desired_state(load_spec(host.inventory.parent / "wsm.yml"))
    nas = host.nas
    nas.users.update({login: (2000 + index, enabled)
                      for index, (login, enabled) in enumerate(desired.people.items())})
    nas.groups.update({group: 3000 + index for index, group in enumerate(desired.groups)})
    nas.members.update({group: list(members) for group, members in desired.groups.items()})
    nas.shares.update(dict.fromkeys(desired.shares, False))
    nas.rights = {(login, share): right for share, entries in desired.rights.items()
                  for login, right in entries.items()}
    nas.share_flags = {share: dict(flags) for share, flags in desired.flags.items()}
    nas.advanced_folder_permissions = True


# The form fields a read may carry: anything else (apply, action, rd_share…) would be a write.
READ_FIELDS = {"subfunc", "getdata", "lower", "upper", "sid", "wiz_func", "groupname",
               "userName", "type", "user", "pwd", "serviceKey", "logout", "sharename"}


def test_simulated_qts_plan_lists_what_apply_would_do_reading_only(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    # Advanced Folder Permissions off: plan says what apply would do, and fails (exit 2,
    # as a refusal does on Debian) until it is on.
    assert main(["plan", "-i", str(simulated_qts.inventory)]) == 2
    captured = capsys.readouterr()
    out = captured.out
    assert "refused on wsm-qnap: settle what is refused above first" in captured.err
    assert "changes apply would make" in out
    for line in ("create person pvandamme", "enable person adiallo",
                 "remove comptable.ancien from group direction",
                 "create group cellule-afrique with adiallo, cndayisaba, fkabore, ",
                 "create share Asie (closed: only the rights below)",
                 "give pvandamme read/write on Afrique",
                 "set mlsimon to read-only on Afrique (now no entry)",
                 "refused: Advanced Folder Permissions must be on"):
        assert line in out, line
    paths = _paths(simulated_qts)
    assert paths[0] == LOGIN and paths[-1] == LOGOUT and paths.count(LOGIN) == 1
    # Read-only: the lists, one members' read per existing group of the spec (direction),
    # one rights' read per existing person of the spec (mlsimon, adiallo), one properties'
    # read per existing share of the spec (Afrique).
    wizard = [fields for path, fields in simulated_qts.nas.requests
              if path == "/cgi-bin/priv/privWizard.cgi"]
    assert len(wizard) == 4
    sent = {field for _, fields in simulated_qts.nas.requests for field in fields}
    assert sent <= READ_FIELDS, sent - READ_FIELDS
    simulated_qts.nas.advanced_folder_permissions = True
    assert main(["plan", "-i", str(simulated_qts.inventory)]) == 0
    assert "refused" not in capsys.readouterr().out
    assert main(["plan", "-i", str(simulated_qts.inventory), "--tags", "nas_shares"]) == 2
    assert "--tags are not built for QTS" in capsys.readouterr().err
    # --json: the same report as one document, each change in plan's words.
    assert main(["plan", "-i", str(simulated_qts.inventory), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    host = document["hosts"]["wsm-qnap"]
    assert (document["platform"], document["check_mode"], document["drift"]) == (
        "qts", True, True)
    assert host["status"] == "changed" and host["refused"] == []
    assert "create person pvandamme" in host["changes"]
    assert document["change_count"] == host["change_count"] == len(host["changes"])
    # No SSH host key here: nothing is kept on the NAS, and the document says why.
    access = document["access"]["wsm-qnap"]
    assert access["known"] is False and "nasops_qts_ssh_host_key" in access["problem"]


def test_simulated_qts_drift_is_clean_on_a_nas_as_the_spec_says_and_names_each_difference(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    _as_the_spec_says(simulated_qts)
    assert main(["drift", "-i", str(simulated_qts.inventory)]) == 0, capsys.readouterr()
    assert "no difference from the spec in people, groups, shares and share rights" in \
        capsys.readouterr().out
    nas = simulated_qts.nas
    # By hand: a reader's own entry set to read/write, ojanssens enabled.
    person, share = next(key for key, right in nas.rights.items() if right == "RO")
    nas.rights[(person, share)] = "RW"
    nas.users["ojanssens"] = (nas.users["ojanssens"][0], True)
    assert main(["drift", "-i", str(simulated_qts.inventory)]) == 3
    captured = capsys.readouterr()
    assert "drift: 2 differences" in captured.out
    assert "disable person ojanssens" in captured.out
    assert f"set {person} to read-only on {share} (now read/write)" in captured.out
    assert "drift found on wsm-qnap" in captured.err
    # A group given read/write on Afrique, where the spec has read-only people: QTS's merge
    # makes them read/write, which apply could not undo by the person's own entry.
    nas.rights[(person, share)] = "RO"
    reader = next(login for (login, share), right in nas.rights.items()
                  if share == "Afrique" and right == "RO")
    group = next(group for group, members in nas.members.items() if reader in members)
    nas.group_rights[(group, "Afrique")] = "RW"
    assert main(["drift", "-i", str(simulated_qts.inventory)]) == 2
    captured = capsys.readouterr()
    assert f"refused: QTS gives {reader} read/write on Afrique where the spec says " \
           "read-only: a group's entry" in captured.out
    assert "refused on wsm-qnap" in captured.err


def test_simulated_qts_a_share_to_rename_is_compared_under_its_old_name(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str]) -> None:
    _as_the_spec_says(simulated_qts)
    nas = simulated_qts.nas
    spec = simulated_qts.inventory.parent / "wsm.yml"
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        "  - name: Afrique\n", "  - name: Afrika\n    renamed_from: Afrique\n", 1),
        encoding="utf-8")
    writer = next(login for (login, share), right in nas.rights.items()
                  if share == "Afrique" and right == "RW")
    nas.rights[(writer, "Afrique")] = "Deny"
    nas.rights[("rsingh", "Afrique")] = "RW"  # the spec gives rsingh nothing there
    assert main(["drift", "-i", str(simulated_qts.inventory)]) == 3
    out = capsys.readouterr().out
    assert "rename share Afrique to Afrika (in place, files kept)" in out
    assert f"set {writer} to read/write on Afrika (now no access)" in out
    assert "set rsingh to no entry on Afrika (now read/write)" in out
    assert "drift: 3 differences" in out


def test_simulated_qts_lists_are_read_page_by_page(
        simulated_qts: SimulatedHost, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Pages of two: five users, four groups and four shares take several requests each,
    # and every name is still seen (the report's counts are those of a single page read).
    # Only the page size is replaced; the NAS answering is the simulated service over TLS.
    monkeypatch.setattr(facts, "PAGE", 2)
    assert main(["qts", "probe", "-i", str(simulated_qts.inventory)]) == 0
    out = capsys.readouterr().out
    assert "23 in the spec, 2 already on the NAS, 21 to create" in out
    assert "shares: 5 in the spec, 1 already on the NAS, 4 to create" in out
    lists = [path for path in _paths(simulated_qts) if path == READS[0]]
    assert len(lists) == 3 + 2 + 2  # users 2+2+1, groups 2+2, shares 2+2
