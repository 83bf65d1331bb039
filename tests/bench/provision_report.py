"""Ratios, targets, caveats and the Markdown report of tests/bench/bench_provision.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[2]
TARGET_NOOP_SECONDS = 15.0
TARGET_PER_ITEM_RATIO = 20.0
TARGET_FLOOR_RATIO = 3.0


def add_ratios(results: dict[str, Any]) -> None:
    """Add the ratios and targets of issue 4 to the results."""
    seconds = results["seconds"]
    noop, floor, first = seconds["noop_apply"], seconds["floor_getfacl"], seconds["first_apply"]
    ratios: dict[str, float] = {"noop_over_floor": round(noop / floor, 2)}
    targets: dict[str, Any] = {
        f"noop_apply_under_{TARGET_NOOP_SECONDS:g}_s": noop < TARGET_NOOP_SECONDS,
        f"noop_within_{TARGET_FLOOR_RATIO:g}x_floor": noop <= TARGET_FLOOR_RATIO * floor}
    per_item = results.get("per_item")
    if per_item:
        ratios["per_item_over_noop"] = round(per_item["seconds"] / noop, 1)
        ratios["per_item_over_first_apply"] = round(per_item["seconds"] / first, 1)
        targets[f"per_item_at_least_{TARGET_PER_ITEM_RATIO:g}x_noop"] = (
            ratios["per_item_over_noop"] >= TARGET_PER_ITEM_RATIO)
    results["ratios"] = ratios
    results["targets"] = targets


def markdown(results: dict[str, Any]) -> str:
    """Return the short human report of a run."""
    seconds, spec, machine_ = results["seconds"], results["spec"], results["machine"]
    per_item = results.get("per_item")
    lines = [
        "# `nasops apply` on a lab NAS (issue 4)",
        "",
        f"Run {results['date']} by `tests/bench/bench_provision.py`; raw numbers in "
        "`provision.json`.",
        "",
        f"**Machine**: {machine_['cpus']} vCPU VM ({machine_['cpu']}), kernel "
        f"{machine_['kernel']}, Python {machine_['python']}; the lab NAS is a systemd-nspawn "
        "container on the same machine (SSH over loopback, btrfs volume on a loop device). "
        f"Load average at start: {machine_['load_average_at_start'][0]:.1f} (the machine is "
        "shared; see the load column).",
        "",
        f"**Spec**: {spec['users']} users, {spec['groups']} groups, {spec['shares']} shares, "
        f"{spec['folders']} folders ({spec['acl_entries']} ACL entries), "
        f"{results.get('tree', {}).get('files', spec['files'])} files spread over the "
        f"{results.get('tree', {}).get('directories', '?')} directories on the NAS. "
        f"One-folder change: a group's right on `{spec['changed_folder']}` (a leaf folder) "
        "flips between read and write.",
        "",
        "| step | seconds | changes | load |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in ("first_apply", "apply_after_files", *sorted(
            key for key in seconds if key.startswith("noop_apply_")), "noop_apply",
            "one_folder_change", "back_to_the_spec", "apply_after_per_item"):
        if name in seconds:
            load = results["load_average"].get(name)
            lines.append(f"| {name.replace('_', ' ')} | {seconds[name]:.1f} | "
                         f"{results['changes'].get(name, '')} | "
                         f"{'' if load is None else f'{load:.1f}'} |")
    lines.append(f"| floor: `getfacl -R -p` over ssh (median) | {seconds['floor_getfacl']:.1f} "
                 "| | |")
    if per_item:
        how = (f"extrapolated from {per_item['subset_folders']} of {per_item['total_folders']} "
               f"folders ({per_item['subset_items']} of {per_item['total_items']} module "
               f"calls) measured in {per_item['measured_seconds']:.0f} s"
               if per_item["extrapolated"] else "measured on the whole tree")
        lines.append(f"| per-item playbook ({how}) | {per_item['seconds']:.0f} | | |")
    lines += ["", "**Ratios**: " + ", ".join(f"{name.replace('_', ' ')} = {value}"
                                             for name, value in results["ratios"].items()),
              "", "**Targets**: " + ", ".join(f"{name.replace('_', ' ')}: "
                                              f"{'met' if met else 'MISSED'}"
                                              for name, met in results["targets"].items()),
              "", "**No-op check pass by part** (seconds; what a no-op `apply` runs):", ""]
    lines += [f"- {name}: {value}" for name, value in results["noop_breakdown_seconds"].items()]
    lines += ["", f"Roles run by the measured site.yml: {', '.join(results['roles'])}."]
    if results.get("compare"):
        lines += ["", "**Other Ansible directories on the same host and tree** (no-op apply, "
                      "median of the runs; measured after the figures above):", "",
                  "| Ansible side | roles | no-op apply (s) | runs | load |",
                  "| --- | --- | ---: | --- | --- |"]
        lines += [f"| {label} | {', '.join(item['roles'])} | {item['noop_apply']:.1f} | "
                  f"{', '.join(f'{run:.1f}' for run in item['noop_apply_runs'])} | "
                  f"{', '.join(f'{load:.1f}' for load in item['load_average'])} |"
                  for label, item in results["compare"].items()]
    lines += ["", "## Caveats", ""] + [f"- {caveat}" for caveat in results.get("caveats", [])]
    return "\n".join(lines) + "\n"


def caveats(results: dict[str, Any]) -> list[str]:
    """Return what a reader must keep in mind about these numbers."""
    notes = [
        "Wall-clock times on a shared 2-vCPU VM: other work ran at the same time (load "
        "column); the same step varies by ±30 % or more between runs under load.",
        "The lab NAS runs on the controller itself: controller and NAS compete for the same "
        "2 vCPUs, and SSH goes over loopback (no network latency).",
        "A no-op `nasops apply` runs only the check pass (apply skips the real pass when the "
        "check finds nothing to do); times include the CLI: ansible-inventory, loading and "
        "compiling the spec, ansible-playbook.",
        "The spec generator's Syncthing laptops are left out (issue 4 does not measure sync).",
    ]
    if Path(results["ansible_dir"]) != REPOSITORY:
        notes.append(
            f"The main figures ran the Ansible side in {results['ansible_dir']} (roles: "
            f"{', '.join(results['roles'])}), not the repository's playbooks/site.yml as it "
            "stood" + ("; the last table times other Ansible sides on the same host and tree."
                       if results.get("compare") else "."))
    per_item = results.get("per_item")
    if per_item:
        notes.append(
            "The per-item playbook ran on the tree nasops had already converged, so its ACL "
            "tasks mostly read and compare (its cheapest case), and it does not touch the "
            f"{results['spec']['files']} files at all (nasops checks every one). It is not "
            "equivalent either: ansible.posix.acl lets setfacl recalculate the mask, so it "
            "narrows some directories' mask::rwx; 'apply after per item' counts what nasops "
            "then put back.")
        if per_item["extrapolated"]:
            notes.append(
                f"Per-item: measured {per_item['measured_seconds']:.0f} s on a random "
                f"{per_item['subset_fraction_of_folders'] * 100:.1f} % of the folders "
                f"({per_item['subset_items']} module calls); the full figure "
                f"({per_item['seconds']:.0f} s) adds the per-call time for all "
                f"{per_item['total_items']} calls to the playbook's start-up "
                f"({per_item['startup_seconds']:.1f} s): linear extrapolation.")
    return notes + results.get("notes", [])
