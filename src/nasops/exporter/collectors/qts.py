"""The off-NAS QTS collector (issue 15, docs/qts.md): a QNAP NAS's volumes, shares' usage
and health, read through its web interface by an exporter running on another machine.

QTS runs no nasops exporter, so `nasops exporter` on the monitoring host reads it: one
session per refresh (pinned TLS, logout after), nasops_collector_up{collector="qts"} 0 on
any failure. A refused login is not tried again until the exporter restarts: QTS's Network
Access Protection would otherwise lock the monitoring host out after a few refreshes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client.core import Metric

from nasops.exporter.collectors.base import BackgroundCollector, gauge, info
from nasops.qts import answers
from nasops.qts.answers import Firmware, VolumeUsage
from nasops.qts.session import Endpoint, QtsLoginError, QtsSession
from nasops.spec.names import visible

USAGE = ("the disk usage", "/cgi-bin/management/chartReq.cgi",
         {"chart_func": "disk_usage", "disk_select": "all", "include": "all"})
HEALTH = ("the system health", "/cgi-bin/management/manaRequest.cgi",
          {"subfunc": "sysinfo", "sysHealth": "1"})


@dataclass(frozen=True)
class QtsSnapshot:
    """One refresh's reading of a QTS NAS."""

    firmware: Firmware | None
    volumes: list[VolumeUsage]
    health: str


class QtsReader:
    """Reads a QTS NAS once per call; stops for good after a refused login."""

    def __init__(self, endpoint: Endpoint, password: Callable[[], str]) -> None:
        self.endpoint = endpoint
        self.password = password
        self.refused: str | None = None

    def read(self) -> QtsSnapshot:
        """Log in, read usage and health, log out; raise on any failure."""
        if self.refused is not None:
            raise QtsLoginError(f"{self.refused} (not tried again until the exporter "
                                "restarts, so that QTS does not block this address)")
        with QtsSession(self.endpoint) as session:
            try:
                session.login(self.password())
            except QtsLoginError as error:
                self.refused = str(error)
                raise
            what, path, form = USAGE
            volumes = answers.disk_usage(session.read(path, form, what))
            what, path, form = HEALTH
            # A word in a label: visible and short, whatever the NAS sends.
            status = visible(answers.health(session.read(path, form, what)))[:64]
        return QtsSnapshot(session.firmware, volumes, status)


class QtsCollector(BackgroundCollector[QtsSnapshot]):
    """Exports nasops_qts_* from a QtsReader refreshed in the background."""

    name = "qts"

    def __init__(self, reader: QtsReader, nas: str, interval_seconds: float,
                 *, clock: Callable[[], float] | None = None) -> None:
        super().__init__(reader.read, interval_seconds, clock=clock)
        self.nas = nas

    def families(self, snapshot: QtsSnapshot) -> list[Metric]:
        """Given a QTS snapshot, return the nasops_qts_* families."""
        firmware = snapshot.firmware
        details = ({"model": firmware.model, "firmware": f"{firmware.version}.{firmware.number}"}
                   if firmware else {"model": "unknown", "firmware": "unknown"})
        nas = [self.nas]
        return [
            info("nasops_qts", "The QNAP NAS read: model and firmware.", ["nas"],
                 [(nas, details)]),
            info("nasops_qts_health", "QTS's own health word for the NAS.", ["nas"],
                 [(nas, {"status": snapshot.health})]),
            gauge("nasops_qts_volume_size_bytes", "Size of each QTS data volume.",
                  ["nas", "volume"],
                  (([self.nas, volume.label], volume.size_bytes)
                   for volume in snapshot.volumes)),
            gauge("nasops_qts_volume_free_bytes", "Free bytes of each QTS data volume.",
                  ["nas", "volume"],
                  (([self.nas, volume.label], volume.free_bytes)
                   for volume in snapshot.volumes)),
            gauge("nasops_qts_share_used_bytes", "Bytes each shared folder uses, as QTS "
                  "reports them.", ["nas", "share"],
                  (([self.nas, share], used) for volume in snapshot.volumes
                   for share, used in sorted(volume.shares.items()))),
        ]
