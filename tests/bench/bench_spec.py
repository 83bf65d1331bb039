"""Benchmark of the spec layer (not a pytest test):

    .venv/bin/python tests/bench/bench_spec.py [--users 300] [--groups 40] [--folders 2000]

Generates a large but realistic spec (people in 1-3 groups, shares with trees 3-5 deep, access
maps of 1-4 entries, some private folders and user exceptions), writes it as YAML, then times
load + validate, rights resolution, each access-report format, and the combined
"validate + access report (json)", which must stay under 1 s. Also times the real command
`nasops access-report --format json` in a fresh process. Results go to
tests/bench/results/spec.json unless --output says otherwise.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from nasops.report.access import FORMATS, render
from nasops.spec import load_spec
from nasops.spec.rights import resolve_rights
from nasops.sync.device_id import device_id_from_seed

HERE = Path(__file__).resolve().parent
TARGET_SECONDS = 1.0
FIRST_NAMES = ["Aminata", "Pieter", "François", "Claudine", "Sofie", "Julia", "Tomás", "María",
               "Koen", "Lies", "Bruno", "Anjali", "Hélène", "Céline", "Jan", "Nadia", "Geert"]
LAST_NAMES = ["Diallo", "Van Damme", "Kaboré", "Ndayisaba", "Mertens", "López", "García",
              "Quispe", "De Wit", "Maes", "Thapa", "Sharma", "Dupont", "Leroy", "Peeters"]
TOPICS = ["Partenaires", "Rapports de mission", "Finances", "Projets", "Évaluations",
          "Contrats", "Photos", "Budget", "Réunions", "Archives", "Formations", "Campagnes",
          "Plaidoyer", "Communication", "Ressources humaines", "Financiën", "Vormingen"]
LEVEL_WEIGHTS = {"read": 5, "write": 4, "none": 1}


def device_id(generator: random.Random) -> str:
    """Return a random valid Syncthing device ID (check characters right), seeded."""
    return device_id_from_seed(str(generator.random()))


def access_map(generator: random.Random, groups: list[str], logins: list[str],
               exception_rate: float) -> dict[str, str]:
    """Return 1-4 access entries, now and then naming one person (an exception)."""
    chosen = generator.sample(groups, generator.randint(1, 3))
    if generator.random() < exception_rate:
        chosen.append(generator.choice(logins))
    levels = list(LEVEL_WEIGHTS)
    weights = list(LEVEL_WEIGHTS.values())
    return {name: generator.choices(levels, weights)[0] for name in chosen}


def generate_spec(users: int = 300, groups: int = 40, folders: int = 2000,
                  seed: int = 2024) -> dict[str, Any]:
    """Given sizes, return spec data: `folders` counts every folder including share roots."""
    generator = random.Random(seed)  # noqa: S311 - repeatable test data, not secrets
    group_names = [f"Cellule {TOPICS[index % len(TOPICS)]} {index:02d}" for index in range(groups)]
    logins = [f"user{index:03d}" for index in range(users)]
    people = []
    for index, login in enumerate(logins):
        person: dict[str, Any] = {
            "login": login,
            "name": f"{generator.choice(FIRST_NAMES)} {generator.choice(LAST_NAMES)}",
            "groups": generator.sample(group_names, generator.randint(1, min(3, groups)))}
        if index % 15 == 0:
            person["devices"] = [{"name": f"laptop-{login}", "id": device_id(generator)}]
        if index % 40 == 39:
            person["state"] = "disabled"
        people.append(person)
    share_count = max(1, folders // 80)
    shares = [{"name": f"Programme {index:02d}", "quota": "200G", "sync": index % 3 == 0,
               "access": access_map(generator, group_names, logins, 0.0)}
              for index in range(share_count)]
    # Grow each share's tree by adding children to random nodes no deeper than level 5,
    # favouring the upper levels as real trees do.
    nodes: list[tuple[dict[str, Any], int]] = [(share, 1) for share in shares]
    for _ in range(folders - share_count):
        parent, depth = generator.choice(nodes)
        while depth >= 5 or (depth >= 3 and generator.random() < 0.3):
            parent, depth = generator.choice(nodes)
        siblings = parent.setdefault("folders", [])
        child: dict[str, Any] = {
            "name": f"{TOPICS[len(siblings) % len(TOPICS)]} {len(siblings) // len(TOPICS) + 1}"}
        if generator.random() < 0.4:
            child["access"] = access_map(generator, group_names, logins, 0.08)
        if generator.random() < 0.04:
            child["inherit"] = False
            child["access"] = access_map(generator, group_names, logins, 0.2)
        siblings.append(child)
        nodes.append((child, depth + 1))
    return {
        "version": 1,
        "organization": {"id": "bench", "name": "Benchmark — ONG de solidarité"},
        "volume": {"path": "/srv/nas", "size": "100T"},
        "groups": [{"name": name} for name in group_names],
        "users": people,
        "shares": shares,
        "backup": {"schedule": "*-*-* 01:30", "repositories": [
            {"name": "usb", "url": "/mnt/backup-usb/restic"},
            {"name": "offsite", "url": "sftp:backup@offsite.example.org:/srv/restic/bench"}]},
    }


def write_yaml(data: dict[str, Any], path: Path) -> None:
    """Write spec data as block-style YAML in the spec's key order, as a person would."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    with path.open("w", encoding="utf-8") as stream:
        yaml.dump(data, stream, Dumper=dumper, sort_keys=False, allow_unicode=True,
                  default_flow_style=False)


