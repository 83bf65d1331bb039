"""`nasops backup …` end to end: exit codes, human and JSON output, restic's exit 3 as a
named warning, and repositories failing independently."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_backup_support import make_config, make_repository, needs_restic, write_tree

from nasops.cli.main import main
from nasops.errors import EXIT_BAD_INPUT, EXIT_FAILURE


def _nasops(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "nasops", *arguments]


def test_missing_config_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backup", "--config", str(tmp_path / "none.json"), "status"])
    assert code == EXIT_BAD_INPUT
    assert "backup config not found" in capsys.readouterr().err


def test_status_before_any_run_and_with_a_corrupt_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path, config = make_config(tmp_path, repositories=[
        {"name": "usb", "url": "/nonexistent"}, {"name": "offsite", "url": "/nonexistent2"}])
    Path(config.state_directory).mkdir()
    (Path(config.state_directory) / "offsite.json").write_text("{oops", encoding="utf-8")
    assert main(["backup", "--config", str(config_path), "status"]) == 0
    human = capsys.readouterr().out
    assert "usb\n  backup  never run" in human
    assert "status file problem (corrupt_status)" in human
    assert main(["backup", "--config", str(config_path), "status", "--json"]) == 0
    documents = json.loads(capsys.readouterr().out)["repositories"]
    assert documents[0] == {"version": 1, "repository": "usb"}
    assert documents[1]["error"]["kind"] == "corrupt_status"
    assert main(["backup", "--config", str(config_path), "status", "--repository", "x"]) == (
        EXIT_BAD_INPUT)


@needs_restic
@pytest.mark.slow
def test_one_failing_repository_does_not_stop_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path / "src", {"a.txt": "a\n"})
    config_path, _config = make_config(tmp_path, repositories=[
        {"name": "usb", "url": str(tmp_path / "unplugged")},
        {"name": "offsite", "url": str(make_repository(tmp_path / "offsite"))}])
    assert main(["backup", "--config", str(config_path), "run"]) == EXIT_FAILURE
    output = capsys.readouterr()
    assert "usb: backup FAILED: repository 'usb' is unreachable" in output.err
    assert "offsite: backup success — snapshot " in output.out
    assert "backup failed for: usb" in output.err
    assert main(["backup", "--config", str(config_path), "snapshots", "--repository",
                 "offsite", "--json"]) == 0
    [listing] = json.loads(capsys.readouterr().out)
    assert listing["repository"] == "offsite" and len(listing["snapshots"]) == 1


@needs_restic
@pytest.mark.slow
def test_unreadable_file_is_a_warning_naming_it(tmp_path: Path) -> None:
    """restic exits 3 when it cannot read a file. As root nothing is unreadable, so the CLI
    then runs without the capabilities that bypass file modes (setpriv)."""
    write_tree(tmp_path / "src", {"ok.txt": "fine\n", "secret/locked.txt": "no\n"})
    locked = tmp_path / "src/secret/locked.txt"
    locked.chmod(0)
    config_path, config = make_config(tmp_path)
    prefix = []
    if os.geteuid() == 0:
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all"]
    finished = subprocess.run([*prefix, *_nasops("backup", "--config", str(config_path), "run")],
                              capture_output=True, text=True, check=False)
    assert finished.returncode == 0, finished.stderr
    assert "WARNING local: backup finished with a warning: snapshot" in finished.stderr
    assert f"{locked} (open: permission denied)" in finished.stderr
    attempt = json.loads((Path(config.state_directory) / "local.json").read_text())[
        "backup"]["last_attempt"]
    assert attempt["result"] == "warning"
    assert attempt["unreadable_files"] == [{"path": str(locked),
                                            "reason": "open: permission denied"}]
    assert attempt["unreadable_file_count"] == 1
    assert attempt["snapshot_id"] and attempt["files_total"] == 1


def test_missing_restic_is_recorded_for_each_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path, config = make_config(tmp_path, restic_binary=str(tmp_path / "no-restic"),
                                      repositories=[{"name": "usb", "url": "/x"},
                                                    {"name": "offsite", "url": "/y"}])
    assert main(["backup", "--config", str(config_path), "run"]) == EXIT_FAILURE
    assert "command not found" in capsys.readouterr().err
    for name in ("usb", "offsite"):
        attempt = json.loads((Path(config.state_directory) / f"{name}.json").read_text())[
            "backup"]["last_attempt"]
        assert attempt["result"] == "failed" and "no-restic" in attempt["message"]
