"""Fixtures of the QTS tests (defined in qts_hosts.py, which test modules import by name)."""

from qts_hosts import ansible_vault, simulated_qts

__all__ = ["ansible_vault", "simulated_qts"]
