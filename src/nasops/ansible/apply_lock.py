"""The per-NAS apply lock and apply record, held from the controller (see lock_holder.py).

For each targeted NAS nasops opens an SSH session of its own (the connection settings come
from the inventory, as Ansible would use them) running lock_holder.py there. The lock is a
kernel flock held by that NAS process: two applies from two controllers cannot overlap, and
a killed apply cannot leave the NAS locked (its SSH session ends, the holder ends, the lock
goes). The SSH client gets PR_SET_PDEATHSIG, so it ends even when nasops is SIGKILLed.
It costs one SSH connection per apply (about 0.1 s); a no-op apply takes the lock only
to leave a true record (`success`, 0 changes) when the last one was not a success.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import pwd
import select
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from nasops import __version__
from nasops.errors import CommandFailedError, NasopsError, PrerequisiteError

HOLDER_SCRIPT = Path(__file__).with_name("lock_holder.py")
LOCK_FILE = "/run/nasops/apply.lock"
RECORD_FILE = "/var/lib/nasops/apply.json"
APPLIED_NAME = "applied-specs.json"
# Inventory variables that move the lock and the record (the unit tests' fake NAS).
LOCK_VARIABLE = "nasops_apply_lock_file"
RECORD_VARIABLE = "nasops_apply_record_file"
# Ansible's true values of a boolean variable (convert_bool), as an inventory may spell them.
BECOME_TRUE = frozenset({"y", "yes", "on", "1", "true", "t", "1.0"})
# Set in every module's environment on the NAS by site.yml: how the holder finds them.
RUN_VARIABLE = "nasops_run_id"
REPLY_SECONDS = 30.0
CLOSE_SECONDS = 15.0
PR_SET_PDEATHSIG = 1
SSH_CONNECTIONS = frozenset({"ssh", "smart", "ansible.builtin.ssh"})
LOCAL_CONNECTIONS = frozenset({"local", "ansible.builtin.local"})


class LockBusyError(NasopsError):
    """Another apply holds a NAS's lock (exit 1); the message names it."""


def _die_with_parent() -> None:
    # Runs in the child before exec: SIGTERM when nasops ends, even by SIGKILL.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def holder_argv(host: str, variables: Mapping[str, Any], run: str,
                owner: Mapping[str, Any]) -> list[str]:
    """Given a host, its inventory variables, the run id and the owner record, return the
    argv that runs the lock holder on it (over SSH, or locally for a local connection).

    Raise PrerequisiteError for connections nasops cannot open itself (password, templated
    connection variables, other connection plugins).
    """
    lock = str(variables.get(LOCK_VARIABLE) or LOCK_FILE)
    command = [python_interpreter(variables), "-c", HOLDER_SCRIPT.read_text(encoding="utf-8"),
               lock, record_path(variables), run, json.dumps(dict(owner)),
               applied_path(variables)]
    return remote_argv(host, variables, command)


def record_path(variables: Mapping[str, Any]) -> str:
    """Given a host's inventory variables, return the path of its apply record."""
    return str(variables.get(RECORD_VARIABLE) or RECORD_FILE)


def applied_path(variables: Mapping[str, Any]) -> str:
    """Given a host's inventory variables, return where its NAS keeps the specs it last
    matched (beside the apply record; nasops.provision.applied)."""
    return os.path.join(os.path.dirname(record_path(variables)), APPLIED_NAME)


def python_interpreter(variables: Mapping[str, Any]) -> str:
    """Given a host's inventory variables, return the NAS's Python as Ansible uses it."""
    python = str(variables.get("ansible_python_interpreter") or "/usr/bin/python3")
    if python.startswith("auto"):  # Ansible's discovery (auto, auto_silent, auto_legacy…)
        python = "/usr/bin/python3"
    return python


