"""Names people cannot tell apart (issue 19): properties over many generated names.

Unicode normalisation (NFC at load), Samba's case-insensitivity (one character at a time,
'ß' stays 'ß'), invisible characters refused in every name, and no name ever ends in a
traceback (lone surrogates included).
"""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nasops.errors import SpecError
from nasops.spec import load_spec_text
from nasops.spec.accounts import SYSTEM_ACCOUNTS, system_account_problem
from nasops.spec.names import (
    folder_name_problem,
    invisible_character_problem,
    samba_case_key,
    share_name_problem,
)

INVISIBLE_CATEGORIES = ("Cf", "Zl", "Zp", "Co", "Cn")
# Letters people type in names (accented Latin, Greek, Cyrillic, Devanagari, CJK), digits,
# ordinary spaces and a few punctuation marks.
# A name starts with a letter: other rules (a spreadsheet formula's '-', '=') are not tested
# here; nor is it the login of spec_text's one person.
LETTERS = st.characters(categories=("Lu", "Ll", "Lt", "Lo"))
VISIBLE = st.characters(categories=("Lu", "Ll", "Lt", "Lo", "Nd"))
# NFC, as the loader gives every name: 'Ω' (OHM SIGN) is 'Ω' (OMEGA) by then, and only the
# latter lower-cases and upper-cases back to itself.
NAMES = st.builds(str.__add__, LETTERS, st.text(st.one_of(VISIBLE, st.sampled_from(" -_.()&'")),
                                                max_size=30)).map(
    lambda name: unicodedata.normalize("NFC", name)).filter(
    lambda name: folder_name_problem(name) is None and name.casefold() != "alice")
INVISIBLE = st.one_of(
    st.characters(categories=INVISIBLE_CATEGORIES),
    st.characters(categories=("Zs",)).filter(lambda char: char != " "),
    st.sampled_from(["\u200b", "\u200d", "\u2060", "\ufeff", "\u202e", "\u2066", "\u00a0",
                     "\u2028", "\u2029", "\U000e0001"]),
)
SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


def spec_text(folders: list[str], *, group: str = "Team", reference: str = "Team") -> str:
    """Return a small spec with these sibling folders, one group and a reference to it."""
    items = "".join(f"      - name: {json.dumps(name)}\n" for name in folders)
    return (f"version: 1\norganization: {{id: tiny}}\ngroups:\n  - name: {json.dumps(group)}\n"
            "    system_name: team\n"
            f"users:\n  - login: alice\n    groups: [{json.dumps(reference)}]\n"
            f"shares:\n  - name: Projects\n    access: {{{json.dumps(reference)}: write}}\n"
            f"    folders:\n{items}")


def problems(text: str) -> list[str]:
    try:
        load_spec_text(text, "case.yml")
    except SpecError as error:
        return [problem.message for problem in error.problems]
    return []


@SETTINGS
@given(NAMES)
def test_a_name_written_decomposed_is_the_same_name(name: str) -> None:
    """A group written in NFD matches its NFC reference, and its folder keeps NFC."""
    decomposed, composed = unicodedata.normalize("NFD", name), unicodedata.normalize("NFC", name)
    if len(composed) > 64:
        return
    text = spec_text([decomposed], group=decomposed, reference=composed)
    assert problems(text) == []
    loaded = load_spec_text(text)
    assert loaded.spec.groups[0].name == composed
    assert loaded.spec.shares[0].folders[0].name == composed


@SETTINGS
@given(NAMES)
def test_siblings_differing_only_in_normalisation_are_refused(name: str) -> None:
    decomposed, composed = unicodedata.normalize("NFD", name), unicodedata.normalize("NFC", name)
    if decomposed == composed:
        return
    found = problems(spec_text([composed, decomposed]))
    assert any("appears twice here" in message and "NFC and NFD" in message
               for message in found), found


@SETTINGS
@given(NAMES)
def test_siblings_differing_only_in_case_are_refused_the_way_samba_sees_them(name: str) -> None:
    other = "".join(char.upper() if len(char.upper()) == 1 else char for char in name)
    if other == name:
        other = "".join(char.lower() if len(char.lower()) == 1 else char for char in name)
    if other == name or samba_case_key(other) != samba_case_key(name):
        return
    found = problems(spec_text([name, other]))
    assert any("appears twice here" in message for message in found), found


