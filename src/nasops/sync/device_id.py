"""Syncthing device IDs: the check digits Syncthing verifies before it accepts an ID.

An ID is the base32 SHA-256 of the device's certificate (52 characters) cut into four chunks
of 13, each followed by a Luhn mod 32 check character, then shown in eight groups of seven.
Syncthing refuses an ID whose check characters are wrong ("check digit incorrect"), so a
typo in the spec is caught here instead of failing the apply on the NAS.
"""

from __future__ import annotations

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
CHUNK = 13
CHUNKS = 4


def luhn_base32(text: str) -> str:
    """Given base32 characters, return Syncthing's Luhn mod 32 check character for them."""
    factor, total = 1, 0
    for character in text:
        addend = factor * ALPHABET.index(character)
        factor = 2 if factor == 1 else 1
        total += addend // 32 + addend % 32
    return ALPHABET[(32 - total % 32) % 32]


def device_id_problem(device_id: str) -> str | None:
    """Given a device ID as the spec writes it, return what is wrong with it, or None."""
    compact = device_id.replace("-", "").upper()
    if len(compact) != (CHUNK + 1) * CHUNKS or any(c not in ALPHABET for c in compact):
        return "a Syncthing device ID is 56 letters A-Z and digits 2-7 (eight groups of seven)"
    for index in range(CHUNKS):
        chunk = compact[index * (CHUNK + 1):(index + 1) * (CHUNK + 1)]
        if luhn_base32(chunk[:CHUNK]) != chunk[CHUNK]:
            return ("check character of group "
                    f"{2 * index + 2} is wrong: this is not a Syncthing device ID "
                    "(copy it from the laptop's Syncthing: Actions > Show ID)")
    return None
