"""Fixtures of the QTS tests (defined in qts_hosts.py, which test modules import by name).

tests/qts/live/ runs against a real QNAP: collected only when NASOPS_QTS_LIVE_HOST names
one (never in CI, where a skip would be a failure: it is not collected at all)."""

import os

from qts_hosts import ansible_vault, simulated_qts

__all__ = ["ansible_vault", "simulated_qts"]

collect_ignore = [] if os.environ.get("NASOPS_QTS_LIVE_HOST") else ["live"]
