"""Action plugin of the nasops.nas.converged module: each role's input fingerprint.

With `roles: [NAME, …]`, computes on the controller, for each role, a digest of its code
(every file of the role and of the collection's plugins) and of its inputs: the value of
every option of the role's argument specs as the play gives it (undefined ones take the
role's defaults, which its code digest covers), a controller file named by a `…_file`
option by its content. The module then compares them with the NAS's records; the result
carries `fingerprints` for the task that records the roles at the end of the play.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import yaml
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.template import trust_as_template

MODULE = "nasops.nas.converged"
COLLECTION = Path(__file__).resolve().parents[2]
_CODE_DIGESTS: dict[Path, str] = {}


def tree_digest(top: Path, root: Path = COLLECTION) -> str:
    """Return a digest of every file under top (names relative to root, and contents)."""
    if top not in _CODE_DIGESTS:
        digest = hashlib.sha256()
        for path in sorted(top.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"{path.relative_to(root)}\0".encode())
                digest.update(path.read_bytes())
        _CODE_DIGESTS[top] = digest.hexdigest()
    return _CODE_DIGESTS[top]


def code_digest(role: str, root: Path = COLLECTION) -> str:
    """Return a digest of the role's code: its files, the collection's plugins and, for
    nas_release, the code its archive is built from."""
    parts = [tree_digest(root / "roles" / role, root), tree_digest(root / "plugins", root)]
    if role == "nas_release":
        try:
            from nasops.release.bundle import code_fingerprint  # noqa: PLC0415
        except ImportError:  # nasops not on this controller: the role cannot be skipped
            parts.append(os.urandom(16).hex())
        else:
            parts.append(code_fingerprint())
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def option_names(role: str, root: Path = COLLECTION) -> list[str]:
    """Return the options of every entry point of the role's argument specs."""
    path = root / "roles" / role / "meta" / "argument_specs.yml"
    try:
        specs = yaml.safe_load(path.read_text(encoding="utf-8"))["argument_specs"]
    except (OSError, KeyError, TypeError, yaml.YAMLError) as error:
        raise AnsibleActionFail(f"{role}: cannot read its argument specs: {error}") from error
    names = {name for entry in specs.values() for name in (entry or {}).get("options") or {}}
    return sorted(names)


def file_digest(path: str) -> str:
    """Return the SHA-256 of a controller file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return "file:" + digest.hexdigest()


class ActionModule(ActionBase):  # type: ignore[misc]
    """Compute the fingerprints of `roles`, then run the nasops.nas.converged module."""

    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp  # no effect since Ansible 2.x
        arguments = dict(self._task.args)
        roles = arguments.pop("roles", None)
        if roles:
            arguments["fingerprints"] = {role: self._fingerprint(str(role), task_vars)
                                         for role in roles}
        result.update(self._execute_module(module_name=MODULE, module_args=arguments,
                                           task_vars=task_vars))
        result["fingerprints"] = arguments.get("fingerprints", {})
        return result

    def _fingerprint(self, role: str, task_vars: dict[str, Any]) -> str:
        """Return the digest of the role's code and of its inputs as the play gives them."""
        names = option_names(role)
        # One expression: the to_json filter resolves every nested template, as a role
        # would see the values (names come from the specs: plain identifiers).
        expression = "{{ {" + ", ".join(f"'{name}': {name} | default(none)" for name in names) \
            + "} | to_json(sort_keys=true) }}"
        templar = self._templar.copy_with_new_env(available_variables=task_vars)
        try:
            values = json.loads(templar.template(trust_as_template(expression)))
        except Exception:  # the role itself then says what is wrong
            # Inputs that cannot be resolved: the role runs, and its own argument checks
            # report the error (this message could hold a secret's value).
            return "unresolved:" + os.urandom(16).hex()
        for name, value in values.items():
            if name.endswith("_file") and isinstance(value, str) and os.path.isabs(value) \
                    and os.path.isfile(value):
                values[name] = file_digest(value)  # a run's temporary path, by content
        text = json.dumps({"code": code_digest(role), "inputs": values}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()
