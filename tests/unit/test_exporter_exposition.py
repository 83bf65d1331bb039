"""Exposition: both text formats, gzip, reuse of encoded snapshots until they change."""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from exporter_samples import parse_samples, smbstatus_document, value
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)

from nasops.exporter.collectors.drift import DriftCollector
from nasops.exporter.collectors.samba import SambaCollector, SambaReader
from nasops.exporter.config import parse_config
from nasops.exporter.exposition import CachingExposition
from nasops.exporter.registry import GuardedCollectors, exporter_collectors
from nasops.exporter.service import Exporter

OPENMETRICS_ACCEPT = "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"


class ChangingSamba:
    """An smbstatus whose session count is whatever `sessions` says."""

    def __init__(self) -> None:
        self.sessions = 1

    def __call__(self, argv: Sequence[str], timeout: float) -> str:
        return smbstatus_document(sessions=self.sessions)


@pytest.fixture
def samba() -> tuple[SambaCollector, ChangingSamba]:
    runner = ChangingSamba()
    collector = SambaCollector(SambaReader(runner=runner), 30)
    collector.refresher.refresh_once()
    return collector, runner


@pytest.fixture
def exporter(tmp_path: Path, samba: tuple[SambaCollector, ChangingSamba]) -> Iterator[Exporter]:
    running = Exporter(parse_config('{"port": 0}'), [samba[0], DriftCollector(tmp_path)])
    running.start()
    yield running
    running.stop()


def get(exporter: Exporter, headers: dict[str, str], method: str = "GET"
        ) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(f"http://127.0.0.1:{exporter.port}/metrics",
                                     headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        return answer.read(), dict(answer.headers)


def test_openmetrics_is_served_with_one_end_marker_and_parses_strictly(
    exporter: Exporter,
) -> None:
    body, headers = get(exporter, {"Accept": OPENMETRICS_ACCEPT})
    assert headers["Content-Type"].startswith("application/openmetrics-text")
    text = body.decode()
    assert text.endswith("# EOF\n") and text.count("# EOF") == 1
    families = {family.name: family for family in openmetrics_families(text)}
    assert families["nasops_samba_sessions"].samples[0].value == 1
    assert families["nasops_exporter"].type == "info"


def test_gzip_is_used_when_accepted(exporter: Exporter) -> None:
    body, headers = get(exporter, {"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip"
    assert b"nasops_samba_sessions 1.0" in gzip.decompress(body)


def test_only_get_is_answered(exporter: Exporter) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        get(exporter, {}, method="POST")
    assert caught.value.code == 405


def test_encoded_snapshots_are_reused_until_the_next_refresh(
    tmp_path: Path, samba: tuple[SambaCollector, ChangingSamba],
) -> None:
    collector, runner = samba
    exposition = CachingExposition(GuardedCollectors([collector, DriftCollector(tmp_path)]),
                                   exporter_collectors(process_metrics=False))
    first, content_type = exposition.render(None)
    runner.sessions = 7  # smbstatus changed, but no refresh ran yet: same snapshot
    assert value(parse_samples(exposition.render(None)[0].decode()),
                 "nasops_samba_sessions") == 1
    cached = exposition._encoded[("samba", content_type)][1]
    collector.refresher.refresh_once()
    after = exposition.render(None)[0].decode()
    assert value(parse_samples(after), "nasops_samba_sessions") == 7
    assert exposition._encoded[("samba", content_type)][1] is not cached
    assert first.decode().count("nasops_collector_up{") == after.count("nasops_collector_up{")
