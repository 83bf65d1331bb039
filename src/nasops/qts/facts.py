"""What nasops reads from a QTS NAS (issue 15): the read-only requests, in one place.

`nasops qts probe` reports from them and `nasops qts capture` records their answers, so a
capture holds exactly what nasops' parsers read. Each request is a privilege list of the web
UI (privRequest.cgi, design notes §1.2).
"""

from __future__ import annotations

from dataclasses import dataclass

from nasops.qts import answers
from nasops.qts.answers import Account, Firmware, ShareList
from nasops.qts.session import PRIVILEGES, QtsSession

# name (the capture's file name) -> (what it is, in words; CGI; form without the session id)
READS: dict[str, tuple[str, str, dict[str, str]]] = {
    "users": ("the list of users", PRIVILEGES, {"subfunc": "user", "getdata": "1"}),
    "groups": ("the list of groups", PRIVILEGES, {"subfunc": "group", "getdata": "1"}),
    "shares": ("the list of shared folders", PRIVILEGES, {"subfunc": "share", "getdata": "1"}),
}


@dataclass(frozen=True)
class QtsFacts:
    """A QTS NAS as nasops reads it."""

    firmware: Firmware | None
    users: list[Account]
    groups: list[Account]
    shares: ShareList


def read_facts(session: QtsSession) -> QtsFacts:
    """Given a logged-in session, read users, groups and shares (read-only)."""
    roots = {name: session.read(path, form, what) for name, (what, path, form) in READS.items()}
    return QtsFacts(firmware=session.firmware, users=answers.users(roots["users"]),
                    groups=answers.groups(roots["groups"]), shares=answers.shares(roots["shares"]))
