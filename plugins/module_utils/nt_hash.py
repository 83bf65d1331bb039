"""NT hashes as Samba stores them: MD4 (RFC 1320) of the UTF-16LE password, computed here
because OpenSSL 3 (and so hashlib) no longer offers MD4. Standard library only: it runs on the
NAS (nasops.nas.accounts compares passwords through it, never setting one that matches)."""

from __future__ import annotations

import struct

WORD_MASK = 0xFFFFFFFF




def _rotate_left(value: int, shift: int) -> int:
    value &= WORD_MASK
    return ((value << shift) | (value >> (32 - shift))) & WORD_MASK


_ROUNDS = (
    # (function, constant, word order, shifts)
    (lambda b, c, d: (b & c) | (~b & d), 0,
     range(16), (3, 7, 11, 19)),
    (lambda b, c, d: (b & c) | (b & d) | (c & d), 0x5A827999,
     (0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), (3, 5, 9, 13)),
    (lambda b, c, d: b ^ c ^ d, 0x6ED9EBA1,
     (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15), (3, 9, 11, 15)),
)


def md4(message: bytes) -> bytes:
    """Given bytes, return their MD4 digest (16 bytes)."""
    length_bits = (len(message) * 8) & 0xFFFFFFFFFFFFFFFF
    padded = message + b"\x80" + b"\x00" * ((55 - len(message)) % 64)
    padded += struct.pack("<Q", length_bits)
    state = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
    for offset in range(0, len(padded), 64):
        words = struct.unpack("<16I", padded[offset:offset + 64])
        a, b, c, d = state
        for function, constant, order, shifts in _ROUNDS:
            for step, index in enumerate(order):
                mixed = (a + function(b, c, d) + words[index] + constant) & WORD_MASK
                a, b, c, d = d, _rotate_left(mixed, shifts[step % 4]), b, c
        state = [(value + delta) & WORD_MASK
                 for value, delta in zip(state, (a, b, c, d), strict=True)]
    return struct.pack("<4I", *state)


def nt_hash(password: str) -> str:
    """Given a password, return its NT hash as Samba stores it (MD4 of UTF-16LE), upper hex."""
    return md4(password.encode("utf-16-le")).hex().upper()
