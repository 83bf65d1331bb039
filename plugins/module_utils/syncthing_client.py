"""Syncthing's REST API: the one client of the syncthing module, the exporter, `nasops sync
status` and the sync ACL keeper.

JSON over urllib with the X-API-Key header. Every failure is a SyncthingError whose message
says in plain words what happened and never holds the API key: these messages reach Ansible
output, logs and metrics. Standard library only: it runs on the NAS.
"""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DETAIL_CHARACTERS = 300
KEY_SHOWN_AS = "(API key)"


class SyncthingError(Exception):
    """Syncthing refused a request or answered something that is not JSON, or the URL is bad.

    `status` is the HTTP status Syncthing answered with (None when it did not answer).
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SyncthingUnavailable(SyncthingError):
    """Syncthing did not answer: not running yet, restarting, or the connection broke."""


def url_problem(url: str) -> str | None:
    """Given a base URL, return why it is refused (None when it is fine).

    Only http(s)://host[:port][/path]: no file: or custom schemes for urllib to open, and no
    user or password, which messages would show.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        port_valid = parts.port is None or parts.port > 0
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https"):
        return f"must start with http:// or https:// (got {url!r})"
    if "@" in parts.netloc:
        return "must not hold a user or password"
    if not parts.hostname or not port_valid:
        return f"has no host and port (got {url!r})"
    return None


class SyncthingClient:
    """JSON requests to Syncthing's REST API with the X-API-Key header."""

    def __init__(
        self, base_url: str, api_key: str, *, timeout_seconds: float = 10,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout_seconds = timeout_seconds
        self.ssl_context = ssl_context
        # Refused at the first request, as any other failure, so that a collector built from
        # a bad URL is reported down instead of stopping the exporter.
        self._url_problem = url_problem(self.base_url)

    def get(self, path: str, /, **query: str) -> Any:
        """Given an endpoint path and query parameters, return the decoded JSON answer."""
        return self.request("GET", path, **query)

    def request(self, method: str, path: str, body: Any = None, /, **query: str) -> Any:
        """Given a method, an endpoint path, a JSON body (None: none) and query parameters,
        return the decoded JSON answer; None when a write is answered with nothing."""
        if self._url_problem:
            raise SyncthingError(f"the Syncthing URL {self._url_problem}")
        suffix = f"?{urllib.parse.urlencode(query)}" if query else ""
        shown = f"{method} {path}{suffix}"
        headers = {"X-API-Key": self._api_key}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        # url_problem() let only http:// and https:// through (no file: or custom schemes).
        request = urllib.request.Request(  # noqa: S310
            f"{self.base_url}{path}{suffix}", data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds,  # noqa: S310
                                        context=self.ssl_context) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as error:
            raise SyncthingError(self._plain(f"Syncthing answered {error.code} to {shown}: "
                                             f"{_detail(error)}"), error.code) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            # Refused, timed out, or cut mid-answer (Syncthing restarting).
            reason = getattr(error, "reason", None) or error
            raise SyncthingUnavailable(self._plain(f"cannot reach Syncthing at {self.base_url}: "
                                                   f"{reason}")) from None
        if method != "GET" and not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise SyncthingError(f"Syncthing answered {shown} with something that is not "
                                 "JSON") from None

    def _plain(self, message: str) -> str:
        # What Syncthing or the network says is shown; the key never is, even if echoed.
        return message.replace(self._api_key, KEY_SHOWN_AS) if self._api_key else message


def _detail(error: urllib.error.HTTPError) -> str:
    if error.code in (401, 403):
        return "wrong API key"
    try:
        text = error.read()[:DETAIL_CHARACTERS].decode("utf-8", "replace").strip()
    except (OSError, http.client.HTTPException):
        text = ""
    return " ".join(text.split()) or str(error.reason)
