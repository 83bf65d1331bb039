"""Killed and concurrent `nasops apply` runs against a real lab NAS (its own: `interrupt`,
127.0.0.80), converged once to the example spec.

Each kill removes /opt/nasops on the NAS first, so the apply has long steps to do (the
release's transfer, unpack and compile, the exporter's install), and is killed during them:
by SIGTERM (nasops ends its tree and exits 143) and by SIGKILL (nothing in nasops runs: the
guardian and the lock holder clean up). Then: no process of that run is left on the
controller or on the NAS, its run directory is gone, apply.json says `interrupted`, a re-run
converges (and while it runs, another controller — this test process — is refused the lock,
naming it), and the next apply finds nothing to do. While the test holds the lock, `nasops
apply` is refused with exit 1.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from nasops.ansible.apply_lock import ApplyLocks, LockBusyError
from nasops.lab import LabHost, render_inventory, run_in_host
from nasops.lab.testing import LabHostFactory

pytestmark = [pytest.mark.lab, pytest.mark.slow]

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE_SPEC = REPOSITORY / "inventory" / "example" / "wsm.yml"
# Processes of a killed run must be gone within this (the guardian's grace is 2 s + 2 s).
CLEANUP_SECONDS = 15.0
LONG_STEP = "nas_release: Create the partial release directory"
MARKED = "grep -l NASOPS_APPLY_RUN=[0-9a-f] /proc/[0-9]*/environ 2>/dev/null || true"


@pytest.fixture(scope="module")
def interrupt_nas(lab_hosts: LabHostFactory) -> LabHost:
    return lab_hosts("interrupt", "127.0.0.80")


@pytest.fixture(scope="module")
def inventory(interrupt_nas: LabHost, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("interrupt")
    path = directory / "inventory.yml"
    path.write_text(render_inventory(interrupt_nas, {"nasops_spec": str(EXAMPLE_SPEC),
                                                     "nasops_secrets_file": "secrets.yml"}),
                    encoding="utf-8")
    assert _nasops("secrets", "init", "-i", str(path)).returncode == 0
    first = _nasops("apply", "-q", "-i", str(path))
    assert first.returncode == 0, first.stderr
    return path


def _nasops(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nasops", *arguments], capture_output=True,
                          text=True, check=False, timeout=900)


def _start_apply(inventory: Path, log: Path) -> subprocess.Popen[str]:
    with log.open("w", encoding="utf-8") as stream:
        return subprocess.Popen([sys.executable, "-m", "nasops", "apply", "-i", str(inventory)],
                                stdout=stream, stderr=subprocess.STDOUT, text=True)


def _wait_for(log: Path, text: str, process: subprocess.Popen[str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while text not in log.read_text(encoding="utf-8"):
        assert process.poll() is None, log.read_text(encoding="utf-8")
        assert time.monotonic() < deadline, f"no {text!r} in {seconds} s"
        time.sleep(0.1)


def _controller_leftovers(inventory: Path) -> list[str]:
    """Return the command lines of processes still running for this inventory's runs."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        # Every process of a run (ansible-playbook, its workers, ssh) names the inventory.
        if state != "Z" and str(inventory) in command and "[mux]" not in command:
            found.append(command)
    return found


def _wait_clean(host: LabHost, inventory: Path) -> tuple[list[str], str]:
    deadline = time.monotonic() + CLEANUP_SECONDS
    while True:
        local = _controller_leftovers(inventory)
        remote = run_in_host(host, ["sh", "-c", MARKED]).stdout.strip()
        if (not local and not remote) or time.monotonic() > deadline:
            return local, remote
        time.sleep(0.5)


