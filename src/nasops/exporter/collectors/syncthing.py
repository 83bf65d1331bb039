"""A small client for Syncthing's REST API (1.19) and the checks on what it answers."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import datetime
from typing import Any


class SyncthingError(Exception):
    """Syncthing could not be reached or answered something we cannot read."""


class SyncthingClient:
    """GET JSON from Syncthing's REST API with the `X-API-Key` header."""

    def __init__(
        self, base_url: str, api_key: str, *, timeout_seconds: float = 10,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout_seconds = timeout_seconds
        self.ssl_context = ssl_context

    def get(self, path: str, **parameters: str) -> Any:
        """Given an endpoint path and query parameters, return the decoded JSON answer."""
        query = f"?{urllib.parse.urlencode(parameters)}" if parameters else ""
        shown = f"{path}{query}"
        # The config only accepts http:// and https:// base URLs (no file: or custom schemes).
        request = urllib.request.Request(  # noqa: S310
            f"{self.base_url}{path}{query}", headers={"X-API-Key": self._api_key})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds,  # noqa: S310
                                        context=self.ssl_context) as answer:
                body = answer.read()
        except urllib.error.HTTPError as error:
            raise SyncthingError(f"Syncthing answered {error.code} to GET {shown}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise SyncthingError(f"cannot reach Syncthing at {self.base_url}: {reason}") from None
        try:
            return json.loads(body)
        except ValueError:
            raise SyncthingError(f"Syncthing answered GET {shown} with something that is "
                                 "not JSON") from None


def mapping(value: Any, what: str) -> Mapping[str, Any]:
    """Given a decoded answer, return it if it is a JSON object; raise SyncthingError."""
    if not isinstance(value, Mapping):
        raise SyncthingError(f"malformed answer from {what}: expected an object, "
                             f"got {type(value).__name__}")
    return value


def sequence(value: Any, what: str) -> list[Any]:
    """Given a decoded answer, return it if it is a JSON list (null counts as empty)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise SyncthingError(f"malformed answer from {what}: expected a list, "
                             f"got {type(value).__name__}")
    return value


def number(data: Mapping[str, Any], key: str, what: str) -> float:
    """Given an object and a key, return the number there; raise SyncthingError otherwise."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SyncthingError(f"malformed answer from {what}: {key!r} is not a number")
    return float(value)


def text(data: Mapping[str, Any], key: str, what: str, default: str | None = None) -> str:
    """Given an object and a key, return the string there (or default when absent)."""
    value = data.get(key, default)
    if not isinstance(value, str):
        raise SyncthingError(f"malformed answer from {what}: {key!r} is not a string")
    return value


def timestamp(value: Any, what: str) -> float:
    """Given an RFC 3339 time from Syncthing, return Unix seconds; the zero time gives 0."""
    if not isinstance(value, str):
        raise SyncthingError(f"malformed answer from {what}: a time is not a string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SyncthingError(f"malformed answer from {what}: bad time {value[:40]!r}") from None
    if moment.tzinfo is None or moment.year < 1971:
        return 0.0  # Syncthing reports "never" as the zero time (1970 or year 1)
    return moment.timestamp()
