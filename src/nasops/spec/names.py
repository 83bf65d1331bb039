"""Rules for names: POSIX logins and groups, Windows-safe folder names, Samba share names."""

from __future__ import annotations

import difflib
import re
import unicodedata

POSIX_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
LOGIN_NAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
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


def _dots_and_paths(name: str) -> str | None:
    if name in ("", ".", ".."):
        return f"'{name}' is not a folder name" if name else "a folder name cannot be empty"
    if name.startswith("/"):
        return f"'{name}' is an absolute path; give one folder name and nest folders instead"
    if ".." in name.replace("\\", "/").split("/"):
        return f"'{name}' climbs out of its parent ('..'); give one folder name"
    return None


def _characters(name: str) -> str | None:
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
    if len(name.encode()) > MAXIMUM_NAME_BYTES:
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
    if len(login) > MAXIMUM_LOGIN_LENGTH:
        return f"'{login}' is longer than {MAXIMUM_LOGIN_LENGTH} characters; choose a shorter login"
    plain = re.sub(r"\s+", ".", unicodedata.normalize("NFKD", login).encode("ascii", "ignore")
                   .decode().lower())
    hint = f" (try '{plain}')" if LOGIN_NAME.match(plain) else ""
    if login.lower() != login and LOGIN_NAME.match(login.lower()):
        return f"'{login}' has capital letters; logins are lowercase{hint}"
    if any(not char.isascii() for char in login):
        return f"'{login}' has accents or letters outside a-z, which logins cannot have{hint}"
    if any(char.isspace() for char in login):
        return f"'{login}' contains a space, which logins cannot have{hint}"
    return (f"'{login}' is not a valid login: use lowercase letters, digits, '.', '-' "
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


def suggestion(name: str, candidates: list[str]) -> str:
    """Given a misspelt name, return ' (did you mean 'x'?)' or an empty string."""
    folded = {candidate.casefold(): candidate for candidate in candidates}
    if name.casefold() in folded:
        return f" (did you mean '{folded[name.casefold()]}'?)"
    matches = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=0.6)
    return f" (did you mean '{folded[matches[0]]}'?)" if matches else ""
