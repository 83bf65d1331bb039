"""Strict grammars for spec values that end up in generated files or argv on the NAS.

A value reaches a systemd unit (`ReadWritePaths=`, `OnCalendar=`), Syncthing's `config.xml`,
Samba's smb.conf, /etc/passwd (a full name), ssh's argv (an SFTP host) or a spreadsheet (the
access report's CSV). The roles also quote or escape what they write (defence in depth), but
a value outside these grammars is refused here, at `validate`, with its line: never halfway
through an apply, never silently written as something else.
Each function returns a plain sentence saying what is wrong, or None.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

from ansible_collections.nasops.nas.plugins.module_utils.host_names import (
    HOST_NAME,
    REMOTE_USER,
    is_host,
)

from nasops.spec.names import invisible_character_problem

# Absolute paths written into unit files, smb.conf and argv: plain characters only (no space,
# quote, backslash, `%` specifier or Samba substitution, no control character).
PLAIN_PATH = re.compile(r"^/(?:[A-Za-z0-9._+@-]+/?)*\Z")
SFTP_URL = re.compile(r"^sftp:(?P<user>[^@]*)@(?P<host>[^:]*):(?P<path>.*)\Z", re.DOTALL)
SYNC_SCHEMES = ("tcp", "tcp4", "tcp6", "quic", "quic4", "quic6")
SYNC_ADDRESS = re.compile(r"^(?P<scheme>[a-z0-9]+)://(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/\[\]]*)"
                          r"(?::(?P<port>\d{1,5}))?/?$")  # no port: Syncthing's 22000
# The schemes restic knows; what follows each is checked by repository_url_problem.
REPOSITORY_URL = re.compile(
    r"^(/|sftp:[^@/\s]+@[^:\s]+:|rest:https?://|rclone:[^:\s]+:|s3:|b2:|azure:|gs:|swift:)")
# `user:password@` after any scheme (sftp:, rest:https://, s3:https://, …).
PASSWORD_IN_URL = re.compile(r"^[a-z0-9]+:(?:[a-z0-9+]+:)?(?://)?[^/@\s]*:[^/@\s]*@")
# rclone connection strings carry parameters: `rclone::sftp,host=h,pass=…:path`.
RCLONE_SECRET = re.compile(
    r"[,:](?:[a-z_]*(?:pass|password|secret|token|key)|[a-z_]*secret[a-z_]*)=", re.IGNORECASE)
FORMULA_STARTS = ("=", "+", "-", "@")


def control_problem(text: str) -> str | None:
    """Given text, return a sentence when it holds a line break or another control character."""
    if any(unicodedata.category(character) in ("Cc", "Zl", "Zp") for character in text):
        return f"{text!r} contains a line break or control character; write it on one line"
    return None


def argument_problem(text: str) -> str | None:
    """Given a value passed to restic as an argument (an exclude pattern), return a problem
    when it holds a control character or starts with '-' (the NAS side refuses both)."""
    problem = control_problem(text)
    if problem:
        return problem
    if text.startswith("-"):
        return f"'{text}' starts with '-', which restic could read as an option"
    return None


def plain_path_problem(path: str) -> str | None:
    """Given an absolute path that reaches unit files or smb.conf, return what is wrong."""
    problem = control_problem(path)
    if problem:
        return problem
    if not PLAIN_PATH.match(path) or "//" in path:
        return (f"'{path}': use a plain absolute path of letters, digits and . _ - + @ "
                "(no spaces, quotes, backslashes or %), e.g. /srv/nas")
    return None


def host_problem(host: str) -> str | None:
    """Given a host name or IPv4 address for ssh, return what is wrong (never an option)."""
    if host.startswith("-"):
        return f"host '{host}' starts with '-', which ssh would read as an option"
    if not HOST_NAME.match(host):
        return (f"host '{host}' is not a host name: use letters, digits, '-' and dots, "
                "e.g. backup.example.org")
    return None


def repository_url_problem(url: str) -> str | None:  # noqa: PLR0911 - one per rule
    """Given a restic repository URL that has a known scheme, return what is wrong."""
    problem = control_problem(url)
    if problem:
        return problem
    if any(character.isspace() for character in url):
        return f"'{url}' contains a space; restic repository URLs cannot hold spaces"
    if url.startswith("/"):
        return plain_path_problem(url)
    if PASSWORD_IN_URL.match(url) or (url.startswith("rclone:") and RCLONE_SECRET.search(url)):
        return ("this URL contains a password; secrets never go in the spec, put them in "
                "the secrets file")
    sftp = SFTP_URL.match(url)
    if url.startswith("sftp:") and sftp:
        if not REMOTE_USER.match(sftp.group("user")):
            return (f"user '{sftp.group('user')}' is not a plain user name (letters, digits, "
                    "'.', '-', '_', not starting with '-')")
        problem = host_problem(sftp.group("host"))
        if problem:
            return problem
        if not sftp.group("path"):
            return f"'{url}' has no path after the host; write sftp:user@host:/path"
    return None


def sync_address_problem(  # noqa: PLR0911 - one return per rule
        address: str, *, listening: bool) -> str | None:
    """Given a Syncthing address (listen or device), return what is wrong, or None.

    Listening: `default` or `tcp://0.0.0.0:22000`; a device: `dynamic` or
    `tcp://host:22000`. The same grammar for both keeps XML and the REST API plain.
    """
    word = "default" if listening else "dynamic"
    if address == word:
        return None
    problem = control_problem(address)
    if problem:
        return problem
    example = "tcp://0.0.0.0:22000" if listening else "tcp://192.0.2.10:22000"
    match = SYNC_ADDRESS.match(address)
    wrong = f"'{address}' is not a Syncthing address; write '{word}' or e.g. {example}"
    if not match or match.group("scheme") not in SYNC_SCHEMES:
        return wrong
    host = match.group("host")
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return wrong
    elif not (HOST_NAME.match(host) or (listening and not host)):
        return wrong
    if match.group("port") is not None and not 1 <= int(match.group("port")) <= 65535:
        return f"'{address}': the port must be from 1 to 65535"
    return None


def listen_host_problem(host: str) -> str | None:
    """Given the exporter's listen address, return what is wrong (an IP or a host name)."""
    if not is_host(host):
        return f"'{host}' is not an IP address or host name, e.g. 127.0.0.1 or 0.0.0.0"
    return None


