"""What a QTS web API answer says (issue 15, docs/qts.md): facts parsed from its XML only.

The element names are our reading of answers others published from real QTS 5.1.9 units
(design notes §1.2; read, not copied). They are tested on nasops' own hand-written answers
(tests/qts/recorded/synthetic/) and on every capture `nasops qts capture` brings back from
a real NAS (tests/qts/recorded/<model>-<firmware>/): a firmware that answers differently
fails there, in plain words, not somewhere in a driver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree import ElementTree

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from nasops.errors import NasopsError

# Text the NAS sends is shown with control and invisible characters as \uXXXX, as the spec's
# own names are: a hostile name can neither rewrite the terminal nor hide itself.
from nasops.spec.names import visible

# The largest answer read: a user list of a few thousand people is well under 1 MiB.
MAXIMUM_ANSWER_BYTES = 8 * 1024 * 1024
# QTS's answers are a few levels deep; a deeper one is refused (copying it would recurse).
MAXIMUM_DEPTH = 32
ROOT_TAG = "QDocRoot"


class AnswerError(NasopsError):
    """The NAS answered something nasops cannot read as the QTS web API's XML."""


def parse(content: bytes, what: str) -> ElementTree.Element:
    """Given an answer's bytes and what was asked (for the message), return its root element.

    Refused: an answer over MAXIMUM_ANSWER_BYTES, a DOCTYPE or entity declaration (QTS
    sends none; expanding one is how a hostile answer exhausts memory), anything but a
    QDocRoot document.
    """
    if len(content) > MAXIMUM_ANSWER_BYTES:
        raise AnswerError(f"{what}: the NAS's answer is larger than "
                          f"{MAXIMUM_ANSWER_BYTES // (1024 * 1024)} MiB; refused")
    try:
        root: ElementTree.Element = fromstring(content, forbid_dtd=True)
    except DefusedXmlException:
        raise AnswerError(f"{what}: the NAS's answer declares a DOCTYPE or entities, which "
                          "the QTS web API does not send; refused") from None
    except ElementTree.ParseError as error:
        line, column = error.position
        raise AnswerError(f"{what}: the NAS's answer is not XML (line {line}, column "
                          f"{column}); is this address a QNAP NAS's web interface?") from None
    except (LookupError, ValueError):  # an encoding Python lacks or cannot decode with
        raise AnswerError(f"{what}: the NAS's answer declares an encoding nasops cannot "
                          "read (QTS answers in UTF-8); refused") from None
    if _depth(root) > MAXIMUM_DEPTH:
        raise AnswerError(f"{what}: the NAS's answer is nested deeper than {MAXIMUM_DEPTH} "
                          "levels, which the QTS web API never is; refused")
    if root.tag != ROOT_TAG:
        raise AnswerError(f"{what}: the NAS's answer is XML but not the QTS web API's "
                          f"(<{ROOT_TAG}> expected)")
    return root


def _depth(root: ElementTree.Element) -> int:
    deepest, pending = 0, [(root, 1)]
    while pending:
        element, depth = pending.pop()
        deepest = max(deepest, depth)
        if depth <= MAXIMUM_DEPTH:
            pending += [(child, depth + 1) for child in element]
    return deepest


def text_of(root: ElementTree.Element, path: str) -> str | None:
    """Given an element and a path below it, return the stripped text there, or None."""
    found = root.find(path)
    if found is None:
        return None
    return (found.text or "").strip()


def _flag(root: ElementTree.Element, path: str) -> bool | None:
    value = text_of(root, path)
    return None if value in (None, "") else value == "1"


