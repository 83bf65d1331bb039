"""Loading a spec: every problem at once, located; warnings; file errors; positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasops.errors import BadInputError, Problem, SpecError
from nasops.spec import load_spec, load_spec_text
from nasops.spec.yaml_source import SourceMap, format_path, parse_yaml

SEVERAL_PROBLEMS = """\
organization: {id: tiny}
groups:
  - name: Team
users:
  - login: Alice
    groups: [Taem]
shares:
  - name: Projects
    quota: 10 gigabytes
    access: {Team: rw}
"""


def problems_of(text: str) -> list[str]:
    """Given spec text, return its problems as `line:col: path: message` lines."""
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "spec.yml")
    return [problem.format().removeprefix("spec.yml:") for problem in caught.value.problems]


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    assert problems_of(SEVERAL_PROBLEMS) == [
        "5:5: users[0].login: 'Alice' has capital letters; logins are lowercase (try 'alice')",
        "6:14: users[0].groups[0]: unknown group 'Taem' (did you mean 'Team'?)",
        "9:5: shares[0].quota: '10 gigabytes' is not a size; write it like 500G, 1.5T or 750M",
        "10:14: shares[0].access.Team: 'rw' is not a level for 'Team'; use none, read, write",
    ]


def test_the_error_text_is_one_located_line_per_problem() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec_text(SEVERAL_PROBLEMS, "wsm.yml")
    lines = str(caught.value).splitlines()
    assert len(lines) == 4
    assert all(line.startswith("wsm.yml:") for line in lines)
    assert caught.value.exit_code == 2


def test_warnings_do_not_stop_a_valid_spec() -> None:
    loaded = load_spec_text("""\
organization: tiny
users:
  - login: carol
    state: disabled
    devices:
      - {name: laptop, id: DRFIW5Q-WSXQQ6H-DWEC2DC-RFJVKTQ-L2GXJ4Z-PGIWR6F-Q2JMPUH-OKMKVQY}
shares:
  - name: Board
    folders:
      - {name: Minutes, inherit: false}
