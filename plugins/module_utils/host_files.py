"""Steps of the nasops.nas.host module on files: directories, file contents, links, removals.

Each step compares first and changes only what differs, recording one change per difference
(in check mode it records without changing). Kept apart from the module so that the module
file stays its documentation and wiring.
"""

from __future__ import annotations

import grp
import os
import pwd
import shlex
import stat
import tempfile
from collections.abc import Callable
from typing import Any


def write_atomically(path: str, content: bytes, mode: int, *, make_directory: bool = True,
                     prepare: Callable[[str], None] | None = None) -> None:
    """Replace path with content in one rename (a reader never sees half a file, a crash
    never leaves one), mode set before the content is written, the directory synced after
    the rename. The one atomic writer of nasops, on the NAS (records, status files, the
    drift check's copy, the host module's files) and on the controller (secrets, compiled
    states, Prometheus targets). make_directory: create a missing directory (else the
    OSError says it is missing); prepare: called with the temporary file's path before the
    rename (chown, validation), its exception leaves path untouched."""
    directory = os.path.dirname(path) or "."
    if make_directory:
        os.makedirs(directory, mode=0o755, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(stream.fileno(), mode)
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        if prepare is not None:
            prepare(temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class HostError(Exception):
    """The host cannot be converged; the message says why."""


class Recorder:
    """What a module call changed: changes, diffs, results, changed paths; runs commands."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.check = bool(module.check_mode)
        self.changes: list[dict] = []
        self.diff: list[dict] = []
        self.result: dict = {}
        self.changed_paths: list[str] = []

    def note(self, kind: str, target: str, detail: str) -> None:
        """Record one change (made, or to be made in check mode)."""
        self.changes.append({"kind": kind, "target": target, "detail": detail})
        if target.startswith("/") and target not in self.changed_paths:
            self.changed_paths.append(target)

    def run(self, argv: list[str], accepted: tuple[int, ...] = (0,)) -> tuple[int, str]:
        """Run a command; raise HostError when its exit code is not accepted."""
        code, out, err = self.module.run_command(argv)
        if code not in accepted:
            raise HostError(f"{' '.join(argv)} failed (exit {code}): {(err or out).strip()}")
        return code, out


class Files(Recorder):
    """Directories, files and links, each converged where it differs."""

    @staticmethod
    def ids(owner: str, group: str) -> tuple[int, int]:
        """Given owner and group names, return their ids."""
        try:
            return pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid
        except KeyError as error:
            raise HostError(f"unknown owner or group: {owner}:{group}") from error

    @staticmethod
    def kind_of(st: os.stat_result) -> str:
        return "directory" if stat.S_ISDIR(st.st_mode) else "file"

    def owner_known(self, spec: dict) -> bool:
        """Whether owner and group exist; in check mode they may be created by this call."""
        try:
            self.ids(spec["owner"], spec["group"])
        except HostError:
            if self.check:
                return False
            raise
        return True

    def attributes(self, path: str, st: os.stat_result, spec: dict) -> None:
        """Fix owner, group and mode of an existing path where they differ."""
        mode = int(spec["mode"], 8)
        if self.owner_known(spec):
            uid, gid = self.ids(spec["owner"], spec["group"])
            if (st.st_uid, st.st_gid) != (uid, gid):
                self.note(self.kind_of(st), path, f"owner {st.st_uid}:{st.st_gid} -> "
                                                  f"{spec['owner']}:{spec['group']}")
                if not self.check:
                    os.chown(path, uid, gid, follow_symlinks=False)
        else:
            self.note(self.kind_of(st), path, f"owner -> {spec['owner']}:{spec['group']}")
        if stat.S_IMODE(st.st_mode) != mode:
            self.note(self.kind_of(st), path,
                      f"mode {stat.S_IMODE(st.st_mode):04o} -> {mode:04o}")
            if not self.check:
                os.chmod(path, mode)

    def directory(self, spec: dict) -> None:
        """Create the directory and its missing parents, or fix the existing one."""
        path = os.path.normpath(spec["path"])
        if not os.path.isabs(path):
            raise HostError(f"directory {path} must be an absolute path")
        missing: list[str] = []
        current = path
        while not os.path.lexists(current):
            missing.insert(0, current)
            current = os.path.dirname(current)
        if not missing:
            st = os.stat(path)
            if not stat.S_ISDIR(st.st_mode):
                raise HostError(f"{path} exists and is not a directory")
            self.attributes(path, st, spec)
            return
        self.note("directory", path, "create")
        if self.check:
            return
        uid, gid = self.ids(spec["owner"], spec["group"])
        mode = int(spec["mode"], 8)
        for part in missing:  # every created component gets the attributes (as file does)
            os.mkdir(part, mode)
            os.chown(part, uid, gid)
            os.chmod(part, mode)

    def file(self, spec: dict, *, secret: bool = False) -> None:
        """Write one file where its content differs (validated first), fix its attributes;
        with state absent, remove it. A secret's content never goes into the diff."""
        dest = spec["dest"]
        absent = spec.get("state") == "absent"
        try:
            # A link to a file is read through (and replaced by a file when the content
            # differs, as ansible.builtin.copy does); removing removes the link itself.
            st: os.stat_result | None = os.lstat(dest) if absent else os.stat(dest)
        except FileNotFoundError:
            st = None
        if st is not None and not stat.S_ISREG(st.st_mode) and not (
                absent and stat.S_ISLNK(st.st_mode)):
            raise HostError(f"{dest} exists and is not a regular file")
        if absent:
            if st is not None:
                self.note("file", dest, "remove")
                if not self.check:
                    os.unlink(dest)
            return
        text = spec.get("content")
        if text is None and spec.get("content_path"):
            # A controller file the action plugin copied here (not sent as an argument). Read
            # into a local, never into spec: the module's arguments go back to the controller
            # in the result (`invocation`), and megabytes there cost the worker tens of MB.
            with open(spec["content_path"], "rb") as handle:
                text = handle.read().decode("utf-8")
        if text is None:
            raise HostError(f"{dest}: content (or template, or src) is required")
        content = text.encode("utf-8")
        before = None
        if st is not None and spec["force"]:
            with open(dest, "rb") as handle:
                before = handle.read()
        if st is not None and (not spec["force"] or before == content):
            self.attributes(dest, st, spec)
            return
        self.note("file", dest, "create" if st is None else "content")
        if self.module._diff and not secret and spec.get("diff", True):
            self.diff.append({"before_header": dest, "after_header": dest,
                              "before": (before or b"").decode("utf-8", "replace"),
                              "after": text})
        if not self.check:
            self.write(dest, content, spec)

    def write(self, dest: str, content: bytes, spec: dict) -> None:
        """Write content next to dest, validate it, then move it into place."""
        directory = os.path.dirname(dest)
        if not os.path.isdir(directory):
            raise HostError(f"{directory} does not exist (for {dest})")
        uid, gid = self.ids(spec["owner"], spec["group"])

        def prepare(temporary: str) -> None:
            os.chown(temporary, uid, gid)
            # 0600 while written; the file's own mode after chown, which may clear set-id bits.
            os.chmod(temporary, int(spec["mode"], 8))
            if spec.get("validate"):
                if "%s" not in spec["validate"]:
                    raise HostError(f"validate for {dest} must contain %s")
                argv = shlex.split(spec["validate"] % shlex.quote(temporary))
                code, out, err = self.module.run_command(argv)
                if code != 0:
                    raise HostError(f"failed to validate {dest}: rc:{code} error:{err or out}")

        write_atomically(dest, content, 0o600, make_directory=False, prepare=prepare)

    def link(self, spec: dict) -> None:
        """Point the symbolic link dest at src, replacing another link atomically."""
        dest, source = spec["dest"], spec["src"]
        try:
            current: str | None = os.readlink(dest)
        except FileNotFoundError:
            current = None
        except OSError as error:  # EINVAL: not a link; never replaced
            raise HostError(f"{dest} exists and is not a symbolic link") from error
        if current == source:
            return
        self.note("link", dest, f"-> {source}" if current is None
                  else f"{current} -> {source}")
        if self.check:
            return
        temporary = os.path.join(os.path.dirname(dest), f".nasops-link-{os.getpid()}")
        if os.path.lexists(temporary):
            os.unlink(temporary)
        os.symlink(source, temporary)
        os.replace(temporary, dest)
