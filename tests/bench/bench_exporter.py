"""Benchmark the exporter as it runs on a NAS: a real `nasops exporter` process on 127.0.0.1.

Sources: a fake Syncthing (real HTTP) with 20 folders, 10 shares measured by the background
walk over a volume of N empty files, backup/apply/drift files, smbstatus output via `cat`.
For each volume size (10k and 1M files by default) it measures 1,000 sequential scrapes
(p50/p99/max), 200 concurrent scrapes (all answered? slowest?) and the process's memory.

    .venv/bin/python tests/bench/bench_exporter.py            # full run, a few minutes
    .venv/bin/python tests/bench/bench_exporter.py --quick    # small smoke run

Results go to tests/bench/results/exporter.json. Everything stays on loopback and in one
/tmp/nasops-bench-* directory, deleted at the end.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

# The exporter's test samples live with the unit tests (tests/unit/exporter_samples.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from exporter_samples import (
    FakeSyncthing,
    smbstatus_document,
    syncthing_answers,
    write_fixture_state,
)

RESULTS = Path(__file__).parent / "results" / "exporter.json"
SHARES = 10
FOLDERS = 20
DEVICES_PER_FOLDER = 3
# What Prometheus 2.42 sends: content negotiation picks OpenMetrics, gzip is accepted.
SCRAPE_HEADERS = {
    "Accept": "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
              "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    "Accept-Encoding": "gzip",
}


def make_volume(root: Path, files: int) -> None:
    """Create SHARES share directories holding `files` empty files, 1,000 per directory."""
    per_share = files // SHARES
    for share in range(SHARES):
        for number in range(per_share):
            directory = root / f"share-{share}" / f"d{number // 1000}"
            if number % 1000 == 0:
                directory.mkdir(parents=True, exist_ok=True)
            os.close(os.open(directory / f"f{number}", os.O_CREAT | os.O_WRONLY, 0o644))


def write_config(workspace: Path, volume: Path, syncthing_url: str) -> Path:
    (workspace / "api-key").write_text("fake-syncthing-api-key\n", encoding="utf-8")
    (workspace / "smbstatus.json").write_text(smbstatus_document(40, 25), encoding="utf-8")
    write_fixture_state(workspace / "state", time.time())
    config = {
        "listen_address": "127.0.0.1", "port": 0,
        "state_directory": str(workspace / "state"),
        "backup_status_directory": str(workspace / "state" / "backup"),
        "volume_path": str(volume),
        "shares": [{"name": f"Share {share}", "path": str(volume / f"share-{share}"),
                    "quota_bytes": 10 * 1024**3} for share in range(SHARES)],
        "quota": {"method": "walk", "refresh_interval_seconds": 2,
                  "walk_interval_seconds": 3600},
        "syncthing": {"url": syncthing_url, "api_key_file": str(workspace / "api-key"),
                      "refresh_interval_seconds": 10},
        "samba": {"command": ["cat", str(workspace / "smbstatus.json")],
                  "refresh_interval_seconds": 10},
    }
    path = workspace / "exporter.json"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


def start_exporter(config: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-m", "nasops", "exporter", "--config",
                                str(config)], stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        match = re.search(r"listening on (http://\S+/metrics)", line)
        if match:
            # Keep draining stderr so that the exporter never blocks on a full pipe.
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return process, match.group(1)
    process.kill()
    raise RuntimeError("the exporter did not start")


def scrape_once(url: str) -> tuple[float, str]:
    started = time.perf_counter()
    request = urllib.request.Request(url, headers=SCRAPE_HEADERS)  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        body = answer.read()
        if answer.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
    return time.perf_counter() - started, body.decode()


def walk_finished(text: str) -> bool:
    return 'method="walk"' in text and 'method="pending"' not in text


def wait_for_walk(url: str, limit_seconds: float) -> float:
    """Wait until every share is walked; return the walks' total duration as exported."""
    started = time.monotonic()
    while time.monotonic() - started < limit_seconds:
        text = scrape_once(url)[1]
        if walk_finished(text):
            durations = re.findall(r"^nasops_quota_walk_duration_seconds\{[^}]*\} (\S+)$",
                                   text, re.MULTILINE)
            return sum(float(duration) for duration in durations)
        time.sleep(0.5)
    raise RuntimeError(f"the usage walk did not finish within {limit_seconds} s")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def sequential(url: str, count: int, *, walked: bool = True) -> dict[str, Any]:
    latencies = []
    for _ in range(count):
        latency, text = scrape_once(url)
        latencies.append(latency)
    assert "nasops_sync_folder_need_bytes" in text
    assert not walked or "nasops_quota_used_bytes" in text
    return {"scrapes": count, "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
            "max_ms": round(max(latencies) * 1000, 2),
            "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
            "body_bytes": len(text.encode())}


