"""Run the few reads that need root for an unprivileged exporter, and nothing else.

`btrfs qgroup show` needs CAP_SYS_ADMIN, `btrfs inspect-internal rootid` must open share roots
the exporter's user cannot read, and `smbstatus` reads root-only Samba databases. Instead of
sudo (a setuid program: the exporter's unit could then not use NoNewPrivileges, an empty
capability bounding set or a system call filter), systemd listens on a Unix socket only the
exporter's group may connect to and starts this helper as root for each connection
(`Accept=yes`, a sandboxed unit of its own). The helper reads one request, runs it only if
its argv is *exactly* one of the command lines in the allow list the nas_exporter role wrote,
and answers with the exit code and output.

Protocol: one JSON line each way.
request  {"argv": ["/usr/bin/btrfs", "qgroup", "show", "--raw", "-re", "/srv/nas"],
          "timeout": 30}
answer   {"returncode": 0, "stdout": "...", "stderr": "..."}   or   {"error": "sentence"}

The server half imports only the standard library: it starts for every request.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from typing import Any, BinaryIO

MAXIMUM_REQUEST_BYTES = 64 * 1024
MAXIMUM_OUTPUT_BYTES = 32 * 1024 * 1024
MAXIMUM_STDERR_CHARACTERS = 2000
MAXIMUM_TIMEOUT_SECONDS = 120.0
REQUEST_READ_SECONDS = 10
DEFAULT_SOCKET = "/run/nasops-exporter-privileged.sock"
# The commands run with this environment only: nothing of the caller's reaches them.
COMMAND_ENVIRONMENT = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
                       "LC_ALL": "C.UTF-8"}


class PrivilegedCommandError(Exception):
    """The helper refused the command, could not be reached, or the command failed."""


def load_allow_list(path: str) -> list[tuple[str, ...]]:
    """Given the allow list file ({"commands": [[argv…], …]}), return its command lines.

    Raise ValueError when the file is not that shape (the helper then refuses everything).
    """
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    commands = data.get("commands") if isinstance(data, dict) else None
    if not isinstance(commands, list):
        raise ValueError(f"{path}: expected {{\"commands\": [[argv...], ...]}}")
    allowed = []
    for command in commands:
        if (not isinstance(command, list) or not command
                or not all(isinstance(part, str) for part in command)
                or not command[0].startswith("/")):
            raise ValueError(f"{path}: every command must be a list of strings starting "
                             f"with an absolute program path, got {command!r}")
        allowed.append(tuple(command))
    return allowed


def read_request(stream: BinaryIO) -> tuple[tuple[str, ...], float]:
    """Given the connection's input, return the requested argv and timeout; raise ValueError."""
    line = stream.readline(MAXIMUM_REQUEST_BYTES + 1)
    if len(line) > MAXIMUM_REQUEST_BYTES or not line.endswith(b"\n"):
        raise ValueError("the request must be one JSON line of at most 64 KiB")
    request = json.loads(line)
    argv = request.get("argv") if isinstance(request, dict) else None
    if not isinstance(argv, list) or not all(isinstance(part, str) for part in argv):
        raise ValueError("the request needs an `argv` list of strings")
    timeout = request.get("timeout", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ValueError("`timeout` must be a positive number of seconds")
    return tuple(argv), min(float(timeout), MAXIMUM_TIMEOUT_SECONDS)


def run_allowed(argv: tuple[str, ...], timeout: float,
                allowed: Sequence[tuple[str, ...]]) -> dict[str, Any]:
    """Given a requested argv, its timeout and the allow list, run it if allowed exactly;
    return the answer document (an `error` for anything refused or failing to start)."""
    if argv not in allowed:
        return {"error": "refused: this command line is not in the allow list"}
    try:
        completed = subprocess.run(list(argv), stdin=subprocess.DEVNULL, capture_output=True,
                                   timeout=timeout, env=COMMAND_ENVIRONMENT, check=False)
    except FileNotFoundError:
        return {"error": f"command not found: {argv[0]}"}
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:g} s"}
    if len(completed.stdout) > MAXIMUM_OUTPUT_BYTES:
        return {"error": "the command printed more than 32 MiB"}
    stderr = completed.stderr.decode("utf-8", "replace")[-MAXIMUM_STDERR_CHARACTERS:]
    return {"returncode": completed.returncode,
            "stdout": completed.stdout.decode("utf-8", "replace"), "stderr": stderr}


