#!/usr/bin/python
"""Ansible module nasops.nas.host: the host side of a role (accounts, files, units) in one call."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host
short_description: Converge the host side of a nasops role in one call
description:
  - >-
    One module call instead of one task per step: on a NAS that already matches, each task
    would cost a module start (a file or template task several) for nothing. Every step
    compares first and changes only what differs; each difference is one entry of C(changes).
  - >-
    Finds the Debian packages of O(packages) that are not installed. When some are missing it
    reports them in C(missing_packages) and does nothing else (the steps below need them): the
    play installs them and calls the module again.
  - >-
    Then, in this order, the steps given. System accounts (O(accounts)). Directories
    (O(directory), O(directories)), created with missing parents or fixed. btrfs quotas on
    O(volume). Symbolic links (O(links)). Units to stop (O(stopped)), before their files may
    go. Files (O(secret_files), then O(files): a validation may read a secret): written where
    the content differs, validated first, replaced atomically; owner, group and mode fixed;
    removed with C(state=absent). Files given as a role C(template) or a controller C(src) are
    read on the controller by the action plugin of the same name. Pruning of software
    directories (O(prune)). C(systemctl daemon-reload) when a unit file changed. Units to run
    (O(started)). Restarts that follow a change (O(reactions)).
version_added: "0.1.0"
author: nasops developers (!UNKNOWN)
options:
  packages:
    description: Debian packages the other steps need (checked with dpkg-query).
    type: list
    elements: str
    default: []
  python:
    description: Report the NAS's machine and Python version in C(python).
    type: bool
    default: false
  find:
    description: Shell patterns of paths; those that exist are reported in C(found).
    type: list
    elements: str
    default: []
  read_links:
    description: Paths of symbolic links whose targets are reported in C(link_targets).
    type: list
    elements: str
    default: []
  accounts:
    description: System accounts, each a system group and a system user of the same name.
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: Account and group name., type: str, required: true}
      comment: {description: GECOS comment., type: str, default: ""}
      home: {description: Home (not created)., type: path, default: /nonexistent}
      shell: {description: Login shell., type: path, default: /usr/sbin/nologin}
  directory:
    description: Directory to create or fix (owner, group and mode as in O(files)).
    type: dict
    suboptions:
      path: {description: Absolute path., type: path, required: true}
      owner: {description: Owner name., type: str, default: root}
      group: {description: Group name., type: str, default: root}
      mode: {description: Octal mode as a string., type: str, default: "0755"}
  directories:
    description: More directories, in order, as O(directory).
    type: list
    elements: dict
    default: []
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
  links:
    description: Symbolic links to point at C(src); another link is replaced atomically.
    type: list
    elements: dict
    default: []
    suboptions:
      dest: {description: Absolute path of the link., type: path, required: true}
      src: {description: What it points at., type: str, required: true}
  files:
    description: Files to write, in order (a validation may use a file written before it).
    type: list
    elements: dict
    default: []
    suboptions:
      dest: {description: Absolute path., type: path, required: true}
      content:
        description: Whole content of the file. Exactly one of C(content), C(template), C(src).
        type: str
      template:
        description:
          - Template (in the role's C(templates)) rendered on the controller with the task's
            variables, as M(ansible.builtin.template) renders it (C(ansible_managed) included).
        type: str
      src:
        description: File on the controller whose text is the content (as M(ansible.builtin.copy)).
        type: path
      variables:
        description: More variables for C(template), e.g. the C(item) of a loop template.
        type: dict
      state:
        description: C(absent) removes the file.
        type: str
        choices: [present, absent]
        default: present
      owner: {description: Owner name., type: str, default: root}
      group: {description: Group name., type: str, default: root}
      mode: {description: Octal mode as a string., type: str, default: "0644"}
      force:
        description: Replace a differing content; false only creates a missing file.
        type: bool
        default: true
      diff:
        description: Show the content in diff mode (false for big generated files).
        type: bool
        default: true
      validate:
        description:
          - Command run on the new content before it replaces the file; C(%s) is the path of
            the new content. A non-zero exit fails the module and leaves the file as it was.
          - Not run in check mode (nothing is written then).
        type: str
  secret_files:
    description:
      - Files as O(files) whose content is a secret; it is never shown (no diff) and Ansible
        masks it in any output (C(no_log)). Written before O(files).
      - >-
        Give no C(content) with C(state=absent): every value of a C(no_log) option is masked
        wherever it appears in the output, so a short one (a bare newline) would garble it.
    type: list
    elements: dict
    default: []
    suboptions:
      dest: {description: Absolute path., type: path, required: true}
      content: {description: Whole content of the file (a secret)., type: str}
      state:
        description: C(absent) removes the file.
        type: str
        choices: [present, absent]
        default: present
      owner: {description: Owner name., type: str, default: root}
      group: {description: Group name., type: str, default: root}
      mode: {description: Octal mode as a string., type: str, default: "0644"}
      force:
        description: Replace a differing content; false only creates a missing file.
        type: bool
        default: true
      diff:
        description: Ignored for secret files, whose content is never shown.
        type: bool
        default: true
      validate:
        description: As for O(files).
        type: str
  prune:
    description:
      - Remove the entries of a directory that match C(patterns) and are not in C(keep); unit
        files are stopped and disabled first. Only /etc/systemd/system and
        /opt/nasops/releases are accepted (software, never data).
    type: list
    elements: dict
    default: []
    suboptions:
      directory: {description: The directory., type: path, required: true}
      patterns:
        description: Shell patterns of names (required, e.g. C(*)).
        type: list
        elements: str
        required: true
      keep: {description: Names to keep., type: list, elements: str, default: []}
  watch:
    description: >-
      More for C(watched) to cover, beside what the other options manage (keys as
      nasops.nas.converged's watch: files, directories, links, globs…), e.g. a file a later
      task of the role makes.
    type: dict
  started:
    description: systemd units to enable and start (asked of systemd in one call).
    type: list
    elements: str
    default: []
  stopped:
    description:
      - systemd units to stop and disable, where their unit file exists; shell patterns
        (C(nasops-backup@*.timer)) match the unit files of /etc/systemd/system.
    type: list
    elements: str
    default: []
  reactions:
    description:
      - Units to restart (or start) when one of C(paths) changed in this call, or C(changed)
        is true; in check mode they are only listed in C(reactions).
    type: list
    elements: dict
    default: []
    suboptions:
      unit: {description: The unit., type: str, required: true}
      action: {description: What to do., type: str, choices: [restart, start], default: restart}
      paths: {description: Paths whose change triggers it., type: list, elements: str, default: []}
      changed:
        description: Trigger it anyway (e.g. a release switched).
        type: bool
        default: false
      no_block:
        description: Do not wait for the unit (systemctl --no-block).
        type: bool
        default: false
notes:
  - Supports check mode and diff mode.
  - >-
    The content of the files travels in the module arguments: meant for configuration files.
"""

