"""The QTS data plane benchmark at a tiny size, so that the script cannot rot between runs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "bench" / "bench_qts_tree.py"


def test_the_benchmark_runs_and_reports_its_ratio(tmp_path: Path) -> None:
    specification = importlib.util.spec_from_file_location("bench_qts_tree", SCRIPT)
    assert specification is not None and specification.loader is not None
    module = importlib.util.module_from_spec(specification)
    sys.modules["bench_qts_tree"] = module
    specification.loader.exec_module(module)
    output = tmp_path / "result.json"
    module.main(["--base", str(tmp_path), "--folders", "60", "--files", "300", "--runs", "1",
                 "--label", "smoke", "--output", str(output)])
    result = json.loads(output.read_text(encoding="utf-8"))
    assert result["tree"] == {"managed_folders": 60, "files": 300,
                              "build_seconds": result["tree"]["build_seconds"]}
    assert result["changes"]["first_apply"] >= 360 and result["changes"]["one_folder_change"] >= 1
    assert result["noop_plan_over_floor"] > 0