@SETTINGS
@given(NAMES)
@example("A\u2126").via("OHM SIGN: a hypothesis find; NFC makes it OMEGA")
@example("\u212akelvin\u212b")
@example("A\u03f4").via("THETA SYMBOL: a hypothesis find; lower θ, whose upper is Θ, not ϴ")
def test_samba_case_key_maps_one_character_to_one(name: str) -> None:
    name = unicodedata.normalize("NFC", name)  # the explicit examples above are not NFC
    key = samba_case_key(name)
    assert len(key) == len(name)
    assert samba_case_key(key) == key
    # Lower and upper case of a name are one name to Samba unless a character's cases do not
    # round-trip one to one (ß → SS; ϴ → θ → Θ: Samba's table keeps ϴ and Θ apart too).
    assert samba_case_key(name.lower()) == samba_case_key(name.upper()) or any(
        len(char.upper()) != 1 or len(char.lower()) != 1
        or char.lower().upper() != char.upper() for char in name)


@pytest.mark.parametrize(("first", "second"), [
    ("Straße", "STRASSE"), ("Maße", "Masse"), ("ﬁnances", "FINANCES"), ("İstanbul", "Istanbul"),
])
def test_names_samba_keeps_apart_are_both_accepted(first: str, second: str) -> None:
    """casefold() would merge these; Samba's one-to-one upper-casing does not."""
    assert samba_case_key(first) != samba_case_key(second)
    assert problems(spec_text([first, second])) == []


@SETTINGS
@given(NAMES, INVISIBLE, st.integers(min_value=0))
def test_an_invisible_character_anywhere_in_a_name_is_refused(name: str, invisible: str,
                                                               where: int) -> None:
    position = where % (len(name) + 1)
    hidden = name[:position] + invisible + name[position:]
    for rule in (invisible_character_problem, folder_name_problem, share_name_problem):
        problem = rule(hidden)
        assert problem is not None, (rule.__name__, hidden)
    message = invisible_character_problem(hidden) or ""
    assert f"U+{ord(invisible):04X}" in message
    assert invisible not in message  # shown as \\uXXXX, never itself


@SETTINGS
@given(NAMES)
def test_visible_names_have_no_invisible_character_problem(name: str) -> None:
    assert invisible_character_problem(name) is None


@SETTINGS
@given(NAMES, INVISIBLE)
def test_an_invisible_character_in_a_group_or_folder_is_refused_at_load(name: str,
                                                                        invisible: str) -> None:
    hidden = name + invisible + "x"
    # The loader normalises to NFC first: U+2000 (en quad) becomes U+2002 (en space).
    code = f"U+{ord(unicodedata.normalize('NFC', invisible)):04X}"
    assert any(code in message for message in problems(spec_text([hidden])))
    text = spec_text(["Reports"], group=hidden, reference=hidden)
    assert any(code in message for message in problems(text))


@SETTINGS
@given(st.text(max_size=40))
def test_no_name_rule_ever_raises(name: str) -> None:
    """Every text, lone surrogates included, gets an answer, never an exception."""
    for rule in (folder_name_problem, share_name_problem, invisible_character_problem):
        rule(name)
    samba_case_key(name)


@SETTINGS
@given(st.integers(min_value=0xD800, max_value=0xDFFF), st.sampled_from(["folder", "group"]))
def test_a_lone_surrogate_escape_is_a_located_problem(code: int, where: str) -> None:
    escaped = f"Reports\\u{code:04x}"
    text = (spec_text([escaped]) if where == "folder"
            else spec_text(["Reports"], group=escaped, reference="Team"))
    text = text.replace(f'\\\\u{code:04x}', f"\\u{code:04x}")  # json.dumps doubled it
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "case.yml")
    assert any("lone surrogate" in problem.message and problem.line > 1
               for problem in caught.value.problems)


@pytest.mark.parametrize("name", sorted(SYSTEM_ACCOUNTS))
def test_every_system_account_is_refused_as_a_login(name: str) -> None:
    assert system_account_problem(name) is not None
    text = spec_text(["Reports"]).replace("login: alice", f"login: {name}")
    found = problems(text)
    assert any(f"'{name}'" in message and "system" in message for message in found), found
