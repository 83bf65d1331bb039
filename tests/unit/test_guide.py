"""People's handouts (issue 16): for every person of the example, the folders the handout
lists (parsed back from its HTML) are those of the access report; three languages, every
value escaped, a QR code for people with laptops."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from handout_reading import read_handout
from ruamel.yaml import YAML

from nasops.cli.main import main
from nasops.compile import compile_spec
from nasops.guide.handout import handout, render_html
from nasops.guide.texts import TEXTS
from nasops.report.access import render
from nasops.spec import load_spec, load_spec_text
from nasops.spec.rights import Access, resolve_rights
from nasops.sync.device_id import device_id_from_seed

EXAMPLE = Path(__file__).resolve().parents[2] / "inventory" / "example" / "wsm.yml"
DEVICE = "AAAAAAA-BBBBBBB-CCCCCCC-DDDDDDD-EEEEEEE-FFFFFFF-GGGGGGG-HHHHHHH"
SECTIONS = {"write": "change", "read": "read", "traverse": "through"}


def test_every_handout_lists_what_the_access_report_says() -> None:
    spec = load_spec(EXAMPLE).spec
    table = resolve_rights(spec)
    report = json.loads(render(spec, table, "json"))
    checked = 0
    for user in report["users"]:
        if not user["enabled"]:
            continue
        expected: dict[str, list[str]] = {"change": [], "read": [], "through": []}
        for folder, access in zip(report["folders"], user["access"], strict=True):
            if access in SECTIONS:
                expected[SECTIONS[access]].append(folder)
        found = read_handout(render_html(handout(spec, table, user["login"])))
        assert found.lists == expected, user["login"]
        assert found.login == user["login"]
        checked += 1
    assert checked == 22


@pytest.mark.parametrize(("language", "phrase"), [
    ("en", "Folders you can change"), ("fr", "Les dossiers que vous pouvez modifier"),
    ("nl", "Mappen die u kunt wijzigen")])
def test_a_handout_in_each_language(language: str, phrase: str) -> None:
    spec = load_spec(EXAMPLE).spec
    page = render_html(handout(spec, resolve_rights(spec), "fkabore", language=language,
                               nas_device_id=DEVICE))
    parsed = read_handout(page)
    assert parsed.language == language
    assert phrase in "".join(parsed.text)
    assert "Afrique/Partenaires/Bénin" in parsed.lists["change"]  # accents kept as text
    assert parsed.device_id == DEVICE and "<svg" in page  # fkabore has a laptop


def test_a_laptop_owner_s_handout_lists_the_folders_the_nas_offers_with_their_types() -> None:
    # Against the NAS's own Syncthing configuration (the compiled state the role writes):
    # each folder offered to one of the person's laptops, read-only where the NAS's side is
    # send-only for them, and nothing else.
    # The example's laptop owners all write their synced folders; Marie-Line Simon
    # (Direction) reads every synced share and its private Finances, changes none.
    document = YAML(typ="safe").load(EXAMPLE.read_text(encoding="utf-8"))
    [reader] = [user for user in document["users"] if user["login"] == "mlsimon"]
    reader["devices"] = [{"name": "laptop-direction", "id": device_id_from_seed("direction")}]
    text, writer = io.StringIO(), YAML(typ="safe")
    writer.default_flow_style = False
    writer.dump(document, text)
    spec = load_spec_text(text.getvalue(), "wsm.yml").spec
    table = resolve_rights(spec)
    folders = compile_spec(spec)["sync"]["folders"]
    laptop_types = {"sendonly": "receiveonly", "sendreceive": "sendreceive"}
    owners = [user for user in spec.users if user.devices]
    assert len(owners) >= 3
    seen = set()
    for user in owners:
        devices = {device.id for device in user.devices}
        expected = [(folder["label"], laptop_types[folder["type"]]) for folder in folders
                    if devices & set(folder["devices"])]
        for language in TEXTS:
            page = render_html(handout(spec, table, user.login, language=language))
            assert read_handout(page).laptop == expected, (user.login, language)
        # And by the rights resolution itself: read-only exactly where the person reads.
        accesses = table.access[user.login]
        for label, kind in expected:
            access = accesses[table.folder_index(label.removesuffix(" (read-only)"))]
            assert (access, kind) in {(Access.READ, "receiveonly"),
                                      (Access.WRITE, "sendreceive")}, (user.login, label)
            assert label.endswith(" (read-only)") == (access is Access.READ)
        seen |= {kind for _, kind in expected}
    assert seen == {"receiveonly", "sendreceive"}  # the example shows both


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_without_the_nas_device_id_a_laptop_owner_still_gets_every_step(language: str) -> None:
    spec = load_spec(EXAMPLE).spec
    page = render_html(handout(spec, resolve_rights(spec), "fkabore", language=language))
    words = TEXTS[language]
    text = " ".join(" ".join(read_handout(page).text).split())

    def shown(key: str) -> str:
        # The sentence before its first placeholder, as the reader sees it.
        plain = " ".join(words[key].split("{")[0].replace("&amp;", "&").split())
        return plain[:60]

    for key in ("sync_install", "sync_no_id", "sync_auto", "sync_list"):
        assert shown(key) in text, key
    assert read_handout(page).device_id is None and "<svg" not in page
    assert read_handout(page).laptop == [("Afrique", "sendreceive")]


def test_every_language_has_every_text() -> None:
    keys = set(TEXTS["en"])
    assert all(set(words) == keys for words in TEXTS.values())


SMALL = """version: 1
organization: {id: asso, name: "Asso <b>R&D</b>", language: fr,
               contact: "Zoé Martin <zoe@asso.example>", server: nas.asso.lan}
