"""Benchmark: wall time of `nasops backup run` against raw restic doing the same work.

Both sides back up the same generated data set (default 20,000 files, 500 MB, half random
and half compressible text) into fresh repositories, in the same run, interleaved and
repeated; the raw side runs exactly the restic commands the wrapper runs (`backup` then
`forget --prune`), the wrapper side is the whole CLI as a timer would start it (Python
start-up, config, version detection, status files). Fresh repositories are copies of one
initialised template so that `restic init` is not timed.

    .venv/bin/python tests/bench/bench_backup.py [--repetitions 5] [--files 20000]

Writes tests/bench/results/backup.json; exits 1 when either overhead exceeds 3 %: the median
of the paired wall-time differences, or the median of the wrapper's own time (its wall time
minus its restic children's, through a timing shim) over its restic time. On a shared, loaded
machine the paired differences swing by ±25 %; the own-time figure does not depend on how
much the load slows restic. CPU time of the child processes is reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from nasops.backup.restic.backup import build_backup_argv
from nasops.backup.restic.common import ResticOptions
from nasops.backup.restic.forget import build_forget_argv

TARGET_PERCENT = 3.0
PASSWORD = "bench-password-not-secret"
RETENTION = {"daily": 7, "weekly": 4, "monthly": 12}
TEXT_LINE = b"Rapport de mission: partenaires, budget, calendrier et suivi.\n"
SIDES = ("raw", "nasops")


def generate(root: Path, files: int, total_bytes: int) -> None:
    """Given a root, a file count and a size, create the data set once (seeded, reused)."""
    marker = root / ".complete"
    if marker.exists() and marker.read_text() == f"{files} {total_bytes}":
        return
    shutil.rmtree(root, ignore_errors=True)
    chooser = random.Random(20241122)  # noqa: S311 (reproducible data, not a secret)
    weights = [chooser.lognormvariate(0, 1.5) for _ in range(files)]
    scale = total_bytes / sum(weights)
    for number, weight in enumerate(weights):
        folder = root / f"share-{number // 2000:02}" / f"folder-{number // 100 % 20:02}"
        folder.mkdir(parents=True, exist_ok=True)
        size = int(weight * scale)
        content = (os.urandom(size) if number % 2
                   else (TEXT_LINE * (size // len(TEXT_LINE) + 1))[:size])
        (folder / f"document-{number:05}.dat").write_bytes(content)
    marker.write_text(f"{files} {total_bytes}")


# restic behind a timing shim for the wrapper's runs: what the wrapper costs on its own is its
# wall time minus the time its restic children took, in the same run — immune to how much the
# machine's load slows restic itself. The shim's own cost (two `date`, a few ms) counts
# against the wrapper, and so does `restic version` (feature detection: raw restic has none).
TIMING_SHIM = """#!/bin/sh
[ "$1" = version ] && exec restic "$@"
start=$(date +%s.%N)
restic "$@"
code=$?
echo "$start $(date +%s.%N)" >> {log}
exit $code
"""


def restic_seconds(log: Path) -> float:
    """Given the shim's log, return the total time restic ran, and empty the log."""
    total = 0.0
    if log.exists():
        for line in log.read_text().splitlines():
            start, end = line.split()
            total += float(end) - float(start)
        log.unlink()
    return total


def fresh_repository(template: Path, target: Path) -> Path:
    """Given the template repository, return a fresh copy at target."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(template, target)
    return target


@dataclass
class Measure:
    """Wall time and CPU time (user + system of the child processes) of some commands."""

    wall: float = 0.0
    cpu: float = 0.0

    def __add__(self, other: Measure) -> Measure:
        return Measure(self.wall + other.wall, self.cpu + other.cpu)


def timed(argv: list[str], environment: dict[str, str]) -> Measure:
    """Given a command, run it and return its times; fail loudly if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=environment, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measure(wall, cpu)