def answer_request(stream: BinaryIO, allowed: Sequence[tuple[str, ...]],
                   *, read_seconds: int = 0) -> dict[str, Any]:
    """Given the connection's input and the allow list, read the request and run it; return
    the answer document. Never raises for a bad request: it answers with an error.

    read_seconds > 0 bounds the wait for the request with SIGALRM (which ends the process): a
    client that connects and sends nothing must not keep a root process around.
    """
    try:
        if read_seconds:
            signal.alarm(read_seconds)
        try:
            argv, timeout = read_request(stream)
        finally:
            if read_seconds:
                signal.alarm(0)
    except ValueError as error:
        return {"error": f"bad request: {error}"}
    return run_allowed(argv, timeout, allowed)


def serve_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the helper unit: stdin/stdout are the accepted connection.

    Usage: nasops-exporter-privileged ALLOW_LIST_FILE
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) != 1:
        print("usage: nasops-exporter-privileged ALLOW_LIST_FILE", file=sys.stderr)
        return 2
    try:
        allowed = load_allow_list(arguments[0])
    except (OSError, ValueError) as error:
        answer: dict[str, Any] = {"error": f"the helper's allow list is unusable: {error}"}
    else:
        answer = answer_request(sys.stdin.buffer, allowed, read_seconds=REQUEST_READ_SECONDS)
    if "error" in answer:
        print(answer["error"], file=sys.stderr)  # lands in the journal of the unit
    sys.stdout.buffer.write(json.dumps(answer).encode("utf-8") + b"\n")
    sys.stdout.buffer.flush()
    return 0


class SocketCommandRunner:
    """A CommandRunner (argv, timeout -> stdout) asking the root helper over its socket."""

    def __init__(self, socket_path: str = DEFAULT_SOCKET) -> None:
        self.socket_path = socket_path

    def __call__(self, argv: Sequence[str], timeout: float) -> str:
        """Given argv and a timeout, return the command's stdout; raise if it fails."""
        shown = " ".join(argv)
        request = json.dumps({"argv": list(argv), "timeout": timeout}).encode("utf-8") + b"\n"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                # The helper starts a process per request: leave it a few seconds on top.
                connection.settimeout(timeout + 10)
                connection.connect(self.socket_path)
                connection.sendall(request)
                connection.shutdown(socket.SHUT_WR)
                chunks = []
                received = 0
                while chunk := connection.recv(65536):
                    chunks.append(chunk)
                    received += len(chunk)
                    if received > MAXIMUM_OUTPUT_BYTES * 2:
                        raise PrivilegedCommandError(f"{shown}: answer too large")
        except OSError as error:
            raise PrivilegedCommandError(
                f"cannot reach the privileged helper at {self.socket_path} for {shown}: "
                f"{error.strerror or error}") from None
        try:
            answer = json.loads(b"".join(chunks))
        except ValueError:
            raise PrivilegedCommandError(f"{shown}: the privileged helper answered something "
                                         "that is not JSON") from None
        if not isinstance(answer, dict):
            raise PrivilegedCommandError(f"{shown}: unexpected answer from the helper")
        if "error" in answer:
            raise PrivilegedCommandError(f"{shown}: {answer['error']}")
        code = answer.get("returncode")
        if code != 0:
            detail = str(answer.get("stderr") or answer.get("stdout") or "").strip()
            raise PrivilegedCommandError(f"{shown} failed with exit code {code}"
                                         + (f": {detail[-500:]}" if detail else ""))
        return str(answer.get("stdout", ""))
