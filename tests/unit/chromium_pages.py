"""Headless Chromium driven over its DevTools pipe (no websocket, no network): load local pages,
ask which fonts drew each element's text, and take full-page PNG screenshots.

One browser serves every page of a test module. Chromium reads commands on fd 3 and writes
answers and events on fd 4, each a JSON message ended by a NUL byte
(--remote-debugging-pipe). Only file:// pages are loaded; background networking is off.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# What a NAS handout is read on: a laptop-sized window; pages are captured whole.
WIDTH, HEIGHT = 1000, 1200
ANSWER_SECONDS = 60
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
    "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--disable-extensions", "--metrics-recording-only", "--hide-scrollbars",
    "--force-device-scale-factor=1", "--font-render-hinting=none", "about:blank",
)


class ChromiumError(RuntimeError):
    """Chromium answered an error, went away, or did not answer in time."""


@dataclass
class RenderedPage:
    """What one page rendered to: the PNG, and per element the fonts that drew its text."""

    png: bytes
    # Text of an element -> the fonts that drew it, as (family, PostScript name).
    fonts: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    unfonted: list[str] = field(default_factory=list)  # visible text no font drew
    images_loaded: bool = False  # every <img> loaded and has a size


def chromium_binary() -> str | None:
    """Return the path of Debian's chromium (or another chromium on PATH), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    """A headless Chromium this process started (and alone ends, by its PID)."""

    def __init__(self, binary: str) -> None:
        self.profile = tempfile.TemporaryDirectory(prefix="nasops-chromium-")
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()
        actions = [(os.POSIX_SPAWN_DUP2, to_browser_read, 3),
                   (os.POSIX_SPAWN_DUP2, from_browser_write, 4),
                   (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
        argv = [binary, f"--user-data-dir={self.profile.name}", *FLAGS]
        # A session of its own: its helpers (zygote, renderers) can be ended with it.
        self.pid = os.posix_spawn(binary, argv, dict(os.environ, HOME=self.profile.name),
                                  file_actions=actions, setsid=True)
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self._session: str | None = None

    def close(self) -> None:
        """Ask the browser to close, then make sure its process is gone; remove its profile."""
        with contextlib.suppress(ChromiumError, OSError):  # it may close before answering
            self.send("Browser.close", timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done, _status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.killpg(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self._to_browser)
        os.close(self._from_browser)
        self.profile.cleanup()

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *_exception: object) -> None:
        self.close()

    # -- the pipe -------------------------------------------------------------------------

    def send(self, method: str, session: str | None = None, timeout: float = ANSWER_SECONDS,
             **params: Any) -> dict[str, Any]:
        """Send one command and return its result, keeping the events that come before."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") != self._next_id:
                self._events.append(answer)
                continue
            if "error" in answer:
                raise ChromiumError(f"{method}: {answer['error'].get('message')}")
            return dict(answer.get("result", {}))

    def wait_event(self, method: str, session: str, timeout: float = ANSWER_SECONDS) -> None:
        """Wait for an event of the session (one already received counts)."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self._events:
                if event.get("method") == method and event.get("sessionId") == session:
                    self._events.remove(event)
                    return
            self._events.append(self._read(deadline))

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChromiumError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], remaining)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise ChromiumError("Chromium closed its pipe (it exited)")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return dict(json.loads(message))

    # -- pages ----------------------------------------------------------------------------

    def render(self, page: Path) -> RenderedPage:
        """Load a local page in the browser's one tab; return its full-page PNG and the
        fonts that drew its text."""
        session = self._tab()
        self.send("Page.navigate", session, url=page.resolve().as_uri())
        self.wait_event("Page.loadEventFired", session)
        self.evaluate(session, "document.fonts.ready.then(() => document.fonts.status)")
        rendered = RenderedPage(png=b"")
        root = self.send("DOM.getDocument", session, depth=-1)["root"]
        for node_id, text in _text_elements(root):
            fonts = self.send("CSS.getPlatformFontsForNode", session, nodeId=node_id)
            families = {(font["familyName"], font.get("postScriptName", ""))
                        for font in fonts.get("fonts", []) if font.get("glyphCount", 0) > 0}
            if families:
                rendered.fonts.setdefault(text, set()).update(families)
            elif self._visible(session, node_id):
                rendered.unfonted.append(text)
        rendered.images_loaded = self.evaluate(
            session, "[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        size = self.send("Page.getLayoutMetrics", session)["cssContentSize"]
        shot = self.send("Page.captureScreenshot", session, format="png",
                         captureBeyondViewport=True, optimizeForSpeed=True,
                         clip={"x": 0, "y": 0, "width": size["width"],
                               "height": size["height"], "scale": 1})
        rendered.png = base64.b64decode(shot["data"])
        return rendered

    def _tab(self) -> str:
        # One tab for every page (a new one per page costs more than the page).
        if self._session is None:
            target = self.send("Target.createTarget", url="about:blank")["targetId"]
            session = self.send("Target.attachToTarget", targetId=target,
                                flatten=True)["sessionId"]
            for domain in ("Page.enable", "DOM.enable", "CSS.enable"):
                self.send(domain, session)
            self.send("Emulation.setDeviceMetricsOverride", session, width=WIDTH,
                      height=HEIGHT, deviceScaleFactor=1, mobile=False)
            self._session = session
        return self._session

    def evaluate(self, session: str, expression: str) -> Any:
        """Return the value of a JavaScript expression in the page (promises awaited)."""
        answer = self.send("Runtime.evaluate", session, expression=expression,
                           awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in answer:
            raise ChromiumError(f"{expression}: {answer['exceptionDetails'].get('text')}")
        return answer["result"].get("value")

    def _visible(self, session: str, node_id: int) -> bool:
        # Text inside <title>, <style> or a hidden element is not drawn and has no font.
        try:
            self.send("DOM.getBoxModel", session, nodeId=node_id)
        except ChromiumError:
            return False
        return True


SKIPPED = {"HEAD", "TITLE", "STYLE", "SCRIPT", "NOSCRIPT", "TEMPLATE"}


def _text_elements(node: dict[str, Any]) -> list[tuple[int, str]]:
    """Return (node id, own text) of each element with visible-looking text of its own."""
    found: list[tuple[int, str]] = []
    if node.get("nodeName") in SKIPPED:
        return found
    children = node.get("children", [])
    own = " ".join(child["nodeValue"].strip() for child in children
                   if child.get("nodeType") == 3 and child["nodeValue"].strip())
    if own and node.get("nodeType") == 1:
        found.append((node["nodeId"], own))
    for child in children:
        found += _text_elements(child)
    return found
