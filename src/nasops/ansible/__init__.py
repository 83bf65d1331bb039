"""Running Ansible for nasops: inventory, per-run workspace, the playbook run and its results.

Public surface:
    read_targets(inventory, limit=, spec_override=, ...) -> list[TargetHost]
    prepared_workspace(targets) -> context manager yielding a Workspace (validated, compiled)
    run_playbook(workspace, inventory, check=, ...) -> RunResult
    project_root() -> Path   where ansible.cfg, playbooks/ and roles/ are (NASOPS_ANSIBLE_DIR)
    nasops.ansible.summary   plan / apply / drift rendering
    nasops.ansible.secrets   `nasops secrets init`
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
from nasops.ansible.workspace import Workspace, prepared_workspace

__all__ = [
    "Change",
    "Failure",
    "HostResult",
    "RunResult",
    "TargetHost",
    "Workspace",
    "ansible_environment",
    "prepared_workspace",
    "project_root",
    "read_targets",
    "require_secrets",
    "require_vault_password",
    "run_playbook",
]