def main() -> int:
    """Run the benchmark and write the results; return 0 when within the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--megabytes", type=int, default=500)
    parser.add_argument("--repetitions", type=int, default=6)
    parser.add_argument("--work-directory", default="/var/tmp/nasops-bench-backup")
    parser.add_argument("--output", default=str(Path(__file__).parent / "results/backup.json"))
    arguments = parser.parse_args()

    work = Path(arguments.work_directory)
    data = work / "data"
    print(f"data set: {arguments.files} files, {arguments.megabytes} MB in {data}", flush=True)
    generate(data, arguments.files, arguments.megabytes * 1_000_000)
    password_file = work / "password"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o600)
    base_environment = {**os.environ, "RESTIC_PASSWORD_FILE": str(password_file)}
    template = work / "template"
    if not (template / "config").exists():
        shutil.rmtree(template, ignore_errors=True)
        subprocess.run(["restic", "init"], check=True, capture_output=True,
                       env={**base_environment, "RESTIC_REPOSITORY": str(template)})

    def raw_run(repository: Path, cache: Path) -> Measure:
        options = ResticOptions(cache_directory=str(cache))
        environment = {**base_environment, "RESTIC_REPOSITORY": str(repository)}
        backup = build_backup_argv(options, [str(data)], tags=("nasops",), exclude_caches=True)
        forget = build_forget_argv(options, RETENTION, tags=("nasops",))
        return timed(list(backup), environment) + timed(list(forget), environment)

    shim_log = work / "restic-times.log"
    shim = work / "restic-timed"
    shim.write_text(TIMING_SHIM.format(log=shim_log))
    shim.chmod(0o755)
    restic_inside: list[float] = []

    def wrapper_run(repository: Path, cache: Path, state: Path, command: list[str]) -> Measure:
        config = work / "backup.json"
        config.write_text(json.dumps({
            "repositories": [{"name": "bench", "url": str(repository),
                              "password_file": str(password_file)}],
            "sources": [str(data)], "retention": RETENTION, "state_directory": str(state),
            "cache_directory": str(cache), "restic_binary": str(shim)}))
        restic_seconds(shim_log)
        measure = timed([*command, "--config", str(config), "run"], dict(os.environ))
        restic_inside.append(restic_seconds(shim_log))
        return measure

    print("warm-up (page cache)", flush=True)
    raw_run(fresh_repository(template, work / "repo-raw"), work / "cache-raw")
    load_at_start = os.getloadavg()
    command = [sys.executable, "-m", "nasops", "backup"]
    times: dict[str, list[Measure]] = {side: [] for side in SIDES}
    for repetition in range(arguments.repetitions):
        # Rotate the order so that no side always runs on a warmer or calmer machine.
        order = SIDES[repetition % 2:] + SIDES[:repetition % 2]
        for side in order:
            cache = work / f"cache-{side}"
            shutil.rmtree(cache, ignore_errors=True)
            repository = fresh_repository(template, work / f"repo-{side}")
            if side == "raw":
                times[side].append(raw_run(repository, cache))
            else:
                shutil.rmtree(work / "state", ignore_errors=True)
                times[side].append(wrapper_run(repository, cache, work / "state", command))
        print(f"  {repetition + 1}: " + ", ".join(
            f"{side} {times[side][-1].wall:.2f} s (cpu {times[side][-1].cpu:.2f} s)"
            for side in SIDES), flush=True)
    raw_times, wrapper_times = times["raw"], times["nasops"]

    startup = [timed([sys.executable, "-m", "nasops", "backup", "--help"], dict(os.environ))
               for _ in range(5)]
    raw_wall = [measure.wall for measure in raw_times]
    wrapper_wall = [measure.wall for measure in wrapper_times]
    # Each repetition ran both sides back to back: the median of the paired differences
    # resists the load of other work on the machine better than two separate medians.
    paired = [(wrapper - raw) / raw * 100 for wrapper, raw in zip(wrapper_wall, raw_wall,
                                                                  strict=True)]
    overhead = statistics.median(paired)
    own = [wall - inside for wall, inside in zip(wrapper_wall, restic_inside, strict=True)]
    own_percent = [mine / inside * 100 for mine, inside in zip(own, restic_inside, strict=True)]
    raw_cpu = statistics.median(measure.cpu for measure in raw_times)
    wrapper_cpu = statistics.median(measure.cpu for measure in wrapper_times)
    version = subprocess.run(["restic", "version"], capture_output=True, text=True,
                             check=True).stdout.strip()
    within = max(overhead, statistics.median(own_percent)) <= TARGET_PERCENT
    results = {
        "benchmark": "nasops backup run vs raw restic backup + forget --prune, same data",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "restic": version,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "data_set": {"files": arguments.files, "bytes": arguments.megabytes * 1_000_000},
        "repetitions": arguments.repetitions,
        "load_average_at_start": load_at_start,
        "raw_wall_seconds": [round(value, 3) for value in raw_wall],
        "nasops_wall_seconds": [round(value, 3) for value in wrapper_wall],
        "raw_wall_median_seconds": round(statistics.median(raw_wall), 3),
        "nasops_wall_median_seconds": round(statistics.median(wrapper_wall), 3),
        "paired_overhead_percent": [round(value, 2) for value in paired],
        "overhead_percent_median": round(overhead, 2),
        "overhead_percent_best": round(
            (min(wrapper_wall) - min(raw_wall)) / min(raw_wall) * 100, 2),
        "raw_cpu_median_seconds": round(raw_cpu, 3),
        "nasops_cpu_median_seconds": round(wrapper_cpu, 3),
        "cpu_overhead_percent": round((wrapper_cpu - raw_cpu) / raw_cpu * 100, 2),
        "restic_inside_wrapper_seconds": [round(value, 3) for value in restic_inside],
        "wrapper_own_seconds": [round(value, 3) for value in own],
        "wrapper_own_median_seconds": round(statistics.median(own), 3),
        "wrapper_own_percent_of_its_restic": [round(value, 2) for value in own_percent],
        "wrapper_own_percent_median": round(statistics.median(own_percent), 2),
        "cli_startup_median_seconds": round(statistics.median(m.wall for m in startup), 3),
        "target_percent": TARGET_PERCENT,
        "within_target": within,
    }
    output = Path(arguments.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
