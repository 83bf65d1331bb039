"""Benchmark of `nasops apply` on a lab NAS (issues 4 and 18; not a pytest test). As root:

    .venv/bin/python tests/bench/bench_provision.py [--sizes 2000x100000,6000x300000]
        [--users 300] [--groups 40] [--repeat 3] [--name bench-provision]
        [--address 127.0.0.22] [--skip-per-item]

For each size (folders x files; `--folders`/`--files` when --sizes is not given): generates a
spec (tests/bench/bench_spec.py, without Syncthing laptops), boots a lab NAS, creates the
secrets, then times with the real CLI: the first `nasops apply`, the creation of the files
spread over the folders on the NAS (one python3 over ssh), the apply that fixes their ACLs,
`--repeat` no-op applies, and `--repeat` pairs of one-folder changes (the apply of a spec
where one folder's access changed, then back). Each
apply's controller peak RSS (the whole process tree: nasops, ansible-playbook, its forks,
ssh; provision_memory.py) and the load average are recorded. In the same run, on the same
tree: the floor, the collection's tree engine walking every share in check mode on the NAS
over one ssh call (provision_walk.py; each run alternates with a no-op apply, so both see the
same load), and a second yardstick, `ssh … getfacl -R -p <org root> > /dev/null`. Optional
(sizes up to `--per-item-max-folders`, not with --skip-per-item): the per-item approach of
provision_per_item.py. Each size's host is torn down before the next one boots.

Writes tests/bench/results/provision.json and provision.md (unless --no-output). The lab host
is always torn down (purged), whatever happens, unless --keep-host.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.nasops.nas.plugins.module_utils.desired_copy import DRIFT_CHECK_UNIT

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parents[1]
RESULTS = HERE / "results"
SETTLE_TIMEOUT = 300
sys.path.insert(0, str(HERE))  # its parts, also when the file is loaded by path (unit tests)

from provision_memory import PeakSampler, megabytes, reap_adopted  # noqa: E402
from provision_options import parse_sizes, parser  # noqa: E402, F401
from provision_per_item import (  # noqa: E402, F401 - re-exported for the smoke test
    per_item_items,
    run_per_item,
    subset_items,
    write_per_item_project,
)
from provision_release import run_other_release  # noqa: E402
from provision_report import (  # noqa: E402
    add_growth,
    add_ratios,
    caveats,
    markdown,  # noqa: F401 - the smoke test renders through this module
    write_results,
)
from provision_spec import (  # noqa: E402
    change_one_folder,
    code_state,
    generate_spec,
    machine,
    write_spec,
)
from provision_walk import STAGE_SCRIPT, WALK_SCRIPT, parse_walk, staged_files  # noqa: E402

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
    """One size's run: its lab host, work directory and results."""

    def __init__(self, options: argparse.Namespace, work: Path) -> None:
        self.options = options
        self.work = work
        self.inventory = Path()
        self.host: Any = None
        self.results: dict[str, Any] = {"seconds": {}, "changes": {}, "load_average": {},
                                        "load_average_end": {}, "peak_rss_mb": {},
                                        "peak_pss_mb": {}}

    def record(self, name: str, seconds: float, changes: int | None = None) -> None:
        self.results["seconds"][name] = round(seconds, 3)
        if changes is not None:
            self.results["changes"][name] = changes
        peak = self.results["peak_rss_mb"].get(name)
        pss = self.results["peak_pss_mb"].get(name)
        log(f"{name}: {seconds:.2f} s" + ("" if changes is None else f", {changes} changes")
            + ("" if peak is None else f", controller peak RSS {peak} MB, PSS {pss} MB"))

    def apply(self, name: str, *extra: str, ansible_dir: str | None = None,
              record: bool = True) -> tuple[float, int]:
        """Run `nasops apply -q` (with another NASOPS_ANSIBLE_DIR if given) while sampling
        the controller's process tree; return (seconds, changes), recorded under name
        (with the peak RSS and the load averages) unless record is false."""
        load = round(os.getloadavg()[0], 2)
        environment = None if ansible_dir is None else {**os.environ,
                                                        "NASOPS_ANSIBLE_DIR": ansible_dir}
        with PeakSampler() as sampler:
            seconds, done = timed_command(nasops_argv("apply", "-q", "-i", str(self.inventory),
                                                      *extra), timeout=3600,
                                          environment=environment)
        changes = change_count(done.stdout)
        settled = self.settle()
        if record:
            self.results.setdefault("settled_seconds", {})[name] = settled
            self.results["load_average"][name] = load
            self.results["load_average_end"][name] = round(os.getloadavg()[0], 2)
            self.results["peak_rss_mb"][name] = megabytes(sampler.peak_bytes)
            self.results["peak_pss_mb"][name] = megabytes(sampler.peak_pss_bytes)
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

    def settle(self) -> float:
        """Wait until the NAS's drift check, which an apply that changed a tree starts in
        the background, has finished; return the seconds waited. The lab NAS shares the
        controller's two vCPUs: a check still walking the trees would slow the next
        measured step, which on a real NAS (its own machine) it would not."""
        from nasops.lab import run_in_host  # noqa: PLC0415

        started = time.perf_counter()
        while time.perf_counter() - started < SETTLE_TIMEOUT:
            state = run_in_host(self.host, ["systemctl", "is-active", DRIFT_CHECK_UNIT],
                                accepted_codes=(0, 3, 4)).stdout.strip()
            if state not in ("active", "activating", "deactivating"):
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"{DRIFT_CHECK_UNIT} still running after {SETTLE_TIMEOUT} s")
        return round(time.perf_counter() - started, 2)

    def boot(self, spec: Path) -> None:
        options = self.options
        seconds, done = timed_command(nasops_argv(
            "lab", "up", "--name", options.name, "--address", options.address, "--spec",
            str(spec), "--volume-size", options.volume_size,
            *(["--release", options.release] if getattr(options, "release", None) else [])),
            timeout=600)
        self.inventory = Path(done.stdout.strip().splitlines()[-1])
        self.record("lab_up", seconds)
        from nasops.lab import get_host  # noqa: PLC0415 - only needed on a machine with a lab

        self.host = get_host(options.name)
        seconds, _ = timed_command(nasops_argv("secrets", "init", "-i", str(self.inventory)),
                                   timeout=600)
        self.record("secrets_init", seconds)

    def create_files(self, root: str, count: int) -> None:
        from nasops.lab import run_in_host  # noqa: PLC0415

        started = time.perf_counter()
        done = run_in_host(self.host, ["python3", "-c", FILES_SCRIPT, root, str(count)],
                           timeout=3600)
        directories, made = map(int, done.stdout.split())
        self.results["tree"] = {"directories": directories, "files": made}
        self.record("create_files", time.perf_counter() - started)

    def stage_walk(self, desired: dict[str, Any]) -> str:
        """Copy the tree engine and the shares to the NAS; return the directory there."""
        from nasops.lab import run_in_host  # noqa: PLC0415

        done = run_in_host(self.host, ["python3", "-c", STAGE_SCRIPT],
                           input_text=json.dumps({"files": staged_files(desired)}),
                           timeout=600)
        return str(done.stdout.strip().splitlines()[-1])

    def walk(self, directory: str) -> tuple[float, dict[str, Any]]:
        """Time the tree engine's check-mode walk of every share over one ssh call; return
        (wall seconds, its report: its own seconds, changes found, counts)."""
        from nasops.lab import ssh_argv  # noqa: PLC0415

        seconds, done = timed_command(
            ssh_argv(self.host, ["python3", "-c", WALK_SCRIPT, directory]), timeout=1800)
        report = parse_walk(done.stdout)
        log(f"tree walk over ssh: {seconds:.2f} s (engine {report['seconds']:.2f} s, "
            f"{report['changes']} changes)")
        return seconds, report

    def getfacl(self, root: str) -> list[float]:
        """Time `ssh … getfacl -R -p ROOT > /dev/null` (output crosses SSH, as apply's does)."""
        from nasops.lab import ssh_argv  # noqa: PLC0415

        runs = []
        for _ in range(self.options.repeat):
            seconds, _ = timed_command(ssh_argv(self.host, ["getfacl", "-R", "-p", root]),
                                       timeout=1800, stdout=subprocess.DEVNULL)
            runs.append(seconds)
        log(f"getfacl -R over ssh: {[round(run, 2) for run in runs]}")
        return runs

    def noop_breakdown(self) -> dict[str, float]:
        """Run the check pass of a no-op apply through the API; return seconds per role from
        the callback's events (a result's time since the previous one goes to its role)."""
        from nasops.ansible import (  # noqa: PLC0415
            ansible_environment,
            project_root,
            read_targets,
            run_playbook,
        )
        from nasops.provision.specs import prepared_workspace  # noqa: PLC0415

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


