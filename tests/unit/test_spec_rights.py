"""Rights resolution on small, readable cases and on the reference NGO."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasops.spec import load_spec, load_spec_text
from nasops.spec.directory import Principal
from nasops.spec.rights import Access, RightsTable, resolve_rights

EXAMPLE = Path(__file__).parents[2] / "inventory" / "example" / "wsm.yml"
SMALL = """
organization: tiny
groups: [{name: Team}, {name: Finance}, {name: Board}]
users:
  - {login: alice, groups: [Team]}
  - {login: bob, groups: [Team, Finance]}
  - {login: carol, groups: [Board]}
  - {login: dave, groups: [Team], state: disabled}
  - {login: erin, groups: []}
shares:
  - name: Projects
    access: {Team: write, Board: read}
    folders:
      - name: Reports
        access: {Team: read}
        folders:
          - name: Public
            access: {erin: read}
      - name: Finances
        inherit: false
        access: {Finance: write, alice: read}
        folders:
          - name: Salaries
            access: {alice: none}
          - name: Audit
            access: {Board: read}
"""
T, R, W, N = Access.TRAVERSE, Access.READ, Access.WRITE, Access.NONE


@pytest.fixture(scope="module")
def small() -> RightsTable:
    return resolve_rights(load_spec_text(SMALL).spec)


def access(table: RightsTable, login: str, path: str) -> Access:
    return table.access[login][table.folder_index(path)]


@pytest.mark.parametrize(("login", "path", "expected"), [
    ("alice", "Projects", W),
    ("alice", "Projects/Reports", R),               # own entry of the folder overrides
    ("alice", "Projects/Reports/Public", R),        # and is inherited further down
    ("bob", "Projects/Reports", R),
    ("carol", "Projects/Reports", R),               # Board's read is inherited
    ("alice", "Projects/Finances", R),              # private, but alice is named there
    ("alice", "Projects/Finances/Salaries", N),     # her own 'none' beats her groups
    ("alice", "Projects/Finances/Audit", R),
    ("bob", "Projects/Finances", W),
    ("bob", "Projects/Finances/Salaries", W),
    ("carol", "Projects/Finances", T),              # private: Board gets in only below
    ("carol", "Projects/Finances/Audit", R),
    ("carol", "Projects/Finances/Salaries", N),
    ("erin", "Projects", T),
    ("erin", "Projects/Reports", T),
    ("erin", "Projects/Reports/Public", R),
    ("erin", "Projects/Finances", N),
])
def test_small_tree(small: RightsTable, login: str, path: str, expected: Access) -> None:
    assert access(small, login, path) is expected


def test_disabled_users_have_nothing(small: RightsTable) -> None:
    assert set(small.access["dave"]) == {N}


def test_folder_entries_and_traverse_principals(small: RightsTable) -> None:
    finances = small.folders[small.folder_index("Projects/Finances")]
    assert finances.inherit is False
    assert finances.entries == {Principal("group", "Finance"): "write",
                                Principal("user", "alice"): "read"}
    assert finances.traverse == {Principal("group", "Board")}
    reports = small.folders[small.folder_index("Projects/Reports")]
    assert Principal("user", "erin") in reports.traverse
    assert Principal("user", "erin") in small.folders[0].traverse


def test_a_users_own_none_keeps_the_way_to_a_folder_their_group_opens() -> None:
    table = resolve_rights(load_spec_text("""
organization: tiny
groups: [{name: Team}]
users: [{login: alice, groups: [Team]}]
shares:
  - name: Projects
    access: {alice: none}
    folders:
      - {name: Open, access: {alice: read}}
""").spec)
    assert table.access["alice"] == [T, R]
    assert Principal("user", "alice") in table.folders[0].traverse


def test_who_groups_logins_by_access(small: RightsTable) -> None:
    who = small.who(small.folder_index("Projects/Finances"))
    assert sorted(who[W]) == ["bob"]
    assert sorted(who[R]) == ["alice"]
    assert sorted(who[T]) == ["carol"]
    assert sorted(who[N]) == ["dave", "erin"]


def test_tree_shape(small: RightsTable) -> None:
    paths = [folder.display_path for folder in small.folders]
    assert paths == ["Projects", "Projects/Reports", "Projects/Reports/Public",
                     "Projects/Finances", "Projects/Finances/Salaries",
                     "Projects/Finances/Audit"]
    assert small.folders[0].children == [1, 3]
    assert small.folders[4].parent == 3
    assert small.folders[4].share == "Projects"
    with pytest.raises(KeyError):
        small.folder_index("Projects/Nope")


def test_reference_ngo_partners_never_see_finances() -> None:
    table = resolve_rights(load_spec(EXAMPLE).spec)
    for share in ("Afrique", "Amérique latine", "Asie"):
        finances = table.folder_index(f"{share}/Finances")
        for login in ("gvermeulen", "ofaye", "dlambert", "rsingh", "cleroy", "jpeeters"):
            assert table.access[login][finances] is N, (login, share)
        assert table.access["mlsimon"][finances] is R
        assert table.access["smertens"][finances] is W


def test_reference_ngo_exceptions() -> None:
    table = resolve_rights(load_spec(EXAMPLE).spec)
    assert access(table, "pvandamme", "Afrique/Finances") is R
    assert access(table, "pvandamme", "Amérique latine/Finances") is N
    assert access(table, "cleroy", "Afrique") is T
    assert access(table, "cleroy", "Afrique/Rapports de mission") is R
    assert access(table, "gvermeulen", "Afrique/Partenaires/Bénin") is W
    assert access(table, "cleroy", "Éducation/Vormingen") is R
    assert access(table, "kdewit", "Direction/Financiën") is W
    assert access(table, "kdewit", "Direction") is T
    assert set(table.access["ojanssens"]) == {N}