groups: [{name: Équipe}]
users:
  - {login: zoe, name: "Zoé « la <i>chef</i> »", groups: [Équipe]}
  - {login: marc, name: Marc, language: nl, groups: [Équipe]}
  - {login: ana, name: Ana, groups: [Équipe], state: disabled}
shares:
  - name: R&D été
    access: {Équipe: write}
"""


def test_values_from_the_spec_are_escaped_and_addresses_encoded() -> None:
    spec = load_spec_text(SMALL, "s.yml").spec
    page = render_html(handout(spec, resolve_rights(spec), "zoe"))
    assert "<b>" not in page and "<i>" not in page
    text = "".join(read_handout(page).text)
    assert "Zoé « la <i>chef</i> »" in text and "Zoé Martin <zoe@asso.example>" in text
    assert "\\\\nas.asso.lan\\R&D été" in text
    assert "smb://nas.asso.lan/R%26D%20%C3%A9t%C3%A9" in text
    assert read_handout(page).lists["change"] == ["R&D été"]
    assert read_handout(page).language == "fr"  # the organisation's


def test_guide_command_writes_one_handout_per_person(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "s.yml"
    spec.write_text(SMALL, encoding="utf-8")
    assert main(["guide", str(spec), "--all", "-o", str(tmp_path / "out")]) == 0
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["marc.html",
                                                                          "zoe.html"]
    assert main(["guide", str(spec), "--person", "marc", "-o", str(tmp_path / "out")]) == 0
    assert read_handout((tmp_path / "out" / "marc.html").read_text()).language == "nl"
    capsys.readouterr()
    for arguments, message in (
            (["--person", "nobody"], "no person with the login nobody"),
            (["--person", "ana"], "ana: disabled (the account cannot sign in): no handout"),
            ([], "name the people"),
            (["--all", "--person", "zoe"], "name the people"),
            (["--all", "--nas-device-id", "not-an-id"], "is not a Syncthing device ID")):
        assert main(["guide", str(spec), *arguments, "-o", str(tmp_path / "x")]) == 2
        assert message in capsys.readouterr().err


def test_a_pdf_handout_reads_back_with_the_folders_in_order(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:  # outside CI only: scripts/setup installs poppler-utils, and under
        # CI=true a skip fails the run (tests/conftest.py)
        pytest.skip("pdftotext is not installed (apt install poppler-utils)")
    assert main(["guide", str(EXAMPLE), "--person", "fkabore", "--lang", "fr", "--format",
                 "pdf", "--nas-device-id", DEVICE, "-o", str(tmp_path)]) == 0, \
        capsys.readouterr().err
    pdf = tmp_path / "fkabore.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = subprocess.run([pdftotext, "-raw", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    spec = load_spec(EXAMPLE).spec
    table = resolve_rights(spec)
    person = handout(spec, table, "fkabore")
    # Each folder on a line of its own, in reading order: every line naming a folder, in
    # the order the PDF gives them, is the handout's lists one after the other.
    folders = {folder.display_path for folder in table.folders}
    assert [line for line in text.splitlines() if line in folders] == [
        *person.change, *person.read, *person.through], text
    assert "Les dossiers que vous pouvez modifier" in text and "Bénin" in text
    assert DEVICE in text.replace("\n", "")
    # And for someone with all three lists.
    assert main(["guide", str(EXAMPLE), "--person", "cleroy", "--format", "pdf", "-o",
                 str(tmp_path)]) == 0
    person = handout(spec, table, "cleroy")
    assert person.change and person.read and person.through
    text = subprocess.run([pdftotext, "-raw", str(tmp_path / "cleroy.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert [line for line in text.splitlines() if line in folders] == [
        *person.change, *person.read, *person.through], text


def test_on_a_shared_nas_the_handout_names_what_people_type() -> None:
    text = SMALL.replace("organization: {id: asso,", "organization: {id: asso, "
                         "account_prefix: as-,")
    spec = load_spec_text(text, "s.yml").spec
    page = render_html(handout(spec, resolve_rights(spec), "zoe"))
    parsed = read_handout(page)
    assert parsed.login == "as-zoe"
    assert parsed.lists["change"] == ["as-R&D été"]
    assert "\\\\nas.asso.lan\\as-R&D été" in "".join(parsed.text)
    assert "<code>\\\\nas.asso.lan\\as-R&amp;D été</code>" in page  # set apart, escaped


@pytest.mark.parametrize(("line", "message"), [
    ('contact: "Zoé \u202e32 555"', "people cannot see"),
    ('contact: "a\\nb"', "line break or control character"),
    ("server: a..b", "not a name people can type to reach the NAS"),
    ('server: "\\\\\\\\nas"', "not a name people can type to reach the NAS"),
    ("language: de", "language"),
])
def test_the_handout_fields_of_the_organisation_are_checked(line: str, message: str) -> None:
    from nasops.errors import SpecError  # noqa: PLC0415

    text = SMALL.replace("server: nas.asso.lan}", f"server: nas.asso.lan, {line}}}") \
        if not line.startswith(("server", "contact")) else SMALL.replace(
            "contact: \"Zoé Martin <zoe@asso.example>\", server: nas.asso.lan}",
            f"{line}}}" if line.startswith("server") else
            f"{line}, server: nas.asso.lan}}")
    with pytest.raises(SpecError) as raised:
        load_spec_text(text, "s.yml")
    assert message in str(raised.value)
    assert load_spec_text(SMALL.replace("Zoé Martin <zoe@asso.example>", "+32 2 555 01 23"),
                          "s.yml").spec.organization.contact == "+32 2 555 01 23"
