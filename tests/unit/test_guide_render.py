"""A browser draws the guides without a missing glyph: headless Chromium (Debian's chromium,
driven over its DevTools pipe, tests/unit/chromium_pages.py) renders each person's HTML
handout of the example in their language (a laptop owner's in all three) and the admin guide
(docs/guide-admin.md as CommonMark HTML, its diagram inlined) to full-page PNGs. For every
element, each character must be in the character map of a font Chromium says drew it, and
those fonts must be the ones the pages name (DejaVu Sans and Sans Mono): Chromium draws a
character no font has with the page's font anyway, as an empty box, so the font's map is the
judge. The QR code read back from the browser's picture is the NAS's device ID."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import zxingcpp
from chromium_pages import WIDTH, Chromium, RenderedPage, chromium_binary
from fontTools.ttLib import TTFont
from markdown_it import MarkdownIt
from PIL import Image

from nasops.guide.handout import handout, render_html
from nasops.spec import load_spec
from nasops.spec.rights import resolve_rights

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE = REPOSITORY / "inventory" / "example" / "wsm.yml"
ADMIN_GUIDE = REPOSITORY / "docs" / "guide-admin.md"
DEVICE = "AAAAAAA-BBBBBBB-CCCCCCC-DDDDDDD-EEEEEEE-FFFFFFF-GGGGGGG-HHHHHHH"
NAMED_FAMILIES = {"DejaVu Sans", "DejaVu Sans Mono"}
# The admin guide as a browser shows a Markdown page: the handouts' fonts, pictures beside it.
ADMIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>The programme manager's guide</title><style>
body {{ font-family: "DejaVu Sans", sans-serif; max-width: 50em; margin: 2em auto; }}
code, pre {{ font-family: "DejaVu Sans Mono", monospace; }}
img, svg {{ max-width: 100%; }}
</style></head><body>{body}</body></html>
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    binary = chromium_binary()
    if binary is None:  # outside CI only: scripts/setup installs chromium, and under
        # CI=true a skip fails the run (tests/conftest.py)
        pytest.skip("chromium is not installed (apt install chromium)")
    with Chromium(binary) as started:
        yield started


@cache
def glyphs_of(postscript_name: str) -> frozenset[int]:
    """Return the code points the font with this PostScript name (as fontconfig finds it)
    has a glyph for."""
    path = subprocess.run(["fc-match", "-f", "%{file}", f":postscriptname={postscript_name}"],
                          capture_output=True, text=True, check=True).stdout
    with TTFont(path, fontNumber=0) as font:
        if font["name"].getDebugName(6) != postscript_name:
            return frozenset()  # fontconfig gave a substitute: the font is not installed
        return frozenset(font.getBestCmap())


def problems_of(page: RenderedPage) -> list[str]:
    """Return what is wrong with a rendered page: characters no font that drew them has,
    fonts the pages do not name, visible text no font drew, a blank or broken picture."""
    found = [f"no font drew {text!r}" for text in page.unfonted]
    for text, fonts in page.fonts.items():
        if strangers := {family for family, _name in fonts} - NAMED_FAMILIES:
            found.append(f"{text!r} drawn with {sorted(strangers)}")
        covered = frozenset().union(*(glyphs_of(name) for _family, name in fonts))
        if missing := sorted({character for character in text
                              if not character.isspace() and ord(character) not in covered}):
            found.append(f"{text!r}: no glyph for {''.join(missing)}")
    picture = Image.open(io.BytesIO(page.png))
    darkest, lightest = picture.convert("L").getextrema()
    if picture.width != WIDTH or picture.height < 200 or darkest == lightest:
        found.append(f"picture {picture.size} is blank or cut")
    if not page.images_loaded:
        found.append("a picture of the page did not load")
    return found


def decoded(page: RenderedPage) -> list[str]:
    return [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(page.png)))]


def test_each_handout_renders_in_a_browser_with_every_glyph(browser: Chromium,
                                                            tmp_path: Path) -> None:
    spec = load_spec(EXAMPLE).spec
    table = resolve_rights(spec)
    problems: dict[str, list[str]] = {}
    laptops = 0
    pages = [(user.login, None) for user in spec.users if user.state != "disabled"]
    # The other two languages' texts once, on a laptop owner's page (the fullest one).
    pages += [("fkabore", "en"), ("fkabore", "nl")]
    for login, language in pages:
        person = handout(spec, table, login, language=language, nas_device_id=DEVICE)
        name = f"{login}-{person.language}"
        page = tmp_path / f"{name}.html"
        page.write_text(render_html(person), encoding="utf-8")
        rendered = browser.render(page)
        (tmp_path / f"{name}.png").write_bytes(rendered.png)
        found = problems_of(rendered)
        if person.synced_shares:
            laptops += 1
            if decoded(rendered) != [DEVICE]:
                found.append(f"the QR code reads {decoded(rendered)}")
        if found:
            problems[name] = found
    assert laptops >= 4  # the example has laptop owners: each one's page was read back
    assert problems == {}


def test_the_admin_guide_renders_in_a_browser_with_its_pictures(browser: Chromium,
                                                                 tmp_path: Path) -> None:
    body = MarkdownIt("commonmark").enable("table").render(
        ADMIN_GUIDE.read_text(encoding="utf-8"))
    # The diagram inline, so that its words are checked like the page's.
    body, count = re.subn(r'<img src="pictures/(\w[\w-]*\.svg)" alt="[^"]*" */?>',
                          lambda match: (ADMIN_GUIDE.parent / "pictures" / match[1])
                          .read_text(encoding="utf-8"), body)
    assert count == 1 and 'src="pictures/access-report.png"' in body
    page = tmp_path / "guide-admin.html"
    page.write_text(ADMIN_PAGE.format(body=body), encoding="utf-8")
    shutil.copytree(ADMIN_GUIDE.parent / "pictures", tmp_path / "pictures")
    rendered = browser.render(page)
    (tmp_path / "guide-admin.png").write_bytes(rendered.png)
    assert problems_of(rendered) == []
    assert any("Dan" in text for text in rendered.fonts)  # the diagram's words were read


def test_a_character_no_font_has_is_caught(browser: Chromium, tmp_path: Path) -> None:
    # The check itself: Chromium says DejaVu Sans drew the Devanagari name (as empty boxes).
    page = tmp_path / "devanagari.html"
    page.write_text('<!doctype html><meta charset="utf-8"><title>t</title>'
                    '<body style="font-family: \'DejaVu Sans\'"><p>Hélène</p><p>अनुज</p>'
                    "<p>Été</p></body>", encoding="utf-8")
    problems = problems_of(browser.render(page))
    assert problems == [f"'अनुज': no glyph for {''.join(sorted('अनुज'))}"]