EXAMPLES = r"""
- name: Prepare the NAS
  nasops.nas.host:
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
    started: [smbd]
  register: prepared
"""

RETURN = r"""
changes:
  description: What changed (or would change in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    kind: {description: "account, directory, quota, link, file, remove or service", type: str}
    target: {description: "path, volume, account or unit", type: str}
    detail: {description: "e.g. 'create', 'content', 'mode 0700 -> 0755'", type: str}
changed_paths:
  description: The paths among C(changes), each once.
  returned: always
  type: list
  elements: str
missing_packages:
  description: The packages of O(packages) that are not installed (the other steps did not
    run when there are any).
  returned: always
  type: list
  elements: str
python:
  description: C(machine) and C(version) (major.minor) of the NAS's Python.
  returned: when O(python) is true
  type: dict
found:
  description: The existing paths that match O(find), sorted.
  returned: always
  type: list
  elements: str
link_targets:
  description: For each path of O(read_links), its target, or null when it is not a link.
  returned: always
  type: dict
volume_filesystem:
  description: File system type of O(volume) (as C(stat --file-system) names it).
  returned: when O(volume) is given
  type: str
reactions:
  description: The reactions triggered, e.g. C(restart nasops-exporter.service).
  returned: unless packages are missing
  type: list
  elements: str
watched:
  description: >-
    What this call manages (files, directories, links, units, packages, accounts, quota
    volumes, with O(watch)) and the digest of its state before the call compared anything,
    for nasops.nas.converged's record of a role.
  returned: always
  type: dict
"""

import shutil  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nasops.nas.plugins.module_utils.converged import (  # noqa: E402
    merged_watch,
    watch_of,
    watched,
)
from ansible_collections.nasops.nas.plugins.module_utils.host_files import HostError  # noqa: E402
from ansible_collections.nasops.nas.plugins.module_utils.host_system import System  # noqa: E402

OWNERSHIP = {"owner": {"type": "str", "default": "root"},
             "group": {"type": "str", "default": "root"}}


