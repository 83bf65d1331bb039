"""The spec: models, YAML loading with line numbers, cross-checks, rights resolution.

The names below load on first use (PEP 562): importing one light submodule (input_file,
used by the inventory reader) must not load pydantic and the models into a process that
only waits for Ansible (`nasops apply` compiles in a child process).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nasops.spec.load import LoadedSpec, load_spec, load_spec_text
    from nasops.spec.models import Spec

__all__ = ["LoadedSpec", "Spec", "load_spec", "load_spec_text"]
_HOMES = {"LoadedSpec": "nasops.spec.load", "load_spec": "nasops.spec.load",
          "load_spec_text": "nasops.spec.load", "Spec": "nasops.spec.models"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'nasops.spec' has no attribute {name!r}")
