"""Action plugin of the nasops.nas.tree module: read the shares from a controller file.

With `shares_file: PATH` (a JSON file holding the compiled desired state, or its `shares`
list), the shares are read here and handed to the module as its `shares`. Given as a
variable instead, a tree of thousands of folders is templated by Ansible, which costs seconds
on every run; read from the file, it costs milliseconds.
"""

from __future__ import annotations

import json
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

MODULE = "nasops.nas.tree"


class ActionModule(ActionBase):  # type: ignore[misc]
    """Replace `shares_file` by the `shares` it holds, then run the nasops.nas.tree module."""

    TRANSFERS_FILES = False  # the shares travel in the module arguments

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp  # no effect since Ansible 2.x
        arguments = dict(self._task.args)
        path = arguments.pop("shares_file", None)
        if path:
            if arguments.get("shares") is not None:
                raise AnsibleActionFail("give shares or shares_file, not both")
            arguments["shares"] = self._read_shares(str(path))
        result.update(self._execute_module(module_name=MODULE, module_args=arguments,
                                           task_vars=task_vars))
        return result

    @staticmethod
    def _read_shares(path: str) -> list[Any]:
        """Given the file's path, return the shares it holds."""
        try:
            with open(path, encoding="utf-8") as stream:
                data = json.load(stream)
        except (OSError, ValueError) as error:
            raise AnsibleActionFail(f"shares_file {path}: {error}") from error
        shares = data.get("shares") if isinstance(data, dict) else data
        if not isinstance(shares, list):
            raise AnsibleActionFail(f"shares_file {path}: no list of shares (a desired state "
                                    "with `shares`, or the list itself)")
        return shares
