"""`nasops guide`: one handout per person of a spec (issue 16)."""

from __future__ import annotations

from pathlib import Path

import click

from nasops.errors import BadInputError
from nasops.guide.handout import handout, offered_folders, render_html, render_pdf
from nasops.spec import load_spec
from nasops.spec.rights import resolve_rights


@click.command("guide")
@click.argument("spec_path", metavar="SPEC")
@click.option("--person", "logins", multiple=True, metavar="LOGIN",
              help="The person to write a handout for (repeat for several).")
@click.option("--all", "everyone", is_flag=True,
              help="A handout for every person of the spec who is not disabled.")
@click.option("--lang", "language", type=click.Choice(["en", "fr", "nl"]),
              help="Write every handout in this language (default: each person's, else the "
                   "organisation's).")
@click.option("--nas-device-id", metavar="ID",
              help="The NAS's Syncthing device ID, printed with a QR code in the handouts "
                   "of people with laptops (`nasops sync status` shows it).")
@click.option("--format", "output_format", type=click.Choice(["html", "pdf"]),
              default="html", show_default=True,
              help="HTML pages, or PDF files (needs WeasyPrint: pip install 'nasops[pdf]').")
@click.option("--output", "-o", "directory", required=True, type=click.Path(file_okay=False),
              help="Directory the handouts are written to, one LOGIN.html (or .pdf) each.")
def guide(*, spec_path: str, logins: tuple[str, ...], everyone: bool, language: str | None,
          nas_device_id: str | None, output_format: str, directory: str) -> None:
    """Write each person's handout: the folders they can change, only read or pass
    through, how to connect from Windows, Mac and Linux, who to ask, and laptop sync."""
    spec = load_spec(spec_path).spec
    known = {user.login: user for user in spec.users}
    if everyone == bool(logins):
        raise BadInputError("name the people (--person LOGIN, repeatable) or give --all")
    unknown = [login for login in logins if login not in known]
    if unknown:
        raise BadInputError(f"{spec_path}: no person with the login {', '.join(unknown)}")
    disabled = [login for login in logins if known[login].state != "present"]
    if disabled:
        raise BadInputError(f"{spec_path}: {', '.join(disabled)}: disabled (the account "
                            "cannot sign in): no handout")
    chosen = list(logins) or [user.login for user in spec.users if user.state == "present"]
    table = resolve_rights(spec)
    render = render_pdf if output_format == "pdf" else render_html
    offered = offered_folders(spec, table)  # once, not once per person
    pages = {login: render(handout(spec, table, login, language=language,
                                   nas_device_id=nas_device_id, offered=offered))
             for login in chosen}
    target = Path(directory)
    try:
        target.mkdir(parents=True, exist_ok=True)
        for login, page in pages.items():
            # Logins are POSIX names (the spec's grammar): safe as file names.
            content = page if isinstance(page, bytes) else page.encode()
            (target / f"{login}.{output_format}").write_bytes(content)
    except OSError as error:
        raise BadInputError(f"{directory}: cannot write the handouts: "
                            f"{error.strerror or error}") from None
    click.echo(f"{len(pages)} handout{'s' * (len(pages) != 1)} written to {directory}",
               err=True)


def register(cli: click.Group) -> None:
    """Add guide to the main CLI group."""
    cli.add_command(guide)
