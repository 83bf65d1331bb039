"""Backups proven on real lab hosts: a NAS (127.0.0.50) converged through playbooks/site.yml
from a copy of the example spec whose repositories point at the lab, and an offsite host
(127.0.0.51) serving the second repository over SFTP as its user `wsmbackup`.

- `local`: a restic repository on the NAS's system disk (/var/backups/nasops-restic: a
  repository inside the volume it backs up is refused);
- `offsite`: `sftp:wsmbackup@127.0.0.51:/srv/restic/wsm`, reached with the ed25519 key the role
  made on the NAS (authorised on the offsite host after the apply, as an administrator
  would) and the offsite host key pinned through nasops_backup_known_hosts.

The tests run in order on one NAS and share one real run of site.yml, with -v: its whole
output is searched for the restic passwords. Everything on the NAS goes through
the installed `nasops-backup` command and its systemd units, on real restic.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from nasops.ansible import read_targets, run_playbook
from nasops.ansible.events import HostResult
from nasops.ansible.summary import render_failures
from nasops.cli.main import main
from nasops.compile import compile_spec
from nasops.lab import LabHost, render_inventory, run_in_host
from nasops.lab.testing import LabHostFactory
from nasops.provision import prepared_workspace
from nasops.spec import load_spec

pytestmark = [pytest.mark.lab, pytest.mark.slow]

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE_SPEC = REPOSITORY / "inventory" / "example" / "wsm.yml"
NAS_ADDRESS, OFFSITE_ADDRESS = "127.0.0.50", "127.0.0.51"
LOCAL_REPOSITORY = "/var/backups/nasops-restic"
OFFSITE_PATH = "/srv/restic/wsm"
OFFSITE_USER = "wsmbackup"
BACKUP_COMMAND = "/opt/nasops/bin/nasops-backup"
STATUS_DIRECTORY = "/var/lib/nasops/backup"
AFRIQUE = "/srv/nas/wsm/Afrique"
BENIN = f"{AFRIQUE}/Partenaires/Bénin"
REPORTS = f"{AFRIQUE}/Rapports de mission"


@dataclass
class BackupLab:
    """The NAS, the offsite host, the test's files and what the runs printed."""

    nas: LabHost
    offsite: LabHost
    directory: Path
    inventory: Path
    passwords: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)
    ansible_output: str = ""
    first_snapshots: dict[str, str] = field(default_factory=dict)
    benin_acl: str = ""
    benin_digests: str = ""
    init_output: str = ""
    snapshot_counts: dict[str, int] = field(default_factory=dict)


def nasops(*arguments: str) -> int:
    """Run the controller's CLI in-process; return its exit code."""
    return main(list(arguments))


def in_host(host: LabHost, script: str, accepted: tuple[int, ...] = (0,),
            timeout: float = 300) -> tuple[int, str, str]:
    """Run a shell script as root on a lab host; return (exit code, stdout, stderr)."""
    result = run_in_host(host, ["bash", "-ec", script], timeout=timeout,
                         accepted_codes=accepted)
    return result.returncode, result.stdout, result.stderr


def backup(lab: BackupLab, *arguments: str, accepted: tuple[int, ...] = (0,),
           ) -> tuple[int, str, str]:
    """Run the NAS's `nasops-backup` with arguments."""
    return in_host(lab.nas, shlex.join([BACKUP_COMMAND, *arguments]), accepted)


def status(lab: BackupLab, repository: str) -> dict[str, Any]:
    """Return the NAS's status file of a repository."""
    _, out, _ = in_host(lab.nas, f"cat {STATUS_DIRECTORY}/{repository}.json")
    return json.loads(out)  # type: ignore[no-any-return]


