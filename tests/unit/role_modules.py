"""Load an Ansible module or module_utils file of a role by path, for the unit tests.

The modules import their helpers as `ansible.module_utils.<name>`: a helper loaded under
that name first is what they get.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_role_file(name: str, path: Path) -> ModuleType:
    """Given a module name and a file, import the file under that name and return it."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