def site_roles(root: Path | None = None) -> list[str]:
    """Return the roles playbooks/site.yml runs (of root, by default the one nasops uses)."""
    root = root or Path(os.environ.get("NASOPS_ANSIBLE_DIR", REPOSITORY))
    text = (root / "playbooks" / "site.yml").read_text(encoding="utf-8")
    play = yaml.safe_load(text)[0]
    # `roles:` entries (older playbooks) or the `include_role` tasks of `tasks:`.
    return [entry["role"] for entry in play.get("roles") or []] + [
        task["ansible.builtin.include_role"]["name"] for task in play.get("tasks") or []
        if "ansible.builtin.include_role" in task]


def median_of(runs: list[float]) -> float:
    return statistics.median(runs) if runs else float("nan")


def run_benchmark(options: argparse.Namespace, work: Path, folders: int,
                  files: int) -> dict[str, Any]:
    """Run one size's measurements; return its results (the host is torn down by the caller)."""
    from nasops.compile import compile_spec  # noqa: PLC0415
    from nasops.spec import load_spec  # noqa: PLC0415

    bench = Bench(options, work)
    results = bench.results
    results["code_at_start"] = code_state()
    results.update({"date": datetime.now(UTC).replace(microsecond=0).isoformat(),
                    "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
                    "host": {"name": options.name, "address": options.address,
                             "volume_size": options.volume_size},
                    "ansible_dir": os.environ.get("NASOPS_ANSIBLE_DIR", str(REPOSITORY)),
                    "roles": site_roles()})
    data = generate_spec(options.users, options.groups, folders, options.seed)
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
                       "files": files, "changed_folder": changed_folder,
                       "desired_state_json_bytes": len(json.dumps(desired))}
    log(f"spec: {results['spec']}")
    bench.boot(spec)
    bench.apply("first_apply")
    bench.create_files(desired["organizations"][0]["root"], files)
    bench.apply("apply_after_files")
    walk_directory = bench.stage_walk(desired)
    noop_runs, walk_runs, walk_reports = [], [], []
    for number in range(options.repeat):  # alternated: both see the same load
        seconds, changes = bench.apply(f"noop_apply_{number + 1}")
        if changes:
            raise RuntimeError(f"the no-op apply made {changes} changes")
        noop_runs.append(seconds)
        seconds, report = bench.walk(walk_directory)
        walk_runs.append(round(seconds, 3))
        walk_reports.append(report)
    results["seconds"]["noop_apply"] = round(median_of(noop_runs), 3)
    results["seconds"]["floor_walk"] = round(median_of(walk_runs), 3)
    results["seconds"]["floor_walk_runs"] = walk_runs
    results["walk"] = {"engine_seconds": [round(report["seconds"], 3) for report in walk_reports],
                       "changes": [report["changes"] for report in walk_reports],
                       "counts": walk_reports[-1]["counts"]}
    try:  # through nasops' API, which may change under the benchmark: a figure, not a must
        results["noop_breakdown_seconds"] = bench.noop_breakdown()
    except Exception as error:
        results["noop_breakdown_seconds"] = {f"not measured ({error})": 0.0}
    log(f"no-op (check pass) by part: {results['noop_breakdown_seconds']}")
    getfacl_runs = bench.getfacl(desired["organizations"][0]["root"])
    results["seconds"]["floor_getfacl"] = round(median_of(getfacl_runs), 3)
    results["seconds"]["floor_getfacl_runs"] = [round(value, 3) for value in getfacl_runs]
    # Each way is a one-folder change; as many pairs as no-ops, the median taken like theirs,
    # and a no-op after each pair: the change is compared with no-ops of the same minutes
    # (the machine is shared: its speed drifts between the no-ops above and these).
    one_folder_runs, paired_noops = [], []
    for number in range(options.repeat):
        for name, extra in ((f"one_folder_change_{number + 1}", ("--spec", str(changed_spec))),
                            (f"back_to_the_spec_{number + 1}", ())):
            seconds, changes = bench.apply(name, *extra)
            if not changes:
                raise RuntimeError(f"{name}: the one-folder change changed nothing")
            one_folder_runs.append(round(seconds, 3))
        seconds, changes = bench.apply(f"noop_between_changes_{number + 1}")
        if changes:
            raise RuntimeError(f"the no-op apply between changes made {changes} changes")
        paired_noops.append(round(seconds, 3))
    results["seconds"]["one_folder_change"] = round(median_of(one_folder_runs), 3)
    results["seconds"]["one_folder_change_runs"] = one_folder_runs
    results["seconds"]["noop_between_changes"] = round(median_of(paired_noops), 3)
    results["seconds"]["noop_between_changes_runs"] = paired_noops
    if not options.skip_per_item and folders <= options.per_item_max_folders:
        # Last on the tree: ansible.posix.acl lets setfacl recalculate masks, so the per-item
        # run changes some ACLs nasops set (mask::rwx); the apply after it puts them back.
        results["per_item"] = run_per_item(bench, desired, timed_command, log)
        bench.apply("apply_after_per_item")
    results["compare"] = {label: bench.compare(label, str(Path(directory).resolve()))
                          for label, directory in options.compare}
    if options.other_release:
        results["other_release"] = run_other_release(
            lambda other: Bench(other, work), options, spec, desired, files=files,
            down=lambda name: nasops_argv("lab", "down", "--name", name, "--purge"))
        log(f"{options.other_release}: {results['other_release']}")
    results["code_at_end"] = code_state()
    add_ratios(results)
    return results