class Host(System):
    """Converge the steps in order, recording each change."""

    def missing(self, packages: list[str]) -> list[str]:
        """Return the packages that are not installed, in the order given."""
        if not packages:
            return []
        # dpkg-query exits 1 when a package is unknown to dpkg: that one is missing too.
        _code, out = self.run(["dpkg-query", "--show", "--showformat",
                           "${Package} ${db:Status-Status}\n", *packages], accepted=(0, 1))
        installed = {line.split()[0] for line in out.splitlines()
                     if line.endswith(" installed")}
        return [package for package in packages if package not in installed]

    def quotas(self, volume: str, enable: bool) -> None:
        """Report the volume's file system; enable btrfs quotas on it when asked."""
        _code, out = self.run(["stat", "--file-system", "--format", "%T", volume])
        filesystem = out.strip()
        self.result["volume_filesystem"] = filesystem
        if not enable or filesystem != "btrfs":
            return
        btrfs = shutil.which("btrfs")
        if btrfs is not None:
            code, _out = self.run([btrfs, "qgroup", "show", volume], accepted=tuple(range(256)))
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

    def converge(self, params: dict) -> None:
        """Run every step given, in the documented order."""
        for spec in params["accounts"]:
            self.account(spec)
        for spec in ([params["directory"]] if params["directory"] else []) + params[
                "directories"]:
            self.directory(spec)
        if params["volume"]:
            self.quotas(params["volume"], params["btrfs_quota"])
        for spec in params["links"]:
            self.link(spec)
        self.stopped(params["stopped"])  # before their unit files may be removed
        for spec in params["secret_files"]:  # first: a validation may read one
            self.file(spec, secret=True)
        for spec in params["files"]:
            self.file(spec)
        for spec in params["prune"]:
            self.prune(spec)
        self.daemon_reload()
        self.started(params["started"])
        self.react(params["reactions"])


FILE_OPTIONS = {
    "dest": {"type": "path", "required": True},
    "content": {"type": "str"},  # the action plugin renders templates
    "content_path": {"type": "path"},  # where the action plugin copied a src file
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "mode": {"type": "str", "default": "0644"},
    "force": {"type": "bool", "default": True},
    "diff": {"type": "bool", "default": True},
    "validate": {"type": "str"}, **OWNERSHIP}
ARGUMENT_SPEC = {
    "packages": {"type": "list", "elements": "str", "default": []},
    "python": {"type": "bool", "default": False},
    "find": {"type": "list", "elements": "str", "default": []},
    "read_links": {"type": "list", "elements": "str", "default": []},
    "accounts": {"type": "list", "elements": "dict", "default": [], "options": {
        "name": {"type": "str", "required": True},
        "comment": {"type": "str", "default": ""},
        "home": {"type": "path", "default": "/nonexistent"},
        "shell": {"type": "path", "default": "/usr/sbin/nologin"}}},
    "directory": {"type": "dict", "options": {
        "path": {"type": "path", "required": True},
        "mode": {"type": "str", "default": "0755"}, **OWNERSHIP}},
    "directories": {"type": "list", "elements": "dict", "default": [], "options": {
        "path": {"type": "path", "required": True},
        "mode": {"type": "str", "default": "0755"}, **OWNERSHIP}},
    "volume": {"type": "path"},
    "btrfs_quota": {"type": "bool", "default": False},
    "links": {"type": "list", "elements": "dict", "default": [], "options": {
        "dest": {"type": "path", "required": True},
        "src": {"type": "str", "required": True}}},
    "files": {"type": "list", "elements": "dict", "default": [], "options": FILE_OPTIONS},
    # Only each file's content is secret (no_log there); paths and modes stay readable.
    "secret_files": {"type": "list", "elements": "dict", "default": [], "no_log": False,
                     "options": {
        **FILE_OPTIONS, "content": {"type": "str", "no_log": True}}},
    "prune": {"type": "list", "elements": "dict", "default": [], "options": {
        "directory": {"type": "path", "required": True},
        "patterns": {"type": "list", "elements": "str", "required": True},
        "keep": {"type": "list", "elements": "str", "default": []}}},
    "watch": {"type": "dict"},
    "started": {"type": "list", "elements": "str", "default": []},
    "stopped": {"type": "list", "elements": "str", "default": []},
    "reactions": {"type": "list", "elements": "dict", "default": [], "options": {
        "unit": {"type": "str", "required": True},
        "action": {"type": "str", "default": "restart", "choices": ["restart", "start"]},
        "paths": {"type": "list", "elements": "str", "default": []},
        "changed": {"type": "bool", "default": False},
        "no_block": {"type": "bool", "default": False}}},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    host = Host(module)
    # What this call manages and its state, taken before anything is compared: the record of
    # a role that found nothing to change (nasops.nas.converged).
    host.result["watched"] = watched(merged_watch(watch_of(params), params["watch"]))
    try:
        if params["python"]:
            host.python()
        host.look(params["find"], params["read_links"])
        host.result["missing_packages"] = host.missing(params["packages"])
        if host.result["missing_packages"]:
            module.exit_json(changed=False, changes=[], changed_paths=[], **host.result)
        host.converge(params)
    except (HostError, OSError, ValueError) as error:
        module.fail_json(msg=str(error), changed=bool(host.changes), changes=host.changes,
                         changed_paths=host.changed_paths, **host.result)
    result = {"changed": bool(host.changes), "changes": host.changes,
              "changed_paths": host.changed_paths, **host.result}
    if module._diff and host.diff:
        result["diff"] = host.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