def timed(action: Callable[[], object], repeat: int) -> dict[str, float]:
    """Run an action `repeat` times; return median and best wall time, and median CPU time
    (seconds). CPU time shows the cost when other work slows the wall clock down."""
    walls, cpus = [], []
    for _ in range(repeat):
        gc.collect()  # each run starts clean, as a fresh `nasops` process would
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return {"wall": statistics.median(walls), "best_wall": min(walls),
            "cpu": statistics.median(cpus)}


def command_seconds(spec_file: Path, repeat: int) -> dict[str, float]:
    """Time `nasops access-report --format json` in a fresh process (start-up included)."""
    command = [sys.executable, "-m", "nasops", "access-report", str(spec_file), "--format",
               "json", "-o", os.devnull]
    walls = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
    return {"wall": statistics.median(walls), "best_wall": min(walls)}


def measure(spec_file: Path, repeat: int) -> dict[str, dict[str, float]]:
    """Given a spec file, return the timings of each step."""
    loaded = load_spec(spec_file)
    table = resolve_rights(loaded.spec)
    results = {"load + validate": timed(lambda: load_spec(spec_file), repeat),
               "resolve_rights": timed(lambda: resolve_rights(loaded.spec), repeat)}
    for output_format in FORMATS:
        results[f"render {output_format}"] = timed(
            partial(render, loaded.spec, table, output_format), repeat)

    def validate_and_report() -> str:
        spec = load_spec(spec_file).spec
        return render(spec, resolve_rights(spec), "json")

    results["validate + access report (json)"] = timed(validate_and_report, repeat)
    results["command: nasops access-report --format json"] = command_seconds(spec_file, repeat)
    return results


def machine() -> dict[str, Any]:
    """Describe the machine without naming it."""
    model = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"system": platform.system(), "kernel": platform.release(),
            "machine": platform.machine(), "cpu": model, "cpus": os.cpu_count(),
            "python": platform.python_version(), "load_average": list(os.getloadavg())}


def run(users: int, groups: int, folders: int, repeat: int, output: Path | None) -> dict[str, Any]:
    """Generate, write, measure, print a table; return (and maybe save) the results."""
    data = generate_spec(users, groups, folders)
    with tempfile.TemporaryDirectory() as directory:
        spec_file = Path(directory) / "bench.yml"
        write_yaml(data, spec_file)
        size = spec_file.stat().st_size
        loaded = load_spec(spec_file)
        folder_count = len(resolve_rights(loaded.spec).folders)
        timings = measure(spec_file, repeat)
    combined = timings["validate + access report (json)"]["wall"]
    result: dict[str, Any] = {
        "date": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "python": platform.python_version(),
        "machine": machine(),
        "spec": {"users": len(loaded.spec.users), "groups": len(loaded.spec.groups),
                 "folders": folder_count, "shares": len(loaded.spec.shares),
                 "yaml_bytes": size},
        "repeat": repeat,
        "seconds": {name: {kind: round(value, 4) for kind, value in values.items()}
                    for name, values in timings.items()},
        "target_seconds": TARGET_SECONDS,
        "target_met": combined < TARGET_SECONDS,
    }
    print(f"spec: {result['spec']}  ({repeat} runs; load average "
          f"{result['machine']['load_average'][0]:.1f} on {result['machine']['cpus']} CPUs)")
    width = max(len(name) for name in timings)
    print(f"  {'step':<{width}}  {'median':>9}  {'best':>9}  {'CPU':>9}")
    for name, values in timings.items():
        cpu = f"{values['cpu'] * 1000:7.1f}ms" if "cpu" in values else " " * 9
        print(f"  {name:<{width}}  {values['wall'] * 1000:7.1f}ms  "
              f"{values['best_wall'] * 1000:7.1f}ms  {cpu}")
    verdict = "met" if result["target_met"] else "MISSED"
    print(f"target: validate + access report (json) < {TARGET_SECONDS:.1f} s (median wall) "
          f"— {verdict}")
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        print(f"results written to {output}")
    return result


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the benchmark; exit 1 when the target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--groups", type=int, default=40)
    parser.add_argument("--folders", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "spec.json")
    parser.add_argument("--no-output", action="store_true", help="print only")
    options = parser.parse_args(argv)
    result = run(options.users, options.groups, options.folders, options.repeat,
                 None if options.no_output else options.output)
    return 0 if result["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
