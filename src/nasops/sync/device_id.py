"""Syncthing device IDs: the check digits Syncthing verifies before it accepts an ID.

An ID is the base32 SHA-256 of the device's certificate (52 characters) cut into four chunks
of 13, each followed by a Luhn mod 32 check character, then shown in eight groups of seven.
Syncthing refuses an ID whose check characters are wrong ("check digit incorrect"), so a
typo in the spec is caught here instead of failing the apply on the NAS.
"""

from __future__ import annotations

import base64
import hashlib

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
CHUNK = 13
CHUNKS = 4
GROUP = 7
# Where the last of the 52 data characters stands among the 56 (after 3 check characters).
LAST_DATA = (CHUNK + 1) * (CHUNKS - 1) + CHUNK - 1


def luhn_base32(text: str) -> str:
    """Given base32 characters, return Syncthing's Luhn mod 32 check character for them."""
    factor, total = 1, 0
    for character in text:
        addend = factor * ALPHABET.index(character)
        factor = 2 if factor == 1 else 1
        total += addend // 32 + addend % 32
    return ALPHABET[(32 - total % 32) % 32]


def _compact(device_id: str) -> str | None:
    """Given a device ID, return its 56 characters without dashes, or None if malformed."""
    compact = device_id.replace("-", "").upper()
    if len(compact) != (CHUNK + 1) * CHUNKS or any(c not in ALPHABET for c in compact):
        return None
    return compact


def device_id_content_problem(device_id: str) -> str | None:
    """Given a well-formed device ID, return what is wrong with its check characters (or its
    last data character), or None.

    A malformed ID (wrong length or letters) also gives None: its shape is another message's
    business (the spec schema's, or `device_id_problem`'s).
    """
    compact = _compact(device_id)
    if compact is None:
        return None
    for index in range(CHUNKS):
        chunk = compact[index * (CHUNK + 1):(index + 1) * (CHUNK + 1)]
        if luhn_base32(chunk[:CHUNK]) != chunk[CHUNK]:
            return ("this is not a Syncthing device ID: the check character of group "
                    f"{2 * index + 2} does not match (a typing error?); copy the ID from the "
                    "laptop's Syncthing: Actions > Show ID")
    # 52 characters of 5 bits hold the 256-bit digest plus 4 zero bits. Syncthing accepts
    # other bits there but stores the ID rewritten, so it would never match the spec's.
    if ALPHABET.index(compact[LAST_DATA]) % 16:
        return ("this is not a Syncthing device ID: the 6th character of group 8 can only be "
                "A or Q in one (Syncthing would store a different ID); copy the ID from the "
                "laptop's Syncthing: Actions > Show ID")
    return None


def device_id_problem(device_id: str) -> str | None:
    """Given a device ID as the spec writes it, return what is wrong with it, or None."""
    if _compact(device_id) is None:
        return "a Syncthing device ID is 56 letters A-Z and digits 2-7 (eight groups of seven)"
    return device_id_content_problem(device_id)


def device_id_from_seed(seed: str) -> str:
    """Given any text, return a valid device ID derived from its SHA-256 (check characters
    included): stable fixtures and examples, not the ID of any real device."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    data = base64.b32encode(digest).decode("ascii").rstrip("=")  # as Syncthing encodes it
    chunks = [data[index:index + CHUNK] for index in range(0, CHUNK * CHUNKS, CHUNK)]
    compact = "".join(chunk + luhn_base32(chunk) for chunk in chunks)
    return "-".join(compact[index:index + GROUP] for index in range(0, len(compact), GROUP))
