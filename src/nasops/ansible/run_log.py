"""The kept log of every plan, apply, drift and forget: one directory per run, secrets masked.

The run's private workspace (and the raw ansible-playbook output in it) is removed when the
run ends; what people debug with afterwards is kept here:

    $NASOPS_RUNS_DIR, or ${XDG_STATE_HOME:-~/.local/state}/nasops/runs
      <inventory>-<hash of its absolute path>/      one folder per inventory
        20250114T093012.123456Z-apply/              one per run, newest last by name
          ansible.log                               ansible-playbook's output, masked
          result.json                               the document `--json` prints

Lines are masked (nasops.execute.MASKER: the vault password, the secrets files' values) as they
are copied, so a secret never reaches this disk in clear. Only the last KEEP_RUNS runs of an
inventory are kept; older ones are removed when a new run starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nasops.execute import MASKER

RUNS_DIRECTORY_VARIABLE = "NASOPS_RUNS_DIR"
KEEP_RUNS = 20
LOG_NAME = "ansible.log"
RESULT_NAME = "result.json"
# What a run directory's name looks like; anything else in an inventory's folder is left alone.
RUN_NAME = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[a-z]+(-\d+)?\Z")
UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


def runs_root(environment: Mapping[str, str] | None = None) -> Path:
    """Given the environment (default os.environ), return the folder holding every kept run."""
    environment = os.environ if environment is None else environment
    configured = environment.get(RUNS_DIRECTORY_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    state = environment.get("XDG_STATE_HOME") or str(Path("~/.local/state").expanduser())
    return Path(state) / "nasops" / "runs"


def inventory_key(inventory: str) -> str:
    """Given the -i value, return the folder name of its runs: readable, and distinct for two
    inventories of the same name in different places."""
    path = Path(inventory).expanduser()
    full = str(path.resolve()) if path.exists() else inventory
    readable = UNSAFE_CHARACTERS.sub("_", path.name or "inventory").strip("._") or "inventory"
    return f"{readable[:40]}-{hashlib.sha256(full.encode()).hexdigest()[:8]}"


def prune_runs(parent: Path, keep: int = KEEP_RUNS) -> list[Path]:
    """Remove all but the newest `keep` run directories in parent; return those removed.

    Only directories named like a run and owned by this user; links are never followed.
    """
    try:
        entries = sorted(entry for entry in parent.iterdir() if RUN_NAME.match(entry.name))
    except OSError:
        return []
    runs = []
    for entry in entries:
        try:
            status = entry.lstat()
        except OSError:
            continue
        if stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid():
            runs.append(entry)
    removed = runs[:max(len(runs) - keep, 0)]
    for entry in removed:
        # Only this user's own run directories (checked above, links never followed): old
        # logs, never user data.
        shutil.rmtree(entry, ignore_errors=True)
    return removed


class RunLog:
    """The kept directory of one run; masked text is appended to its ansible.log."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / LOG_NAME

    @classmethod
    def create(cls, command: str, inventory: str, *, root: Path | None = None,
               keep: int = KEEP_RUNS, now: datetime | None = None) -> RunLog:
        """Create the directory of a new run of command on inventory, prune old runs of that
        inventory (keeping `keep`, this one included) and return it."""
        parent = (root or runs_root()) / inventory_key(inventory)
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S.%fZ")
        name, attempt = f"{stamp}-{command}", 1
        while True:
            try:
                # 0700: the log names every person, group and folder of the organisation.
                (parent / name).mkdir(mode=0o700)
                break
            except FileExistsError:
                attempt += 1
                name = f"{stamp}-{command}-{attempt}"
        run_log = cls(parent / name)
        descriptor = os.open(run_log.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(descriptor)
        prune_runs(parent, keep)
        return run_log

    def write(self, text: str) -> None:
        """Append text to the log, masked."""
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(MASKER.mask(text))

    def write_result(self, document: Mapping[str, Any]) -> None:
        """Keep the run's result document next to its log, masked."""
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        descriptor = os.open(self.directory / RESULT_NAME,
                             os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(MASKER.mask(text))


class LogFollower:
    """Copies what ansible-playbook appends to the raw log into the kept log, masked, line by
    line as it comes; with an echo, shows the same masked lines (nasops -v)."""

    def __init__(self, raw_path: Path, run_log: RunLog | None,
                 echo: Callable[[str], None] | None = None) -> None:
        self.raw_path = raw_path
        self.run_log = run_log
        self.echo = echo
        # Only what this run appends: the raw log may hold an earlier pass of the same command.
        self.offset = raw_path.stat().st_size if raw_path.exists() else 0

    def follow(self, *, final: bool = False) -> None:
        """Copy the complete new lines (every new byte when final)."""
        if self.run_log is None and self.echo is None:
            return
        try:
            with self.raw_path.open("rb") as stream:
                stream.seek(self.offset)
                chunk = stream.read()
        except FileNotFoundError:
            return
        end = len(chunk) if final else chunk.rfind(b"\n") + 1
        if end <= 0:
            return
        self.offset += end
        # Masked as a whole: a secret never straddles two reads that both end on a newline.
        text = MASKER.mask(chunk[:end].decode("utf-8", errors="replace"))
        if final and not text.endswith("\n"):
            text += "\n"
        if self.run_log is not None:
            with self.run_log.path.open("a", encoding="utf-8") as log:
                log.write(text)
        if self.echo is not None:
            for line in text.splitlines():
                self.echo(line)
