"""Running Ansible for nasops: inventory, per-run workspace, the playbook run and its results.

Public surface:
    read_targets(inventory, limit=, spec_override=, ...) -> list[TargetHost]
    workspace_directory()          -> context manager yielding a private run directory
    run_playbook(workspace, inventory, check=, ...) -> RunResult
    project_root() -> Path   the nasops.nas collection (ansible.cfg, playbooks/, roles/)
    nasops.ansible.summary   plan / apply / drift rendering
Specs are validated and compiled by nasops.provision, which hands this the desired states.
"""

from nasops.ansible.events import Change, Failure, HostResult, RunResult
from nasops.ansible.inventory import (
    TargetHost,
    read_targets,
    require_secrets,
    require_vault_password,
)
from nasops.ansible.runner import (
    ansible_environment,
    project_root,
    run_playbook,
)
from nasops.ansible.workspace import Workspace, workspace_directory

__all__ = [
    "Change",
    "Failure",
    "HostResult",
    "RunResult",
    "TargetHost",
    "Workspace",
    "ansible_environment",
    "project_root",
    "read_targets",
    "require_secrets",
    "require_vault_password",
    "run_playbook",
    "workspace_directory",
]
