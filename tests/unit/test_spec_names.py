"""Name rules: Windows-safe folders, Samba shares, POSIX logins and groups, slugs, hints."""

from __future__ import annotations

import pytest

from nasops.spec.names import (
    folder_name_problem,
    login_problem,
    posix_group_problem,
    share_name_problem,
    slugify,
    suggestion,
)


@pytest.mark.parametrize("name", [
    "Amérique latine", "Financiën", "Rapports de mission", "République dominicaine",
    "Conseil d'administration", "2024", "Budget 2024 (final)", "Ñandutí — version définitive",
    "CONSOLE", "Contrats", "COM10", "LPT", "nul-report", "a.b", ".hidden", "x" * 255,
])
def test_folder_names_people_use_are_accepted(name: str) -> None:
    assert folder_name_problem(name) is None


@pytest.mark.parametrize("character", list('\\/:*?"<>|'))
def test_each_windows_forbidden_character_is_named(character: str) -> None:
    name = f"Fin{character}ances"
    expected = f"'{name}' contains {character}, which Windows does not allow in folder names"
    assert folder_name_problem(name) == expected


def test_several_forbidden_characters_are_listed_once_each() -> None:
    assert folder_name_problem("a:b:c?") == ("'a:b:c?' contains : ?, which Windows does not "
                                              "allow in folder names")


@pytest.mark.parametrize("name", ["Reports.", "Reports ", "Reports. ", "..."])
def test_trailing_dot_or_space_is_refused(name: str) -> None:
    problem = folder_name_problem(name)
    assert problem is not None
    assert "ends with a dot or a space" in problem or "is not a folder name" in problem


@pytest.mark.parametrize(("name", "device"), [
    ("CON", "CON"), ("con", "CON"), ("Prn", "PRN"), ("AUX", "AUX"), ("NUL", "NUL"),
    ("COM1", "COM1"), ("com9", "COM9"), ("LPT1", "LPT1"), ("LPT9", "LPT9"),
    ("con.txt", "CON"), ("NUL.tar.gz", "NUL"), ("aux .doc", "AUX"), ("COM¹", "COM¹"),
])
def test_windows_device_names_are_refused(name: str, device: str) -> None:
    assert folder_name_problem(name) == f"'{name}' is a reserved device name on Windows ({device})"


@pytest.mark.parametrize(("name", "words"), [
    ("", "a folder name cannot be empty"),
    (".", "'.' is not a folder name"),
    ("..", "'..' is not a folder name"),
    ("../Finances", "climbs out of its parent"),
    ("a/../b", "climbs out of its parent"),
    ("..\\Finances", "climbs out of its parent"),
    ("/srv/nas/Finances", "is an absolute path"),
    ("Tab\there", "contains a control character"),
    (" Reports", "starts with a space"),
    ("é" * 128, "is longer than 255 bytes"),
])
def test_other_folder_problems(name: str, words: str) -> None:
    problem = folder_name_problem(name)
    assert problem is not None
    assert words in problem


@pytest.mark.parametrize("name", ["homes", "Global", "PRINTERS", "print$", "IPC$"])
def test_samba_reserved_share_names(name: str) -> None:
    assert share_name_problem(name) == f"'{name}' is reserved by Samba; choose another share name"


@pytest.mark.parametrize("name", ["Projets [2024]", "a=b", "a;b", "a,b", "100%"])
def test_samba_share_name_characters(name: str) -> None:
    problem = share_name_problem(name)
    assert problem is not None
    assert "which Samba share names cannot hold" in problem


def test_share_names_follow_folder_rules_and_length() -> None:
    assert share_name_problem("Éducation") is None
    assert share_name_problem("CON") == "'CON' is a reserved device name on Windows (CON)"
    assert share_name_problem("x" * 81) == f"'{'x' * 81}' is longer than 80 characters"


@pytest.mark.parametrize("login", ["alice", "m.dubois", "k_janssens", "jean-pierre", "_svc",
                                   "a" * 32, "bob2"])
def test_valid_logins(login: str) -> None:
    assert login_problem(login) is None


@pytest.mark.parametrize(("login", "message"), [
    ("Bob", "'Bob' has capital letters; logins are lowercase (try 'bob')"),
    ("josé", "'josé' has accents or letters outside a-z, which logins cannot have (try 'jose')"),
    ("bob peeters", "'bob peeters' contains a space, which logins cannot have "
                    "(try 'bob.peeters')"),
    ("a" * 33, f"'{'a' * 33}' is longer than 32 characters; choose a shorter login"),
    ("2bob", "'2bob' is not a valid login: use lowercase letters, digits, '.', '-' or '_', "
             "starting with a letter"),
    ("", "'' is not a valid login: use lowercase letters, digits, '.', '-' or '_', "
         "starting with a letter"),
    ("李", "'李' has accents or letters outside a-z, which logins cannot have"),
])
def test_invalid_logins_are_explained(login: str, message: str) -> None:
    assert login_problem(login) == message


@pytest.mark.parametrize(("name", "valid"), [
    ("admin-finances", True), ("cellule_asie", True), ("g-2024", True),
    ("Admin", False), ("a.b", False), ("1team", False), ("", False), ("x" * 33, False),
])
def test_posix_group_names(name: str, valid: bool) -> None:
    assert (posix_group_problem(name) is None) is valid


@pytest.mark.parametrize(("text", "slug"), [
    ("Cellule Amérique latine", "cellule-amerique-latine"),
    ("Administration & finances", "administration-finances"),
    ("Financiën", "financien"),
    ("Plaidoyer & recherche", "plaidoyer-recherche"),
    ("  Équipe  terrain  ", "equipe-terrain"),
    ("2024 team", "g-2024-team"),
    ("Ñandutí", "nanduti"),
    ("李", ""),
    ("---", ""),
])
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


@pytest.mark.parametrize("text", ["Cellule Afrique", "Équipe", "a b c", "Über-Team 2"])
def test_slugs_are_valid_posix_group_names(text: str) -> None:
    assert posix_group_problem(slugify(text)) is None


def test_suggestion_finds_close_names_and_other_cases() -> None:
    candidates = ["Cellule Afrique", "Cellule Asie", "Direction"]
    assert suggestion("cellule-afirque", candidates) == " (did you mean 'Cellule Afrique'?)"
    assert suggestion("Cellule Afirque", candidates) == " (did you mean 'Cellule Afrique'?)"
    assert suggestion("direction", candidates) == " (did you mean 'Direction'?)"
    assert suggestion("Finance", candidates) == ""
    assert suggestion("anything", []) == ""
