"""Assemble and run the exporter: collectors, registry, HTTP server, background threads."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from nasops.errors import BadInputError
from nasops.exporter.auth import BasicAuth
from nasops.exporter.collectors.base import SourceCollector
from nasops.exporter.config import ExporterConfig
from nasops.exporter.exposition import CachingExposition
from nasops.exporter.registry import (
    GuardedCollectors,
    build_collectors,
    build_registry,
    exporter_collectors,
)
from nasops.exporter.server import ExporterHTTPServer, create_server, make_app, tls_context

logger = logging.getLogger("nasops.exporter")


class Exporter:
    """One running exporter; `collectors` replaces the config's sources (tests, benchmarks)."""

    def __init__(self, config: ExporterConfig,
                 collectors: Sequence[SourceCollector] | None = None) -> None:
        self.config = config
        self.guard = GuardedCollectors(
            build_collectors(config) if collectors is None else collectors)
        self.registry = build_registry(self.guard)
        """The same metrics for in-process readers (generate_latest); HTTP uses exposition."""
        self.exposition = CachingExposition(self.guard, exporter_collectors())
        basic_auth = (BasicAuth.from_file(config.basic_auth.users_file)
                      if config.basic_auth is not None else None)
        try:
            context = tls_context(config.tls) if config.tls is not None else None
        except (OSError, ValueError) as error:
            raise BadInputError(f"cannot load the TLS certificate or key: {error}") from None
        try:
            self.server: ExporterHTTPServer = create_server(
                config.listen_address, config.port, make_app(self.exposition, basic_auth),
                context)
        except OSError as error:
            raise BadInputError(f"cannot listen on {config.listen_address}:{config.port}: "
                                f"{error.strerror or error}") from None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        return int(self.server.server_address[1])

    def start(self) -> None:
        """Start the background refreshes and serve in a daemon thread."""
        self.guard.start()
        # A short poll interval only makes stop() quick; requests never wait for it.
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.1,),
                                        name="http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and the background refreshes."""
        if self._thread is not None:  # shutdown() waits for serve_forever: only if it runs
            self.server.shutdown()
            self._thread = None
        self.server.server_close()
        self.guard.stop()

    def serve_forever(self) -> None:
        """Serve in this thread until SIGTERM or SIGINT."""
        stop = threading.Event()

        def request_stop(_signal: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        self.start()
        scheme = "https" if self.config.tls is not None else "http"
        logger.info("nasops exporter listening on %s://%s:%d/metrics", scheme,
                    self.config.listen_address, self.port)
        while not stop.wait(1.0):
            pass
        logger.info("nasops exporter stopping")
        self.stop()
