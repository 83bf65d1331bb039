"""Suite-wide rules.

Under CI (CI=true) a skipped test is a failure: CI installs every prerequisite through
scripts/setup, so a skip there means a missing tool or privilege that would otherwise hide
a whole area of the suite behind a green run.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"true", "1", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None],
                              ) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report = outcome.get_result()
    if _in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, which must have every prerequisite: {reason}"
