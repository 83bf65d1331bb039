"""playbooks/site.yml against a real lab NAS: check mode on a fresh host, a first apply that
converges, a second that changes nothing, SMB access with the passwords it set, group write
through SMB, a refused quota, and no secret in Ansible's output."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from nasops.compile import compile_spec
from nasops.lab import LabHost, run_in_host
from nasops.lab.testing import LabHostFactory
from nasops.spec import load_spec

pytestmark = pytest.mark.lab

REPOSITORY = Path(__file__).parents[2]
PLAYBOOK = REPOSITORY / "playbooks/site.yml"
ANSIBLE_PLAYBOOK = REPOSITORY / ".venv/bin/ansible-playbook"
SPEC = REPOSITORY / "inventory/example/wsm.yml"
ADDRESS = "127.0.0.9"
RECAP = re.compile(r"^\S+\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)",
                   re.MULTILINE)


@dataclass
class Run:
    """One ansible-playbook run: its output and the recap's counts."""

    returncode: int
    output: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Rehearsal:
    host: LabHost
    directory: Path
    desired: dict[str, Any]
    passwords: dict[str, str]
    api_key: str
    restic_passwords: dict[str, str] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)
    # Whether adiallo existed right after the check on the fresh host (it must not).
    created_by_check: bool | None = None

    def playbook(self, name: str, *arguments: str, desired: dict[str, Any] | None = None,
                 ) -> Run:
        """Run site.yml on the host with the desired state and secrets; remember the run."""
        desired_file = self.directory / f"{name}.desired.json"
        desired_file.write_text(json.dumps({"nasops_desired": desired or self.desired}),
                                encoding="utf-8")
        argv = [str(ANSIBLE_PLAYBOOK), "-i", str(self.host.inventory_path), str(PLAYBOOK),
                "-e", f"@{desired_file}",
                "-e", f"nasops_secrets_file={self.directory / 'secrets.yml'}", "-v", *arguments]
        environment = dict(os.environ, ANSIBLE_CONFIG=str(REPOSITORY / "ansible.cfg"),
                           ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
        started = time.monotonic()
        result = subprocess.run(argv, capture_output=True, text=True, cwd=REPOSITORY,
                                env=environment, timeout=900, check=False)
        output = result.stdout + result.stderr
        run = Run(result.returncode, output, time.monotonic() - started)
        match = RECAP.search(output)
        if match:
            run.counts = dict(zip(("ok", "changed", "unreachable", "failed"),
                                  map(int, match.groups()), strict=True))
        self.runs[name] = run
        return run

    def smbclient(self, share: str, login: str, commands: str,
                  password: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run smbclient as login; the password goes through a 0600 file, never argv."""
        secret = self.passwords[login] if password is None else password
        credentials = self.directory / f"{login}.credentials"
        descriptor = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(f"username = {login}\npassword = {secret}\n")
        try:
            return subprocess.run(
                ["smbclient", f"//{ADDRESS}/{share}", "-A", str(credentials), "-c", commands],
                capture_output=True, text=True, cwd=self.directory, timeout=60, check=False,
            )
        finally:
            credentials.unlink()


@pytest.fixture(scope="module")
def rehearsal(lab_hosts: LabHostFactory, tmp_path_factory: pytest.TempPathFactory,
              ) -> Iterator[Rehearsal]:
    """A fresh lab NAS (`roles` at 127.0.0.9), the example spec compiled, random passwords.

    Runs check mode on the fresh host, then two applies; the tests read what happened.
    """
    host = lab_hosts("roles", ADDRESS)
    directory = tmp_path_factory.mktemp("roles-apply")
    directory.chmod(0o700)
    desired = compile_spec(load_spec(SPEC).spec)
    passwords = {user["login"]: secrets.token_urlsafe(18)
                 for user in desired["users"] if user["enabled"]}
    descriptor = os.open(directory / "secrets.yml", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    # The example's laptops make nas_sync run Syncthing, which needs an API key; its backup
    # repositories need restic passwords (nas_backup refuses to run without them).
    api_key = secrets.token_urlsafe(32)
    restic = {repository["name"]: secrets.token_urlsafe(24)
              for repository in desired["backup"]["repositories"]}
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"nasops_user_passwords": passwords, "nasops_syncthing_api_key": api_key,
                   "nasops_restic_passwords": restic}, handle)
    rehearsal = Rehearsal(host, directory, desired, passwords, api_key, restic)
    rehearsal.playbook("check-fresh", "--check", "--diff")
    lookup = run_in_host(host, ["getent", "passwd", "adiallo"], accepted_codes=(0, 2))
    rehearsal.created_by_check = lookup.returncode == 0
    rehearsal.playbook("apply-first")
    rehearsal.playbook("apply-second")
    yield rehearsal


def _explain(run: Run) -> str:
    return run.output[-6000:]


def test_check_mode_on_a_fresh_host_succeeds_and_reports_changes(rehearsal: Rehearsal) -> None:
    run = rehearsal.runs["check-fresh"]
    assert run.returncode == 0, _explain(run)
    assert run.counts["changed"] > 0
    assert rehearsal.created_by_check is False  # the check created nothing


def test_first_apply_converges(rehearsal: Rehearsal) -> None:
    run = rehearsal.runs["apply-first"]
    assert run.returncode == 0, _explain(run)
    assert run.counts["failed"] == 0 and run.counts["changed"] > 0
    print(f"first apply: {run.seconds:.1f} s, changed={run.counts['changed']}")


def test_second_apply_changes_nothing(rehearsal: Rehearsal) -> None:
    run = rehearsal.runs["apply-second"]
    assert run.returncode == 0, _explain(run)
    assert run.counts["changed"] == 0, re.findall(r"^changed: .*$", run.output, re.MULTILINE)
    print(f"second apply: {run.seconds:.1f} s")


def test_a_member_lists_her_share_over_smb(rehearsal: Rehearsal) -> None:
    listing = rehearsal.smbclient("Afrique", "adiallo", "ls")
    assert listing.returncode == 0, listing.stdout + listing.stderr
    assert "Partenaires" in listing.stdout
    refused = rehearsal.smbclient("Afrique", "adiallo", "ls", password="not-her-password")
    assert refused.returncode != 0


def test_two_writers_of_one_group_change_each_others_files_over_smb(rehearsal: Rehearsal,
                                                                     ) -> None:
    (rehearsal.directory / "first.txt").write_text("written by adiallo\n", encoding="utf-8")
    (rehearsal.directory / "second.txt").write_text("changed by fkabore\n", encoding="utf-8")
    created = rehearsal.smbclient(
        "Afrique", "adiallo", "cd Partenaires; mkdir Commun; cd Commun; put first.txt note.txt")
    assert created.returncode == 0, created.stdout + created.stderr
    changed = rehearsal.smbclient(
        "Afrique", "fkabore",
        "cd Partenaires/Commun; put second.txt note.txt; get note.txt back.txt; rm note.txt; "
        "cd ..; rmdir Commun")
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert "NT_STATUS" not in changed.stdout + changed.stderr
    assert (rehearsal.directory / "back.txt").read_text(encoding="utf-8") == "changed by fkabore\n"


def test_a_quota_below_usage_is_refused_in_check_mode(rehearsal: Rehearsal) -> None:
    filled = run_in_host(rehearsal.host, [
        "dd", "if=/dev/urandom", "of=/srv/nas/wsm/Asie/Partenaires/fill.bin", "bs=1M",
        "count=3", "status=none"])
    assert filled.returncode == 0, filled.stderr
    desired = json.loads(json.dumps(rehearsal.desired))
    asie = next(share for share in desired["shares"] if share["name"] == "Asie")
    asie["quota_bytes"] = 1024 * 1024
    run = rehearsal.playbook("refused-quota", "--check", desired=desired)
    assert run.returncode != 0
    assert re.search(r"refused: quota 1M for Asie is below its current usage 3(\.\d+)?M",
                     run.output), _explain(run)
    limit = run_in_host(rehearsal.host, ["btrfs", "qgroup", "show", "-reF", "--raw",
                                         "/srv/nas/wsm/Asie"])
    assert "214748364800" in limit.stdout  # the 200G limit is untouched


def test_no_password_appears_in_ansible_output(rehearsal: Rehearsal) -> None:
    assert rehearsal.runs
    for name, run in rehearsal.runs.items():
        leaked = [login for login, password in rehearsal.passwords.items()
                  if password in run.output]
        assert not leaked, f"passwords of {leaked} appear in the output of {name}"
        assert rehearsal.api_key not in run.output, f"the Syncthing API key is in {name}"
        leaked = [repository for repository, password in rehearsal.restic_passwords.items()
                  if password in run.output]
        assert not leaked, f"restic passwords of {leaked} appear in the output of {name}"


TESTPARM_WRAPPER = REPOSITORY / "roles/nas_base/files/nasops-testparm"


@pytest.mark.skipif(shutil.which("testparm") is None, reason="testparm (samba) not installed")
@pytest.mark.parametrize(("shares", "accepted"), [
    ("[Afrique]\n   path = /srv/nas/wsm/Afrique\n   valid users = @cellule-afrique\n", True),
    ("[Afrique]\n   path = /srv/nas/wsm/Afrique\n   valid userz = @cellule-afrique\n", False),
    ("[Afrique]\n   path = /srv/nas/wsm/Afrique\n   read only = maybe\n", False),
])
def test_testparm_wrapper_validates_shares_with_the_global_section(
        tmp_path: Path, shares: str, accepted: bool) -> None:
    """testparm alone exits 0 on unknown parameters; the validate: wrapper must not."""
    included = tmp_path / "nasops-shares.conf"
    included.write_text("", encoding="utf-8")
    config = tmp_path / "smb.conf"
    config.write_text(f"[global]\n   map to guest = never\n   include = {included}\n",
                      encoding="utf-8")
    candidate = tmp_path / "candidate.conf"
    candidate.write_text(shares, encoding="utf-8")
    result = subprocess.run(
        ["python3", str(TESTPARM_WRAPPER), "--as-include", str(included), "--config",
         str(config), str(candidate)], capture_output=True, text=True, check=False, timeout=60)
    assert (result.returncode == 0) is accepted, result.stderr
