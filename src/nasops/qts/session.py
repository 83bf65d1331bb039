"""One session with a QTS NAS's web API (issue 15, docs/qts.md), from the controller.

TLS is pinned to the NAS's own certificate (QTS certificates are self-signed): the pin is
checked right after the handshake, before a byte of the request, so a wrong NAS never sees
the password. One login per run, tried once: QTS's Network Access Protection blocks an
address after repeated failed logins, and a retry loop would lock the provider out. The
password goes base64-encoded (what authLogin.cgi takes) in a POST body, never in a URL,
argv or message; it and the session id are registered with the masker. Logout at the end.
Answers come back to back over one kept connection (a NAS's CPU pays for every handshake);
each new connection is checked against the pin again.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import socket
import ssl
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from xml.etree import ElementTree

from nasops.errors import NasopsError
from nasops.execute import MASKER
from nasops.qts import answers
from nasops.qts.answers import Firmware
from nasops.qts.ssh import SshEndpoint
from nasops.spec.names import visible

LOGIN = "/cgi-bin/authLogin.cgi"
LOGOUT = "/cgi-bin/authLogout.cgi"
PRIVILEGES = "/cgi-bin/priv/privRequest.cgi"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# A connection the NAS kept open is used again only this soon after its last answer: web
# servers close idle connections after a few seconds (Apache's default: 5), and a request
# sent just as the NAS closes fails the run (nothing is retried). Later requests open (and
# pin) a new one. QTS's own idle limit is not verified on hardware.
REUSE_SECONDS = 1.0


class QtsConnectionError(NasopsError):
    """The NAS could not be reached, or is not the NAS the inventory pins."""


class QtsLoginError(NasopsError):
    """QTS refused the login or the session."""


@dataclass(frozen=True)
class Endpoint:
    """Where a QTS NAS's web interface answers, and the certificate it must show."""

    host: str
    port: int
    certificate_sha256: str
    """Lowercase hex, 64 characters (nasops_qts_certificate_sha256)."""
    user: str
    timeout: float = 30.0
    ssh: SshEndpoint | None = None
    """Where its folders are reached (nasops.qts.ssh); None: not reached."""

    @property
    def place(self) -> str:
        return f"{self.host}:{self.port}"


# Called with (what was asked, the answer's bytes) after each answer: `nasops qts capture`.
Recorder = Callable[[str, bytes], None]


def certificate_sha256(certificate: bytes) -> str:
    """Given a DER certificate, return its sha256 as lowercase hex."""
    return hashlib.sha256(certificate).hexdigest()


