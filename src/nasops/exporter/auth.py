"""HTTP basic auth for the exporter with bcrypt hashes read from a file.

The users file has one `user:bcrypt-hash` line per user (the format of `htpasswd -B` and of
Prometheus' own web config), so the password itself is never on a command line or in the
config. bcrypt is slow on purpose; verified credentials are cached so that every scrape does
not pay for it again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import bcrypt

from nasops.errors import BadInputError

WsgiApp = Any  # wsgiref's types are not runtime-importable on 3.11; kept loose on purpose
CACHE_SIZE = 64
BCRYPT_ROUNDS = 12
# Checked for unknown users so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = bcrypt.hashpw(b"nasops-dummy", bcrypt.gensalt(4))


def parse_users(text: str, source: str) -> dict[str, bytes]:
    """Given the users file text, return user -> bcrypt hash; raise BadInputError if invalid."""
    users: dict[str, bytes] = {}
    problems = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, hashed = line.partition(":")
        if not name or not hashed.startswith(("$2a$", "$2b$", "$2y$")):
            problems.append(f"{source}:{number}: expected `user:bcrypt-hash` (create the hash "
                            "with `nasops exporter hash-password`)")
            continue
        users[name] = hashed.encode("ascii")
    if problems:
        raise BadInputError("\n".join(problems))
    if not users:
        raise BadInputError(f"{source}: no user in the basic auth users file")
    return users


def hash_password(password: str, rounds: int = BCRYPT_ROUNDS) -> str:
    """Given a password, return its bcrypt hash for the users file."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


class BasicAuth:
    """Checks `Authorization: Basic …` headers against bcrypt hashes."""

    def __init__(self, users: Mapping[str, bytes], realm: str = "nasops exporter") -> None:
        self.users = dict(users)
        self.realm = realm
        self._verified: dict[bytes, None] = {}
        self._lock = threading.Lock()
        # At most two bcrypt checks at once: wrong passwords must not eat every core.
        self._checks = threading.BoundedSemaphore(2)

    @classmethod
    def from_file(cls, path: str) -> BasicAuth:
        """Given the users file path, return a BasicAuth; raise BadInputError if unusable."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise BadInputError(f"{path}: cannot read the basic auth users file: "
                                f"{error.strerror or error}") from None
        return cls(parse_users(text, path))

    def check(self, header: str | None) -> bool:
        """Given the Authorization header value (or None), return whether it is valid."""
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        name, separator, password = decoded.partition(b":")
        if not separator:
            return False
        key = hashlib.sha256(name + b"\0" + password).digest()
        if key in self._verified:
            return True
        hashed = self.users.get(name.decode("utf-8", "replace"))
        with self._checks:
            valid = bcrypt.checkpw(password, hashed or _DUMMY_HASH) and hashed is not None
        if valid:
            with self._lock:
                if len(self._verified) >= CACHE_SIZE:
                    self._verified.pop(next(iter(self._verified)))
                self._verified[key] = None
        return valid

    def wrap(self, app: WsgiApp) -> WsgiApp:
        """Given a WSGI app, return one that answers 401 unless the credentials are valid."""

        def authenticated(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            if self.check(environ.get("HTTP_AUTHORIZATION")):
                result: Iterable[bytes] = app(environ, start_response)
                return result
            body = b"401 Unauthorized\n"
            start_response("401 Unauthorized", [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("WWW-Authenticate", f'Basic realm="{self.realm}", charset="UTF-8"'),
            ])
            return [body]

        return authenticated

