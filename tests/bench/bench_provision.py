"""Benchmark of `nasops apply` on a lab NAS (issue 4; not a pytest test). Run it as root:

    .venv/bin/python tests/bench/bench_provision.py [--users 300] [--groups 40]
        [--folders 2000] [--files 100000] [--name bench-provision] [--address 127.0.0.22]

Generates a spec (tests/bench/bench_spec.py, without Syncthing laptops), boots a lab NAS,
creates the secrets, then times with the real CLI: the first `nasops apply`, the creation of
`--files` files spread over the folders on the NAS (one python3 over ssh), the apply that
fixes their ACLs, no-op applies, and the apply of a spec where one folder's access changed.
In the same run, on the same tree: the floor, `ssh … getfacl -R -p <org root> > /dev/null`,
and the per-item approach: a generated playbook with `ansible.builtin.file` per folder and
`ansible.posix.acl` per (folder, entry), default entries included, run with ansible-playbook
of a separate venv holding the `ansible` package (it bundles ansible.posix; `--per-item-venv`,
created when missing). When that run would take longer than `--per-item-budget` minutes, it
runs on a random subset of the folders and is extrapolated linearly (and says so).

Writes tests/bench/results/provision.json and provision.md (unless --no-output). The lab host
is always torn down (purged), whatever happens, unless --keep-host.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parents[1]
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))  # its parts, also when the file is loaded by path (unit tests)

from provision_per_item import (  # noqa: E402
    DEFAULT_VENV,
    ensure_per_item_venv,
    per_item_items,
    per_item_versions,
    subset_items,
    write_per_item_project,
)
from provision_report import add_ratios, caveats, markdown  # noqa: E402

# Runs on the NAS: spread COUNT small files round-robin over every directory below ROOT.
FILES_SCRIPT = r"""
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
directories = []
for top, subdirectories, _ in os.walk(root):
    subdirectories.sort()
    directories.append(top)
made = 0
for number in range(count):
    path = os.path.join(directories[number % len(directories)], f"document-{number:06d}.txt")
    if not os.path.exists(path):
        with open(path, "w") as stream:
            stream.write("nasops benchmark\n")
        made += 1
