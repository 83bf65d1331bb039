"""The one Syncthing REST client (module_utils/syncthing_client.py) against a real HTTP server,
and the sync ACL keeper's event loop through it."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.nasops.nas.plugins.module_utils.syncthing_client import (
    SyncthingClient,
    SyncthingError,
    SyncthingUnavailable,
    url_problem,
)

from nasops.sync import acl_keeper

KEY = "k3y-0f-the-nas-XXXXXXXXXXXXXXXXXXXXXX"


class Server:
    """Answers (method, path) from `routes` with (status, body[, delay]); records requests.

    A body of None in a route means: promise 100 bytes, send 5, close (an answer cut short).
    """

    def __init__(self, routes: dict[tuple[str, str], Any]) -> None:
        self.routes = routes
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                path, _, query = self.path.partition("?")
                server.requests.append({
                    "method": self.command, "path": path, "query": query,
                    "key": self.headers.get("X-API-Key"),
                    "type": self.headers.get("Content-Type"),
                    "body": self.rfile.read(length) if length else None})
                status, body, *delay = server.routes.get((self.command, path), (404, b"nope"))
                time.sleep(delay[0] if delay else 0)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(100 if body is None else len(body)))
                    self.end_headers()
                    self.wfile.write(b"short" if body is None else body)
                except OSError:
                    pass  # the client gave up waiting (the timeout test)

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                """Stay quiet."""

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.thread = threading.Thread(target=self.http.serve_forever, args=(0.05,),
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}"


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[Server] = []

    def start(routes: dict[tuple[str, str], Any]) -> Server:
        server = Server(routes)
        server.thread.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.http.shutdown()
        server.http.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_json_requests_carry_the_key_the_body_and_the_query(serve: Any) -> None:
    server = serve({("GET", "/rest/db/status"): (200, b'{"state": "idle"}'),
                    ("PUT", "/rest/config/folders/a%2Fb"): (200, b""),
                    ("POST", "/rest/system/restart"): (200, b'{"ok": "restarting"}')})
    client = SyncthingClient(server.url + "/", KEY)
    assert client.get("/rest/db/status", folder="a b") == {"state": "idle"}
    assert client.request("PUT", "/rest/config/folders/a%2Fb", {"id": "a/b"}) is None
    assert client.request("POST", "/rest/system/restart") == {"ok": "restarting"}
    first, put, post = server.requests
    assert (first["query"], first["key"], first["body"]) == ("folder=a+b", KEY, None)
    assert (put["type"], json.loads(put["body"])) == ("application/json", {"id": "a/b"})
    assert post["body"] is None and post["key"] == KEY


def test_a_wrong_key_is_named_with_its_status_and_never_shown(serve: Any) -> None:
    server = serve({})
    server.routes[("GET", "/rest/system/status")] = (403, b"CSRF Error\n")
    with pytest.raises(SyncthingError) as caught:
        SyncthingClient(server.url, KEY).get("/rest/system/status")
    assert str(caught.value) == ("Syncthing answered 403 to GET /rest/system/status: "
                                 "wrong API key")
    assert caught.value.status == 403 and not isinstance(caught.value, SyncthingUnavailable)


def test_an_error_answer_is_shown_short_and_without_the_key(serve: Any) -> None:
    body = f"folder path missing; your key {KEY} \n" + "x" * 1000
    server = serve({("PUT", "/rest/config/folders/f"): (500, body.encode())})
    with pytest.raises(SyncthingError, match="answered 500 to PUT /rest/config/folders/f: "
                                             "folder path missing") as caught:
        SyncthingClient(server.url, KEY).request("PUT", "/rest/config/folders/f", {})
    assert KEY not in str(caught.value) and "(API key)" in str(caught.value)
    assert len(str(caught.value)) < 400


@pytest.mark.parametrize(("method", "body"), [("GET", b"<html>proxy error</html>"),
                                              ("GET", b""), ("PATCH", b"{not json")])
def test_an_answer_that_is_not_json_is_an_error(serve: Any, method: str, body: bytes) -> None:
    server = serve({(method, "/rest/config/options"): (200, body)})
    with pytest.raises(SyncthingError, match=f"answered {method} /rest/config/options with "
                                             "something that is not JSON"):
        SyncthingClient(server.url, KEY).request(method, "/rest/config/options")


def test_nothing_listening_is_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SyncthingUnavailable, match=f"cannot reach Syncthing at {url}: "):
        SyncthingClient(url, KEY).get("/rest/system/status")


def test_a_slow_answer_times_out_as_unavailable(serve: Any) -> None:
    server = serve({("GET", "/rest/events"): (200, b"[]", 2.0)})
    started = time.monotonic()
    with pytest.raises(SyncthingUnavailable, match="timed out"):
        SyncthingClient(server.url, KEY, timeout_seconds=0.3).get("/rest/events")
    assert time.monotonic() - started < 1.5


def test_an_answer_cut_short_is_unavailable(serve: Any) -> None:
    # Syncthing restarting mid-answer: http.client raises IncompleteRead, not an OSError.
    server = serve({("GET", "/rest/events"): (200, None)})
    with pytest.raises(SyncthingUnavailable, match="cannot reach Syncthing"):
        SyncthingClient(server.url, KEY).get("/rest/events")


@pytest.mark.parametrize(("url", "problem"), [
    ("file:///etc/passwd", "must start with http:// or https://"),
    ("ftp://127.0.0.1:8384", "must start with http:// or https://"),
    ("127.0.0.1:8384", "must start with http:// or https://"),
    ("http://", "has no host"),
    ("http://127.0.0.1:99999", "is not a URL"),
    ("http://nasops:s3cret@127.0.0.1:8384", "must not hold a user or password"),
])
def test_only_http_urls_with_a_host_and_no_password_are_accepted(url: str, problem: str) -> None:
    found = url_problem(url)
    assert found is not None and problem in found and "s3cret" not in found
    with pytest.raises(SyncthingError, match=problem):
        SyncthingClient(url, KEY).get("/rest/system/status")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8384", "https://nas.example:8384/sync/",
                                 "http://[::1]:8384"])
def test_plain_http_and_https_urls_are_fine(url: str) -> None:
    assert url_problem(url) is None


def test_the_acl_keeper_follows_events_through_the_client(
        serve: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folders = [{"id": "rw", "path": str(tmp_path / "rw"), "type": "sendreceive"},
               {"id": "ro", "path": str(tmp_path / "ro"), "type": "sendonly"}]
    events = [{"id": 7, "type": "ItemFinished",
               "data": {"folder": "rw", "item": "a/b.txt", "type": "file", "action": "update"}},
              {"id": 8, "type": "ItemFinished",
               "data": {"folder": "ro", "item": "c.txt", "type": "file", "action": "update"}}]
    server = serve({("GET", "/rest/config/folders"): (200, json.dumps(folders).encode()),
                    ("GET", "/rest/events"): (200, json.dumps(events).encode())})
    touched: list[str] = []

    def keep_acl(path: str) -> bool:
        touched.append(path)
        server.routes[("GET", "/rest/events")] = (403, b"")  # then end the loop
        return False

    # The event loop alone: what the keeper does to a file is tested on real files in
    # test_sync_files.py; here it only records which paths it was given.
    monkeypatch.setattr(acl_keeper, "keep_acl", keep_acl)
    with pytest.raises(SyncthingError, match="wrong API key"):
        acl_keeper.follow(SyncthingClient(server.url, KEY))
    assert touched == [str(tmp_path / "rw" / "a/b.txt")]  # send-only folders are not written
    polls = [request["query"] for request in server.requests if request["path"] == "/rest/events"]
    assert polls == ["since=0&timeout=60", "since=8&timeout=60"]


def test_the_acl_keeper_refuses_a_url_that_is_not_http(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.argv", ["acl_keeper", "file:///etc/passwd"])
    monkeypatch.setenv("STGUIAPIKEY", KEY)
    assert acl_keeper.main() == 2
    assert "must start with http://" in capsys.readouterr().err
