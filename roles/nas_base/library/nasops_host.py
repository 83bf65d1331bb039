#!/usr/bin/python
"""Ansible module nasops_host: directory, btrfs quotas and files in one call; a service probe."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nasops_host
short_description: Prepare a nasops NAS in one call (directory, btrfs quotas, files)
description:
  - In this order, and only where something differs; one module call instead of one task per
    step (on a NAS that already matches, each task would cost a module start for nothing).
  - Finds the Debian packages of O(packages) that are not installed. When some are missing it
    reports them in C(missing_packages) and does nothing else (the steps below need them): the
    play installs them and calls the module again.
  - Creates a directory (and its missing parents) with the given owner, group and mode, or
    fixes those of an existing one.
  - Enables btrfs quotas (qgroups) when the volume is btrfs and they are disabled, then waits
    for the initial quota scan.
  - Writes each file whose content differs (a file with O(files[].force=false) is only created
    when missing), validating the new content first with the file's C(validate) command, and
    replaces it atomically; fixes owner, group and mode. Files given as a role C(template) are
    rendered on the controller first, by the action plugin of the same name.
  - Reports whether a systemd service is enabled and running (it changes nothing there), so
    that the play can skip its service task when there is nothing to do.
version_added: "0.1.0"
author: nasops
options:
  packages:
    description: Debian packages the other steps need (checked with dpkg-query).
    type: list
    elements: str
    default: []
  directory:
    description: Directory to create or fix (owner, group and mode as in O(files)).
    type: dict
    suboptions:
      path: {description: Absolute path., type: path, required: true}
      owner: {description: Owner name., type: str, default: root}
      group: {description: Group name., type: str, default: root}
      mode: {description: Octal mode as a string., type: str, default: "0755"}
  volume:
    description: Mount point of the data volume; its file system is reported.
    type: path
  btrfs_quota:
    description: Enable btrfs quotas on O(volume) when it is btrfs.
    type: bool
    default: false
  files:
    description: Files to write, in order (a validation may use a file written before it).
    type: list
    elements: dict
    default: []
    suboptions:
      dest: {description: Absolute path., type: path, required: true}
      content:
        description: Whole content of the file. Exactly one of C(content) and C(template).
        type: str
      template:
        description:
          - Template (in the role's C(templates)) rendered on the controller with the task's
            variables, as M(ansible.builtin.template) renders it (C(ansible_managed) included).
        type: str
      owner: {description: Owner name., type: str, default: root}
      group: {description: Group name., type: str, default: root}
      mode: {description: Octal mode as a string., type: str, default: "0644"}
      force:
        description: Replace a differing content; false only creates a missing file.
        type: bool
        default: true
      validate:
        description:
          - Command run on the new content before it replaces the file; C(%s) is the path of
            the new content. A non-zero exit fails the module and leaves the file as it was.
          - Not run in check mode (nothing is written then).
        type: str
  probe_service:
    description: systemd service whose state is reported in C(service).
    type: str
notes:
  - Supports check mode and diff mode.
  - The content of the files travels in the module arguments: meant for configuration files.
"""

EXAMPLES = r"""
- name: Prepare the NAS
  nasops_host:
    directory: {path: /srv/nas/wsm, mode: "0755"}
    volume: /srv/nas
    btrfs_quota: true
    files:
      - dest: /usr/local/sbin/nasops-testparm
        content: "{{ lookup('ansible.builtin.file', 'nasops-testparm', rstrip=false) }}"
        mode: "0755"
      - dest: /etc/samba/smb.conf
        template: smb.conf.j2
        validate: /usr/local/sbin/nasops-testparm %s
    probe_service: smbd
  register: prepared
"""