def write_spec(target: Path) -> None:
    """Copy the example spec with its repositories pointed at the lab."""
    yaml = YAML(typ="rt")
    yaml.width = 4096
    spec = yaml.load(EXAMPLE_SPEC.read_text(encoding="utf-8"))
    spec["backup"]["repositories"] = [
        {"name": "local", "url": LOCAL_REPOSITORY},
        {"name": "offsite", "url": f"sftp:{OFFSITE_USER}@{OFFSITE_ADDRESS}:{OFFSITE_PATH}"},
    ]
    # Two snapshots of the same day are kept, so the deleted folder can come back; the check
    # reads all the data, so a damaged pack cannot be missed by the sample.
    spec["backup"]["retention"] = {"last": 10, "daily": 7}
    spec["backup"]["check"] = {"schedule": "weekly", "read_data_subset": "100%"}
    spec["backup"]["drill"] = {"schedule": "monthly", "sample_files": 200}
    with target.open("w", encoding="utf-8") as handle:
        yaml.dump(spec, handle)


def converge(lab: BackupLab, name: str, verbosity: int = 0) -> HostResult:
    """Run site.yml for real on the NAS (as `nasops apply` does after its check pass); keep
    its whole output (log and events) for the secrets search."""
    started = time.monotonic()
    with prepared_workspace(read_targets(str(lab.inventory))) as workspace:
        result = run_playbook(workspace, str(lab.inventory), check=False,
                              verbosity=verbosity)
        lab.ansible_output += workspace.log_path.read_text(encoding="utf-8", errors="replace")
        if workspace.events_path.exists():
            lab.ansible_output += workspace.events_path.read_text(encoding="utf-8",
                                                                   errors="replace")
    lab.timings[name] = time.monotonic() - started
    assert not result.failed, render_failures(result)
    return result.hosts["bknas"]


# Starts both repositories' backup services as their timers would, and meanwhile reads the
# argv of every process on the NAS (/proc/*/cmdline) every 20 ms.
SAMPLER = """
import glob, json, subprocess, time
before = time.time()
starter = subprocess.Popen(["systemctl", "start", "nasops-backup@local.service",
                            "nasops-backup@offsite.service"])
seen = set()
while starter.poll() is None:
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(path, "rb") as handle:
                seen.add(handle.read().replace(b"\\0", b" ").decode(errors="replace"))
        except OSError:
            pass
    time.sleep(0.02)
print(json.dumps({"returncode": starter.returncode, "before": before,
                  "cmdlines": sorted(seen)}))
"""

def task_output(lab: BackupLab, task: str) -> str:
    """Return what the Ansible runs printed for a task (for failure messages)."""
    parts = lab.ansible_output.split("TASK [")
    return "\n".join(part[:3000] for part in parts if f"nas_backup : {task}]" in part)


SEED = f"""
mkdir -p {shlex.quote(BENIN)}/2026 {shlex.quote(REPORTS)}
head -c 300000 /dev/urandom > {shlex.quote(BENIN)}/budget.xlsx
echo 'rapport Cotonou' > {shlex.quote(BENIN)}/2026/cotonou.txt
echo 'version 1' > {shlex.quote(REPORTS)}/mission.txt
head -c 2000000 /dev/urandom > {shlex.quote(REPORTS)}/photos.zip
# An ACL entry of its own, beyond what the folder inherits: it must come back too.
setfacl -m u:adiallo:r {shlex.quote(BENIN)}/budget.xlsx
"""


