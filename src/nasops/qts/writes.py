"""Writing the control plane to QTS (issue 15, docs/qts.md): what `nasops apply` does on a
QTS host, one change after the other, each read back before the next.

QTS answers many writes with authPassed alone, also writes it did not make: after each
write nasops reads the thing again (the list, the members, the person's share rights) and
stops at the first write the NAS does not show, saying what was made before it. A re-run
plans again from what the NAS then holds. Forms are our reading of what the web UI sends
(design notes §1.2, QTS 5.1.9); only simulated so far.

Nothing is ever deleted: a person the spec disables is disabled, people, groups and shares
the spec does not name are left alone, a share is renamed in place. A person's password is
sent at creation only (base64 in a POST body, masked everywhere) and confirmed by QTS's
password answer, the one word QTS gives on a password (it cannot be read back).
"""

from __future__ import annotations

import base64
import secrets
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from xml.etree import ElementTree

from nasops.ansible.runner import RunInterrupted
from nasops.errors import NasopsError
from nasops.execute import MASKER
from nasops.qts import answers
from nasops.qts.facts import (
    WIZARD,
    read_group_rights,
    read_groups,
    read_members,
    read_rights,
    read_share_detail,
    read_share_names,
    read_users,
)
from nasops.qts.plan import (
    REFUSED_ACTION,
    SHARE_PERMISSIONS,
    Change,
    group_override,
    name_key,
)
from nasops.qts.session import QtsConnectionError, QtsSession
from nasops.spec.names import visible

CREATE = "/cgi-bin/wizReq.cgi"
# What a person's detail must hold for account_edit to change only a_enable.
USER_FIELDS = ("uid", "description", "email", "tel", "tel_country_code", "year", "month",
               "day")
RIGHT_LISTS = {"RO": "rd_share", "RW": "rw_share", None: "empty_share"}
EVERYONE = "everyone"  # QTS's group of every local user


class WriteNotMadeError(NasopsError):
    """QTS answered a write that reading back shows it did not make (or not as asked)."""


@dataclass
class WriteOutcome:
    """What apply made on one NAS, in plan's words, each read back."""

    made: list[str] = field(default_factory=list)


def _indexed(name: str, values: list[str]) -> dict[str, str]:
    """QTS's list fields: name0, name1, … and name_len."""
    return {**{f"{name}{index}": value for index, value in enumerate(values)},
            f"{name}_len": str(len(values))}


def _base64(password: str) -> str:
    """A password as QTS's forms take it, registered with the masker in every form."""
    encoded = base64.b64encode(password.encode()).decode()
    MASKER.add(password, encoded, urllib.parse.quote_plus(encoded))
    return encoded


def _folded(names: list[str]) -> set[str]:
    return {name_key(name) for name in names}


