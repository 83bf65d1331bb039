"""Where the Ansible command-line tools are: beside this Python first, then on PATH."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def ansible_tool(name: str) -> str:
    """Given a tool name (ansible-playbook), return the path or name to execute.

    ansible-core is a dependency of nasops, so its scripts sit beside the interpreter running
    nasops (a venv or a pipx install) even when that directory is not on PATH; using them
    also guarantees the Ansible version nasops was tested with.
    """
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    return shutil.which(name) or name
