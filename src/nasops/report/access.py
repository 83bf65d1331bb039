"""The access report: users x folders, and who can reach each folder.

Built from the RightsTable only, so that the report always says what compile applies.
Formats: table (terminal), csv, json, markdown, html (a page a board member can read).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from nasops.spec.models import Spec
from nasops.spec.rights import Access, RightsTable

FORMATS = ("table", "csv", "json", "markdown", "html")
SYMBOLS = {Access.NONE: "·", Access.TRAVERSE: "→", Access.READ: "R", Access.WRITE: "W"}
LEGEND = ("W = can change, R = can read, → = can only pass through to a subfolder "
          "(sees nothing else there), · = no access")


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
    summaries = []
    for folder in table.folders:
        grouped = table.who(folder.index)
        summaries.append(FolderSummary(
            folder.display_path, sorted(grouped[Access.WRITE]), sorted(grouped[Access.READ]),
            sorted(grouped[Access.TRAVERSE]), not folder.inherit))
    return summaries


def _document(spec: Spec, table: RightsTable) -> dict[str, Any]:
    users = table.directory.users
    return {
        "organization": spec.organization.id,
        "organization_name": spec.organization.name,
        "generated": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "folders": [folder.display_path for folder in table.folders],
        "users": [
            {"login": login, "name": users[login].full_name, "enabled": users[login].enabled,
             "groups": list(users[login].groups),
             "access": [access.value for access in table.access[login]]}
            for login in sorted(table.access)
        ],
        "who_can_reach": [
            {"folder": summary.path, "private": summary.private, "write": summary.writers,
             "read": summary.readers, "traverse": summary.passing}
            for summary in summarize(table)
        ],
    }


def render_json(spec: Spec, table: RightsTable) -> str:
    """Return the report as JSON (stable keys, folders listed once, access per user)."""
    return json.dumps(_document(spec, table), ensure_ascii=False, indent=1)


def render_csv(spec: Spec, table: RightsTable) -> str:
    """Return one row per (user, folder): login, name, folder, access."""
    del spec
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(["login", "name", "folder", "access"])
    paths = [folder.display_path for folder in table.folders]
    users = table.directory.users
    for login in sorted(table.access):
        name = users[login].full_name
        writer.writerows([login, name, path, access.value]
                         for path, access in zip(paths, table.access[login], strict=True))
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
        cells = " | ".join(SYMBOLS[access] for access in table.access[login])
        lines.append(f"| {login} | {cells} |")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_html(spec: Spec, table: RightsTable) -> str:
    """Return a self-contained HTML page (no scripts, no external files)."""
    environment = Environment(loader=PackageLoader("nasops", "data/templates"),
                              autoescape=select_autoescape(["html"]))
    template = environment.get_template("access-report.html.j2")
    return template.render(document=_document(spec, table), summaries=summarize(table),
                           legend=LEGEND, symbols={a.value: s for a, s in SYMBOLS.items()})


def render_table(spec: Spec, table: RightsTable) -> str:
    """Return a terminal table: one line per folder with who can change and read it."""
    from rich.console import Console
    from rich.table import Table

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
