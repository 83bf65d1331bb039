"""Escaping where values are written (defence in depth behind `nasops validate`).

Property tests: arbitrary text goes into a systemd unit line, Syncthing's config.xml or a CSV
cell, and the written file read back the way systemd, an XML parser or a spreadsheet reads it
gives exactly that text (or, for CSV, never a formula).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import jinja2
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from hypothesis import given, settings
from hypothesis import strategies as st

from nasops.report.access import render_csv, spreadsheet_cell
from nasops.spec.directory import build_directory
from nasops.spec.models import Spec
from nasops.spec.rights import resolve_rights

ROLES = Path(__file__).parents[2] / "roles"
SYSTEMD_SEPARATORS = " \t\n\r"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Text systemd units can hold inside quotes once % is doubled: no control character (a line
# break ends the setting), no quote or backslash (the role refuses those two).
UNIT_TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs"), exclude_characters='"\\'),
                    min_size=1)
# Text XML 1.0 can hold at all (no other control characters, no surrogates or non-characters).
XML_TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs", "Cn"),
                                 include_characters="\t\n\r"))


def systemd_words(value: str) -> list[str]:
    """Split a unit setting's value the way systemd's extract_first_word does with
    EXTRACT_UNQUOTE (quotes anywhere in a word), then resolve the `%%` specifier."""
    words, word, quote, in_word = [], "", "", False
    for character in value:
        if quote:
            if character == quote:
                quote = ""
            else:
                word += character
        elif character in SYSTEMD_SEPARATORS:
            if in_word:
                words.append(word)
            word, in_word = "", False
        elif character in "\"'":
            quote, in_word = character, True
        else:
            word, in_word = word + character, True
    assert not quote, f"unterminated quote in {value!r}"
    if in_word:
        words.append(word)
    resolved = []
    for item in words:
        assert "%" not in item.replace("%%", ""), f"a bare specifier in {item!r}"
        resolved.append(item.replace("%%", "%"))
    return resolved


def render_role_template(role: str, name: str, variables: dict[str, Any]) -> str:
    """Render one role template the way Ansible's template action (and nasops.nas.host's action
    plugin) does: its filters, trim_blocks, and backslashes in the file left as they are."""
    text = (ROLES / role / "templates" / name).read_text(encoding="utf-8")
    templar = Templar(loader=DataLoader(), variables=variables)
    return str(templar.template(trust_as_template(text), escape_backslashes=False))


def backup_unit_lines(local_path: str) -> dict[str, list[str]]:
    """Render the backup services' sandbox lines for one local repository."""
    text = render_role_template("nas_backup", "hardening.conf.j2", {
        "nas_backup_state_directory": "/var/lib/nasops/backup",
        "nas_backup_scratch_directory": "/var/lib/nasops/drill",
        "nas_backup_cache_directory": "/var/cache/nasops/restic",
        "nas_backup_repositories": [{"kind": "local", "local_path": local_path}]})
    lines: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            lines.setdefault(key, []).append(value)
    return lines


@settings(max_examples=150, deadline=None)
@given(UNIT_TEXT)
def test_a_repository_path_is_one_word_in_read_write_paths(text: str) -> None:
    path = "/" + text
    lines = backup_unit_lines(path)
    assert [systemd_words(value) for value in lines["ReadWritePaths"]] == [
        ["/var/lib/nasops/backup", "/var/lib/nasops/drill", "/var/cache/nasops/restic"],
        ["-" + path]]


def test_a_space_in_a_repository_path_cannot_make_root_writable() -> None:
    lines = backup_unit_lines("/mnt/usb /")
    assert systemd_words(lines["ReadWritePaths"][1]) == ["-/mnt/usb /"]


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1))
def test_a_schedule_stays_one_setting_with_its_percent_signs(schedule: str) -> None:
    text = render_role_template("nas_backup", "nasops-backup-repository.timer.j2", {
        "ansible_managed": "managed", "nas_backup_randomized_delay": "30min",
        "item": {"name": "usb", "schedule": schedule}})
    values = [line.partition("=")[2] for line in text.splitlines()
              if line.startswith("OnCalendar=")]
    assert len(values) == 1
    assert "%" not in values[0].replace("%%", "")  # no specifier systemd would expand
    assert values[0].replace("%%", "%") == schedule


