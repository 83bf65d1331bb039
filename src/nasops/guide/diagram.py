"""A picture of how rights flow down a spec's folder tree, as SVG (the admin guide's
inheritance diagram, docs/guide-admin.md; scripts/guide-pictures draws it).

One row per folder, indented as in a file explorer: what the spec writes on the folder (its
`access`, a person named there as an exception), whether it is private (`inherit: false`:
nothing comes from above), and what follows for people: who can change it, who can only
read it, who only passes through. Drawn from the same rights resolution as the ACLs.
"""

from __future__ import annotations

from html import escape

from nasops.spec.models import Spec
from nasops.spec.rights import Access, FolderRights, RightsTable, resolve_rights

ROW_HEIGHT = 58
INDENT = 30
LEFT = 16
TOP = 58
WIDTH = 1000
FONT = "DejaVu Sans, Verdana, sans-serif"
RESULT_WORDS = ((Access.WRITE, "can change"), (Access.READ, "can only read"),
                (Access.TRAVERSE, "only passes through"))


def _names(table: RightsTable, logins: list[str]) -> str:
    return ", ".join(first_name(table, login) for login in sorted(logins))


def first_name(table: RightsTable, login: str) -> str:
    """Return how the picture names a person: the first word of their name, else login."""
    user = table.directory.users.get(login)
    return (user.full_name.split() or [login])[0] if user else login


def _written(table: RightsTable, folder: FolderRights) -> str:
    """What the spec writes on the folder (e.g. 'Finance: write, @ben: read'); a folder
    that inherits shows only what differs from its parent's."""
    parent = table.folders[folder.parent] if folder.parent is not None else None
    if parent is None or not folder.inherit:
        written = folder.entries
    else:
        written = {principal: level for principal, level in folder.entries.items()
                   if parent.entries.get(principal) != level}
    if not written:
        return "nothing written here: takes the rights from above"
    text = ", ".join(f"{principal.label()}: {level.value}"
                     for principal, level in sorted(written.items()))
    return f"spec: {text}" + (", the rest from above" if parent and folder.inherit else "")


def _result(table: RightsTable, folder: FolderRights) -> str:
    who = table.who(folder.index)
    parts = [f"{words}: {_names(table, who[access])}" for access, words in RESULT_WORDS
             if who[access]]
    return " · ".join(parts) or "nobody"


def _depth(table: RightsTable, folder: FolderRights) -> int:
    depth, parent = 0, folder.parent
    while parent is not None:
        depth, parent = depth + 1, table.folders[parent].parent
    return depth


def inheritance_svg(spec: Spec, title: str) -> str:
    """Given a (small) spec and a title, return the SVG picture of its folder tree."""
    table = resolve_rights(spec)
    height = TOP + ROW_HEIGHT * len(table.folders) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="{FONT}" font-size="13">',
           f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
           f'<text x="{LEFT}" y="28" font-size="17" font-weight="bold">{escape(title)}</text>',
           f'<text x="{LEFT}" y="46" fill="#555555">Rights flow down the tree; a private '
           'folder (dashed) takes nothing from above. Below each folder: what follows for '
           'people.</text>']
    rows = {folder.index: index for index, folder in enumerate(table.folders)}
    for index, folder in enumerate(table.folders):
        x = LEFT + INDENT * _depth(table, folder)
        y = TOP + ROW_HEIGHT * index
        if folder.parent is not None:  # the branch from the parent's row
            parent_x = LEFT + INDENT * _depth(table, table.folders[folder.parent]) + 10
            parent_y = TOP + ROW_HEIGHT * rows[folder.parent] + 30
            out.append(f'<path d="M{parent_x} {parent_y} V{y + 15} H{x}" fill="none" '
                       'stroke="#999999"/>')
        private = not folder.inherit and folder.parent is not None
        name = folder.path[-1] + ("  (private)" if private else "")
        box = 24 + 8 * len(name)
        style = ('stroke="#b03030" stroke-dasharray="5 3" fill="#fdf0f0"' if private
                 else 'stroke="#3060a0" fill="#eef3fb"')
        out += [f'<rect x="{x}" y="{y + 2}" width="{box}" height="26" rx="4" {style}/>',
                f'<text x="{x + 10}" y="{y + 20}" font-weight="bold">{escape(name)}</text>',
                f'<text x="{x + box + 12}" y="{y + 20}" fill="#333333">'
                f'{escape(_written(table, folder))}</text>',
                f'<text x="{x + 10}" y="{y + 46}" fill="#2a6a2a">'
                f'{escape(_result(table, folder))}</text>']
    out.append("</svg>")
    return "\n".join(out) + "\n"
