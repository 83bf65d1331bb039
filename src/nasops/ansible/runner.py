"""Run ansible-playbook on a prepared workspace and follow it through the events file.

Where the Ansible side lives: `project_root()` is the root of the nasops.nas collection
(nasops/collection.py: an installed wheel's copy, or the checkout), holding `ansible.cfg`,
`playbooks/` and `roles/`; Ansible is pointed at that very copy.

ansible-playbook's own output goes to a log file in the workspace; what people see is
rendered from the nasops_events callback's JSON lines. Secrets never travel in argv: the
vault password is read by Ansible from --vault-password-file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from nasops.ansible import module_cache
from nasops.ansible.events import RunResult, fold_events, read_events
from nasops.ansible.run_log import LogFollower, RunLog
from nasops.ansible.tools import ansible_tool
from nasops.ansible.workspace import Workspace
from nasops.collection import PLAYBOOK, collection_root, collections_path
from nasops.errors import CommandFailedError, NasopsError
from nasops.execute import MASKER, display_command

CALLBACK_DIRECTORY = Path(__file__).resolve().parent / "callback"
CALLBACK_NAME = "nasops_events"
GUARDIAN_SCRIPT = Path(__file__).with_name("guardian.py")
# The guardian's grace for the tree (SIGTERM, then SIGKILL) plus room to reap it.
GUARDIAN_WAIT_SECONDS = 10.0
# How often the events file is polled while ansible-playbook runs.
POLL_SECONDS = 0.2
LOG_TAIL_LINES = 40

EventHandler = Callable[[dict[str, Any]], None]
INTERRUPTING_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class RunInterrupted(NasopsError):
    """A signal stopped the run; its exit code is the shell's 128 + signal number (130 for
    Ctrl-C, 143 for SIGTERM, 129 for SIGHUP), like EXIT_ABORTED in cli/exit_codes.py."""

    def __init__(self, signum: int, detail: str = "") -> None:
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        self.exit_code = 128 + signum
        super().__init__(f"interrupted by {self.signal_name}" + (f": {detail}" if detail else ""))


@contextmanager
def interruptible() -> Iterator[None]:
    """Turn SIGTERM, SIGINT and SIGHUP into RunInterrupted, so that the run's cleanup (the
    guardian ending Ansible's tree, the lock's record, the run directory) happens. Later
    signals are ignored while that bounded cleanup runs; the old handlers come back after."""
    previous = {signum: signal.getsignal(signum) for signum in INTERRUPTING_SIGNALS}

    def interrupt(signum: int, frame: object) -> None:
        for other in INTERRUPTING_SIGNALS:
            signal.signal(other, signal.SIG_IGN)
        raise RunInterrupted(signum)

    for signum in INTERRUPTING_SIGNALS:
        signal.signal(signum, interrupt)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def project_root(environment: Mapping[str, str] | None = None) -> Path:
    """Given the environment (default os.environ), return the nasops.nas collection's root,
    which holds ansible.cfg, playbooks/ and roles/ (nasops/collection.py finds it)."""
    return collection_root(environment)


def ansible_environment(root: Path, events_path: Path | None = None) -> dict[str, str]:
    """Given the project root and the events file, return the variables added for Ansible."""
    environment = {
        # The callback replaces what people see; colours would only pollute the log file.
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
    }
    if (root / "ansible.cfg").is_file():
        environment["ANSIBLE_CONFIG"] = str(root / "ansible.cfg")
    if (root / "galaxy.yml").is_file():
        # This copy of nasops.nas first: never another version installed for the user.
        environment["ANSIBLE_COLLECTIONS_PATH"] = str(collections_path(root))
    if events_path is not None:
        environment.update({
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIRECTORY),
            "ANSIBLE_CALLBACKS_ENABLED": CALLBACK_NAME,
            "NASOPS_EVENTS_FILE": str(events_path),
            # Ansible's own temporary files in the run's directory, which goes with the run
            # even when a SIGKILL leaves Ansible no time to remove them (the guardian).
            "ANSIBLE_LOCAL_TEMP": str(events_path.parent / "ansible-local"),
            # The callback links the run's module payloads to a cache kept between runs.
            **module_cache.environment(root),
        })
    return environment


def playbook_argv(
    root: Path,
    user_inventory: str,
    workspace_inventory: Path,
    hosts: Sequence[str],
    *,
    check: bool,
    vault_password_file: str | None = None,
    verbosity: int = 0,
    playbook: Path = PLAYBOOK,
    extra_variables_file: Path | None = None,
    tags: Sequence[str] = (),
) -> list[str]:
    """Given the inventories and options, return the ansible-playbook argv.

    --limit is always the explicit list of prepared hosts: a host of group `nas` without a
    compiled desired state must never be run against.
    """
    if Path(user_inventory).expanduser().exists():
        # Absolute, because ansible-playbook runs in the project root.
        user_inventory = str(Path(user_inventory).expanduser().resolve())
    argv = [ansible_tool("ansible-playbook"), "-i", user_inventory,
            "-i", str(workspace_inventory), str(root / playbook), "--limit", ",".join(hosts)]
    if extra_variables_file is not None:
        argv += ["--extra-vars", f"@{extra_variables_file}"]
    if check:
        argv += ["--check", "--diff"]
    if vault_password_file:
        argv += ["--vault-password-file", str(Path(vault_password_file).expanduser().resolve())]
    if verbosity:
        argv.append("-" + "v" * verbosity)
    if tags:
        argv += ["--tags", ",".join(tags)]
    return argv


def _log_tail(path: Path) -> str:
    if not path.exists():
        return ""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return MASKER.mask("\n".join(lines[-LOG_TAIL_LINES:]))


def _wait_for_guardian(process: subprocess.Popen[bytes]) -> None:
    """Wait (bounded) for the guardian to end the tree; a second signal must not cut this."""
    try:
        process.wait(GUARDIAN_WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    except BaseException:
        process.wait(GUARDIAN_WAIT_SECONDS)


def _run_guarded(argv: list[str], directory: Path, log: IO[str], *,
                 environment: dict[str, str], root: Path, drain: Callable[[], None]) -> int:
    """Run argv under the guardian, calling drain while it runs; return its exit code.

    The guardian ends ansible-playbook's whole tree (its workers call setsid) when the
    control pipe closes early: nasops interrupted here, or killed outright.
    """
    control_read, control_write = os.pipe()
    guarded = [sys.executable, "-I", str(GUARDIAN_SCRIPT), "--remove", str(directory),
               "--", *argv]
    try:
        process = subprocess.Popen(guarded, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=control_read, env=environment, cwd=root)
    except BaseException:
        os.close(control_write)
        raise
    finally:
        os.close(control_read)
    try:
        while process.poll() is None:
            drain()
            time.sleep(POLL_SECONDS)
    except BaseException:
        # Interrupted (a signal, Ctrl-C): the guardian ends the whole tree, then we go on.
        os.close(control_write)
        _wait_for_guardian(process)
        # The changes made until then, for the record (unless the guardian already removed
        # the run directory).
        with contextlib.suppress(OSError):
            drain()
        raise
    os.close(control_write)
    drain()
    return process.returncode


def run_playbook(
    workspace: Workspace,
    user_inventory: str,
    *,
    check: bool,
    vault_password_file: str | None = None,
    on_event: EventHandler | None = None,
    root: Path | None = None,
    verbosity: int = 0,
    playbook: Path = PLAYBOOK,
    extra_variables: Mapping[str, Any] | None = None,
    hosts: Sequence[str] | None = None,
    run_log: RunLog | None = None,
    echo: Callable[[str], None] | None = None,
    tags: Sequence[str] = (),
) -> RunResult:
    """Given a prepared workspace, run site.yml (or another playbook of the project, with
    extra variables, on some of the hosts) and return what each host reported.

    on_event receives every event as it is written (for progress). ansible-playbook's output
    is copied, masked, into run_log as it comes, and given line by line to echo (nasops -v).
    Raise CommandFailedError when ansible-playbook cannot be started.
    """
    root = root or project_root()
    events_path = workspace.events_path
    events_path.unlink(missing_ok=True)
    hosts = list(hosts if hosts is not None else workspace.hosts)
    variables_file = None
    if extra_variables is not None:
        variables_file = workspace.directory / "extra-variables.json"
        variables_file.write_text(json.dumps(dict(extra_variables)), encoding="utf-8")
    argv = playbook_argv(root, user_inventory, workspace.inventory_path, hosts,
                         check=check, vault_password_file=vault_password_file,
                         verbosity=verbosity, playbook=playbook,
                         extra_variables_file=variables_file, tags=tags)
    environment = {**os.environ, **ansible_environment(root, events_path)}
    events: list[dict[str, Any]] = []
    offset = 0

    follower = LogFollower(workspace.log_path, run_log, echo)

    def drain() -> None:
        nonlocal offset
        follower.follow()
        new, offset = read_events(events_path, offset)
        for event in new:
            events.append(event)
            if on_event is not None:
                on_event(event)

    with workspace.log_path.open("a", encoding="utf-8") as log:
        log.write(f"$ {display_command(argv)}\n")
        log.flush()
        try:
            if shutil.which(argv[0]) is None:
                raise CommandFailedError("ansible-playbook not found; install ansible-core "
                                         "(it comes with nasops) and check PATH")
            returncode = _run_guarded(argv, workspace.directory, log, environment=environment,
                                      root=root, drain=drain)
        finally:
            # Whatever the run wrote until it ended (or was interrupted) is kept.
            follower.follow(final=True)
    result = fold_events(events, hosts, check_mode=check)
    result.returncode = returncode
    result.log_tail = _log_tail(workspace.log_path)
    return result
