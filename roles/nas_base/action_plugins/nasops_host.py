"""Action plugin of the nasops_host module: render template files on the controller first.

A file given as `template: NAME` is rendered as ansible.builtin.template renders it (the role's
templates, the task's variables, `ansible_managed`) and handed to the module as its `content`,
so that every file of one task is written by one module call on the NAS. Unlike the template
lookup, which deep-copies every variable of the host (seconds with a big desired state), the
variables are copied shallowly, as the template action does.
"""

from __future__ import annotations

import os
from typing import Any

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase
from ansible.template import generate_ansible_template_vars, trust_as_template

MODULE = "nasops_host"


class ActionModule(ActionBase):  # type: ignore[misc]
    """Render the `template` files, then run the nasops_host module."""

    TRANSFERS_FILES = False  # the content travels in the module arguments

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp  # no effect since Ansible 2.x
        arguments = dict(self._task.args)
        if arguments.get("files"):
            if not isinstance(arguments["files"], list):
                raise AnsibleActionFail("files must be a list")
            arguments["files"] = [self._rendered(item, task_vars)
                                  for item in arguments["files"]]
        result.update(self._execute_module(module_name=MODULE, module_args=arguments,
                                           task_vars=task_vars))
        return result

    def _rendered(self, item: Any, task_vars: dict[str, Any]) -> Any:
        """Given one `files` item, return it with a `template` replaced by its `content`."""
        if not isinstance(item, dict) or "template" not in item:
            return item
        item = dict(item)
        name = item.pop("template")
        if "content" in item:
            raise AnsibleActionFail(f"files: {item.get('dest')}: give content or template, "
                                    "not both")
        try:
            source = self._find_needle("templates", name)
        except AnsibleError as error:
            raise AnsibleActionFail(str(error)) from error
        text = trust_as_template(self._loader.get_text_file_contents(source))
        searchpath = []
        for path in [*task_vars.get("ansible_search_path", []), self._loader._basedir,
                     os.path.dirname(source)]:
            searchpath += [os.path.join(path, "templates"), path]
        variables = task_vars.copy()
        extra = generate_ansible_template_vars(name, source, item.get("dest"))
        if "ansible_managed" in variables:  # set by the user: kept, as the template action does
            extra.pop("ansible_managed", None)
        variables.update(extra)
        templar = self._templar.copy_with_new_env(searchpath=searchpath,
                                                  available_variables=variables)
        item["content"] = templar.template(text, escape_backslashes=False, overrides={
            "trim_blocks": True, "lstrip_blocks": False, "newline_sequence": "\n"})
        return item
