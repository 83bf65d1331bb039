"""The directory: system names, memberships and how access keys find their principal."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasops.spec import load_spec, load_spec_text
from nasops.spec.directory import Principal, build_directory

EXAMPLE = Path(__file__).parents[2] / "inventory" / "example" / "wsm.yml"
PREFIXED = """
organization: {id: tiny, account_prefix: tiny-}
groups:
  - name: Équipe terrain
  - name: Administration & finances
    system_name: admin-finances
users:
  - {login: alice, name: Alice Martin, groups: [Équipe terrain, équipe terrain, admin-finances]}
  - {login: bob, state: disabled, groups: [ÉQUIPE TERRAIN]}
"""


def test_example_system_names_are_derived_or_explicit() -> None:
    directory = build_directory(load_spec(EXAMPLE).spec)
    assert directory.groups["Cellule Amérique latine"].system_name == "cellule-amerique-latine"
    assert directory.groups["Administration & finances"].system_name == "admin-finances"
    assert directory.groups["Plaidoyer & recherche"].system_name == "plaidoyer"
    assert directory.users["mlsimon"].system_name == "mlsimon"


def test_example_memberships_follow_users() -> None:
    directory = build_directory(load_spec(EXAMPLE).spec)
    assert directory.groups["Administration & finances"].members == ("smertens", "kdewit",
                                                                     "hdupont")
    assert directory.users["kdewit"].groups == ("Administration & finances",
                                                "Cellule Amérique latine")
    assert directory.users["ojanssens"].enabled is False
    assert directory.users["fkabore"].full_name == "François Kaboré"


def test_prefix_applies_to_users_and_groups() -> None:
    directory = build_directory(load_spec_text(PREFIXED).spec)
    assert directory.groups["Équipe terrain"].system_name == "tiny-equipe-terrain"
    assert directory.groups["Administration & finances"].system_name == "tiny-admin-finances"
    assert directory.users["alice"].system_name == "tiny-alice"
    assert directory.system_name(Principal("user", "bob")) == "tiny-bob"
    assert directory.system_name(Principal("group", "Équipe terrain")) == "tiny-equipe-terrain"


def test_a_group_listed_twice_in_any_case_is_one_membership() -> None:
    directory = build_directory(load_spec_text(PREFIXED).spec)
    assert directory.users["alice"].groups == ("Équipe terrain", "Administration & finances")
    assert directory.groups["Équipe terrain"].members == ("alice", "bob")


@pytest.mark.parametrize(("key", "principal"), [
    ("Équipe terrain", Principal("group", "Équipe terrain")),
    ("ÉQUIPE TERRAIN", Principal("group", "Équipe terrain")),
    ("equipe-terrain", Principal("group", "Équipe terrain")),
    ("admin-finances", Principal("group", "Administration & finances")),
    ("administration & FINANCES", Principal("group", "Administration & finances")),
    ("alice", Principal("user", "alice")),
    ("ALICE", Principal("user", "alice")),
])
def test_access_keys_resolve_in_any_spelling(key: str, principal: Principal) -> None:
    directory = build_directory(load_spec_text(PREFIXED).spec)
    assert directory.resolve(key) == principal


def test_principal_labels_mark_users() -> None:
    assert Principal("group", "Direction").label() == "Direction"
    assert Principal("user", "alice").label() == "@alice"