class QtsSession:
    """A logged-in session with one QTS NAS; use as a context manager to log out."""

    def __init__(self, endpoint: Endpoint, recorder: Recorder | None = None) -> None:
        self.endpoint = endpoint
        self.firmware: Firmware | None = None
        self._recorder = recorder
        self._sid: str | None = None
        self._login_tried = False
        self._kept: http.client.HTTPSConnection | None = None
        self._answered_at = 0.0

    def __enter__(self) -> QtsSession:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.logout()

    def _connect(self) -> http.client.HTTPSConnection:
        # No CA check and no host name check: the pin below is stricter than both.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(self.endpoint.host, self.endpoint.port,
                                                 context=context,
                                                 timeout=self.endpoint.timeout)
        # Never reconnect behind nasops' back: every connection is made here, and pinned.
        connection.auto_open = 0
        try:
            connection.connect()
        except (OSError, ssl.SSLError, UnicodeError) as error:
            connection.close()
            raise QtsConnectionError(
                f"{self.endpoint.place}: could not reach the NAS's web interface over TLS "
                f"({_words(error)}); check the address, nasops_qts_port and that HTTPS is "
                "on (QTS: Control Panel > System > General Settings)") from None
        sock = connection.sock
        shown = certificate_sha256((sock.getpeercert(binary_form=True) or b"")
                                   if isinstance(sock, ssl.SSLSocket) else b"")
        if shown != self.endpoint.certificate_sha256:
            connection.close()
            raise QtsConnectionError(
                f"{self.endpoint.place}: the NAS shows a certificate with sha256 {shown}, not "
                "the one nasops_qts_certificate_sha256 pins; nothing was sent. If the NAS's "
                "certificate was renewed, check the new one on the NAS itself before "
                "pinning it (docs/qts.md)")
        return connection

    def _connection(self) -> http.client.HTTPSConnection:
        """Return the connection kept from the last answer if it is fresh, else a new one."""
        kept, self._kept = self._kept, None
        if kept is not None and time.monotonic() - self._answered_at < REUSE_SECONDS:
            return kept
        if kept is not None:
            kept.close()
        return self._connect()

    def _post(self, path: str, form: dict[str, str], what: str) -> bytes:
        connection = self._connection()
        kept = False
        try:
            connection.request("POST", path, urllib.parse.urlencode(form).encode(), FORM)
            response = connection.getresponse()
            content = response.read(answers.MAXIMUM_ANSWER_BYTES + 1)
            # Closing, or an answer longer than nasops reads: the connection is not reused.
            kept = not response.will_close and response.isclosed()
        except (OSError, http.client.HTTPException) as error:
            raise QtsConnectionError(f"{self.endpoint.place}: {what}: the connection "
                                     f"failed ({_words(error)})") from None
        finally:
            # Also on a signal (RunInterrupted) between the request and its answer.
            if kept:
                self._kept, self._answered_at = connection, time.monotonic()
            else:
                connection.close()
        if response.status != 200:
            raise QtsConnectionError(f"{self.endpoint.place}: {what}: the NAS answered "
                                     f"HTTP {response.status}")
        if self._recorder is not None:
            self._recorder(what, content)
        return content

    def login(self, password: str) -> answers.Login:
        """Log in as the endpoint's user, once per session object; return QTS's answer."""
        if self._login_tried:
            raise QtsLoginError(f"{self.endpoint.place}: nasops logs in once per run")
        self._login_tried = True
        encoded = base64.b64encode(password.encode()).decode()
        MASKER.add(password, encoded, urllib.parse.quote_plus(encoded))
        content = self._post(LOGIN, {"user": self.endpoint.user, "pwd": encoded,
                                     "serviceKey": "1"}, "login")
        result = answers.login(self._parse(content, "login"))
        if not result.passed:
            raise QtsLoginError(
                f"{self.endpoint.place}: QTS refused the login of {self.endpoint.user!r} "
                f"(error {visible(result.error_value or 'not given')}): wrong "
                "password, a disabled "
                "account, or 2-step verification on it. nasops does not try again: QTS "
                "blocks an address after repeated failures (Network Access Protection)")
        MASKER.add(result.sid)
        self._sid = result.sid
        self.firmware = result.firmware
        return result

    def read(self, path: str, form: dict[str, str], what: str) -> ElementTree.Element:
        """Ask a read-only CGI within the session; return the answer's root element."""
        if self._sid is None:
            raise QtsLoginError(f"{self.endpoint.place}: {what}: not logged in")
        root = self._parse(self._post(path, {**form, "sid": self._sid}, what), what)
        if not answers.authenticated(root):
            raise QtsLoginError(f"{self.endpoint.place}: {what}: QTS ended the session "
                                "(authPassed 0); nothing more was asked")
        return root

    def _parse(self, content: bytes, what: str) -> ElementTree.Element:
        try:
            return answers.parse(content, what)
        except answers.AnswerError as error:  # say which NAS, in a run over several
            raise answers.AnswerError(f"{self.endpoint.place}: {error}") from None

    def logout(self) -> None:
        """End the session if one is open and close the kept connection; a failure to log
        out is not an error of the run (the session expires on the NAS), so it is swallowed."""
        sid, self._sid = self._sid, None
        try:
            if sid is not None:
                with contextlib.suppress(NasopsError):
                    self._post(LOGOUT, {"logout": "1", "sid": sid}, "logout")
        finally:
            kept, self._kept = self._kept, None
            if kept is not None:
                kept.close()


def _words(error: BaseException) -> str:
    if isinstance(error, socket.timeout | TimeoutError):
        return "no answer in time"
    if isinstance(error, ssl.SSLError):
        return f"TLS: {error.reason or 'handshake failed'}"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return type(error).__name__
