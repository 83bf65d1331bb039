"""Waiting for something a lab host does in the background, with a deadline. Not a test
module."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest


def wait_until(what: str, check: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Poll `check` every 0.5 s until it returns something truthy, and return that; fail
    naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout:.0f} s: {what}", pytrace=False)
        time.sleep(0.5)
