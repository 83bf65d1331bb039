"""Build the exporter's dedicated registry: source collectors behind one failure guard.

The guard runs every source collector, catches anything it raises and exports, per collector,
nasops_collector_up, _duration_seconds and, for background ones, the age of their data. One
collector failing never hides the others' metrics, and a scrape never raises.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Iterable, Sequence

from ansible_collections.nasops.nas.plugins.module_utils.syncthing_client import SyncthingClient
from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from nasops import __version__
from nasops.exporter.collectors.backup import BackupCollector
from nasops.exporter.collectors.base import (
    CommandRunner,
    Gathered,
    SourceCollector,
    gauge,
    info,
    run_for_output,
)
from nasops.exporter.collectors.btrfs import BtrfsQgroupReader
from nasops.exporter.collectors.drift import DriftCollector
from nasops.exporter.collectors.quota import QuotaCollector, QuotaReader
from nasops.exporter.collectors.samba import SambaCollector, SambaReader
from nasops.exporter.collectors.sync import SyncCollector, SyncReader
from nasops.exporter.config import ExporterConfig, QtsConfig, read_secret_file
from nasops.exporter.privileged import SocketCommandRunner

logger = logging.getLogger("nasops.exporter")


class GuardedCollectors:
    """A prometheus_client collector running every source collector behind a failure guard."""

    def __init__(self, sources: Sequence[SourceCollector],
                 *, clock: Callable[[], float] = time.time) -> None:
        self.sources = tuple(sources)
        self.clock = clock
        self._reported: dict[str, list[str]] = {}

    def _report(self, name: str, problems: list[str]) -> None:
        # Logged when they change, not on every scrape: a corrupt file must not flood the log.
        if problems == self._reported.get(name, []):
            return
        self._reported[name] = problems
        if problems:
            for problem in problems:
                logger.warning("collector %s: %s", name, problem)
        else:
            logger.info("collector %s: working again", name)

    def _gather(self, source: SourceCollector) -> tuple[Gathered, float]:
        started = time.perf_counter()
        try:
            gathered = source.gather()
        except Exception as error:  # a broken source must only mark itself down
            logger.debug("collector %s raised", source.name, exc_info=True)
            gathered = Gathered([], [str(error) or type(error).__name__])
        if gathered.refresh_interval_seconds is None:  # refreshers log their own failures
            self._report(source.name, gathered.problems)
        return gathered, time.perf_counter() - started

    def gather_all(self) -> list[tuple[SourceCollector, Gathered, float]]:
        """Return every source with what it gave and how long that took; never raises."""
        return [(source, *self._gather(source)) for source in self.sources]

    def health_families(self, results: Sequence[tuple[SourceCollector, Gathered, float]]
                        ) -> list[Metric]:
        """Given gather_all's results, return the nasops_collector_* families."""
        now = self.clock()
        up, durations, ages, intervals = [], [], [], []
        for source, gathered, elapsed in results:
            label = [source.name]
            up.append((label, 0.0 if gathered.problems else 1.0))
            duration = gathered.duration_seconds
            durations.append((label, elapsed if duration is None else duration))
            if gathered.refresh_interval_seconds is not None:
                intervals.append((label, gathered.refresh_interval_seconds))
                if gathered.data_timestamp is not None:
                    ages.append((label, max(0.0, now - gathered.data_timestamp)))
        return [
            gauge("nasops_collector_up",
                  "1 if the collector's last read succeeded, 0 if it failed (details in the "
                  "exporter's log); background collectors are 0 until their first refresh.",
                  ["collector"], up),
            gauge("nasops_collector_duration_seconds",
                  "How long the collector's last read took; for background collectors the "
                  "last background refresh, not the scrape.", ["collector"], durations),
            gauge("nasops_collector_data_age_seconds",
                  "Seconds since the collector's last successful background refresh; "
                  "expensive sources are refreshed every "
                  "nasops_collector_refresh_interval_seconds, never on a scrape.",
                  ["collector"], ages),
            gauge("nasops_collector_refresh_interval_seconds",
                  "How often a background collector re-reads its source.", ["collector"],
                  intervals),
        ]

    def collect(self) -> Iterable[Metric]:
        """Yield every source's families, then the per-collector health families."""
        results = self.gather_all()
        for _source, gathered, _elapsed in results:
            yield from (family for family in gathered.families if family.samples)
        yield from self.health_families(results)

    def start(self) -> None:
        """Start the background refreshes of every source."""
        for source in self.sources:
            source.start()

    def stop(self) -> None:
        """Stop the background refreshes."""
        for source in self.sources:
            source.stop()