RETURN = r"""
changes:
  description: What changed (or would change in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    kind: {description: "directory, quota or file", type: str}
    target: {description: "path or volume", type: str}
    detail: {description: "e.g. 'create', 'content', 'mode 0700 -> 0755'", type: str}
missing_packages:
  description: The packages of O(packages) that are not installed (the other steps did not
    run when there are any).
  returned: always
  type: list
  elements: str
volume_filesystem:
  description: File system type of O(volume) (as C(stat --file-system) names it).
  returned: when O(volume) is given
  type: str
service:
  description: C(name), C(enabled) and C(active) (booleans) of O(probe_service).
  returned: when O(probe_service) is given
  type: dict
"""

import grp  # noqa: E402
import os  # noqa: E402
import pwd  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import stat  # noqa: E402
import tempfile  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

OWNERSHIP = {"owner": {"type": "str", "default": "root"},
             "group": {"type": "str", "default": "root"}}


class HostError(Exception):
    """The host cannot be prepared; the message says why."""


class Host:
    """Converge the steps in order, recording each change."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.check = module.check_mode
        self.changes: list[dict] = []
        self.diff: list[dict] = []
        self.result: dict = {}

    def note(self, kind: str, target: str, detail: str) -> None:
        self.changes.append({"kind": kind, "target": target, "detail": detail})

    def run(self, argv: list[str], accepted: tuple[int, ...] = (0,)) -> tuple[int, str]:
        """Run a command; raise HostError when its exit code is not accepted."""
        code, out, err = self.module.run_command(argv)
        if code not in accepted:
            raise HostError(f"{' '.join(argv)} failed (exit {code}): {(err or out).strip()}")
        return code, out

    def missing(self, packages: list[str]) -> list[str]:
        """Return the packages that are not installed, in the order given."""
        if not packages:
            return []
        # dpkg-query exits 1 when a package is unknown to dpkg: that one is missing too.
        _, out = self.run(["dpkg-query", "--show", "--showformat",
                           "${Package} ${db:Status-Status}\n", *packages], accepted=(0, 1))
        installed = {line.split()[0] for line in out.splitlines()
                     if line.endswith(" installed")}
        return [package for package in packages if package not in installed]

    @staticmethod
    def ids(owner: str, group: str) -> tuple[int, int]:
        try:
            return pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid
        except KeyError as error:
            raise HostError(f"unknown owner or group: {owner}:{group}") from error

    def attributes(self, path: str, st: os.stat_result, spec: dict) -> None:
        """Fix owner, group and mode of an existing path where they differ."""
        uid, gid = self.ids(spec["owner"], spec["group"])
        mode = int(spec["mode"], 8)
        if (st.st_uid, st.st_gid) != (uid, gid):
            self.note(self.kind_of(st), path, f"owner {st.st_uid}:{st.st_gid} -> "
                                              f"{spec['owner']}:{spec['group']}")
            if not self.check:
                os.chown(path, uid, gid, follow_symlinks=False)
        if stat.S_IMODE(st.st_mode) != mode:
            self.note(self.kind_of(st), path,
                      f"mode {stat.S_IMODE(st.st_mode):04o} -> {mode:04o}")
            if not self.check:
                os.chmod(path, mode)

    @staticmethod
    def kind_of(st: os.stat_result) -> str:
        return "directory" if stat.S_ISDIR(st.st_mode) else "file"

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

    def quotas(self, volume: str, enable: bool) -> None:
        """Report the volume's file system; enable btrfs quotas on it when asked."""
        _, out = self.run(["stat", "--file-system", "--format", "%T", volume])
        filesystem = out.strip()
        self.result["volume_filesystem"] = filesystem
        if not enable or filesystem != "btrfs":
            return
        btrfs = shutil.which("btrfs")
        if btrfs is not None:
            code, _ = self.run([btrfs, "qgroup", "show", volume], accepted=tuple(range(256)))
            if code == 0:
                return
        self.note("quota", volume, "enable btrfs quotas")
        if self.check:
            return
        if btrfs is None:
            raise HostError("the volume is btrfs but the btrfs command is missing: install "
                            "btrfs-progs")
        self.run([btrfs, "quota", "enable", volume])
        self.run([btrfs, "quota", "rescan", "-w", volume])  # the initial scan must finish

    def file(self, spec: dict) -> None:
        """Write one file where its content differs (validated first), fix its attributes."""
        dest = spec["dest"]
        content = spec["content"].encode("utf-8")
        try:
            st: os.stat_result | None = os.stat(dest)
        except FileNotFoundError:
            st = None
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise HostError(f"{dest} exists and is not a regular file")
        before = None
        if st is not None and spec["force"]:
            with open(dest, "rb") as handle:
                before = handle.read()
        if st is not None and (not spec["force"] or before == content):
            self.attributes(dest, st, spec)
            return
        self.note("file", dest, "create" if st is None else "content")
        if self.module._diff:
            self.diff.append({"before_header": dest, "after_header": dest,
                              "before": (before or b"").decode("utf-8", "replace"),
                              "after": spec["content"]})
        if not self.check:
            self.write(dest, content, spec)

    def write(self, dest: str, content: bytes, spec: dict) -> None:
        """Write content next to dest, validate it, then move it into place."""
        directory = os.path.dirname(dest)
        if not os.path.isdir(directory):
            raise HostError(f"{directory} does not exist (for {dest})")
        uid, gid = self.ids(spec["owner"], spec["group"])
        handle, temporary = tempfile.mkstemp(prefix=".nasops-", dir=directory)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
                stream.flush()
                os.fsync(stream.fileno())
            os.chown(temporary, uid, gid)
            os.chmod(temporary, int(spec["mode"], 8))
            if spec["validate"]:
                if "%s" not in spec["validate"]:
                    raise HostError(f"validate for {dest} must contain %s")
                argv = shlex.split(spec["validate"] % shlex.quote(temporary))
                code, out, err = self.module.run_command(argv)
                if code != 0:
                    raise HostError(f"failed to validate {dest}: rc:{code} error:{err or out}")
            os.replace(temporary, dest)
        except BaseException:
            if os.path.lexists(temporary):
                os.unlink(temporary)
            raise

    def probe(self, name: str) -> None:
        """Report whether a systemd service is enabled and active (changes nothing)."""
        systemctl = shutil.which("systemctl") or "systemctl"
        state = {"name": name}
        for query, key in (("is-enabled", "enabled"), ("is-active", "active")):
            code, _, _ = self.module.run_command([systemctl, "--quiet", query, name])
            state[key] = code == 0
        self.result["service"] = state


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "packages": {"type": "list", "elements": "str", "default": []},
            "directory": {"type": "dict", "options": {
                "path": {"type": "path", "required": True},
                "mode": {"type": "str", "default": "0755"}, **OWNERSHIP}},
            "volume": {"type": "path"},
            "btrfs_quota": {"type": "bool", "default": False},
            "files": {"type": "list", "elements": "dict", "default": [], "options": {
                "dest": {"type": "path", "required": True},
                "content": {"type": "str", "required": True},  # the action renders templates
                "mode": {"type": "str", "default": "0644"},
                "force": {"type": "bool", "default": True},
                "validate": {"type": "str"}, **OWNERSHIP}},
            "probe_service": {"type": "str"},
        },
        supports_check_mode=True,
    )
    params = module.params
    host = Host(module)
    try:
        host.result["missing_packages"] = host.missing(params["packages"])
        if host.result["missing_packages"]:
            module.exit_json(changed=False, changes=[], **host.result)
        if params["directory"]:
            host.directory(params["directory"])
        if params["volume"]:
            host.quotas(params["volume"], params["btrfs_quota"])
        for spec in params["files"]:
            host.file(spec)
        if params["probe_service"]:
            host.probe(params["probe_service"])
    except (HostError, OSError, ValueError) as error:
        module.fail_json(msg=str(error), changed=bool(host.changes), changes=host.changes,
                         **host.result)
    result = {"changed": bool(host.changes), "changes": host.changes, **host.result}
    if module._diff and host.diff:
        result["diff"] = host.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
