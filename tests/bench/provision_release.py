"""The second release of tests/bench/bench_provision.py (issue 14): the same spec and the same
tree on a lab NAS running another Debian release, in the same run, so that its no-op apply
and tree walk sit next to the first release's under the same load."""

from __future__ import annotations

import argparse
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any


def run_other_release(make_bench: Callable[[argparse.Namespace], Any],
                      options: argparse.Namespace, spec: Path, desired: dict[str, Any], *,
                      files: int, down: Callable[[str], list[str]]) -> dict[str, Any]:
    """Boot a second host (options.other_name, other_address, other_release) with spec,
    converge it, create the same files, then alternate `--repeat` no-op applies and tree
    walks; return its figures. The host is torn down whatever happens (down(name) gives
    the command)."""
    other = argparse.Namespace(**{**vars(options), "name": options.other_name,
                                  "address": options.other_address,
                                  "release": options.other_release})
    bench = make_bench(other)
    try:
        bench.boot(spec)
        bench.apply("first_apply")
        bench.create_files(desired["organizations"][0]["root"], files)
        bench.apply("apply_after_files")
        walk_directory = bench.stage_walk(desired)
        noops, walks = [], []
        for number in range(options.repeat):
            seconds, changes = bench.apply(f"noop_apply_{number + 1}")
            if changes:
                raise RuntimeError(f"{options.other_release}: the no-op apply made {changes} "
                                   "changes")
            noops.append(round(seconds, 3))
            walks.append(round(bench.walk(walk_directory)[0], 3))
    finally:
        subprocess.run(down(options.other_name), check=False)
    results = bench.results
    noop, walk = statistics.median(noops), statistics.median(walks)
    return {"release": options.other_release, "host": other.name, "address": other.address,
            "first_apply": results["seconds"]["first_apply"],
            "apply_after_files": results["seconds"]["apply_after_files"],
            "noop_apply": round(noop, 3), "noop_apply_runs": noops,
            "floor_walk": round(walk, 3), "floor_walk_runs": walks,
            "noop_over_walk": round(noop / walk, 2),
            "noop_minus_2x_walk_plus_5_s": round(noop - (2 * walk + 5), 2),
            "peak_pss_mb": max(results["peak_pss_mb"].values(), default=None),
            "load_average": results["load_average"]}


def release_lines(size: dict[str, Any]) -> list[str]:
    """Given one size's results, return the report's lines on its second release."""
    other = size.get("other_release")
    if not other:
        return []
    seconds = size["seconds"]
    return ["", f"**Debian release {other['release']}** (the same spec and tree on a second "
            f"lab NAS, {other['host']}, in the same run): first apply {other['first_apply']:.1f}"
            f" s, apply after files {other['apply_after_files']:.1f} s, no-op apply "
            f"{other['noop_apply']:.1f} s (runs: "
            f"{', '.join(f'{run:.1f}' for run in other['noop_apply_runs'])}; first release "
            f"{seconds['noop_apply']:.1f} s), tree walk {other['floor_walk']:.1f} s (first "
            f"release {seconds['floor_walk']:.1f} s): no-op / walk {other['noop_over_walk']}×, "
            f"no-op − (2× walk + 5 s) {other['noop_minus_2x_walk_plus_5_s']:+.1f}, peak PSS "
            f"{other['peak_pss_mb']} MB."]