def remote_argv(host: str, variables: Mapping[str, Any], command: list[str]) -> list[str]:
    """Given a host, its inventory variables and a command, return the argv that runs the
    command on it as root, over an SSH session of nasops' own (or locally for a local
    connection): the apply lock's holder, or a read of what the NAS keeps.

    Raise PrerequisiteError for connections nasops cannot open itself (password, templated
    connection variables, other connection plugins).
    """
    connection = str(variables.get("ansible_connection") or "ssh")
    # As Ansible reads it: an INI inventory's `ansible_become=false` is the string "false".
    if str(variables.get("ansible_become") or "").strip().lower() in BECOME_TRUE:
        method = str(variables.get("ansible_become_method") or "sudo")
        if method != "sudo" or variables.get("ansible_become_password") \
                or variables.get("ansible_become_pass"):
            raise PrerequisiteError(
                f"inventory host {host}: nasops' own session (the apply lock) becomes root "
                "with `sudo -n` only "
                f"(become method {method}"
                f"{', with a password' if method == 'sudo' else ''}): log in as root, or "
                "allow the login sudo without a password")
        command = ["sudo", "-n", *command]
    names = ("ansible_host", "ansible_user", "ansible_port", "ansible_ssh_common_args",
             "ansible_ssh_extra_args", "ansible_ssh_private_key_file", "ansible_python_interpreter",
             "ansible_become")
    templated = [name for name in names if "{{" in str(variables.get(name) or "")]
    unsupported = (templated or variables.get("ansible_password")
                   or variables.get("ansible_ssh_pass")
                   or connection not in SSH_CONNECTIONS | LOCAL_CONNECTIONS)
    if unsupported:
        raise PrerequisiteError(
            f"inventory host {host}: nasops cannot open its own session (the apply lock) "
            f"(connection {connection}{', templated ' + ', '.join(templated) if templated else ''}"
            f"{', password login' if not templated and connection in SSH_CONNECTIONS else ''});"
            " use SSH with a key (or the agent) and plain connection variables")
    if connection in LOCAL_CONNECTIONS:
        return command
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "ControlMaster=no", "-o", "ControlPath=none",
            "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=15",
            "-o", "ServerAliveCountMax=4"]
    if variables.get("ansible_port"):
        argv += ["-p", str(variables["ansible_port"])]
    if variables.get("ansible_user"):
        argv += ["-l", str(variables["ansible_user"])]
    if variables.get("ansible_ssh_private_key_file"):
        argv += ["-i", os.path.expanduser(str(variables["ansible_ssh_private_key_file"]))]
    argv += shlex.split(str(variables.get("ansible_ssh_common_args") or ""))
    argv += shlex.split(str(variables.get("ansible_ssh_extra_args") or ""))
    return [*argv, "--", str(variables.get("ansible_host") or host), shlex.join(command)]


def describe_owner(owner: Mapping[str, Any]) -> str:
    """Given a lock's owner record, return e.g. 'pid 812 on controller ops-1, started …'."""
    if not owner:
        return "an apply whose owner record is not readable"
    return (f"pid {owner.get('pid', '?')} on controller {owner.get('controller', '?')} "
            f"(user {owner.get('user', '?')}), started {owner.get('started_at', '?')}")


@dataclass
class _Holder:
    host: str
    process: subprocess.Popen[str]
    previous: dict[str, Any] | None = None
    started: bool = False
    finished: bool = False


