"""Action plugin of the nasops.nas.host module: template and src files read on the controller.

A file given as `template: NAME` is rendered as ansible.builtin.template renders it (the role's
templates, the task's variables, `ansible_managed`), one given as `src: PATH` is read (as
ansible.builtin.copy reads it, role `files` searched), and either is handed to the module as
its `content` (a template's own `variables` added to the task's), so that every file of one
task is written by one module call on the NAS. A `src` file bigger than INLINE_BYTES (the
desired state) is copied into the task's temporary directory instead (`content_path`).
Unlike the template lookup, which deep-copies every variable of the host (seconds with a big
desired state), the variables are copied shallowly, as the template action does.
"""

from __future__ import annotations

import os
from typing import Any

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase
from ansible.template import generate_ansible_template_vars, trust_as_template

MODULE = "nasops.nas.host"
# A `src` file up to this size travels in the arguments; a bigger one as a file.
INLINE_BYTES = 256 * 1024


class ActionModule(ActionBase):  # type: ignore[misc]
    """Render the `template` files, then run the nasops.nas.host module."""

    TRANSFERS_FILES = False  # content travels in the arguments; a big `src` file as a file

    def __init__(self, *arguments: Any, **options: Any) -> None:
        super().__init__(*arguments, **options)
        self._sent: list[str] = []

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp  # no effect since Ansible 2.x
        arguments = dict(self._task.args)
        try:
            for option in ("files", "secret_files"):
                if not arguments.get(option):
                    continue
                if not isinstance(arguments[option], list):
                    raise AnsibleActionFail(f"{option} must be a list")
                arguments[option] = [self._rendered(item, task_vars)
                                     for item in arguments[option]]
            result.update(self._execute_module(module_name=MODULE, module_args=arguments,
                                               task_vars=task_vars))
        finally:
            if self._sent:  # the temporary directory this plugin made for them
                self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _rendered(self, item: Any, task_vars: dict[str, Any]) -> Any:
        """Given one `files` item, return it with a `template` or `src` replaced by its
        `content`."""
        if not isinstance(item, dict) or not {"template", "src"} & item.keys():
            return item
        item = dict(item)
        own_variables = item.pop("variables", None) or {}
        if len({"template", "src", "content"} & item.keys()) > 1:
            raise AnsibleActionFail(f"files: {item.get('dest')}: give one of content, "
                                    "template and src")
        if "src" in item:
            try:
                source = self._find_needle("files", item.pop("src"))
            except AnsibleError as error:
                raise AnsibleActionFail(f"files: {item.get('dest')}: {error}") from error
            if os.path.getsize(source) <= INLINE_BYTES:
                try:
                    with open(source, encoding="utf-8") as stream:
                        item["content"] = stream.read()
                except (OSError, UnicodeDecodeError) as error:
                    raise AnsibleActionFail(f"files: {item.get('dest')}: {error}") from error
                return item
            # A big file (the desired state: megabytes) travels as a file into the task's
            # temporary directory, not through the arguments, which this worker would hold
            # and serialise several times over.
            if not self._connection._shell.tmpdir:
                self._make_tmp_path()
            shell = self._connection._shell
            remote = shell.join_path(shell.tmpdir, f"source-{len(self._sent)}")
            self._transfer_file(source, remote)
            self._fixup_perms2((shell.tmpdir, remote), execute=False)
            self._sent.append(remote)
            item["content_path"] = remote
            return item
        name = item.pop("template")
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
        variables.update(own_variables)  # e.g. `item` of a template written for a loop
        extra = generate_ansible_template_vars(name, source, item.get("dest"))
        if "ansible_managed" in variables:  # set by the user: kept, as the template action does
            extra.pop("ansible_managed", None)
        variables.update(extra)
        templar = self._templar.copy_with_new_env(searchpath=searchpath,
                                                  available_variables=variables)
        item["content"] = templar.template(text, escape_backslashes=False, overrides={
            "trim_blocks": True, "lstrip_blocks": False, "newline_sequence": "\n"})
        return item