def samba_text_problem(text: str) -> str | None:
    """Given text written as an smb.conf value, return what is wrong, or None.

    smb.conf has no quoting: a line break starts a new setting, a trailing backslash joins
    the next line, and `%U`, `%m`… are replaced by the user's or machine's name (the template
    writes a % as the full-width ％, so none reaches Samba).
    """
    problem = control_problem(text)
    if problem:
        return problem
    # A % is written as the full-width ％ (roles/nas_shares template): Samba replaces none.
    if text.rstrip().endswith("\\"):
        return f"'{text}' ends with a backslash, which Samba reads as 'continued on next line'"
    return None


def full_name_problem(name: str) -> str | None:
    """Given a person's full name (the account's comment in /etc/passwd), return a problem."""
    problem = control_problem(name) or formula_problem(name)
    if problem:
        return problem
    if ":" in name:
        return f"'{name}' contains ':', which separates the fields of /etc/passwd"
    return None


def formula_problem(text: str) -> str | None:
    """Given a name shown in the access report, return a sentence if a spreadsheet would
    read it as a formula (a CSV cell starting with = + - @)."""
    if text.lstrip().startswith(FORMULA_STARTS):
        return (f"'{text}' starts with {text.lstrip()[0]!r}, which spreadsheets read as a "
                "formula (the access report's CSV); start it with a letter or a digit")
    return None


def plain_text_problem(text: str) -> str | None:
    """Given a line shown to people as is (a contact in the handouts), return a problem
    when it holds a control character or one people cannot see (a zero-width or direction
    mark would hide or reverse part of a phone number): the rule names already follow."""
    return control_problem(text) or invisible_character_problem(text)


def server_problem(name: str) -> str | None:
    """Given the NAS's name as people type it, return a problem unless it is a host name or
    an IP address (is_host)."""
    if not is_host(name):
        return (f"{name!r} is not a name people can type to reach the NAS: write it as a "
                "host name, e.g. nas or nas.asso.lan (without \\\\ or smb://)")
    return None