print(len(directories), made)
"""

# --- generation (also used by tests/unit/test_bench_provision_smoke.py) -------------------

def load_spec_generator() -> ModuleType:
    """Return tests/bench/bench_spec.py (its generate_spec and write_yaml)."""
    specification = importlib.util.spec_from_file_location("bench_spec", HERE / "bench_spec.py")
    assert specification is not None and specification.loader is not None
    module = importlib.util.module_from_spec(specification)
    specification.loader.exec_module(module)
    return module


def generate_spec(users: int = 300, groups: int = 40, folders: int = 2000,
                  seed: int = 2024) -> dict[str, Any]:
    """Return the benchmark's spec data: bench_spec's generator without Syncthing (no laptop
    devices, no synced share), which issue 4 does not measure."""
    data: dict[str, Any] = load_spec_generator().generate_spec(users, groups, folders, seed)
    for person in data["users"]:
        person.pop("devices", None)
    for share in data["shares"]:
        share["sync"] = False
    return data


def write_spec(data: dict[str, Any], path: Path) -> None:
    """Write spec data as YAML (bench_spec's writer)."""
    load_spec_generator().write_yaml(data, path)


def _leaves(node: dict[str, Any], trail: tuple[str, ...]) -> list[tuple[dict[str, Any], str]]:
    found: list[tuple[dict[str, Any], str]] = []
    for child in node.get("folders", []):
        path = (*trail, child["name"])
        found += _leaves(child, path) if child.get("folders") else [(child, "/".join(path))]
    return found


def change_one_folder(data: dict[str, Any], desired: dict[str, Any],
                      ) -> tuple[dict[str, Any], str]:
    """Given spec data and its compiled desired state, return a copy where one leaf folder of
    the first share that has one changes a group's right there from read to write (or write to
    read), and that folder's path (share/…/folder). A group that already has a right on the
    leaf has one on every folder above it, so only that folder's ACL (and its files') change.
    (A leaf without any group right gets read for a first group: its parents then change too,
    gaining a traverse entry.)"""
    changed = json.loads(json.dumps(data))
    display_names = {group["name"]: group["display_name"] for group in desired["groups"]}
    for share, compiled in zip(changed["shares"], desired["shares"], strict=True):
        leaves = _leaves(share, (share["name"],))
        if not leaves:
            continue
        folder, path = leaves[0]
        relative = path.split("/", 1)[1]
        entries = next(item["entries"] for item in compiled["folders"]
                       if item["path"] == relative)
        access = folder.setdefault("access", {})
        flip = {"read": "write", "write": "read"}
        granted = [entry for entry in entries
                   if entry["kind"] == "group" and entry["level"] in flip]
        if granted:
            access[display_names[granted[0]["name"]]] = flip[granted[0]["level"]]
        else:
            access[desired["groups"][0]["display_name"]] = "read"
        return changed, path
    raise ValueError("the spec has no folder below a share root")


def log(message: str) -> None:
    """Print a progress line with the time and the load average."""
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {message}", flush=True)


def nasops_argv(*arguments: str) -> list[str]:
    """Return the argv of the nasops CLI of this venv."""
    command = Path(sys.executable).parent / "nasops"
    prefix = [str(command)] if command.exists() else [sys.executable, "-m", "nasops"]
    return [*prefix, *arguments]


def timed_command(argv: Sequence[str], *, timeout: float,
                  environment: dict[str, str] | None = None, stdout: Any = subprocess.PIPE,
                  ) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run argv; return (wall seconds, the completed process). Raise on a non-zero exit."""
    started = time.perf_counter()
    done = subprocess.run(list(argv), stdout=stdout, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, env=environment, cwd=REPOSITORY, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n"
                           f"{(done.stdout or '')[-3000:]}\n{done.stderr[-3000:]}")
    return seconds, done


def change_count(summary: str) -> int:
    """Given `nasops apply` output, return the number of changes it reports."""
    match = re.search(r"^(\d+) changes? on ", summary, re.MULTILINE)
    if match:
        return int(match.group(1))
    if "no changes" in summary:
        return 0
    raise ValueError(f"no change count in: {summary[:500]}")


class Bench:
    """One benchmark run: its lab host, work directory and results."""

    def __init__(self, options: argparse.Namespace, work: Path) -> None:
        self.options = options
        self.work = work
        self.inventory = Path()
        self.host: Any = None
        self.results: dict[str, Any] = {"seconds": {}, "changes": {}, "load_average": {}}

    def record(self, name: str, seconds: float, changes: int | None = None) -> None:
        self.results["seconds"][name] = round(seconds, 3)
        if changes is not None:
            self.results["changes"][name] = changes
        log(f"{name}: {seconds:.2f} s" + ("" if changes is None else f", {changes} changes"))

    def apply(self, name: str, *extra: str, ansible_dir: str | None = None,
              record: bool = True) -> tuple[float, int]:
        """Run `nasops apply -q` (with another NASOPS_ANSIBLE_DIR if given); return (seconds,
        changes), recorded under name unless record is false."""
        load = round(os.getloadavg()[0], 2)
        environment = None if ansible_dir is None else {**os.environ,
                                                        "NASOPS_ANSIBLE_DIR": ansible_dir}
        seconds, done = timed_command(nasops_argv("apply", "-q", "-i", str(self.inventory),
                                                  *extra), timeout=3600,
                                      environment=environment)
        changes = change_count(done.stdout)
        if record:
            self.results["load_average"][name] = load
            self.record(name, seconds, changes)
        else:
            log(f"{name}: {seconds:.2f} s, {changes} changes")
        return seconds, changes

    def compare(self, label: str, directory: str) -> dict[str, Any]:
        """Time no-op applies with another Ansible directory on the same host and tree: one
        apply first (it may change what that directory's roles manage), then the no-ops."""
        first, first_changes = self.apply(f"{label}: first", ansible_dir=directory,
                                          record=False)
        runs, loads = [], []
        for number in range(self.options.repeat):
            loads.append(round(os.getloadavg()[0], 2))
            seconds, changes = self.apply(f"{label}: no-op {number + 1}", ansible_dir=directory,
                                          record=False)
            if changes:
                raise RuntimeError(f"{label}: the no-op apply made {changes} changes")
            runs.append(round(seconds, 3))
        return {"ansible_dir": directory, "roles": site_roles(Path(directory)),
                "first_apply": {"seconds": round(first, 3), "changes": first_changes},
                "noop_apply": round(median_of(runs), 3), "noop_apply_runs": runs,
                "load_average": loads}

    def boot(self, spec: Path) -> None:
        options = self.options
        seconds, done = timed_command(nasops_argv(
            "lab", "up", "--name", options.name, "--address", options.address, "--spec",
            str(spec), "--volume-size", options.volume_size), timeout=600)
        self.inventory = Path(done.stdout.strip().splitlines()[-1])
        self.record("lab_up", seconds)
        from nasops.lab import get_host  # noqa: PLC0415 - only needed on a machine with a lab

        self.host = get_host(options.name)
        seconds, _ = timed_command(nasops_argv("secrets", "init", "-i", str(self.inventory)),
                                   timeout=600)
        self.record("secrets_init", seconds)

    def create_files(self, root: str) -> None:
        from nasops.lab import run_in_host  # noqa: PLC0415

        started = time.perf_counter()
        done = run_in_host(self.host, ["python3", "-c", FILES_SCRIPT, root,
                                       str(self.options.files)], timeout=3600)
        directories, made = map(int, done.stdout.split())
        self.results["tree"] = {"directories": directories, "files": made}
        self.record("create_files", time.perf_counter() - started)

    def floor(self, root: str) -> list[float]:
        """Time `ssh … getfacl -R -p ROOT > /dev/null` (output crosses SSH, as apply's does)."""
        from nasops.lab import ssh_argv  # noqa: PLC0415

        runs = []
        for _ in range(self.options.repeat):
            seconds, _ = timed_command(ssh_argv(self.host, ["getfacl", "-R", "-p", root]),
                                       timeout=1800, stdout=subprocess.DEVNULL)
            runs.append(seconds)
        return runs

    def noop_breakdown(self) -> dict[str, float]:
        """Run the check pass of a no-op apply through the API; return seconds per role from
        the callback's events (a result's time since the previous one goes to its role)."""
        from nasops.ansible import (  # noqa: PLC0415
            ansible_environment,
            prepared_workspace,
            project_root,
            read_targets,
            run_playbook,
        )

        events: list[dict[str, Any]] = []
        started = time.time()
        targets = read_targets(str(self.inventory),
                               environment=ansible_environment(project_root()))
        prepared = time.time()
        with prepared_workspace(targets) as workspace:
            compiled = time.time()
            run_playbook(workspace, str(self.inventory), check=True, on_event=events.append)
        ended = time.time()
        parts: dict[str, float] = {"read inventory (ansible-inventory)": prepared - started,
                                   "load + compile spec": compiled - prepared}
        previous = compiled
        for event in events:
            if event["event"] == "play_start":
                parts["ansible-playbook start-up"] = event["time"] - previous
                previous = event["time"]
            elif event["event"] == "result":
                role = event.get("role") or "play (pre/post tasks)"
                parts[role] = parts.get(role, 0.0) + event["time"] - previous
                previous = event["time"]
        parts["end of run"] = ended - previous
        return {name: round(value, 2) for name, value in parts.items()}

    def per_item(self, desired: dict[str, Any]) -> dict[str, Any]:
        """Run the per-item playbook (whole, or a subset extrapolated); return its figures."""
        ansible_playbook = ensure_per_item_venv(self.options.per_item_venv)
        all_folders, all_entries = per_item_items(desired)
        total_items = len(all_folders) + len(all_entries)

        def run(label: str, folders: list[str], entries: list[dict[str, Any]]) -> float:
            config, playbook, variables = write_per_item_project(
                self.work / f"per-item-{label}", folders, entries)
            environment = {**os.environ, "ANSIBLE_CONFIG": str(config), "ANSIBLE_NOCOLOR": "1"}
            with (config.parent / "output.log").open("w", encoding="utf-8") as output:
                seconds, _ = timed_command(
                    [str(ansible_playbook), "-i", str(self.inventory), str(playbook),
                     "-e", f"@{variables}"], timeout=4 * 3600, environment=environment,
                    stdout=output)
            log(f"per-item {label}: {len(folders)} folders, {len(folders) + len(entries)} "
                f"items in {seconds:.1f} s")
            return seconds

        startup = run("empty", [], [])
        calibration = subset_items(all_folders, all_entries, self.options.per_item_calibration)
        calibration_items = len(calibration[0]) + len(calibration[1])
        calibration_seconds = run("calibration", *calibration)
        per_item_seconds = max(calibration_seconds - startup, 0.001) / calibration_items
        estimate = startup + per_item_seconds * total_items
        budget = self.options.per_item_budget * 60
        fraction = 1.0 if estimate <= budget else min(
            self.options.per_item_fraction, 0.8 * budget / estimate)
        folders, entries = subset_items(all_folders, all_entries, fraction)
        items = len(folders) + len(entries)
        measured = run("full" if fraction >= 1 else "subset", folders, entries)
        seconds = measured
        if fraction < 1:  # linear: the per-call time of the subset, for every call
            seconds = startup + (measured - startup) * total_items / items
        return {
            "seconds": round(seconds, 1),
            "extrapolated": fraction < 1,
            "measured_seconds": round(measured, 1),
            "subset_fraction_of_folders": round(len(folders) / len(all_folders), 4),
            "subset_folders": len(folders),
            "subset_items": items,
            "total_folders": len(all_folders),
            "total_items": total_items,
            "acl_items": len(all_entries),
            "startup_seconds": round(startup, 2),
            "calibration": {"folders": len(calibration[0]), "items": calibration_items,
                            "seconds": round(calibration_seconds, 1)},
            "seconds_per_item": round((measured - startup) / max(items, 1), 4),
            "ansible": per_item_versions(ansible_playbook),
        }


def machine() -> dict[str, Any]:
    """Describe the machine without naming it (bench_spec's description, same keys)."""
    description: dict[str, Any] = load_spec_generator().machine()
    description["load_average_at_start"] = description.pop("load_average")
    return description


def site_roles(root: Path | None = None) -> list[str]:
    """Return the roles playbooks/site.yml runs (of root, by default the one nasops uses)."""
    root = root or Path(os.environ.get("NASOPS_ANSIBLE_DIR", REPOSITORY))
    text = (root / "playbooks" / "site.yml").read_text(encoding="utf-8")
    return re.findall(r"^    - role: (\S+)", text, re.MULTILINE)


def median_of(runs: list[float]) -> float:
    return statistics.median(runs) if runs else float("nan")


def run_benchmark(options: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Run every measurement; return the results (the host is torn down by the caller)."""
    from nasops.compile import compile_spec  # noqa: PLC0415
    from nasops.spec import load_spec  # noqa: PLC0415

    bench = Bench(options, work)
    results = bench.results
    results.update({"date": datetime.now(UTC).replace(microsecond=0).isoformat(),
                    "machine": machine(),
                    "host": {"name": options.name, "address": options.address,
                             "volume_size": options.volume_size},
                    "ansible_dir": os.environ.get("NASOPS_ANSIBLE_DIR", str(REPOSITORY)),
                    "roles": site_roles()})
    data = generate_spec(options.users, options.groups, options.folders, options.seed)
    spec, changed_spec = work / "bench.yml", work / "bench-one-folder.yml"
    write_spec(data, spec)
    loaded = load_spec(spec).spec
    desired = compile_spec(loaded)
    changed, changed_folder = change_one_folder(data, desired)
    write_spec(changed, changed_spec)
    results["spec"] = {"users": len(loaded.users), "groups": len(loaded.groups),
                       "shares": len(desired["shares"]),
                       "folders": sum(len(share["folders"]) for share in desired["shares"]),
                       "acl_entries": sum(len(folder["entries"]) for share in desired["shares"]
                                          for folder in share["folders"]),
                       "files": options.files, "changed_folder": changed_folder,
                       "desired_state_json_bytes": len(json.dumps(desired))}
    log(f"spec: {results['spec']}")
    bench.boot(spec)
    bench.apply("first_apply")
    bench.create_files(desired["root"])
    bench.apply("apply_after_files")
    noop_runs = []
    for number in range(options.repeat):
        seconds, changes = bench.apply(f"noop_apply_{number + 1}")
        if changes:
            raise RuntimeError(f"the no-op apply made {changes} changes")
        noop_runs.append(seconds)
    results["seconds"]["noop_apply"] = round(median_of(noop_runs), 3)
    results["noop_breakdown_seconds"] = bench.noop_breakdown()
    log(f"no-op (check pass) by part: {results['noop_breakdown_seconds']}")
    floor_runs = bench.floor(desired["root"])
    results["seconds"]["floor_getfacl"] = round(median_of(floor_runs), 3)
    results["seconds"]["floor_getfacl_runs"] = [round(value, 3) for value in floor_runs]
    log(f"floor (getfacl -R over ssh): {floor_runs}")
    bench.apply("one_folder_change", "--spec", str(changed_spec))
    bench.apply("back_to_the_spec")
    if not options.skip_per_item:
        # Last on the tree: ansible.posix.acl lets setfacl recalculate masks, so the per-item
        # run changes some ACLs nasops set (mask::rwx); the apply after it puts them back.
        results["per_item"] = bench.per_item(desired)
        bench.apply("apply_after_per_item")
    results["compare"] = {label: bench.compare(label, str(Path(directory).resolve()))
                          for label, directory in options.compare}
    return results


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the benchmark, write the results; tear the host down."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--groups", type=int, default=40)
    parser.add_argument("--folders", type=int, default=2000)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=3, help="no-op applies and floor runs")
    parser.add_argument("--name", default="bench-provision")
    parser.add_argument("--address", default="127.0.0.22")
    parser.add_argument("--volume-size", default="8G")
    parser.add_argument("--per-item-venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--per-item-budget", type=float, default=25.0,
                        help="minutes; above, a subset is run and extrapolated")
    parser.add_argument("--per-item-fraction", type=float, default=0.10,
                        help="largest share of the folders in the subset")
    parser.add_argument("--per-item-calibration", type=float, default=0.01,
                        help="share of the folders timed first, to estimate the full run")
    parser.add_argument("--skip-per-item", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS / "provision.json")
    parser.add_argument("--no-output", action="store_true")
    parser.add_argument("--keep-host", action="store_true")
    parser.add_argument("--compare", action="append", default=[], metavar="LABEL=DIR",
                        type=lambda text: tuple(text.split("=", 1)),
                        help="at the end, also time no-op applies with this Ansible directory "
                             "(NASOPS_ANSIBLE_DIR) on the same host and tree; repeatable")
    parser.add_argument("--ansible-dir", type=Path,
                        help="run nasops with another ansible.cfg/playbooks/roles directory "
                             "(NASOPS_ANSIBLE_DIR), e.g. to time some roles only")
    parser.add_argument("--note", action="append", default=[],
                        help="a caveat to add to the report, e.g. why --ansible-dir; repeatable")
    options = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("run it as root (the lab needs it)")
    if options.ansible_dir:
        os.environ["NASOPS_ANSIBLE_DIR"] = str(options.ansible_dir.resolve())
    work = Path(tempfile.mkdtemp(prefix="nasops-bench-provision-", dir="/var/tmp"))
    try:
        results = run_benchmark(options, work)
    finally:
        if not options.keep_host:
            subprocess.run(nasops_argv("lab", "down", "--name", options.name, "--purge"),
                           check=False, cwd=REPOSITORY)
        shutil.rmtree(work, ignore_errors=True)
    results["notes"] = options.note
    add_ratios(results)
    results["caveats"] = caveats(results)
    print(json.dumps({"seconds": results["seconds"], "ratios": results["ratios"],
                      "targets": results["targets"]}, indent=1))
    if not options.no_output:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n",
                                  encoding="utf-8")
        options.output.with_suffix(".md").write_text(markdown(results), encoding="utf-8")
        log(f"results written to {options.output} and {options.output.with_suffix('.md')}")
    return 0 if all(results["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
