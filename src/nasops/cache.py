"""Where nasops keeps what it can build again on the controller (XDG cache)."""

from __future__ import annotations

import os
from pathlib import Path


def controller_cache(name: str) -> Path:
    """Given a kind of cached thing, return its directory:
    ${XDG_CACHE_HOME:-~/.cache}/nasops/NAME."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nasops" / name
