"""The access report renders in every format, and every format says what the rights say."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from nasops.report.access import FORMATS, LEGEND, RENDERERS, render, summarize
from nasops.spec import Spec, load_spec, load_spec_text
from nasops.spec.rights import Access, RightsTable, resolve_rights

EXAMPLE = Path(__file__).parents[2] / "inventory" / "example" / "wsm.yml"
VOID_ELEMENTS = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr"}
TRICKY = """
organization: {id: tiny, name: "Tiny & <Co>"}
groups: [{name: "R&D <lab>"}]
users: [{login: alice, name: "Alice \\"Al\\" O'Neil", groups: ["R&D <lab>"]}]
shares:
  - name: "Projets & co"
    access: {"R&D <lab>": write}
    folders: [{name: "Rapports 'finaux'"}]
"""


@pytest.fixture(scope="module")
def example() -> tuple[Spec, RightsTable]:
    spec = load_spec(EXAMPLE).spec
    return spec, resolve_rights(spec)


class TagBalance(HTMLParser):
    """Collects text and checks that every opened element is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.seen: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)
        if tag not in VOID_ELEMENTS:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(text: str) -> TagBalance:
    parser = TagBalance()
    parser.feed(text)
    parser.close()
    return parser


def test_every_format_has_a_renderer() -> None:
    assert set(FORMATS) == set(RENDERERS)


@pytest.mark.parametrize("output_format", FORMATS)
def test_every_format_renders_the_example(output_format: str,
                                          example: tuple[Spec, RightsTable]) -> None:
    text = render(*example, output_format)
    assert "Afrique" in text
    assert "Financiën" in text


def test_csv_has_one_row_per_user_and_folder(example: tuple[Spec, RightsTable]) -> None:
    spec, table = example
    rows = list(csv.DictReader(io.StringIO(render(spec, table, "csv"))))
    assert len(rows) == len(table.access) * len(table.folders)
    assert set(rows[0]) == {"login", "name", "folder", "access"}
    assert {row["access"] for row in rows} <= {access.value for access in Access}
    found = {(row["login"], row["folder"]): row["access"] for row in rows}
    assert found[("pvandamme", "Afrique/Finances")] == "read"
    assert found[("gvermeulen", "Afrique/Finances")] == "none"
    assert found[("cleroy", "Afrique")] == "traverse"
    for login, levels in table.access.items():
        for folder, level in zip(table.folders, levels, strict=True):
            assert found[(login, folder.display_path)] == level.value


def test_json_loads_and_matches_the_rights(example: tuple[Spec, RightsTable]) -> None:
    spec, table = example
    document = json.loads(render(spec, table, "json"))
    assert document["organization"] == "wsm"
    assert document["folders"] == [folder.display_path for folder in table.folders]
    logins = [user["login"] for user in document["users"]]
    assert logins == sorted(table.access)
    for user in document["users"]:
        assert user["access"] == [level.value for level in table.access[user["login"]]]
    disabled = next(user for user in document["users"] if user["login"] == "ojanssens")
    assert disabled["enabled"] is False
    finances = next(entry for entry in document["who_can_reach"]
                    if entry["folder"] == "Afrique/Finances")
    assert finances == {"folder": "Afrique/Finances", "private": True,
                        "write": ["hdupont", "kdewit", "smertens"],
                        "read": ["mlsimon", "pvandamme"], "traverse": []}


def test_html_is_well_formed_and_escaped(example: tuple[Spec, RightsTable]) -> None:
    spec, table = example
    page = render(spec, table, "html")
    parsed = parse_html(page)
    assert parsed.problems == []
    assert parsed.stack == []
    assert "script" not in parsed.seen
    # One header row per table: who reaches each folder, the grid, the board's private folders.
    assert page.count("<tr>") == len(table.folders) + len(table.access) + 3
    assert "Solidarité Mondiale" in "".join(parsed.text)


def test_html_escapes_names_from_the_spec() -> None:
    spec = load_spec_text(TRICKY).spec
    page = render(spec, resolve_rights(spec), "html")
    parsed = parse_html(page)
    assert parsed.problems == []
    assert "<Co>" not in page and "<lab>" not in page
    text = "".join(parsed.text)
    assert "Tiny & <Co>" in text
    assert "Projets & co/Rapports 'finaux'" in text


def test_markdown_has_both_tables(example: tuple[Spec, RightsTable]) -> None:
    spec, table = example
    lines = render(spec, table, "markdown").splitlines()
    assert lines[0] == "# Access report — Solidarité Mondiale — département Sud"
    assert LEGEND in lines
    header = lines.index("| Folder | Can change | Can read | Passes through |")
    assert lines[header + 1] == "|---|---|---|---|"
    folder_rows = lines[header + 2:header + 2 + len(table.folders)]
    assert all(row.startswith("| ") and row.count(" | ") == 3 for row in folder_rows)
    assert "| Afrique/Finances (private) | hdupont, kdewit, smertens | mlsimon, pvandamme | — |" \
        in folder_rows
    grid = [line for line in lines if line.startswith("| ") and line.count("|") ==
            len(table.folders) + 2]
    assert len(grid) == 1 + len(table.access)  # header, then one row per person