""", "spec.yml")
    assert [warning.format() for warning in loaded.warnings] == [
        "spec.yml:5:5: warning: users[0].devices: this user is disabled; their devices will "
        "not be synchronised",
        "spec.yml:10:9: warning: shares[0].folders[0]: inherit: false with no access entries: "
        "only the NAS administrator can open this folder",
    ]
    assert all(warning.severity == "warning" for warning in loaded.warnings)


def test_shorthands_for_organization_and_volume() -> None:
    spec = load_spec_text("organization: wsm\nvolume: /data/nas\n").spec
    assert spec.organization.id == "wsm"
    assert spec.volume.path == "/data/nas"


def test_a_tab_inside_a_quoted_value_is_not_indentation() -> None:
    spec = load_spec_text('organization: {id: tiny, name: "Tiny\tOrg"}\n').spec
    assert spec.organization.name == "Tiny\tOrg"


def test_a_quota_given_as_a_number_is_explained() -> None:
    assert problems_of("organization: tiny\nshares:\n  - {name: P, quota: 200}\n") == [
        "3:15: shares[0].quota: quota '200' is below 1M; did you forget the unit (G, T)?"]


def test_a_decimal_quota_without_unit_is_explained() -> None:
    assert problems_of("organization: tiny\nshares:\n  - {name: P, quota: 1.5}\n") == [
        "3:15: shares[0].quota: quota '1.5' is below 1M; did you forget the unit (G, T)?"]


def test_a_number_with_a_unit_letter_stays_text_for_the_models() -> None:
    spec = load_spec_text("organization: tiny\nvolume: {size: 4T}\nshares:\n"
                          "  - {name: P, quota: 1.5T}\n").spec
    assert spec.shares[0].quota == "1.5T"
    assert spec.volume.size == "4T"


def test_a_two_part_problem_is_reported_once() -> None:
    assert problems_of("organization: tiny\nshares:\n  - name: P\n    folders:\n"
                       "      - {name: Old, renamed_from: old}\n") == [
        "5:21: shares[0].folders[0].renamed_from: renamed_from is the same as the name"]


def test_load_spec_reads_the_file_and_names_it(tmp_path: Path) -> None:
    spec_file = tmp_path / "ngo.yml"
    spec_file.write_text("organization: ngo\nusers: [{login: Bob}]\n", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_spec(spec_file)
    assert str(caught.value).startswith(f"{spec_file}:2:")


def test_load_spec_refuses_missing_files_and_directories(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such spec file"):
        load_spec(tmp_path / "missing.yml")
    with pytest.raises(BadInputError, match="is a directory, not a spec file"):
        load_spec(tmp_path)


def test_load_spec_explains_text_that_is_not_utf8(tmp_path: Path) -> None:
    spec_file = tmp_path / "latin1.yml"
    spec_file.write_bytes("organization: {id: x, name: Solidarité}\n".encode("latin-1"))
    with pytest.raises(BadInputError, match=r"not UTF-8 text .* save the file as UTF-8"):
        load_spec(spec_file)


def test_parse_yaml_records_key_and_value_positions() -> None:
    data, source = parse_yaml("a:\n  b: [x, y]\n  c:\n    - d: 1\n", "f.yml")
    assert data == {"a": {"b": ["x", "y"], "c": [{"d": 1}]}}
    assert source.position(("a", "b")) == (2, 3)
    assert source.position(("a", "b"), prefer_key=False) == (2, 6)
    assert source.position(("a", "b", 1)) == (2, 10)
    assert source.position(("a", "c", 0, "d")) == (4, 7)


def test_source_map_walks_up_to_the_nearest_known_position() -> None:
    source = SourceMap("f.yml", key_positions={("a",): (3, 1)})
    assert source.position(("a", "missing", 2)) == (3, 1)
    assert source.position(("other",)) == (1, 1)


def test_format_path() -> None:
    assert format_path(("shares", 2, "folders", 0, "access")) == "shares[2].folders[0].access"
    assert format_path(()) == ""


def test_problem_format_with_and_without_path() -> None:
    assert Problem("f.yml", 3, 5, "users[0]", "oops").format() == "f.yml:3:5: users[0]: oops"
    assert Problem("f.yml", 1, 1, "", "empty").format() == "f.yml:1:1: empty"
    warning = Problem("f.yml", 2, 1, "x", "careful", "warning")
    assert warning.format() == "f.yml:2:1: warning: x: careful"


def test_duplicate_key_points_at_the_first_one_in_flow_style() -> None:
    assert problems_of("organization: tiny\nshares: [{name: a, quota: 1G, name: b}]\n") == [
        "2:31: 'name' is set twice here (first on line 2); keep one"]


def test_duplicate_key_skips_the_same_key_deeper_in_the_tree() -> None:
    text = ("organization: tiny\nshares:\n  - folders:\n      - name: X\n"
            "    name: P\n    name: Q\n")
    assert problems_of(text) == ["6:5: 'name' is set twice here (first on line 5); keep one"]


@pytest.mark.parametrize(("text", "expected"), [
    ("a: *x\n", "1:4: invalid YAML: '*' starts a reference to an anchor that does not exist; "
                "put the value in quotes"),
    ("a: %x\n", "1:4: invalid YAML: '%' cannot start a value; put the value in quotes"),
    ("a: [x]]\n", "1:7: invalid YAML: this bracket has no matching opening bracket"),
    ("organization: x\nusers: {a: b\n", "2:8: invalid YAML: this '{' is never closed with '}'"),
])
def test_other_yaml_mistakes_in_plain_words(text: str, expected: str) -> None:
    assert problems_of(text) == [expected]


def test_a_login_repeated_with_capitals_is_also_a_duplicate() -> None:
    assert problems_of("organization: tiny\nusers:\n  - login: alice\n  - login: ALICE\n") == [
        "4:5: users[1].login: 'ALICE' has capital letters; logins are lowercase (try 'alice')",
        "4:5: users[1].login: login 'ALICE' is listed twice (first on line 3)",
    ]


def test_one_principal_twice_in_an_access_list() -> None:
    text = ("organization: tiny\ngroups: [{name: Cellule Asie}]\nusers: [{login: bob}]\n"
            "shares:\n  - name: P\n    access: {Cellule Asie: read, bob: none, BOB: read,\n"
            "             cellule-asie: write}\n")
    assert problems_of(text) == [
        "6:45: shares[0].access.BOB: 'bob' and 'BOB' are the same person; keep one of the "
        "two entries",
        "7:14: shares[0].access.cellule-asie: 'Cellule Asie' and 'cellule-asie' are the same "
        "group; keep one of the two entries",
    ]


@pytest.mark.parametrize(("volume", "expected"), [
    ("/", "2:1: volume: the shares' volume cannot be / itself; give it a folder of its own"),
    ("{path: /etc/}", "2:10: volume.path: '/etc/' is in /etc, a folder of the system (or a "
                      "volatile or pseudo file system emptied at boot); the shares' volume "
                      "needs a folder of its own"),
    ("/srv/../etc", "2:1: volume: '/srv/../etc' contains '.' or '..'; write the folder's plain "
                    "path"),
])
def test_the_volume_is_never_a_system_folder(volume: str, expected: str) -> None:
    assert problems_of(f"organization: tiny\nvolume: {volume}\n") == [expected]


@pytest.mark.parametrize("volume", ["/srv/nas", "/srv", "/data", "/mnt/disk1/nas"])
def test_ordinary_volumes_are_accepted(volume: str) -> None:
    assert load_spec_text(f"organization: tiny\nvolume: {volume}\n").spec.volume.path == volume
