"""Unit-suite rules: runs keep their logs under the test's temporary directory, never in the
home directory of whoever runs the suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasops.ansible.run_log import RUNS_DIRECTORY_VARIABLE


@pytest.fixture(autouse=True)
def _runs_directory(tmp_path_factory: pytest.TempPathFactory,
                    monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point NASOPS_RUNS_DIR at a fresh temporary directory for every test."""
    directory = tmp_path_factory.mktemp("runs")
    monkeypatch.setenv(RUNS_DIRECTORY_VARIABLE, str(directory))
    return directory
