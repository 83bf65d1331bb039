"""The checks on what Syncthing's REST API (1.19) answers; the client is the collection's.

The exporter, `nasops sync status` and the syncthing module all talk to Syncthing through
module_utils/syncthing_client.py; these functions check what it answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ansible_collections.nasops.nas.plugins.module_utils.syncthing_client import SyncthingError


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
