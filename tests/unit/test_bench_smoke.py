"""The spec benchmark at a tiny size, so that the script cannot rot between runs."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from nasops.spec import load_spec
from nasops.spec.rights import resolve_rights

SCRIPT = Path(__file__).parents[1] / "bench" / "bench_spec.py"


def load_bench() -> ModuleType:
    specification = importlib.util.spec_from_file_location("bench_spec", SCRIPT)
    assert specification is not None and specification.loader is not None
    module = importlib.util.module_from_spec(specification)
    specification.loader.exec_module(module)
    return module


def test_generated_spec_has_the_requested_size_and_validates(tmp_path: Path) -> None:
    bench = load_bench()
    spec_file = tmp_path / "bench.yml"
    bench.write_yaml(bench.generate_spec(users=12, groups=5, folders=60), spec_file)
    loaded = load_spec(spec_file)
    assert (len(loaded.spec.users), len(loaded.spec.groups)) == (12, 5)
    table = resolve_rights(loaded.spec)
    assert len(table.folders) == 60
    assert max(len(folder.path) for folder in table.folders) <= 5


def test_generation_is_repeatable() -> None:
    bench = load_bench()
    assert bench.generate_spec(5, 3, 20) == bench.generate_spec(5, 3, 20)


def test_script_runs_and_writes_results(tmp_path: Path) -> None:
    output = tmp_path / "results" / "spec.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--users", "6", "--groups", "3", "--folders", "30",
         "--repeat", "1", "--output", str(output)],
        capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validate + access report (json)" in result.stdout
    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["spec"]["folders"] == 30
    assert document["target_met"] is True
    assert {"python", "date", "machine", "seconds"} <= set(document)
    assert set(document["seconds"]["resolve_rights"]) == {"wall", "best_wall", "cpu"}
