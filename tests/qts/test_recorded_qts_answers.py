"""Recorded QTS answers: nasops' parsers on every recording under tests/qts/recorded/
(issue 15, docs/qts.md).

A directory there is either a capture of a real NAS (`nasops qts capture`) or `synthetic/`,
hand-written by nasops and saying so. Each answer must match its meta file's sha256 and
firmware and be read by the parser its name says. Today only synthetic/ exists, so these
prove the parsers read our reading of QTS 5.1.9; a capture from a real NAS added here is
checked the same way with no change to this file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from nasops.qts import answers
from nasops.qts.facts import READS, SHARE_FIELDS

pytestmark = pytest.mark.qts_recorded
RECORDED = Path(__file__).parent / "recorded"
RECORDINGS = sorted(path.parent for path in RECORDED.glob("*/meta.json"))
PARSERS = {"users": answers.users, "groups": answers.groups, "shares": answers.shares,
           "members": answers.members, "share_rights": answers.share_rights,
           "group_share_rights": answers.share_rights,
           "share_property": lambda root: answers.share_flags(
               answers.detail(root, "shareProperty", SHARE_FIELDS, "share_property"))}


def check_recording(directory: Path) -> dict[str, object]:
    """Given a recording, check hashes, firmware and parsing; return what was parsed."""
    meta = json.loads((directory / "meta.json").read_text())
    assert sorted(meta["answers"]) == sorted(f"{name}.xml" for name in ["login", *READS])
    parsed: dict[str, object] = {}
    for file, entry in meta["answers"].items():
        content = (directory / file).read_bytes()
        assert hashlib.sha256(content).hexdigest() == entry["sha256"], file
        root = answers.parse(content, file)
        firmware = answers.firmware_of(root)
        assert firmware is not None, f"{file}: no firmware"
        assert (firmware.model, firmware.version, firmware.number) == (
            meta["model"], meta["firmware"]["version"], meta["firmware"]["number"]), file
        name = file.removesuffix(".xml")
        parsed[name] = answers.login(root) if name == "login" else PARSERS[name](root)
    return parsed


def test_recorded_qts_directories_are_captures_or_say_they_are_synthetic() -> None:
    assert RECORDINGS, "tests/qts/recorded/ holds no recording at all"
    for directory in RECORDINGS:
        source = json.loads((directory / "meta.json").read_text())["source"]
        if directory.name == "synthetic":
            assert source.startswith("hand-written by nasops (synthetic)")
        else:
            assert source.startswith("nasops qts capture, from a real NAS"), directory


@pytest.mark.parametrize("directory", RECORDINGS, ids=[path.name for path in RECORDINGS])
def test_recorded_qts_answers_match_their_meta_and_parse(directory: Path) -> None:
    parsed = check_recording(directory)
    login = parsed["login"]
    assert isinstance(login, answers.Login) and login.passed
    users = parsed["users"]
    assert isinstance(users, list) and any(user.name == "admin" for user in users)


def test_recorded_qts_synthetic_answers_read_as_written() -> None:
    parsed = check_recording(RECORDED / "synthetic")
    assert parsed["users"] == [answers.Account("admin", 0, True),
                               answers.Account("guest", 65534, False),
                               answers.Account("user-1", 1000, True),
                               answers.Account("user-2", 1001, False)]
    assert [group.name for group in parsed["groups"]] == [  # type: ignore[attr-defined]
        "administrators", "everyone", "group-1"]
    shares = parsed["shares"]
    assert shares == answers.ShareList(
        shares=[answers.Share("Public", False), answers.Share("share-1", False),
                answers.Share("share-2", True)],
        advanced_folder_permissions=True, windows_acl=False, access_based_enumeration=True)
    assert parsed["members"] == ["admin", "user-1"]
    assert parsed["share_rights"] == [answers.ShareRight("Public", "RW", "RW"),
                                      answers.ShareRight("share-1", None, "RO"),
                                      answers.ShareRight("share-2", "Deny", None)]
    assert parsed["share_property"] == {"qsync": True, "hide_unreadable": True,
                                        "share_enumeration": False}
    assert parsed["group_share_rights"] == [answers.ShareRight("Public", "RW", "RW"),
                                            answers.ShareRight("share-1", None, None),
                                            answers.ShareRight("share-2", "RO", "RO")]
    login = parsed["login"]
    assert isinstance(login, answers.Login)
    assert login.sid == "REDACTED"  # read through CDATA, as QTS sends it
    assert login.firmware == answers.Firmware("TS-464", "5.1.9", "2954", "20241120",
                                              storage_v2=True, is_zfs=False)


def test_recorded_qts_a_capture_passes_the_same_checks(tmp_path: Path) -> None:
    """What `nasops qts capture` writes is what this tier reads, redacted (here from the
    synthetic answers given real-looking names: the capture code path, not a NAS)."""
    from nasops.qts.capture import write_capture  # noqa: PLC0415

    synthetic = RECORDED / "synthetic"
    names = {"user-1": "mlsimon", "user-2": "N", "share-1": "Afrique", "group-1": "direction",
             "person-1": "Marie-Line Simon", "user-host": "TS-464"}
    recorded = {}
    for name in ["login", *READS]:
        text = (synthetic / f"{name}.xml").read_text()
        for stand_in, real in names.items():
            text = text.replace(f">{stand_in}<", f">{real}<").replace(
                f", {stand_in}<", f", {real}<")
        # A path and a text after a child element, which no name tag holds.
        text = text.replace("</QDocRoot>", "<home>/share/homes/mlsimon</home><x><y/>"
                            "Afrique et direction</x></QDocRoot>")
        recorded[name] = text.encode()
    firmware = answers.firmware_of(answers.parse(recorded["login"], "login"))
    written = write_capture(tmp_path / "capture", recorded, firmware, "tester")
    assert len(written) == len(READS) + 2  # and the login, and meta.json
    texts = "".join(path.read_text() for path in written)
    for real in ("mlsimon", "Afrique", "direction", "Marie-Line Simon"):
        assert real not in texts, real
    parsed = check_recording(tmp_path / "capture")  # the model kept, though the host's name
    assert [user.name for user in parsed["users"]] == [  # type: ignore[attr-defined]
        "admin", "guest", "user-1", "user-2"]
    # QTS's codes survive a login that happens to equal one ("N": nothing).
    assert parsed["share_rights"][2] == answers.ShareRight(  # type: ignore[index]
        "share-2", "Deny", None)


@pytest.mark.parametrize(("content", "message"), [
    (b"<QDocRoot><userroot><data/><ret>-3</ret></userroot></QDocRoot>", "error code -3"),
    (b"<QDocRoot><authPassed>1</authPassed></QDocRoot>", "has no <userroot>"),
    (b"\x00" * 10, "is not XML"),
    (b"<QDocRoot>" + b"x" * (answers.MAXIMUM_ANSWER_BYTES + 1), "larger than 8 MiB"),
])
def test_recorded_qts_answers_nasops_cannot_read_are_refused_in_words(
        content: bytes, message: str) -> None:
    with pytest.raises(answers.AnswerError, match=message):
        answers.users(answers.parse(content, "the list of users"))
