"""Read per-share usage and limits from btrfs qgroups (one `qgroup show` per refresh)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from ansible_collections.nasops.nas.plugins.module_utils.qgroups import (
    SUBVOLUME_ROOT_INODE,
    Qgroup,
    parse_qgroup_show,
    show_argv,
)

from nasops.exporter.collectors.base import CommandRunner, run_for_output


def read_qgroups(text: str) -> dict[str, Qgroup]:
    """Given `btrfs qgroup show --raw -re` output of the whole volume, return its qgroups by
    identifier; raise ValueError when it has none (not output we know how to read)."""
    qgroups = parse_qgroup_show(text)
    if not qgroups:
        first = text.strip().splitlines()[0] if text.strip() else "(no output)"
        raise ValueError(f"btrfs qgroup show printed no qgroup row: {first[:200]}")
    return qgroups


def is_subvolume_root(path: str) -> bool:
    """Given a path, return whether it is the root of a btrfs subvolume (False if unreadable)."""
    try:
        return os.stat(path).st_ino == SUBVOLUME_ROOT_INODE
    except OSError:
        return False


class BtrfsQgroupReader:
    """A QgroupReader running btrfs through an injected command runner."""

    def __init__(
        self,
        command_prefix: Sequence[str] = ("btrfs",),
        *,
        runner: CommandRunner = run_for_output,
        timeout_seconds: float = 30,
        is_subvolume: Callable[[str], bool] = is_subvolume_root,
    ) -> None:
        self.command_prefix = tuple(command_prefix)
        self.runner = runner
        self.is_subvolume = is_subvolume
        self.timeout_seconds = timeout_seconds
        # Subvolume ids only change when a share is re-created; a miss drops the cached id.
        self._subvolume_ids: dict[str, int] = {}

    def _subvolume_id(self, path: str) -> int | None:
        if path in self._subvolume_ids:
            return self._subvolume_ids[path]
        if not self.is_subvolume(path):
            return None  # a plain directory: rootid would give the parent volume's qgroup
        output = self.runner([*self.command_prefix, "inspect-internal", "rootid", path],
                             self.timeout_seconds)
        try:
            identifier = int(output.strip())
        except ValueError:
            raise ValueError(f"btrfs inspect-internal rootid {path} printed "
                             f"{output.strip()[:80]!r}") from None
        self._subvolume_ids[path] = identifier
        return identifier

    def __call__(self, volume_path: str, share_paths: Sequence[str],
                 identifiers: Sequence[str] = ()) -> dict[str, Qgroup]:
        """Given the volume, share paths and qgroup identifiers (an organisation's `1/N`),
        return the qgroup of each share that has one, by path, and of each identifier that
        exists, by identifier."""
        output = self.runner(show_argv(self.command_prefix, volume_path), self.timeout_seconds)
        qgroups = read_qgroups(output)
        found: dict[str, Qgroup] = {identifier: qgroups[identifier]
                                    for identifier in identifiers if identifier in qgroups}
        for path in share_paths:
            identifier = self._subvolume_id(path)
            if identifier is None:
                continue
            qgroup = qgroups.get(f"0/{identifier}")
            if qgroup is None:
                self._subvolume_ids.pop(path, None)
                continue
            found[path] = qgroup
        return found
