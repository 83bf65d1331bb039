"""The access report: users x folders, and who can reach each folder.

Built from the RightsTable only, so that the report always says what compile applies.
Formats: table (terminal), csv, json, markdown, html (a page a board member can read).
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import compress, repeat
from typing import Any

from nasops.spec.grammars import FORMULA_STARTS
from nasops.spec.models import Spec
from nasops.spec.rights import Access, RightsTable

FORMATS = ("table", "csv", "json", "markdown", "html")
SYMBOLS = {Access.NONE: "·", Access.TRAVERSE: "→", Access.READ: "R", Access.WRITE: "W"}
LEGEND = ("W = can change, R = can read, → = can only pass through to a subfolder "
          "(sees nothing else there), · = no access")
# One HTML cell per access, built once: a 300 x 2,000 grid is 600,000 cells.
HTML_CELLS = {access: f'<td class="access {access.value}">{symbol}</td>'
              for access, symbol in SYMBOLS.items()}
# One encoder for all: json.dumps(..., ensure_ascii=False) would build a new one per call.
dumps = json.JSONEncoder(ensure_ascii=False).encode
ACCESS_CODES = {access: code for code, access in enumerate(Access)}
ACCESS_JSON = {access: json.dumps(access.value) for access in Access}
# Per access, a bytes.translate table giving 1 where a code is that access and 0 elsewhere.
MASKS = {access: bytes(int(code == ACCESS_CODES[access]) for code in range(256))
         for access in Access}
# A CSV cell starting with one of these is a live formula in Excel or LibreOffice
# (`=HYPERLINK(…)`, `@SUM(…)`, `-2+3`); tab and carriage return start one too (OWASP).
CELL_FORMULA_STARTS = (*FORMULA_STARTS, "\t", "\r")


def spreadsheet_cell(text: str) -> str:
    """Given a cell's text, return it with a leading apostrophe when a spreadsheet would read
    it as a formula, so that it is shown as the text it is and never run.

    A carriage return becomes a line feed: the csv module quotes a cell holding the line
    terminator ("\n") but would write a lone "\r" bare, splitting the row for most readers.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith(CELL_FORMULA_STARTS) or text.lstrip().startswith(CELL_FORMULA_STARTS):
        return "'" + text
    return text


@dataclass(frozen=True)
class FolderSummary:
    """Who can reach one folder, for the 'who can reach this folder' part."""

    path: str
    writers: list[str]
    readers: list[str]
    passing: list[str]
    private: bool


def summarize(table: RightsTable) -> list[FolderSummary]:
    """Given a RightsTable, return one FolderSummary per folder in tree order."""
    logins = sorted(table.access)
    # Hundreds of users x thousands of folders: work on one byte per (user, folder), turn
    # each folder's column into 0/1 masks with bytes.translate and pick logins with
    # compress, all in C; folders with the same column share the work.
    codes: dict[int, bytes] = {}
    rows = []
    for login in logins:
        levels = table.access[login]
        if id(levels) not in codes:  # users with the same access share one list
            codes[id(levels)] = bytes(map(ACCESS_CODES.__getitem__, levels))
        rows.append(codes[id(levels)])
    matrix, size = b"".join(rows), len(table.folders)  # one row of `size` bytes per user
    picked: dict[bytes, tuple[list[str], list[str], list[str]]] = {}
    summaries = []
    for folder in table.folders:
        key = matrix[folder.index::size]  # the folder's column: one byte per user
        if key not in picked:
            writers, readers, passing = (list(compress(logins, key.translate(MASKS[access])))
                                         for access in (Access.WRITE, Access.READ,
                                                        Access.TRAVERSE))
            picked[key] = (writers, readers, passing)
        writers, readers, passing = picked[key]
        summaries.append(FolderSummary(folder.display_path, list(writers), list(readers),
                                       list(passing), not folder.inherit))
    return summaries