def run_size(options: argparse.Namespace, folders: int, files: int) -> dict[str, Any]:
    """Run one size on its own host and work directory; tear both down, whatever happens."""
    work = Path(tempfile.mkdtemp(prefix="nasops-bench-provision-", dir="/var/tmp"))
    log(f"size {folders} folders x {files} files")
    try:
        return run_benchmark(options, work, folders, files)
    finally:
        if not options.keep_host:
            subprocess.run(nasops_argv("lab", "down", "--name", options.name, "--purge"),
                           check=False, cwd=REPOSITORY)
        reap_adopted()  # the ssh master lost its host
        shutil.rmtree(work, ignore_errors=True)


def stop_on_signal(number: int, frame: object) -> None:
    """End the run as Ctrl-C would; a second SIGTERM must not cut the teardown short."""
    signal.signal(number, signal.SIG_IGN)
    sys.exit(128 + number)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run every size, write the results."""
    command_line = parser(__doc__.splitlines()[0])
    options = command_line.parse_args(argv)
    if options.render:
        written = json.loads(options.render.read_text(encoding="utf-8"))
        written["notes"] = [*written.get("notes", []), *options.note]
        written["caveats"] = caveats(written)
        write_results(written, options.render)
        return 0
    if os.geteuid() != 0:
        command_line.error("run it as root (the lab needs it)")
    # Stopped with SIGTERM (kill PID), the run still tears its hosts down: the finally blocks
    # run on SystemExit as they do on Ctrl-C.
    signal.signal(signal.SIGTERM, stop_on_signal)
    if options.ansible_dir:
        os.environ["NASOPS_ANSIBLE_DIR"] = str(options.ansible_dir.resolve())
    if options.keep_host and len(options.sizes or []) > 1:
        command_line.error("--keep-host needs a single size (each size boots the same host name)")
    results: dict[str, Any] = {
        "date": datetime.now(UTC).replace(microsecond=0).isoformat(), "machine": machine(),
        "repeat": options.repeat, "sizes": [], "notes": options.note}
    for folders, files in options.sizes or [(options.folders, options.files)]:
        results["sizes"].append(run_size(options, folders, files))
        add_growth(results)
        results["caveats"] = caveats(results)
        if not options.no_output:  # after each size: a later size's failure keeps it
            write_results(results, options.output)
    print(json.dumps({"sizes": [{"folders": size["spec"]["folders"], "files": size["spec"]["files"],
                                 "seconds": size["seconds"], "ratios": size["ratios"],
                                 "targets": size["targets"]} for size in results["sizes"]],
                      "growth": results["growth"]}, indent=1))
    return 0 if all(met for met in results["targets"].values() if met is not None) else 1


if __name__ == "__main__":
    sys.exit(main())
