"""Samba collector against recorded `smbstatus --json` output and failing runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from exporter_samples import Samples, parse_samples, value
from prometheus_client import generate_latest

from nasops.errors import CommandFailedError
from nasops.exporter.collectors.samba import SambaCollector, SambaReader, parse_smbstatus
from nasops.exporter.registry import GuardedCollectors, build_registry

FIXTURES = Path(__file__).parent / "fixtures" / "exporter"


def fixture_runner(name: str) -> object:
    def run(argv: Sequence[str], timeout: float) -> str:
        assert tuple(argv) == ("sudo", "-n", "/usr/bin/smbstatus", "--json")
        return (FIXTURES / name).read_text(encoding="utf-8")
    return run


def samba_samples(runner: object) -> Samples:
    reader = SambaReader(("sudo", "-n", "/usr/bin/smbstatus", "--json"),
                         runner=runner)  # type: ignore[arg-type]
    collector = SambaCollector(reader, 30)
    collector.refresher.refresh_once()
    registry = build_registry(GuardedCollectors([collector]), process_metrics=False)
    return parse_samples(generate_latest(registry).decode())


def test_sessions_users_open_files_and_share_connections() -> None:
    samples = samba_samples(fixture_runner("smbstatus-busy.json"))
    assert value(samples, "nasops_collector_up", collector="samba") == 1
    assert value(samples, "nasops_samba_sessions") == 3
    assert value(samples, "nasops_samba_users") == 2
    assert value(samples, "nasops_samba_open_files") == 2
    assert value(samples, "nasops_samba_share_connections", share="Afrique") == 2
    assert value(samples, "nasops_samba_share_connections", share="IPC$") is None


def test_an_idle_server_exports_zeros() -> None:
    samples = samba_samples(fixture_runner("smbstatus-idle.json"))
    assert value(samples, "nasops_samba_sessions") == 0
    assert value(samples, "nasops_samba_open_files") == 0


def failing(argv: Sequence[str], timeout: float) -> str:
    raise CommandFailedError("sudo -n /usr/bin/smbstatus --json failed with exit code 1: "
                             "sudo: a password is required")


@pytest.mark.parametrize("runner", [failing, fixture_runner("smbstatus-truncated.json")],
                         ids=["command-fails", "truncated-json"])
def test_a_failing_smbstatus_marks_only_samba_down(runner: object) -> None:
    samples = samba_samples(runner)
    assert value(samples, "nasops_collector_up", collector="samba") == 0
    assert value(samples, "nasops_samba_sessions") is None


@pytest.mark.parametrize("text", ['[]', '{"sessions": []}', '{"tcons": "x"}'])
def test_wrongly_shaped_documents_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="smbstatus"):
        parse_smbstatus(text)