def _generated_at() -> str:
    """Return when the report is made: now, or SOURCE_DATE_EPOCH when set (the
    reproducible-builds convention: the guide's pictures are drawn again identically)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    moment = (datetime.fromtimestamp(int(epoch), UTC)
              if epoch.isascii() and epoch.isdecimal() and len(epoch) <= 11
              else datetime.now(UTC))
    return moment.replace(microsecond=0).isoformat()


def _document(spec: Spec, table: RightsTable) -> dict[str, Any]:
    users = table.directory.users
    return {
        "organization": spec.organization.id,
        "organization_name": spec.organization.name,
        "generated": _generated_at(),
        "folders": [folder.display_path for folder in table.folders],
        "users": [
            {"login": login, "name": users[login].full_name, "enabled": users[login].enabled,
             "groups": list(users[login].groups),
             "access": table.access[login]}  # Access values are text: json writes them as is
            for login in sorted(table.access)
        ],
        "who_can_reach": [
            {"folder": summary.path, "private": summary.private, "write": summary.writers,
             "read": summary.readers, "traverse": summary.passing}
            for summary in summarize(table)
        ],
    }


def render_json(spec: Spec, table: RightsTable) -> str:
    """Return the report as JSON (stable keys, folders listed once, access per user).

    One line per folder, per user and per summary: readable, and fast because each line
    goes through json's C encoder (json's `indent` falls back to a much slower one).
    """
    # Long lists (each user's access, each folder's people) are joined from words encoded
    # once: json.dumps would encode the same few hundred words hundreds of thousands of times.
    words = {login: dumps(login) for login in table.access}
    words.update({access.value: text for access, text in ACCESS_JSON.items()})
    parts = []
    for key, value in _document(spec, table).items():
        if isinstance(value, list) and value:
            items = ",\n  ".join(_json_with_lists(item, words) for item in value)
            parts.append(f" {dumps(key)}: [\n  {items}\n ]")
        else:
            parts.append(f" {dumps(key)}: {dumps(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _json_with_lists(item: Any, words: dict[str, str]) -> str:
    """Return one item as JSON, its lists of known words joined from their ready encoding
    (`words` maps a text to exactly what json.dumps gives for it)."""
    if not isinstance(item, dict):
        return dumps(item)
    fields = []
    for key, value in item.items():
        text = None
        if isinstance(value, list):
            try:
                text = "[" + ", ".join(map(words.__getitem__, value)) + "]"
            except (KeyError, TypeError):  # a list of other words or values
                text = None
        fields.append(f"{dumps(key)}: {text or dumps(value)}")
    return "{" + ", ".join(fields) + "}"


def render_csv(spec: Spec, table: RightsTable) -> str:
    """Return one row per (user, folder): login, name, folder, access."""
    del spec
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(["login", "name", "folder", "access"])
    # Every cell from the spec is neutralised (once per name or path, not once per row);
    # `nasops validate` already refuses such names, this is the second line of defence.
    paths = [spreadsheet_cell(folder.display_path) for folder in table.folders]
    users = table.directory.users
    for login in sorted(table.access):
        writer.writerows(zip(repeat(spreadsheet_cell(login)),
                             repeat(spreadsheet_cell(users[login].full_name)), paths,
                             table.access[login], strict=False))
    return output.getvalue()


def render_markdown(spec: Spec, table: RightsTable) -> str:
    """Return a Markdown report: who can reach each folder, then the users x folders grid."""
    title = spec.organization.name or spec.organization.id
    lines = [f"# Access report — {title}", "", LEGEND, "", "## Who can reach each folder", "",
             "| Folder | Can change | Can read | Passes through |", "|---|---|---|---|"]
    for summary in summarize(table):
        private = " (private)" if summary.private else ""
        lines.append(f"| {_escape(summary.path)}{private} | {', '.join(summary.writers) or '—'}"
                     f" | {', '.join(summary.readers) or '—'} | "
                     f"{', '.join(summary.passing) or '—'} |")
    lines += ["", "## Each person, each folder", ""]
    paths = [folder.display_path for folder in table.folders]
    lines.append("| Login | " + " | ".join(_escape(path) for path in paths) + " |")
    lines.append("|---" * (len(paths) + 1) + "|")
    for login in sorted(table.access):
        cells = " | ".join(map(SYMBOLS.__getitem__, table.access[login]))
        lines.append(f"| {login} | {cells} |")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_html(spec: Spec, table: RightsTable) -> str:
    """Return a self-contained HTML page (no scripts, no external files)."""
    from jinja2 import Environment, PackageLoader  # noqa: PLC0415
    from markupsafe import Markup  # noqa: PLC0415

    # Always escape: names come from the spec, and select_autoescape would miss '.html.j2'.
    environment = Environment(loader=PackageLoader("nasops", "data/templates"), autoescape=True)
    template = environment.get_template("access-report.html.j2")
    # The grid's cells come from HTML_CELLS only (no text from the spec), so they are safe.
    cells = {login: Markup("".join(map(HTML_CELLS.__getitem__, levels)))  # noqa: S704
             for login, levels in table.access.items()}
    # The board's page names people as the board knows them: "Sofie Mertens (smertens)",
    # with the login they type (prefixed on a shared NAS).
    logins = {user.login: table.directory.users[user.login].system_name
              for user in spec.users}
    names = {user.login: f"{user.name} ({logins[user.login]})" if user.name
             else logins[user.login] for user in spec.users}
    return template.render(document=_document(spec, table), summaries=summarize(table),
                           legend=LEGEND, cells=cells, names=names)


def render_table(spec: Spec, table: RightsTable) -> str:
    """Return a terminal table: one line per folder with who can change and read it."""
    # Imported here: rich and jinja2 cost ~100 ms at start-up, which `nasops validate` and the
    # other formats should not pay.
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    grid = Table(title=f"Access report — {spec.organization.name or spec.organization.id}",
                 caption=LEGEND, show_lines=False)
    for column in ("Folder", "Can change", "Can read", "Passes through"):
        grid.add_column(column, overflow="fold")
    for summary in summarize(table):
        depth = summary.path.count("/")
        name = "  " * depth + summary.path.rsplit("/", 1)[-1]
        grid.add_row(name + (" 🔒" if summary.private else ""), ", ".join(summary.writers),
                     ", ".join(summary.readers), ", ".join(summary.passing))
    console = Console(record=True, width=160, file=io.StringIO())
    console.print(grid)
    return console.export_text()


RENDERERS = {"table": render_table, "csv": render_csv, "json": render_json,
             "markdown": render_markdown, "html": render_html}


def render(spec: Spec, table: RightsTable, output_format: str) -> str:
    """Given a spec, its rights and a format name, return the rendered report."""
    return RENDERERS[output_format](spec, table)
