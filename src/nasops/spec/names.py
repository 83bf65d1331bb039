"""Rules for names: POSIX logins and groups, Windows-safe folder names, Samba share names."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

POSIX_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}\Z")
LOGIN_NAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}\Z")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9-]{0,30}\Z")
WINDOWS_FORBIDDEN_CHARACTERS = set('\\/:*?"<>|')
WINDOWS_RESERVED_NAMES = {
    "CON", "PRN", "AUX", "NUL",
    *(f"COM{number}" for number in [*range(1, 10), "¹", "²", "³"]),
    *(f"LPT{number}" for number in [*range(1, 10), "¹", "²", "³"]),
}
SAMBA_RESERVED_SHARES = {"global", "homes", "printers", "print$", "ipc$"}
MAXIMUM_NAME_BYTES = 255
MAXIMUM_LOGIN_LENGTH = 32
MAXIMUM_SHARE_NAME_LENGTH = 80
# Characters nobody can see or tell apart: format and bidi controls (zero-width space,
# right-to-left override), line and paragraph separators, private-use, unassigned and
# surrogate code points. Non-ASCII spaces (no-break space) are refused separately.
INVISIBLE_CATEGORIES = {"Cf", "Zl", "Zp", "Co", "Cn", "Cs"}
# "Did you mean" compares a misspelt name with every candidate; bound the comparisons of one
# load, so that a thousand misspelt names against a thousand candidates stay quick.
SUGGESTION_COMPARISONS = 20_000
MAXIMUM_SUGGESTED_LENGTH = 100
_comparisons_left: ContextVar[int] = ContextVar("comparisons_left",
                                                default=SUGGESTION_COMPARISONS)


def _dots_and_paths(name: str) -> str | None:
    if name in ("", ".", ".."):
        return f"'{name}' is not a folder name" if name else "a folder name cannot be empty"
    if name.startswith("/"):
        return f"'{name}' is an absolute path; give one folder name and nest folders instead"
    if ".." in name.replace("\\", "/").split("/"):
        return f"'{name}' climbs out of its parent ('..'); give one folder name"
    return None


def visible(name: str) -> str:
    """Given a name, return it with every invisible or control character shown as \\uXXXX."""
    return "".join(char if char == " " or unicodedata.category(char)[0] not in "CZ"
                   else f"\\u{ord(char):04x}" for char in name)


def invisible_character_problem(name: str) -> str | None:
    """Given a name, return why it holds a character people cannot see, or None."""
    for char in name:
        category = unicodedata.category(char)
        if category == "Cc":  # a line break or tab would end a line of smb.conf or a unit
            return (f"'{visible(name)}' contains a control character (U+{ord(char):04X}: a "
                    "line break, a tab…), which names cannot hold; retype the name")
        if category in INVISIBLE_CATEGORIES or (category == "Zs" and char != " "):
            what = unicodedata.name(char, "an invisible or unassigned character")
            return (f"'{visible(name)}' contains U+{ord(char):04X} ({what.lower()}), which "
                    "people cannot see or tell apart; retype the name")
    return None


def _characters(name: str) -> str | None:
    invisible = invisible_character_problem(name)
    if invisible:
        return invisible
    forbidden = sorted({char for char in name if char in WINDOWS_FORBIDDEN_CHARACTERS})
    if forbidden:
        shown = " ".join(forbidden)
        return f"'{name}' contains {shown}, which Windows does not allow in folder names"
    if any(unicodedata.category(char) == "Cc" for char in name):
        return f"{name!r} contains a control character"
    return None


def _edges_and_devices(name: str) -> str | None:
    if name.endswith((".", " ")):
        return f"'{name}' ends with a dot or a space, which Windows cannot open"
    if name.startswith(" "):
        return f"'{name}' starts with a space, which most people will not see"
    # Windows maps 'NUL.txt' and 'nul.tar.gz' to the device too: only the part before the
    # first dot counts.
    stem = name.split(".", maxsplit=1)[0].upper().rstrip()
    if stem in WINDOWS_RESERVED_NAMES:
        return f"'{name}' is a reserved device name on Windows ({stem})"
    if len(name.encode("utf-8", "surrogatepass")) > MAXIMUM_NAME_BYTES:
        return f"'{name[:40]}…' is longer than {MAXIMUM_NAME_BYTES} bytes"
    return None


def folder_name_problem(name: str) -> str | None:
    """Given a folder name, return why Windows or Samba clients would break on it, or None."""
    for rule in (_dots_and_paths, _characters, _edges_and_devices):
        problem = rule(name)
        if problem:
            return problem
    return None


def share_name_problem(name: str) -> str | None:
    """Given a share name, return why it cannot be a Samba share and top folder, or None."""
    problem = folder_name_problem(name)
    if problem:
        return problem
    if name.lower() in SAMBA_RESERVED_SHARES:
        return f"'{name}' is reserved by Samba; choose another share name"
    if any(char in name for char in "[]=;,%"):
        return f"'{name}' contains one of [ ] = ; , % which Samba share names cannot hold"
    if len(name) > MAXIMUM_SHARE_NAME_LENGTH:
        return f"'{name}' is longer than {MAXIMUM_SHARE_NAME_LENGTH} characters"
    return None


def login_problem(login: str) -> str | None:
    """Given a login, return why it is not a portable POSIX user name, or None."""
    if LOGIN_NAME.match(login):
        return None
    shown = f"'{visible(login)}'"
    if len(login) > MAXIMUM_LOGIN_LENGTH:
        return f"{shown} is longer than {MAXIMUM_LOGIN_LENGTH} characters; choose a shorter login"
    plain = re.sub(r"\s+", ".", unicodedata.normalize("NFKD", login).encode("ascii", "ignore")
                   .decode().lower().strip())
    hint = f" (try '{plain}')" if LOGIN_NAME.match(plain) else ""
    if login.lower() != login and LOGIN_NAME.match(login.lower()):
        return f"{shown} has capital letters; logins are lowercase{hint}"
    what = ("has accents or letters outside a-z" if any(not char.isascii() for char in login)
            else "contains a line break or another control character"
            if any(unicodedata.category(char) == "Cc" for char in login)
            else "contains a space" if any(char.isspace() for char in login) else None)
    if what:
        return f"{shown} {what}, which logins cannot have{hint}"
    return (f"{shown} is not a valid login: use lowercase letters, digits, '.', '-' "
            "or '_', starting with a letter")


def posix_group_problem(name: str) -> str | None:
    """Given a system group name, return why it is not a portable POSIX group name, or None."""
    if POSIX_NAME.match(name):
        return None
    return (f"'{name}' is not a valid system group name: use 1-32 lowercase letters, digits, "
            "'-' or '_', starting with a letter")


def slugify(text: str) -> str:
    """Given a display name like 'Cellule Amérique latine', return 'cellule-amerique-latine'."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if slug and not slug[0].isalpha():
        slug = f"g-{slug}"
    return slug