def _run_directories_of(pid: int) -> list[Path]:
    found = []
    for path in Path(tempfile.gettempdir()).glob("nasops-run-*"):
        try:
            owner = json.loads((path / "owner.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if owner.get("pid") == pid:
            found.append(path)
    return found


def _record(host: LabHost) -> dict[str, object]:
    data = json.loads(run_in_host(host, ["cat", "/var/lib/nasops/apply.json"]).stdout)
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_apply_leaves_nothing_running_records_interrupted_and_reruns_clean(
        interrupt_nas: LabHost, inventory: Path, tmp_path: Path, signum: int) -> None:
    run_in_host(interrupt_nas, ["rm", "-rf", "/opt/nasops"])
    log = tmp_path / "apply.log"
    process = _start_apply(inventory, log)
    try:
        _wait_for(log, LONG_STEP, process, 600)
        time.sleep(0.5)  # inside the unpack and compile
        assert _record(interrupt_nas)["result"] == "running"
        os.kill(process.pid, signum)
        code = process.wait(60)
    finally:
        process.kill()
        process.wait()
    if signum == signal.SIGTERM:
        assert code == 143, log.read_text(encoding="utf-8")
        assert "interrupted by SIGTERM" in log.read_text(encoding="utf-8")
    local, remote = _wait_clean(interrupt_nas, inventory)
    assert local == [], "controller processes left"
    assert remote == "", "module processes of the killed run left on the NAS"
    assert _run_directories_of(process.pid) == []
    # After SIGKILL the lock holder records once it has ended the run's modules (a few s).
    deadline = time.monotonic() + CLEANUP_SECONDS
    while (record := _record(interrupt_nas))["result"] == "running" \
            and time.monotonic() < deadline:
        time.sleep(0.5)
    assert record["result"] == "interrupted", record
    assert isinstance(record["changed_items"], int) and record["changed_items"] >= 1
    leftovers = run_in_host(interrupt_nas, ["ls", "-A", "/opt/nasops/releases"]).stdout.split()
    # The re-run has the release to finish: while it applies, another controller (this
    # process) is refused, naming it; once it has finished, the lock is free again.
    _rerun_holding_the_lock(interrupt_nas, inventory, tmp_path / "rerun.log")
    record = _record(interrupt_nas)
    assert record["result"] == "success" and record["changed_items"] >= 1
    releases = run_in_host(interrupt_nas, ["ls", "-A", "/opt/nasops/releases"]).stdout.split()
    assert len(releases) == 1 and not releases[0].startswith("."), (leftovers, releases)
    again = _nasops("apply", "-q", "-i", str(inventory))
    assert again.returncode == 0, again.stderr
    assert "no changes" in again.stdout


def _rerun_holding_the_lock(host: LabHost, inventory: Path, log: Path) -> None:
    """Run `nasops apply` to its end; while it applies, check that another controller's
    attempt at the lock is refused naming it, and that the lock is free after it."""
    hostvars = {host.name: {"ansible_host": host.address, **_connection_variables(inventory)}}
    process = _start_apply(inventory, log)
    try:
        _wait_for(log, "applying", process, 600)
        with pytest.raises(LockBusyError, match=f"pid {process.pid} on controller"):
            ApplyLocks("test-second").acquire(hostvars, [host.name])
        assert process.wait(900) == 0, log.read_text(encoding="utf-8")
    finally:
        process.kill()
        process.wait()
    after = ApplyLocks("test-after")
    after.acquire(hostvars, [host.name])
    after.release()


def test_an_apply_is_refused_while_another_controller_holds_the_lock(
        interrupt_nas: LabHost, inventory: Path) -> None:
    hostvars = {interrupt_nas.name: {"ansible_host": interrupt_nas.address,
                                     **_connection_variables(inventory)}}
    # (While an apply runs, other controllers are refused: the killed tests' re-runs.)
    before = _record(interrupt_nas)
    held = ApplyLocks("test-holder")
    held.acquire(hostvars, [interrupt_nas.name])
    with held:
        refused = _nasops("apply", "-q", "-i", str(inventory))
    assert refused.returncode == 1, refused.stderr
    assert f"another apply is running on this NAS: pid {os.getpid()} on controller" \
        in refused.stderr
    assert "nothing was changed" in refused.stderr
    # Refused before its check: the lock's holder recorded nothing of it.
    assert _record(interrupt_nas) == before


def _connection_variables(inventory: Path) -> dict[str, object]:
    from ruamel.yaml import YAML  # noqa: PLC0415

    data = YAML(typ="safe").load(inventory.read_text(encoding="utf-8"))
    hosts = data["all"]["children"]["nas"]["hosts"]
    variables = next(iter(hosts.values()))
    return {key: value for key, value in variables.items() if key.startswith("ansible_")}
