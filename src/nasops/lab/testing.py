"""Helpers behind the pytest lab fixtures (tests/lab/conftest.py), importable by any test."""

from __future__ import annotations

from typing import Any

from nasops.lab.lifecycle import lab_down, lab_up
from nasops.lab.model import LabHost
from nasops.lab.paths import LabDirectories


class LabHostFactory:
    """Boots lab hosts on demand and remembers them so the session can tear them all down."""

    def __init__(self, directories: LabDirectories) -> None:
        self.directories = directories
        self.started: list[str] = []

    def __call__(self, name: str, address: str | None = None, **options: Any) -> LabHost:
        """Given a name and address (127.0.0.3 and up for extra hosts), return it booted.

        Options are those of lab_up (hostname, volume_size, inventory_vars, …).
        """
        # Remember it before booting, so even a half-started host is torn down.
        if name not in self.started:
            self.started.append(name)
        return lab_up(name, address, directories=self.directories, **options)

    def teardown(self) -> None:
        """Stop and purge every host this factory started (safe to call more than once)."""
        errors = []
        while self.started:
            name = self.started.pop()
            try:
                lab_down(name, purge=True, directories=self.directories)
            except Exception as error:
                errors.append(f"{name}: {error}")
        if errors:
            raise RuntimeError("lab teardown failed:\n" + "\n".join(errors))


def purge_all(directories: LabDirectories) -> None:
    """Stop and purge every host under the state root (for a root only tests use)."""
    if not directories.state_root.is_dir():
        return
    for directory in sorted(directories.state_root.iterdir()):
        if directory.is_dir() and not directory.name.startswith("."):
            lab_down(directory.name, purge=True, directories=directories)
