"""No missing glyph: every character of every handout (each person of the example, in each
language) and of the admin guide's inheritance picture is drawn by the fonts the pages name
(DejaVu Sans and Sans Mono, as fontconfig resolves them), and a printed handout embeds only
those fonts (no fallback font was needed). Rendered by WeasyPrint (what people print); a
browser's rendering (headless Chromium) is checked in test_guide_render.py."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from nasops.guide.diagram import inheritance_svg
from nasops.guide.handout import handout, render_html, render_pdf
from nasops.spec import load_spec
from nasops.spec.rights import resolve_rights

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE = REPOSITORY / "inventory" / "example" / "wsm.yml"
SMALL = REPOSITORY / "docs" / "pictures" / "inheritance.yml"
FAMILIES = ("DejaVu Sans", "DejaVu Sans Mono")
DEVICE = "AAAAAAA-BBBBBBB-CCCCCCC-DDDDDDD-EEEEEEE-FFFFFFF-GGGGGGG-HHHHHHH"


@cache
def covered(family: str) -> frozenset[int]:
    """Return the code points the font fontconfig gives for family has a glyph for."""
    if shutil.which("fc-match") is None:  # outside CI only: scripts/setup installs
        # fontconfig, and under CI=true a skip fails the run (tests/conftest.py)
        pytest.skip("fontconfig is not installed (apt install fontconfig)")
    path = subprocess.run(["fc-match", "-f", "%{file}", family], capture_output=True,
                          text=True, check=True).stdout
    assert family.replace(" ", "") in Path(path).stem, f"{family} is not installed: {path}"
    with TTFont(path) as font:
        return frozenset(font.getBestCmap())


def _characters(markup: str) -> set[str]:
    text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", " ", markup,
                                                        flags=re.S)))
    return {character for character in text if not character.isspace()}


def _missing(markup: str) -> set[str]:
    # Every character must be drawable by each family it may be set in: sans for text,
    # mono for addresses and IDs (checked against both: a name can be in either).
    return {character for character in _characters(markup)
            if any(ord(character) not in covered(family) for family in FAMILIES)}


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_every_handout_has_a_glyph_for_every_character(language: str) -> None:
    spec = load_spec(EXAMPLE).spec
    table = resolve_rights(spec)
    missing: dict[str, set[str]] = {}
    for user in spec.users:
        if user.state == "disabled":
            continue
        page = render_html(handout(spec, table, user.login, language=language,
                                   nas_device_id=DEVICE))
        if gaps := _missing(page):
            missing[user.login] = gaps
    assert missing == {}


def test_a_name_in_a_script_the_fonts_lack_is_caught() -> None:
    # The check itself: Devanagari is not in DejaVu Sans.
    assert _missing("<p>अनुज</p>") == set("अनुज")
    assert _missing("<p>Hélène Dupont, République dominicaine — ‘été’</p>") == set()


def test_the_pictures_and_a_printed_handout_use_only_the_named_fonts() -> None:
    assert _missing(inheritance_svg(load_spec(SMALL).spec, "How rights flow down")) == set()
    if shutil.which("pdffonts") is None:  # outside CI only: scripts/setup installs
        # poppler-utils, and under CI=true a skip fails the run (tests/conftest.py)
        pytest.skip("pdffonts is not installed (apt install poppler-utils)")
    spec = load_spec(EXAMPLE).spec
    pdf = render_pdf(handout(spec, resolve_rights(spec), "hdupont", nas_device_id=DEVICE))
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True
                           ).stdout.decode()
    names = {line.split()[0].split("+")[-1] for line in fonts.splitlines()[2:] if line}
    assert names and all(name.startswith("DejaVu-Sans") for name in names), fonts