@dataclass
class ApplyLocks:
    """The locks of one apply on all its hosts; use as a context manager after acquire()."""

    run: str
    holders: dict[str, _Holder] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def acquire(self, hostvars: Mapping[str, Mapping[str, Any]], hosts: Sequence[str]) -> None:
        """Take every host's lock (in parallel); raise LockBusyError naming each holder, or
        CommandFailedError when a NAS cannot be reached, after letting go of the others."""
        owner = {"pid": os.getpid(), "controller": socket.gethostname(),
                 "user": _user(), "run": self.run, "nasops_version": __version__,
                 "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        argvs = {host: holder_argv(host, hostvars.get(host, {}), self.run, owner)
                 for host in hosts}
        for host, argv in argvs.items():
            self.holders[host] = _Holder(host, subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                # No threads run in nasops, so preexec_fn is safe here.
                text=True, preexec_fn=_die_with_parent))  # noqa: PLW1509
        problems: list[str] = []
        busy = False
        for host, holder in list(self.holders.items()):
            reply = _reply(holder.process, REPLY_SECONDS)
            if reply is not None and reply.get("state") == "locked":
                previous = reply.get("previous")
                holder.previous = previous if isinstance(previous, dict) else None
                continue
            del self.holders[host]
            if reply is not None and reply.get("state") == "busy":
                busy = True
                problems.append(f"{host}: another apply is running on this NAS: "
                                f"{describe_owner(reply.get('owner') or {})}; nothing was "
                                "changed, try again once it has finished")
            else:
                problems.append(f"{host}: could not take the apply lock: "
                                f"{_error_text(holder.process)}")
        if problems:
            self.release()
            raise (LockBusyError if busy else CommandFailedError)("\n".join(problems))

    def stale_runs(self) -> list[str]:
        """Return a line per host whose last apply never finished (its record says running)."""
        return [f"{host}: the previous apply (started {holder.previous.get('started_at')} "
                f"from {holder.previous.get('controller') or 'a controller'}) did not finish; "
                "this one converges from where it stopped"
                for host, holder in self.holders.items()
                if holder.previous and holder.previous.get("result") == "running"]

    def start(self) -> None:
        """Record `running` on every host before the real run changes anything."""
        for holder in self.holders.values():
            _send(holder.process, {"command": "start"})
        for holder in self.holders.values():
            reply = _reply(holder.process, REPLY_SECONDS)
            holder.started = reply is not None and reply.get("state") == "started"
        missing = [holder for holder in self.holders.values() if not holder.started]
        if missing:
            # Without its holder a NAS is neither locked nor recorded: do not change it.
            problems = [f"{holder.host}: could not record the start of this apply "
                        f"({_error_text(holder.process)})" for holder in missing]
            self.release()
            raise CommandFailedError("\n".join(problems) + "\nnothing was changed")

    def progress(self, counts: Mapping[str, int]) -> None:
        """Tell the holders how many changes each host made so far (for a killed run)."""
        for host, count in counts.items():
            if host in self.holders:
                _send(self.holders[host].process, {"command": "progress", "changed_items": count})

    def keep(self, applied: Mapping[str, Mapping[str, Any]], hosts: Sequence[str]) -> None:
        """After a run that changed nothing: have these hosts keep the specs they match
        (plan's access section reads them); their holders then end, recording nothing."""
        sent = [host for host in hosts if host in self.holders and host in applied]
        for host in sent:
            _send(self.holders[host].process, {"command": "keep", "applied": applied[host]})
        for host in sent:
            reply = _reply(self.holders[host].process, REPLY_SECONDS)
            if reply is None or not reply.get("kept"):
                self._not_kept(host)

    def _not_kept(self, host: str) -> None:
        self.warnings.append(f"could not keep the specs applied on {host}; the next plan "
                             "cannot say who gains and who loses access")

    def finish(self, records: Mapping[str, Mapping[str, Any]],
               applied: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Record how the run ended on each host ({result, changed_items}); where it
        succeeded, the host keeps its specs from applied (if given); release."""
        keeping = {host for host, record in records.items()
                   if applied and host in applied and record.get("result") == "success"}
        for host, record in records.items():
            if host in self.holders:
                extra = {"applied": applied[host]} if applied and host in keeping else {}
                _send(self.holders[host].process, {"command": "finish", **record, **extra})
        for host in records:
            holder = self.holders.get(host)
            if holder is None:
                continue
            reply = _reply(holder.process, REPLY_SECONDS)
            holder.finished = True
            if reply is None or reply.get("state") != "recorded":
                self.warnings.append(f"could not record the result of this apply on {host}; "
                                     "the exporter keeps showing the previous one")
            elif host in keeping and not reply.get("kept"):
                self._not_kept(host)
        self.release()

    def let_go(self, hosts: Sequence[str]) -> None:
        """Release the locks of these hosts now, recording nothing there (not started)."""
        for host in hosts:
            holder = self.holders.pop(host, None)
            if holder is not None and holder.process.stdin is not None:
                with contextlib.suppress(OSError):
                    holder.process.stdin.close()
                try:
                    holder.process.wait(CLOSE_SECONDS)
                except subprocess.TimeoutExpired:
                    holder.process.kill()
                    holder.process.wait()

    def release(self) -> None:
        """Let go of every lock: a holder whose run started but was never finished records
        `interrupted` and ends the run's leftovers on its NAS. Bounded in time."""
        for holder in self.holders.values():
            if holder.process.stdin is not None and not holder.process.stdin.closed:
                with contextlib.suppress(OSError):
                    holder.process.stdin.close()
        deadline = time.monotonic() + CLOSE_SECONDS
        for holder in self.holders.values():
            try:
                holder.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                holder.process.kill()
                holder.process.wait()
        self.holders.clear()

    def __enter__(self) -> ApplyLocks:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _user() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def _send(process: subprocess.Popen[str], message: Mapping[str, Any]) -> None:
    stream: IO[str] | None = process.stdin
    if stream is None or stream.closed:
        return
    try:
        stream.write(json.dumps(dict(message)) + "\n")
        stream.flush()
    except OSError:
        pass  # the holder is gone: release() reports nothing more can be recorded


def _reply(process: subprocess.Popen[str], timeout: float) -> dict[str, Any] | None:
    """Read one reply line within timeout; None if the holder ended or stayed silent."""
    stream = process.stdout
    if stream is None:
        return None
    ready, _, _ = select.select([stream], [], [], timeout)
    if not ready:
        return None
    line = stream.readline()
    try:
        reply = json.loads(line) if line.strip() else None
    except ValueError:
        return None
    return reply if isinstance(reply, dict) else None


def _error_text(process: subprocess.Popen[str]) -> str:
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    error = (process.stderr.read() if process.stderr else "").strip()
    if error:
        return error.splitlines()[-1]
    return f"the lock holder ended with code {process.returncode}"
