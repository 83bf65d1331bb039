"""Ratios, targets, caveats and the Markdown report of tests/bench/bench_provision.py.

The targets are issue 18's, measured as ratios within one run (the machine is shared, so
absolute times move with the load; a no-op and the walk alternate and see the same load).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

from provision_release import release_lines

REPOSITORY = Path(__file__).resolve().parents[2]
WALK_FACTOR, WALK_ALLOWANCE = 2.0, 5.0  # no-op ≤ 2× the walk + 5 s
GROWTH_PER_1000_FOLDERS = 1.0  # seconds: the no-op grows by less than this
PEAK_RSS_MB, PEAK_RSS_FOLDERS = 150.0, 6000  # controller peak RSS target, at that size
ONE_FOLDER_ALLOWANCE = 3.0  # one-folder change ≤ no-op + 3 s
TARGET_PER_ITEM_RATIO = 20.0  # issue 4: per-item at least 20× the no-op


def size_label(results: dict[str, Any]) -> str:
    """Return `FOLDERSxFILES` of one size's results."""
    return f"{results['spec']['folders']}x{results['spec']['files']}"


def add_ratios(results: dict[str, Any]) -> None:
    """Add one size's ratios and targets (a target is None where it does not apply)."""
    seconds = results["seconds"]
    noop, walk = seconds["noop_apply"], seconds["floor_walk"]
    one_folder, getfacl = seconds["one_folder_change"], seconds["floor_getfacl"]
    # The no-ops run between the one-folder changes (same minutes), where measured.
    paired = seconds.get("noop_between_changes", noop)
    peaks = results.get("peak_rss_mb", {})
    noop_peaks = [value for name, value in peaks.items() if name.startswith("noop_apply_")]
    pss = results.get("peak_pss_mb", {})
    noop_pss = [value for name, value in pss.items() if name.startswith("noop_apply_")]
    allowance = WALK_FACTOR * walk + WALK_ALLOWANCE
    ratios: dict[str, float | None] = {
        "noop_over_walk": round(noop / walk, 2),
        "noop_over_getfacl": round(noop / getfacl, 2),
        "noop_minus_2x_walk_plus_5_s": round(noop - allowance, 2),
        "one_folder_minus_noop": round(one_folder - paired, 2),
        "peak_rss_mb": max(peaks.values()) if peaks else None,
        "noop_peak_rss_mb": max(noop_peaks) if noop_peaks else None,
        "peak_pss_mb": max(pss.values()) if pss else None,
        "noop_peak_pss_mb": max(noop_pss) if noop_pss else None,
    }
    peak, peak_pss = ratios["peak_rss_mb"], ratios["peak_pss_mb"]
    large = results["spec"]["folders"] >= PEAK_RSS_FOLDERS
    targets: dict[str, bool | None] = {
        "noop_within_2x_walk_plus_5_s": noop <= allowance,
        "one_folder_within_noop_plus_3_s": one_folder - paired <= ONE_FOLDER_ALLOWANCE,
        # Summed RSS counts the pages ansible-playbook shares with its forked workers once
        # per process; PSS counts them once (provision_memory.py). Both are reported.
        f"peak_rss_within_{PEAK_RSS_MB:g}_mb": (
            None if not large or peak is None else peak <= PEAK_RSS_MB),
        f"peak_pss_within_{PEAK_RSS_MB:g}_mb": (
            None if not large or peak_pss is None else peak_pss <= PEAK_RSS_MB),
    }
    per_item = results.get("per_item")
    if per_item:
        ratios["per_item_over_noop"] = round(per_item["seconds"] / noop, 1)
        targets[f"per_item_at_least_{TARGET_PER_ITEM_RATIO:g}x_noop"] = (
            per_item["seconds"] / noop >= TARGET_PER_ITEM_RATIO)
    results["ratios"] = ratios
    results["targets"] = targets


def growth(smaller: dict[str, Any], larger: dict[str, Any]) -> dict[str, Any]:
    """Given two sizes' results (fewer folders first), return the growth per 1000 folders of
    the no-op, the walk, the no-op beyond the walk allowance and the one-folder change."""
    thousands = float(larger["spec"]["folders"] - smaller["spec"]["folders"]) / 1000

    def per_thousand(value: Callable[[dict[str, Any]], float]) -> float:
        return round((value(larger) - value(smaller)) / thousands, 2)

    def beyond_walk(results: dict[str, Any]) -> float:
        return float(results["seconds"]["noop_apply"]
                     - WALK_FACTOR * results["seconds"]["floor_walk"])

    return {"from": size_label(smaller), "to": size_label(larger),
            "noop_seconds_per_1000_folders": per_thousand(lambda results: float(
                results["seconds"]["noop_apply"])),
            "walk_seconds_per_1000_folders": per_thousand(lambda results: float(
                results["seconds"]["floor_walk"])),
            "noop_minus_2x_walk_seconds_per_1000_folders": per_thousand(beyond_walk),
            "one_folder_seconds_per_1000_folders": per_thousand(lambda results: float(
                results["seconds"]["one_folder_change"]))}


