"""Action plugin of the nasops.nas.tree module: the shares travel to the NAS as a file.

With `shares_file: PATH` (a JSON file on the controller holding the compiled desired state,
or its `shares` list), the file is compressed and copied into the task's temporary
directory on the NAS, and the module reads it there (`shares_path`). Given as a variable
instead, a tree of thousands of folders is templated by Ansible (seconds on every run), and
even read here and passed as arguments it would be parsed and serialised again by this
worker (tens of megabytes of Python objects at 6,000 folders): as a file it is neither.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

MODULE = "nasops.nas.tree"
REMOTE_NAME = "desired.json.gz"


def compressed_copy(path: str, directory: str | None = None) -> str:
    """Given a controller file, return the path of a gzip copy of it (the caller removes
    it); read in blocks, so that its size does not matter."""
    descriptor, compressed = tempfile.mkstemp(prefix="nasops-desired-", suffix=".json.gz",
                                              dir=directory)
    try:
        with open(path, "rb") as source, os.fdopen(descriptor, "wb") as raw, \
                gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as target:
            shutil.copyfileobj(source, target, 1 << 20)
    except OSError:
        os.unlink(compressed)
        raise
    return compressed


class ActionModule(ActionBase):  # type: ignore[misc]
    """Copy `shares_file` to the NAS as `shares_path`, then run the nasops.nas.tree module."""

    TRANSFERS_FILES = True  # the run gets a temporary directory on the NAS

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp  # no effect since Ansible 2.x
        arguments = dict(self._task.args)
        path = arguments.pop("shares_file", None)
        compressed = None
        try:
            if path:
                if arguments.get("shares") is not None:
                    raise AnsibleActionFail("give shares or shares_file, not both")
                try:
                    compressed = compressed_copy(str(path))
                except OSError as error:
                    raise AnsibleActionFail(f"shares_file {path}: {error}") from error
                remote = self._connection._shell.join_path(self._connection._shell.tmpdir,
                                                           REMOTE_NAME)
                self._transfer_file(compressed, remote)
                self._fixup_perms2((self._connection._shell.tmpdir, remote), execute=False)
                arguments["shares_path"] = remote
            result.update(self._execute_module(module_name=MODULE, module_args=arguments,
                                               task_vars=task_vars))
        finally:
            if compressed:
                os.unlink(compressed)
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