def render_syncthing_config(listen_addresses: list[str], gui_address: str) -> str:
    # As Ansible renders it: no autoescape, the template escapes for XML itself.
    environment = jinja2.Environment(  # noqa: S701
        loader=jinja2.FileSystemLoader(ROLES / "nas_sync/templates"), trim_blocks=True,
        undefined=jinja2.StrictUndefined)
    return environment.get_template("config.xml.j2").render(
        nas_sync_gui_address=gui_address, nas_sync_listen_addresses=listen_addresses,
        nas_sync_global_discovery=False, nas_sync_local_discovery=False,
        nas_sync_relays=False, nas_sync_nat_traversal=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(XML_TEXT, max_size=3), XML_TEXT)
def test_syncthing_config_reads_back_exactly_what_was_written(addresses: list[str],
                                                              gui: str) -> None:
    root = ElementTree.fromstring(render_syncthing_config(addresses, gui))  # noqa: S314 - ours
    assert [element.text or "" for element in root.iter("listenAddress")] == addresses
    assert (root.findtext("gui/address") or "") == gui
    assert root.findtext("options/globalAnnounceEnabled") == "false"


def test_an_xml_fragment_cannot_turn_discovery_on() -> None:
    fragment = "tcp://0.0.0.0:22000</listenAddress><globalAnnounceEnabled>true"
    config = render_syncthing_config([fragment], "127.0.0.1:8384")
    root = ElementTree.fromstring(config)  # noqa: S314 - our own rendered file
    assert [element.text for element in root.iter("globalAnnounceEnabled")] == ["false"]


def csv_cells(cell: str) -> list[str]:
    output = io.StringIO()
    csv.writer(output, lineterminator="\n").writerow([cell, "read"])
    return next(csv.reader(io.StringIO(output.getvalue())))


@settings(max_examples=300)
@given(st.text())
def test_a_csv_cell_is_never_a_formula_and_keeps_its_text(text: str) -> None:
    cell = spreadsheet_cell(text)
    read_back = csv_cells(cell)
    assert read_back == [cell, "read"]
    assert not read_back[0].lstrip().startswith(FORMULA_STARTS)
    assert not read_back[0].startswith(FORMULA_STARTS)
    # Carriage returns become line feeds (both are a line break in a cell).
    plain = text.replace("\r\n", "\n").replace("\r", "\n")
    assert read_back[0] in (plain, "'" + plain)


def test_the_access_report_csv_neutralises_names_from_the_spec() -> None:
    spec = Spec.model_validate({
        "organization": {"id": "tiny"},
        "groups": [{"name": "Team"}],
        "users": [{"login": "alice", "name": "Alice", "groups": ["Team"]}],
        "shares": [{"name": "=HYPERLINK(1)", "access": {"Team": "read"},
                    "folders": [{"name": "@SUM(A1)"}]}]})
    # A name nasops validate refuses, forced in to test the second line of defence.
    user = spec.users[0].model_copy(update={"name": "-2+3"})
    spec = spec.model_copy(update={"users": [user]})
    rows = list(csv.reader(io.StringIO(render_csv(spec, resolve_rights(
        spec, build_directory(spec))))))
    assert rows[1:] == [["alice", "'-2+3", "'=HYPERLINK(1)", "read"],
                        ["alice", "'-2+3", "'=HYPERLINK(1)/@SUM(A1)", "read"]]


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from("a %U\\\n\r\t")) | st.text())
def test_a_share_comment_stays_one_plain_smb_conf_setting(comment: str) -> None:
    text = render_role_template("nas_shares", "nasops-shares.conf.j2", {
        "ansible_managed": "managed", "nas_shares_create_mask": "0660",
        "nas_shares_directory_mask": "2770",
        "nas_shares_definitions": [{"name": "Projects", "path": "/srv/nas/tiny/Projects",
                                    "comment": comment, "valid_users": ["@team"]}]})
    lines = text.splitlines()
    position = next(index for index, line in enumerate(lines)
                    if line.startswith("   comment ="))
    assert "%" not in lines[position]
    assert not lines[position].rstrip().endswith("\\")  # no continuation line
    assert lines[position + 1] == "   valid users = @team"
