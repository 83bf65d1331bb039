"""The whole exporter over real HTTP(S) on 127.0.0.1: isolation, age, auth, TLS, concurrency."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
import urllib.error
from base64 import b64encode
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from ansible_collections.nasops.nas.plugins.module_utils.syncthing_client import SyncthingClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from exporter_samples import (
    API_KEY,
    FakeSyncthing,
    parse_samples,
    qgroup_show_output,
    scrape,
    syncthing_answers,
    value,
)
from prometheus_client import generate_latest

from nasops.backup.status import record
from nasops.errors import BadInputError
from nasops.exporter.auth import hash_password
from nasops.exporter.collectors.backup import BackupCollector
from nasops.exporter.collectors.base import Gathered, SourceCollector
from nasops.exporter.collectors.btrfs import Qgroup, parse_qgroup_show
from nasops.exporter.collectors.drift import DriftCollector
from nasops.exporter.collectors.quota import QuotaCollector, QuotaReader
from nasops.exporter.collectors.samba import SambaCollector, SambaReader
from nasops.exporter.collectors.sync import SyncCollector, SyncReader
from nasops.exporter.config import ExporterConfig, ShareConfig, parse_config
from nasops.exporter.registry import GuardedCollectors, build_registry
from nasops.exporter.run_records import DriftRecord, write_drift_record
from nasops.exporter.service import Exporter

FIXTURES = Path(__file__).parent / "fixtures" / "exporter"
COLLECTORS = {"quota", "sync", "backup", "drift", "samba"}


def quota_collector() -> QuotaCollector:
    output = qgroup_show_output({256: (5 * 1024**3, 10 * 1024**3)})

    def btrfs(volume: str, paths: Sequence[str]) -> dict[str, Qgroup]:
        return {paths[0]: parse_qgroup_show(output)["0/256"]}

    shares = [ShareConfig(name="Afrique", path="/srv/nas/wsm/Afrique")]
    return QuotaCollector(QuotaReader("/srv/nas", shares, "qgroup", btrfs), 60, 3600)


def samba_collector(fixture: str) -> SambaCollector:
    def smbstatus(argv: Sequence[str], timeout: float) -> str:
        return (FIXTURES / fixture).read_text(encoding="utf-8")

    return SambaCollector(SambaReader(runner=smbstatus), 30)


def all_collectors(state: Path, syncthing_url: str, smbstatus_fixture: str = "smbstatus-busy.json"
                   ) -> list[SourceCollector]:
    record(state / "backup", "usb", "backup",
           {"started_at": 1.0, "finished_at": 2.0, "result": "success", "bytes_new": 5},
           success=True)
    write_drift_record(state / "drift.json", DriftRecord(checked_at=3.0, result="clean"))
    client = SyncthingClient(syncthing_url, API_KEY, timeout_seconds=2)
    return [quota_collector(), SyncCollector(SyncReader(client), 60),
            BackupCollector(state / "backup"), DriftCollector(state),
            samba_collector(smbstatus_fixture)]


@pytest.fixture
def fake_syncthing() -> Iterator[FakeSyncthing]:
    with FakeSyncthing(syncthing_answers(folder_count=3)) as fake:
        yield fake


def refresh_all(collectors: Sequence[SourceCollector]) -> None:
    for collector in collectors:
        refresher = getattr(collector, "refresher", None)
        if refresher is not None:
            refresher.refresh_once()


def running(config: ExporterConfig, collectors: Sequence[SourceCollector]) -> Exporter:
    exporter = Exporter(config, collectors)
    exporter.start()
    return exporter


def test_every_collector_is_up_and_scraped_over_http(tmp_path: Path,
                                                     fake_syncthing: FakeSyncthing) -> None:
    collectors = all_collectors(tmp_path, fake_syncthing.url)
    exporter = running(parse_config('{"port": 0}'), collectors)
    try:
        refresh_all(collectors)
        samples = parse_samples(scrape(f"http://127.0.0.1:{exporter.port}/metrics"))
    finally:
        exporter.stop()
    for collector in COLLECTORS:
        assert value(samples, "nasops_collector_up", collector=collector) == 1, collector
        assert value(samples, "nasops_collector_duration_seconds", collector=collector) is not None
    assert value(samples, "nasops_exporter_info", version="0.1.0") == 1
    assert value(samples, "nasops_quota_used_bytes", share="Afrique") == 5 * 1024**3
    assert value(samples, "nasops_backup_last_added_bytes", repository="usb") == 5
    assert value(samples, "nasops_samba_sessions") == 3
    assert (value(samples, "process_resident_memory_bytes") or 0) > 0


def test_broken_sources_mark_only_their_collector_down(tmp_path: Path) -> None:
    collectors = all_collectors(tmp_path, "http://127.0.0.1:9", "smbstatus-truncated.json")
    (tmp_path / "backup" / "usb.json").write_text("{", encoding="utf-8")
    exporter = running(parse_config('{"port": 0}'), collectors)
    try:
        refresh_all(collectors)
        samples = parse_samples(scrape(f"http://127.0.0.1:{exporter.port}/metrics"))
    finally:
        exporter.stop()
    up = {name: value(samples, "nasops_collector_up", collector=name) for name in COLLECTORS}
    assert up == {"quota": 1, "drift": 1, "sync": 0, "backup": 0, "samba": 0}
    assert value(samples, "nasops_quota_used_bytes", share="Afrique") is not None


class Exploding(SourceCollector):
    name = "exploding"

    def gather(self) -> Gathered:
        raise RuntimeError("a bug in a collector")


def test_a_collector_raising_a_bug_does_not_break_the_scrape(tmp_path: Path) -> None:
    guard = GuardedCollectors([Exploding(), DriftCollector(tmp_path)])
    samples = parse_samples(generate_latest(build_registry(guard)).decode())
    assert value(samples, "nasops_collector_up", collector="exploding") == 0
    assert value(samples, "nasops_collector_up", collector="drift") == 1


def test_scrapes_read_the_cached_snapshot_and_export_its_age() -> None:
    now = [1000.0]
    calls = []

    def smbstatus(argv: Sequence[str], timeout: float) -> str:
        calls.append(argv)
        return (FIXTURES / "smbstatus-idle.json").read_text(encoding="utf-8")

    collector = SambaCollector(SambaReader(runner=smbstatus), 30, clock=lambda: now[0])
    registry = build_registry(GuardedCollectors([collector], clock=lambda: now[0]),
                              process_metrics=False)
    before = parse_samples(generate_latest(registry).decode())
    assert value(before, "nasops_collector_up", collector="samba") == 0  # first refresh pending
    collector.refresher.refresh_once()
    now[0] = 1042.0
    for _ in range(10):
        samples = parse_samples(generate_latest(registry).decode())
    assert len(calls) == 1  # ten scrapes, no smbstatus run
    assert value(samples, "nasops_collector_data_age_seconds", collector="samba") == 42
    assert value(samples, "nasops_collector_refresh_interval_seconds", collector="samba") == 30
    assert value(samples, "nasops_collector_up", collector="samba") == 1


def test_the_background_thread_refreshes_on_its_interval() -> None:
    refreshed = threading.Event()
    count = []

    def smbstatus(argv: Sequence[str], timeout: float) -> str:
        count.append(1)
        if len(count) >= 3:
            refreshed.set()
        return (FIXTURES / "smbstatus-idle.json").read_text(encoding="utf-8")

    collector = SambaCollector(SambaReader(runner=smbstatus), 0.05)
    collector.start()
    try:
        assert refreshed.wait(5)
    finally:
        collector.stop()


def auth_header(user: str, password: str) -> dict[str, str]:
    token = b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_basic_auth_rejects_wrong_and_missing_credentials(tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.write_text(f"prometheus:{hash_password('correct horse', rounds=4)}\n", encoding="utf-8")
    config = parse_config(f'{{"port": 0, "basic_auth": {{"users_file": "{users}"}}}}')
    exporter = running(config, [DriftCollector(tmp_path)])
    url = f"http://127.0.0.1:{exporter.port}/metrics"
    try:
        for headers in ({}, auth_header("prometheus", "wrong"), auth_header("nobody", "x"),
                        {"Authorization": "Basic !!!"}, {"Authorization": "Bearer x"}):
            with pytest.raises(urllib.error.HTTPError) as caught:
                scrape(url, headers)
            assert caught.value.code == 401
            assert "Basic" in caught.value.headers["WWW-Authenticate"]
        for _ in range(2):  # the second answer comes from the verified-credentials cache
            assert "nasops_collector_up" in scrape(url, auth_header("prometheus", "correct horse"))
    finally:
        exporter.stop()


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256()))
    certificate_path, key_path = directory / "cert.pem", directory / "key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return certificate_path, key_path


def test_tls_serves_https_and_refuses_plain_http(tmp_path: Path) -> None:
    certificate, key = self_signed(tmp_path)
    config = parse_config(f'{{"port": 0, "tls": {{"certificate_file": "{certificate}", '
                          f'"key_file": "{key}"}}}}')
    exporter = running(config, [DriftCollector(tmp_path)])
    try:
        context = ssl.create_default_context(cafile=str(certificate))
        text = scrape(f"https://127.0.0.1:{exporter.port}/metrics", context=context)
        assert "nasops_collector_up" in text
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            scrape(f"http://127.0.0.1:{exporter.port}/metrics", timeout=3)
        # The server still answers after a failed handshake.
        assert "nasops_collector_up" in scrape(f"https://127.0.0.1:{exporter.port}/metrics",
                                               context=context)
    finally:
        exporter.stop()


def test_concurrent_scrapes_are_all_answered_and_other_paths_are_not_metrics(
    tmp_path: Path, fake_syncthing: FakeSyncthing,
) -> None:
    collectors = all_collectors(tmp_path, fake_syncthing.url)
    exporter = running(parse_config('{"port": 0}'), collectors)
    refresh_all(collectors)
    url = f"http://127.0.0.1:{exporter.port}"
    bodies: list[str] = []

    def one() -> None:
        bodies.append(scrape(f"{url}/metrics"))

    try:
        threads = [threading.Thread(target=one) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        assert "href=\"/metrics\"" in scrape(f"{url}/")
        with pytest.raises(urllib.error.HTTPError) as caught:
            scrape(f"{url}/other")
        assert caught.value.code == 404
    finally:
        exporter.stop()
    assert len(bodies) == 50
    assert all("nasops_sync_folder_need_bytes" in body for body in bodies)


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    first = running(parse_config('{"port": 0}'), [DriftCollector(tmp_path)])
    try:
        with pytest.raises(BadInputError, match=r"cannot listen on 127\.0\.0\.1"):
            Exporter(parse_config(f'{{"port": {first.port}}}'), [])
    finally:
        first.stop()
