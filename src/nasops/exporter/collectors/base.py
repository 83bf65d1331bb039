"""What every source collector gives the exporter, and helpers to build metric families."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic

from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric

from nasops.execute import run_command
from nasops.exporter.refresher import Refresher, RefreshState, SnapshotType


@dataclass
class Gathered:
    """One collector's contribution to a scrape."""

    families: list[Metric]
    problems: list[str] = field(default_factory=list)
    """Anything that went wrong; a non-empty list exports nasops_collector_up 0."""
    duration_seconds: float | None = None
    """Time the data took to read; None means "measure this call"."""
    data_timestamp: float | None = None
    """When background data was read; None for collectors that read on each scrape."""
    refresh_interval_seconds: float | None = None
    snapshot: object | None = None
    """The background snapshot the families were built from: while it is the same object,
    their rendered text may be reused."""


class SourceCollector(ABC):
    """One source of metrics (quota, sync, backup, drift, samba)."""

    name: str

    @abstractmethod
    def gather(self) -> Gathered:
        """Return this source's families; may raise, which marks only this collector down."""

    def start(self) -> None:  # noqa: B027 - an optional hook, most collectors need none
        """Start background work, if any."""

    def stop(self) -> None:  # noqa: B027 - an optional hook
        """Stop background work, if any."""


class BackgroundCollector(SourceCollector, Generic[SnapshotType]):
    """A collector whose data comes from a Refresher; a scrape only reads memory."""

    def __init__(
        self, read: Callable[[], SnapshotType], interval_seconds: float,
        *, clock: Callable[[], float] | None = None,
    ) -> None:
        options: dict[str, Any] = {"clock": clock} if clock is not None else {}
        self.refresher: Refresher[SnapshotType] = Refresher(self.name, read, interval_seconds,
                                                            **options)
        # Families are built once per snapshot (not per scrape): concurrent scrapes share them.
        self._built: tuple[RefreshState[SnapshotType], list[Metric]] | None = None

    @abstractmethod
    def families(self, snapshot: SnapshotType) -> list[Metric]:
        """Given a snapshot, return its metric families (memory only, no I/O)."""

    def gather(self) -> Gathered:
        """Return the families of the last snapshot, or a problem when there is none."""
        state = self.refresher.latest()
        gathered = Gathered([], duration_seconds=state.duration_seconds,
                            data_timestamp=state.taken_at,
                            refresh_interval_seconds=self.refresher.interval_seconds)
        if state.snapshot is None:
            gathered.problems.append(state.error or "the first background refresh is running")
            return gathered
        built = self._built
        if built is None or built[0] is not state:
            built = (state, self.families(state.snapshot))
            self._built = built
        gathered.families = built[1]
        gathered.snapshot = state
        return gathered

    def start(self) -> None:
        """Start the background refresh thread."""
        self.refresher.start()

    def stop(self) -> None:
        """Stop the background refresh thread."""
        self.refresher.stop()


def gauge(
    name: str, documentation: str, labels: Sequence[str] = (),
    samples: Iterable[tuple[Sequence[str], float]] = (),
) -> GaugeMetricFamily:
    """Given a name, HELP text, label names and (label values, value) pairs, return a gauge."""
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    for values, value in samples:
        family.add_metric(list(values), value)
    return family


def single_gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    """Return an unlabelled gauge with one value."""
    return GaugeMetricFamily(name, documentation, value=value)


# The label naming an organisation. Not `organization`: `nasops monitoring targets` gives
# every target that label (the NAS's name), and Prometheus would rename a scraped label of
# the same name.
ORGANISATION_LABEL = "organization_id"


def info(
    name: str, documentation: str, labels: Sequence[str],
    samples: Iterable[tuple[Sequence[str], dict[str, str]]],
) -> InfoMetricFamily:
    """Given a name without `_info`, HELP, label names and (values, info) pairs, return it."""
    family = InfoMetricFamily(name, documentation, labels=list(labels))
    for values, details in samples:
        family.add_metric(list(values), details)
    return family


CommandRunner = Callable[[Sequence[str], float], str]
"""Given argv and a timeout in seconds, return the command's stdout; raise if it fails."""


def run_for_output(argv: Sequence[str], timeout: float) -> str:
    """The default CommandRunner: nasops.execute.run_command, stdout only."""
    return run_command(argv, timeout=timeout).stdout
