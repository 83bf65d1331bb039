"""Benchmark of the no-op apply of a NAS several organisations share (issue 13; not a pytest
test), against a NAS of one organisation, in the same run. As root:

    .venv/bin/python tests/bench/bench_shared.py [--repeat 5]

Boots three lab NAS with the same base: `bench-single` (127.0.0.26) with the
single-organisation example (inventory/example/wsm.yml), `bench-shared` (127.0.0.27) with the
collective (inventory/collective: three organisations, a shared space, one hosting file) and
`bench-three` (127.0.0.28) with three copies of the example as three organisations. Applies
each until nothing changes, then times `nasops apply -q` (the real CLI) on each, in turn, so
all see the same load; reports the medians and their ratios (target: the collective's no-op
within 1.5x the single organisation's). Writes tests/bench/results/shared.json and
shared.md. The hosts are torn down (purged), whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parents[1]
sys.path.insert(0, str(HERE))

from bench_provision import (  # noqa: E402
    change_count,
    log,
    median_of,
    nasops_argv,
    stop_on_signal,
    timed_command,
)
from provision_memory import reap_adopted  # noqa: E402
from provision_spec import code_state, machine  # noqa: E402

EXAMPLE = REPOSITORY / "inventory" / "example" / "wsm.yml"
COLLECTIVE = REPOSITORY / "inventory" / "collective"
RESULTS = HERE / "results"
STATE_ROOT = "/var/lib/nasops/lab-bench-shared"
HOSTS = {"single": ("bench-single", "127.0.0.26"), "shared": ("bench-shared", "127.0.0.27"),
         "three": ("bench-three", "127.0.0.28")}
# Three organisations each as large as the example, on one NAS: each backs up to a local
# repository of its own (the example's USB disk and offsite host would be one repository for
# three organisations, which validate refuses); no laptops (the example's device IDs would be
# in three organisations).
COPIES = (("wsa", "wa-"), ("wsb", "wb-"), ("wsc", "wc-"))
TARGET_RATIO = 1.5


def boot(name: str, address: str, *extra: str) -> Path:
    """Boot a lab NAS; return its inventory."""
    _, done = timed_command(nasops_argv("lab", "up", "--name", name, "--address", address,
                                        *extra), timeout=900)
    return Path(done.stdout.strip().splitlines()[-1])


def shared_inventory(host_inventory: Path, work: Path, label: str, specs: list[Path],
                     hosting: Path | None) -> Path:
    """Given a host's own inventory, write one naming several organisations' specs."""
    data = yaml.safe_load(host_inventory.read_text(encoding="utf-8"))
    [variables] = data["all"]["children"]["nas"]["hosts"].values()
    variables.update({"nasops_specs": [str(spec) for spec in specs],
                      "nasops_secrets_file": str(work / f"{label}-secrets.yml")})
    if hosting is not None:
        variables["nasops_hosting"] = str(hosting)
    inventory = work / f"{label}.yml"
    inventory.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return inventory


def example_copies(work: Path) -> list[Path]:
    """Write the example spec three times as three organisations (own id and prefix)."""
    written = []
    for identifier, prefix in COPIES:
        data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
        data["organization"].update({"id": identifier, "account_prefix": prefix})
        data["backup"]["repositories"] = [{"name": "disque",
                                           "url": f"/srv/sauvegardes/{identifier}"}]
        for user in data["users"]:
            user.pop("devices", None)
        path = work / f"{identifier}.yml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        written.append(path)
    return written


def apply(inventory: Path) -> tuple[float, int]:
    seconds, done = timed_command(nasops_argv("apply", "-q", "-i", str(inventory)),
                                  timeout=1800)
    return seconds, change_count(done.stdout)


def converge(label: str, inventory: Path) -> None:
    """Secrets, then applies until one changes nothing (at most three)."""
    timed_command(nasops_argv("secrets", "init", "-i", str(inventory)), timeout=600)
    for _ in range(3):
        seconds, changes = apply(inventory)
        log(f"{label}: apply {seconds:.1f} s, {changes} changes")
        if changes == 0:
            return
    raise RuntimeError(f"{label}: still changing after three applies")


def measure(inventories: dict[str, Path], repeat: int) -> dict[str, Any]:
    runs: dict[str, list[float]] = {label: [] for label in inventories}
    loads: list[float] = []
    for number in range(repeat):
        for label, inventory in inventories.items():
            loads.append(round(os.getloadavg()[0], 2))
            seconds, changes = apply(inventory)
            if changes:
                raise RuntimeError(f"{label}: the no-op apply {number + 1} made {changes} changes")
            runs[label].append(round(seconds, 3))
            log(f"{label}: no-op {number + 1}: {seconds:.2f} s")
    medians = {label: round(median_of(values), 3) for label, values in runs.items()}
    ratio = round(medians["shared"] / medians["single"], 3)
    return {"noop_apply_runs": runs, "noop_apply": medians, "ratio": ratio,
            "ratio_three": round(medians["three"] / medians["single"], 3),
            "target_ratio": TARGET_RATIO, "met": ratio <= TARGET_RATIO, "load_average": loads}


def markdown(results: dict[str, Any]) -> str:
    medians = results["noop_apply"]
    return "\n".join([
        "# No-op apply: a NAS several organisations share, against a NAS of one",
        "",
        f"Measured {results['date']} by `tests/bench/bench_shared.py` (repeat "
        f"{results['repeat']}, alternating runs; {results['machine']['cpus']} CPUs, "
        f"load {min(results['load_average'])}–{max(results['load_average'])}).",
        "",
        "| NAS | what it holds | no-op apply (median) | runs |",
        "|---|---|---:|---|",
        f"| single | the example: 1 organisation ({results['spec']['single']}) | "
        f"{medians['single']:.2f} s | {results['noop_apply_runs']['single']} |",
        f"| shared | the collective: 3 organisations and a shared space "
        f"({results['spec']['shared']}) | {medians['shared']:.2f} s | "
        f"{results['noop_apply_runs']['shared']} |",
        f"| three | three copies of the example as three organisations, each backing up to "
        f"a repository of its own, without laptops ({results['spec']['three']}) | "
        f"{medians['three']:.2f} s | "
        f"{results['noop_apply_runs']['three']} |",
        "",
        f"Ratio shared / single: **{results['ratio']}** (target ≤ {TARGET_RATIO}: "
        f"{'met' if results['met'] else 'missed'}). Ratio three / single: "
        f"{results['ratio_three']}.",
        "",
        "The collective has fewer folders and people than the example: its ratio says that "
        "hosting several organisations adds no cost of its own to a no-op apply (one run, "
        "one desired state, every role's checks once). The third NAS holds three times the "
        "example's people and folders, each organisation with its backups (no laptops): "
        "what a shared NAS of that size costs.",
        ""])


def counts(inventory: Path) -> str:
    """Organisations, people and folders of a NAS, from its compiled desired state."""
    from nasops.ansible.inventory import list_inventory, target_hosts  # noqa: PLC0415
    from nasops.provision.specs import compile_targets  # noqa: PLC0415

    [state] = compile_targets(target_hosts(list_inventory(str(inventory)),
                                           inventory.parent)).desired.values()
    folders = sum(len(share["folders"]) for share in state["shares"])
    return (f"{len(state['users'])} people, {len(state['shares'])} shares, "
            f"{folders} folders")


def main(argv: list[str] | None = None) -> int:
    command_line = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    command_line.add_argument("--repeat", type=int, default=5)
    command_line.add_argument("--output", type=Path, default=RESULTS / "shared.json")
    options = command_line.parse_args(argv)
    if os.geteuid() != 0:
        command_line.error("run it as root (the lab needs it)")
    signal.signal(signal.SIGTERM, stop_on_signal)
    os.environ.setdefault("NASOPS_LAB_STATE_DIR", STATE_ROOT)
    work = Path(tempfile.mkdtemp(prefix="nasops-bench-shared-", dir="/var/tmp"))
    results: dict[str, Any] = {"date": datetime.now(UTC).replace(microsecond=0).isoformat(),
                               "machine": machine(), "repeat": options.repeat,
                               "code_at_start": code_state()}
    try:
        single = boot(*HOSTS["single"], "--spec", str(EXAMPLE))
        shared = shared_inventory(boot(*HOSTS["shared"]), work, "shared", [
            COLLECTIVE / name for name in ("atable.yml", "habitat.yml", "relais.yml")],
            COLLECTIVE / "hosting.yml")
        three = shared_inventory(boot(*HOSTS["three"]), work, "three", example_copies(work),
                                 None)
        inventories = {"single": single, "shared": shared, "three": three}
        results["spec"] = {label: counts(inventory) for label, inventory in inventories.items()}
        for label, inventory in inventories.items():
            converge(label, inventory)
        results.update(measure(inventories, options.repeat))
    finally:
        for name, _address in HOSTS.values():
            subprocess.run(nasops_argv("lab", "down", "--name", name, "--purge"),
                           check=False, cwd=REPOSITORY, timeout=300)
        reap_adopted()  # the ssh masters lost their hosts
        # Only the run's own directory (mkdtemp above): its inventories, copies and secrets.
        shutil.rmtree(work, ignore_errors=True)
    results["code_at_end"] = code_state()
    options.output.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    options.output.with_suffix(".md").write_text(markdown(results), encoding="utf-8")
    print(json.dumps({key: results[key] for key in ("noop_apply", "ratio", "ratio_three",
                                                    "met")}))
    return 0 if results["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
