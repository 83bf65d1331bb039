"""Provisioning: spec → desired state → Ansible run → the NAS, as plan, apply, drift, forget.

Like backup/ (policy → argv → execute), each part has one home:
    targets.py    which NAS hosts a command reaches, their specs and secrets files
    specs.py      every host's spec loaded, validated and compiled (all problems at once)
    converge.py   the check pass, the real pass under the NAS's apply lock, progress
    record.py     how an apply ended, as the NAS's apply.json records it
    secrets.py    `nasops secrets init`: create or complete the secrets files
nasops.ansible only runs Ansible (workspace, ansible-playbook, events); nasops.cli only parses
arguments and prints.
"""

from nasops.provision.specs import Compiled, compile_targets, prepared_workspace
from nasops.provision.targets import prepare

__all__ = ["Compiled", "compile_targets", "prepare", "prepared_workspace"]
