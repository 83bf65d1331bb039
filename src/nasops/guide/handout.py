"""One handout per person: where their files are and how to reach them (issue 16).

Built from the spec's rights table (nasops.spec.rights), the one the ACLs and the access
report come from, so a handout cannot disagree with the NAS. HTML, self-contained (no
script, no external file), every value from the spec escaped by the template.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from nasops.errors import BadInputError, PrerequisiteError
from nasops.guide.texts import TEXTS
from nasops.spec.models import Spec
from nasops.spec.rights import Access, RightsTable
from nasops.sync.regions import plan_sync

DEVICE_ID = re.compile(r"^([A-Z2-7]{7}-){7}[A-Z2-7]{7}\Z")


@dataclass(frozen=True)
class ShareAddress:
    """A share as people reach it."""

    name: str
    unc: str
    """Windows: \\\\nas\\Share"""
    url: str
    """macOS, Linux: smb://nas/Share (percent-encoded)"""


@dataclass(frozen=True)
class LaptopFolder:
    """A Syncthing folder that arrives on the person's laptops, as Syncthing labels it."""

    label: str
    read_only: bool
    """True: the person sets Receive Only (the NAS's side is send-only for them)."""

    @property
    def laptop_type(self) -> str:
        """The folder type the laptop should have, as Syncthing's configuration names it."""
        return "receiveonly" if self.read_only else "sendreceive"


@dataclass(frozen=True)
class Handout:
    """What one person's handout says."""

    login: str
    """The login as the person types it (with the organisation's prefix on a shared NAS)."""
    name: str
    language: str
    organization: str
    contact: str
    change: list[str]
    read: list[str]
    through: list[str]
    shares: list[ShareAddress]
    synced_shares: list[str] = field(default_factory=list)
    """Shares that follow the person's laptops (they have devices)."""
    laptop_folders: list[LaptopFolder] = field(default_factory=list)
    """The Syncthing folders the NAS offers the person's laptops, in the NAS's order."""
    nas_device_id: str | None = None


def _address(server: str, share: str) -> ShareAddress:
    return ShareAddress(share, f"\\\\{server}\\{share}",
                        f"smb://{server}/{urllib.parse.quote(share)}")


def offered_folders(spec: Spec, table: RightsTable) -> list[dict[str, Any]]:
    """Given a spec and its rights table, return the Syncthing folders the NAS offers
    laptops: the very ones its Syncthing is configured with (nasops.sync.regions), so a
    handout cannot disagree with what arrives. Computed once for all handouts."""
    return list(plan_sync(spec, table, root="").state["folders"])


def handout(spec: Spec, table: RightsTable, login: str, *, language: str | None = None,
            nas_device_id: str | None = None,
            offered: list[dict[str, Any]] | None = None) -> Handout:
    """Given a spec, its rights table and a login of the spec, return that person's
    handout (in `language`, else theirs, else the organisation's); `offered` is
    offered_folders' answer when the caller makes several handouts."""
    user = next(user for user in spec.users if user.login == login)
    entry = table.directory.users[login]
    accesses = table.access[login]
    prefix = spec.organization.account_prefix
    by_access: dict[Access, list[str]] = {access: [] for access in Access}
    for folder in table.folders:
        # As people see it: the share's name on the NAS (prefixed on a shared NAS).
        by_access[accesses[folder.index]].append(prefix + folder.display_path)
    reached = {folder.share for folder in table.folders
               if accesses[folder.index] != Access.NONE}
    shares = [_address(spec.organization.server, prefix + share.name)
              for share in spec.shares if share.name in reached]
    synced = ([share.name for share in spec.shares if share.sync and share.name in reached
               and any(accesses[folder.index] in (Access.READ, Access.WRITE)
                       for folder in table.folders if folder.share == share.name)]
              if user.devices else [])
    if offered is None:
        offered = offered_folders(spec, table)
    laptop_folders = [LaptopFolder(folder["label"], folder["type"] == "sendonly")
                      for folder in offered if entry.system_name in folder["owners"]]
    return Handout(
        login=entry.system_name, name=user.name or login,
        language=language or user.language or spec.organization.language,
        organization=spec.organization.name or spec.organization.id,
        contact=spec.organization.contact,
        change=by_access[Access.WRITE], read=by_access[Access.READ],
        through=by_access[Access.TRAVERSE], shares=shares, synced_shares=synced,
        laptop_folders=laptop_folders, nas_device_id=nas_device_id)


def qr_svg(text: str) -> str:
    """Given a Syncthing device ID, return an inline SVG QR code of it."""
    import segno  # noqa: PLC0415 - only handouts of people with laptops need it

    return str(segno.make(text, error="m").svg_inline(scale=4, omitsize=False))


def render_html(person: Handout) -> str:
    """Given a handout, return its self-contained HTML page."""
    from jinja2 import Environment, PackageLoader  # noqa: PLC0415
    from markupsafe import Markup  # noqa: PLC0415

    if person.language not in TEXTS:
        raise BadInputError(f"no handout texts in {person.language!r} (en, fr, nl)")
    if person.nas_device_id is not None and not DEVICE_ID.match(person.nas_device_id):
        raise BadInputError(f"{person.nas_device_id!r} is not a Syncthing device ID "
                            "(8 groups of 7 letters A-Z and digits 2-7, '-' between them)")
    environment = Environment(loader=PackageLoader("nasops", "data/templates"), autoescape=True)
    words = TEXTS[person.language]

    def say(key: str, **values: str) -> Markup:
        # The template's words are ours; the values come from the spec and are escaped.
        return Markup(words[key]).format(**values)  # noqa: S704 - values escaped by format

    def code(value: str) -> Markup:
        # An address set apart from the sentence around it (and its full stop).
        return Markup("<code>{}</code>").format(value)

    qr = (Markup(qr_svg(person.nas_device_id))  # noqa: S704 - segno's own SVG of a checked ID
          if person.nas_device_id and person.synced_shares else None)
    return environment.get_template("handout.html.j2").render(
        person=person, say=say, code=code, qr=qr,
        first=person.shares[0] if person.shares else None)


def render_pdf(person: Handout) -> bytes:
    """Given a handout, return it as a PDF (WeasyPrint), fetching nothing from anywhere."""
    return pdf_of(render_html(person))


def pdf_of(html: str) -> bytes:
    """Given a self-contained HTML page, return it as a PDF (WeasyPrint), fetching nothing
    from anywhere (handouts, the admin guide's pictures)."""
    try:
        from weasyprint import HTML  # noqa: PLC0415 - only PDF handouts need it
    except (ImportError, OSError):  # OSError: the Pango library is missing
        raise PrerequisiteError("PDF handouts need WeasyPrint and Pango: pip install "
                                "'nasops[pdf]' and apt install libpango-1.0-0 "
                                "libpangoft2-1.0-0") from None

    def refuse(url: str, *arguments: object, **options: object) -> dict[str, object]:
        raise ValueError(f"a handout fetches nothing ({url[:40]})")

    return bytes(HTML(string=html, url_fetcher=refuse).write_pdf())
