"""The admin guide's pictures (docs/guide-admin.md, docs/pictures/) are drawn from specs by
scripts/guide-pictures, never edited by hand; the inheritance picture says what the rights
resolution says."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from defusedxml import ElementTree

from nasops.guide.diagram import first_name, inheritance_svg
from nasops.spec import load_spec, load_spec_text
from nasops.spec.rights import Access, resolve_rights

REPOSITORY = Path(__file__).resolve().parents[2]
PICTURES = REPOSITORY / "docs" / "pictures"
SCRIPT = REPOSITORY / "scripts" / "guide-pictures"
SVG = "{http://www.w3.org/2000/svg}"


def test_the_committed_pictures_are_what_the_specs_draw() -> None:
    if shutil.which("pdftoppm") is None:  # outside CI only: scripts/setup installs
        # poppler-utils, and under CI=true a skip fails the run (tests/conftest.py)
        pytest.skip("pdftoppm is not installed (apt install poppler-utils)")
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True,
                          text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr


def test_the_guide_shows_the_drawn_change_and_every_picture() -> None:
    guide = (REPOSITORY / "docs" / "guide-admin.md").read_text(encoding="utf-8")
    drawn = (PICTURES / "one-line-change.txt").read_text(encoding="utf-8")
    assert f"```\n{drawn}```" in guide
    # The plan the lab NAS printed (tests/lab/test_provision_cli.py checks it is still so).
    planned = (PICTURES / "one-line-change-plan.txt").read_text(encoding="utf-8")
    assert f"```\n{planned}```" in guide
    for name in ("access-report.png", "inheritance.svg", "one-line-change.txt",
                 "one-line-change-plan.txt", "inheritance.yml"):
        assert f"pictures/{name})" in guide


def test_the_inheritance_picture_says_what_the_rights_resolution_says() -> None:
    spec = load_spec(PICTURES / "inheritance.yml").spec
    table = resolve_rights(spec)
    root = ElementTree.fromstring(inheritance_svg(spec, "t"))
    texts = [element.text or "" for element in root.iter(f"{SVG}text")]
    first = {login: first_name(table, login) for login in table.directory.users}
    words = {"can change": Access.WRITE, "can only read": Access.READ,
             "only passes through": Access.TRAVERSE}
    for folder in table.folders:
        name = folder.path[-1] + ("  (private)" if not folder.inherit and folder.parent
                                  is not None else "")
        result = texts[texts.index(name) + 2]  # name, what the spec writes, who gets what
        shown = {}
        for part in result.split(" · "):
            label, _, people = part.partition(": ")
            shown[words[label]] = sorted(people.split(", "))
        who = table.who(folder.index)
        expected = {access: sorted(first[login] for login in who[access])
                    for access in words.values() if who[access]}
        assert shown == expected, folder.display_path
    # The two things the guide's text points at.
    assert "can change: Ben · can only read: Cléo, Dan · only passes through: Ana" in texts
    assert re.search(r"spec: .*@dan: read", " ".join(texts))


def test_a_person_without_a_name_is_shown_by_login() -> None:
    text = (PICTURES / "inheritance.yml").read_text(encoding="utf-8").replace(
        "{login: dan, name: Dan Peeters, groups: [Team]}", "{login: dan, groups: [Team]}")
    table = resolve_rights(load_spec_text(text, "s.yml").spec)
    assert first_name(table, "dan") == "dan" and first_name(table, "ana") == "Ana"