def test_terminal_table_lists_every_folder_once(example: tuple[Spec, RightsTable]) -> None:
    spec, table = example
    text = render(spec, table, "table")
    assert "Access report — Solidarité Mondiale" in text
    assert "Finances 🔒" in text
    assert text.count("Rapports de mission") == 3


def test_summaries_follow_tree_order(example: tuple[Spec, RightsTable]) -> None:
    _, table = example
    summaries = summarize(table)
    assert [summary.path for summary in summaries] == [f.display_path for f in table.folders]
    private = [summary.path for summary in summaries if summary.private]
    assert private == ["Afrique/Finances", "Amérique latine/Finances", "Asie/Finances",
                       "Direction/Ressources humaines"]


def test_json_is_exact_for_short_logins_and_odd_names() -> None:
    spec = load_spec_text("""
organization: {id: tiny, name: "Quote \\" and ünïcode"}
groups: [{name: "read"}, {name: 'Team "A"'}]
users:
  - {login: a, name: "A \\"the\\" first", groups: [read]}
  - {login: write, groups: ['Team "A"']}
shares:
  - name: S
    access: {read: write, 'Team "A"': read}
    folders: [{name: a}, {name: "read", access: {a: none}}]
""").spec
    table = resolve_rights(spec)
    document = json.loads(render(spec, table, "json"))
    assert document["organization_name"] == 'Quote " and ünïcode'
    assert document["folders"] == ["S", "S/a", "S/read"]
    users = {user["login"]: user for user in document["users"]}
    assert users["a"] == {"login": "a", "name": 'A "the" first', "enabled": True,
                          "groups": ["read"], "access": ["write", "write", "none"]}
    assert users["write"]["groups"] == ['Team "A"']
    assert document["who_can_reach"][2] == {"folder": "S/read", "private": False,
                                            "write": [], "read": ["write"], "traverse": []}


@pytest.mark.parametrize("output_format", FORMATS)
def test_a_spec_without_people_still_reports_every_folder(output_format: str) -> None:
    spec = load_spec_text("organization: tiny\nshares:\n  - {name: S, folders: [{name: F}]}\n"
                          ).spec
    table = resolve_rights(spec)
    assert [(summary.path, summary.writers) for summary in summarize(table)] == [
        ("S", []), ("S/F", [])]
    text = render(spec, table, output_format)
    if output_format == "csv":  # one row per person and folder: only the header is left
        assert text == "login,name,folder,access\n"
    else:
        assert "F" in text


class _Board(HTMLParser):
    """Reads the board's page of sensitive folders back from the HTML report."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, int]] = {}
        self.who: dict[str, str] = {}
        self._folder: str | None = None
        self._in_who = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "tr" and values.get("data-folder"):
            self._folder = values["data-folder"]
            self.rows[self._folder or ""] = {}
        for key in ("data-write", "data-read"):
            if tag == "td" and self._folder and values.get(key) is not None:
                self.rows[self._folder][key.removeprefix("data-")] = int(values[key] or 0)
        if tag == "td":
            self._in_who = values.get("class") == "who"

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_who = False

    def handle_data(self, data: str) -> None:
        if self._in_who and self._folder:
            self.who[self._folder] = self.who.get(self._folder, "") + data


def test_the_html_report_opens_with_the_sensitive_folders_and_who_reaches_them() -> None:
    spec = load_spec(EXAMPLE).spec
    table = resolve_rights(spec)
    board = _Board()
    board.feed(render(spec, table, "html"))
    expected = {}
    for folder in table.folders:
        if not folder.inherit:
            who = table.who(folder.index)
            expected[folder.display_path] = {"write": len(who[Access.WRITE]),
                                             "read": len(who[Access.READ])}
    assert expected, "the example has private folders"
    assert board.rows == expected
    # Who, by name and login, as the board knows them.
    names = {user.login: f"{user.name} ({user.login})" for user in spec.users}
    for folder in table.folders:
        if not folder.inherit:
            who = table.who(folder.index)
            expected_who = "; ".join(
                f"{label}: " + ", ".join(sorted(names[login] for login in who[access]))
                for label, access in (("can change", Access.WRITE), ("only read", Access.READ),
                                      ("pass through without seeing its content",
                                       Access.TRAVERSE)) if who[access]) or "nobody"
            shown = "; ".join(f"{part.split(': ')[0]}: " + ", ".join(sorted(
                part.split(": ", 1)[1].split(", "))) for part in
                board.who[folder.display_path].split("; "))
            assert shown == expected_who, folder.display_path


def test_the_board_names_people_with_the_login_they_type_on_a_shared_nas() -> None:
    spec = load_spec_text("""version: 1
organization: {id: asso, name: Asso, account_prefix: as-}
groups: [{name: Bureau}]
users:
  - {login: zoe, name: "Zoé \u202eMartin", groups: [Bureau]}
  - {login: marc, groups: [Bureau]}
shares:
  - name: Bureau
    access: {Bureau: write}
    folders:
      - {name: Paie, inherit: false, access: {zoe: write, marc: read}}
""", "s.yml").spec
    board = _Board()
    page = render(spec, resolve_rights(spec), "html")
    board.feed(page)
    assert board.who["Bureau/Paie"] == "can change: Zoé \u202eMartin (as-zoe); only read: as-marc"
    assert "<bdi>Zoé \u202eMartin (as-zoe)</bdi>" in page  # a bidi override stays in its name
