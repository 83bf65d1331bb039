"""Reaching a lab host over ssh with its pinned host key (never trust-on-first-use)."""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from nasops.errors import CommandFailedError
from nasops.execute import CommandResult, run_command
from nasops.lab.model import LabHost

SSH_FAILURE = 255


def ssh_options(known_hosts: Path) -> list[str]:
    """Given the host's known_hosts file, return the ssh -o options that pin its key.

    Shared by run_in_host and the Ansible inventory so both trust exactly the pinned key.
    """
    return [
        "-o", f"UserKnownHostsFile={known_hosts}",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "IdentitiesOnly=yes",
    ]  # fmt: skip


def ssh_argv(host: LabHost, command: Sequence[str] = (), *, interactive: bool = False) -> list[str]:
    """Given a host and a command (argv), return the ssh command that runs it there as root."""
    argv = [
        "ssh",
        # Ignore the caller's ~/.ssh/config: the lab must behave the same for everyone.
        "-F", "/dev/null",
        "-i", str(host.private_key_path),
        *ssh_options(host.known_hosts_path),
        "-o", "BatchMode=yes",
        "-o", "ConnectTimeout=5",
        "-o", "LogLevel=ERROR",
        "-t" if interactive else "-T",
        f"root@{host.address}",
    ]  # fmt: skip
    if command:
        # ssh hands the remote shell one string: quote each word so argv survives intact.
        argv += ["--", shlex.join(command)]
    return argv


def run_in_host(
    host: LabHost,
    argv: Sequence[str],
    *,
    input_text: str | None = None,
    timeout: float | None = 120,
    accepted_codes: Iterable[int] = (0,),
) -> CommandResult:
    """Given a lab host and argv, run argv there as root over ssh and return the result.

    An ssh failure (exit 255) raises CommandFailedError even if 255 was accepted.
    """
    result = run_command(
        ssh_argv(host, argv),
        input_text=input_text,
        timeout=timeout,
        accepted_codes=range(256),
    )
    if result.returncode == SSH_FAILURE and result.stderr.strip():
        raise CommandFailedError(f"ssh to lab host {host.name} failed: {result.stderr.strip()}")
    if result.returncode not in set(accepted_codes):
        detail = (result.stderr or result.stdout).strip()
        raise CommandFailedError(
            f"on lab host {host.name}: {shlex.join(argv)} failed with exit code "
            f"{result.returncode}" + (f": {detail}" if detail else "")
        )
    return result


def wait_for_ssh(host: LabHost, timeout: float) -> None:
    """Wait until the host accepts our key over ssh, or raise CommandFailedError."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while time.monotonic() < deadline:
        result = run_command(ssh_argv(host, ["true"]), timeout=15, accepted_codes=range(256))
        if result.returncode == 0:
            return
        last_error = result.stderr.strip()
        time.sleep(0.3)
    raise CommandFailedError(
        f"lab host {host.name} did not accept ssh on {host.address} within {timeout:.0f} s"
        + (f": {last_error}" if last_error else "")
    )

