"""What nasops reads from a QTS NAS (issue 15): the read-only requests, in one place.

`nasops qts probe`, `plan` and `drift` report from them and `nasops qts capture` records
their answers, so a capture holds what nasops' parsers read. Lists come in pages
(lower/upper, as the web UI asks); a page that makes no progress, a name listed twice or a
list past LIMIT stops the run rather than showing a partial NAS as the whole one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar
from xml.etree import ElementTree

from nasops.qts import answers
from nasops.qts.answers import Account, AnswerError, Firmware, Share, ShareList, ShareRight
from nasops.qts.session import PRIVILEGES, QtsSession

WIZARD = "/cgi-bin/priv/privWizard.cgi"
PAGE = 200
LIMIT = 100_000
Listed = TypeVar("Listed")


@dataclass(frozen=True)
class Read:
    """One read-only request: what it is in words (messages, capture), its CGI and form
    (without session or page), and for a list the element holding it and its count's tag."""

    what: str
    path: str
    form: dict[str, str]
    section: str = ""
    count_tag: str = ""


# By the name a capture gives each answer.
READS = {
    "users": Read("the list of users", PRIVILEGES, {"subfunc": "user", "getdata": "1"},
                  "userroot", "count"),
    "groups": Read("the list of groups", PRIVILEGES, {"subfunc": "group", "getdata": "1"},
                   "grouproot", "count"),
    "shares": Read("the list of shared folders", PRIVILEGES,
                   {"subfunc": "share", "getdata": "1"}, "func/ownContent/shareInfo",
                   "shareCount"),
    "members": Read("a group's members", WIZARD, {"wiz_func": "group_user_edit"}),
    # type=0: a person's rights (2 would be a group's; design notes §1.2).
    "share_rights": Read("a person's share rights", WIZARD,
                         {"wiz_func": "user_share_edit", "type": "0"},
                         "func/ownContent/shareroot/data", "count"),
    "share_property": Read("a share's properties", WIZARD, {"wiz_func": "share_property"}),
    "group_share_rights": Read("a group's share rights", WIZARD,
                               {"wiz_func": "user_share_edit", "type": "2"},
                               "func/ownContent/shareroot/data", "count"),
}


@dataclass(frozen=True)
class QtsFacts:
    """A QTS NAS as nasops reads it."""

    firmware: Firmware | None
    users: list[Account]
    groups: list[Account]
    shares: ShareList
    members: dict[str, list[str]] = field(default_factory=dict)
    """Members of the groups asked about, by group name as QTS spells it."""
    rights: dict[str, list[ShareRight]] = field(default_factory=dict)
    """Share rights of the people asked about, by login as QTS spells it."""
    flags: dict[str, dict[str, bool]] = field(default_factory=dict)
    """Flags of the shares asked about (answers.SHARE_FLAGS), by name as QTS spells it."""


def _paged(session: QtsSession, read: Read, extra: dict[str, str],
           page_of: Callable[[ElementTree.Element], list[Listed]],
           name_of: Callable[[Listed], str]) -> tuple[list[Listed], ElementTree.Element]:
    """Read a list page by page; return its entries and the first page's root."""
    found: list[Listed] = []
    seen: set[str] = set()
    first: ElementTree.Element | None = None
    what = f"{session.endpoint.place}: {read.what}"
    while True:
        root = session.read(read.path, {**read.form, **extra, "lower": str(len(found)),
                                        "upper": str(len(found) + PAGE)}, read.what)
        first = root if first is None else first
        page = page_of(root)
        names = [name_of(entry) for entry in page]
        # Checked on each page: a NAS that ignores lower/upper repeats its first page.
        if seen.intersection(names) or len(set(names)) != len(names):
            raise AnswerError(f"{what}: the NAS listed a name twice (does it ignore the "
                              "page asked for?); nasops stops rather than guess")
        seen.update(names)
        found += page
        count = answers.total(root, read.section, read.count_tag)
        if count is None or count < 0:
            if len(page) >= PAGE:  # a full page and no count: more may follow, unseen
                raise AnswerError(f"{what}: the NAS gave a full page without saying how "
                                  "many there are; nasops stops rather than take part of "
                                  "the NAS for all of it")
            break
        if len(found) >= count:
            break
        if not page or len(found) > LIMIT:
            raise AnswerError(f"{what}: the NAS says it has {count} but listed {len(found)}; "
                              "nasops stops rather than take part of the NAS for all of it")
    return found, first


def _account_name(account: Account) -> str:
    return account.name


def _share_name(share: Share) -> str:
    return share.name


def _right_share(right: ShareRight) -> str:
    return right.share


def read_users(session: QtsSession) -> list[Account]:
    """Given a logged-in session, return every user (all pages)."""
    return _paged(session, READS["users"], {}, answers.users, _account_name)[0]


def read_groups(session: QtsSession) -> list[Account]:
    """Given a logged-in session, return every group (all pages)."""
    return _paged(session, READS["groups"], {}, answers.groups, _account_name)[0]


def _read_shares(session: QtsSession) -> tuple[list[Share], ElementTree.Element]:
    return _paged(session, READS["shares"], {}, lambda root: answers.shares(root).shares,
                  _share_name)


def read_share_names(session: QtsSession) -> list[str]:
    """Given a logged-in session, return every shared folder's name (all pages)."""
    return [share.name for share in _read_shares(session)[0]]


def read_facts(session: QtsSession) -> QtsFacts:
    """Given a logged-in session, read users, groups and shares (read-only)."""
    users, groups = read_users(session), read_groups(session)
    shares, first = _read_shares(session)
    switches = answers.shares(first)
    return QtsFacts(firmware=session.firmware, users=users, groups=groups,
                    shares=ShareList(shares, switches.advanced_folder_permissions,
                                     switches.windows_acl, switches.access_based_enumeration))


def read_members(session: QtsSession, groups: Iterable[str]) -> dict[str, list[str]]:
    """Given a session and group names QTS has, return each one's members."""
    read = READS["members"]
    return {group: answers.members(session.read(read.path, {**read.form, "groupname": group},
                                                read.what))
            for group in groups}


def read_rights(session: QtsSession, logins: Iterable[str]) -> dict[str, list[ShareRight]]:
    """Given a session and logins QTS has, return each one's share rights: one request
    (or page) per person, not per person and share."""
    return {login: _paged(session, READS["share_rights"], {"userName": login},
                          answers.share_rights, _right_share)[0]
            for login in logins}


def read_group_rights(session: QtsSession, group: str) -> list[ShareRight]:
    """Given a session and a group QTS has, return its share rights (own: the group's
    entry)."""
    return _paged(session, READS["group_share_rights"], {"groupName": group},
                  answers.share_rights, _right_share)[0]


# What share_property's edit takes back unchanged besides the name and the flags.
SHARE_FIELDS = ("comment", "path", "selectedVol", "hidden", "oplocks", "recyclePerShare",
                *answers.SHARE_FLAGS)


def read_share_detail(session: QtsSession, share: str) -> dict[str, str]:
    """Given a session and a share QTS has, return its detail (SHARE_FIELDS)."""
    read = READS["share_property"]
    return answers.detail(session.read(read.path, {**read.form, "sharename": share},
                                       read.what),
                          "shareProperty", SHARE_FIELDS,
                          f"{session.endpoint.place}: share {share}")


def read_share_flags(session: QtsSession, shares: Iterable[str]) -> dict[str, dict[str, bool]]:
    """Given a session and shares QTS has, return each one's flags (one request each)."""
    return {share: answers.share_flags(read_share_detail(session, share)) for share in shares}
