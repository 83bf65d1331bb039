"""The fake NAS of the Ansible-side unit tests: a project whose role keeps its state in a
JSON file on localhost (tests/unit/fixtures/ansible/project), and its inventory."""

from __future__ import annotations

import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "ansible"
PROJECT = FIXTURES / "project"
SPEC = FIXTURES / "specs" / "small.yml"
SECRET = "Sesame-Hidden-7731"


def write_inventory(directory: Path) -> Path:
    """Given a temporary directory, write the secrets file (alice's password is SECRET) and
    the inventory of a fake NAS on localhost whose state is directory/state.json; return the
    inventory."""
    (directory / "secrets.yml").write_text(
        f"nasops_user_passwords: {{alice: {SECRET}, bob: other-password-1}}\n",
        encoding="utf-8")
    (directory / "secrets.yml").chmod(0o600)
    inventory = directory / "inventory.ini"
    inventory.write_text(
        "[nas]\n"
        f"local-nas ansible_connection=local ansible_python_interpreter={sys.executable} "
        f"nasops_spec={SPEC} nasops_secrets_file=secrets.yml "
        f"fake_nas_state={directory / 'state.json'} "
        # The apply lock and record of this fake NAS, instead of the controller's /run, /var.
        f"nasops_apply_lock_file={directory / 'apply.lock'} "
        f"nasops_apply_record_file={directory / 'apply.json'}\n",
        encoding="utf-8")
    return inventory