def add_growth(results: dict[str, Any]) -> None:
    """Add the growth between consecutive sizes (by folders) and every target of the run,
    each size's prefixed with its label."""
    sizes = sorted(results["sizes"], key=lambda size: size["spec"]["folders"])
    results["growth"] = [growth(smaller, larger) for smaller, larger in pairwise(sizes)
                         if larger["spec"]["folders"] > smaller["spec"]["folders"]]
    targets: dict[str, bool | None] = {
        f"{size_label(size)}: {name}": met for size in sizes
        for name, met in size["targets"].items()}
    for step in results["growth"]:
        targets[f"{step['from']} to {step['to']}: noop_growth_under_1_s_per_1000_folders"] = (
            step["noop_seconds_per_1000_folders"] < GROWTH_PER_1000_FOLDERS)
    results["targets"] = targets


def _number(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def _verdict(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "MISSED")


def summary_table(results: dict[str, Any]) -> list[str]:
    """Return the one-row-per-size table of the figures the targets use."""
    lines = [
        "| folders / files | first apply | apply after files | no-op apply (median) | "
        "one-folder change (median) | tree walk over ssh (floor, median) | `getfacl -R` over ssh "
        "(median) | no-op / walk | no-op − (2× walk + 5 s) | one-folder − no-op | "
        "controller peak RSS summed (MB, no-op / any step) | controller peak PSS (MB, no-op "
        "/ any step) | load (1 min) during no-ops |",
        "| --- |" + " ---: |" * 12,
    ]
    for size in results["sizes"]:
        seconds, ratios, spec = size["seconds"], size["ratios"], size["spec"]
        loads = [value for name, value in size["load_average"].items()
                 if name.startswith("noop_apply_")]
        lines.append(
            f"| {spec['folders']:,} / {spec['files']:,} | {seconds['first_apply']:.1f} | "
            f"{seconds['apply_after_files']:.1f} | {seconds['noop_apply']:.1f} | "
            f"{seconds['one_folder_change']:.1f} | {seconds['floor_walk']:.1f} | "
            f"{seconds['floor_getfacl']:.1f} | {ratios['noop_over_walk']:.1f}× | "
            f"{ratios['noop_minus_2x_walk_plus_5_s']:+.1f} | "
            f"{ratios['one_folder_minus_noop']:+.1f} | "
            f"{_number(ratios['noop_peak_rss_mb'], 0)} / {_number(ratios['peak_rss_mb'], 0)} | "
            f"{_number(ratios.get('noop_peak_pss_mb'), 0)} / "
            f"{_number(ratios.get('peak_pss_mb'), 0)} | "
            f"{', '.join(f'{load:.1f}' for load in loads)} |")
    return lines


def size_section(size: dict[str, Any]) -> list[str]:
    """Return one size's detail: its spec, every step, the floors, the no-op by part."""
    seconds, spec = size["seconds"], size["spec"]
    lines = [
        "", f"## {spec['folders']:,} folders / {spec['files']:,} files", "",
        f"Run {size['date']}. **Spec**: {spec['users']} users, {spec['groups']} groups, "
        f"{spec['shares']} shares, {spec['folders']} folders ({spec['acl_entries']} ACL "
        f"entries; desired state {spec['desired_state_json_bytes'] / 1e6:.1f} MB of JSON), "
        f"{size.get('tree', {}).get('files', spec['files'])} files spread over the "
        f"{size.get('tree', {}).get('directories', '?')} directories on the NAS. One-folder "
        f"change: a group's right on `{spec['changed_folder']}` (a leaf folder) flips between "
        "read and write.", "",
        "| step | seconds | changes | controller peak RSS summed / PSS (MB) | load at start "
        "→ end |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    peaks, ends = size.get("peak_rss_mb", {}), size.get("load_average_end", {})
    pss = size.get("peak_pss_mb", {})
    for name in ("first_apply", "apply_after_files", *sorted(
            key for key in seconds if key.startswith("noop_apply_")), "noop_apply",
            *(f"{step}_{number}" for number in range(1, 100)
              for step in ("one_folder_change", "back_to_the_spec", "noop_between_changes")),
            "one_folder_change", "noop_between_changes", "apply_after_per_item"):
        if name in seconds:
            load, end = size["load_average"].get(name), ends.get(name)
            lines.append(f"| {name.replace('_', ' ')} | {seconds[name]:.1f} | "
                         f"{size['changes'].get(name, '')} | {_number(peaks.get(name))}"
                         + (f" / {_number(pss[name])}" if name in pss else "") + " | "
                         + ("" if load is None else f"{load:.1f} → {_number(end)}") + " |")
    walk = size["walk"]
    lines += [
        f"| floor: tree engine walk over ssh (runs: "
        f"{', '.join(f'{run:.1f}' for run in seconds['floor_walk_runs'])}; engine alone: "
        f"{', '.join(f'{run:.1f}' for run in walk['engine_seconds'])}; changes found: "
        f"{', '.join(map(str, walk['changes']))}) | {seconds['floor_walk']:.1f} | | | |",
        f"| yardstick: `getfacl -R -p` over ssh (runs: "
        f"{', '.join(f'{run:.1f}' for run in seconds['floor_getfacl_runs'])}) | "
        f"{seconds['floor_getfacl']:.1f} | | | |"]
    lines += release_lines(size)
    per_item = size.get("per_item")
    if per_item:
        how = (f"extrapolated from {per_item['subset_folders']} of {per_item['total_folders']} "
               f"folders ({per_item['subset_items']} of {per_item['total_items']} module "
               f"calls) measured in {per_item['measured_seconds']:.0f} s"
               if per_item["extrapolated"] else "measured on the whole tree")
        lines.append(f"| per-item playbook ({how}) | {per_item['seconds']:.0f} | | | |")
    lines += ["", "**Ratios**: " + ", ".join(
        f"{name.replace('_', ' ')} = {value}" for name, value in size["ratios"].items()),
        "", "**No-op check pass by part** (seconds; one more no-op, through the API):", ""]
    parts = size["noop_breakdown_seconds"]
    lines += [f"- {name}: {value}" for name, value in parts.items()]
    lines += ["", f"Sum of the parts: {sum(parts.values()):.1f} s; the no-op apply through the "
              f"CLI (median above): {seconds['noop_apply']:.1f} s."]
    if size.get("compare"):
        lines += ["", "**Other Ansible directories on the same host and tree** (no-op apply, "
                      "median of the runs; measured after the figures above):", "",
                  "| Ansible side | roles | no-op apply (s) | runs | load |",
                  "| --- | --- | ---: | --- | --- |"]
        lines += [f"| {label} | {', '.join(item['roles'])} | {item['noop_apply']:.1f} | "
                  f"{', '.join(f'{run:.1f}' for run in item['noop_apply_runs'])} | "
                  f"{', '.join(f'{load:.1f}' for load in item['load_average'])} |"
                  for label, item in size["compare"].items()]
    return lines


def markdown(results: dict[str, Any]) -> str:
    """Return the short human report of a run (one or more sizes)."""
    machine_ = results["machine"]
    first = results["sizes"][0]
    lines = [
        "# `nasops apply` on a lab NAS (issues 4 and 18)",
        "",
        f"Run {results['date']} by `tests/bench/bench_provision.py`; raw numbers in "
        "`provision.json`.",
        "",
        f"**Machine**: {machine_['cpus']} vCPU VM ({machine_['cpu']}), kernel "
        f"{machine_['kernel']}, Python {machine_['python']}; the lab NAS is a systemd-nspawn "
        "container on the same machine (SSH over loopback, btrfs volume on a loop device). "
        f"Load average at start: {machine_['load_average_at_start'][0]:.1f} (the machine is "
        "shared; see the load columns).",
        "",
        f"**Spec**: {first['spec']['users']} users, {first['spec']['groups']} groups; folders "
        "and files per size below; each size on a freshly booted lab NAS. Medians of "
        f"{results.get('repeat', '?')} runs; each no-op apply alternates with one tree walk.",
        "",
    ]
    lines += summary_table(results)
    lines += ["", "**Growth** (between sizes; the files grow too, and the walk with them):", ""]
    lines += [f"- {step['from']} → {step['to']}: no-op "
              f"{step['noop_seconds_per_1000_folders']:+.2f} s per 1000 folders (walk "
              f"{step['walk_seconds_per_1000_folders']:+.2f}, no-op − 2× walk "
              f"{step['noop_minus_2x_walk_seconds_per_1000_folders']:+.2f}, one-folder change "
              f"{step['one_folder_seconds_per_1000_folders']:+.2f})"
              for step in results["growth"]] or ["- one size only: no growth measured"]
    lines += ["", "**Targets** (issue 18; n/a: the peak RSS target is set at "
              f"{PEAK_RSS_FOLDERS:,} folders):", ""]
    lines += [f"- {name.replace('_', ' ')}: {_verdict(met)}"
              for name, met in results["targets"].items()]
    for size in results["sizes"]:
        lines += size_section(size)
    lines += ["", f"Roles run by the measured site.yml: {', '.join(first['roles'])}."]
    lines += ["", "## Caveats", ""] + [f"- {caveat}" for caveat in results.get("caveats", [])]
    return "\n".join(lines) + "\n"


def caveats(results: dict[str, Any]) -> list[str]:
    """Return what a reader must keep in mind about these numbers."""
    notes = [
        "Wall-clock times on a shared 2-vCPU VM: other work ran at the same time (load "
        "columns); the same step varies by ±30 % or more between runs under load. The targets "
        "are ratios within one run for that reason.",
        "The lab NAS runs on the controller itself: controller and NAS compete for the same "
        "2 vCPUs, and SSH goes over loopback (no network latency).",
        "The floor is the collection's tree engine (plugins/module_utils, copied to the NAS) "
        "running `converge_shares` in check mode on every share of the desired state, as the "
        "`nasops.nas.tree` module does in a no-op apply, timed around one `ssh … python3` call "
        "(ssh connection and Python start-up included, Ansible excluded).",
        "Controller peak RSS: the summed RSS of every process below the benchmark (nasops, "
        "ansible-inventory, ansible-playbook and its forks, ssh, and the ssh ControlPersist "
        "master, adopted as a child subreaper), sampled from /proc every 50 ms; pages shared "
        "between processes count once per process, so it is an upper bound; a peak shorter "
        "than 50 ms can be missed. MB = 10^6 bytes.",
        "A no-op `nasops apply` runs only the check pass (apply skips the real pass when the "
        "check finds nothing to do); times include the CLI: ansible-inventory, loading and "
        "compiling the spec, ansible-playbook.",
        "The spec generator's Syncthing laptops are left out (sync is not measured).",
        "One-folder change: the median of `--repeat` pairs of applies (to the changed spec, "
        "then back), compared with the median of the no-op applies run after each pair (`noop "
        "between changes`: the same minutes, as the machine's speed drifts); each is a "
        "one-folder change: the check pass, then a real pass (a second "
        "ansible-playbook run) that walks only the changed share and writes the drift check's "
        "copy of the desired state (nasops.nas.tree keeps it, so nas_exporter no longer runs "
        "for a new desired state).",
        "Before each measured step the benchmark waits for the NAS's drift check, which an "
        "apply that changed a tree starts in the background, to finish (`settled_seconds` in "
        "the JSON): the lab NAS shares the controller's two vCPUs, so a check still walking "
        "300,000 files would slow the next step, as it would not on a NAS of its own.",
        "The spec's backup has one repository the lab NAS reaches (/srv/backup/restic), as on "
        "a NAS whose backups work: bench_spec's USB disk and offsite host cannot be reached "
        "from a lab NAS, and while a repository cannot be, every real pass retries "
        "`nasops-backup init` (0.5-1 s more).",
    ]
    first = results["sizes"][0]
    if Path(first["ansible_dir"]) != REPOSITORY:
        notes.append(
            f"The main figures ran the Ansible side in {first['ansible_dir']} (roles: "
            f"{', '.join(first['roles'])}), not the repository's playbooks/site.yml as it "
            "stood.")
    for size in results["sizes"]:
        start, end = size.get("code_at_start"), size.get("code_at_end")
        if start and end and start["fingerprint"] != end["fingerprint"]:
            notes.append(
                f"{size_label(size)}: the working tree's apply side (src, plugins, roles, "
                f"playbooks) changed during this size's run (newest change {end['newest_change']}"
                "; it is shared with people working on it): steps after that time measured "
                "the newer code.")
        per_item = size.get("per_item")
        if per_item and per_item["extrapolated"]:
            notes.append(
                f"{size_label(size)}, per-item: measured {per_item['measured_seconds']:.0f} s "
                f"on a random {per_item['subset_fraction_of_folders'] * 100:.1f} % of the "
                f"folders ({per_item['subset_items']} module calls); the full figure "
                f"({per_item['seconds']:.0f} s) is a linear extrapolation; it ran on the "
                "converged tree (its cheapest case) and does not touch the files.")
    return notes + list(results.get("notes", []))


def write_results(results: dict[str, Any], output: Path) -> None:
    """Write the results as JSON and the Markdown report beside it."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    output.with_suffix(".md").write_text(markdown(results), encoding="utf-8")
    print(f"results written to {output} and {output.with_suffix('.md')}", flush=True)
