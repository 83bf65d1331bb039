"""Refresh an expensive source in a background thread and keep its last snapshot in memory.

Scrapes call `latest()`, which only reads memory: a slow Syncthing, a hung smbstatus or a walk
over a million files can make data old (exported as its age) but never makes a scrape slow.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

logger = logging.getLogger("nasops.exporter")

SnapshotType = TypeVar("SnapshotType")


@dataclass(frozen=True)
class RefreshState(Generic[SnapshotType]):
    """What the last refreshes gave; immutable so that scrapes can share it without locks."""

    snapshot: SnapshotType | None = None
    """The last successful snapshot, or None before the first success."""
    taken_at: float | None = None
    """Wall-clock time the served snapshot was read."""
    error: str | None = None
    """Why the last attempt failed; None when it succeeded or none finished yet."""
    duration_seconds: float | None = None
    """How long the last finished attempt took."""
    attempts: int = 0


class Refresher(Generic[SnapshotType]):
    """Calls `read` every `interval_seconds` in a daemon thread; serves the last result."""

    def __init__(
        self,
        name: str,
        read: Callable[[], SnapshotType],
        interval_seconds: float,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.interval_seconds = interval_seconds
        self._read = read
        self._clock = clock
        self._state: RefreshState[SnapshotType] = RefreshState()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def latest(self) -> RefreshState[SnapshotType]:
        """Return the current state (a single attribute read: atomic under the GIL)."""
        return self._state

    def refresh_once(self) -> RefreshState[SnapshotType]:
        """Read the source now, store the outcome and return the new state; never raises."""
        started = time.perf_counter()
        taken_at = self._clock()
        previous = self._state
        try:
            snapshot = self._read()
        except Exception as error:  # any failure of a source must only mark it down
            duration = time.perf_counter() - started
            message = str(error) or type(error).__name__
            if message != previous.error:  # log changes only, not every interval
                logger.warning("collector %s: refresh failed: %s", self.name, message)
            # Stale data is dropped, not served: up=0 must mean "no current data".
            self._state = RefreshState(None, previous.taken_at, message, duration,
                                       previous.attempts + 1)
        else:
            duration = time.perf_counter() - started
            self._state = RefreshState(snapshot, taken_at, None, duration, previous.attempts + 1)
        return self._state

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh_once()
            self._stop.wait(self.interval_seconds)

    def start(self) -> None:
        """Start the background thread; the first refresh begins at once."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=f"refresh-{self.name}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to stop and wait up to timeout seconds for a refresh in progress."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
