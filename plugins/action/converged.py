"""Action plugin of the nasops.nas.converged module: each role's input fingerprint.

With `roles: [NAME, …]`, computes on the controller, for each role, a digest of its code
(every file of the role and of the collection's plugins) and of its inputs: the value of
every option of the role's argument specs as the play gives it (undefined ones take the
role's defaults, which its code digest covers), a controller file named by a `…_file`
option by its content. The module then compares them with the NAS's records; the result
carries `fingerprints` for the task that records the roles at the end of the play.

With `answer_file` (a controller path of one `nasops apply`, which holds every NAS's apply
lock from its check pass to the end of its real pass), the answer is saved there, updated by
the record at the end of the play, and a later pass with the same fingerprints takes it
instead of reading the NAS again: nothing nasops runs changed the NAS in between, and a hand
change made meanwhile differs from the record's digest, so the next run still sees it.
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


def read_answer(path: str | None) -> dict[str, Any] | None:
    """Return the answer an earlier pass of the same run saved in path, if any."""
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as stream:
            answer = json.load(stream)
    except (OSError, ValueError):
        return None
    if not isinstance(answer, dict) or not all(
            isinstance(answer.get(key), dict) for key in ("reasons", "facts", "fingerprints")):
        return None
    return answer


def write_answer(path: str, answer: dict[str, Any]) -> None:
    """Save the answer (owner-only: the fingerprints digest the roles' inputs)."""
    descriptor = os.open(path + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        json.dump(answer, stream, sort_keys=True)
    os.replace(path + ".new", path)


def settle_answer(path: str, recorded: list[str], record: dict[str, Any]) -> None:
    """After the record of the roles that converged: those roles need not run any more."""
    answer = read_answer(path)
    if answer is None:
        return
    for role in recorded:
        answer["reasons"][role] = ""
        answer["facts"][role] = {key: value for call in record.get(role) or []
                                 if isinstance(call, dict)
                                 for key, value in (call.get("facts") or {}).items()}
    write_answer(path, answer)


class ActionModule(ActionBase):  # type: ignore[misc]
    """Compute the fingerprints of `roles`, then run the nasops.nas.converged module."""

    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp  # no effect since Ansible 2.x
        arguments = dict(self._task.args)
        roles = arguments.pop("roles", None)
        answer_file = arguments.pop("answer_file", None)
        if roles:
            arguments["fingerprints"] = {role: self._fingerprint(str(role), task_vars)
                                         for role in roles}
            answer = read_answer(answer_file)
            asked = [str(path) for path in arguments.get("present") or []]
            known = answer.get("present") if answer is not None else None
            if answer is not None and answer.get("fingerprints") == arguments["fingerprints"] \
                    and isinstance(known, dict) and all(path in known for path in asked) \
                    and isinstance(answer.get("platform"), dict):
                result.update(changed=False, reasons=answer["reasons"], facts=answer["facts"],
                              recorded=[], fingerprints=answer["fingerprints"], reused=True,
                              present=[path for path in asked if known[path]],
                              platform=answer["platform"])
                return result
        result.update(self._execute_module(module_name=MODULE, module_args=arguments,
                                           task_vars=task_vars))
        result["fingerprints"] = arguments.get("fingerprints", {})
        if answer_file and not result.get("failed"):
            if roles:
                found = set(result.get("present") or [])
                write_answer(answer_file, {
                    **{key: result.get(key) or {} for key in ("reasons", "facts", "fingerprints",
                                                              "platform")},
                    "present": {str(path): str(path) in found
                                for path in arguments.get("present") or []}})
            else:
                settle_answer(answer_file, result.get("recorded") or [],
                              arguments.get("record") or {})
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