class QtsWriter:
    """Makes plan's changes on a logged-in session, reading each back."""

    def __init__(self, session: QtsSession, passwords: Mapping[str, str], volume: int,
                 descriptions: Mapping[str, str], say: Callable[[str], None]) -> None:
        self.session = session
        self.passwords = passwords
        self.volume = volume
        self.descriptions = descriptions
        self.say = say
        self.outcome = WriteOutcome()

    def apply(self, changes: list[Change]) -> WriteOutcome:
        """Make every change (none may be a refusal), in plan's order: people, groups, each
        group's members in one write per group, shares, then each person's share rights in
        one write per person. A connection cut on the way stops it, saying what was made."""
        try:
            self._apply(changes)
        except QtsConnectionError as error:
            raise self._stopped(f"{error}; whether QTS made that last change is not known"
                                ) from None
        return self.outcome

    def _apply(self, changes: list[Change]) -> None:
        if any(change.action == REFUSED_ACTION for change in changes):
            raise NasopsError("apply was asked to make a refused change")  # callers check
        members: dict[str, list[Change]] = {}
        rights: dict[str, list[Change]] = {}
        for change in changes:
            if change.action in ("add_member", "remove_member"):
                members.setdefault(change.target, []).append(change)
            elif change.action == "set_right":
                rights.setdefault(change.subject, []).append(change)
            elif change.action in ("create_share", "rename_share") and members:
                self._members_of(members)  # groups are done before shares
                members = {}
                getattr(self, f"_{change.action}")(change)
                self._made(change.words)
            else:
                getattr(self, f"_{change.action}")(change)
                self._made(change.words)
        self._members_of(members)
        for login, given in rights.items():
            self._set_rights(login, given)
            for change in given:
                self._made(change.words)

    def _members_of(self, members: dict[str, list[Change]]) -> None:
        for group, given in members.items():
            self._members(group, [change.subject for change in given
                                  if change.action == "add_member"],
                          [change.subject for change in given
                           if change.action == "remove_member"])
            for change in given:
                self._made(change.words)

    def _made(self, words: str) -> None:
        self.outcome.made.append(words)
        self.say(words)

    def _send(self, path: str, form: dict[str, str], what: str) -> ElementTree.Element:
        # The same call as a read: QTS's answer to a write says little beyond authPassed.
        return self.session.read(path, form, what)

    def _not_made(self, what: str, seen: str, *, done: str = "") -> WriteNotMadeError:
        return self._stopped(f"QTS answered {what}, but reading it back shows {seen}: the NAS "
                             "did not make it", done=done)

    def _stopped(self, why: str, *, done: str = "") -> WriteNotMadeError:
        # done: what the change that stopped had made already (a person created, say).
        place = f"{self.session.endpoint.place}: "
        return WriteNotMadeError(
            f"{place}{why.removeprefix(place)}. nasops stopped there; made before it: "
            f"{len(self.outcome.made)} change(s) (listed above){done}. Nothing was undone: "
            "check the NAS (its Control Panel, or `nasops qts probe`), then run apply again")

    # -- people ---------------------------------------------------------------------------

    def _users(self) -> dict[str, answers.Account]:
        return {name_key(user.name): user for user in read_users(self.session)}

    def _create_person(self, change: Change) -> None:
        login = change.subject
        password = self.passwords[login]
        encoded = _base64(password)
        # Created with a throwaway password no one knows: a run cut off before the
        # person's own one is confirmed below leaves an account nobody can log in to
        # (never a disabled colleague's account open with a known password).
        self._send(CREATE, {"wiz_func": "user_create", "action": "add_user",
                            "a_username": login, "a_passwd": _base64(secrets.token_urlsafe(24)),
                            "a_description": self.descriptions.get(login, ""),
                            **_indexed("gp", ["everyone"])}, f"the creation of {login}")
        if name_key(login) not in self._users():
            raise self._not_made(f"the creation of person {login}", f"no {login}")
        created = (f"; person {login} was created with a password nobody knows: set theirs "
                   "in QTS (Control Panel > Privilege > Users > Change Password) to the "
                   "secrets file's, as apply does not set the password of a person already "
                   "on the NAS")
        try:
            # Disabled first (QTS's create form has no "disabled"), then the password.
            if not change.enabled:
                self._set_enabled(login, enabled=False, done=created)
            answer = self._send(WIZARD, {"wiz_func": "user_password_edit",
                                         "action": "user_password_edit", "username": login,
                                         "password": encoded, "old_password": "",
                                         "need_check": "no"}, f"the password of {login}")
        except (WriteNotMadeError, RunInterrupted):  # an interruption stays one (exit 130…)
            raise
        except NasopsError as error:  # a detail QTS did not give, a connection cut
            raise self._stopped(str(error), done=created) from None
        if not answers.password_changed(answer):
            raise self._stopped(f"QTS did not confirm the password of {login} (passwordCheck "
                                "and passwordChange not both 0: its password policy?)",
                                done=created)

    def _enable_person(self, change: Change) -> None:
        self._set_enabled(change.subject, enabled=True)

    def _disable_person(self, change: Change) -> None:
        self._set_enabled(change.subject, enabled=False)

    def _set_enabled(self, login: str, *, enabled: bool, done: str = "") -> None:
        what = f"{'enabling' if enabled else 'disabling'} {login}"
        detail = answers.detail(
            self._send(WIZARD, {"wiz_func": "user_edit", "username": login}, what),
            "userInfo", USER_FIELDS, f"{self.session.endpoint.place}: {login}'s detail")
        self._send(WIZARD, {"wiz_func": "user_edit", "action": "account_edit",
                            "username": login, "a_enable": "1" if enabled else "0",
                            "a_expire": "0", "a_uid": detail["uid"],
                            **{f"a_{name}": detail[name] for name in
                               ("description", "email", "tel", "tel_country_code")},
                            **{name: detail[name] for name in ("year", "month", "day")}},
                   what)
        found = self._users().get(name_key(login))
        if found is None or found.enabled != enabled:
            raise self._not_made(what, f"{login} {'disabled' if enabled else 'enabled'}",
                                 done=done)

    # -- groups ---------------------------------------------------------------------------

    def _create_group(self, change: Change) -> None:
        group = change.subject
        self._send(CREATE, {"wiz_func": "user_group_create", "action": "add_group",
                            "new_groupname": group,
                            "a_description": self.descriptions.get(f"group:{group}", "")},
                   f"the creation of group {group}")
        if name_key(group) not in _folded([found.name for found in
                                            read_groups(self.session)]):
            raise self._not_made(f"the creation of group {group}", f"no group {group}")
        if change.members:
            self._members(group, list(change.members), [],
                          done=f"; group {group} was created, without its members")

    def _members(self, group: str, add: list[str], remove: list[str], *,
                 done: str = "") -> None:
        what = f"the members of group {group}"
        self._send(WIZARD, {"wiz_func": "group_user_edit", "action": "group_user_edit",
                            "groupname": group, **_indexed("select_user", add),
                            **_indexed("unselect_user", remove)}, what)
        found = read_members(self.session, [group])[group]
        members = _folded(found)
        if not _folded(add) <= members or _folded(remove) & members:
            # As the NAS spells them, invisible characters shown: they came from the NAS.
            shown = ", ".join(visible(member) for member in sorted(found)) or "none"
            raise self._not_made(what, f"members {shown}", done=done)

    # -- shares ---------------------------------------------------------------------------

    def _shares(self) -> set[str]:
        return _folded(read_share_names(self.session))

    def _create_share(self, change: Change) -> None:
        share = change.subject
        # Closed: only administrators until the people's own rights are written below.
        self._send(CREATE, {"wiz_func": "share_create", "action": "add_share",
                            "share_name": share,
                            "comment": self.descriptions.get(f"share:{share}", ""),
                            "vol_no": str(self.volume), "path_type": "auto",
                            "access_r": "admin_only", "guest": "deny", "qsync": "0",
                            "quotaRadio": "0", "quota_size": ""},
                   f"the creation of share {share}")
        if name_key(share) not in self._shares():
            raise self._not_made(f"the creation of share {share}", f"no share {share}")
        # Closed means closed: QTS's default for a new share is everyone read/write.
        everyone = {name_key(row.share): row.own
                    for row in read_group_rights(self.session, EVERYONE)}
        if everyone.get(name_key(share)) is not None:
            raise self._stopped(
                f"QTS created share {share} open to group {EVERYONE} "
                f"({everyone[name_key(share)]}) although nasops asked for it closed "
                "(access_r=admin_only)", done=f"; share {share} was created: remove "
                f"{EVERYONE}'s right on it ({SHARE_PERMISSIONS}) before anything is saved "
                "there")

    def _share_property(self, old: str, new: str, flags: dict[str, bool] | None,
                        what: str) -> None:
        """share_property's edit: the share's whole record sent back, with its new name
        and, given flags, those flags; QTS's edit form takes the whole record."""
        detail = read_share_detail(self.session, old)
        current = answers.share_flags(detail)
        wanted = {**current, **(flags or {})}
        self._send(WIZARD, {"wiz_func": "share_property", "action": "share_property",
                            "old_sname": old, "new_sname": new,
                            "share_comment": detail["comment"],
                            "manual_path": detail["path"], "vol_no": detail["selectedVol"],
                            "share_hidden": detail["hidden"], "oplocks": detail["oplocks"],
                            "recycle_bin": detail["recyclePerShare"],
                            **{name: str(int(on)) for name, on in wanted.items()}}, what)

    def _rename_share(self, change: Change) -> None:
        new, old = change.subject, change.target
        what = f"the rename of share {old} to {new}"
        self._share_property(old, new, None, what)
        shares = self._shares()
        if name_key(new) not in shares or name_key(old) in shares:
            found = [name for name in (old, new) if name_key(name) in shares]
            raise self._not_made(what, f"shares {', '.join(found) or 'neither'} there")

    def _set_share_flags(self, change: Change) -> None:
        share, wanted = change.subject, dict(change.flags)
        what = f"the flags of share {share}"
        self._share_property(share, share, wanted, what)
        found = answers.share_flags(read_share_detail(self.session, share))
        if found != wanted:
            raise self._not_made(what, ", ".join(f"{name} {'on' if on else 'off'}"
                                                 for name, on in found.items()))

    # -- rights ---------------------------------------------------------------------------

    def _set_rights(self, login: str, given: list[Change]) -> None:
        what = f"the share rights of {login}"
        lists: dict[str, list[str]] = {name: [] for name in (*RIGHT_LISTS.values(),
                                                             "no_share")}
        for change in given:
            lists[RIGHT_LISTS[change.right]].append(change.target)
        form = {"wiz_func": "user_share_edit", "action": "user_share_edit", "type": "0",
                "userName": login, "recursive": "0"}
        for name, shares in lists.items():
            form.update(_indexed(name, shares))
        self._send(WIZARD, form, what)
        rows = {name_key(row.share): row for row in read_rights(self.session, [login])[login]}
        for change in given:
            row = rows.get(name_key(change.target))
            own, effective = (row.own, row.effective) if row else (None, None)
            if own != change.right:
                raise self._not_made(f"{what} on {change.target}",
                                     f"own entry {own or 'none'}")
        for change in given:
            row = rows.get(name_key(change.target))
            effective = row.effective if row else None
            # A group's entry (QTS's own everyone, say) can give more than the person's own:
            # what plan refuses for people already there, found here for those just made.
            if effective != change.right and change.enabled:
                raise self._stopped(group_override(login, change.target, effective,
                                                   change.right))