def concurrent(url: str, count: int) -> dict[str, Any]:
    barrier = threading.Barrier(count)
    latencies: list[float] = []
    failures: list[str] = []

    def one() -> None:
        barrier.wait()
        try:
            latency, text = scrape_once(url)
            if "nasops_collector_up" not in text:
                failures.append("incomplete answer")
            latencies.append(latency)
        except Exception as error:  # every failure is counted, none may pass silently
            failures.append(repr(error))

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return {"concurrent": count, "answered": len(latencies), "failures": failures[:5],
            "max_ms": round(max(latencies) * 1000, 2) if latencies else None,
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 2) if latencies else None}


def memory(pid: int) -> dict[str, float]:
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    values = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.MULTILINE))
    return {"rss_mb": round(int(values["VmRSS"]) / 1024, 1),
            "peak_rss_mb": round(int(values["VmHWM"]) / 1024, 1)}


def run_case(workspace: Path, files: int, scrapes: int, concurrency: int,
             syncthing_url: str) -> dict[str, Any]:
    volume = workspace / f"volume-{files}"
    started = time.monotonic()
    make_volume(volume, files)
    created = time.monotonic() - started
    process, url = start_exporter(write_config(workspace, volume, syncthing_url))
    serving_since = time.monotonic()
    try:
        time.sleep(1.0)  # let the first Syncthing and smbstatus refreshes land
        during_walk = sequential(url, min(200, scrapes), walked=False)
        during_walk["ended_seconds_after_start"] = round(time.monotonic() - serving_since, 2)
        walk_seconds = wait_for_walk(url, 1800)
        # The walk starts with the exporter: these scrapes overlapped it if they ended first.
        during_walk["overlapped_the_walk"] = during_walk["ended_seconds_after_start"] < walk_seconds
        after = sequential(url, scrapes)
        rounds = [concurrent(url, concurrency) for _ in range(3)]
        worst = max(rounds, key=lambda item: (item["max_ms"] or 1e9, -item["answered"]))
        result = {"files": files, "volume_creation_seconds": round(created, 1),
                  "background_walk_seconds": round(walk_seconds, 2),
                  "sequential_during_walk": during_walk, "sequential": after,
                  "concurrent_worst_of_3": worst,
                  "concurrent_all_answered": all(item["answered"] == concurrency
                                                 for item in rounds),
                  "memory": memory(process.pid)}
    finally:
        process.terminate()
        process.wait(15)
        shutil.rmtree(volume, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k/20k files, 200 scrapes")
    parser.add_argument("--output", type=Path, default=RESULTS)
    options = parser.parse_args()
    sizes = (1_000, 20_000) if options.quick else (10_000, 1_000_000)
    scrapes = 200 if options.quick else 1_000
    workspace = Path(tempfile.mkdtemp(prefix="nasops-bench-", dir="/tmp"))
    cases = []
    try:
        answers = syncthing_answers(folder_count=FOLDERS, devices_per_folder=DEVICES_PER_FOLDER)
        with FakeSyncthing(answers) as fake:
            for files in sizes:
                print(f"== {files} files", file=sys.stderr, flush=True)
                cases.append(run_case(workspace, files, scrapes, 200, fake.url))
                print(json.dumps(cases[-1], indent=2), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    small, large = cases
    report: dict[str, Any] = {
        "benchmark": "nasops exporter scrape latency, concurrency and memory",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "kernel": platform.release()},
        "setup": {"sync_folders": FOLDERS, "devices_per_folder": DEVICES_PER_FOLDER,
                  "shares": SHARES, "quota_method": "walk (background)",
                  "scrape_headers": "Prometheus 2.42 (OpenMetrics, gzip)"},
        "cases": cases,
        "targets": {
            "p99_under_50_ms": all(case["sequential"]["p99_ms"] < 50 for case in cases),
            "p99_independent_of_file_count": abs(large["sequential"]["p99_ms"]
                                                 - small["sequential"]["p99_ms"]) < 10,
            "rss_under_60_mb": all(case["memory"]["peak_rss_mb"] < 60 for case in cases),
            "concurrent_all_answered_under_1_s": all(
                case["concurrent_all_answered"]
                and case["concurrent_worst_of_3"]["max_ms"] < 1000 for case in cases),
        },
    }
    if not options.quick:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report["targets"], indent=2))
    return 0 if all(report["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
