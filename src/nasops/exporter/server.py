"""The exporter's HTTP(S) server: the metrics WSGI app behind basic auth and TLS.

Differences from prometheus_client's make_wsgi_app and start_http_server, each for a reason:
- encoded text of background snapshots is reused (exposition.py): encoding is the slow part;
- the TLS handshake happens in the request's thread, so one slow client cannot stall accept;
- a listen backlog of 512, so a burst of concurrent scrapes is queued rather than refused;
- concurrent scrapes share one rendering (single flight): under the GIL, 200 scrapes
  rendering in parallel would each take as long as all of them together.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client.exposition import gzip_accepted

from nasops.exporter.auth import BasicAuth
from nasops.exporter.config import TlsConfig
from nasops.exporter.exposition import CachingExposition, compress

logger = logging.getLogger("nasops.exporter")

WsgiApp = Callable[[dict[str, Any], Any], Iterable[bytes]]
METRICS_PATH = "/metrics"
TLS_HANDSHAKE_TIMEOUT_SECONDS = 10
REQUEST_TIMEOUT_SECONDS = 30
FLIGHT_TIMEOUT_SECONDS = 30
LANDING_PAGE = (b"<!doctype html><html><head><title>nasops exporter</title></head><body>"
                b"<h1>nasops exporter</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>")


@dataclass
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    status: str = "500 Internal Server Error"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


class SingleFlight:
    """WSGI wrapper: requests arriving while an identical one renders get that same answer."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._flights: dict[tuple[str, ...], _Flight] = {}

    def _render(self, environ: dict[str, Any], flight: _Flight) -> None:
        def start_response(status: str, headers: list[tuple[str, str]],
                           _exc_info: object = None) -> Callable[[bytes], object]:
            flight.status, flight.headers = status, list(headers)
            return lambda _data: None

        flight.body = b"".join(self.app(environ, start_response))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Answer from the flight in progress for the same request, or start one."""
        # The answer depends on the method and content negotiation, nothing else.
        key = (environ.get("REQUEST_METHOD", ""), environ.get("HTTP_ACCEPT", ""),
               environ.get("HTTP_ACCEPT_ENCODING", ""))
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if leader:
            try:
                self._render(environ, flight)
            except Exception:
                logger.exception("rendering the metrics failed")
                flight.status, flight.headers, flight.body = (
                    "500 Internal Server Error", [("Content-Type", "text/plain")],
                    b"rendering the metrics failed; see the exporter's log\n")
            finally:
                with self._lock:
                    del self._flights[key]
                flight.done.set()
        elif not flight.done.wait(FLIGHT_TIMEOUT_SECONDS):
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"metrics rendering timed out\n"]
        start_response(flight.status, flight.headers)
        return [flight.body]


def metrics_app(exposition: CachingExposition) -> WsgiApp:
    """Given the exposition, return a WSGI app answering GET with the metrics."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET":
            start_response("405 Method Not Allowed", [("Allow", "GET"),
                                                      ("Content-Type", "text/plain")])
            return [b"405 Method Not Allowed: use GET\n"]
        body, content_type = exposition.render(environ.get("HTTP_ACCEPT"))
        headers = [("Content-Type", content_type)]
        if gzip_accepted(environ.get("HTTP_ACCEPT_ENCODING", "")):
            body = compress(body)
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        start_response("200 OK", headers)
        return [body]

    return app


def make_app(exposition: CachingExposition, basic_auth: BasicAuth | None = None) -> WsgiApp:
    """Given the exposition and optional basic auth, return the exporter's WSGI app."""
    metrics = SingleFlight(metrics_app(exposition))

    def route(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == METRICS_PATH:
            return metrics(environ, start_response)
        if path == "/":
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [LANDING_PAGE]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"404 Not Found: the metrics are at /metrics\n"]

    return basic_auth.wrap(route) if basic_auth is not None else route


class _QuietHandler(WSGIRequestHandler):
    # A client that never sends its request must not hold a thread forever.
    timeout = REQUEST_TIMEOUT_SECONDS

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


class ExporterHTTPServer(ThreadingMixIn, WSGIServer):
    """Thread-per-request WSGI server with optional TLS."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512
    tls_context: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Runs in the request's thread: the TLS handshake happens here, not in accept."""
        if self.tls_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(TLS_HANDSHAKE_TIMEOUT_SECONDS)
        try:
            secure = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as error:
            logger.debug("TLS handshake with %s failed: %s", client_address, error)
            return
        try:
            super().finish_request(secure, client_address)
        finally:
            secure.close()


def tls_context(config: TlsConfig) -> ssl.SSLContext:
    """Given the TLS config, return a server context (TLS ≥ 1.2, no client certificates)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(config.certificate_file, config.key_file)
    return context


def create_server(address: str, port: int, app: WsgiApp,
                  context: ssl.SSLContext | None = None) -> ExporterHTTPServer:
    """Bind address:port (port 0 picks a free one) and return the server, not yet serving."""
    family, _, _, _, socket_address = socket.getaddrinfo(
        address, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]

    class BoundServer(ExporterHTTPServer):
        address_family = family

    server = make_server(str(socket_address[0]), port, app, BoundServer,
                         handler_class=_QuietHandler)
    server.tls_context = context
    return server