def samba_case_key(name: str) -> str:
    """Given a share or folder name, return the key under which Samba sees it as the same name.

    Samba compares names case-insensitively one character at a time (its own upper-case
    table, a simple one-to-one mapping): 'Straße' and 'STRASSE' stay two names there, where
    Python's casefold() would merge them. Names are NFC already (the loader normalises them).
    """
    return "".join(_simple_upper(char) for char in name)


def _simple_upper(char: str) -> str:
    upper = char.upper()
    if len(upper) == 1:
        return upper
    # 'ß' upper-cases to 'SS' in full; its one-character mapping keeps it, while 'ᾀ' has a
    # one-character title case ('ᾈ') that the simple mapping uses.
    title = char.title()
    return title if len(title) == 1 else char


@contextmanager
def suggestion_budget(comparisons: int = SUGGESTION_COMPARISONS) -> Iterator[None]:
    """Within this block, "did you mean" compares at most this many name pairs in total."""
    token = _comparisons_left.set(comparisons)
    try:
        yield
    finally:
        _comparisons_left.reset(token)


def suggestion(name: str, candidates: list[str]) -> str:
    """Given a misspelt name, return ' (did you mean 'x'?)' or an empty string.

    An other-case match is always found; the fuzzy search stops once the budget is spent.
    """
    folded = {candidate.casefold(): candidate for candidate in candidates}
    if name.casefold() in folded:
        return f" (did you mean '{folded[name.casefold()]}'?)"
    left = _comparisons_left.get()
    if len(name) > MAXIMUM_SUGGESTED_LENGTH or len(folded) > left:
        return ""
    _comparisons_left.set(left - len(folded))
    matches = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=0.6)
    return f" (did you mean '{folded[matches[0]]}'?)" if matches else ""
