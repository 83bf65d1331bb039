"""`nasops qts capture`: record the answers nasops reads from a real QTS NAS (issue 15).

The provider runs it during the install window; the recording becomes the *recorded* test
tier (tests/qts/recorded/<model>-<firmware>/): nasops' parsers are then tested on what that
firmware really answers. Read-only. Before anything is written, every answer is redacted:
session ids and tokens; the organisation's names as the lists give them (users, groups,
shares, the host name, full names, e-mails, descriptions, phone numbers; QTS's own names
such as `admin` or `Public` are kept, they identify no one), where they are a whole text
and, from 4 characters, inside longer texts too (paths, comments); and any hex string of 32
digits or more (keys, hashes). A name that no list gives (free text in some answer) cannot
be known: the provider reviews a capture before committing it. A meta file says model,
firmware, date, operator and the sha256 of each recorded answer.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

from nasops import __version__
from nasops.errors import BadInputError
from nasops.qts import answers
from nasops.qts.answers import Firmware
from nasops.qts.facts import READS
from nasops.spec.qts import QTS_GROUPS, QTS_SHARES, QTS_USERS

SESSION_TAGS = frozenset({"authSid", "sid", "qtoken", "token", "savekey"})
# Elements whose text names a person, a group, a share or the NAS.
NAME_TAGS = {"username": "user", "user": "user", "groupname": "group", "shareName": "share",
             "share_name": "share", "sharename": "share", "hostname": "host",
             "fullname": "person", "email": "person", "description": "text",
             "tel": "person", "tel_country_code": "person", "serverName": "host"}
# Elements whose text is a list of names, ", " between them (group members, a user's groups).
LIST_TAGS = {"ownUser": "user", "ownGroup": "group"}
# What identifies the firmware, and codes: kept as QTS sent them, even when equal to a
# learnt name (a NAS named after its model; a login "N", QTS's code for "nothing").
PRESERVED_TAGS = frozenset({"displayModelName", "modelName", "internalModelName", "platform",
                            "platform_ex", "version", "number", "build", "patch", "buildTime",
                            "type", "preview", "ret", "count", "shareCount", "authPassed",
                            "volumeValue", "is_zfs", "storage_v2"})
# Names this long are also replaced inside longer texts (paths, addresses, comments);
# shorter ones only where they are the whole text (a 2-letter login would hit any word).
SUBSTRING_LENGTH = 4
QTS_OWN = frozenset(QTS_USERS | QTS_GROUPS | QTS_SHARES)
LONG_HEX = re.compile(r"[0-9A-Fa-f]{32,}")
REDACTED = ["session ids and tokens (authSid, sid, qtoken, savekey)",
            "names of users, groups and shares, the host name, full names, e-mails, "
            "descriptions and phone numbers as the lists give them (QTS's own names kept), "
            "also inside longer texts when 4 characters or more",
            "hex strings of 32 digits or more"]


@dataclass
class Recording:
    """A session's recorder (nasops.qts.session.Recorder) keeping the login answer and the
    answers of READS, by the name each gets in a capture."""

    answers: dict[str, bytes] = field(default_factory=dict)

    def __call__(self, what: str, content: bytes) -> None:
        names = {read.what: name for name, read in READS.items()}
        names["login"] = "login"
        if what in names:
            self.answers.setdefault(names[what], content)  # a list's first page


@dataclass
class Redactor:
    """Replaces the organisation's names consistently across one capture's answers."""

    names: dict[str, str] = field(default_factory=dict)
    _pattern: re.Pattern[str] | None = None

    def _stand_in(self, kind: str, value: str) -> str:
        if value not in self.names:
            count = sum(1 for known in self.names.values() if known.startswith(kind + "-"))
            self.names[value] = f"{kind}-{count + 1}"
        return self.names[value]

    def collect(self, root: ElementTree.Element) -> None:
        """Learn the names an answer holds (first pass over every answer)."""
        for element in root.iter():
            value = (element.text or "").strip()
            kind = NAME_TAGS.get(element.tag) or LIST_TAGS.get(element.tag)
            parts = value.split(", ") if element.tag in LIST_TAGS else [value]
            for part in parts:
                if kind and part and part.casefold() not in QTS_OWN:
                    self._stand_in(kind, part)

    def _inside(self, value: str) -> str:
        """Replace learnt names found inside a longer text, longest first."""
        if self._pattern is None:
            long_names = sorted((name for name in self.names if len(name) >= SUBSTRING_LENGTH),
                                key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, long_names)) or r"(?!)")
        return self._pattern.sub(lambda found: self.names[found.group(0)], value)

    def _clean(self, tag: str, value: str) -> str:
        if not value.strip():
            return value
        if tag in SESSION_TAGS:
            return "REDACTED"
        if tag in PRESERVED_TAGS:
            return value
        if tag in LIST_TAGS:
            parts = value.strip().split(", ")
            return ", ".join(self._clean("username", part) for part in parts)
        stripped = value.strip()
        # A name learnt in one place is replaced wherever else it appears (an element
        # nasops does not know); a number elsewhere is a flag or a count, kept.
        if stripped in self.names and (tag in NAME_TAGS or not stripped.isdigit()):
            return self.names[stripped]
        return LONG_HEX.sub("REDACTED", self._inside(value))

    def redact(self, root: ElementTree.Element) -> bytes:
        """Given a parsed answer, return its redacted XML (second pass)."""
        for element in root.iter():
            if element.text is not None:
                element.text = self._clean(element.tag, element.text)
            if element.tail is not None:  # text after a child belongs to no name tag
                element.tail = self._clean("", element.tail)
            for key, value in element.attrib.items():
                element.attrib[key] = self._clean(key, value)
        return bytes(ElementTree.tostring(root, encoding="utf-8", xml_declaration=True))


def capture_directory(base: Path, firmware: Firmware | None) -> Path:
    """Given the directory captures go to and the NAS's firmware, return this capture's."""
    if firmware is None:
        raise BadInputError("the NAS did not say its model and firmware at login; a capture "
                            "must say which firmware it comes from")
    label = re.sub(r"[^A-Za-z0-9._-]+", "_", firmware.label).strip("._") or "unknown"
    return base / label


def write_capture(directory: Path, recorded: dict[str, bytes], firmware: Firmware | None,
                  operator: str) -> list[Path]:
    """Given where to write, the raw answers by name (login and READS), the firmware and
    who captured, redact and write them with meta.json; return the files written.

    An existing capture directory is refused: a capture is evidence, never overwritten.
    """
    if firmware is None:
        raise BadInputError("the NAS did not say its model and firmware at login; a capture "
                            "must say which firmware it comes from")
    if directory.exists():
        raise BadInputError(f"{directory}: a capture of this firmware exists; move it away "
                            "or pass another -o directory (captures are never overwritten)")
    roots = {name: answers.parse(content, name) for name, content in recorded.items()}
    redactor = Redactor()
    for root in roots.values():
        redactor.collect(root)
    cleaned = {f"{name}.xml": redactor.redact(root) for name, root in roots.items()}
    requests = {"login": "authLogin.cgi (POST user, pwd, serviceKey=1)"}
    requests.update({name: f"{read.path.removeprefix('/cgi-bin/')} "
                     + " ".join(f"{key}={value}" for key, value in read.form.items())
                     for name, read in READS.items()})
    meta = {
        "source": "nasops qts capture, from a real NAS (read-only requests)",
        "model": firmware.model, "firmware": {"version": firmware.version,
                                              "number": firmware.number,
                                              "build": firmware.build},
        "storage_v2": firmware.storage_v2, "is_zfs": firmware.is_zfs,
        "captured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "operator": operator, "nasops_version": __version__, "redacted": REDACTED,
        "answers": {file: {"request": requests[file.removesuffix(".xml")],
                           "sha256": hashlib.sha256(content).hexdigest()}
                    for file, content in cleaned.items()},
    }
    directory.mkdir(parents=True)
    written = []
    for file, content in cleaned.items():
        (directory / file).write_bytes(content)
        written.append(directory / file)
    (directory / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return [*written, directory / "meta.json"]