def _number(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def authenticated(root: ElementTree.Element) -> bool:
    """Given an answer, return whether QTS accepted the session (authPassed is 1)."""
    return text_of(root, "authPassed") == "1"


@dataclass(frozen=True)
class Firmware:
    """The model and firmware a QTS answer announces (each answer carries them)."""

    model: str
    """The model as QNAP sells it (displayModelName), e.g. TS-873."""
    version: str
    """e.g. 5.1.9"""
    number: str
    """The build number QNAP's release notes use, e.g. 2954."""
    build: str
    """The build date, e.g. 20241120."""
    storage_v2: bool | None
    """Storage Manager v2: a different set of storage CGI calls from v1."""
    is_zfs: bool | None
    """QuTS hero (ZFS) rather than QTS (ext4)."""

    @property
    def label(self) -> str:
        """`model-version.number`, as capture directories and profiles name a firmware."""
        return f"{self.model}-{self.version}.{self.number}"


def firmware_of(root: ElementTree.Element) -> Firmware | None:
    """Given an answer, return the model and firmware it announces, or None without them."""
    version = text_of(root, "firmware/version")
    if not version:
        return None
    model = text_of(root, "model/displayModelName") or text_of(root, "model/modelName")
    return Firmware(model=model or "unknown", version=version,
                    number=text_of(root, "firmware/number") or "unknown",
                    build=text_of(root, "firmware/build") or "unknown",
                    storage_v2=_flag(root, "model/storage_v2"),
                    is_zfs=_flag(root, "model/is_zfs"))


@dataclass(frozen=True)
class Login:
    """What authLogin.cgi answered."""

    passed: bool
    sid: str = field(repr=False)
    """The session id: a secret for as long as the session lasts."""
    error_value: str | None
    firmware: Firmware | None


def login(root: ElementTree.Element) -> Login:
    """Given authLogin.cgi's answer, return whether it let us in, with what session."""
    sid = text_of(root, "authSid") or ""
    return Login(passed=authenticated(root) and bool(sid), sid=sid,
                 error_value=text_of(root, "errorValue"), firmware=firmware_of(root))


@dataclass(frozen=True)
class Account:
    """A user or group as QTS lists it."""

    name: str
    number: int | None
    """The uid or gid."""
    enabled: bool = True


def _listed(root: ElementTree.Element, section: str, what: str) -> ElementTree.Element:
    found = root.find(section)
    if found is None:
        raise AnswerError(f"{what}: the NAS's answer has no <{section}>: this firmware "
                          "answers differently from the QTS nasops has read; capture it "
                          "(nasops qts capture) so that nasops can learn it")
    status = text_of(found, "ret")
    if status not in (None, "0"):
        raise AnswerError(f"{what}: the NAS answered with error code {visible(status)}")
    return found


def total(root: ElementTree.Element, section: str, count_tag: str) -> int | None:
    """Given a list answer, the element holding the list and its count's tag, return how
    many QTS says there are in all (a list comes in pages: lower/upper), or None."""
    found = root.find(section)
    return None if found is None else _number(text_of(found, count_tag))


def users(root: ElementTree.Element) -> list[Account]:
    """Given privRequest.cgi's user list (subfunc=user), return its accounts."""
    section = _listed(root, "userroot", "the list of users")
    found = [Account(name=text_of(user, "username") or "",
                     number=_number(text_of(user, "userid")),
                     enabled=text_of(user, "user_enable") != "0")
             for user in section.iterfind("data/user")]
    return found


def groups(root: ElementTree.Element) -> list[Account]:
    """Given privRequest.cgi's group list (subfunc=group), return its groups."""
    section = _listed(root, "grouproot", "the list of groups")
    found = [Account(name=text_of(group, "groupname") or "",
                     number=_number(text_of(group, "groupid")))
             for group in section.iterfind("data/group")]
    return found


@dataclass(frozen=True)
class Share:
    """A shared folder as QTS lists it."""

    name: str
    hidden: bool


@dataclass(frozen=True)
class ShareList:
    """privRequest.cgi's share list: the shares and the NAS-wide folder-rights switches."""

    shares: list[Share]
    advanced_folder_permissions: bool | None
    """ACLEnabled: POSIX ACLs on the data volume, which nasops' folder rights need."""
    windows_acl: bool | None
    """WinACLEnabled: Windows ACLs, which nasops needs off."""
    access_based_enumeration: bool | None


def shares(root: ElementTree.Element) -> ShareList:
    """Given privRequest.cgi's share list (subfunc=share), return shares and switches."""
    section = _listed(root, "func/ownContent/shareInfo", "the list of shared folders")
    found = [Share(name=text_of(share, "shareName") or "",
                   hidden=text_of(share, "hidden") == "1")
             for share in section.iterfind("data/share")]
    return ShareList(
        shares=found,
        advanced_folder_permissions=_flag(section, "ACLEnabled"),
        windows_acl=_flag(section, "WinACLEnabled"),
        access_based_enumeration=_flag(section, "ABEEnabled"))


def members(root: ElementTree.Element) -> list[str]:
    """Given privWizard.cgi's group_user_edit answer, return the group's members."""
    value = text_of(root, "func/ownContent/ownUser")
    if value is None:
        raise AnswerError("a group's members: the NAS's answer has no <ownUser>")
    return [name for name in value.split(", ") if name]


# A share right as user_share_edit writes it: R read-only, W read/write, I deny (QTS's
# "No access"); empty, no entry of one's own. `preview` is what QTS then gives in effect
# (N: nothing), merging the person's groups.
RIGHT_CODES = {"R": "RO", "W": "RW", "I": "Deny", "": None, "N": None}


@dataclass(frozen=True)
class ShareRight:
    """One share in a person's share-rights answer."""

    share: str
    own: str | None
    """The person's own entry: RO, RW, Deny or None."""
    effective: str | None
    """What QTS gives in effect once their groups are merged: RO, RW, Deny or None."""


def share_rights(root: ElementTree.Element) -> list[ShareRight]:
    """Given privWizard.cgi's user_share_edit answer, return one ShareRight per share."""
    section = _listed(root, "func/ownContent/shareroot", "a person's share rights")
    found = []
    for row in section.iterfind("data/share"):
        own, effective = text_of(row, "type") or "", text_of(row, "preview") or ""
        if own not in RIGHT_CODES or effective not in RIGHT_CODES:
            raise AnswerError(f"a person's share rights: unknown right "
                              f"{visible(own)!r}/{visible(effective)!r}; "
                              "this firmware answers differently from the QTS nasops has read")
        found.append(ShareRight(text_of(row, "sharename") or "", RIGHT_CODES[own],
                                RIGHT_CODES[effective]))
    return found


@dataclass(frozen=True)
class VolumeUsage:
    """A data volume's size and free bytes, and the bytes each of its shares uses."""

    label: str
    size_bytes: int
    free_bytes: int
    shares: dict[str, int]


def disk_usage(root: ElementTree.Element) -> list[VolumeUsage]:
    """Given chartReq.cgi's disk_usage answer, return each volume's usage (volumes QTS
    lists in volumeUseList but not in volumeList are its own, left out)."""
    labels = {}
    for volume in root.iterfind("volumeList/volume"):
        key = text_of(volume, "volumeValue")
        if key:
            labels[key] = text_of(volume, "volumeLabel") or f"volume {key}"
    if root.find("volumeUseList") is None:
        raise AnswerError("the disk usage: the NAS's answer has no <volumeUseList>")
    found = []
    for use in root.iterfind("volumeUseList/volumeUse"):
        key = text_of(use, "volumeValue") or ""
        size, free = _number(text_of(use, "total_size")), _number(text_of(use, "free_size"))
        if key not in labels:
            continue
        if size is None or free is None:
            raise AnswerError(f"the disk usage: volume {key} has no size or free size")
        shares = {}
        for folder in use.iterfind("folder_element"):
            used = _number(text_of(folder, "used_size"))
            name = text_of(folder, "sharename")
            if name and used is not None:
                shares[name] = used
        found.append(VolumeUsage(labels[key], size, free, shares))
    return found


def health(root: ElementTree.Element) -> str:
    """Given manaRequest.cgi's sysinfo answer (sysHealth=1), return QTS's health word."""
    status = text_of(root, "func/ownContent/sysHealth/status")
    if not status:
        raise AnswerError("the system health: the NAS's answer has no status")
    return status


def detail(root: ElementTree.Element, section: str, fields: tuple[str, ...],
           what: str) -> dict[str, str]:
    """Given a detail answer (user_edit's userInfo, share_property's shareProperty), return
    the fields nasops sends back unchanged when it edits one thing (QTS's edit forms take
    the whole record); a field missing from the answer stops the edit."""
    found = root.find(section)
    if found is None:
        raise AnswerError(f"{what}: the NAS's answer has no <{section}>")
    values = {}
    for name in fields:
        value = text_of(found, name)
        if value is None:
            raise AnswerError(f"{what}: the NAS's answer has no <{name}>; nasops does not "
                              "send an edit that would blank it")
        values[name] = value
    return values


def password_changed(root: ElementTree.Element) -> bool:
    """Given user_password_edit's answer, return whether QTS says it changed the password
    (passwordCheck and passwordChange both 0; authPassed alone says nothing)."""
    return (text_of(root, "func/userPasswordEdit/passwordCheck") == "0"
            and text_of(root, "func/userPasswordEdit/passwordChange") == "0")


# The share flags nasops sets, as share_property's detail spells them.
SHARE_FLAGS = ("qsync", "hide_unreadable", "share_enumeration")


def share_flags(detail: dict[str, str]) -> dict[str, bool]:
    """Given a share's detail (share_property), return its flags: qsync (1/0),
    hide_unreadable and share_enumeration (yes/no)."""
    return {"qsync": detail["qsync"] == "1",
            "hide_unreadable": detail["hide_unreadable"] == "yes",
            "share_enumeration": detail["share_enumeration"] == "yes"}