class ExporterInfoCollector:
    """Exports nasops_exporter_info{version}."""

    def collect(self) -> Iterable[Metric]:
        """Yield the info family."""
        yield info("nasops_exporter", "The nasops exporter's version.", [],
                   [([], {"version": __version__})])


def exporter_collectors(*, process_metrics: bool = True) -> list[Collector]:
    """Return the collectors about the exporter itself: its version and its process."""
    collectors: list[Collector] = [ExporterInfoCollector()]
    if process_metrics:
        # process_resident_memory_bytes & co.: cheap reads of /proc/self.
        collectors.append(ProcessCollector(registry=None))
    return collectors


def build_registry(guard: GuardedCollectors, *, process_metrics: bool = True
                   ) -> CollectorRegistry:
    """Given the guarded collectors, return a fresh registry serving them (not the global one).

    auto_describe stays off: describing would run every collector at registration.
    """
    registry = CollectorRegistry(auto_describe=False)
    for collector in (guard, *exporter_collectors(process_metrics=process_metrics)):
        registry.register(collector)
    return registry


def _syncthing_ssl_context(ca_file: str | None) -> ssl.SSLContext | None:
    return ssl.create_default_context(cafile=ca_file) if ca_file else None


def build_collectors(config: ExporterConfig) -> list[SourceCollector]:
    """Given the config, return one collector per enabled source (nothing started yet)."""
    collectors: list[SourceCollector] = []
    runner: CommandRunner = (run_for_output if config.privileged_socket is None
                             else SocketCommandRunner(config.privileged_socket))
    if config.quota is not None and config.shares:
        quota = config.quota
        qgroup_reader = BtrfsQgroupReader(quota.btrfs_command, runner=runner,
                                          timeout_seconds=quota.command_timeout_seconds)
        reader = QuotaReader(config.volume_path, config.shares, quota.method, qgroup_reader,
                             organizations=config.organizations)
        collectors.append(QuotaCollector(reader, quota.refresh_interval_seconds,
                                         quota.walk_interval_seconds))
    if config.syncthing is not None:
        syncthing = config.syncthing
        client = SyncthingClient(
            syncthing.url, read_secret_file(syncthing.api_key_file, "Syncthing API key"),
            timeout_seconds=syncthing.timeout_seconds,
            ssl_context=_syncthing_ssl_context(syncthing.ca_file))
        collectors.append(SyncCollector(SyncReader(client), syncthing.refresh_interval_seconds))
    if config.backup_status_directory is not None:
        collectors.append(BackupCollector(config.backup_status_directory,
                                          schedules=config.backup_schedules))
    if config.drift:
        collectors.append(DriftCollector(config.state_directory))
    if config.samba is not None:
        samba = config.samba
        collectors.append(SambaCollector(
            SambaReader(samba.command, runner=runner, timeout_seconds=samba.timeout_seconds),
            samba.refresh_interval_seconds))
    if config.qts is not None:
        collectors.append(_qts_collector(config.qts))
    return collectors


def _qts_collector(qts: QtsConfig) -> SourceCollector:
    # Imported only here: the exporter a NAS runs never reads a QNAP, and its release
    # bundle (nasops.release.bundle) holds only what the NAS imports.
    from nasops.exporter.collectors.qts import QtsCollector, QtsReader  # noqa: PLC0415
    from nasops.qts.session import Endpoint  # noqa: PLC0415

    endpoint = Endpoint(qts.host, qts.port, qts.certificate_sha256, qts.user,
                        timeout=qts.timeout_seconds)
    reader = QtsReader(endpoint, lambda: read_secret_file(qts.password_file, "QTS password"))
    return QtsCollector(reader, qts.name, qts.refresh_interval_seconds)