@pytest.fixture(scope="module")
def backup_lab(lab_hosts: LabHostFactory, tmp_path_factory: pytest.TempPathFactory,
               ) -> Iterator[BackupLab]:
    """The NAS converged once, the offsite key then authorised, files to back up in place."""
    started = time.monotonic()
    nas = lab_hosts("bknas", NAS_ADDRESS)
    offsite = lab_hosts("bkoffsite", OFFSITE_ADDRESS)
    # Not `backup`: Debian has a system account of that name.
    in_host(offsite, f"useradd --create-home --home-dir /srv/restic --shell /bin/sh {OFFSITE_USER}")
    directory = tmp_path_factory.mktemp("backup")
    write_spec(directory / "wsm.yml")
    known_hosts = [line for line in offsite.known_hosts_path.read_text(
        encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    inventory = directory / "inventory.yml"
    inventory.write_text(render_inventory(nas, {
        "nasops_spec": "wsm.yml", "nasops_secrets_file": "secrets.yml",
        "nasops_backup_known_hosts": known_hosts}), encoding="utf-8")
    assert nasops("secrets", "init", "-i", str(inventory)) == 0
    stored = YAML(typ="safe").load((directory / "secrets.yml").read_text(encoding="utf-8"))
    lab = BackupLab(nas, offsite, directory, inventory,
                    dict(stored["nasops_restic_passwords"]))
    lab.timings["hosts"] = time.monotonic() - started
    converge(lab, "apply (-v)", verbosity=1)
    # As an administrator would: authorise the key the role made and printed, then create the
    # offsite repository the apply could not reach yet (the role runs this same command).
    _, public_key, _ = in_host(nas, "cat /etc/nasops/ssh/id_ed25519.pub")
    in_host(offsite, f"install -d -m 0700 -o {OFFSITE_USER} -g {OFFSITE_USER} /srv/restic/.ssh"
                     f" && echo {shlex.quote('restrict ' + public_key.strip())}"
                     " > /srv/restic/.ssh/authorized_keys"
                     f" && chown {OFFSITE_USER}: /srv/restic/.ssh/authorized_keys")
    lab.init_output = in_host(nas, f"{BACKUP_COMMAND} init")[1]
    in_host(nas, SEED)
    yield lab
    print("\nbackup lab timings: " + ", ".join(f"{name} {seconds:.1f} s"
                                                for name, seconds in lab.timings.items()))


def test_the_role_creates_the_local_repository_and_warns_about_the_unreachable_one(
        backup_lab: BackupLab) -> None:
    lab = backup_lab
    init = task_output(lab, "Create the repositories that do not exist yet")
    assert "changed: [bknas]" in init and "local: created" in init, init
    warning = task_output(lab, "Warn about repositories that could not be reached")
    assert "offsite" in warning and "unreachable" in warning, warning
    shown = task_output(lab, "Show the public key to authorise on the SFTP hosts")
    public_key = in_host(lab.nas, "cat /etc/nasops/ssh/id_ed25519.pub")[1].split()[1]
    assert public_key in shown, shown
    _, out, _ = in_host(lab.nas, f"test -f {LOCAL_REPOSITORY}/config && stat -c '%a %U' "
                                 "/etc/nasops/restic/local.password "
                                 "/etc/nasops/restic/offsite.password /etc/nasops/ssh/id_ed25519")
    assert out.split("\n")[:3] == ["600 root", "600 root", "600 root"]
    config = json.loads(in_host(lab.nas, "cat /etc/nasops/backup.json")[1])
    desired = compile_spec(load_spec(lab.directory / "wsm.yml").spec)
    # Each repository says what goes into it: every share of the one organisation here.
    assert "sources" not in config
    assert [(repository["name"], repository["sources"]) for repository in config["repositories"]
            ] == [(name, [share["path"] for share in desired["shares"]])
                  for name in ("local", "offsite")]


def test_once_the_key_is_authorised_init_creates_the_offsite_repository_once(
        backup_lab: BackupLab) -> None:
    lab = backup_lab
    assert lab.init_output.split("\n")[:2] == ["local: already initialised", "offsite: created"]
    in_host(lab.offsite, f"test -f {OFFSITE_PATH}/config")
    _, out, _ = backup(lab, "init")
    assert out.split("\n")[:2] == ["local: already initialised", "offsite: already initialised"]


def test_timers_are_installed_persistent_and_randomised(backup_lab: BackupLab) -> None:
    _, out, _ = in_host(backup_lab.nas, "systemctl list-timers --all --no-pager 'nasops-backup*'")
    for timer in ("nasops-backup@local.timer", "nasops-backup@offsite.timer",
                  "nasops-backup-check.timer", "nasops-backup-drill.timer"):
        assert timer in out, out
    _, out, _ = in_host(backup_lab.nas, "systemctl show -p Persistent -p RandomizedDelayUSec "
                                        "nasops-backup@offsite.timer")
    assert "Persistent=yes" in out and "RandomizedDelayUSec=30min" in out, out


def test_backup_to_both_repositories_then_a_timer_run_after_changes(
        backup_lab: BackupLab) -> None:
    lab = backup_lab
    started = time.monotonic()
    code, out, err = backup(lab, "run")
    lab.timings["first backup (both)"] = time.monotonic() - started
    assert code == 0, out + err
    for name in ("local", "offsite"):
        attempt = status(lab, name)["backup"]["last_attempt"]
        assert attempt["result"] == "success", attempt
        assert attempt["files_total"] >= 4 and attempt["files_new"] >= 4, attempt
        lab.first_snapshots[name] = attempt["snapshot_id"]
        lab.snapshot_counts[name] = attempt["snapshot_count"]
    lab.benin_acl = in_host(lab.nas, f"cd {shlex.quote(BENIN)}/.. && getfacl -R Bénin")[1]
    lab.benin_digests = in_host(lab.nas, f"cd {shlex.quote(BENIN)} && "
                                         "find . -type f | sort | xargs -d '\\n' sha256sum")[1]
    assert "user:adiallo:r--" in lab.benin_acl
    # Change one file, delete a folder, add a file.
    in_host(lab.nas, f"echo 'version 2' > {shlex.quote(REPORTS)}/mission.txt && "
                     f"rm -r {shlex.quote(BENIN)} && echo new > {shlex.quote(AFRIQUE)}/new.txt")
    # Timer-triggered runs: the very units the timers start, with the argv of every process
    # sampled while they run.
    started = time.monotonic()
    sampled = json.loads(run_in_host(lab.nas, ["python3", "-c", SAMPLER], timeout=600).stdout)
    lab.timings["timer-triggered backups"] = time.monotonic() - started
    assert sampled["returncode"] == 0, sampled["returncode"]
    argv_seen = "\n".join(sampled["cmdlines"])
    assert "restic" in argv_seen and "backup" in argv_seen, "the sampler saw no restic process"
    for password in lab.passwords.values():
        assert password not in argv_seen, "a restic password is in a process argv"
    before = sampled["before"]
    for name in ("local", "offsite"):
        _, state, _ = in_host(lab.nas, f"systemctl show -p Result -p ExecMainStatus "
                                       f"nasops-backup@{name}.service")
        assert "Result=success" in state and "ExecMainStatus=0" in state, state
        attempt = status(lab, name)["backup"]["last_attempt"]
        assert attempt["result"] == "success" and attempt["started_at"] >= before, attempt
        assert attempt["files_new"] >= 1 and attempt["files_changed"] >= 1, attempt
        assert attempt["snapshot_id"] != lab.first_snapshots[name]
        assert attempt["snapshot_count"] == lab.snapshot_counts[name] + 1, attempt


def test_the_deleted_folder_comes_back_in_place_with_its_acls(backup_lab: BackupLab) -> None:
    lab = backup_lab
    in_host(lab.nas, f"test ! -e {shlex.quote(BENIN)}")
    code, out, err = backup(lab, "restore", "--snapshot", lab.first_snapshots["local"],
                            "--path", BENIN, "--repository", "local")
    assert code == 0, out + err
    assert in_host(lab.nas, f"cd {shlex.quote(BENIN)}/.. && getfacl -R Bénin")[1] \
        == lab.benin_acl
    assert in_host(lab.nas, f"cd {shlex.quote(BENIN)} && "
                            "find . -type f | sort | xargs -d '\\n' sha256sum")[1] \
        == lab.benin_digests
    # The offsite copy restores the same folder elsewhere, over SFTP.
    code, out, err = backup(lab, "restore", "--snapshot", lab.first_snapshots["offsite"],
                            "--path", BENIN, "--repository", "offsite",
                            "--target", "/var/tmp/offsite-restore")
    assert code == 0, out + err
    assert in_host(lab.nas, f"cd /var/tmp/offsite-restore{shlex.quote(BENIN)} && "
                            "find . -type f | sort | xargs -d '\\n' sha256sum")[1] \
        == lab.benin_digests


def test_the_drill_passes_on_both_repositories(backup_lab: BackupLab) -> None:
    code, out, err = in_host(backup_lab.nas, "systemctl start nasops-backup-drill.service",
                             accepted=(0, 1, 3))
    assert code == 0, out + err + in_host(backup_lab.nas, "journalctl --no-pager -n 40 -u "
                                                          "nasops-backup-drill.service")[1]
    for name in ("local", "offsite"):
        drill = status(backup_lab, name)["drill"]["last_attempt"]
        assert drill["result"] == "success" and drill["problem_count"] == 0, drill
        assert drill["verified_files"] >= 5, drill


def test_a_damaged_pack_fails_the_check_and_the_drill_and_shows_in_status(
        backup_lab: BackupLab) -> None:
    lab = backup_lab
    # The night after the restore: the latest snapshot holds the restored folder again, whose
    # data is in the first (biggest) pack.
    code, out, err = backup(lab, "run", "--repository", "local")
    assert code == 0, out + err
    code, out, err = backup(lab, "check", "--repository", "local")
    assert code == 0, out + err
    # Damage the biggest pack (file data) in its middle, keeping its size.
    in_host(lab.nas, f"pack=$(find {LOCAL_REPOSITORY}/data -type f -printf '%s %p\\n' "
                     "| sort -n | tail -1 | cut -d' ' -f2) && "
                     "printf 'damaged!damaged!' | dd of=\"$pack\" bs=1 seek=2000 conv=notrunc "
                     "status=none")
    code, out, err = backup(lab, "check", "--repository", "local", accepted=(1,))
    check = status(lab, "local")["check"]["last_attempt"]
    assert check["result"] == "failed" and check["error_kind"] == "integrity", check
    _, shown, _ = backup(lab, "status", "--repository", "local")
    assert any(line.split()[:2] == ["check", "failed"] for line in shown.splitlines()), shown
    code, out, err = backup(lab, "drill", "--repository", "local", accepted=(1,))
    drill = status(lab, "local")["drill"]["last_attempt"]
    assert drill["result"] == "failed" and drill["problem_count"] >= 1, drill
    assert "local" in err and drill["problems"][0]["path"] in err, err
    # The offsite copy is untouched.
    assert backup(lab, "check", "--repository", "offsite")[0] == 0


def test_an_apply_that_skips_nas_backup_still_creates_a_missing_repository(
        backup_lab: BackupLab, capsys: pytest.CaptureFixture[str]) -> None:
    # A real pass skips nas_backup while the NAS matches its record (issue 18), but only a
    # real pass creates a repository that could not be reached before: a fresh USB disk.
    # `nasops-backup init` marks each repository it found, and a real pass retries init
    # only for a repository without its mark.
    lab = backup_lab
    assert nasops("apply", "-q", "-i", str(lab.inventory)) == 0  # records the roles
    spec = lab.directory / "wsm.yml"
    description = "Travail de la cellule Afrique"

    def apply_a_change_elsewhere(new: str) -> str:  # the apply then has a real pass
        spec.write_text(spec.read_text(encoding="utf-8").replace(description, new, 1),
                        encoding="utf-8")
        capsys.readouterr()
        assert nasops("apply", "-i", str(lab.inventory)) == 0
        captured = capsys.readouterr()
        output = captured.out + captured.err
        log = Path(output.rsplit("full log: ", 1)[1].split()[0]).read_text(encoding="utf-8")
        lab.ansible_output += log
        assert "nas_backup : Install the backup configuration" not in log, log[-3000:]
        return output

    # Every repository found before: no init.
    output = apply_a_change_elsewhere(f"{description} (Porto-Novo)")
    assert "Create the missing repositories (nas_backup need not run)" not in output, output
    # The local disk was not there when init ran (no mark), and now it is, empty.
    in_host(lab.nas, f"mv {LOCAL_REPOSITORY} {LOCAL_REPOSITORY}.before && "
                     "rm /var/lib/nasops/backup/local.initialised")
    try:
        output = apply_a_change_elsewhere(f"{description} (Cotonou)")
        assert "Create the missing repositories (nas_backup need not run)" in output, output
        in_host(lab.nas, f"test -f {LOCAL_REPOSITORY}/config && "
                         "test -f /var/lib/nasops/backup/local.initialised")
    finally:
        # The repository with the earlier snapshots back in place for the tests after this;
        # what is removed is only the empty repository this test made the apply create.
        in_host(lab.nas, f"test ! -d {LOCAL_REPOSITORY}.before || {{ rm -rf {LOCAL_REPOSITORY}"
                         f" && mv {LOCAL_REPOSITORY}.before {LOCAL_REPOSITORY}; }}")


def test_no_restic_password_in_logs_journal_status_or_ansible_output(
        backup_lab: BackupLab) -> None:
    lab = backup_lab
    # The one nasops.nas.host call that writes the password files (its -v result lists them).
    assert "nas_backup" in lab.ansible_output and "Install the backup configuration, " \
        "password files and timers" in lab.ansible_output and ".password" \
        in lab.ansible_output, "the Ansible output was not captured"
    _, journal, _ = in_host(lab.nas, "journalctl --no-pager -o cat; "
                                     "cat /var/lib/nasops/backup/*.json /etc/nasops/backup.json; "
                                     "grep -rs . /var/log || true")
    assert "nasops-backup" in journal
    for name, password in lab.passwords.items():
        assert len(password) >= 16
        assert password not in lab.ansible_output, f"{name}'s password in the Ansible output"
        assert password not in journal, f"{name}'s password in the journal, logs or status"


DISABLE_PLAYBOOK = """- name: The nas_backup role alone, as site.yml runs it without backups
  hosts: nas
  gather_facts: false
  roles:
    - role: nasops.nas.nas_backup
      vars:
        nas_backup_enabled: false
"""


def test_a_spec_without_backups_stops_the_timers_and_keeps_everything_else(
        backup_lab: BackupLab) -> None:
    # Only the role (what site.yml passes it for a spec without backup section), not a whole
    # apply: the rest of site.yml is covered above and by the other lab modules.
    lab = backup_lab
    playbook = lab.directory / "disable.yml"
    playbook.write_text(DISABLE_PLAYBOOK, encoding="utf-8")
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(lab.inventory),
            str(playbook)]
    environment = {**os.environ, "ANSIBLE_CONFIG": str(REPOSITORY / "ansible.cfg"),
                   "ANSIBLE_NOCOLOR": "1"}
    timers = " ".join(f"nasops-backup{suffix}.timer" for suffix in (
        "@local", "@offsite", "-check", "-drill"))
    checked = subprocess.run([*argv, "--check"], cwd=REPOSITORY, env=environment,
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert in_host(lab.nas, f"systemctl is-active {timers}")[1].split() == ["active"] * 4
    applied = subprocess.run(argv, cwd=REPOSITORY, env=environment, capture_output=True,
                             text=True, check=False)
    assert applied.returncode == 0, applied.stdout[-3000:]
    # Both exit non-zero for stopped, disabled units: only their answers count.
    _, states, _ = in_host(lab.nas, f"systemctl is-active {timers} || true; "
                                    f"systemctl is-enabled {timers} || true")
    assert states.split() == ["inactive"] * 4 + ["disabled"] * 4, states
    in_host(lab.nas, f"test -f {LOCAL_REPOSITORY}/config && test -f /etc/nasops/backup.json "
                     "&& test -f /etc/nasops/restic/local.password "
                     f"&& test -f {STATUS_DIRECTORY}/local.json")
    in_host(lab.offsite, f"test -f {OFFSITE_PATH}/config")
