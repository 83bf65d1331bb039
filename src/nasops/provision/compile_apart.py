"""Compile the specs and write the run's files in a short-lived child process.

Why: the nasops process waits for ansible-playbook for the whole run, and the controller's
memory is that of the whole process tree (issue 18). Loading and compiling a spec of
thousands of folders takes tens of megabytes; freed, they stay in this process's heap
(fragmented), so the parent would hold them for nothing. A forked child does that work,
writes the run's files and hands back only what the parent keeps (each state's outline and
the specs' warnings); its memory goes with it.

When the child does not succeed (a spec error, or anything else), the parent compiles in
process as before: the error the user sees is the one it has always been.
"""

from __future__ import annotations

import os
import pickle
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nasops.ansible.inventory import TargetHost
from nasops.ansible.workspace import desired_outline, write_workspace
from nasops.errors import Problem

Outlines = dict[str, dict[str, Any]]
Compile = Callable[[], tuple[dict[str, dict[str, Any]], list[Problem]]]


def _write(directory: Path, targets: Sequence[TargetHost], compile_all: Compile,
           ) -> tuple[Outlines, list[Problem]]:
    desired, warnings = compile_all()
    write_workspace(directory, targets, desired)
    return {name: desired_outline(state) for name, state in desired.items()}, warnings


def _in_child(directory: Path, targets: Sequence[TargetHost], compile_all: Compile,
              ) -> tuple[Outlines, list[Problem]] | None:
    """Run _write in a forked child; return its result, or None when it did not succeed
    (whatever it wrote is removed)."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns, never runs the parent's exit handlers
        code = 1
        try:
            os.close(reader)
            payload = pickle.dumps(_write(directory, targets, compile_all))
            with os.fdopen(writer, "wb") as stream:
                stream.write(payload)
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    with os.fdopen(reader, "rb") as stream:
        payload = stream.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0 and payload:
        result: tuple[Outlines, list[Problem]] = pickle.loads(payload)  # noqa: S301 - our child
        return result
    # Only what the child may have half-written, inside this run's private directory (0700,
    # made by workspace_directory): the parent writes them again, and mkdir must not fail.
    for name in ("inventory", "desired"):
        shutil.rmtree(directory / name, ignore_errors=True)
    return None


def compile_into(directory: Path, targets: Sequence[TargetHost], compile_all: Compile,
                 ) -> tuple[Outlines, list[Problem]]:
    """Given the run's directory, targets and the function compiling every spec (raising
    on bad input), write the run's files; return each host's state outline and the
    warnings. The compiling happens in a child; the parent repeats it only if that failed,
    so that it raises the error itself."""
    return _in_child(directory, targets, compile_all) or _write(directory, targets,
                                                                 compile_all)
